#include "controller/helpers/conditions.h"

#include <catch2/catch.hpp>

#include "controller/helpers/time_format.h"
#include "test/support/fake_clock.h"
#include "test/support/fake_transport.h"

using namespace rio;
using namespace std::chrono_literals;
using rio::testing::FakeTransport;
using Json = nlohmann::json;

TEST_CASE("Conditions: a new condition is appended with lastTransitionTime and observedGeneration",
          "[helpers]") {
  testing::FakeClock clock;
  Json conditions;  // null: no list yet
  CHECK(helpers::setCondition(conditions, {"Ready", "False", "Pending", "waiting", 3}, clock.wallNow()));
  REQUIRE(conditions.size() == 1);
  CHECK(conditions[0] == Json{{"type", "Ready"},
                              {"status", "False"},
                              {"observedGeneration", 3},
                              {"lastTransitionTime", helpers::formatTime(clock.wallNow())},
                              {"reason", "Pending"},
                              {"message", "waiting"}});
}

TEST_CASE("Conditions: lastTransitionTime moves only when the status flips", "[helpers]") {
  testing::FakeClock clock;
  Json conditions;
  helpers::setCondition(conditions, {"Ready", "False", "Pending", "waiting", 1}, clock.wallNow());
  const Json first = conditions[0]["lastTransitionTime"];

  clock.advance(1min);
  CHECK_FALSE(helpers::setCondition(conditions, {"Ready", "False", "Pending", "waiting", 1}, clock.wallNow()));
  CHECK(helpers::setCondition(conditions, {"Ready", "False", "Unreachable", "no route", 2}, clock.wallNow()));
  CHECK(conditions[0]["lastTransitionTime"] == first);
  CHECK(conditions[0]["reason"] == "Unreachable");
  CHECK(conditions[0]["observedGeneration"] == 2);

  clock.advance(1min);
  CHECK(helpers::setCondition(conditions, {"Ready", "True", "Joined", "ok", 2}, clock.wallNow()));
  CHECK(conditions[0]["lastTransitionTime"] == helpers::formatTime(clock.wallNow()));
  CHECK(helpers::isConditionTrue(conditions, "Ready"));
  CHECK(conditions.size() == 1);
  CHECK(helpers::removeCondition(conditions, "Ready"));
  CHECK(helpers::findCondition(conditions, "Ready") == nullptr);
}

TEST_CASE("Conditions: a status equal to the live one is not written, a changed one is patched "
          "with the resourceVersion",
          "[helpers]") {
  auto transport = std::make_shared<FakeTransport>();
  kube::RestConfig config;
  config.server = "https://fake.example:6443";
  auto client = kube::makeClient(transport, config);
  const kube::Resource kWidgets{"example.com", "v1", "widgets", "Widget", true};
  Json live{{"metadata", {{"name", "w"}, {"namespace", "demo"}, {"resourceVersion", "42"}}},
            {"status", {{"phase", "Ready"}, {"old", 1}}}};

  auto same = helpers::updateStatusIfChanged(*client, kWidgets, live, live["status"]);
  REQUIRE(same);
  CHECK_FALSE(*same);
  CHECK(transport->requests().empty());

  transport->enqueue(200, live.dump());
  auto changed = helpers::updateStatusIfChanged(*client, kWidgets, live, {{"phase", "Failed"}});
  REQUIRE(changed);
  CHECK(*changed);
  REQUIRE(transport->requests().size() == 1);
  auto req = transport->requests()[0];
  CHECK(req.method == "PATCH");
  CHECK(req.target == "/apis/example.com/v1/namespaces/demo/widgets/w/status");
  CHECK(http::findHeader(req.headers, "Content-Type") == "application/merge-patch+json");
  CHECK(Json::parse(req.body) == Json{{"metadata", {{"resourceVersion", "42"}}},
                                      {"status", {{"phase", "Failed"}, {"old", nullptr}}}});
}
