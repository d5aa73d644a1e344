// Storage, metadata and error semantics of the API server engine, checked against the recorded
// kube-apiserver 1.32 exchanges where they exist.
#include "test/testenv/api_server.h"

#include <regex>

#include <catch2/catch.hpp>

#include "test/testenv/testing/harness.h"

using namespace rio;
using namespace rio::testenv;
using namespace rio::testenv::testing;

namespace {

const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
const std::regex kTimestamp("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z");

std::uint64_t rvOf(const nlohmann::json& obj) {
  return std::stoull(obj["metadata"]["resourceVersion"].get<std::string>());
}

void createConfigMap(Harness& h) {
  auto r = h.post("/api/v1/namespaces/demo/configmaps", recordedRequest("cm-create.txt"));
  REQUIRE(r.status == 201);
}

}  // namespace

TEST_CASE(
    "ApiServer: a created ConfigMap gets uid, resourceVersion, creationTimestamp and managedFields "
    "like the recorded one",
    "[testenv][storage]") {
  Harness h;
  auto r = h.post("/api/v1/namespaces/demo/configmaps", recordedRequest("cm-create.txt"));
  REQUIRE(r.status == 201);
  auto want = recordedJson("cm-create.txt");
  CHECK(r.body["kind"] == want["kind"]);
  CHECK(r.body["apiVersion"] == want["apiVersion"]);
  CHECK(r.body["data"] == want["data"]);
  CHECK(r.body["metadata"]["name"] == "c1");
  CHECK(r.body["metadata"]["namespace"] == "demo");
  CHECK(r.body["metadata"]["labels"] == want["metadata"]["labels"]);
  CHECK(std::regex_match(r.body["metadata"]["uid"].get<std::string>(), kUuid));
  CHECK(std::regex_match(r.body["metadata"]["creationTimestamp"].get<std::string>(), kTimestamp));
  CHECK_FALSE(r.body["metadata"].contains("generation"));  // ConfigMaps have no generation
  REQUIRE(r.body["metadata"]["managedFields"].size() == 1);
  CHECK(r.body["metadata"]["managedFields"][0]["manager"] == "curl");
  CHECK(r.body["metadata"]["managedFields"][0]["operation"] == "Update");

  auto got = h.get("/api/v1/namespaces/demo/configmaps/c1");
  REQUIRE(got.status == 200);
  CHECK(got.body == r.body);
}

TEST_CASE("ApiServer: one resourceVersion counter increases across every resource of the cluster",
          "[testenv][storage]") {
  Harness h;
  auto a = h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"a"}})");
  auto b = h.post("/api/v1/namespaces/demo/secrets", R"({"metadata":{"name":"b"}})");
  auto c = h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"c"}})");
  REQUIRE(a.status == 201);
  REQUIRE(b.status == 201);
  REQUIRE(c.status == 201);
  CHECK(rvOf(a.body) < rvOf(b.body));
  CHECK(rvOf(b.body) < rvOf(c.body));
  CHECK(h.server->resourceVersion() == rvOf(c.body));
  auto list = h.get("/api/v1/namespaces/demo/configmaps");
  CHECK(list.body["metadata"]["resourceVersion"] == std::to_string(rvOf(c.body)));
}

TEST_CASE("ApiServer: an update without changes keeps the resourceVersion and sends no event",
          "[testenv][storage]") {
  Harness h;
  createConfigMap(h);
  auto got = h.get("/api/v1/namespaces/demo/configmaps/c1");
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" +
                   got.body["metadata"]["resourceVersion"].get<std::string>());
  auto same = h.put("/api/v1/namespaces/demo/configmaps/c1", got.body.dump());
  REQUIRE(same.status == 200);
  CHECK(same.body["metadata"]["resourceVersion"] == got.body["metadata"]["resourceVersion"]);
  CHECK(w.exchange->body().empty());
}

