#include "api/v1beta1/remote_istio.h"

#include <catch2/catch.hpp>

#include "test/api/yaml_json.h"

using nlohmann::json;
namespace meta = rio::meta;
namespace v1 = rio::v1beta1;

namespace {

json minimal(json spec = json::object()) {
  return {{"apiVersion", "istio.alibabacloud.com/v1beta1"},
          {"kind", "RemoteIstio"},
          {"metadata", {{"name", "cn-beijing"}, {"namespace", "istio-system"}, {"generation", 4}}},
          {"spec", std::move(spec)}};
}

}  // namespace

TEST_CASE("RemoteIstio: the reference sample decodes into typed fields", "[api][remoteistio]") {
  auto ri = v1::RemoteIstio::fromJson(
      rio::testing::loadYaml("crds/samples/istio_v1beta1_remoteistio.yaml"));
  REQUIRE(ri);
  CHECK(ri->metadata.name == "cn-beijing");
  CHECK(ri->metadata.namespace_ == "istio-system");
  CHECK(ri->spec.autoInjectionNamespaces == std::vector<std::string>{"default"});
  CHECK(ri->spec.dockerImage->region == "cn-beijing");
  CHECK(ri->spec.hub == "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog");
  CHECK(ri->spec.includeIPRanges == "*");
  CHECK(ri->spec.proxy == v1::ProxyConfig{});
  CHECK(ri->spec.security == v1::SecurityConfig{});
  CHECK(ri->spec.gateways->k8singress == v1::K8sIngressGateway{});
  CHECK(ri->spec.sidecarInjector->enabled == true);
  CHECK(ri->spec.sidecarInjector->replicaCount == 1);
  CHECK_FALSE(ri->spec.tag);
}

TEST_CASE("RemoteIstio: defaults fill every optional field", "[api][remoteistio]") {
  auto r = v1::decodeRemoteIstio(minimal());
  REQUIRE(r.ok());
  const v1::RemoteIstioSpec& s = r.object.spec;
  CHECK(s.hub == std::string(v1::kDefaultHub));
  CHECK(s.tag == std::string(v1::kDefaultTag));
  CHECK(s.includeIPRanges == "*");
  CHECK(s.sidecarInjector->enabled == true);
  CHECK(s.sidecarInjector->replicaCount == 1);
  CHECK(s.sidecarInjector->failurePolicy == v1::WebhookFailurePolicy::kFail);
  CHECK(s.sidecarInjector->image == "sidecar_injector");
  CHECK(s.sidecarInjector->resources->requests.at("cpu").toString() == "10m");
  CHECK(s.proxy->image == "proxyv2");
  CHECK(s.proxy->concurrency == 2);
  CHECK(s.proxy->logLevel == v1::ProxyLogLevel::kWarning);
  CHECK(s.proxy->resources->limits.at("memory").toString() == "1024Mi");
  CHECK(s.security->trustDomain == "cluster.local");
  CHECK(s.security->cacerts->enabled == true);
  CHECK(s.security->cacerts->certTTL == "8760h");
  CHECK_FALSE(s.security->cacerts->rootSecretRef);
  CHECK(s.gateways->k8singress->enabled == false);
  CHECK(s.gateways->k8singress->replicaCount == 1);
  CHECK(s.gateways->k8singress->serviceType == v1::GatewayServiceType::kLoadBalancer);
  CHECK_FALSE(s.autoInjectionNamespaces);
  CHECK(r.object.injectorImage() ==
        "docker.io/istio/sidecar_injector:" + std::string(v1::kDefaultTag));
  CHECK(r.object.proxyImage() == "docker.io/istio/proxyv2:" + std::string(v1::kDefaultTag));
}

TEST_CASE("RemoteIstio: the hub defaults from dockerImage.region, and an explicit hub wins",
          "[api][remoteistio]") {
  auto fromRegion = v1::decodeRemoteIstio(minimal({{"dockerImage", {{"region", "cn-hangzhou"}}}}));
  REQUIRE(fromRegion.ok());
  CHECK(fromRegion.object.spec.hub == "registry.cn-hangzhou.aliyuncs.com/aliacs-app-catalog");
  CHECK(fromRegion.object.proxyImage() ==
        "registry.cn-hangzhou.aliyuncs.com/aliacs-app-catalog/proxyv2:" +
            std::string(v1::kDefaultTag));
  auto explicitHub = v1::decodeRemoteIstio(minimal({{"dockerImage", {{"region", "cn-hangzhou"}}},
                                                    {"hub", "docker.io/istio"},
                                                    {"tag", "1.4.10"}}));
  REQUIRE(explicitHub.ok());
  CHECK(explicitHub.object.injectorImage() == "docker.io/istio/sidecar_injector:1.4.10");
  // Without applyDefaults the accessors give the same answers.
  auto plain = v1::RemoteIstio::fromJson(minimal({{"dockerImage", {{"region", "cn-hangzhou"}}}}));
  REQUIRE(plain);
  CHECK(plain->hub() == "registry.cn-hangzhou.aliyuncs.com/aliacs-app-catalog");
}

