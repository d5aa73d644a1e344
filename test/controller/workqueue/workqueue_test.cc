#include "controller/workqueue/workqueue.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include <prometheus/registry.h>
#include <catch2/catch.hpp>

#include "test/controller/runtime/fake_executor.h"
#include "test/controller/runtime/metrics_text.h"

using namespace rio;
using namespace std::chrono_literals;
using rio::testing::FakeExecutor;
using Queue = workqueue::WorkQueue<std::string>;

namespace {

struct Fixture {
  std::shared_ptr<FakeExecutor> executor = std::make_shared<FakeExecutor>();
  prometheus::Registry registry;
  std::shared_ptr<Queue> queue;

  explicit Fixture(bool withMetrics = false) {
    Queue::Options o;
    o.executor = executor;
    if (withMetrics) o.metrics = workqueue::makeWorkQueueMetrics(registry)->forQueue("test");
    queue = Queue::create(std::move(o));
  }
  ~Fixture() {
    queue->shutDown();
    executor->shutdown();
  }
};

}  // namespace

TEST_CASE("WorkQueue: a key added many times before a worker takes it is handed out once",
          "[workqueue]") {
  Fixture f;
  f.queue->add("a");
  f.queue->add("b");
  f.queue->add("a");
  CHECK(f.queue->len() == 2);
  CHECK(f.queue->get() == "a");
  CHECK(f.queue->get() == "b");
  CHECK(f.queue->len() == 0);
}

TEST_CASE("WorkQueue: a key re-added while processing is delivered again after done()",
          "[workqueue]") {
  Fixture f;
  f.queue->add("a");
  auto item = f.queue->get();
  REQUIRE(item == "a");
  f.queue->add("a");
  f.queue->add("a");
  CHECK(f.queue->len() == 0);  // not handed to a second worker while the first holds it
  CHECK(f.queue->processing() == 1);
  f.queue->done("a");
  CHECK(f.queue->len() == 1);
  CHECK(f.queue->get() == "a");
  f.queue->done("a");
  CHECK(f.queue->len() == 0);
}

TEST_CASE("WorkQueue: concurrent workers never hold the same key at once", "[workqueue]") {
  Fixture f;
  constexpr int kKeys = 8;
  std::map<std::string, std::atomic<int>> holders;
  for (int k = 0; k < kKeys; ++k) holders["k" + std::to_string(k)] = 0;
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  workers.reserve(4);
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = f.queue->get()) {
        if (holders.at(*key).fetch_add(1) != 0) overlap = true;
        std::this_thread::yield();
        holders.at(*key).fetch_sub(1);
        ++processed;
        f.queue->done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) f.queue->add("k" + std::to_string(i % kKeys));
  f.queue->shutDownWithDrain();
  for (auto& w : workers) w.join();
  CHECK_FALSE(overlap);
  CHECK(processed >= kKeys);
  CHECK(processed <= 2000);
}

TEST_CASE("WorkQueue: addAfter delivers the key when the clock reaches the delay, not before",
          "[workqueue]") {
  Fixture f;
  f.queue->addAfter("a", 10s);
  f.executor->advance(9s);
  CHECK(f.queue->len() == 0);
  CHECK(f.queue->delayed() == 1);
  f.executor->advance(1s);
  CHECK(f.queue->len() == 1);
  CHECK(f.queue->delayed() == 0);
  CHECK(f.queue->get() == "a");
}

TEST_CASE("WorkQueue: a key delayed twice keeps the earlier time and is delivered once",
          "[workqueue]") {
  Fixture f;
  f.queue->addAfter("a", 30s);
  f.queue->addAfter("a", 5s);
  f.queue->addAfter("a", 60s);
  f.queue->addAfter("b", 20s);
  f.executor->advance(5s);
  CHECK(f.queue->len() == 1);
  CHECK(f.queue->get() == "a");
  f.queue->done("a");
  f.executor->advance(60s);
  CHECK(f.queue->len() == 1);  // only b; a's later deadlines were superseded
  CHECK(f.queue->get() == "b");
}

TEST_CASE("WorkQueue: a zero delay adds at once and a delayed copy of a queued key is deduped",
          "[workqueue]") {
  Fixture f;
  f.queue->addAfter("a", 0s);
  CHECK(f.queue->len() == 1);
  f.queue->addAfter("a", 1s);
  f.executor->advance(1s);
  CHECK(f.queue->len() == 1);
}

