// PATCH (JSON patch, merge, strategic merge, server-side apply), PUT/POST with YAML, dry run and
// field managers.
#include <catch2/catch.hpp>

#include "test/testenv/testing/harness.h"

using namespace rio;
using namespace rio::testenv;
using namespace rio::testenv::testing;

namespace {

void createConfigMap(Harness& h) {
  REQUIRE(h.post("/api/v1/namespaces/demo/configmaps", recordedRequest("cm-create.txt")).status ==
          201);
}

}  // namespace

TEST_CASE("Patch: a JSON merge patch adds keys as recorded", "[testenv][patch]") {
  Harness h;
  createConfigMap(h);
  auto r = h.patch("/api/v1/namespaces/demo/configmaps/c1", recordedRequest("cm-merge-patch.txt"),
                   "application/merge-patch+json");
  REQUIRE(r.status == 200);
  CHECK(r.body["data"] == recordedJson("cm-merge-patch.txt")["data"]);
  auto removed = h.patch("/api/v1/namespaces/demo/configmaps/c1", R"({"data":{"k":null}})",
                         "application/merge-patch+json");
  CHECK(removed.body["data"] == nlohmann::json{{"k2", "v2"}});
}

TEST_CASE("Patch: a strategic merge patch goes through merge.h's function", "[testenv][patch]") {
  MergeFunctions merge = fakeMerge();
  std::string seenKind;
  merge.strategicMergePatch = [&](const nlohmann::json& original, const nlohmann::json& patch,
                                  std::string_view apiVersion,
                                  std::string_view kind) -> Expected<nlohmann::json> {
    seenKind = std::string(apiVersion) + "/" + std::string(kind);
    nlohmann::json out = original;
    out.merge_patch(patch);
    return out;
  };
  Harness h(Harness::defaultOptions(), merge);
  createConfigMap(h);
  auto r =
      h.patch("/api/v1/namespaces/demo/configmaps/c1", recordedRequest("cm-strategic-patch.txt"),
              "application/strategic-merge-patch+json");
  REQUIRE(r.status == 200);
  CHECK(r.body["metadata"]["labels"] ==
        recordedJson("cm-strategic-patch.txt")["metadata"]["labels"]);
  CHECK(seenKind == "v1/ConfigMap");
}

TEST_CASE("Patch: strategic merge patch on a custom resource is 415", "[testenv][patch][crd]") {
  Harness h;
  REQUIRE(h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                 recordedRequest("crd-create.txt"))
              .status == 201);
  h.world.scheduler->runDue();
  REQUIRE(h.post("/apis/example.com/v1/namespaces/demo/widgets", recordedRequest("cr-create.txt"))
              .status == 201);
  auto r = h.patch("/apis/example.com/v1/namespaces/demo/widgets/w1", R"({"spec":{"size":2}})",
                   "application/strategic-merge-patch+json");
  CHECK(r.status == 415);
  CHECK(r.body["message"] ==
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, "
        "application/merge-patch+json, application/apply-patch+yaml");
}

TEST_CASE("Patch: a JSON patch whose test fails is 422 as recorded", "[testenv][patch]") {
  Harness h;
  createConfigMap(h);
  auto r =
      h.patch("/api/v1/namespaces/demo/configmaps/c1",
              recordedRequest("cm-json-patch-test-failed-422.txt"), "application/json-patch+json");
  CHECK(r.status == 422);
  CHECK(r.body == recordedJson("cm-json-patch-test-failed-422.txt"));
  auto ok =
      h.patch("/api/v1/namespaces/demo/configmaps/c1",
              R"([{"op":"test","path":"/data/k","value":"v"},{"op":"remove","path":"/data/k"}])",
              "application/json-patch+json");
  REQUIRE(ok.status == 200);
  CHECK_FALSE(ok.body["data"].contains("k"));
}

TEST_CASE("Patch: a JSON patch test of a missing member against null passes, as evanphx/json-patch's",
          "[testenv][patch]") {
  Harness h;
  createConfigMap(h);
  auto ok = h.patch("/api/v1/namespaces/demo/configmaps/c1",
                    R"([{"op":"test","path":"/metadata/finalizers","value":null},)"
                    R"({"op":"add","path":"/metadata/finalizers","value":["example.com/f"]}])",
                    "application/json-patch+json");
  REQUIRE(ok.status == 200);
  CHECK(ok.body["metadata"]["finalizers"] == nlohmann::json::array({"example.com/f"}));
  // A present member does not equal null: the test fails.
  auto failed = h.patch("/api/v1/namespaces/demo/configmaps/c1",
                        R"([{"op":"test","path":"/metadata/finalizers","value":null}])",
                        "application/json-patch+json");
  CHECK(failed.status == 422);
}

