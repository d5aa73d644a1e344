#include "api/v1beta1/mesh_membership.h"

#include <catch2/catch.hpp>

#include "test/api/yaml_json.h"

using nlohmann::json;
using namespace std::chrono;
namespace meta = rio::meta;
namespace v1 = rio::v1beta1;

namespace {

json minimal(json spec = json::object()) {
  json s = {{"bootstrapSecretRef", {{"name", "cn-beijing-bootstrap"}}}};
  s.merge_patch(spec);
  return {{"apiVersion", "istio.alibabacloud.com/v1beta1"},
          {"kind", "MeshMembership"},
          {"metadata", {{"name", "cn-beijing"}, {"namespace", "istio-system"}, {"generation", 2}}},
          {"spec", s}};
}

}  // namespace

TEST_CASE("MeshMembership: defaults fill every optional field", "[api][meshmembership]") {
  auto r = v1::decodeMeshMembership(minimal());
  INFO(r.message());
  REQUIRE(r.ok());
  const v1::MeshMembership& mm = r.object;
  CHECK(mm.spec.clusterName == "cn-beijing");
  CHECK(mm.spec.bootstrapSecretRef.key == "kubeconfig");
  CHECK(mm.spec.network->mode == v1::NetworkMode::kFlat);
  CHECK(mm.spec.credentials->readerTTL == "24h");
  CHECK(mm.spec.credentials->operatorTTL == "1h");
  CHECK(mm.spec.prerequisites->minWorkerNodes == 3);
  CHECK(mm.spec.prerequisites->requireMinWorkerNodes == false);
  CHECK(mm.spec.meshNamespace == "istio-system");
  CHECK(mm.spec.deletion->timeout == "10m");
  CHECK_FALSE(mm.spec.locality);
  CHECK(mm.clusterName() == "cn-beijing");
  CHECK(mm.networkMode() == v1::NetworkMode::kFlat);
  CHECK(mm.meshNamespace() == "istio-system");
  CHECK(mm.readerTokenTTL() == hours{24});
  CHECK(mm.operatorTokenTTL() == hours{1});
  CHECK(mm.deletionTimeout() == minutes{10});
  CHECK(mm.minWorkerNodes() == 3);
  CHECK_FALSE(mm.requireMinWorkerNodes());
}

TEST_CASE("MeshMembership: accessors read what the user set, with or without defaulting",
          "[api][meshmembership]") {
  auto mm = v1::MeshMembership::fromJson(
      minimal({{"clusterName", "prod-bj"},
               {"network", {{"mode", "Gateway"}}},
               {"credentials", {{"readerTTL", "90m"}, {"operatorTTL", "1h30m"}}},
               {"prerequisites", {{"minWorkerNodes", 5}, {"requireMinWorkerNodes", true}}},
               {"meshNamespace", "istio-remote"},
               {"deletion", {{"timeout", "0s"}}}}));
  REQUIRE(mm);
  CHECK(mm->clusterName() == "prod-bj");
  CHECK(mm->networkMode() == v1::NetworkMode::kGateway);
  CHECK(mm->readerTokenTTL() == minutes{90});
  CHECK(mm->operatorTokenTTL() == minutes{90});
  CHECK(mm->deletionTimeout() == seconds{0});
  CHECK(mm->minWorkerNodes() == 5);
  CHECK(mm->requireMinWorkerNodes());
  CHECK(mm->meshNamespace() == "istio-remote");
  auto plain = v1::MeshMembership::fromJson(minimal());
  REQUIRE(plain);
  CHECK(plain->readerTokenTTL() == hours{24});
  CHECK(plain->clusterName() == "cn-beijing");
}

TEST_CASE("MeshMembership: a name that is no DNS-1123 label needs spec.clusterName",
          "[api][meshmembership]") {
  json j = minimal();
  j["metadata"]["name"] = "cluster.one";
  auto r = v1::decodeMeshMembership(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.size() == 1);  // reported once, where the user can fix it
  CHECK(r.errors.hasField("metadata.name"));
  j["spec"]["clusterName"] = "cluster-one";
  CHECK(v1::decodeMeshMembership(j).ok());
}

