// Built-in kinds, custom resources and reviews: defaults, server-side fields and subresources as
// the recorded kube-apiserver 1.32 exchanges show them.
#include <catch2/catch.hpp>

#include "controller/core/base64.h"
#include "test/testenv/ipv4.h"
#include "test/testenv/testing/harness.h"

using namespace rio;
using namespace rio::testenv;
using namespace rio::testenv::testing;

namespace {

void installWidgets(Harness& h) {
  auto crd = h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                    recordedRequest("crd-create.txt"));
  REQUIRE(crd.status == 201);
  h.world.scheduler->runDue();
}

}  // namespace

TEST_CASE("Kinds: a Namespace gets its name label, the kubernetes finalizer and phase Active",
          "[testenv][kinds]") {
  Harness h(Harness::defaultOptions(), false);
  auto r = h.post("/api/v1/namespaces", recordedRequest("ns-create.txt"));
  REQUIRE(r.status == 201);
  auto want = recordedJson("ns-create.txt");
  CHECK(r.body["metadata"]["labels"] == want["metadata"]["labels"]);
  CHECK(r.body["spec"] == want["spec"]);
  CHECK(r.body["status"] == want["status"]);
  // The namespace controller adds the default ServiceAccount and the root CA ConfigMap.
  CHECK(h.get("/api/v1/namespaces/demo/serviceaccounts/default").status == 200);
  CHECK(h.get("/api/v1/namespaces/demo/configmaps/kube-root-ca.crt").status == 200);
}

TEST_CASE("Kinds: Secret data must be base64 and stringData is merged into data",
          "[testenv][kinds]") {
  Harness h;
  auto bad =
      h.post("/api/v1/namespaces/demo/secrets", R"({"metadata":{"name":"s"},"data":{"k":"no!"}})");
  CHECK(bad.status == 400);
  CHECK(bad.body["message"] ==
        "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte "
        "2");
  auto ok = h.post(
      "/api/v1/namespaces/demo/secrets",
      R"({"metadata":{"name":"s"},"data":{"a":"YQ=="},"stringData":{"b":"hello","a":"over"}})");
  REQUIRE(ok.status == 201);
  CHECK(ok.body["type"] == "Opaque");
  CHECK(ok.body["data"]["b"] == base64::encode("hello"));
  CHECK(ok.body["data"]["a"] == base64::encode("over"));
  CHECK_FALSE(ok.body.contains("stringData"));
  auto badKey = h.post("/api/v1/namespaces/demo/secrets",
                       R"({"metadata":{"name":"t"},"stringData":{"bad key":"x"}})");
  CHECK(badKey.status == 422);
  CHECK(badKey.body["details"]["causes"][0]["field"] == "data[bad key]");
}

TEST_CASE("Kinds: immutable ConfigMaps refuse data changes", "[testenv][kinds]") {
  Harness h;
  REQUIRE(h.post("/api/v1/namespaces/demo/configmaps",
                 R"({"metadata":{"name":"i"},"immutable":true,"data":{"a":"1"}})")
              .status == 201);
  auto r = h.patch("/api/v1/namespaces/demo/configmaps/i", R"({"data":{"a":"2"}})",
                   "application/merge-patch+json");
  CHECK(r.status == 422);
  CHECK(r.body["details"]["causes"][0]["message"] ==
        "Forbidden: field is immutable when `immutable` is set");
}

