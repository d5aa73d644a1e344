// A token bucket rate limiter (qps refill, burst capacity), shared by the REST client's QPS limit
// and the workqueue's overall limiter.
#pragma once

#include <chrono>
#include <mutex>

#include "controller/core/clock.h"

namespace rio {

/// Thread-safe (one mutex guards the bucket).
class TokenBucket {
 public:
  /// qps <= 0 means unlimited.
  TokenBucket(double qps, int burst, ClockPtr clock = systemClock());

  /// Takes one token, possibly from the future: returns how long the caller must wait before
  /// acting (zero when a token was available). Reservations queue fairly in call order.
  std::chrono::nanoseconds reserve();
  /// Takes a token only if one is available now.
  bool tryTake();
  double qps() const { return qps_; }

 private:
  void refillLocked(SteadyTime now);

  const double qps_;
  const double burst_;
  const ClockPtr clock_;
  std::mutex mu_;  // guards tokens_ and last_
  double tokens_;
  SteadyTime last_;
};

}  // namespace rio
