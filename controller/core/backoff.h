// Exponential backoff with jitter, as its own type (kube-rs style): used by the REST client's
// retries, the watcher's reconnects and the workqueue's per-item limiter.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <random>

#include "controller/core/clock.h"

namespace rio {

/// Returns a number in [0, 1). Injected so tests can make jitter deterministic.
using RandomFn = std::function<double()>;
/// A thread-safe uniform [0,1) source seeded from std::random_device.
RandomFn defaultRandom();

struct BackoffOptions {
  std::chrono::milliseconds initial{800};
  std::chrono::milliseconds max{30000};
  double factor = 2.0;
  /// Each delay is multiplied by a random value in [1 - jitter, 1 + jitter], then capped at max.
  double jitter = 0.2;
  /// After this long without a failure, the next failure starts again at `initial` (0 = never).
  std::chrono::milliseconds resetAfter{0};
};

/// Not thread-safe: one per retrying thing (a watch, a request).
class Backoff {
 public:
  explicit Backoff(BackoffOptions options, ClockPtr clock = systemClock(), RandomFn random = defaultRandom());

  /// The delay before the next attempt; grows with each call.
  std::chrono::milliseconds next();
  /// Back to `initial` (e.g. once a watch has been healthy).
  void reset();
  /// Failures since the last reset.
  int attempts() const { return attempts_; }
  const BackoffOptions& options() const { return options_; }

 private:
  BackoffOptions options_;
  ClockPtr clock_;
  RandomFn random_;
  int attempts_ = 0;
  SteadyTime lastFailure_{};
};

/// The un-jittered delay for attempt n (0-based): min(max, initial * factor^n).
std::chrono::milliseconds exponentialDelay(std::chrono::milliseconds initial,
                                           std::chrono::milliseconds max, double factor, int n);

}  // namespace rio
