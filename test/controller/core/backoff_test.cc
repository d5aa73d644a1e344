#include "controller/core/backoff.h"

#include <catch2/catch.hpp>

#include "controller/core/token_bucket.h"
#include "test/support/fake_clock.h"

using namespace rio;
using namespace std::chrono_literals;

TEST_CASE("Backoff: delays double from initial up to the cap", "[core][backoff]") {
  auto clock = std::make_shared<testing::FakeClock>();
  Backoff b({800ms, 30s, 2.0, 0.0, 0ms}, clock, [] { return 0.5; });
  std::vector<long long> got;
  for (int i = 0; i < 8; ++i) got.push_back(b.next().count());
  CHECK(got == std::vector<long long>{800, 1600, 3200, 6400, 12800, 25600, 30000, 30000});
  b.reset();
  CHECK(b.next() == 800ms);
}

TEST_CASE("Backoff: jitter stays within the configured fraction", "[core][backoff]") {
  auto clock = std::make_shared<testing::FakeClock>();
  Backoff low({1000ms, 30s, 2.0, 0.2, 0ms}, clock, [] { return 0.0; });
  Backoff high({1000ms, 30s, 2.0, 0.2, 0ms}, clock, [] { return 0.999999; });
  CHECK(low.next() == 800ms);
  CHECK(high.next() >= 1199ms);
  CHECK(high.next() <= 2400ms);
}

TEST_CASE("Backoff: a healthy period resets the sequence", "[core][backoff]") {
  auto clock = std::make_shared<testing::FakeClock>();
  Backoff b({800ms, 30s, 2.0, 0.0, 60s}, clock, [] { return 0.5; });
  b.next();
  b.next();
  clock->advance(10s);
  CHECK(b.next() == 3200ms);  // still failing
  clock->advance(61s);
  CHECK(b.next() == 800ms);  // healthy for a minute: start again
}

TEST_CASE("TokenBucket: burst is free, then requests are spaced at qps", "[core][ratelimit]") {
  auto clock = std::make_shared<testing::FakeClock>();
  TokenBucket bucket(10, 3, clock);
  for (int i = 0; i < 3; ++i) CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 100ms);
  CHECK(bucket.reserve() == 200ms);  // queued behind the previous reservation
  CHECK_FALSE(bucket.tryTake());
  clock->advance(1s);
  CHECK(bucket.tryTake());
}

TEST_CASE("TokenBucket: qps of zero never waits", "[core][ratelimit]") {
  TokenBucket bucket(0, 0);
  for (int i = 0; i < 100; ++i) CHECK(bucket.reserve() == 0ns);
}