TEST_CASE("RemoteIstio: an image with a registry path is used as is", "[api][remoteistio]") {
  auto r =
      v1::decodeRemoteIstio(minimal({{"proxy", {{"image", "my.registry/istio/proxyv2:1.1.4-fix"}}},
                                     {"sidecarInjector", {{"image", "sidecar_injector"}}}}));
  REQUIRE(r.ok());
  CHECK(r.object.proxyImage() == "my.registry/istio/proxyv2:1.1.4-fix");
  CHECK(r.object.injectorImage() ==
        "docker.io/istio/sidecar_injector:" + std::string(v1::kDefaultTag));
}

TEST_CASE("RemoteIstio: defaults never override what the user set", "[api][remoteistio]") {
  auto r = v1::decodeRemoteIstio(
      minimal({{"sidecarInjector", {{"enabled", false}, {"replicaCount", 0}}},
               {"includeIPRanges", ""},
               {"proxy", {{"resources", {{"requests", {{"cpu", "50m"}}}}}}}}));
  REQUIRE(r.ok());
  CHECK(r.object.spec.sidecarInjector->enabled == false);
  CHECK(r.object.spec.sidecarInjector->replicaCount == 0);
  CHECK(r.object.spec.includeIPRanges == "");
  CHECK(r.object.spec.proxy->resources->requests.size() == 1);
  CHECK(r.object.spec.proxy->resources->limits.empty());
}

TEST_CASE("RemoteIstio: fields a newer client wrote survive decode and encode at every level",
          "[api][remoteistio]") {
  json j = minimal(
      {{"hub", "docker.io/istio"},
       {"futureField", {{"a", 1}}},
       {"sidecarInjector", {{"enabled", true}, {"futureKnob", 3}}},
       {"gateways",
        {{"k8singress", {{"enabled", true}, {"x", "y"}}},
         {"istio-egressgateway", {{"enabled", true}}}}},
       {"security", {{"cacerts", {{"rootSecretRef", {{"name", "r"}, {"namespace", "n"}}}}}}}});
  j["metadata"]["managedFields"] = json::array({{{"manager", "kubectl"}}});
  j["status"] = {{"phase", "Ready"},
                 {"futureStatus", true},
                 {"conditions", json::array({{{"type", "Ready"},
                                              {"status", "True"},
                                              {"reason", "Reconciled"},
                                              {"message", ""},
                                              {"lastTransitionTime", "2026-11-25T18:54:44Z"},
                                              {"severity", "Info"}}})}};
  j["extra"] = "top";
  auto ri = v1::RemoteIstio::fromJson(j);
  REQUIRE(ri);
  CHECK(ri->toJson() == j);
  // Changing a modelled field keeps the unknown ones around it.
  ri->spec.sidecarInjector->replicaCount = 2;
  ri->spec.hub.reset();
  const json out = ri->toJson();
  CHECK(out["spec"]["sidecarInjector"]["futureKnob"] == 3);
  CHECK(out["spec"]["sidecarInjector"]["replicaCount"] == 2);
  CHECK_FALSE(out["spec"].contains("hub"));
  CHECK(out["spec"]["futureField"] == j["spec"]["futureField"]);
}

TEST_CASE("RemoteIstio: status round-trips through JSON", "[api][remoteistio]") {
  v1::RemoteIstio ri;
  ri.metadata.name = "cn-beijing";
  ri.status.observedGeneration = 3;
  ri.status.phase = std::string(v1::phase::kReady);
  ri.status.kubernetesVersion = "v1.28.3";
  ri.status.labeledNamespaces = {"default", "shop"};
  ri.status.lastSyncTime = *meta::parseTime("2026-11-25T18:54:44Z");
  ri.status.components.push_back(
      {std::string(v1::component::kSidecarInjector), true, 2, 2, "", json::object()});
  ri.status.components.push_back({std::string(v1::component::kIngressGateway), false, std::nullopt,
                                  std::nullopt, "disabled", json::object()});
  meta::Condition ready;
  ready.type = std::string(v1::condition::kReady);
  ready.status = meta::ConditionStatus::kTrue;
  ready.reason = std::string(v1::reason::kReconciled);
  meta::setCondition(ri.status.conditions, ready, *meta::parseTime("2026-11-25T18:54:44Z"));
  const json j = ri.toJson();
  CHECK(j["apiVersion"] == "istio.alibabacloud.com/v1beta1");
  CHECK(j["kind"] == "RemoteIstio");
  CHECK(j["status"]["components"][1]["ready"] == false);  // required, so written even when false
  CHECK(j["status"]["lastSyncTime"] == "2026-11-25T18:54:44Z");
  auto back = v1::RemoteIstio::fromJson(j);
  REQUIRE(back);
  CHECK(*back == ri);
  // The status the reconciler writes passes the schema's rules.
  meta::FieldErrors errors;
  meta::validateFields(ri.status, meta::FieldPath("status"), errors);
  CHECK(errors.empty());
}

