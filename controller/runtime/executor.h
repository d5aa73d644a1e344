// Where the runtime's non-I/O work runs: a small shared pool of worker threads with timers on the
// injected Clock, and strands (serial executors) on top of it.
//
// Why a shared pool and not a thread per informer: the operator may watch thousands of remote
// clusters with several kinds each. Informers, workqueue timers and reconcile deadlines only need
// a thread while they have work (a blocking LIST page, a batch of watch events, a timer), so they
// share a handful of threads; each informer is a strand (SerialExecutor) on the pool, which keeps
// its state machine single-threaded without owning a thread. Watch callbacks arrive on I/O
// threads and only post to a strand, so no I/O thread ever blocks on cache work.
//
// Lives in runtime/ because it is the runtime's scheduling primitive; workqueue/ and cache/ use
// it through this header only (it depends on nothing but core/).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "controller/core/clock.h"
#include "controller/core/io_runtime.h"  // rio::TimerHandle

namespace rio::runtime {

/// Runs tasks on worker threads, now or once the injected clock reaches a time.
/// Thread-safety: every method may be called from any thread, including from a task.
/// Tasks must not throw; an exception that escapes a task is caught, logged and dropped.
class Executor {
 public:
  virtual ~Executor() = default;
  /// Queues `fn` to run as soon as a worker is free. Tasks posted after shutdown are dropped.
  virtual void post(std::function<void()> fn) = 0;
  /// Runs `fn` once clock()->now() >= `when`, unless the handle is cancelled first. Cancelling
  /// releases `fn` (and what it captured) promptly; cancelling after it ran is a no-op.
  virtual TimerHandlePtr postAt(SteadyTime when, std::function<void()> fn) = 0;
  /// The clock timers are measured against (shared by every user of this executor).
  virtual const ClockPtr& clock() const = 0;

  /// postAt(clock()->now() + delay, fn).
  TimerHandlePtr postAfter(std::chrono::nanoseconds delay, std::function<void()> fn) {
    return postAt(clock()->now() + std::chrono::duration_cast<SteadyTime::duration>(delay),
                  std::move(fn));
  }
};
using ExecutorPtr = std::shared_ptr<Executor>;

/// The production executor: `threads` workers sharing one ready queue and one timer heap.
/// Idle workers sleep on a condition variable until the earliest timer (measured on the clock) or
/// a new task. With a manual clock, call wake() after moving time so sleeping workers re-check.
class ExecutorImpl final : public Executor {
 public:
  /// Starts the worker threads. `threads` must be at least 1.
  explicit ExecutorImpl(std::size_t threads = 2, ClockPtr clock = systemClock());
  /// shutdown().
  ~ExecutorImpl() override;
  ExecutorImpl(const ExecutorImpl&) = delete;
  ExecutorImpl& operator=(const ExecutorImpl&) = delete;

  /// See Executor::post.
  void post(std::function<void()> fn) override;
  /// See Executor::postAt.
  TimerHandlePtr postAt(SteadyTime when, std::function<void()> fn) override;
  /// See Executor::clock.
  const ClockPtr& clock() const override { return clock_; }

  /// Makes sleeping workers re-read the clock (for manual clocks in tests).
  void wake();
  /// Stops accepting tasks, drops queued tasks and pending timers, waits for running tasks and
  /// joins the workers. Idempotent. Must not be called from a worker thread (it would join itself).
  void shutdown();

 private:
  struct State;
  std::shared_ptr<State> state_;
  ClockPtr clock_;
};

/// Creates an ExecutorImpl (the manager makes one and hands it to caches, queues and controllers).
std::shared_ptr<ExecutorImpl> makeExecutor(std::size_t threads = 2, ClockPtr clock = systemClock());

/// A strand: tasks posted here run one at a time, in order, on the underlying executor's threads,
/// without a thread of its own. Costs a mutex, a deque and a flag; idle strands cost nothing else.
/// Thread-safety: post()/postAt() may be called from any thread, including from a task of this
/// strand (the task then runs after the current one). Lifetime: queued tasks keep the strand alive;
/// once the executor shuts down, the strand drops its queued tasks (and what they captured) too.
class SerialExecutor : public std::enable_shared_from_this<SerialExecutor> {
 public:
  /// `executor` must outlive the strand's tasks.
  static std::shared_ptr<SerialExecutor> create(ExecutorPtr executor);

  /// Queues `fn` behind every task posted before it.
  void post(std::function<void()> fn);
  /// Posts `fn` to this strand once the clock reaches `when`, unless cancelled.
  TimerHandlePtr postAt(SteadyTime when, std::function<void()> fn);
  /// postAt(now + delay).
  TimerHandlePtr postAfter(std::chrono::nanoseconds delay, std::function<void()> fn);
  /// The underlying executor's clock.
  const ClockPtr& clock() const { return executor_->clock(); }
  /// True while called from a task of this strand.
  bool runningInThisStrand() const;

 private:
  explicit SerialExecutor(ExecutorPtr executor) : executor_(std::move(executor)) {}
  void drain();
  // Posts drain() to the executor; if the executor drops it unrun (it is shutting down), the
  // queued tasks are dropped with it instead of waiting forever for a drain that never comes.
  void scheduleDrain();
  void dropQueued();

  // Tasks run before yielding the worker to other strands: keeps one busy informer from
  // starving the others on a small pool.
  static constexpr int kBatch = 64;

  ExecutorPtr executor_;
  std::mutex mu_;  // guards tasks_ and scheduled_
  std::deque<std::function<void()>> tasks_;
  bool scheduled_ = false;  // a drain() is queued or running on the executor
};
using SerialExecutorPtr = std::shared_ptr<SerialExecutor>;

}  // namespace rio::runtime
