// The reconciler contract: what a controller hands to domain code and what it expects back.
//
//   class MyReconciler final : public runtime::Reconciler {
//     runtime::ReconcileOutcome reconcile(const runtime::ReconcileContext& ctx,
//                                         const runtime::Request& req) override {
//       auto obj = informer_->get({req.ns, req.name});
//       if (!obj) return runtime::Result{};                      // gone: nothing to do
//       if (badSpec(*obj)) return runtime::terminal(Error::invalid("spec.x must be set"));
//       if (auto r = apply(ctx); !r) return runtime::retryable(r.error());  // backoff
//       if (ctx.cancelled()) return runtime::retryable(Error::timeout("deadline"));
//       return runtime::Result::after(std::chrono::minutes(5));  // scheduled re-check
//     }
//   };
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/core/logging.h"

namespace rio::runtime {

/// What to reconcile: the namespace/name of a primary object (ns empty for cluster-scoped).
struct Request {
  std::string ns;
  std::string name;

  /// "ns/name", or "name" when cluster-scoped.
  std::string toString() const { return ns.empty() ? name : ns + "/" + name; }
  bool operator==(const Request&) const = default;
  /// The request for an object's metadata.
  static Request of(const nlohmann::json& object);
};

/// What a successful reconcile asks for next.
struct Result {
  /// Run again with the item's backoff (counts as a requeue, not an error).
  bool requeue = false;
  /// Run again after this long (a scheduled re-check); wins over `requeue` and resets the backoff.
  std::chrono::milliseconds requeueAfter{0};

  /// Converged: nothing more until the next event.
  static Result done() { return {}; }
  /// Converged for now; check again after `d` (e.g. to renew a credential before it expires).
  static Result after(std::chrono::milliseconds d) { return {false, d}; }
  /// Not done yet (e.g. waiting for a remote rollout): run again with backoff, not an error.
  static Result withBackoff() { return {true, {}}; }
};

/// A failed reconcile: retryable (run again with per-item backoff) or terminal (the object
/// cannot be reconciled as it is — e.g. a bad spec; no retry until the object changes).
class ReconcileError {
 public:
  /// Worth retrying (network, API server, conflict): per-item backoff.
  static ReconcileError retryable(Error error) { return ReconcileError(std::move(error), false); }
  /// Retrying cannot help until the object changes (report it in a condition and an event).
  static ReconcileError terminal(Error error) { return ReconcileError(std::move(error), true); }
  /// True for terminal errors.
  bool isTerminal() const { return terminal_; }
  /// What went wrong (its message is logged; it must not contain secret data).
  const Error& error() const { return error_; }

 private:
  ReconcileError(Error error, bool terminal) : error_(std::move(error)), terminal_(terminal) {}
  Error error_;
  bool terminal_;
};

using ReconcileOutcome = tl::expected<Result, ReconcileError>;

/// `return runtime::retryable(error);` from a reconciler.
inline tl::unexpected<ReconcileError> retryable(Error error) {
  return tl::unexpected(ReconcileError::retryable(std::move(error)));
}
/// `return runtime::terminal(error);` from a reconciler.
inline tl::unexpected<ReconcileError> terminal(Error error) {
  return tl::unexpected(ReconcileError::terminal(std::move(error)));
}

/// Cancellation shared between a running reconcile and the controller (deadline, shutdown).
class CancellationToken {
 public:
  /// Requests cancellation. Thread-safe, idempotent.
  void cancel() { cancelled_.store(true); }
  /// True once cancel() was called. Thread-safe.
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

/// What a reconcile gets besides its Request. Valid for the duration of the reconcile call.
/// Thread-safety: cancelled()/remaining() may be polled from any thread.
class ReconcileContext {
 public:
  ReconcileContext(log::Logger logger, std::string reconcileId, ClockPtr clock, SteadyTime deadline,
                   std::shared_ptr<CancellationToken> token)
      : logger_(std::move(logger)),
        reconcileId_(std::move(reconcileId)),
        clock_(std::move(clock)),
        deadline_(deadline),
        token_(std::move(token)) {}

  /// A logger carrying controller, namespace, name and reconcile_id: use it for every line.
  const log::Logger& logger() const { return logger_; }
  /// A random id for this reconcile (uuid-like), also in every log line.
  const std::string& reconcileId() const { return reconcileId_; }
  /// When the reconcile should be done by (SteadyTime::max() when there is no deadline).
  SteadyTime deadline() const { return deadline_; }
  /// Time left before the deadline (zero once passed; very large without a deadline).
  std::chrono::nanoseconds remaining() const {
    auto now = clock_->now();
    return now >= deadline_ ? std::chrono::nanoseconds(0) : deadline_ - now;
  }
  /// True once the deadline passed or the controller is stopping: wrap up and return (the
  /// reconcile is not interrupted; long loops and waits should check this).
  bool cancelled() const { return token_->cancelled() || clock_->now() >= deadline_; }
  /// The controller's clock (for durations the reconciler measures).
  const ClockPtr& clock() const { return clock_; }

 private:
  log::Logger logger_;
  std::string reconcileId_;
  ClockPtr clock_;
  SteadyTime deadline_;
  std::shared_ptr<CancellationToken> token_;
};

/// Domain logic. Called by a controller's workers: never twice at once for the same Request,
/// possibly concurrently for different Requests (so implementations must be thread-safe).
/// Reconcilers are level-based (read the cache, converge, report), never sleep, and say what a
/// failure means (terminal or retryable). An exception is contained, logged and counted as a
/// panic and an error, and the request is retried with backoff.
class Reconciler {
 public:
  virtual ~Reconciler() = default;
  /// Brings the world in line with the object named by `request` (which may no longer exist).
  virtual ReconcileOutcome reconcile(const ReconcileContext& ctx, const Request& request) = 0;
};
using ReconcilerPtr = std::shared_ptr<Reconciler>;

using ReconcileFunc = std::function<ReconcileOutcome(const ReconcileContext&, const Request&)>;
/// A Reconciler from a function (tests, small controllers).
ReconcilerPtr reconcilerFunc(ReconcileFunc fn);

}  // namespace rio::runtime

template <>
struct std::hash<rio::runtime::Request> {
  std::size_t operator()(const rio::runtime::Request& r) const noexcept {
    std::size_t h = std::hash<std::string>{}(r.ns);
    return h ^ (std::hash<std::string>{}(r.name) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};