TEST_CASE("WorkQueue: a higher priority is handed out first, first come first served within one",
          "[workqueue][priority]") {
  Fixture f;
  f.queue->add("old-1", workqueue::kLowPriority);
  f.queue->add("old-2", workqueue::kLowPriority);
  f.queue->add("changed");
  f.queue->add("urgent", 10);
  f.queue->add("changed-too");
  CHECK(f.queue->len() == 5);
  CHECK(f.queue->getWithPriority() == std::make_pair(std::string("urgent"), 10));
  CHECK(f.queue->get() == "changed");
  CHECK(f.queue->get() == "changed-too");
  CHECK(f.queue->getWithPriority() == std::make_pair(std::string("old-1"), workqueue::kLowPriority));
  CHECK(f.queue->get() == "old-2");
  CHECK(f.queue->len() == 0);
}

TEST_CASE("WorkQueue: adding a queued key again raises its priority, never lowers it, and hands "
          "it out once",
          "[workqueue][priority]") {
  Fixture f;
  for (auto key : {"a", "b", "c"}) f.queue->add(key, workqueue::kLowPriority);
  f.queue->add("c");                            // raised: goes before a and b
  f.queue->add("a", workqueue::kLowPriority);   // the same: stays where it was
  f.queue->add("c", workqueue::kLowPriority);   // lower: changes nothing
  CHECK(f.queue->len() == 3);
  CHECK(f.queue->get() == "c");
  CHECK(f.queue->get() == "a");
  CHECK(f.queue->get() == "b");
  CHECK(f.queue->len() == 0);
  f.queue->add("d");
  CHECK(f.queue->get() == "d");  // the stale low-priority entry of c is not handed out
  CHECK(f.queue->len() == 0);
}

TEST_CASE("WorkQueue: a key re-added while processing comes back at the highest priority asked",
          "[workqueue][priority]") {
  Fixture f;
  f.queue->add("a", workqueue::kLowPriority);
  f.queue->add("b", workqueue::kLowPriority);
  REQUIRE(f.queue->get() == "a");
  f.queue->add("a", workqueue::kLowPriority);
  f.queue->add("a");
  f.queue->done("a");
  CHECK(f.queue->getWithPriority() == std::make_pair(std::string("a"), workqueue::kNormalPriority));
  CHECK(f.queue->get() == "b");
}

TEST_CASE("WorkQueue: raise() moves a queued key up and leaves keys that are not queued alone",
          "[workqueue][priority]") {
  Fixture f;
  f.queue->add("a", workqueue::kLowPriority);
  f.queue->add("b", workqueue::kLowPriority);
  f.queue->addAfter("backing-off", 5s, workqueue::kLowPriority);
  CHECK(f.queue->raise("b", workqueue::kNormalPriority));
  CHECK_FALSE(f.queue->raise("b", workqueue::kLowPriority));          // never lowers
  CHECK_FALSE(f.queue->raise("absent", workqueue::kNormalPriority));  // not added
  CHECK_FALSE(f.queue->raise("backing-off", workqueue::kNormalPriority));  // keeps its time
  CHECK(f.queue->len() == 2);
  CHECK(f.queue->get() == "b");
  CHECK(f.queue->get() == "a");
  CHECK(f.queue->len() == 0);
  CHECK(f.queue->delayed() == 1);
  // Re-added while processing: raised for when it comes back.
  f.queue->add("a", workqueue::kLowPriority);
  f.queue->add("c", workqueue::kLowPriority);
  CHECK(f.queue->raise("a", workqueue::kNormalPriority));
  f.queue->done("a");
  CHECK(f.queue->get() == "a");
  CHECK(f.queue->get() == "c");
}

TEST_CASE("WorkQueue: a delayed key keeps its priority, and the higher of two delays' priorities",
          "[workqueue][priority]") {
  Fixture f;
  f.queue->addAfter("slow", 5s, workqueue::kLowPriority);
  f.queue->addAfter("raised", 5s, workqueue::kLowPriority);
  f.queue->addAfter("raised", 9s);  // later: the earlier time stays, the priority is raised
  f.queue->add("queued", workqueue::kLowPriority);
  f.executor->advance(5s);
  CHECK(f.queue->len() == 3);
  CHECK(f.queue->getWithPriority() == std::make_pair(std::string("raised"), workqueue::kNormalPriority));
  CHECK(f.queue->get() == "queued");
  CHECK(f.queue->get() == "slow");
  CHECK(f.queue->delayed() == 0);
  f.executor->advance(10s);
  CHECK(f.queue->len() == 0);
}