TEST_CASE("ApiServer: generation is bumped by spec changes only", "[testenv][storage]") {
  Harness h;
  auto d = h.post("/apis/apps/v1/namespaces/demo/deployments",
                  recordedRequest("deployment-create-defaults.txt"));
  REQUIRE(d.status == 201);
  CHECK(d.body["metadata"]["generation"] == 1);
  auto labelled = h.patch("/apis/apps/v1/namespaces/demo/deployments/d1",
                          R"({"metadata":{"labels":{"x":"y"}}})", "application/merge-patch+json");
  REQUIRE(labelled.status == 200);
  CHECK(labelled.body["metadata"]["generation"] == 1);
  auto scaled = h.patch("/apis/apps/v1/namespaces/demo/deployments/d1",
                        R"({"spec":{"replicas":3}})", "application/merge-patch+json");
  REQUIRE(scaled.status == 200);
  CHECK(scaled.body["metadata"]["generation"] == 2);
  auto status = h.patch("/apis/apps/v1/namespaces/demo/deployments/d1/status",
                        R"({"status":{"replicas":9}})", "application/merge-patch+json");
  REQUIRE(status.status == 200);
  CHECK(status.body["metadata"]["generation"] == 2);
}

TEST_CASE("ApiServer: for kinds without spec any non-metadata change bumps generation",
          "[testenv][storage]") {
  Harness h;
  auto m = h.post("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
                  recordedRequest("mwc-create.txt"));
  REQUIRE(m.status == 201);
  CHECK(m.body["metadata"]["generation"] == 1);
  auto changed =
      h.patch("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/demo-injector",
              R"([{"op":"replace","path":"/webhooks/0/timeoutSeconds","value":5}])",
              "application/json-patch+json");
  REQUIRE(changed.status == 200);
  CHECK(changed.body["metadata"]["generation"] == 2);
}

TEST_CASE(
    "ApiServer: DELETE of an object with finalizers sets deletionTimestamp and keeps it until they "
    "are removed",
    "[testenv][storage][finalizers]") {
  Harness h;
  createConfigMap(h);
  auto fin = h.patch("/api/v1/namespaces/demo/configmaps/c1",
                     R"({"metadata":{"finalizers":["example.com/hold"]}})",
                     "application/merge-patch+json");
  REQUIRE(fin.status == 200);
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" +
                   fin.body["metadata"]["resourceVersion"].get<std::string>());
  auto del = h.del("/api/v1/namespaces/demo/configmaps/c1");
  REQUIRE(del.status == 200);
  CHECK(del.body["kind"] == "ConfigMap");
  CHECK(std::regex_match(del.body["metadata"]["deletionTimestamp"].get<std::string>(), kTimestamp));
  CHECK(del.body["metadata"]["deletionGracePeriodSeconds"] == 0);
  CHECK(h.get("/api/v1/namespaces/demo/configmaps/c1").status == 200);

  auto added = h.patch("/api/v1/namespaces/demo/configmaps/c1",
                       R"({"metadata":{"finalizers":["example.com/hold","x.io/more"]}})",
                       "application/merge-patch+json");
  CHECK(added.status == 422);
  CHECK(added.body["message"].get<std::string>().find(
            "no new finalizers can be added if the object is being deleted") != std::string::npos);

  auto cleared = h.patch("/api/v1/namespaces/demo/configmaps/c1",
                         R"({"metadata":{"finalizers":null}})", "application/merge-patch+json");
  REQUIRE(cleared.status == 200);
  CHECK(h.get("/api/v1/namespaces/demo/configmaps/c1").status == 404);
  auto events = w.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0]["type"] == "MODIFIED");
  CHECK(events[1]["type"] == "DELETED");
}

TEST_CASE("ApiServer: deleting a custom resource with a finalizer answers like the recording",
          "[testenv][storage][crd]") {
  Harness h;
  REQUIRE(h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                 recordedRequest("crd-create.txt"))
              .status == 201);
  h.world.scheduler->runDue();
  REQUIRE(h.post("/apis/example.com/v1/namespaces/demo/widgets", recordedRequest("cr-create.txt"))
              .status == 201);
  REQUIRE(h.patch("/apis/example.com/v1/namespaces/demo/widgets/w1",
                  recordedRequest("cr-delete-with-finalizer-setup.txt"),
                  "application/merge-patch+json")
              .status == 200);
  auto del = h.del("/apis/example.com/v1/namespaces/demo/widgets/w1");
  REQUIRE(del.status == 200);
  auto want = recordedJson("cr-delete-with-finalizer.txt");
  CHECK(del.body["metadata"]["finalizers"] == want["metadata"]["finalizers"]);
  CHECK(del.body["metadata"]["deletionGracePeriodSeconds"] == 0);
  CHECK(del.body["metadata"]["generation"] == 2);  // 1 + the deletion (no spec change here)
  CHECK(del.body["metadata"].contains("deletionTimestamp"));
}

