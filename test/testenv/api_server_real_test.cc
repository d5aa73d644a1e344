// The engine with the real merge.h and auth.h implementations: managedFields, apply conflicts,
// RBAC denials and escalation end to end, compared with the recorded kube-apiserver exchanges.
#include <catch2/catch.hpp>

#include "test/testenv/testing/harness.h"

using namespace rio;
using namespace rio::testenv;
using namespace rio::testenv::testing;

namespace {

/// managedFields without timestamps, keyed by manager/operation/subresource.
std::map<std::string, nlohmann::json> fieldSets(const nlohmann::json& obj) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& e : obj["metadata"].value("managedFields", nlohmann::json::array())) {
    out[e["manager"].get<std::string>() + "/" + e["operation"].get<std::string>() + "/" +
        e.value("subresource", "")] = e["fieldsV1"];
  }
  return out;
}

void sameFieldSets(const nlohmann::json& got, const std::string& fixture) {
  INFO(fixture);
  CHECK(fieldSets(got) == fieldSets(recordedJson(fixture)));
}

}  // namespace

TEST_CASE("Real: managedFields after create, merge patch and strategic patch match the recordings",
          "[testenv][real][managedfields]") {
  Harness h{Harness::Real{}};
  auto created = h.post("/api/v1/namespaces/demo/configmaps", recordedRequest("cm-create.txt"));
  REQUIRE(created.status == 201);
  sameFieldSets(created.body, "cm-create.txt");
  auto merged = h.patch("/api/v1/namespaces/demo/configmaps/c1",
                        recordedRequest("cm-merge-patch.txt"), "application/merge-patch+json");
  REQUIRE(merged.status == 200);
  sameFieldSets(merged.body, "cm-merge-patch.txt");
  auto strategic =
      h.patch("/api/v1/namespaces/demo/configmaps/c1", recordedRequest("cm-strategic-patch.txt"),
              "application/strategic-merge-patch+json");
  REQUIRE(strategic.status == 200);
  sameFieldSets(strategic.body, "cm-strategic-patch.txt");
  CHECK(strategic.body["metadata"]["labels"] ==
        recordedJson("cm-strategic-patch.txt")["metadata"]["labels"]);
}

TEST_CASE("Real: an apply conflict is the recorded 409 and force takes the field over as recorded",
          "[testenv][real][apply]") {
  Harness h{Harness::Real{}};
  REQUIRE(h.post("/api/v1/namespaces/demo/configmaps", recordedRequest("cm-create.txt")).status ==
          201);
  REQUIRE(h.patch("/api/v1/namespaces/demo/configmaps/c1", recordedRequest("cm-merge-patch.txt"),
                  "application/merge-patch+json")
              .status == 200);
  REQUIRE(h.patch("/api/v1/namespaces/demo/configmaps/c1",
                  recordedRequest("cm-strategic-patch.txt"),
                  "application/strategic-merge-patch+json")
              .status == 200);
  auto conflict =
      h.call("PATCH", "/api/v1/namespaces/demo/configmaps/c1?fieldManager=op",
             recordedRequest("cm-apply-conflict-409.txt"), "application/apply-patch+yaml");
  CHECK(conflict.status == 409);
  CHECK(conflict.body == recordedJson("cm-apply-conflict-409.txt"));
  auto forced = h.call("PATCH", "/api/v1/namespaces/demo/configmaps/c1?fieldManager=op&force=true",
                       recordedRequest("cm-apply-force.txt"), "application/apply-patch+yaml");
  REQUIRE(forced.status == 200);
  CHECK(forced.body["data"] == recordedJson("cm-apply-force.txt")["data"]);
  sameFieldSets(forced.body, "cm-apply-force.txt");
  auto got = h.get("/api/v1/namespaces/demo/configmaps/c1?showManagedFields=true");
  sameFieldSets(got.body, "cm-get-with-managedfields.txt");
}