TEST_CASE("WorkQueue: addRateLimited backs off per key, forget() starts over", "[workqueue]") {
  Fixture f;
  // 5 ms, 10 ms, 20 ms: each retry waits twice as long as the one before.
  f.queue->addRateLimited("a");
  f.executor->advance(4ms, 1ms);
  CHECK(f.queue->len() == 0);
  f.executor->advance(1ms, 1ms);
  CHECK(f.queue->len() == 1);
  f.queue->done(*f.queue->get());
  f.queue->addRateLimited("a");
  f.executor->advance(9ms, 1ms);
  CHECK(f.queue->len() == 0);
  f.executor->advance(1ms, 1ms);
  CHECK(f.queue->len() == 1);
  CHECK(f.queue->numRequeues("a") == 2);
  f.queue->forget("a");
  CHECK(f.queue->numRequeues("a") == 0);
}

TEST_CASE(
    "WorkQueue: shutDown stops accepting keys, hands out what is queued, then get() returns "
    "nullopt",
    "[workqueue]") {
  Fixture f;
  f.queue->add("a");
  f.queue->addAfter("later", 1s);
  f.queue->shutDown();
  f.queue->add("b");
  f.executor->advance(2s);
  CHECK(f.queue->get() == "a");
  CHECK_FALSE(f.queue->get().has_value());
  CHECK(f.queue->shuttingDown());
}

TEST_CASE("WorkQueue: a blocked get() wakes up on shutdown", "[workqueue]") {
  Fixture f;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = f.queue->get(); });
  f.queue->shutDown();
  worker.join();
  CHECK_FALSE(got.has_value());
}

TEST_CASE("WorkQueue: shutDownWithDrain waits until the key in progress is done", "[workqueue]") {
  Fixture f;
  f.queue->add("a");
  REQUIRE(f.queue->get() == "a");
  std::atomic<bool> drained{false};
  std::thread stopper([&] {
    f.queue->shutDownWithDrain();
    drained = true;
  });
  // The drain cannot finish while "a" is held: observe that it is still waiting on the queue,
  // then release it.
  while (!f.queue->shuttingDown()) std::this_thread::yield();
  CHECK_FALSE(drained);
  f.queue->done("a");
  stopper.join();
  CHECK(drained);
}

TEST_CASE("WorkQueue: workqueue_* metrics use controller-runtime's names with the name label",
          "[workqueue][metrics]") {
  Fixture f(/*withMetrics=*/true);
  auto& r = f.registry;
  // Pre-initialised at zero before any add.
  CHECK(rio::testing::sampleValue(r, R"(workqueue_depth{name="test"})") == 0);
  CHECK(rio::testing::sampleValue(r, R"(workqueue_adds_total{name="test"})") == 0);
  CHECK(rio::testing::sampleValue(r, R"(workqueue_retries_total{name="test"})") == 0);

  f.queue->add("a");
  f.queue->add("a");
  f.queue->add("b");
  CHECK(rio::testing::sampleValue(r, R"(workqueue_depth{name="test"})") == 2);
  CHECK(rio::testing::sampleValue(r, R"(workqueue_adds_total{name="test"})") == 2);

  f.executor->fakeClock().advance(3s);
  auto a = f.queue->get();
  CHECK(rio::testing::sampleValue(r, R"(workqueue_depth{name="test"})") == 1);
  CHECK(rio::testing::sampleValue(r, R"(workqueue_queue_duration_seconds_sum{name="test"})") ==
        Approx(3.0));

  f.executor->advance(2s, 500ms);  // the periodic refresh sees "a" in progress for 2 s
  CHECK(rio::testing::sampleValue(r, R"(workqueue_unfinished_work_seconds{name="test"})") ==
        Approx(2.0));
  CHECK(rio::testing::sampleValue(
            r, R"(workqueue_longest_running_processor_seconds{name="test"})") == Approx(2.0));
  f.queue->done(*a);
  CHECK(rio::testing::sampleValue(r, R"(workqueue_work_duration_seconds_count{name="test"})") == 1);
  CHECK(rio::testing::sampleValue(r, R"(workqueue_work_duration_seconds_sum{name="test"})") ==
        Approx(2.0));

  f.queue->addRateLimited("c");
  CHECK(rio::testing::sampleValue(r, R"(workqueue_retries_total{name="test"})") == 1);
  f.executor->advance(1s, 500ms);
  CHECK(rio::testing::sampleValue(r, R"(workqueue_unfinished_work_seconds{name="test"})") == 0);
}