TEST_CASE("Kinds: a ServiceAccount token request answers as recorded and the token authenticates",
          "[testenv][kinds][auth]") {
  Harness h;
  REQUIRE(
      h.post("/api/v1/namespaces/demo/serviceaccounts", recordedRequest("sa-create.txt")).status ==
      201);
  auto r = h.post("/api/v1/namespaces/demo/serviceaccounts/bot/token",
                  recordedRequest("sa-token-request.txt"));
  REQUIRE(r.status == 201);
  auto want = recordedJson("sa-token-request.txt");
  CHECK(r.body["kind"] == want["kind"]);
  CHECK(r.body["apiVersion"] == want["apiVersion"]);
  CHECK(r.body["metadata"]["name"] == "bot");
  CHECK(r.body["metadata"]["namespace"] == "demo");
  CHECK(r.body["metadata"]["managedFields"][0]["subresource"] == "token");
  CHECK(r.body["spec"]["expirationSeconds"] == 3600);
  CHECK(r.body["spec"]["boundObjectRef"].is_null());
  CHECK(r.body["spec"]["audiences"] ==
        nlohmann::json::array({"https://kubernetes.default.svc.cluster.local"}));
  auto expiry = parseTimestamp(r.body["status"]["expirationTimestamp"].get<std::string>());
  REQUIRE(expiry);
  CHECK(*expiry - h.world.clock->wallNow() == std::chrono::hours(1));
  std::string token = r.body["status"]["token"];
  auto who = h.call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                    R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})",
                    "application/json", token);
  REQUIRE(who.status == 201);
  CHECK(who.body["status"]["userInfo"]["username"] == "system:serviceaccount:demo:bot");

  CHECK(h.post("/api/v1/namespaces/demo/serviceaccounts/ghost/token", "{}").status == 404);
  auto short_ = h.post("/api/v1/namespaces/demo/serviceaccounts/bot/token",
                       R"({"spec":{"expirationSeconds":60}})");
  CHECK(short_.status == 422);
  CHECK(short_.body["message"] ==
        "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid "
        "value: 60: may not "
        "specify a duration less than 10 minutes");
  // Deleting the ServiceAccount revokes its tokens.
  h.del("/api/v1/namespaces/demo/serviceaccounts/bot");
  CHECK(h.call("GET", "/version", {}, {}, token).status == 401);
}

TEST_CASE("Kinds: a Service gets the recorded defaults and a cluster IP from the service CIDR",
          "[testenv][kinds]") {
  Harness h;
  auto r =
      h.post("/api/v1/namespaces/demo/services", recordedRequest("service-create-defaults.txt"));
  REQUIRE(r.status == 201);
  auto want = recordedJson("service-create-defaults.txt");
  auto spec = r.body["spec"];
  auto ip = parseIpv4(spec["clusterIP"].get<std::string>());
  REQUIRE(ip);
  auto cidr = parseCidr("10.0.0.0/24");
  CHECK(*ip > cidr->base + 1);
  CHECK(*ip < cidr->base + 255);
  CHECK(spec["clusterIPs"] == nlohmann::json::array({spec["clusterIP"]}));
  spec.erase("clusterIP");
  spec.erase("clusterIPs");
  auto wantSpec = want["spec"];
  wantSpec.erase("clusterIP");
  wantSpec.erase("clusterIPs");
  CHECK(spec == wantSpec);
  CHECK(r.body["status"] == want["status"]);
  // The same address cannot be taken twice; changing it is refused.
  auto dup =
      h.post("/api/v1/namespaces/demo/services",
             R"({"metadata":{"name":"s2"},"spec":{"clusterIP":")" +
                 r.body["spec"]["clusterIP"].get<std::string>() + R"(","ports":[{"port":80}]}})");
  CHECK(dup.status == 422);
  CHECK(dup.body["message"].get<std::string>().find("provided IP is already allocated") !=
        std::string::npos);
  auto outside = h.post(
      "/api/v1/namespaces/demo/services",
      R"({"metadata":{"name":"s3"},"spec":{"clusterIP":"192.168.9.9","ports":[{"port":80}]}})");
  CHECK(outside.status == 422);
  auto kubernetes = h.get("/api/v1/namespaces/default/services/kubernetes");
  REQUIRE(kubernetes.status == 200);
  CHECK(kubernetes.body["spec"]["clusterIP"] == "10.0.0.1");
  auto np =
      h.post("/api/v1/namespaces/demo/services",
             R"({"metadata":{"name":"np"},"spec":{"type":"NodePort","ports":[{"port":80}]}})");
  REQUIRE(np.status == 201);
  auto nodePort = np.body["spec"]["ports"][0]["nodePort"].get<int>();
  CHECK(nodePort >= 30000);
  CHECK(nodePort <= 32767);
  CHECK(np.body["spec"]["externalTrafficPolicy"] == "Cluster");
}

TEST_CASE("Kinds: a Deployment gets the recorded defaults", "[testenv][kinds]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.simulation.deployments = false;
  Harness h(o);
  auto r = h.post("/apis/apps/v1/namespaces/demo/deployments",
                  recordedRequest("deployment-create-defaults.txt"));
  REQUIRE(r.status == 201);
  auto want = recordedJson("deployment-create-defaults.txt");
  CHECK(r.body["spec"] == want["spec"]);
  CHECK(r.body["status"] == want["status"]);
  CHECK(r.body["metadata"]["generation"] == 1);
}