TEST_CASE("Real: managedFields of built-in kinds with defaults match the recordings",
          "[testenv][real][managedfields]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.simulation.deployments = false;
  Harness h{Harness::Real{}, o};
  struct Case {
    std::string path, fixture;
  };
  std::vector<Case> cases = {
      {"/apis/apps/v1/namespaces/demo/deployments", "deployment-create-defaults.txt"},
      {"/api/v1/namespaces/demo/services", "service-create-defaults.txt"},
      {"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", "mwc-create.txt"},
      {"/api/v1/namespaces/demo/endpoints", "endpoints-create.txt"},
      {"/apis/coordination.k8s.io/v1/namespaces/demo/leases", "lease-create.txt"},
      {"/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "crd-create.txt"},
      // ObjectReference is atomic: "f:regarding": {} (found by the conformance suite).
      {"/apis/events.k8s.io/v1/namespaces/demo/events", "event-create-eventsv1.txt"},
  };
  for (const auto& c : cases) {
    auto r = h.post(c.path, recordedRequest(c.fixture));
    INFO(c.fixture);
    REQUIRE(r.status == 201);
    sameFieldSets(r.body, c.fixture);
  }
  Harness fresh{Harness::Real{}, o};
  auto ns = fresh.post("/api/v1/namespaces",
                       R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"other"}})");
  auto want = recordedJson("ns-create.txt");
  REQUIRE(ns.status == 201);
  CHECK(ns.body["metadata"]["managedFields"][0]["fieldsV1"] ==
        nlohmann::json::parse(
            R"({"f:metadata":{"f:labels":{".":{},"f:kubernetes.io/metadata.name":{}}}})"));
}

TEST_CASE(
    "Real: custom resource status writes are tracked under the status subresource as recorded",
    "[testenv][real][managedfields][crd]") {
  Harness h{Harness::Real{}};
  REQUIRE(h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                 recordedRequest("crd-create.txt"))
              .status == 201);
  h.world.scheduler->runDue();
  auto crd = h.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
  auto est = fieldSets(crd.body);
  auto wantEst = fieldSets(recordedJson("crd-get-established.txt"));
  CHECK(est["kube-apiserver/Update/status"] ==
        wantEst["kube-apiserver-v1.32.13-ocp/Update/status"]);
  REQUIRE(h.post("/apis/example.com/v1/namespaces/demo/widgets", recordedRequest("cr-create.txt"))
              .status == 201);
  auto status = h.patch("/apis/example.com/v1/namespaces/demo/widgets/w1/status",
                        recordedRequest("cr-status-patch.txt"), "application/merge-patch+json");
  REQUIRE(status.status == 200);
  sameFieldSets(status.body, "cr-status-patch.txt");
}

// Known gap in merge.h's schema table (test/testenv/merge_schema.cc, not this engine): it has no
// zero values for TokenRequest and SelfSubjectAccessReview (kube omits "." for their non-pointer
// spec) and treats Event.regarding as a granular struct where kube's ObjectReference is atomic.
// [!mayfail] keeps the comparison visible until that table learns them.
TEST_CASE(
    "Real: TokenRequest, SelfSubjectAccessReview and Event managedFields match the recordings",
    "[testenv][real][managedfields][!mayfail]") {
  Harness h{Harness::Real{}};
  REQUIRE(
      h.post("/api/v1/namespaces/demo/serviceaccounts", recordedRequest("sa-create.txt")).status ==
      201);
  auto token = h.post("/api/v1/namespaces/demo/serviceaccounts/bot/token",
                      recordedRequest("sa-token-request.txt"));
  REQUIRE(token.status == 201);
  auto ssar =
      h.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
             recordedRequest("ssar-create.txt"), "application/json", token.body["status"]["token"]);
  REQUIRE(ssar.status == 201);
  CHECK(ssar.body["status"] == recordedJson("ssar-create.txt")["status"]);
  auto event = h.post("/apis/events.k8s.io/v1/namespaces/demo/events",
                      recordedRequest("event-create-eventsv1.txt"));
  REQUIRE(event.status == 201);
  sameFieldSets(token.body, "sa-token-request.txt");
  sameFieldSets(ssar.body, "ssar-create.txt");
  sameFieldSets(event.body, "event-create-eventsv1.txt");
}

