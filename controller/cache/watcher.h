// The watcher: keeps a local view of one resource in step with an API server, as an explicit
// state machine (kube-rs style):
//
//   Empty ──► InitListing (paged LIST, `continue` tokens) ──► InitListed(rv) ──► Watching(rv)
//     │                                                                           │  ▲
//     └──► InitWatching (watch-list: sendInitialEvents, until the                 │  │ disconnect:
//            `k8s.io/initial-events-end` bookmark) ─────────────────────────────┘  │ resume from rv
//   Watching ── 410 Gone / expired continue token ──► Empty (relist)               ─┘
//
// Output is a stream of WatcherEvents: Init, InitApply*, InitDone mark a (re)list, whose content
// replaces the store in one swap; Apply/Delete are watch changes. Bookmarks only move the
// resourceVersion. Watch-list falls back to LIST+WATCH for good once the server answers the
// watch-list request with an error or ends it without the initial-events-end bookmark.
//
// Retries: failures follow a jittered exponential backoff 0.8 s -> 30 s that resets after a
// healthy period (no failure for `backoff.resetAfter`, 120 s) and honours Retry-After.
// Quick way back after an outage: while a server does not answer (connection refused/reset,
// timeout), one informer of that server (the prober, see ServerHealth) retries at most every
// `outageRetryInterval` (2.5 s ± 20%), which costs the dead server nothing; the server's other
// informers keep their backoff and are woken the moment it answers. So watches are back within
// ~4 s of the server answering again, after an outage of any length.
//
// While the server is suspect, every attempt starts with a probe: a non-blocking 1-second watch
// that selects no object. It keeps blocking LISTs (which would hold a shared pool worker for the
// request timeout) away from a server that is not answering, and gives an unambiguous sign of
// life even for a quiet resource. Only the first LIST that meets a dead server blocks.
//
// Threading: every state transition runs on the watcher's strand (a SerialExecutor on the shared
// pool). Watch callbacks arrive on I/O threads and only post to the strand. LIST pages are
// blocking REST calls and run on the strand, i.e. on a pool worker, never on an I/O thread; a
// page is one task, so other informers' tasks interleave between pages.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "controller/cache/object.h"
#include "controller/cache/server_health.h"
#include "controller/core/backoff.h"
#include "controller/core/logging.h"
#include "controller/kube/client.h"
#include "controller/runtime/executor.h"

namespace rio::cache {

enum class WatcherState { kEmpty, kInitListing, kInitWatching, kInitListed, kWatching, kStopped };
/// "Empty", "InitListing", ... for logs.
std::string_view toString(WatcherState state);

struct WatcherEvent {
  enum class Type {
    kInit,        // a (re)list starts: collect the objects that follow
    kInitApply,   // an object of the (re)list
    kInitDelete,  // watch-list only: an object of the (re)list went away before it ended
    kInitDone,    // the (re)list is complete: its objects are now the whole content
    kApply,       // added or modified while watching
    kDelete,      // deleted while watching (object = its last state)
  };
  Type type = Type::kInit;
  ObjectPtr object;  // null for kInit and kInitDone
};

struct WatcherOptions {
  kube::Resource resource;
  std::string ns;  // empty: all namespaces (or a cluster-scoped resource)
  std::string labelSelector;
  std::string fieldSelector;
  std::int64_t pageSize = 500;  // LIST page size (0 = unpaged)
  /// Use watch-list (sendInitialEvents) for the initial state instead of LIST pages.
  bool useWatchList = false;
  /// Watch-list: fall back to LIST+WATCH when the initial-events-end bookmark has not arrived by
  /// then.
  std::chrono::milliseconds initialEventsTimeout{std::chrono::seconds(60)};
  BackoffOptions backoff{std::chrono::milliseconds(800), std::chrono::seconds(30), 2.0, 0.2,
                         std::chrono::seconds(120)};
  std::chrono::milliseconds outageRetryInterval{2500};
  /// Re-watch (from the last resourceVersion) when nothing, not even a bookmark, arrives this
  /// long: catches blackholed connections. 0 = never.
  std::chrono::milliseconds watchIdleTimeout{std::chrono::minutes(3)};
  /// Each watch asks the server to end it after a random time in [min, max], as client-go does,
  /// so connections are spread over API server replicas.
  std::chrono::seconds watchTimeoutMin{300};
  std::chrono::seconds watchTimeoutMax{600};
  /// Drop metadata.managedFields from cached objects (often the largest part of an object).
  bool stripManagedFields = true;
  /// Applied to every object before it is cached (e.g. to drop fields the operator never reads).
  /// Runs on the strand; must not block.
  std::function<void(nlohmann::json&)> transform;
  /// Shared by the informers of one API server (one per cluster); null: a private one.
  ServerHealthPtr health;
  RandomFn random;     // null: defaultRandom()
  log::Logger logger;  // fields of the owner (cluster, ...); the watcher adds `resource`
};

/// Thread-safety: start(), stop() and the accessors may be called from any thread; the sink is
/// called on the strand only, one event at a time, in order. Ownership: the owner holds the
/// watcher; callbacks hold weak references, so destroying it ends its watch.
class Watcher : public std::enable_shared_from_this<Watcher> {
 public:
  using Sink = std::function<void(WatcherEvent&& event)>;