TEST_CASE("Patch: a patch carrying a stale resourceVersion is 409", "[testenv][patch]") {
  Harness h;
  createConfigMap(h);
  auto r = h.patch("/api/v1/namespaces/demo/configmaps/c1",
                   R"({"metadata":{"resourceVersion":"1"},"data":{"x":"y"}})",
                   "application/merge-patch+json");
  CHECK(r.status == 409);
  CHECK(r.body["reason"] == "Conflict");
}

TEST_CASE("Patch: unknown patch content types are 415 and a missing object is 404",
          "[testenv][patch]") {
  Harness h;
  createConfigMap(h);
  auto r = h.patch("/api/v1/namespaces/demo/configmaps/c1", "{}", "application/json");
  CHECK(r.status == 415);
  CHECK(r.body["message"].get<std::string>().find("application/strategic-merge-patch+json") !=
        std::string::npos);
  CHECK(h.patch("/api/v1/namespaces/demo/configmaps/nope", "{}", "application/merge-patch+json")
            .status == 404);
}

TEST_CASE(
    "Patch: server-side apply creates, then updates through merge.h with fieldManager and force",
    "[testenv][patch][apply]") {
  MergeFunctions merge = fakeMerge();
  std::vector<std::string> calls;
  merge.serverSideApply = [&](const nlohmann::json& live, const nlohmann::json& applied,
                              const std::string& manager, bool force, const std::string& apiVersion,
                              const std::string& subresource,
                              WallTime now) -> Expected<ApplyOutcome> {
    calls.push_back(manager + (force ? "+force" : "") + (live.is_null() ? ":create" : ":update"));
    nlohmann::json merged = live.is_null() ? applied : live;
    if (!live.is_null()) merged.merge_patch(applied);
    ApplyOutcome out{
        naiveRecordUpdate(live, merged, manager, apiVersion, subresource, now, "Apply"), {}};
    if (!force && !live.is_null() &&
        live["data"].value("k", "") != applied["data"].value("k", "")) {
      out.conflicts.push_back({"curl", ".data.k", "Update", "v1", ""});
    }
    return out;
  };
  merge.conflictStatus = [](const std::vector<FieldConflict>&, const std::string&) {
    return recordedJson("cm-apply-conflict-409.txt");
  };
  Harness h(Harness::defaultOptions(), merge);
  auto created =
      h.call("PATCH", "/api/v1/namespaces/demo/configmaps/fresh?fieldManager=op",
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fresh\ndata:\n  k: \"1\"\n",
             "application/apply-patch+yaml");
  REQUIRE(created.status == 201);
  CHECK(created.body["data"]["k"] == "1");
  CHECK(created.body["metadata"]["managedFields"][0]["operation"] == "Apply");

  createConfigMap(h);
  auto conflict =
      h.call("PATCH", "/api/v1/namespaces/demo/configmaps/c1?fieldManager=op",
             recordedRequest("cm-apply-conflict-409.txt"), "application/apply-patch+yaml");
  CHECK(conflict.status == 409);
  CHECK(conflict.body == recordedJson("cm-apply-conflict-409.txt"));
  auto forced = h.call("PATCH", "/api/v1/namespaces/demo/configmaps/c1?fieldManager=op&force=true",
                       recordedRequest("cm-apply-force.txt"), "application/apply-patch+yaml");
  REQUIRE(forced.status == 200);
  CHECK(forced.body["data"]["k"] == "z");
  CHECK(calls == std::vector<std::string>{"op:create", "op:update", "op+force:update"});

  auto noManager = h.call("PATCH", "/api/v1/namespaces/demo/configmaps/c1",
                          recordedRequest("cm-apply-force.txt"), "application/apply-patch+yaml");
  CHECK(noManager.status == 400);
  auto wrongKind = h.call("PATCH", "/api/v1/namespaces/demo/configmaps/c1?fieldManager=op",
                          R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"c1"}})",
                          "application/apply-patch+yaml");
  CHECK(wrongKind.status == 400);
}