TEST_CASE("Kinds: the Deployment status subresource is the only way to write status",
          "[testenv][kinds][status]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.simulation.deployments = false;
  Harness h(o);
  REQUIRE(h.post("/apis/apps/v1/namespaces/demo/deployments",
                 recordedRequest("deployment-create-defaults.txt"))
              .status == 201);
  auto main = h.patch("/apis/apps/v1/namespaces/demo/deployments/d1",
                      R"({"status":{"readyReplicas":2}})", "application/merge-patch+json");
  REQUIRE(main.status == 200);
  CHECK(main.body["status"] == nlohmann::json::object());
  auto status = h.patch("/apis/apps/v1/namespaces/demo/deployments/d1/status",
                        R"({"spec":{"replicas":7},"status":{"readyReplicas":2}})",
                        "application/merge-patch+json");
  REQUIRE(status.status == 200);
  CHECK(status.body["status"]["readyReplicas"] == 2);
  CHECK(status.body["spec"]["replicas"] == 2);
}

TEST_CASE("Kinds: the scale subresource reads and writes Deployment replicas", "[testenv][kinds]") {
  Harness h;
  REQUIRE(h.post("/apis/apps/v1/namespaces/demo/deployments",
                 recordedRequest("deployment-create-defaults.txt"))
              .status == 201);
  auto scale = h.get("/apis/apps/v1/namespaces/demo/deployments/d1/scale");
  REQUIRE(scale.status == 200);
  CHECK(scale.body["kind"] == "Scale");
  CHECK(scale.body["spec"]["replicas"] == 2);
  CHECK(scale.body["status"]["selector"] == "app=d1");
  auto up = h.patch("/apis/apps/v1/namespaces/demo/deployments/d1/scale",
                    R"({"spec":{"replicas":5}})", "application/merge-patch+json");
  REQUIRE(up.status == 200);
  CHECK(h.get("/apis/apps/v1/namespaces/demo/deployments/d1").body["spec"]["replicas"] == 5);
}

TEST_CASE("Kinds: a MutatingWebhookConfiguration gets the recorded webhook defaults",
          "[testenv][kinds]") {
  Harness h;
  auto r = h.post("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
                  recordedRequest("mwc-create.txt"));
  REQUIRE(r.status == 201);
  CHECK(r.body["webhooks"] == recordedJson("mwc-create.txt")["webhooks"]);
  auto bad = h.post("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
                    R"({"metadata":{"name":"x"},"webhooks":[{"name":"short","clientConfig":{}}]})");
  CHECK(bad.status == 422);
}

TEST_CASE("Kinds: Endpoints, Lease and EndpointSlice keep what was sent plus recorded defaults",
          "[testenv][kinds]") {
  Harness h;
  auto ep = h.post("/api/v1/namespaces/demo/endpoints", recordedRequest("endpoints-create.txt"));
  REQUIRE(ep.status == 201);
  CHECK(ep.body["subsets"] == recordedJson("endpoints-create.txt")["subsets"]);
  auto lease = h.post("/apis/coordination.k8s.io/v1/namespaces/demo/leases",
                      recordedRequest("lease-create.txt"));
  REQUIRE(lease.status == 201);
  CHECK(lease.body["spec"] == recordedJson("lease-create.txt")["spec"]);
  CHECK_FALSE(lease.body["metadata"].contains("generation"));
  auto slice = h.post(
      "/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices",
      R"({"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["10.1.2.3"]}],"ports":[{"port":80}]})");
  REQUIRE(slice.status == 201);
  CHECK(slice.body["ports"][0]["protocol"] == "TCP");
  // PUT creates Leases and Endpoints that do not exist (create-on-update).
  auto put = h.put(
      "/apis/coordination.k8s.io/v1/namespaces/demo/leases/other",
      R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"other"},"spec":{"holderIdentity":"b"}})");
  CHECK(put.status == 201);
  CHECK(
      h.put("/api/v1/namespaces/demo/configmaps/none", R"({"metadata":{"name":"none"}})").status ==
      404);
}

