#include "controller/core/backoff.h"

#include <algorithm>
#include <cmath>

namespace rio {

RandomFn defaultRandom() {
  struct Shared {
    std::mutex mu;
    std::mt19937_64 engine{std::random_device{}()};
    std::uniform_real_distribution<double> dist{0.0, 1.0};
  };
  // One engine for the process: seeding from std::random_device costs a system call or more, and
  // every Backoff (one per request, watch and work item) asks for a source.
  // Never destroyed: threads may still draw during static destruction.
  static Shared* const shared = new Shared();
  return [] {
    std::lock_guard lock(shared->mu);
    return shared->dist(shared->engine);
  };
}

std::chrono::milliseconds exponentialDelay(std::chrono::milliseconds initial,
                                           std::chrono::milliseconds max, double factor, int n) {
  double ms = static_cast<double>(initial.count()) * std::pow(factor, std::max(0, n));
  if (!std::isfinite(ms) || ms > static_cast<double>(max.count())) return max;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

Backoff::Backoff(BackoffOptions options, ClockPtr clock, RandomFn random)
    : options_(options), clock_(std::move(clock)), random_(std::move(random)) {}

std::chrono::milliseconds Backoff::next() {
  SteadyTime now = clock_->now();
  if (options_.resetAfter.count() > 0 && attempts_ > 0 && now - lastFailure_ >= options_.resetAfter) {
    attempts_ = 0;
  }
  lastFailure_ = now;
  auto base = exponentialDelay(options_.initial, options_.max, options_.factor, attempts_);
  ++attempts_;
  double jitter = std::clamp(options_.jitter, 0.0, 1.0);
  double scale = 1.0 + jitter * (2.0 * random_() - 1.0);
  auto delay = std::chrono::milliseconds(static_cast<long long>(static_cast<double>(base.count()) * scale));
  return std::min(delay, options_.max);
}

void Backoff::reset() { attempts_ = 0; }

}  // namespace rio
