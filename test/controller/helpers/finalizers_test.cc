#include "controller/helpers/finalizers.h"

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

Json object(Json finalizers) {
  Json o{{"apiVersion", "v1"},
         {"kind", "ConfigMap"},
         {"metadata", {{"name", "c1"}, {"namespace", "demo"}, {"resourceVersion", "7"}}}};
  if (!finalizers.is_null()) o["metadata"]["finalizers"] = finalizers;
  return o;
}

const std::string kMine = "rio.example.com/cleanup";

}  // namespace

TEST_CASE("Finalizers: adding one to a list tests the list as seen, then appends", "[helpers]") {
  Fixture f;
  Json live = object({"other.example.com/x"});
  f.transport->enqueue(200, object({"other.example.com/x", kMine}).dump());
  auto r = helpers::addFinalizer(*f.client, kube::resources::kConfigMaps, live, kMine);
  REQUIRE(r);
  // The object as the server answered, so the caller can go on without a GET.
  REQUIRE(r->has_value());
  CHECK(**r == object({"other.example.com/x", kMine}));
  CHECK(f.transport->requests().size() == 1);
  auto req = f.transport->requests().at(0);
  CHECK(req.method == "PATCH");
  CHECK(req.target == "/api/v1/namespaces/demo/configmaps/c1");
  CHECK(http::findHeader(req.headers, "Content-Type") == "application/json-patch+json");
  CHECK(Json::parse(req.body) == Json::parse(R"([
    {"op":"test","path":"/metadata/finalizers","value":["other.example.com/x"]},
    {"op":"add","path":"/metadata/finalizers/-","value":"rio.example.com/cleanup"}])"));
}

TEST_CASE(
    "Finalizers: adding to an object without finalizers tests its resourceVersion, then "
    "sets the list",
    "[helpers]") {
  CHECK(helpers::addFinalizerPatch(object(nullptr), kMine) == Json::parse(R"([
    {"op":"test","path":"/metadata/resourceVersion","value":"7"},
    {"op":"add","path":"/metadata/finalizers","value":["rio.example.com/cleanup"]}])"));
  Json noVersion = object(nullptr);
  noVersion["metadata"].erase("resourceVersion");
  CHECK(helpers::addFinalizerPatch(noVersion, kMine) == Json::parse(R"([
    {"op":"test","path":"/metadata/finalizers","value":null},
    {"op":"add","path":"/metadata/finalizers","value":["rio.example.com/cleanup"]}])"));
  CHECK(helpers::addFinalizerPatch(object(Json::array()), kMine) == Json::parse(R"([
    {"op":"test","path":"/metadata/finalizers","value":[]},
    {"op":"add","path":"/metadata/finalizers","value":["rio.example.com/cleanup"]}])"));
}

TEST_CASE("Finalizers: nothing is sent when the finalizer is already there or already gone",
          "[helpers]") {
  Fixture f;
  auto added =
      helpers::addFinalizer(*f.client, kube::resources::kConfigMaps, object({kMine}), kMine);
  REQUIRE(added);
  CHECK_FALSE(added->has_value());
  auto removed = helpers::removeFinalizer(*f.client, kube::resources::kConfigMaps,
                                          object({"other.example.com/x"}), kMine);
  REQUIRE(removed);
  CHECK_FALSE(*removed);
  CHECK(f.transport->requests().empty());
}

TEST_CASE("Finalizers: removing one tests the list and removes only its index", "[helpers]") {
  Json patch =
      helpers::removeFinalizerPatch(object({"a.example.com/x", kMine, "b.example.com/y"}), kMine);
  CHECK(patch == Json::parse(R"([
    {"op":"test","path":"/metadata/finalizers","value":["a.example.com/x","rio.example.com/cleanup","b.example.com/y"]},
    {"op":"remove","path":"/metadata/finalizers/1"}])"));
  // Applying it to what was seen removes ours and keeps the others.
  Json seen = object({"a.example.com/x", kMine, "b.example.com/y"});
  CHECK(seen.patch(patch)["metadata"]["finalizers"] ==
        Json({"a.example.com/x", "b.example.com/y"}));
}

TEST_CASE("Finalizers: a lost race is the server's 422 (failed test op), reported for a retry",
          "[helpers]") {
  Fixture f;
  f.transport->enqueue(422, testing::fixtureResponseBody("cm-json-patch-test-failed-422.txt"));
  auto r =
      helpers::removeFinalizer(*f.client, kube::resources::kConfigMaps, object({kMine}), kMine);
  REQUIRE_FALSE(r);
  CHECK(r.error().isInvalid());
  CHECK(helpers::isFinalizerRace(r.error()));
  CHECK_THAT(r.error().message(), Catch::StartsWith("remove finalizer rio.example.com/cleanup"));
  CHECK(f.transport->requests().size() == 1);  // a PATCH is never retried by the client
}