TEST_CASE("ApiServer: an object without finalizers is deleted at once with a Success status",
          "[testenv][storage]") {
  Harness h;
  createConfigMap(h);
  auto uid = h.get("/api/v1/namespaces/demo/configmaps/c1").body["metadata"]["uid"];
  auto del = h.del("/api/v1/namespaces/demo/configmaps/c1");
  REQUIRE(del.status == 200);
  CHECK(del.body["kind"] == "Status");
  CHECK(del.body["status"] == "Success");
  CHECK(del.body["details"]["name"] == "c1");
  CHECK(del.body["details"]["kind"] == "configmaps");
  CHECK(del.body["details"]["uid"] == uid);
  CHECK(h.get("/api/v1/namespaces/demo/configmaps/c1").status == 404);
}

TEST_CASE("ApiServer: delete preconditions on uid and resourceVersion are enforced",
          "[testenv][storage]") {
  Harness h;
  createConfigMap(h);
  auto r = h.del("/api/v1/namespaces/demo/configmaps/c1",
                 R"({"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"nope"}})");
  CHECK(r.status == 409);
  CHECK(r.body["reason"] == "Conflict");
  CHECK(r.body["message"].get<std::string>().find(
            "Precondition failed: UID in precondition: nope") != std::string::npos);
}

TEST_CASE(
    "ApiServer: deleting a Namespace makes it Terminating, then removes its objects and itself",
    "[testenv][storage][namespace]") {
  Harness h;
  createConfigMap(h);
  auto del = h.del("/api/v1/namespaces/demo");
  REQUIRE(del.status == 200);
  auto want = recordedJson("ns-delete.txt");
  CHECK(del.body["kind"] == "Namespace");
  CHECK(del.body["status"] == want["status"]);
  CHECK(del.body["spec"] == want["spec"]);
  CHECK(del.body["metadata"].contains("deletionTimestamp"));
  // New content is refused while terminating.
  auto refused = h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"late"}})");
  CHECK(refused.status == 403);
  CHECK(refused.body["message"] ==
        "configmaps \"late\" is forbidden: unable to create new content in namespace demo because "
        "it is being terminated");

  h.world.scheduler->runDue();
  CHECK(h.get("/api/v1/namespaces/demo/configmaps/c1").status == 404);
  CHECK(h.get("/api/v1/namespaces/demo").status == 404);
}

TEST_CASE("ApiServer: a Namespace waits for objects whose finalizers are pending",
          "[testenv][storage][namespace]") {
  Harness h;
  createConfigMap(h);
  h.patch("/api/v1/namespaces/demo/configmaps/c1",
          R"({"metadata":{"finalizers":["example.com/hold"]}})", "application/merge-patch+json");
  h.del("/api/v1/namespaces/demo");
  h.world.scheduler->runDue();
  CHECK(h.get("/api/v1/namespaces/demo").status == 200);
  CHECK(h.get("/api/v1/namespaces/demo/configmaps/c1")
            .body["metadata"]
            .contains("deletionTimestamp"));
  h.patch("/api/v1/namespaces/demo/configmaps/c1", R"({"metadata":{"finalizers":[]}})",
          "application/merge-patch+json");
  h.world.scheduler->runDue();
  CHECK(h.get("/api/v1/namespaces/demo").status == 404);
}

TEST_CASE("ApiServer: objects in a missing namespace cannot be created",
          "[testenv][storage][namespace]") {
  Harness h;
  auto r = h.post("/api/v1/namespaces/nope/configmaps", R"({"metadata":{"name":"x"}})");
  CHECK(r.status == 404);
  CHECK(r.body["message"] == "namespaces \"nope\" not found");
  CHECK(r.body["details"]["kind"] == "namespaces");
}