TEST_CASE("Patch: the field manager defaults to the user agent's product", "[testenv][patch]") {
  Harness h;
  auto r = h.call("POST", "/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"ua"}})",
                  "application/json", "admin-token",
                  {{"User-Agent", "kubectl/v1.32.4 (linux/amd64) kubernetes/abc"}});
  REQUIRE(r.status == 201);
  CHECK(r.body["metadata"]["managedFields"][0]["manager"] == "kubectl");
  auto named = h.post("/api/v1/namespaces/demo/configmaps?fieldManager=my-operator",
                      R"({"metadata":{"name":"fm"}})");
  CHECK(named.body["metadata"]["managedFields"][0]["manager"] == "my-operator");
}

TEST_CASE("Patch: POST and PUT accept YAML bodies", "[testenv][patch][decode]") {
  Harness h;
  auto r = h.post("/api/v1/namespaces/demo/configmaps",
                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n  labels:\n    on: "
                  "\"yes\"\ndata:\n  port: \"8080\"\n",
                  "application/yaml");
  REQUIRE(r.status == 201);
  CHECK(r.body["data"]["port"] == "8080");
  auto typed = h.post("/api/v1/namespaces/demo/configmaps",
                      "metadata:\n  name: t\ndata:\n  port: 8080\n", "application/yaml");
  CHECK(typed.status == 400);  // 8080 is a number, data wants strings
  auto bad =
      h.post("/api/v1/namespaces/demo/configmaps", "metadata: [unclosed", "application/yaml");
  CHECK(bad.status == 400);
}

TEST_CASE("Patch: dryRun=All validates and answers without storing", "[testenv][patch]") {
  Harness h;
  auto before = h.server->resourceVersion();
  auto r =
      h.post("/api/v1/namespaces/demo/configmaps?dryRun=All", R"({"metadata":{"name":"dry"}})");
  REQUIRE(r.status == 201);
  CHECK(r.body["metadata"]["name"] == "dry");
  CHECK(h.get("/api/v1/namespaces/demo/configmaps/dry").status == 404);
  CHECK(h.server->resourceVersion() == before);
  CHECK(h.post("/api/v1/namespaces/demo/configmaps?dryRun=Some", R"({"metadata":{"name":"dry"}})")
            .status == 400);
}

TEST_CASE("Patch: PUT checks the name and namespace against the URL", "[testenv][patch]") {
  Harness h;
  createConfigMap(h);
  auto r = h.put("/api/v1/namespaces/demo/configmaps/c1", R"({"metadata":{"name":"other"}})");
  CHECK(r.status == 400);
  CHECK(r.body["message"] ==
        "the name of the object (other) does not match the name on the URL (c1)");
  auto ns = h.post("/api/v1/namespaces/demo/configmaps",
                   R"({"metadata":{"name":"n","namespace":"elsewhere"}})");
  CHECK(ns.status == 400);
  CHECK(ns.body["message"] ==
        "the namespace of the provided object does not match the namespace sent on the request");
  auto rv = h.post("/api/v1/namespaces/demo/configmaps",
                   R"({"metadata":{"name":"n","resourceVersion":"5"}})");
  CHECK(rv.status == 400);
}

TEST_CASE("Patch: managedFields are maintained through merge.h's recordUpdate with the subresource",
          "[testenv][patch][managedfields]") {
  MergeFunctions merge = fakeMerge();
  std::vector<std::string> seen;
  merge.recordUpdate = [&](const nlohmann::json& before, const nlohmann::json& after,
                           const std::string& manager, const std::string& apiVersion,
                           const std::string& subresource, WallTime now) {
    seen.push_back(manager + "|" + subresource + "|" + (before.is_null() ? "create" : "update"));
    return naiveRecordUpdate(before, after, manager, apiVersion, subresource, now);
  };
  ApiServerOptions o = Harness::defaultOptions();
  o.simulation = {};
  o.simulation.nodes = 0;
  o.simulation.seedNamespaces = false;
  o.simulation.seedRbac = false;
  o.simulation.namespaceController = false;
  o.simulation.deployments = false;
  Harness h(o, merge);
  seen.clear();
  REQUIRE(h.post("/apis/apps/v1/namespaces/demo/deployments",
                 recordedRequest("deployment-create-defaults.txt"))
              .status == 201);
  REQUIRE(h.patch("/apis/apps/v1/namespaces/demo/deployments/d1/status",
                  R"({"status":{"replicas":1}})", "application/merge-patch+json")
              .status == 200);
  CHECK(seen == std::vector<std::string>{"curl||create", "curl|status|update"});
}
