// Every validation rule, with a passing and a failing case, checked twice: by the C++ validation
// the reconcilers run (error at the expected field path), and by the CRD schema as the API server
// would apply it (rejected when the server enforces the rule; accepted when only the operator can
// tell, e.g. requests above limits or overlapping CIDRs).
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "api/v1beta1/mesh_membership.h"
#include "api/v1beta1/remote_istio.h"
#include "test/api/schema_check.h"
#include "test/api/yaml_json.h"

using nlohmann::json;
namespace v1 = rio::v1beta1;

namespace {

enum class Kind { kRemoteIstio, kMeshMembership };
enum class Server { kRejects, kAccepts };

struct Rule {
  std::string name;
  Kind kind;
  json good;          // merge patch onto the base object: valid
  json bad;           // merge patch onto the base object: breaks the rule
  std::string field;  // where the C++ validation reports it
  Server server = Server::kRejects;
};

json spec(json s) { return json{{"spec", std::move(s)}}; }

const std::vector<Rule>& rules() {
  using K = Kind;
  static const std::vector<Rule> kRules = {
      // ---- RemoteIstio ----------------------------------------------------------------------
      {"the name is a DNS-1123 label",
       K::kRemoteIstio,
       {{"metadata", {{"name", "cn-beijing-2"}}}},
       {{"metadata", {{"name", "cluster.one"}}}},
       "metadata.name"},
      {"autoInjectionNamespaces is a list", K::kRemoteIstio,
       spec({{"autoInjectionNamespaces", {"default"}}}),
       spec({{"autoInjectionNamespaces", "default"}}), "spec.autoInjectionNamespaces"},
      {"autoInjectionNamespaces are DNS-1123 labels", K::kRemoteIstio,
       spec({{"autoInjectionNamespaces", {"default", "shop-1"}}}),
       spec({{"autoInjectionNamespaces", {"default", "Shop"}}}), "spec.autoInjectionNamespaces[1]"},
      {"autoInjectionNamespaces has no duplicates", K::kRemoteIstio,
       spec({{"autoInjectionNamespaces", {"a", "b"}}}),
       spec({{"autoInjectionNamespaces", {"a", "a"}}}), "spec.autoInjectionNamespaces[1]"},
      {"dockerImage.region is a DNS-1123 label", K::kRemoteIstio,
       spec({{"dockerImage", {{"region", "ap-southeast-1"}}}}),
       spec({{"dockerImage", {{"region", "cn beijing"}}}}), "spec.dockerImage.region"},
      {"hub is a registry path without tag or trailing slash", K::kRemoteIstio,
       spec({{"hub", "localhost:5000/istio"}}), spec({{"hub", "docker.io/istio/"}}), "spec.hub"},
      {"hub is a string", K::kRemoteIstio, spec({{"hub", "docker.io/istio"}}), spec({{"hub", 5}}),
       "spec.hub"},
      {"tag is an image tag", K::kRemoteIstio, spec({{"tag", "1.4.10"}}), spec({{"tag", "-rc1"}}),
       "spec.tag"},
      {"includeIPRanges is '*' or CIDRs", K::kRemoteIstio,
       spec({{"includeIPRanges", "10.0.0.0/8,172.16.0.0/12"}}),
       spec({{"includeIPRanges", "10.0.0.0/33"}}), "spec.includeIPRanges"},
      {"includeIPRanges does not mix '*' with CIDRs", K::kRemoteIstio,
       spec({{"includeIPRanges", "*"}}), spec({{"includeIPRanges", "*,10.0.0.0/8"}}),
       "spec.includeIPRanges"},
      {"proxy.image is an image", K::kRemoteIstio,
       spec({{"proxy", {{"image", "docker.io/istio/proxyv2:1.4.10"}}}}),
       spec({{"proxy", {{"image", "proxy v2"}}}}), "spec.proxy.image"},
      {"proxy.concurrency >= 0", K::kRemoteIstio, spec({{"proxy", {{"concurrency", 0}}}}),
       spec({{"proxy", {{"concurrency", -1}}}}), "spec.proxy.concurrency"},
      {"proxy.concurrency <= 256", K::kRemoteIstio, spec({{"proxy", {{"concurrency", 256}}}}),
       spec({{"proxy", {{"concurrency", 257}}}}), "spec.proxy.concurrency"},
      {"proxy.logLevel is a known level", K::kRemoteIstio,
       spec({{"proxy", {{"logLevel", "debug"}}}}), spec({{"proxy", {{"logLevel", "verbose"}}}}),
       "spec.proxy.logLevel"},
      {"proxy.resources are quantities", K::kRemoteIstio,
       spec({{"proxy", {{"resources", {{"requests", {{"cpu", "100m"}, {"memory", 134217728}}}}}}}}),
       spec({{"proxy", {{"resources", {{"requests", {{"cpu", "lots"}}}}}}}}),
       "spec.proxy.resources.requests[cpu]"},
      {"proxy.resources requests do not exceed limits", K::kRemoteIstio,
       spec({{"proxy",
              {{"resources", {{"requests", {{"cpu", "1"}}}, {"limits", {{"cpu", "2"}}}}}}}}),
       spec({{"proxy",
              {{"resources", {{"requests", {{"cpu", "3"}}}, {"limits", {{"cpu", "2000m"}}}}}}}}),
       "spec.proxy.resources.requests[cpu]", Server::kAccepts},
      {"proxy.resources are not negative", K::kRemoteIstio,
       spec({{"proxy", {{"resources", {{"limits", {{"memory", "1Gi"}}}}}}}}),
       spec({{"proxy", {{"resources", {{"limits", {{"memory", "-1Gi"}}}}}}}}),
       "spec.proxy.resources.limits[memory]", Server::kAccepts},
      {"security.trustDomain is a DNS-1123 subdomain", K::kRemoteIstio,
       spec({{"security", {{"trustDomain", "example.org"}}}}),
       spec({{"security", {{"trustDomain", "Cluster.Local"}}}}), "spec.security.trustDomain"},
      {"security.cacerts.rootSecretRef names a Secret", K::kRemoteIstio,
       spec({{"security", {{"cacerts", {{"rootSecretRef", {{"name", "mesh-root"}}}}}}}}),
       spec({{"security", {{"cacerts", {{"rootSecretRef", json::object()}}}}}}),
       "spec.security.cacerts.rootSecretRef.name"},
      {"security.cacerts.certTTL is a duration", K::kRemoteIstio,
       spec({{"security", {{"cacerts", {{"certTTL", "720h"}}}}}}),
       spec({{"security", {{"cacerts", {{"certTTL", "1y"}}}}}}), "spec.security.cacerts.certTTL"},
      {"security.cacerts.certTTL is at least 24h", K::kRemoteIstio,
       spec({{"security", {{"cacerts", {{"certTTL", "24h"}}}}}}),
       spec({{"security", {{"cacerts", {{"certTTL", "23h59m"}}}}}}),
       "spec.security.cacerts.certTTL"},
      {"security.cacerts.certTTL is at most 87600h", K::kRemoteIstio,
       spec({{"security", {{"cacerts", {{"certTTL", "87600h"}}}}}}),
       spec({{"security", {{"cacerts", {{"certTTL", "87601h"}}}}}}),
       "spec.security.cacerts.certTTL"},
      {"security.cacerts.enabled is a boolean", K::kRemoteIstio,
       spec({{"security", {{"cacerts", {{"enabled", false}}}}}}),
       spec({{"security", {{"cacerts", {{"enabled", "no"}}}}}}), "spec.security.cacerts.enabled"},
      {"gateways.k8singress.replicaCount >= 0", K::kRemoteIstio,
       spec({{"gateways", {{"k8singress", {{"replicaCount", 0}}}}}}),
       spec({{"gateways", {{"k8singress", {{"replicaCount", -1}}}}}}),
       "spec.gateways.k8singress.replicaCount"},
      {"gateways.k8singress.replicaCount <= 100", K::kRemoteIstio,
       spec({{"gateways", {{"k8singress", {{"replicaCount", 100}}}}}}),
       spec({{"gateways", {{"k8singress", {{"replicaCount", 101}}}}}}),
       "spec.gateways.k8singress.replicaCount"},
      {"gateways.k8singress.serviceType is a known type", K::kRemoteIstio,
       spec({{"gateways", {{"k8singress", {{"serviceType", "NodePort"}}}}}}),
       spec({{"gateways", {{"k8singress", {{"serviceType", "External"}}}}}}),
       "spec.gateways.k8singress.serviceType"},
      {"gateways.k8singress.enabled is a boolean", K::kRemoteIstio,
       spec({{"gateways", {{"k8singress", {{"enabled", true}}}}}}),
       spec({{"gateways", {{"k8singress", {{"enabled", "true"}}}}}}),
       "spec.gateways.k8singress.enabled"},
      {"gateways.k8singress.serviceAnnotations are strings", K::kRemoteIstio,
       spec({{"gateways", {{"k8singress", {{"serviceAnnotations", {{"a", "b"}}}}}}}}),
       spec({{"gateways", {{"k8singress", {{"serviceAnnotations", {{"a", 1}}}}}}}}),
       "spec.gateways.k8singress.serviceAnnotations[a]"},
      {"sidecarInjector.replicaCount >= 0", K::kRemoteIstio,
       spec({{"sidecarInjector", {{"replicaCount", 3}}}}),
       spec({{"sidecarInjector", {{"replicaCount", -1}}}}), "spec.sidecarInjector.replicaCount"},
      {"sidecarInjector.replicaCount <= 100", K::kRemoteIstio,
       spec({{"sidecarInjector", {{"replicaCount", 0}}}}),
       spec({{"sidecarInjector", {{"replicaCount", 101}}}}), "spec.sidecarInjector.replicaCount"},
      {"sidecarInjector.replicaCount is an integer", K::kRemoteIstio,
       spec({{"sidecarInjector", {{"replicaCount", 2}}}}),
       spec({{"sidecarInjector", {{"replicaCount", 1.5}}}}), "spec.sidecarInjector.replicaCount"},
      {"sidecarInjector.enabled is a boolean", K::kRemoteIstio,
       spec({{"sidecarInjector", {{"enabled", false}}}}),
       spec({{"sidecarInjector", {{"enabled", "true"}}}}), "spec.sidecarInjector.enabled"},
      {"sidecarInjector.failurePolicy is Fail or Ignore", K::kRemoteIstio,
       spec({{"sidecarInjector", {{"failurePolicy", "Ignore"}}}}),
       spec({{"sidecarInjector", {{"failurePolicy", "Retry"}}}}),
       "spec.sidecarInjector.failurePolicy"},
      {"sidecarInjector.image is an image", K::kRemoteIstio,
       spec({{"sidecarInjector", {{"image", "sidecar_injector"}}}}),
       spec({{"sidecarInjector", {{"image", "a b"}}}}), "spec.sidecarInjector.image"},
      {"sidecarInjector is an object", K::kRemoteIstio, spec({{"sidecarInjector", json::object()}}),
       spec({{"sidecarInjector", true}}), "spec.sidecarInjector"},
      // ---- MeshMembership -------------------------------------------------------------------
      {"without clusterName the name is a DNS-1123 label",
       K::kMeshMembership,
       {{"metadata", {{"name", "cluster.one"}}}, {"spec", {{"clusterName", "cluster-one"}}}},
       {{"metadata", {{"name", "cluster.one"}}}},
       "metadata.name"},
      {"clusterName is a DNS-1123 label", K::kMeshMembership, spec({{"clusterName", "prod-1"}}),
       spec({{"clusterName", "Prod_1"}}), "spec.clusterName"},
      {"spec is required", K::kMeshMembership, json::object(), {{"spec", nullptr}}, "spec"},
      {"bootstrapSecretRef is required", K::kMeshMembership, json::object(),
       spec({{"bootstrapSecretRef", nullptr}}), "spec.bootstrapSecretRef"},
      {"bootstrapSecretRef.name is required", K::kMeshMembership,
       spec({{"bootstrapSecretRef", {{"name", "b"}, {"key", "k"}}}}),
       spec({{"bootstrapSecretRef", {{"name", nullptr}, {"key", "k"}}}}),
       "spec.bootstrapSecretRef.name"},
      {"bootstrapSecretRef.name is a Secret name", K::kMeshMembership,
       spec({{"bootstrapSecretRef", {{"name", "b.v1"}}}}),
       spec({{"bootstrapSecretRef", {{"name", "Bad_Name"}}}}), "spec.bootstrapSecretRef.name"},
      {"bootstrapSecretRef.key is a Secret key", K::kMeshMembership,
       spec({{"bootstrapSecretRef", {{"key", "config.yaml"}}}}),
       spec({{"bootstrapSecretRef", {{"key", "a/b"}}}}), "spec.bootstrapSecretRef.key"},
      {"network.mode is Flat or Gateway", K::kMeshMembership,
       spec({{"network", {{"mode", "Gateway"}}}}), spec({{"network", {{"mode", "Mesh"}}}}),
       "spec.network.mode"},
      {"network.vpcCIDRs are CIDRs", K::kMeshMembership,
       spec({{"network", {{"vpcCIDRs", {"10.0.0.0/16", "fd00::/48"}}}}}),
       spec({{"network", {{"vpcCIDRs", {"10.0.0.0/16", "10.0.0.0/33"}}}}}),
       "spec.network.vpcCIDRs[1]"},
      {"network.vpcCIDRs has no duplicates", K::kMeshMembership,
       spec({{"network", {{"vpcCIDRs", {"10.0.0.0/16", "10.1.0.0/16"}}}}}),
       spec({{"network", {{"vpcCIDRs", {"10.0.0.0/16", "10.0.0.0/16"}}}}}),
       "spec.network.vpcCIDRs[1]"},
      {"network.podCIDRs are CIDRs", K::kMeshMembership,
       spec({{"network", {{"podCIDRs", {"10.8.0.0/16"}}}}}),
       spec({{"network", {{"podCIDRs", {"10.8.0.0"}}}}}), "spec.network.podCIDRs[0]"},
      {"network.serviceCIDR is a CIDR", K::kMeshMembership,
       spec({{"network", {{"serviceCIDR", "172.21.0.0/20"}}}}),
       spec({{"network", {{"serviceCIDR", "172.21.0.0"}}}}), "spec.network.serviceCIDR"},
      {"network.serviceCIDR does not overlap a pod CIDR", K::kMeshMembership,
       spec({{"network", {{"podCIDRs", {"10.8.0.0/16"}}, {"serviceCIDR", "10.9.0.0/20"}}}}),
       spec({{"network", {{"podCIDRs", {"10.8.0.0/16"}}, {"serviceCIDR", "10.8.1.0/24"}}}}),
       "spec.network.serviceCIDR", Server::kAccepts},
      {"locality.region is a label value", K::kMeshMembership,
       spec({{"locality", {{"region", "cn-beijing"}}}}),
       spec({{"locality", {{"region", "cn beijing"}}}}), "spec.locality.region"},
      {"locality.zone is a label value", K::kMeshMembership,
       spec({{"locality", {{"zone", "cn-beijing-a"}}}}), spec({{"locality", {{"zone", "-a"}}}}),
       "spec.locality.zone"},
      {"credentials.readerTTL is a duration", K::kMeshMembership,
       spec({{"credentials", {{"readerTTL", "12h"}}}}),
       spec({{"credentials", {{"readerTTL", "1d"}}}}), "spec.credentials.readerTTL"},
      {"credentials.readerTTL is at least 10m", K::kMeshMembership,
       spec({{"credentials", {{"readerTTL", "10m"}}}}),
       spec({{"credentials", {{"readerTTL", "9m59s"}}}}), "spec.credentials.readerTTL"},
      {"credentials.readerTTL is at most 168h", K::kMeshMembership,
       spec({{"credentials", {{"readerTTL", "168h"}}}}),
       spec({{"credentials", {{"readerTTL", "168h1s"}}}}), "spec.credentials.readerTTL"},
      {"credentials.operatorTTL is at least 10m", K::kMeshMembership,
       spec({{"credentials", {{"operatorTTL", "30m"}}}}),
       spec({{"credentials", {{"operatorTTL", "5m"}}}}), "spec.credentials.operatorTTL"},
      {"credentials.operatorTTL is at most 168h", K::kMeshMembership,
       spec({{"credentials", {{"operatorTTL", "2h"}}}}),
       spec({{"credentials", {{"operatorTTL", "169h"}}}}), "spec.credentials.operatorTTL"},
      {"prerequisites.minWorkerNodes >= 0", K::kMeshMembership,
       spec({{"prerequisites", {{"minWorkerNodes", 0}}}}),
       spec({{"prerequisites", {{"minWorkerNodes", -1}}}}), "spec.prerequisites.minWorkerNodes"},
      {"prerequisites.minWorkerNodes <= 1000", K::kMeshMembership,
       spec({{"prerequisites", {{"minWorkerNodes", 1000}}}}),
       spec({{"prerequisites", {{"minWorkerNodes", 1001}}}}), "spec.prerequisites.minWorkerNodes"},
      {"prerequisites.requireMinWorkerNodes is a boolean", K::kMeshMembership,
       spec({{"prerequisites", {{"requireMinWorkerNodes", true}}}}),
       spec({{"prerequisites", {{"requireMinWorkerNodes", "yes"}}}}),
       "spec.prerequisites.requireMinWorkerNodes"},
      {"meshNamespace is a DNS-1123 label", K::kMeshMembership,
       spec({{"meshNamespace", "istio-remote"}}), spec({{"meshNamespace", "Istio"}}),
       "spec.meshNamespace"},
      {"deletion.timeout is a duration without sign", K::kMeshMembership,
       spec({{"deletion", {{"timeout", "0s"}}}}), spec({{"deletion", {{"timeout", "-1m"}}}}),
       "spec.deletion.timeout"},
      {"deletion.timeout is at most 24h", K::kMeshMembership,
       spec({{"deletion", {{"timeout", "24h"}}}}), spec({{"deletion", {{"timeout", "25h"}}}}),
       "spec.deletion.timeout"},
  };
  return kRules;
}

json base(Kind kind) {
  if (kind == Kind::kRemoteIstio) {
    return {{"apiVersion", "istio.alibabacloud.com/v1beta1"},
            {"kind", "RemoteIstio"},
            {"metadata", {{"name", "cn-beijing"}, {"namespace", "istio-system"}}},
            {"spec", json::object()}};
  }
  return {{"apiVersion", "istio.alibabacloud.com/v1beta1"},
          {"kind", "MeshMembership"},
          {"metadata", {{"name", "cn-beijing"}, {"namespace", "istio-system"}}},
          {"spec", {{"bootstrapSecretRef", {{"name", "cn-beijing-bootstrap"}}}}}};
}

json schemaOf(Kind kind) {
  const char* file = kind == Kind::kRemoteIstio
                         ? "crds/istio.alibabacloud.com_remoteistios.yaml"
                         : "crds/istio.alibabacloud.com_meshmemberships.yaml";
  return rio::testing::loadYaml(file)["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
}

struct Outcome {
  bool ok;
  rio::meta::FieldErrors errors;
  std::string message;
};

Outcome operatorValidates(Kind kind, const json& object) {
  if (kind == Kind::kRemoteIstio) {
    auto r = v1::decodeRemoteIstio(object);
    return {r.ok(), r.errors, r.message()};
  }
  auto r = v1::decodeMeshMembership(object);
  return {r.ok(), r.errors, r.message()};
}

std::vector<std::string> serverValidates(const json& schema, json object) {
  rio::testing::applySchemaDefaults(schema, object);  // the server defaults before it validates
  return rio::testing::validateObject(schema, object);
}

}  // namespace

TEST_CASE("Validation: every rule has a passing and a failing case, in C++ and in the CRD schema",
          "[api][validation]") {
  const json riSchema = schemaOf(Kind::kRemoteIstio);
  const json mmSchema = schemaOf(Kind::kMeshMembership);
  for (const auto& rule : rules()) {
    const json& schema = rule.kind == Kind::kRemoteIstio ? riSchema : mmSchema;
    INFO("rule: " << rule.name);
    json good = base(rule.kind);
    good.merge_patch(rule.good);
    json bad = base(rule.kind);
    bad.merge_patch(rule.bad);

    const Outcome goodOutcome = operatorValidates(rule.kind, good);
    INFO("passing case: " << good.dump() << " -> " << goodOutcome.message);
    CHECK(goodOutcome.ok);
    const auto goodServer = serverValidates(schema, good);
    for (const auto& e : goodServer) FAIL_CHECK("server would reject the passing case: " << e);

    const Outcome badOutcome = operatorValidates(rule.kind, bad);
    INFO("failing case: " << bad.dump() << " -> " << badOutcome.message);
    CHECK_FALSE(badOutcome.ok);
    CHECK(badOutcome.errors.hasField(rule.field));
    CHECK(badOutcome.message.find(rule.field + ": ") != std::string::npos);
    const auto badServer = serverValidates(schema, bad);
    if (rule.server == Server::kRejects) {
      CHECK_FALSE(badServer.empty());
    } else {
      for (const auto& e : badServer)
        FAIL_CHECK("only the operator should catch this, but the server rejects: " << e);
    }
  }
}

TEST_CASE("Validation: every problem is reported at once, each with its path",
          "[api][validation]") {
  json bad = base(Kind::kRemoteIstio);
  bad.merge_patch(spec({{"sidecarInjector", {{"replicaCount", -1}, {"failurePolicy", "Retry"}}},
                        {"includeIPRanges", "everything"},
                        {"autoInjectionNamespaces", {"ok", "Not_OK"}},
                        {"proxy", {{"concurrency", "two"}}}}));
  auto r = v1::decodeRemoteIstio(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.size() == 5);
  for (const char* path :
       {"spec.sidecarInjector.replicaCount", "spec.sidecarInjector.failurePolicy",
        "spec.includeIPRanges", "spec.autoInjectionNamespaces[1]", "spec.proxy.concurrency"}) {
    INFO(path);
    CHECK(r.errors.hasField(path));
    CHECK(r.message().find(path) != std::string::npos);
  }
  CHECK(r.message().find("spec.sidecarInjector.replicaCount: must be >= 0 (got -1)") !=
        std::string::npos);
}