TEST_CASE("ApiServer: the garbage collector deletes dependents whose owners are gone",
          "[testenv][storage][gc]") {
  Harness h;
  createConfigMap(h);
  auto owner = h.get("/api/v1/namespaces/demo/configmaps/c1").body;
  nlohmann::json dep = {{"metadata",
                         {{"name", "dep"},
                          {"ownerReferences",
                           {{{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"name", "c1"},
                             {"uid", owner["metadata"]["uid"]}}}}}}};
  REQUIRE(h.post("/api/v1/namespaces/demo/secrets", dep.dump()).status == 201);
  h.world.scheduler->runDue();
  CHECK(h.get("/api/v1/namespaces/demo/secrets/dep").status == 200);
  h.del("/api/v1/namespaces/demo/configmaps/c1");
  h.world.scheduler->runDue();
  CHECK(h.get("/api/v1/namespaces/demo/secrets/dep").status == 404);
}

TEST_CASE("ApiServer: propagationPolicy Orphan leaves dependents without the owner reference",
          "[testenv][storage][gc]") {
  Harness h;
  createConfigMap(h);
  auto owner = h.get("/api/v1/namespaces/demo/configmaps/c1").body;
  nlohmann::json dep = {{"metadata",
                         {{"name", "dep"},
                          {"ownerReferences",
                           {{{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"name", "c1"},
                             {"uid", owner["metadata"]["uid"]}}}}}}};
  REQUIRE(h.post("/api/v1/namespaces/demo/secrets", dep.dump()).status == 201);
  h.del("/api/v1/namespaces/demo/configmaps/c1", R"({"propagationPolicy":"Orphan"})");
  h.world.scheduler->runDue();
  auto kept = h.get("/api/v1/namespaces/demo/secrets/dep");
  REQUIRE(kept.status == 200);
  CHECK_FALSE(kept.body["metadata"].contains("ownerReferences"));
}

// ---------------------------------------------------------------- errors as recorded

TEST_CASE("ApiServer: a missing object is 404 with the recorded Status", "[testenv][errors]") {
  Harness h;
  auto r = h.get("/api/v1/namespaces/demo/configmaps/missing");
  CHECK(r.status == 404);
  CHECK(r.body == recordedJson("cm-get-404.txt"));
}

TEST_CASE("ApiServer: creating an existing object is 409 AlreadyExists as recorded",
          "[testenv][errors]") {
  Harness h;
  createConfigMap(h);
  auto r =
      h.post("/api/v1/namespaces/demo/configmaps", recordedRequest("cm-create-conflict-409.txt"));
  CHECK(r.status == 409);
  CHECK(r.body == recordedJson("cm-create-conflict-409.txt"));
}

TEST_CASE("ApiServer: an update with a stale resourceVersion is 409 Conflict as recorded",
          "[testenv][errors]") {
  Harness h;
  createConfigMap(h);
  auto r =
      h.put("/api/v1/namespaces/demo/configmaps/c1", recordedRequest("cm-update-stale-409.txt"));
  CHECK(r.status == 409);
  CHECK(r.body == recordedJson("cm-update-stale-409.txt"));
}

TEST_CASE("ApiServer: an invalid name is 422 Invalid with the recorded cause",
          "[testenv][errors][validation]") {
  Harness h;
  auto r = h.post("/api/v1/namespaces/demo/configmaps", recordedRequest("cm-invalid-name-422.txt"));
  CHECK(r.status == 422);
  CHECK(r.body == recordedJson("cm-invalid-name-422.txt"));
}

TEST_CASE("ApiServer: required fields and name rules per kind are 422 with one cause each",
          "[testenv][errors][validation]") {
  Harness h;
  auto svc =
      h.post("/api/v1/namespaces/demo/services", R"({"metadata":{"name":"1bad"},"spec":{}})");
  CHECK(svc.status == 422);
  REQUIRE(svc.body["details"]["causes"].size() == 2);
  CHECK(svc.body["details"]["causes"][0]["field"] == "metadata.name");
  CHECK(svc.body["details"]["causes"][0]["message"].get<std::string>().find("a DNS-1035 label") !=
        std::string::npos);
  CHECK(svc.body["details"]["causes"][1]["field"] == "spec.ports");
  CHECK(svc.body["details"]["causes"][1]["reason"] == "FieldValueRequired");
  CHECK(svc.body["message"].get<std::string>().rfind(
            "Service \"1bad\" is invalid: [metadata.name: Invalid value:", 0) == 0);

  auto unnamed = h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{}})");
  CHECK(unnamed.status == 422);
  CHECK(
      unnamed.body["message"] ==
      "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required");

  auto deploy = h.post(
      "/apis/apps/v1/namespaces/demo/deployments",
      R"({"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"c"}},"spec":{"containers":[{"name":"c"}]}}}})");
  CHECK(deploy.status == 422);
  CHECK(deploy.body["message"].get<std::string>().rfind("Deployment.apps \"d\" is invalid: [", 0) ==
        0);
  CHECK(deploy.body["details"]["group"] == "apps");
  std::vector<std::string> fields;
  for (const auto& c : deploy.body["details"]["causes"]) fields.push_back(c["field"]);
  CHECK(fields == std::vector<std::string>{"spec.template.metadata.labels",
                                           "spec.template.spec.containers[0].image"});
}

