#include "controller/helpers/apply.h"

#include <catch2/catch.hpp>

#include "test/controller/helpers/fixture_body.h"
#include "test/support/fake_transport.h"

using namespace rio;
using rio::testing::FakeTransport;
using Json = nlohmann::json;

namespace {

struct Fixture {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  kube::ClientPtr client;
  Fixture() {
    kube::RestConfig config;
    config.server = "https://fake.example:6443";
    kube::ClientOptions co;
    co.sleep = [](std::chrono::nanoseconds) {};
    client = kube::makeClient(transport, config, co);
  }
};

const Json kDesired = Json::parse(R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "injector", "namespace": "istio-system", "labels": {"app": "injector"}},
  "spec": {"replicas": 2, "template": {"spec": {"containers": [
    {"name": "injector", "image": "hub/sidecar_injector:1.0", "args": ["--port", "9443"]}]}}}})");

// What the server returns: defaults everywhere, including inside the list item; no
// apiVersion/kind (as items of a LIST, the way the cache holds them).
Json liveWithDefaults() {
  Json live = kDesired;
  live.erase("apiVersion");
  live.erase("kind");
  live["metadata"]["resourceVersion"] = "900";
  live["metadata"]["uid"] = "u-1";
  live["metadata"]["labels"]["extra"] = "by-someone-else";
  live["spec"]["strategy"] = {{"type", "RollingUpdate"}};
  auto& c = live["spec"]["template"]["spec"]["containers"][0];
  c["terminationMessagePath"] = "/dev/termination-log";
  c["imagePullPolicy"] = "IfNotPresent";
  live["status"] = {{"replicas", 2}};
  return live;
}

}  // namespace

TEST_CASE("Apply: a live object that already has every desired field sends nothing", "[helpers]") {
  Fixture f;
  Json live = liveWithDefaults();
  auto r = helpers::applyObject(*f.client, kube::resources::kDeployments, kDesired, "rio", &live);
  REQUIRE(r);
  CHECK(r->result == helpers::ApplyResult::kUnchanged);
  CHECK(r->object == live);
  CHECK(f.transport->requests().empty());
}

TEST_CASE("Apply: a changed field is one apply PATCH with the field manager and no force",
          "[helpers]") {
  Fixture f;
  Json live = liveWithDefaults();
  live["spec"]["template"]["spec"]["containers"][0]["image"] = "hub/sidecar_injector:0.9";
  f.transport->enqueue(200, kDesired.dump());
  auto r = helpers::applyObject(*f.client, kube::resources::kDeployments, kDesired, "rio", &live);
  REQUIRE(r);
  CHECK(r->result == helpers::ApplyResult::kUpdated);
  REQUIRE(f.transport->requests().size() == 1);
  auto req = f.transport->requests()[0];
  CHECK(req.method == "PATCH");
  CHECK(req.target.rfind("/apis/apps/v1/namespaces/istio-system/deployments/injector?", 0) == 0);
  CHECK_THAT(req.target, Catch::Contains("fieldManager=rio"));
  CHECK_THAT(req.target, !Catch::Contains("force"));
  CHECK(http::findHeader(req.headers, "Content-Type") == "application/apply-patch+yaml");
  CHECK(Json::parse(req.body) == kDesired);
}

TEST_CASE("Apply: without a live object it reads first, and reports Created when it was absent",
          "[helpers]") {
  Fixture f;
  f.transport->enqueue(
      404,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"not found"})");
  f.transport->enqueue(201, kDesired.dump());
  auto r = helpers::applyObject(*f.client, kube::resources::kDeployments, kDesired, "rio", nullptr);
  REQUIRE(r);
  CHECK(r->result == helpers::ApplyResult::kCreated);
  auto reqs = f.transport->requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "GET");
  CHECK(reqs[1].method == "PATCH");

  // Found and equal: the read is all.
  f.transport->enqueue(200, liveWithDefaults().dump());
  auto again =
      helpers::applyObject(*f.client, kube::resources::kDeployments, kDesired, "rio", nullptr);
  REQUIRE(again);
  CHECK(again->result == helpers::ApplyResult::kUnchanged);
  CHECK(f.transport->requests().size() == 3);
}

TEST_CASE("Apply: an object known to be absent is one apply PATCH, no read first", "[helpers]") {
  Fixture f;
  f.transport->enqueue(201, kDesired.dump());
  auto r = helpers::applyAbsent(*f.client, kube::resources::kDeployments, kDesired, "rio");
  REQUIRE(r);
  CHECK(r->result == helpers::ApplyResult::kCreated);
  CHECK(r->object == kDesired);
  auto reqs = f.transport->requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "PATCH");
  CHECK(reqs[0].target.find("fieldManager=rio") != std::string::npos);
  CHECK(reqs[0].target.find("force=true") == std::string::npos);

  // A refusal is the client's error, as for applyObject.
  f.transport->enqueue(
      409,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409,"message":"Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"})");
  auto refused = helpers::applyAbsent(*f.client, kube::resources::kDeployments, kDesired, "rio");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().isConflict());
}

TEST_CASE("Apply: a field owned by another manager comes back as a conflict naming it",
          "[helpers]") {
  Fixture f;
  Json desired{{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", "c1"}, {"namespace", "demo"}}},
               {"data", {{"k", "z"}}}};
  Json live = desired;
  live["data"]["k"] = "y";
  f.transport->enqueue(409, testing::fixtureResponseBody("cm-apply-conflict-409.txt"));
  auto r = helpers::applyObject(*f.client, kube::resources::kConfigMaps, desired, "op", &live);
  REQUIRE_FALSE(r);
  CHECK(r.error().isConflict());
  CHECK_THAT(r.error().message(), Catch::StartsWith("apply ConfigMap demo/c1: "));
  CHECK(helpers::conflictFields(r.error()) ==
        std::vector<std::string>{".data.k (conflict with \"curl\" using v1)"});
  CHECK(f.transport->requests().size() == 1);
}

TEST_CASE("Apply: the subset comparison goes by key in maps and by position in lists",
          "[helpers]") {
  using helpers::isSubset;
  CHECK(isSubset(Json::parse(R"({"a":{"b":1}})"), Json::parse(R"({"a":{"b":1.0,"c":2},"d":3})")));
  CHECK_FALSE(isSubset(Json::parse(R"({"a":{"b":1}})"), Json::parse(R"({"a":{"b":2}})")));
  CHECK(isSubset(Json::parse(R"([{"n":"x"}])"), Json::parse(R"([{"n":"x","default":true}])")));
  CHECK_FALSE(isSubset(Json::parse(R"([{"n":"x"}])"), Json::parse(R"([{"n":"x"},{"n":"y"}])")));
  CHECK_FALSE(isSubset(Json::parse(R"(["a","b"])"), Json::parse(R"(["b","a"])")));
  CHECK(isSubset(Json::parse(R"({"gone":null})"), Json::parse(R"({})")));
  CHECK_FALSE(isSubset(Json::parse(R"({"gone":null})"), Json::parse(R"({"gone":1})")));
  CHECK_FALSE(isSubset(Json::parse(R"({"a":"1"})"), Json::parse(R"({"a":1})")));
}