  /// `client` and `strand` are shared; `sink` receives the events (it must not block for long:
  /// it holds up this watcher's strand, not an I/O thread).
  static std::shared_ptr<Watcher> create(kube::ClientPtr client, WatcherOptions options,
                                         runtime::SerialExecutorPtr strand, Sink sink);
  ~Watcher();

  /// Begins from Empty. Idempotent; no-op after stop().
  void start();
  /// Ends the watch and cancels retries. Non-blocking, idempotent. A LIST page in flight finishes
  /// and is discarded; the sink is not called after the stop has been processed on the strand.
  void stop();

  /// The current state (readable from any thread).
  WatcherState state() const { return state_.load(); }
  /// The resourceVersion the next watch would resume from ("" before the first list).
  std::string resourceVersion() const;
  /// True while a reachability probe is in flight (the server was not answering).
  bool probing() const { return probingPublic_.load(); }
  /// True while a retry is scheduled after a failure.
  bool backingOff() const { return backingOff_.load(); }
  /// Failures since the last event or list success (for readiness and tests).
  int consecutiveFailures() const { return failures_.load(); }
  /// False once the server answered watch-list with an error (LIST+WATCH from then on).
  bool usingWatchList() const { return useWatchList_.load(); }
  /// The options it was created with.
  const WatcherOptions& options() const { return options_; }

 private:
  Watcher(kube::ClientPtr client, WatcherOptions options, runtime::SerialExecutorPtr strand,
          Sink sink);

  void step();
  void beginInit();
  void listPage();
  void startWatch(bool initialEvents);
  void startProbe();
  void onProbeClosed(const std::optional<Error>& error);
  void noteOutcome(const Error& error);
  void onWatchEvent(std::uint64_t generation, kube::WatchEvent&& event);
  void onWatchClosed(std::uint64_t generation, const std::optional<Error>& error);
  void onInitialEventsTimeout(std::uint64_t generation);
  void fallBackToList(std::string_view why);
  void retryLater(const Error& error);
  void postStep();
  void stopWatch();
  void emit(WatcherEvent::Type type, ObjectPtr object = nullptr);
  ObjectPtr normalize(nlohmann::json&& object) const;
  void setState(WatcherState state) { state_.store(state); }
  void setResourceVersion(std::string rv);
  void madeProgress();

  const kube::ClientPtr client_;
  const WatcherOptions options_;
  const runtime::SerialExecutorPtr strand_;
  const Sink sink_;
  const RandomFn random_;
  const log::Logger logger_;
  const ServerHealthPtr health_;

  std::atomic<WatcherState> state_{WatcherState::kEmpty};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> backingOff_{false};
  std::atomic<bool> useWatchList_;
  std::atomic<int> failures_{0};
  std::atomic<bool> probingPublic_{false};

  // Strand-only state.
  Backoff backoff_;
  std::string continue_;  // InitListing: the next page's token
  std::string rv_;        // InitListed/Watching: where the watch resumes
  kube::WatchPtr watch_;
  std::uint64_t watchGeneration_ = 0;  // events of older watches are ignored
  std::uint64_t watchEvents_ = 0;      // events received on the current watch
  bool probing_ = false;               // watch_ is a reachability probe, not the real watch
  SteadyTime watchStartedAt_{};
  int consecutiveGone_ = 0;
  TimerHandlePtr retryTimer_;
  TimerHandlePtr initialEventsTimer_;

  mutable std::mutex rvMu_;  // guards publicRv_, the copy of rv_ readable from any thread
  std::string publicRv_;
};
using WatcherPtr = std::shared_ptr<Watcher>;

}  // namespace rio::cache