TEST_CASE("ApiServer: generateName creates a unique name", "[testenv][storage]") {
  Harness h;
  auto a = h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"generateName":"gen-"}})");
  auto b = h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"generateName":"gen-"}})");
  REQUIRE(a.status == 201);
  REQUIRE(b.status == 201);
  CHECK(a.body["metadata"]["name"].get<std::string>().rfind("gen-", 0) == 0);
  CHECK(a.body["metadata"]["name"].get<std::string>().size() == 9);
  CHECK(a.body["metadata"]["name"] != b.body["metadata"]["name"]);
}

TEST_CASE("ApiServer: a malformed body is 400 with the recorded message",
          "[testenv][errors][decode]") {
  Harness h;
  auto r = h.post("/api/v1/namespaces/demo/configmaps", recordedRequest("cm-malformed-400.txt"));
  CHECK(r.status == 400);
  CHECK(r.body == recordedJson("cm-malformed-400.txt"));
}

TEST_CASE("ApiServer: wrong types in metadata are 400 BadRequest as a Go decoder reports them",
          "[testenv][errors][decode]") {
  Harness h;
  auto r = h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":5}})");
  CHECK(r.status == 400);
  CHECK(r.body["reason"] == "BadRequest");
  CHECK(r.body["message"] ==
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal "
        "number into Go struct "
        "field ObjectMeta.metadata.name of type string");
  auto labels =
      h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"x","labels":{"a":1}}})");
  CHECK(labels.status == 400);
  auto arr = h.post("/api/v1/namespaces/demo/configmaps", R"([1,2])");
  CHECK(arr.status == 400);
  auto kind = h.post("/api/v1/namespaces/demo/configmaps",
                     R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}})");
  CHECK(kind.status == 400);
  auto version = h.post("/api/v1/namespaces/demo/configmaps",
                        R"({"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}})");
  CHECK(version.status == 400);
}

TEST_CASE("ApiServer: a wrong content type is 415 as recorded", "[testenv][errors][decode]") {
  Harness h;
  auto r = h.post("/api/v1/namespaces/demo/configmaps",
                  recordedRequest("cm-wrong-content-type-415.txt"), "text/plain");
  CHECK(r.status == 415);
  CHECK(r.body == recordedJson("cm-wrong-content-type-415.txt"));
}

TEST_CASE("ApiServer: an oversized body is 413 RequestEntityTooLarge",
          "[testenv][errors][decode]") {
  Harness h;
  auto req =
      makeRequest("POST", "/api/v1/namespaces/demo/configmaps", "",
                  {{"Authorization", "Bearer admin-token"}, {"Content-Type", "application/json"}});
  req.bodyTooLarge = true;
  auto r = h.send(std::move(req));
  CHECK(r.status == 413);
  CHECK(r.body["reason"] == "RequestEntityTooLarge");
  CHECK(r.body["message"] == "Request entity too large: limit is 3145728");
  std::string big =
      R"({"metadata":{"name":"big"},"data":{"k":")" + std::string(3 * 1024 * 1024, 'x') + R"("}})";
  CHECK(h.post("/api/v1/namespaces/demo/configmaps", big).status == 413);
}

