#include "controller/events/event_recorder.h"

#include <prometheus/registry.h>
#include <catch2/catch.hpp>

#include "controller/helpers/time_format.h"
#include "test/controller/runtime/fake_executor.h"
#include "test/controller/runtime/metrics_text.h"
#include "test/support/fake_transport.h"

using namespace rio;
using namespace rio::events;
using namespace std::chrono_literals;
using rio::testing::FakeExecutor;
using rio::testing::FakeTransport;
using Json = nlohmann::json;

namespace {

struct Fixture {
  std::shared_ptr<FakeExecutor> executor = std::make_shared<FakeExecutor>();
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  prometheus::Registry registry;
  BroadcasterPtr broadcaster;
  EventRecorderPtr recorder;

  explicit Fixture(BroadcasterOptions options = {}) {
    // The server answers every write with what it was sent.
    transport->setResponder([](const http::Request& r) -> Expected<http::Response> {
      return http::Response{r.method == "POST" ? 201 : 200, {}, r.body.empty() ? "{}" : r.body};
    });
    kube::RestConfig config;
    config.server = "https://fake.example:6443";
    kube::ClientOptions co;
    co.clock = executor->clock();
    co.retry.maxRetries = 0;
    co.sleep = [](std::chrono::nanoseconds) {};
    options.instance = "op-1";
    options.registry = &registry;
    broadcaster = Broadcaster::create(kube::makeClient(transport, config, co), executor, options);
    recorder = broadcaster->recorderFor("remote-istio-operator");
  }
  ~Fixture() {
    broadcaster->stop();
    executor->shutdown();
  }

  static Json widget(const std::string& name = "w1") {
    return {
        {"apiVersion", "example.com/v1"},
        {"kind", "Widget"},
        {"metadata",
         {{"name", name}, {"namespace", "demo"}, {"uid", "uid-" + name}, {"resourceVersion", "5"}}},
        {"spec", {{"token", "s3cr3t"}}}};
  }
  void record(const std::string& message, const std::string& name = "w1",
              const std::string& reason = "Synced") {
    recorder->event(widget(name), kWidgets, EventType::kNormal, reason, message);
  }
  std::vector<http::Request> requests() const { return transport->requests(); }

  static inline const kube::Resource kWidgets{"example.com", "v1", "widgets", "Widget", true};
};

}  // namespace

TEST_CASE("EventRecorder: event() returns at once and the core/v1 Event is written later",
          "[events]") {
  Fixture f;
  f.record("remote secret written");
  CHECK(f.requests().empty());  // nothing on the caller's thread
  CHECK(f.broadcaster->pending() == 1);
  f.executor->runReady();

  REQUIRE(f.requests().size() == 1);
  auto req = f.requests()[0];
  CHECK(req.method == "POST");
  CHECK(req.target == "/api/v1/namespaces/demo/events");
  Json e = Json::parse(req.body);
  CHECK(e["apiVersion"] == "v1");
  CHECK(e["kind"] == "Event");
  CHECK(e["metadata"]["namespace"] == "demo");
  CHECK_THAT(e["metadata"]["name"].get<std::string>(), Catch::StartsWith("w1."));
  CHECK(e["involvedObject"] == Json{{"apiVersion", "example.com/v1"},
                                    {"kind", "Widget"},
                                    {"namespace", "demo"},
                                    {"name", "w1"},
                                    {"uid", "uid-w1"},
                                    {"resourceVersion", "5"}});
  CHECK(e["type"] == "Normal");
  CHECK(e["reason"] == "Synced");
  CHECK(e["message"] == "remote secret written");
  CHECK(e["count"] == 1);
  CHECK(e["firstTimestamp"] == helpers::formatTime(f.executor->clock()->wallNow()));
  CHECK(e["lastTimestamp"] == e["firstTimestamp"]);
  CHECK(e["source"] == Json{{"component", "remote-istio-operator"}, {"host", "op-1"}});
  CHECK(e["reportingComponent"] == "remote-istio-operator");
  CHECK(e["reportingInstance"] == "op-1");
  // Only the given strings: nothing else of the object (its spec) is serialised.
  CHECK(req.body.find("s3cr3t") == std::string::npos);
  CHECK(f.broadcaster->stats().created == 1);
  CHECK(testing::sampleValue(f.registry, R"(event_recorder_events_total{result="created"})") == 1);
}

TEST_CASE(
    "EventRecorder: a repeated event is one PATCH of count 2 and lastTimestamp, not a new "
    "Event",
    "[events]") {
  Fixture f;
  f.record("cluster unreachable");
  f.executor->runReady();
  std::string name = Json::parse(f.requests()[0].body)["metadata"]["name"];
  std::string first = Json::parse(f.requests()[0].body)["firstTimestamp"];

  f.executor->fakeClock().advance(90s);
  f.record("cluster unreachable");
  f.executor->runReady();
  REQUIRE(f.requests().size() == 2);
  auto req = f.requests()[1];
  CHECK(req.method == "PATCH");
  CHECK(req.target == "/api/v1/namespaces/demo/events/" + name);
  CHECK(http::findHeader(req.headers, "Content-Type") == "application/merge-patch+json");
  CHECK(Json::parse(req.body) ==
        Json{{"count", 2},
             {"lastTimestamp", helpers::formatTime(f.executor->clock()->wallNow())},
             {"message", "cluster unreachable"}});
  CHECK(helpers::formatTime(f.executor->clock()->wallNow()) != first);
  CHECK(f.broadcaster->stats().patched == 1);

  f.record("cluster unreachable");
  f.executor->runReady();
  CHECK(Json::parse(f.requests()[2].body)["count"] == 3);
  // A different message is a different Event.
  f.record("cluster reachable again");
  f.executor->runReady();
  CHECK(f.requests()[3].method == "POST");
}

