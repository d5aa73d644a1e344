#include "controller/core/io_runtime.h"

#include <atomic>
#include <future>

#include <catch2/catch.hpp>

using rio::IoRuntime;
using namespace std::chrono_literals;

TEST_CASE("IoRuntime: posted work runs on an I/O thread", "[io]") {
  IoRuntime io(2);
  CHECK_FALSE(io.inIoThread());
  std::promise<bool> onIoThread;
  io.post([&] { onIoThread.set_value(io.inIoThread()); });
  auto f = onIoThread.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  CHECK(f.get());
}

TEST_CASE("IoRuntime: a cancelled timer never fires while a later one does", "[io]") {
  IoRuntime io(1);
  std::atomic<int> cancelledRuns{0};
  auto cancelled = io.postAfter(20ms, [&] { ++cancelledRuns; });
  cancelled->cancel();
  std::promise<void> fired;
  // Posted after the cancelled one with a longer delay: once it ran, the first would have too.
  auto later = io.postAfter(60ms, [&] { fired.set_value(); });
  REQUIRE(fired.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(cancelledRuns == 0);
  later->cancel();  // after firing: a no-op
}

TEST_CASE("IoRuntime: stop() is idempotent and drops pending work", "[io]") {
  IoRuntime io(2);
  std::atomic<int> runs{0};
  auto handle = io.postAfter(1h, [&] { ++runs; });
  io.stop();
  io.stop();
  CHECK(io.stopped());
  io.post([&] { ++runs; });
  CHECK(runs == 0);
}
