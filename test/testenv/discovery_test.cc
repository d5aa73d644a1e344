// Discovery documents, compared with kube-apiserver 1.32's for the resources kube-testenv serves.
#include "test/testenv/discovery.h"

#include <catch2/catch.hpp>

#include "test/testenv/testing/harness.h"

using namespace rio;
using namespace rio::testenv;
using namespace rio::testenv::testing;

namespace {

const char kAggregatedAccept[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/"
    "json;g=apidiscovery.k8s.io;"
    "v=v2beta1;as=APIGroupDiscoveryList,application/json";

nlohmann::json entry(const nlohmann::json& list, const std::string& name) {
  for (const auto& r : list["resources"]) {
    if (r["name"] == name) return r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("Discovery: /version reports the configured gitVersion in the recorded shape",
          "[testenv][discovery]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.gitVersion = "v1.29.7";
  Harness h(o);
  auto r = h.get("/version");
  REQUIRE(r.status == 200);
  CHECK(r.body["gitVersion"] == "v1.29.7");
  CHECK(r.body["major"] == "1");
  CHECK(r.body["minor"] == "29");
  nlohmann::json recorded = recordedJson("version.txt");
  for (auto it = recorded.begin(); it != recorded.end(); ++it) {
    INFO(it.key());
    CHECK(r.body.contains(it.key()));
  }
  CHECK(r.body.size() == recorded.size());
}

TEST_CASE("Discovery: /api, /api/v1 and group resource lists match the recorded entries",
          "[testenv][discovery]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.serverAddress = "127.0.0.1:43443";
  Harness h(o);
  CHECK(h.get("/api").body == recordedJson("discovery-api-legacy.txt"));
  auto v1 = h.get("/api/v1").body;
  auto want = recordedJson("discovery-api-v1.txt");
  CHECK(v1["kind"] == want["kind"]);
  CHECK(v1["groupVersion"] == want["groupVersion"]);
  CHECK_FALSE(v1.contains("apiVersion"));
  for (const char* name :
       {"configmaps", "endpoints", "events", "namespaces", "namespaces/finalize",
        "namespaces/status", "nodes", "nodes/status", "pods", "pods/status", "secrets",
        "serviceaccounts", "serviceaccounts/token", "services", "services/status"}) {
    INFO(name);
    CHECK(entry(v1, name) == entry(want, name));
  }
  struct Group {
    std::string path, fixture;
    std::vector<std::string> names;
  };
  std::vector<Group> groups = {
      {"/apis/apps/v1",
       "discovery-apps_v1.txt",
       {"deployments", "deployments/scale", "deployments/status"}},
      {"/apis/coordination.k8s.io/v1", "discovery-coordination.k8s.io_v1.txt", {"leases"}},
      {"/apis/rbac.authorization.k8s.io/v1",
       "discovery-rbac.authorization.k8s.io_v1.txt",
       {"clusterrolebindings", "clusterroles", "rolebindings", "roles"}},
      {"/apis/admissionregistration.k8s.io/v1",
       "discovery-admissionregistration.k8s.io_v1.txt",
       {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}},
      {"/apis/apiextensions.k8s.io/v1",
       "discovery-apiextensions.k8s.io_v1.txt",
       {"customresourcedefinitions", "customresourcedefinitions/status"}},
      {"/apis/events.k8s.io/v1", "discovery-events.k8s.io_v1.txt", {"events"}},
      {"/apis/discovery.k8s.io/v1", "discovery-discovery.k8s.io_v1.txt", {"endpointslices"}},
      {"/apis/authorization.k8s.io/v1",
       "discovery-authorization.k8s.io_v1.txt",
       {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "subjectaccessreviews"}},
      {"/apis/authentication.k8s.io/v1",
       "discovery-authentication.k8s.io_v1.txt",
       {"selfsubjectreviews", "tokenreviews"}},
  };
  for (const auto& g : groups) {
    auto got = h.get(g.path).body;
    auto rec = recordedJson(g.fixture);
    CHECK(got["kind"] == "APIResourceList");
    CHECK(got["apiVersion"] == "v1");
    CHECK(got["groupVersion"] == rec["groupVersion"]);
    for (const auto& name : g.names) {
      INFO(g.path << " " << name);
      CHECK(entry(got, name) == entry(rec, name));
    }
  }
}

TEST_CASE("Discovery: /apis lists served groups as recorded and /apis/<group> answers APIGroup",
          "[testenv][discovery]") {
  Harness h;
  auto apis = h.get("/apis").body;
  auto want = recordedJson("discovery-apis-legacy.txt");
  CHECK(apis["kind"] == "APIGroupList");
  CHECK(apis["apiVersion"] == "v1");
  std::map<std::string, nlohmann::json> recorded;
  for (const auto& g : want["groups"]) recorded[g["name"]] = g;
  REQUIRE(apis["groups"].size() == 9);
  for (const auto& g : apis["groups"]) {
    INFO(g["name"]);
    CHECK(g == recorded[g["name"]]);
  }
  auto apps = h.get("/apis/apps");
  CHECK(apps.body["kind"] == "APIGroup");
  CHECK(apps.body["preferredVersion"]["groupVersion"] == "apps/v1");
  CHECK(h.get("/apis/nope.io").status == 404);
}

TEST_CASE("Discovery: an established CRD's versions appear in discovery as recorded",
          "[testenv][discovery][crd]") {
  Harness h;
  REQUIRE(h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                 recordedRequest("crd-create.txt"))
              .status == 201);
  h.world.scheduler->runDue();
  CHECK(h.get("/apis/example.com/v1").body == recordedJson("discovery-example.com_v1.txt"));
  bool listed = false;
  auto groups = h.get("/apis").body["groups"];
  for (const auto& g : groups) {
    if (g["name"] == "example.com") listed = g["preferredVersion"]["version"] == "v1";
  }
  CHECK(listed);
}

TEST_CASE("Discovery: aggregated discovery answers kubectl's Accept with the v2 document",
          "[testenv][discovery]") {
  Harness h;
  auto apis = h.call("GET", "/apis", {}, {}, "admin-token", {{"Accept", kAggregatedAccept}});
  REQUIRE(apis.status == 200);
  CHECK(apis.header("Content-Type") ==
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  auto want = recordedJson("discovery-apis-aggregated.txt");
  std::map<std::string, nlohmann::json> recorded;
  for (const auto& g : want["items"]) {
    for (const auto& r : g["versions"][0]["resources"])
      recorded[g["metadata"]["name"].get<std::string>() + "/" + r["resource"].get<std::string>()] =
          r;
  }
  int compared = 0;
  for (const auto& g : apis.body["items"]) {
    CHECK(g["versions"][0]["freshness"] == "Current");
    for (const auto& r : g["versions"][0]["resources"]) {
      std::string key =
          g["metadata"]["name"].get<std::string>() + "/" + r["resource"].get<std::string>();
      INFO(key);
      if (recorded.count(key) == 0 || key == "apps/deployments")
        continue;  // recorded subresources beyond ours
      CHECK(r == recorded[key]);
      ++compared;
    }
  }
  CHECK(compared >= 15);
  auto core = h.call("GET", "/api", {}, {}, "admin-token", {{"Accept", kAggregatedAccept}});
  CHECK(core.body["items"][0]["versions"][0]["version"] == "v1");
}

TEST_CASE("Discovery: OpenAPI v3 serves an index and per group-version documents kubectl can use",
          "[testenv][discovery][openapi]") {
  Harness h;
  REQUIRE(h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                 recordedRequest("crd-create.txt"))
              .status == 201);
  h.world.scheduler->runDue();
  auto index = h.get("/openapi/v3");
  REQUIRE(index.status == 200);
  std::string url = index.body["paths"]["apis/example.com/v1"]["serverRelativeURL"];
  CHECK(url.rfind("/openapi/v3/apis/example.com/v1?hash=", 0) == 0);
  CHECK(index.body["paths"].contains("api/v1"));
  CHECK(index.body["paths"].contains("apis/apps/v1"));
  auto doc = h.get(url);
  REQUIRE(doc.status == 200);
  CHECK(doc.header("Cache-Control") == "public, immutable");
  auto widget = doc.body["components"]["schemas"]["com.example.v1.Widget"];
  auto wantWidget = recordedJson(
      "openapi-v3-example.com_v1.txt")["components"]["schemas"]["com.example.v1.Widget"];
  CHECK(widget["properties"]["spec"] == wantWidget["properties"]["spec"]);
  CHECK(widget["x-kubernetes-group-version-kind"] == wantWidget["x-kubernetes-group-version-kind"]);
  auto patch =
      doc.body["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"];
  CHECK(patch["x-kubernetes-group-version-kind"]["kind"] == "Widget");
  bool fieldValidation = false;
  for (const auto& p : patch["parameters"]) fieldValidation |= p["name"] == "fieldValidation";
  CHECK(fieldValidation);
  // Built-in kinds do not advertise strategic merge here, so kubectl uses its compiled-in types.
  auto core = h.get("/openapi/v3/api/v1").body;
  auto cmPatch = core["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
  CHECK_FALSE(cmPatch["requestBody"]["content"].contains("application/strategic-merge-patch+json"));
  // Changing the CRD changes the document's hash, so clients do not keep a stale copy.
  auto crd =
      h.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com").body;
  crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
     ["color"] = {{"type", "string"}};
  REQUIRE(h.put("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
                crd.dump())
              .status == 200);
  CHECK(h.get("/openapi/v3").body["paths"]["apis/example.com/v1"]["serverRelativeURL"] != url);
  CHECK(h.get("/openapi/v3/apis/nope.io/v1").status == 404);
}
