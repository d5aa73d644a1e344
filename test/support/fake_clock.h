// A manual clock for tests: time moves only when the test says so.
#pragma once

#include <mutex>

#include "controller/core/clock.h"

namespace rio::testing {

class FakeClock final : public Clock {
 public:
  FakeClock() : steady_(SteadyTime{} + std::chrono::hours(1)), wall_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 25}) {}
  SteadyTime now() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  WallTime wallNow() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  /// Moves both clocks forward.
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    std::lock_guard lock(mu_);
    steady_ += std::chrono::duration_cast<SteadyTime::duration>(d);
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }
  void setWall(WallTime t) {
    std::lock_guard lock(mu_);
    wall_ = t;
  }

 private:
  mutable std::mutex mu_;  // guards both times
  SteadyTime steady_;
  WallTime wall_;
};

}  // namespace rio::testing