TEST_CASE("MeshMembership: the service CIDR may not overlap a pod CIDR, and the message names both",
          "[api][meshmembership]") {
  auto r = v1::decodeMeshMembership(minimal(
      {{"network",
        {{"podCIDRs", {"10.0.0.0/16", "10.8.0.0/16"}}, {"serviceCIDR", "10.8.128.0/20"}}}}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.hasField("spec.network.serviceCIDR"));
  CHECK(r.message().find("overlaps pod CIDR 10.8.0.0/16 (spec.network.podCIDRs[1])") !=
        std::string::npos);
}

TEST_CASE("MeshMembership: the bootstrap secret reference is required", "[api][meshmembership]") {
  json j = minimal();
  j["spec"].erase("bootstrapSecretRef");
  auto r = v1::decodeMeshMembership(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.hasField("spec.bootstrapSecretRef"));
  CHECK(r.invalidCondition().message.find("spec.bootstrapSecretRef: required value") !=
        std::string::npos);
  CHECK(r.invalidCondition().observedGeneration == 2);
}

TEST_CASE("MeshMembership: status round-trips through JSON and writes zero nodes",
          "[api][meshmembership]") {
  v1::MeshMembership mm;
  mm.metadata.name = "cn-beijing";
  mm.spec.bootstrapSecretRef.name = "b";
  mm.status.clusterName = "cn-beijing";
  mm.status.kubernetesVersion = "v1.28.3";
  mm.status.workerNodes = 0;
  mm.status.podCIDRs = {"10.8.0.0/16"};
  mm.status.serviceCIDR = "10.9.0.0/20";
  mm.status.region = "cn-beijing";
  mm.status.zone = "cn-beijing-a";
  mm.status.credentialsExpireAt = *meta::parseTime("2026-11-26T18:54:44Z");
  mm.status.probeLatency = meta::formatDuration(milliseconds{35});
  mm.status.clockSkew = "0s";
  mm.status.remoteSecretName = "istio-system/istio-remote-secret-cn-beijing";
  mm.status.bootstrapSecretNoLongerNeeded = true;
  const json j = mm.toJson();
  CHECK(j["status"]["workerNodes"] == 0);  // "0 ready workers" is information, not absence
  CHECK(j["status"]["probeLatency"] == "35ms");
  auto back = v1::MeshMembership::fromJson(j);
  REQUIRE(back);
  CHECK(*back == mm);
}

TEST_CASE("MeshMembership: unknown fields are kept on round trip", "[api][meshmembership]") {
  json j =
      minimal({{"network", {{"mode", "Gateway"}, {"gatewayAddress", "1.2.3.4"}}}, {"newThing", 1}});
  j["status"] = {{"futureCounter", 7}};
  auto mm = v1::MeshMembership::fromJson(j);
  REQUIRE(mm);
  CHECK(mm->toJson() == j);
}

TEST_CASE("MeshMembership: any JSON at any field never throws", "[api][meshmembership]") {
  json sample = rio::testing::loadYaml("crds/samples/istio_v1beta1_meshmembership_flat.yaml");
  sample.merge_patch(
      rio::testing::loadYaml("crds/samples/istio_v1beta1_meshmembership_gateway.yaml"));
  const std::vector<json> replacements = {nullptr,       0, -1, 2.5, "", "x", false, json::array(),
                                          json::object()};
  const json flat = sample.flatten();  // kept alive: items() of a temporary would dangle
  for (const auto& [pointer, value] : flat.items()) {
    for (const auto& replacement : replacements) {
      json mutated = sample;
      mutated[json::json_pointer(pointer)] = replacement;
      REQUIRE_NOTHROW(v1::decodeMeshMembership(mutated));
    }
  }
}