TEST_CASE("Kinds: events.k8s.io and core Events are two views of the same objects",
          "[testenv][kinds]") {
  Harness h;
  auto r = h.post("/apis/events.k8s.io/v1/namespaces/demo/events",
                  recordedRequest("event-create-eventsv1.txt"));
  REQUIRE(r.status == 201);
  auto want = recordedJson("event-create-eventsv1.txt");
  for (const char* k : {"eventTime", "reportingController", "reportingInstance", "action", "reason",
                        "regarding", "note", "type", "deprecatedSource", "deprecatedFirstTimestamp",
                        "deprecatedLastTimestamp"}) {
    INFO(k);
    CHECK(r.body[k] == want[k]);
  }
  auto core = h.get("/api/v1/namespaces/demo/events/e1");
  REQUIRE(core.status == 200);
  CHECK(core.body["apiVersion"] == "v1");
  CHECK(core.body["message"] == "ok");
  CHECK(core.body["involvedObject"]["name"] == "c1");
  CHECK(core.body["reportingComponent"] == "example.com/op");
  auto byField = h.get("/api/v1/namespaces/demo/events?fieldSelector=involvedObject.name%3Dc1");
  CHECK(byField.body["items"].size() == 1);
  h.world.clock->advance(std::chrono::seconds(5));
  auto table = h.call("GET", "/api/v1/namespaces/demo/events", {}, {}, "admin-token",
                      {{"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  REQUIRE(table.body["rows"].size() == 1);
  CHECK(table.body["rows"][0]["cells"] ==
        nlohmann::json::array(
            {"328d", "Normal", "Joined", "configmap/c1", "ok"}));  // from eventTime (2026-01-01)
}

TEST_CASE("Kinds: seeded nodes are Ready with pod CIDR slices and topology labels",
          "[testenv][kinds][simulation]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.simulation.nodes = 3;
  o.podCidr = "10.244.0.0/16";
  o.region = "cn-beijing";
  o.gitVersion = "v1.30.2";
  Harness h(o);
  auto nodes = h.get("/api/v1/nodes");
  REQUIRE(nodes.body["items"].size() == 3);
  auto n2 = nodes.body["items"][1];
  CHECK(n2["metadata"]["name"] == "node-2");
  CHECK(n2["spec"]["podCIDR"] == "10.244.1.0/24");
  CHECK(n2["metadata"]["labels"]["topology.kubernetes.io/region"] == "cn-beijing");
  CHECK(n2["metadata"]["labels"]["topology.kubernetes.io/zone"] == "cn-beijing-b");
  CHECK(n2["status"]["nodeInfo"]["kubeletVersion"] == "v1.30.2");
  bool ready = false;
  for (const auto& c : n2["status"]["conditions"]) {
    if (c["type"] == "Ready") ready = c["status"] == "True";
  }
  CHECK(ready);
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    CHECK(h.get(std::string("/api/v1/namespaces/") + ns).status == 200);
  }
}

TEST_CASE("Kinds: simulation switches turn seeding off", "[testenv][simulation]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.simulation.nodes = 0;
  o.simulation.seedNamespaces = false;
  o.simulation.seedRbac = false;
  Harness h(o, false);
  CHECK(h.get("/api/v1/nodes").body["items"].empty());
  CHECK(h.get("/api/v1/namespaces").body["items"].empty());
  CHECK(h.get("/apis/rbac.authorization.k8s.io/v1/clusterroles").body["items"].empty());
}

TEST_CASE("Kinds: Deployments become Available at once by default", "[testenv][simulation]") {
  Harness h;
  REQUIRE(h.post("/apis/apps/v1/namespaces/demo/deployments",
                 recordedRequest("deployment-create-defaults.txt"))
              .status == 201);
  auto d = h.get("/apis/apps/v1/namespaces/demo/deployments/d1").body;
  CHECK(d["status"]["availableReplicas"] == 2);
  CHECK(d["status"]["readyReplicas"] == 2);
  CHECK(d["status"]["observedGeneration"] == 1);
  CHECK(d["status"]["conditions"][0]["type"] == "Available");
  CHECK(d["status"]["conditions"][0]["status"] == "True");
  bool managedByKcm = false;
  for (const auto& mf : d["metadata"]["managedFields"]) {
    if (mf["manager"] == "kube-controller-manager" && mf["subresource"] == "status")
      managedByKcm = true;
  }
  CHECK(managedByKcm);
}

TEST_CASE("Kinds: Deployments become Available after the configured delay",
          "[testenv][simulation]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.simulation.deploymentReadyDelay = std::chrono::seconds(5);
  Harness h(o);
  REQUIRE(h.post("/apis/apps/v1/namespaces/demo/deployments",
                 recordedRequest("deployment-create-defaults.txt"))
              .status == 201);
  auto d = h.get("/apis/apps/v1/namespaces/demo/deployments/d1").body;
  CHECK(d["status"]["conditions"][0]["status"] == "False");
  CHECK(d["status"]["unavailableReplicas"] == 2);
  h.world.scheduler->advance(std::chrono::seconds(4));
  CHECK(h.get("/apis/apps/v1/namespaces/demo/deployments/d1")
            .body["status"]["conditions"][0]["status"] == "False");
  h.world.scheduler->advance(std::chrono::seconds(1));
  d = h.get("/apis/apps/v1/namespaces/demo/deployments/d1").body;
  CHECK(d["status"]["conditions"][0]["status"] == "True");
  CHECK(d["status"]["availableReplicas"] == 2);
  // A spec change restarts the clock.
  h.patch("/apis/apps/v1/namespaces/demo/deployments/d1", R"({"spec":{"replicas":3}})",
          "application/merge-patch+json");
  d = h.get("/apis/apps/v1/namespaces/demo/deployments/d1").body;
  CHECK(d["status"]["observedGeneration"] == 2);
  CHECK(d["status"]["conditions"][0]["status"] == "False");
  h.world.scheduler->advance(std::chrono::seconds(5));
  CHECK(h.get("/apis/apps/v1/namespaces/demo/deployments/d1").body["status"]["availableReplicas"] ==
        3);
}

TEST_CASE("Kinds: a CRD becomes Established and serves its custom resources",
          "[testenv][kinds][crd]") {
  Harness h;
  auto crd = h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                    recordedRequest("crd-create.txt"));
  REQUIRE(crd.status == 201);
  auto wantCreate = recordedJson("crd-create.txt");
  CHECK(crd.body["spec"] == wantCreate["spec"]);
  CHECK(crd.body["status"] == wantCreate["status"]);
  h.world.scheduler->runDue();
  auto got = h.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
  auto want = recordedJson("crd-get-established.txt");
  CHECK(got.body["status"]["acceptedNames"] == want["status"]["acceptedNames"]);
  REQUIRE(got.body["status"]["conditions"].size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    for (const char* k : {"type", "status", "reason", "message"}) {
      CHECK(got.body["status"]["conditions"][i][k] == want["status"]["conditions"][i][k]);
    }
  }
  auto cr =
      h.post("/apis/example.com/v1/namespaces/demo/widgets", recordedRequest("cr-create.txt"));
  REQUIRE(cr.status == 201);
  CHECK(cr.body["spec"] == recordedJson("cr-create.txt")["spec"]);
  CHECK(cr.body["metadata"]["generation"] == 1);
  // Cluster-wide list of a namespaced custom resource.
  CHECK(h.get("/apis/example.com/v1/widgets").body["items"].size() == 1);
}

TEST_CASE("Kinds: custom resources are validated against the CRD schema as recorded",
          "[testenv][kinds][crd]") {
  Harness h;
  installWidgets(h);
  auto r = h.post("/apis/example.com/v1/namespaces/demo/widgets",
                  recordedRequest("cr-create-invalid-422.txt"));
  CHECK(r.status == 422);
  CHECK(r.body == recordedJson("cr-create-invalid-422.txt"));
  auto type = h.post(
      "/apis/example.com/v1/namespaces/demo/widgets",
      R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w3"},"spec":{"size":"big"}})");
  CHECK(type.status == 422);
  CHECK(type.body["details"]["causes"][0]["reason"] == "FieldValueTypeInvalid");
  CHECK(type.body["details"]["causes"][0]["message"] ==
        "Invalid value: \"big\": spec.size in body must be of type integer: \"string\"");
}

TEST_CASE(
    "Kinds: unknown custom resource fields are pruned with a warning, or refused with "
    "fieldValidation=Strict",
    "[testenv][kinds][crd]") {
  Harness h;
  installWidgets(h);
  auto warned = h.post(
      "/apis/example.com/v1/namespaces/demo/widgets",
      R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w4"},"spec":{"size":2,"color":"red"}})");
  REQUIRE(warned.status == 201);
  CHECK_FALSE(warned.body["spec"].contains("color"));
  CHECK(warned.header("Warning").value_or("").find("unknown field \\\"spec.color\\\"") !=
        std::string::npos);
  auto strict = h.post(
      "/apis/example.com/v1/namespaces/demo/widgets?fieldValidation=Strict",
      R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w5"},"spec":{"color":"red"}})");
  CHECK(strict.status == 400);
  CHECK(strict.body["message"] ==
        "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown "
        "field \"spec.color\"");
}

TEST_CASE(
    "Kinds: the main endpoint ignores status and /status ignores everything else, as recorded",
    "[testenv][kinds][status][crd]") {
  Harness h;
  installWidgets(h);
  REQUIRE(h.post("/apis/example.com/v1/namespaces/demo/widgets", recordedRequest("cr-create.txt"))
              .status == 201);
  auto status = h.patch("/apis/example.com/v1/namespaces/demo/widgets/w1/status",
                        recordedRequest("cr-status-patch.txt"), "application/merge-patch+json");
  REQUIRE(status.status == 200);
  auto wantStatus = recordedJson("cr-status-patch.txt");
  CHECK(status.body["status"] == wantStatus["status"]);
  CHECK(status.body["spec"] == wantStatus["spec"]);
  CHECK(status.body["metadata"]["generation"] == 1);
  auto main = h.patch("/apis/example.com/v1/namespaces/demo/widgets/w1",
                      recordedRequest("cr-main-endpoint-ignores-status.txt"),
                      "application/merge-patch+json");
  REQUIRE(main.status == 200);
  auto wantMain = recordedJson("cr-main-endpoint-ignores-status.txt");
  CHECK(main.body["status"] == wantMain["status"]);
  CHECK(main.body["spec"] == wantMain["spec"]);
  CHECK(main.body["metadata"]["generation"] == 2);
  // /status ignores spec and metadata changes.
  auto sneaky = h.patch("/apis/example.com/v1/namespaces/demo/widgets/w1/status",
                        R"({"spec":{"size":99},"metadata":{"labels":{"x":"y"}}})",
                        "application/merge-patch+json");
  REQUIRE(sneaky.status == 200);
  CHECK(sneaky.body["spec"]["size"] == 4);
  CHECK_FALSE(sneaky.body["metadata"].contains("labels"));
}

TEST_CASE("Kinds: custom resource updates require a resourceVersion", "[testenv][kinds][crd]") {
  Harness h;
  installWidgets(h);
  REQUIRE(h.post("/apis/example.com/v1/namespaces/demo/widgets", recordedRequest("cr-create.txt"))
              .status == 201);
  auto r = h.put(
      "/apis/example.com/v1/namespaces/demo/widgets/w1",
      R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":5}})");
  CHECK(r.status == 422);
  CHECK(r.body["message"] ==
        "Widget.example.com \"w1\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must "
        "be specified for an update");
}

TEST_CASE("Kinds: deleting a CRD deletes its custom resources and stops serving them",
          "[testenv][kinds][crd]") {
  Harness h;
  installWidgets(h);
  REQUIRE(h.post("/apis/example.com/v1/namespaces/demo/widgets", recordedRequest("cr-create.txt"))
              .status == 201);
  auto w = h.watch("/apis/example.com/v1/namespaces/demo/widgets?watch=1");
  auto del = h.del("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
  REQUIRE(del.status == 200);
  CHECK(del.body["metadata"]["finalizers"] ==
        nlohmann::json::array({"customresourcecleanup.apiextensions.k8s.io"}));
  h.world.scheduler->runDue();
  CHECK(
      h.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com").status ==
      404);
  CHECK(h.get("/apis/example.com/v1/namespaces/demo/widgets").status == 404);
  CHECK(w.exchange->finished());
  auto events = w.events();
  REQUIRE(events.size() == 2);
  CHECK(events[1]["type"] == "DELETED");
}

TEST_CASE(
    "Kinds: SelfSubjectAccessReview answers with the authorizer's decision in the recorded shape",
    "[testenv][kinds][auth]") {
  Harness h;
  h.world.authorizer->setRule([](const UserInfo&, const Attributes& a) {
    return Decision{a.resource != "secrets", ""};
  });
  auto r = h.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                  recordedRequest("ssar-create.txt"), "application/json", "alice-token");
  REQUIRE(r.status == 201);
  auto want = recordedJson("ssar-create.txt");
  CHECK(r.body["kind"] == want["kind"]);
  CHECK(r.body["spec"] == want["spec"]);
  CHECK(r.body["status"] == want["status"]);
  CHECK(r.body["metadata"]["creationTimestamp"].is_null());
  auto rules = h.call(
      "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
      R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview","spec":{"namespace":"demo"}})",
      "application/json", "alice-token");
  REQUIRE(rules.status == 201);
  CHECK(rules.body["status"]["resourceRules"][0]["resources"] ==
        nlohmann::json::array({"configmaps"}));
  CHECK(rules.body["status"]["incomplete"] == false);
}

TEST_CASE("Kinds: TokenReview reports who a token belongs to", "[testenv][kinds][auth]") {
  Harness h;
  auto r = h.post(
      "/apis/authentication.k8s.io/v1/tokenreviews",
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"alice-token"}})");
  REQUIRE(r.status == 201);
  CHECK(r.body["status"]["authenticated"] == true);
  CHECK(r.body["status"]["user"]["username"] == "alice");
}

