// crds/samples/: each sample is valid for the CRD schema (as the API server would check it) and
// for the operator, and decodes and encodes back to exactly what the file says.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "api/v1beta1/mesh_membership.h"
#include "api/v1beta1/remote_istio.h"
#include "test/api/schema_check.h"
#include "test/api/yaml_json.h"

using nlohmann::json;
namespace v1 = rio::v1beta1;
using rio::testing::loadYaml;

namespace {

const std::vector<std::string> kRemoteIstioSamples = {
    "crds/samples/istio_v1beta1_remoteistio.yaml",
    "crds/samples/istio_v1beta1_remoteistio_minimal.yaml",
    "crds/samples/istio_v1beta1_remoteistio_full.yaml",
};
const std::vector<std::string> kMeshMembershipSamples = {
    "crds/samples/istio_v1beta1_meshmembership_flat.yaml",
    "crds/samples/istio_v1beta1_meshmembership_gateway.yaml",
    "crds/samples/istio_v1beta1_meshmembership_minimal.yaml",
};

json schema(const char* file) {
  return loadYaml(file)["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
}

template <class T>
void checkSample(const std::string& file, const json& crdSchema) {
  INFO(file);
  const json sample = loadYaml(file);
  for (const auto& e : rio::testing::validateObject(crdSchema, sample))
    FAIL_CHECK("the API server would reject it: " << e);

  auto strict = T::fromJson(sample);
  REQUIRE(strict);
  CHECK(strict->toJson() == sample);  // round trip: nothing lost, nothing added

  T defaulted = *strict;
  defaulted.applyDefaults();
  CHECK(defaulted.validate().empty());
  // Defaults are valid for the schema too.
  for (const auto& e : rio::testing::validateObject(crdSchema, defaulted.toJson()))
    FAIL_CHECK("defaulted: " << e);

  // What the server stores (with its defaults) decodes to the same defaulted object.
  json stored = sample;
  rio::testing::applySchemaDefaults(crdSchema, stored);
  auto fromServer = T::fromJson(stored);
  REQUIRE(fromServer);
  fromServer->applyDefaults();
  CHECK(fromServer->toJson() == defaulted.toJson());
}

}  // namespace

TEST_CASE("Samples: every RemoteIstio sample is valid and round-trips unchanged",
          "[api][samples]") {
  const json s = schema("crds/istio.alibabacloud.com_remoteistios.yaml");
  for (const auto& file : kRemoteIstioSamples) checkSample<v1::RemoteIstio>(file, s);
}

TEST_CASE("Samples: every MeshMembership sample is valid and round-trips unchanged",
          "[api][samples]") {
  const json s = schema("crds/istio.alibabacloud.com_meshmemberships.yaml");
  for (const auto& file : kMeshMembershipSamples) checkSample<v1::MeshMembership>(file, s);
}

TEST_CASE("Samples: the reference procedure's RemoteIstio is the sample, field for field",
          "[api][samples]") {
  // reference/ack-multicluster-istio.txt, step 4.3, with its indentation repaired.
  const json reference = json::parse(R"({
    "apiVersion": "istio.alibabacloud.com/v1beta1",
    "kind": "RemoteIstio",
    "metadata": {"name": "cn-beijing", "namespace": "istio-system"},
    "spec": {
      "autoInjectionNamespaces": ["default"],
      "dockerImage": {"region": "cn-beijing"},
      "gateways": {"k8singress": {}},
      "hub": "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog",
      "includeIPRanges": "*",
      "proxy": {},
      "security": {},
      "sidecarInjector": {"enabled": true, "replicaCount": 1}
    }})");
  CHECK(loadYaml("crds/samples/istio_v1beta1_remoteistio.yaml") == reference);
  auto r = v1::decodeRemoteIstio(reference);
  INFO(r.message());
  REQUIRE(r.ok());
  CHECK(r.object.injectorImage() ==
        "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog/sidecar_injector:" +
            std::string(v1::kDefaultTag));
  CHECK(r.object.spec.sidecarInjector->replicaCount == 1);
  CHECK(r.object.spec.gateways->k8singress->enabled == false);
}

TEST_CASE("Samples: the full samples set every field the C++ types know", "[api][samples]") {
  // So the round trip above exercises every decoder and encoder.
  auto covered = [](const json& object, const rio::meta::KnownFields& fields) {
    std::vector<std::string> missing;
    for (const auto& f : fields) {
      if (f.path.rfind("status", 0) == 0 || f.path.find("[]") != std::string::npos ||
          f.path.find(".*") != std::string::npos) {
        continue;
      }
      std::string pointer = "/" + f.path;
      for (auto& c : pointer) c = c == '.' ? '/' : c;
      if (!object.contains(json::json_pointer(pointer))) missing.push_back(f.path);
    }
    return missing;
  };
  for (const auto& p : covered(loadYaml("crds/samples/istio_v1beta1_remoteistio_full.yaml"),
                               v1::RemoteIstio::knownFields())) {
    FAIL_CHECK("the full RemoteIstio sample does not set " << p);
  }
  json mm = loadYaml("crds/samples/istio_v1beta1_meshmembership_flat.yaml");
  mm.merge_patch(loadYaml("crds/samples/istio_v1beta1_meshmembership_gateway.yaml"));
  for (const auto& p : covered(mm, v1::MeshMembership::knownFields())) {
    FAIL_CHECK("no MeshMembership sample sets " << p);
  }
}
