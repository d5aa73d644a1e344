#include "controller/core/token_bucket.h"

#include <algorithm>

namespace rio {

TokenBucket::TokenBucket(double qps, int burst, ClockPtr clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(std::move(clock)), tokens_(std::max(1, burst)), last_(clock_->now()) {}

void TokenBucket::refillLocked(SteadyTime now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

std::chrono::nanoseconds TokenBucket::reserve() {
  if (qps_ <= 0) return std::chrono::nanoseconds(0);
  std::lock_guard lock(mu_);
  refillLocked(clock_->now());
  tokens_ -= 1.0;  // may go negative: the debt is the queue of earlier reservations
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<long long>(-tokens_ / qps_ * 1e9));
}

bool TokenBucket::tryTake() {
  if (qps_ <= 0) return true;
  std::lock_guard lock(mu_);
  refillLocked(clock_->now());
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace rio
