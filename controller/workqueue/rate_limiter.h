// Rate limiters for the workqueue's addRateLimited(): how long an item waits before it is
// processed again. The default combines a per-item exponential backoff with an overall token
// bucket and takes the larger delay, as client-go's DefaultControllerRateLimiter does (with a
// 60 s cap instead of 1000 s, per the runtime issue; configurable).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "controller/core/backoff.h"
#include "controller/core/clock.h"
#include "controller/core/token_bucket.h"

namespace rio::workqueue {

/// Decides how long an item waits before it may be processed again.
/// Thread-safety: implementations are thread-safe.
template <class T, class Hash = std::hash<T>>
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  /// Records one more failure of `item` and returns how long it must wait.
  virtual std::chrono::nanoseconds when(const T& item) = 0;
  /// Forgets `item`'s failures (its next when() starts over). Does not touch the overall bucket.
  virtual void forget(const T& item) = 0;
  /// Failures recorded for `item` since it was last forgotten.
  virtual int numRequeues(const T& item) const = 0;
};
template <class T, class Hash = std::hash<T>>
using RateLimiterPtr = std::unique_ptr<RateLimiter<T, Hash>>;

/// base * 2^failures, capped at max (no jitter: the token bucket and many keys spread the load).
template <class T, class Hash = std::hash<T>>
class ItemExponentialRateLimiter final : public RateLimiter<T, Hash> {
 public:
  /// Delays base, 2*base, 4*base ... up to max per item.
  ItemExponentialRateLimiter(std::chrono::milliseconds base, std::chrono::milliseconds max)
      : base_(base), max_(max) {}

  std::chrono::nanoseconds when(const T& item) override {
    std::lock_guard lock(mu_);
    int n = failures_[item]++;
    return exponentialDelay(base_, max_, 2.0, n);
  }
  void forget(const T& item) override {
    std::lock_guard lock(mu_);
    failures_.erase(item);
  }
  int numRequeues(const T& item) const override {
    std::lock_guard lock(mu_);
    auto it = failures_.find(item);
    return it == failures_.end() ? 0 : it->second;
  }

 private:
  const std::chrono::milliseconds base_;
  const std::chrono::milliseconds max_;
  mutable std::mutex mu_;  // guards failures_
  std::unordered_map<T, int, Hash> failures_;
};

/// One overall token bucket for every item: bounds the retry rate of the whole queue.
template <class T, class Hash = std::hash<T>>
class BucketRateLimiter final : public RateLimiter<T, Hash> {
 public:
  /// `qps` tokens per second, up to `burst` saved; qps <= 0: no limit.
  BucketRateLimiter(double qps, int burst, ClockPtr clock)
      : bucket_(qps, burst, std::move(clock)) {}
  std::chrono::nanoseconds when(const T&) override { return bucket_.reserve(); }
  void forget(const T&) override {}
  int numRequeues(const T&) const override { return 0; }

 private:
  TokenBucket bucket_;
};

/// The largest delay of several limiters (each still records the failure).
template <class T, class Hash = std::hash<T>>
class MaxOfRateLimiter final : public RateLimiter<T, Hash> {
 public:
  /// Takes ownership of `limiters`.
  explicit MaxOfRateLimiter(std::vector<RateLimiterPtr<T, Hash>> limiters)
      : limiters_(std::move(limiters)) {}
  std::chrono::nanoseconds when(const T& item) override {
    std::chrono::nanoseconds longest{0};
    for (auto& l : limiters_) longest = std::max(longest, l->when(item));
    return longest;
  }
  void forget(const T& item) override {
    for (auto& l : limiters_) l->forget(item);
  }
  int numRequeues(const T& item) const override {
    int most = 0;
    for (auto& l : limiters_) most = std::max(most, l->numRequeues(item));
    return most;
  }

 private:
  std::vector<RateLimiterPtr<T, Hash>> limiters_;
};

struct RateLimiterOptions {
  std::chrono::milliseconds baseDelay{5};
  std::chrono::milliseconds maxDelay{std::chrono::seconds(60)};
  double qps = 10;  // overall; <= 0 disables the bucket
  int burst = 100;
};

/// max(per-item exponential baseDelay..maxDelay, overall bucket qps/burst) on `clock`.
template <class T, class Hash = std::hash<T>>
RateLimiterPtr<T, Hash> defaultRateLimiter(ClockPtr clock, RateLimiterOptions options = {}) {
  std::vector<RateLimiterPtr<T, Hash>> limiters;
  limiters.push_back(
      std::make_unique<ItemExponentialRateLimiter<T, Hash>>(options.baseDelay, options.maxDelay));
  limiters.push_back(
      std::make_unique<BucketRateLimiter<T, Hash>>(options.qps, options.burst, std::move(clock)));
  return std::make_unique<MaxOfRateLimiter<T, Hash>>(std::move(limiters));
}

}  // namespace rio::workqueue
