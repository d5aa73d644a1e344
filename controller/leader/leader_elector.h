// Leader election on a coordination.k8s.io/v1 Lease, compatible with client-go's leaderelection
// package (same fields, same rules), so the operator can share a Lease with Go tooling:
//
// - Acquire: a candidate reads the Lease every retryPeriod. It takes it when it does not exist
//   (create), when it is released (holderIdentity ""), or when the record has not changed for
//   leaseDurationSeconds as measured on this process's own monotonic clock since it last saw it
//   change (like client-go: no trust in other machines' clocks). Taking it from someone else
//   increments leaseTransitions and sets acquireTime. Writes carry the resourceVersion read
//   (optimistic concurrency), so two candidates never both win.
// - Renew: the leader writes renewTime every retryPeriod. When no renewal succeeded for
//   renewDeadline within a renew cycle, leadership is lost: onLost runs once and the elector is
//   done (the manager then exits non-zero). A watchdog timer enforces the deadline even while a
//   REST call hangs; since renewDeadline < leaseDuration, the old leader has given up before any
//   other candidate may take over.
// - Release (ReleaseOnCancel): stop() writes holderIdentity "", leaseDurationSeconds 1 so a
//   waiting candidate takes over at its next poll (within one retryPeriod).
//
// Two deliberate differences: client-go waits retryPeriod*(1 + 1.2*rand) between candidate polls;
// this waits retryPeriod*(1 - retryJitter*rand), so a released lease is taken within one
// retryPeriod (2 s by default). And when another holder's lease expires (by this process's
// observation) before the next poll, the candidate tries at that moment instead, so a dead
// leader is replaced leaseDuration after the last renewal seen, not up to a retry period later.
// Expiry is judged on observation time, so polling sooner never shortens anyone's lease.
//
// Threading: every Lease call runs on a strand of the shared runtime::Executor (blocking REST on
// a pool worker, never on an I/O thread); timing is on the executor's Clock, so tests drive it
// with a manual clock. State sits behind one mutex; REST sequences behind another (callMu_).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/meta/error.h"
#include "controller/core/backoff.h"
#include "controller/core/logging.h"
#include "controller/leader/lease_lock.h"
#include "controller/leader/metrics.h"
#include "controller/runtime/executor.h"

namespace prometheus {
class Gauge;
}

namespace rio::leader {

struct LeaderElectionOptions {
  /// Names the election in logs and the leader_election_master_status{name} label (the Lease
  /// name, i.e. the leader election ID). Required.
  std::string name;
  /// This candidate. Required; see defaultIdentity().
  std::string identity;
  /// How long a non-leader waits, after it last saw the record change, before taking the lease.
  std::chrono::milliseconds leaseDuration{std::chrono::seconds(15)};
  /// How long the leader keeps retrying a renewal before it gives up leadership.
  std::chrono::milliseconds renewDeadline{std::chrono::seconds(10)};
  /// Interval between attempts (acquire polls and renewals).
  std::chrono::milliseconds retryPeriod{std::chrono::seconds(2)};
  /// Candidate polls wait retryPeriod * (1 - retryJitter * random()).
  double retryJitter = 0.2;
  /// stop() releases a held lease (client-go ReleaseOnCancel).
  bool releaseOnCancel = true;
  RandomFn random;                                 // null: defaultRandom()
  std::shared_ptr<LeaderElectionMetrics> metrics;  // optional
  log::Logger logger;
};

/// Checks client-go's constraints: leaseDuration > renewDeadline > 1.2 * retryPeriod > 0,
/// leaseDuration at least 1 s, name and identity set. Errors are kConfig naming the value.
Expected<void> validate(const LeaderElectionOptions& options);

/// hostname + "_" + a random UUID, like client-go users (controller-runtime) make it.
std::string defaultIdentity();

struct LeaderCallbacks {
  /// This candidate became the leader. Runs on an executor worker; must not block for long.
  std::function<void()> onStartedLeading;
  /// Leadership was lost (renew deadline passed). Not called for stop(). Runs on an executor
  /// worker, once; must not block for long.
  std::function<void()> onLost;
  /// The observed holder changed (including to this candidate, or to "" when released).
  std::function<void(const std::string& identity)> onNewLeader;
};

enum class ElectorState { kIdle, kCandidate, kLeading, kLost, kStopped };
/// "Idle", "Candidate", "Leading", "Lost", "Stopped".
std::string_view toString(ElectorState state);

/// Thread-safety: every public method may be called from any thread; stop() blocks while a Lease
/// call is in flight (at most the client's request timeout) and while releasing, so never call it
/// from an I/O thread or from a callback. Ownership: create() returns the owner's reference;
/// timers and tasks hold weak references.
class LeaderElector : public std::enable_shared_from_this<LeaderElector> {
 public:
  /// Errors: validate() failures.
  static Expected<std::shared_ptr<LeaderElector>> create(LeaseLockPtr lock,
                                                         runtime::ExecutorPtr executor,
                                                         LeaderElectionOptions options,
                                                         LeaderCallbacks callbacks);
  /// Cancels pending timers; does not release (call stop() for that).
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  /// Starts campaigning (the first attempt is queued at once). Idempotent; no-op after stop().
  void start();
  /// Stops campaigning and renewing; when the Lease names this candidate and releaseOnCancel is
  /// set, releases it. Idempotent. onLost is not called.
  void stop();

  /// True while leading (until lost or stopped).
  bool isLeader() const;
  ElectorState state() const;
  /// The holder last observed ("" when released or unknown).
  std::string observedLeader() const;
  /// This candidate's identity.
  const std::string& identity() const { return options_.identity; }

 private:
  LeaderElector(LeaseLockPtr lock, runtime::ExecutorPtr executor, LeaderElectionOptions options,
                LeaderCallbacks callbacks);

  void attempt();
  bool tryAcquireOrRenew();                                          // callMu_ held
  void release();                                                    // callMu_ held
  void observe(const LeaderElectionRecord& record, SteadyTime now);  // callMu_ held
  void scheduleRenewCycleLocked();                                   // mu_ held
  void scheduleAttemptLocked(std::chrono::nanoseconds delay);        // mu_ held
  std::chrono::nanoseconds candidateDelayLocked() const;             // callMu_ held
  void onWatchdog(std::uint64_t cycle);
  void setGauge(double value);

  const LeaseLockPtr lock_;
  const runtime::ExecutorPtr executor_;
  const runtime::SerialExecutorPtr strand_;
  const ClockPtr clock_;
  const LeaderElectionOptions options_;
  const LeaderCallbacks callbacks_;
  const log::Logger logger_;
  const RandomFn random_;
  prometheus::Gauge* gauge_ = nullptr;

  std::mutex callMu_;  // held while a Lease call sequence runs; guards the observed* fields
  LeaderElectionRecord observedRecord_;
  bool haveObserved_ = false;
  SteadyTime observedTime_{};

  mutable std::mutex mu_;  // guards everything below
  ElectorState state_ = ElectorState::kIdle;
  std::string observedLeader_;
  std::string reportedLeader_;
  bool reportedAny_ = false;
  TimerHandlePtr next_;
  TimerHandlePtr watchdog_;
  std::uint64_t cycle_ = 0;
};
using LeaderElectorPtr = std::shared_ptr<LeaderElector>;

}  // namespace rio::leader