TEST_CASE(
    "RemoteIstio: strict decoding reports wrong types as one invalid error, never an exception",
    "[api][remoteistio]") {
  json j = minimal(
      {{"sidecarInjector", {{"replicaCount", "one"}}}, {"autoInjectionNamespaces", {1, "ok"}}});
  auto ri = v1::RemoteIstio::fromJson(j);
  REQUIRE_FALSE(ri);
  CHECK(ri.error().kind() == rio::ErrorKind::kInvalid);
  CHECK(ri.error().message().find("RemoteIstio \"cn-beijing\" is invalid: ") == 0);
  CHECK(ri.error().message().find(
            "spec.sidecarInjector.replicaCount: must be an integer (got string)") !=
        std::string::npos);
  CHECK(ri.error().message().find("spec.autoInjectionNamespaces[0]") != std::string::npos);
  for (const char* text : {"null", "[]", "42", "\"x\"", "{\"spec\": []}", "{\"metadata\": 1}"}) {
    INFO(text);
    auto bad = v1::RemoteIstio::fromJson(json::parse(text));
    CHECK_FALSE(bad);
  }
}

TEST_CASE("RemoteIstio: an invalid spec still yields metadata for finalizers and deletion",
          "[api][remoteistio]") {
  json j = minimal({{"sidecarInjector", {{"replicaCount", -3}}}});
  j["metadata"]["finalizers"] = {std::string(v1::kRemoteIstioFinalizer)};
  j["metadata"]["deletionTimestamp"] = "2026-11-25T18:54:58Z";
  auto r = v1::decodeRemoteIstio(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.object.metadata.name == "cn-beijing");
  CHECK(r.object.metadata.isBeingDeleted());
  CHECK(r.object.metadata.hasFinalizer(v1::kRemoteIstioFinalizer));
}

TEST_CASE("RemoteIstio: reporting an invalid spec is one call", "[api][remoteistio]") {
  auto r = v1::decodeRemoteIstio(
      minimal({{"sidecarInjector", {{"replicaCount", -1}}}, {"hub", "bad hub"}}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.reason() == "InvalidSpec");
  const meta::Condition c = r.invalidCondition();
  CHECK(c.type == "Ready");
  CHECK(c.status == meta::ConditionStatus::kFalse);
  CHECK(c.reason == "InvalidSpec");
  CHECK(c.observedGeneration == 4);
  CHECK(c.message.find("invalid spec: ") == 0);
  CHECK(c.message.find("spec.sidecarInjector.replicaCount: must be >= 0 (got -1)") !=
        std::string::npos);
  CHECK(c.message.find("spec.hub: ") != std::string::npos);
  CHECK(r.message(1024).size() <= 1024);  // fits an Event note
  std::vector<meta::Condition> conditions;
  CHECK(meta::setCondition(conditions, c, std::chrono::system_clock::now()));

  auto ok = v1::decodeRemoteIstio(minimal());
  CHECK(ok.ok());
  CHECK(ok.reason().empty());
  CHECK(ok.message().empty());
}

TEST_CASE("RemoteIstio: a broken status does not make the spec invalid", "[api][remoteistio]") {
  json j = minimal();
  j["status"] = {{"conditions", json::array({{{"type", "Ready"}, {"status", "Maybe"}}})},
                 {"observedGeneration", "x"}};
  auto r = v1::decodeRemoteIstio(j);
  CHECK(r.ok());
  CHECK(r.statusErrors.hasField("status.conditions[0].status"));
  CHECK(r.statusErrors.hasField("status.observedGeneration"));
  CHECK_FALSE(v1::RemoteIstio::fromJson(j));  // strict decoding does not let it pass
}

TEST_CASE("RemoteIstio: a foreign kind or apiVersion is reported", "[api][remoteistio]") {
  json j = minimal();
  j["kind"] = "MeshMembership";
  j["apiVersion"] = "istio.alibabacloud.com/v1";
  auto r = v1::decodeRemoteIstio(j);
  CHECK(r.errors.hasField("kind"));
  CHECK(r.errors.hasField("apiVersion"));
}

TEST_CASE("RemoteIstio: any JSON at any field never throws", "[api][remoteistio]") {
  // Replace every value of the full sample, one at a time, with values of every JSON type.
  const json sample = rio::testing::loadYaml("crds/samples/istio_v1beta1_remoteistio_full.yaml");
  const std::vector<json> replacements = {nullptr,
                                          1,
                                          -1,
                                          1.5,
                                          "x",
                                          true,
                                          json::array(),
                                          json::object(),
                                          json::array({1, "a", nullptr}),
                                          18446744073709551615ULL};
  const json flat = sample.flatten();
  size_t decoded = 0;
  for (const auto& [pointer, value] : flat.items()) {
    for (const auto& replacement : replacements) {
      json mutated = sample;
      mutated[json::json_pointer(pointer)] = replacement;
      REQUIRE_NOTHROW(v1::decodeRemoteIstio(mutated));
      REQUIRE_NOTHROW(v1::RemoteIstio::fromJson(mutated));
      ++decoded;
    }
  }
  CHECK(decoded > 200);
}