TEST_CASE(
    "EventRecorder: a patched Event that was deleted meanwhile is created again with its "
    "count",
    "[events]") {
  Fixture f;
  f.record("x");
  f.executor->runReady();
  f.transport->enqueue(
      404,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"gone"})");
  f.record("x");
  f.executor->runReady();
  auto reqs = f.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[1].method == "PATCH");
  CHECK(reqs[2].method == "POST");
  CHECK(Json::parse(reqs[2].body)["count"] == 2);
}

TEST_CASE(
    "EventRecorder: each object may burst 25 events, then one more per 5 minutes, the rest "
    "are dropped and counted",
    "[events]") {
  Fixture f;
  for (int i = 0; i < 30; ++i) f.record("same");
  f.executor->runReady();
  CHECK(f.requests().size() == 25);  // 1 create + 24 count patches
  CHECK(f.broadcaster->stats().droppedRateLimited == 5);
  CHECK(testing::sampleValue(f.registry,
                             R"(event_recorder_events_total{result="dropped_rate_limited"})") == 5);

  f.record("other object", "w2");  // another object has its own bucket
  f.executor->runReady();
  CHECK(f.requests().size() == 26);

  f.executor->fakeClock().advance(299s);
  f.record("same");
  f.executor->runReady();
  CHECK(f.requests().size() == 26);
  f.executor->fakeClock().advance(1s);
  f.record("same");
  f.executor->runReady();
  CHECK(f.requests().size() == 27);
  CHECK(Json::parse(f.requests().back().body)["count"] == 26);
}

TEST_CASE("EventRecorder: similar events (same reason, different messages) are combined after 10",
          "[events]") {
  Fixture f;
  for (int i = 1; i <= 9; ++i) f.record("attempt " + std::to_string(i) + " failed");
  f.executor->runReady();
  CHECK(f.requests().size() == 9);
  for (const auto& r : f.requests()) CHECK(r.method == "POST");

  f.record("attempt 10 failed");
  f.executor->runReady();
  Json combined = Json::parse(f.requests().at(9).body);
  CHECK(f.requests()[9].method == "POST");
  CHECK(combined["message"] == "(combined from similar events): attempt 10 failed");

  f.record("attempt 11 failed");
  f.executor->runReady();
  auto req = f.requests().at(10);
  CHECK(req.method == "PATCH");
  CHECK(req.target ==
        "/api/v1/namespaces/demo/events/" + combined["metadata"]["name"].get<std::string>());
  CHECK(Json::parse(req.body)["count"] == 2);
  CHECK(Json::parse(req.body)["message"] == "(combined from similar events): attempt 11 failed");

  // Another reason is not combined with these.
  f.record("attempt 12 failed", "w1", "OtherReason");
  f.executor->runReady();
  CHECK(Json::parse(f.requests().at(11).body)["message"] == "attempt 12 failed");
}

TEST_CASE("EventRecorder: the queue is bounded and what does not fit is dropped and counted",
          "[events]") {
  BroadcasterOptions o;
  o.queueCapacity = 3;
  Fixture f(o);
  for (int i = 0; i < 5; ++i) f.record("m" + std::to_string(i), "w" + std::to_string(i));
  CHECK(f.broadcaster->pending() == 3);
  CHECK(f.broadcaster->stats().droppedQueueFull == 2);
  CHECK(testing::sampleValue(f.registry,
                             R"(event_recorder_events_total{result="dropped_queue_full"})") == 2);
  f.executor->runReady();
  CHECK(f.requests().size() == 3);
  CHECK(f.broadcaster->pending() == 0);
}

TEST_CASE(
    "EventRecorder: a retryable failure is written later, a refused one is dropped and "
    "counted",
    "[events]") {
  Fixture f;
  f.transport->enqueue(
      503,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServiceUnavailable","code":503,"message":"busy"})");
  f.record("a");
  f.executor->runReady();
  CHECK(f.requests().size() == 1);
  CHECK(f.broadcaster->pending() == 1);  // waiting for its retry
  f.executor->advance(10s);
  CHECK(f.requests().size() == 2);
  CHECK(f.broadcaster->stats().created == 1);

  f.transport->enqueue(
      403,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"events is forbidden"})");
  f.record("b", "w2");
  f.executor->runReady();
  f.executor->advance(60s);
  CHECK(f.requests().size() == 3);
  CHECK(f.broadcaster->stats().failed == 1);
}

TEST_CASE(
    "EventRecorder: messages are capped, cluster-scoped objects report to default, and "
    "Warning is kept",
    "[events]") {
  Fixture f;
  f.recorder->event(Json{{"metadata", {{"name", "node-1"}}}}, kube::resources::kNodes,
                    EventType::kWarning, "NotReady", std::string(5000, 'x'));
  f.executor->runReady();
  auto req = f.requests().at(0);
  CHECK(req.target == "/api/v1/namespaces/default/events");
  Json e = Json::parse(req.body);
  CHECK(e["message"].get<std::string>().size() == 1024);
  CHECK(e["type"] == "Warning");
  CHECK(e["involvedObject"] == Json{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "node-1"}});
}

TEST_CASE("EventRecorder: after stop nothing more is written", "[events]") {
  Fixture f;
  f.record("queued");
  f.broadcaster->stop();
  f.record("after");
  f.executor->runReady();
  CHECK(f.requests().empty());
}