TEST_CASE("Kinds: RBAC objects are validated and roleRef cannot change", "[testenv][kinds][rbac]") {
  Harness h;
  auto bad = h.post("/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles",
                    R"({"metadata":{"name":"r"},"rules":[{"resources":["pods"]}]})");
  CHECK(bad.status == 422);
  auto rb = h.post(
      "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings",
      R"({"metadata":{"name":"rb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"User","name":"alice"}]})");
  REQUIRE(rb.status == 201);
  CHECK(rb.body["subjects"][0]["apiGroup"] == "rbac.authorization.k8s.io");
  auto change = h.patch("/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings/rb",
                        R"({"roleRef":{"name":"edit"}})", "application/merge-patch+json");
  CHECK(change.status == 422);
  CHECK(change.body["details"]["causes"][0]["field"] == "roleRef");
  CHECK(h.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin").status == 200);
}

TEST_CASE("Kinds: cluster-scoped custom resources live outside namespaces",
          "[testenv][kinds][crd]") {
  Harness h;
  auto crd = nlohmann::json::parse(recordedRequest("crd-create.txt"));
  crd["metadata"]["name"] = "gadgets.example.com";
  crd["spec"]["scope"] = "Cluster";
  crd["spec"]["names"] = {{"plural", "gadgets"}, {"singular", "gadget"}, {"kind", "Gadget"}};
  REQUIRE(h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd.dump()).status ==
          201);
  h.world.scheduler->runDue();
  auto g = h.post(
      "/apis/example.com/v1/gadgets",
      R"({"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g1"},"spec":{"size":1}})");
  REQUIRE(g.status == 201);
  CHECK_FALSE(g.body["metadata"].contains("namespace"));
  CHECK(h.get("/apis/example.com/v1/gadgets/g1").status == 200);
  CHECK(h.get("/apis/example.com/v1/namespaces/demo/gadgets/g1").status == 404);
  bool namespaced = true;
  auto discovery = h.get("/apis/example.com/v1").body;
  for (const auto& r : discovery["resources"]) {
    if (r["name"] == "gadgets") namespaced = r["namespaced"];
  }
  CHECK_FALSE(namespaced);
}

TEST_CASE("Kinds: in-process requests run as cluster admin without faults or accounting",
          "[testenv][kinds]") {
  Harness h;
  h.server->setBlackhole(true);
  h.server->resetStats();
  auto r = h.server->request("POST", "/api/v1/namespaces/demo/configmaps",
                             {{"metadata", {{"name", "inproc"}}}});
  CHECK(r.status == 201);
  CHECK(r.body["metadata"]["name"] == "inproc");
  auto got = h.server->get(kube::resources::kConfigMaps, "demo", "inproc");
  REQUIRE(got);
  CHECK((*got)["kind"] == "ConfigMap");
  CHECK(h.server->list(kube::resources::kConfigMaps, "demo").size() == 2);
  CHECK(h.server->stats().total == 0);
}