TEST_CASE(
    "Real: a service-account token is denied by RBAC as recorded until a RoleBinding allows it",
    "[testenv][real][auth]") {
  Harness h{Harness::Real{}};
  REQUIRE(
      h.post("/api/v1/namespaces/demo/serviceaccounts", recordedRequest("sa-create.txt")).status ==
      201);
  auto token = h.post("/api/v1/namespaces/demo/serviceaccounts/bot/token",
                      recordedRequest("sa-token-request.txt"));
  std::string bot = token.body["status"]["token"];
  auto denied = h.call("GET", "/api/v1/namespaces/demo/secrets", {}, {}, bot);
  CHECK(denied.status == 403);
  CHECK(denied.body == recordedJson("forbidden-403.txt"));
  CHECK(h.call("GET", "/version", {}, {}, bot).status == 200);
  REQUIRE(
      h.post(
           "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles",
           R"({"metadata":{"name":"read-secrets"},"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["list"]}]})")
          .status == 201);
  REQUIRE(
      h.post(
           "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings",
           R"({"metadata":{"name":"bot"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"read-secrets"},"subjects":[{"kind":"ServiceAccount","name":"bot","namespace":"demo"}]})")
          .status == 201);
  CHECK(h.call("GET", "/api/v1/namespaces/demo/secrets", {}, {}, bot).status == 200);
  CHECK(h.call("GET", "/api/v1/secrets", {}, {}, bot).status == 403);
  auto rules = h.call(
      "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
      R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview","spec":{"namespace":"demo"}})",
      "application/json", bot);
  REQUIRE(rules.status == 201);
  bool listsSecrets = false;
  for (const auto& r : rules.body["status"]["resourceRules"]) {
    if (r["resources"] == nlohmann::json::array({"secrets"})) listsSecrets = true;
  }
  CHECK(listsSecrets);

  // The authorizer follows changes to what it already resolved: the Role loses the verb, then
  // gets it back, then the RoleBinding goes away.
  auto roleVerb = [&](const std::string& verb) {
    return h
        .call("PUT", "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles/read-secrets",
              R"({"metadata":{"name":"read-secrets","namespace":"demo"},"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":[")" +
                  verb + R"("]}]})")
        .status;
  };
  REQUIRE(roleVerb("get") == 200);
  CHECK(h.call("GET", "/api/v1/namespaces/demo/secrets", {}, {}, bot).status == 403);
  REQUIRE(roleVerb("list") == 200);
  CHECK(h.call("GET", "/api/v1/namespaces/demo/secrets", {}, {}, bot).status == 200);
  REQUIRE(h.call("DELETE", "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings/bot")
              .status == 200);
  CHECK(h.call("GET", "/api/v1/namespaces/demo/secrets", {}, {}, bot).status == 403);
}

TEST_CASE("Real: granting permissions one does not hold is refused by the escalation check",
          "[testenv][real][auth]") {
  Harness h{Harness::Real{}};
  REQUIRE(
      h.post(
           "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles",
           R"({"metadata":{"name":"role-admin"},"rules":[{"apiGroups":["rbac.authorization.k8s.io"],"resources":["roles"],"verbs":["create"]}]})")
          .status == 201);
  REQUIRE(
      h.post(
           "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings",
           R"({"metadata":{"name":"alice"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"role-admin"},"subjects":[{"kind":"User","name":"alice","apiGroup":"rbac.authorization.k8s.io"}]})")
          .status == 201);
  auto r = h.call(
      "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles",
      R"({"metadata":{"name":"sneaky"},"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}]})",
      "application/json", "alice-token");
  CHECK(r.status == 403);
  CHECK(r.body["message"].get<std::string>().rfind(
            "roles.rbac.authorization.k8s.io \"sneaky\" is forbidden: user \"alice\" "
            "(groups=[\"system:authenticated\"]) is "
            "attempting to grant RBAC permissions not currently held:",
            0) == 0);
  auto fine = h.call(
      "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles",
      R"({"metadata":{"name":"modest"},"rules":[{"apiGroups":["rbac.authorization.k8s.io"],"resources":["roles"],"verbs":["create"]}]})",
      "application/json", "alice-token");
  CHECK(fine.status == 201);
}

TEST_CASE("Real: a verified client certificate authenticates its CN and organizations",
          "[testenv][real][auth]") {
  Harness h{Harness::Real{}};
  auto req = makeRequest("GET", "/api/v1/namespaces/demo/configmaps", "",
                         {{"Accept", "application/json"}});
  req.peer = http::PeerCertificate{"kube-admin", {"system:masters"}};
  CHECK(h.send(req).status == 200);
  auto nobody = makeRequest("GET", "/api/v1/namespaces/demo/configmaps", "",
                            {{"Accept", "application/json"}});
  nobody.peer = http::PeerCertificate{"carol", {}};
  auto denied = h.send(nobody);
  CHECK(denied.status == 403);
  CHECK(denied.body["message"] ==
        "configmaps is forbidden: User \"carol\" cannot list resource \"configmaps\" in API group "
        "\"\" in the namespace \"demo\"");
}

TEST_CASE("Real: TokenRequest and SelfSubjectAccessReview answers carry the recorded managedFields",
          "[testenv][real][managedfields]") {
  // Found by the conformance suite: `spec` is a non-pointer struct, never a new field.
  Harness h{Harness::Real{}};
  REQUIRE(h.post("/api/v1/namespaces/demo/serviceaccounts", recordedRequest("sa-create.txt")).status ==
          201);
  auto token = h.post("/api/v1/namespaces/demo/serviceaccounts/bot/token",
                      recordedRequest("sa-token-request.txt"));
  REQUIRE(token.status == 201);
  sameFieldSets(token.body, "sa-token-request.txt");
  auto review = h.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                       recordedRequest("ssar-create.txt"));
  REQUIRE(review.status == 201);
  sameFieldSets(review.body, "ssar-create.txt");
}
