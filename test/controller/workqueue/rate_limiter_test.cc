#include "controller/workqueue/rate_limiter.h"

#include <string>

#include <catch2/catch.hpp>

#include "test/support/fake_clock.h"

using namespace rio;
using namespace std::chrono_literals;
using rio::testing::FakeClock;

TEST_CASE("RateLimiter: per-item backoff doubles from 5 ms and stops at the 60 s cap",
          "[workqueue][ratelimit]") {
  workqueue::ItemExponentialRateLimiter<std::string> limiter(5ms, 60s);
  CHECK(limiter.when("a") == 5ms);
  CHECK(limiter.when("a") == 10ms);
  CHECK(limiter.when("a") == 20ms);
  CHECK(limiter.when("b") == 5ms);  // keys back off independently
  for (int i = 0; i < 40; ++i) limiter.when("a");
  CHECK(limiter.when("a") == 60s);
  CHECK(limiter.numRequeues("a") == 44);
  limiter.forget("a");
  CHECK(limiter.numRequeues("a") == 0);
  CHECK(limiter.when("a") == 5ms);
}

TEST_CASE(
    "RateLimiter: the default limiter is the max of per-item backoff and a 10 qps / burst 100 "
    "bucket",
    "[workqueue][ratelimit]") {
  auto clock = std::make_shared<FakeClock>();
  auto limiter = workqueue::defaultRateLimiter<std::string>(clock);
  // The burst covers 100 distinct keys, each at its own 5 ms first step.
  for (int i = 0; i < 100; ++i) CHECK(limiter->when("k" + std::to_string(i)) == 5ms);
  // The 101st retry in the same instant waits for the bucket: 1 token per 100 ms.
  CHECK(limiter->when("k100") == 100ms);
  CHECK(limiter->when("k101") == 200ms);
  // Per-item backoff wins once it is longer than the bucket's wait.
  clock->advance(1h);
  auto a = std::chrono::nanoseconds(0);
  for (int i = 0; i < 20; ++i) a = limiter->when("slow");
  CHECK(a == 60s);
  limiter->forget("slow");
  CHECK(limiter->numRequeues("slow") == 0);
}

TEST_CASE("RateLimiter: the cap is configurable", "[workqueue][ratelimit]") {
  auto clock = std::make_shared<FakeClock>();
  workqueue::RateLimiterOptions o;
  o.maxDelay = 1000s;  // controller-runtime's default
  o.qps = 0;           // no bucket
  auto limiter = workqueue::defaultRateLimiter<std::string>(clock, o);
  std::chrono::nanoseconds d{0};
  for (int i = 0; i < 40; ++i) d = limiter->when("a");
  CHECK(d == 1000s);
}