TEST_CASE("ApiServer: methods a path does not support are 405", "[testenv][errors]") {
  Harness h;
  createConfigMap(h);
  auto r = h.post("/api/v1/namespaces/demo/configmaps/c1", "{}");
  CHECK(r.status == 405);
  CHECK(r.body["reason"] == "MethodNotAllowed");
  CHECK(r.body["message"] == "the server does not allow this method on the requested resource");
  CHECK(h.put("/api/v1/namespaces/demo/configmaps", "{}").status == 405);
  CHECK(h.get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").status == 405);
}

TEST_CASE("ApiServer: unknown resources, groups and subresources are 404 with the generic Status",
          "[testenv][errors]") {
  Harness h;
  for (const char* path :
       {"/api/v1/namespaces/demo/foos", "/apis/nope.io/v1/things", "/apis/apps/v9/deployments",
        "/api/v1/namespaces/demo/configmaps/c1/status", "/api/v2/pods"}) {
    auto r = h.get(path);
    INFO(path);
    CHECK(r.status == 404);
    CHECK(r.body["message"] == "the server could not find the requested resource");
    CHECK(r.body["details"] == nlohmann::json::object());
  }
}

TEST_CASE("ApiServer: a request without credentials is 401 as recorded",
          "[testenv][errors][auth]") {
  Harness h;
  auto r = h.call("GET", "/api/v1/namespaces", {}, {}, "");
  CHECK(r.status == 401);
  CHECK(r.body == recordedJson("unauthenticated-401.txt"));
  CHECK(h.call("GET", "/version", {}, {}, "bogus").status == 401);
}

TEST_CASE("ApiServer: a denied request is 403 with the recorded message shape",
          "[testenv][errors][auth]") {
  Harness h;
  h.world.authorizer->setRule([](const UserInfo&, const Attributes&) {
    return Decision{false, ""};
  });
  auto sa = h.post("/api/v1/namespaces/demo/serviceaccounts", recordedRequest("sa-create.txt"));
  REQUIRE(sa.status == 201);
  auto token = h.post("/api/v1/namespaces/demo/serviceaccounts/bot/token",
                      recordedRequest("sa-token-request.txt"));
  REQUIRE(token.status == 201);
  auto r = h.call("GET", "/api/v1/namespaces/demo/secrets", {}, {}, token.body["status"]["token"]);
  CHECK(r.status == 403);
  CHECK(r.body == recordedJson("forbidden-403.txt"));
  auto attrs = h.world.authorizer->last();
  CHECK(attrs.verb == "list");
  CHECK(attrs.resource == "secrets");
  CHECK(attrs.ns == "demo");
}

TEST_CASE("ApiServer: RBAC attributes are derived from path, method and query", "[testenv][auth]") {
  Harness h;
  struct Case {
    std::string method, target, verb, group, resource, sub, ns, name;
  };
  std::vector<Case> cases = {
      {"GET", "/api/v1/namespaces/demo/configmaps/c1", "get", "", "configmaps", "", "demo", "c1"},
      {"GET", "/api/v1/configmaps", "list", "", "configmaps", "", "", ""},
      {"GET", "/api/v1/namespaces/demo/configmaps?watch=1&timeoutSeconds=1", "watch", "",
       "configmaps", "", "demo", ""},
      {"GET", "/api/v1/namespaces/demo/configmaps?fieldSelector=metadata.name%3Dc1", "list", "",
       "configmaps", "", "demo", "c1"},
      {"POST", "/apis/apps/v1/namespaces/demo/deployments", "create", "apps", "deployments", "",
       "demo", ""},
      {"PATCH", "/apis/apps/v1/namespaces/demo/deployments/d1/status", "patch", "apps",
       "deployments", "status", "demo", "d1"},
      {"DELETE", "/api/v1/namespaces/demo/configmaps", "deletecollection", "", "configmaps", "",
       "demo", ""},
      {"GET", "/api/v1/namespaces/demo", "get", "", "namespaces", "", "demo", "demo"},
      {"POST", "/api/v1/namespaces/demo/serviceaccounts/bot/token", "create", "", "serviceaccounts",
       "token", "demo", "bot"},
  };
  for (const auto& c : cases) {
    INFO(c.method << " " << c.target);
    h.call(c.method, c.target, c.method == "GET" || c.method == "DELETE" ? "" : "{}",
           c.method == "PATCH" ? "application/merge-patch+json" : "application/json",
           "alice-token");
    auto a = h.world.authorizer->last();
    CHECK(a.verb == c.verb);
    CHECK(a.apiGroup == c.group);
    CHECK(a.resource == c.resource);
    CHECK(a.subresource == c.sub);
    CHECK(a.ns == c.ns);
    CHECK(a.name == c.name);
  }
}

TEST_CASE("ApiServer: discovery paths are allowed for any authenticated user",
          "[testenv][auth][discovery]") {
  Harness h;
  h.world.authorizer->setRule([](const UserInfo&, const Attributes&) {
    return Decision{false, ""};
  });
  for (const char* path :
       {"/version", "/api", "/apis", "/api/v1", "/apis/apps/v1", "/openapi/v3"}) {
    INFO(path);
    CHECK(h.call("GET", path, {}, {}, "alice-token").status == 200);
  }
}

TEST_CASE("ApiServer: RBAC writes pass the escalation check", "[testenv][auth]") {
  FakeWorld world;
  auto deps = world.deps();
  std::string seen;
  deps.auth.checkEscalation = [&](Authorizer&, const UserInfo& user, const nlohmann::json& object,
                                  const nlohmann::json*, const RbacObjectsFn& objects) {
    seen = user.name + ":" + object["metadata"]["name"].get<std::string>();
    CHECK_FALSE(
        objects("ClusterRole")->empty());  // the store answers while the request is in flight
    return std::string(
        "clusterroles.rbac.authorization.k8s.io \"big\" is forbidden: user \"alice\" "
        "(groups=[\"system:authenticated\"]) "
        "is attempting to grant RBAC permissions not currently held");
  };
  ApiServer server(Harness::defaultOptions(), deps);
  auto ex = std::make_shared<rio::testing::FakeExchange>();
  server.handle(
      makeRequest(
          "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
          R"({"metadata":{"name":"big"},"rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]})",
          {{"Authorization", "Bearer alice-token"}, {"Content-Type", "application/json"}}),
      ex);
  CHECK(ex->status() == 403);
  auto body = nlohmann::json::parse(ex->body());
  CHECK(body["reason"] == "Forbidden");
  CHECK(body["message"].get<std::string>().rfind(
            "clusterroles.rbac.authorization.k8s.io \"big\" is forbidden: user \"alice\"", 0) == 0);
  CHECK(seen == "alice:big");
}

