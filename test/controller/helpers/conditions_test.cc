#include "controller/helpers/conditions.h"

#include <catch2/catch.hpp>

#include "controller/helpers/time_format.h"
#include "test/support/fake_clock.h"
#include "test/support/fake_transport.h"

using namespace rio;
using namespace std::chrono_literals;
using rio::testing::FakeTransport;
using Json = nlohmann::json;

namespace {

meta::Condition cond(std::string type, meta::ConditionStatus status, std::string reason,
                     std::string message, std::int64_t generation) {
  meta::Condition c;
  c.type = std::move(type);
  c.status = status;
  c.reason = std::move(reason);
  c.message = std::move(message);
  c.observedGeneration = generation;
  return c;
}

using meta::ConditionStatus;

}  // namespace

TEST_CASE("Conditions: a new condition is appended with lastTransitionTime and observedGeneration",
          "[helpers]") {
  testing::FakeClock clock;
  Json status{{"phase", "Pending"}};
  CHECK(helpers::setStatusCondition(
      status, cond("Ready", ConditionStatus::kFalse, "Pending", "waiting", 3), clock.wallNow()));
  REQUIRE(status["conditions"].size() == 1);
  CHECK(status["conditions"][0] ==
        Json{{"type", "Ready"},
             {"status", "False"},
             {"observedGeneration", 3},
             {"lastTransitionTime", helpers::formatTime(clock.wallNow())},
             {"reason", "Pending"},
             {"message", "waiting"}});
  CHECK(status["phase"] == "Pending");
}

TEST_CASE(
    "Conditions: lastTransitionTime moves only when the status flips, other conditions "
    "stay as they are",
    "[helpers]") {
  testing::FakeClock clock;
  Json status{{"conditions", {{{"type", "Other"}, {"status", "True"}, {"custom", 1}}}}};
  helpers::setStatusCondition(
      status, cond("Ready", ConditionStatus::kFalse, "Pending", "waiting", 1), clock.wallNow());
  auto ready = [&] { return status["conditions"][1]; };
  const Json first = ready()["lastTransitionTime"];

  clock.advance(1min);
  CHECK_FALSE(helpers::setStatusCondition(
      status, cond("Ready", ConditionStatus::kFalse, "Pending", "waiting", 1), clock.wallNow()));
  CHECK(helpers::setStatusCondition(
      status, cond("Ready", ConditionStatus::kFalse, "Unreachable", "no route", 2),
      clock.wallNow()));
  CHECK(ready()["lastTransitionTime"] == first);
  CHECK(ready()["reason"] == "Unreachable");
  CHECK(ready()["observedGeneration"] == 2);

  clock.advance(1min);
  CHECK(helpers::setStatusCondition(
      status, cond("Ready", ConditionStatus::kTrue, "Joined", "ok", 2), clock.wallNow()));
  CHECK(ready()["status"] == "True");
  CHECK(ready()["lastTransitionTime"] == helpers::formatTime(clock.wallNow()));
  CHECK(status["conditions"][0] == Json{{"type", "Other"}, {"status", "True"}, {"custom", 1}});
  CHECK(status["conditions"].size() == 2);
}

TEST_CASE(
    "Conditions: a status equal to the live one is not written, a changed one is patched "
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
