// Time as an injected dependency, so timers, backoff, leases and token expiry can be tested with a
// manual clock instead of sleeps.
#pragma once

#include <chrono>
#include <memory>

namespace rio {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

/// A source of time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time, for deadlines, backoff and durations.
  virtual SteadyTime now() const = 0;
  /// Wall-clock time, for timestamps written to API objects (lease renewTime, conditions).
  virtual WallTime wallNow() const = 0;
};
using ClockPtr = std::shared_ptr<Clock>;

/// The real clock.
class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
};

/// The process-wide real clock (stateless, so sharing it is not hidden state).
ClockPtr systemClock();

}  // namespace rio
