// The controller engine: informer events -> predicates -> mapping -> workqueue -> N workers ->
// Reconciler, with controller-runtime's result handling, metrics and logging:
//
//   error, retryable       -> addRateLimited (per-item backoff)      result="error"
//   error, terminal        -> forget, no retry until the next event   result="error" (+terminal)
//   exception              -> contained, like a retryable error       result="error" (+panic)
//   Result{requeueAfter}   -> forget, addAfter(requeueAfter)          result="requeue_after"
//   Result{requeue}        -> addRateLimited                          result="requeue"
//   Result{}               -> forget                                  result="success"
//
// Priorities (controller-runtime's priority queue): requests from an informer's initial list are
// queued at the source's InitialPriority (low, except primary objects with an unobserved
// generation or a deletion), changes seen later at normal priority; a request keeps its priority
// for its retries and requeues. A start or failover thus handles what changed first.
//
// Every reconcile gets a ReconcileContext: a logger with controller/namespace/name/reconcile_id,
// a deadline (reconcileTimeout) and a cancellation token that is set when the deadline passes
// (logged while the reconcile is still running) or when the controller stops.
//
// Threading: `maxConcurrentReconciles` worker threads per controller (a controller is per kind,
// not per cluster, so this stays small); event handlers run on informer strands and only add to
// the queue; deadlines are timers on the shared executor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/cache/informer.h"
#include "controller/runtime/executor.h"
#include "controller/runtime/handler.h"
#include "controller/runtime/metrics.h"
#include "controller/runtime/predicate.h"
#include "controller/runtime/reconciler.h"
#include "controller/workqueue/workqueue.h"

namespace rio::runtime {

struct ControllerOptions {
  int maxConcurrentReconciles = 1;
  /// Deadline of one reconcile (ReconcileContext::cancelled() turns true after it); 0 = none.
  std::chrono::milliseconds reconcileTimeout{std::chrono::minutes(1)};
  /// Per-item backoff 5 ms .. 60 s combined with 10 qps / burst 100 overall.
  workqueue::RateLimiterOptions rateLimiter;
  ControllerMetricsPtr metrics;                 // optional
  workqueue::WorkQueueMetricsPtr queueMetrics;  // optional; the queue is named after the controller
  log::Logger logger;                           // base fields (e.g. cluster); `controller` is added
};

/// A source of requests: an informer, a mapping and the predicates its events must pass.
using SourceId = std::uint64_t;

/// Thread-safety: every public method may be called from any thread. start() and stop() are
/// idempotent; stop() blocks until running reconciles return, so it must not be called (nor the
/// last reference dropped) from inside a reconcile. Ownership: create() returns the owner's
/// reference; event handlers hold only the queue, never the controller.
class Controller {
 public:
  using Queue = workqueue::WorkQueue<Request>;

  /// `name` labels metrics and logs and must be unique in the process. `executor` runs the
  /// queue's timers and reconcile deadlines.
  static std::shared_ptr<Controller> create(std::string name, ReconcilerPtr reconciler,
                                            ExecutorPtr executor, ControllerOptions options = {});
  ~Controller();  // stop()

  /// Adds a source: events of `informer` that pass every predicate are mapped to requests and
  /// queued. Allowed before and after start() (remote clusters come and go); after start() the
  /// informer's current objects are replayed as creates. Requests from the initial list and the
  /// replay are queued at `initialPriority` (null: lowPriority()); later changes at normal
  /// priority, so they go first.
  SourceId watch(cache::InformerPtr informer, MapFunc map, std::vector<Predicate> predicates = {},
                 InitialPriority initialPriority = nullptr);
  /// Removes a source (e.g. a remote cluster that left). No event of it is queued after return.
  void unwatch(SourceId id);

  /// Registers the sources' event handlers and starts the workers. Call once the caches have
  /// synced (the manager waits for cachesSynced()) and, with leader election, once leading.
  void start();
  /// Stops taking requests, cancels the contexts of running reconciles, waits for them to return
  /// and joins the workers. Queued requests are dropped (the next leader lists everything anyway).
  void stop();

  /// True when every source's informer has synced.
  bool cachesSynced() const;
  /// Queues a request directly (manual triggers, other controllers, tests).
  void enqueue(const Request& request, int priority = workqueue::kNormalPriority) {
    queue_->add(request, priority);
  }

  /// Moves a request that is already queued up to `priority` (see WorkQueue::raise): for another
  /// controller that needs this one's pass sooner, without undoing its backoff.
  bool raisePriority(const Request& request, int priority = workqueue::kNormalPriority) {
    return queue_->raise(request, priority);
  }

  /// The controller's name (metrics label, `controller` log field).
  const std::string& name() const { return name_; }
  /// True once start() has been called.
  bool started() const { return started_.load(); }
  /// The queue, for inspection (length, requeue counts).
  const Queue& queue() const { return *queue_; }

 private:
  struct Source {
    cache::InformerPtr informer;
    MapFunc map;
    std::vector<Predicate> predicates;
    InitialPriority initialPriority;
    std::optional<cache::HandlerId> handler;  // set while registered
  };

  Controller(std::string name, ReconcilerPtr reconciler, ExecutorPtr executor,
             ControllerOptions options);
  void registerLocked(Source& source);
  void worker();
  // `priority`: the one it was queued at, kept for its requeues.
  void reconcileOne(const Request& request, int priority);
  std::string newReconcileId();

  const std::string name_;
  const ReconcilerPtr reconciler_;
  const ExecutorPtr executor_;
  const ClockPtr clock_;
  const ControllerOptions options_;
  const log::Logger logger_;
  const ControllerSeriesPtr metrics_;  // may be null
  const std::shared_ptr<Queue> queue_;

  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;  // guards sources_, nextSource_, running_, workers_, rng_
  std::map<SourceId, Source> sources_;
  SourceId nextSource_ = 1;
  std::set<std::shared_ptr<CancellationToken>> running_;
  std::vector<std::thread> workers_;
  std::mt19937_64 rng_{std::random_device{}()};
};
using ControllerPtr = std::shared_ptr<Controller>;

}  // namespace rio::runtime