TEST_CASE("ApiServer: the handler never throws on hostile input", "[testenv][robustness]") {
  Harness h;
  std::vector<std::pair<std::string, std::string>> bodies = {
      {"application/json", std::string(100000, '[')},
      {"application/json", "{\"metadata\":" + std::string(5000, '{')},
      {"application/yaml", "a: [" + std::string(5000, '[')},
      {"application/yaml", "a: b: c: : :"},
      {"application/yaml", "- 1\n- 2"},
      {"application/json", "\"just a string\""},
      {"application/json", "{\"metadata\":{\"name\":\"x\",\"ownerReferences\":[1]}}"},
      {"application/json", "{\"metadata\":{\"name\":\"x\",\"finalizers\":\"x\"}}"},
      {"application/json", "{\"metadata\":{\"name\":\"x\"},\"data\":[]}"},
      {"application/json", std::string("{\"metadata\":{\"name\":\"\xff\xfe\"}}")},
  };
  for (const auto& [ct, body] : bodies) {
    for (const char* path :
         {"/api/v1/namespaces/demo/configmaps", "/apis/apps/v1/namespaces/demo/deployments",
          "/api/v1/namespaces/demo/secrets", "/api/v1/namespaces/demo/services"}) {
      auto r = h.post(path, body, ct);
      INFO(path << " " << body.substr(0, 40));
      CHECK(r.status >= 400);
      CHECK(r.status < 500);
    }
  }
  for (const char* ct :
       {"application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json", "application/apply-patch+yaml"}) {
    REQUIRE(h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"p"}})").status >=
            200);
    for (const char* body :
         {"", "null", "[", "[{\"op\":\"move\"}]", "{\"metadata\":{\"name\":7}}", "42"}) {
      auto r = h.call("PATCH", "/api/v1/namespaces/demo/configmaps/p?fieldManager=x", body, ct);
      INFO(ct << " " << body);
      CHECK(r.status >= 400);
      CHECK(r.status < 500);
    }
  }
}
