#include "controller/runtime/executor.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include <catch2/catch.hpp>

#include "test/controller/runtime/fake_executor.h"

using namespace rio;
using namespace std::chrono_literals;
using rio::testing::FakeClock;
using rio::testing::FakeExecutor;

namespace {

// Waits (bounded) for a condition set by another thread: an event, not a sleep.
class Latch {
 public:
  void set() {
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  bool waitFor(int n, std::chrono::seconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

}  // namespace

TEST_CASE(
    "Executor: a timer runs once the injected clock reaches it, and a cancelled one never runs",
    "[runtime][executor]") {
  auto clock = std::make_shared<FakeClock>();
  auto executor = runtime::makeExecutor(2, clock);
  Latch fired, cancelledRan;
  executor->postAfter(10s, [&] { fired.set(); });
  auto cancelled = executor->postAfter(5s, [&] { cancelledRan.set(); });
  cancelled->cancel();
  Latch now;
  executor->post([&] { now.set(); });
  REQUIRE(now.waitFor(1));
  CHECK(fired.count() == 0);  // real time passing does not matter, the clock has not moved
  clock->advance(10s);
  executor->wake();
  REQUIRE(fired.waitFor(1));
  executor->shutdown();
  CHECK(cancelledRan.count() == 0);
}

TEST_CASE("Executor: a task that throws is contained and the worker keeps going",
          "[runtime][executor]") {
  auto executor = runtime::makeExecutor(1);
  Latch after;
  executor->post([] { throw std::runtime_error("boom"); });
  executor->post([&] { after.set(); });
  CHECK(after.waitFor(1));
}

TEST_CASE("SerialExecutor: tasks of one strand run in order and never concurrently",
          "[runtime][executor]") {
  auto executor = runtime::makeExecutor(4);
  auto strand = runtime::SerialExecutor::create(executor);
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
  std::vector<int> order;  // only touched by strand tasks
  Latch done;
  constexpr int kTasks = 500;
  for (int i = 0; i < kTasks; ++i) {
    strand->post([&, i] {
      if (inside.fetch_add(1) != 0) overlap = true;
      CHECK(strand->runningInThisStrand());
      order.push_back(i);
      inside.fetch_sub(1);
      done.set();
    });
  }
  REQUIRE(done.waitFor(kTasks));
  executor->shutdown();
  CHECK_FALSE(overlap);
  REQUIRE(order.size() == kTasks);
  for (int i = 0; i < kTasks; ++i) CHECK(order[i] == i);
  CHECK_FALSE(strand->runningInThisStrand());
}

TEST_CASE("SerialExecutor: a busy strand yields the worker to other strands",
          "[runtime][executor]") {
  auto executor = std::make_shared<FakeExecutor>();
  auto busy = runtime::SerialExecutor::create(executor);
  auto other = runtime::SerialExecutor::create(executor);
  std::vector<std::string> log;
  for (int i = 0; i < 200; ++i) busy->post([&] { log.push_back("busy"); });
  other->post([&] { log.push_back("other"); });
  executor->runReady();
  REQUIRE(log.size() == 201);
  auto pos = std::find(log.begin(), log.end(), "other") - log.begin();
  CHECK(pos < 200);  // ran between batches, not after all of busy's tasks
  executor->shutdown();
}
