#include "reconcilers/remoteistio/spec_mapping.h"

#include <catch2/catch.hpp>

#include "test/support/operator_env.h"

using namespace rio;
using namespace rio::reconcilers::remoteistio;
using nlohmann::json;

namespace {

v1beta1::RemoteIstio sample(const std::string& file) {
  auto decoded = v1beta1::decodeRemoteIstio(testing::OperatorEnv::sample(file));
  REQUIRE(decoded.ok());
  return decoded.object;
}

json resourcesJson(const desired::Resources& r) { return r.toJson(); }

}  // namespace

TEST_CASE(
    "spec mapping: the reference sample installs the injector from its hub, no gateway, trust on",
    "[remoteistio]") {
  auto ri = sample("istio_v1beta1_remoteistio.yaml");
  auto owner = ownerFor(ri, "cn-beijing");
  CHECK(owner.kind == "RemoteIstio");
  CHECK(owner.cluster == "cn-beijing");
  CHECK(injectorEnabled(ri));
  CHECK(injectorReplicas(ri) == 1);
  CHECK_FALSE(gatewayEnabled(ri));  // k8singress: {} deploys none
  CHECK(cacertsEnabled(ri));
  CHECK_FALSE(rootSecretName(ri));
  CHECK(intermediateLifetime(ri) == std::chrono::hours(8760));
  CHECK(injectionNamespaces(ri) == std::vector<std::string>{"default"});

  auto p = injectorParams(ri, owner, "istio-system", "istio-pilot.istio-system:15010");
  CHECK(desired::injectorImage(p) ==
        "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog/sidecar_injector:1.1.4");
  CHECK(desired::proxyImage(p) ==
        "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog/proxyv2:1.1.4");
  CHECK(p.proxy.includeIPRanges == "*");
  CHECK(p.failurePolicy == "Fail");
  // The API's defaults, in the API server's canonical form.
  CHECK(resourcesJson(p.proxy.resources) ==
        json{{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}},
             {"limits", {{"cpu", "2"}, {"memory", "1Gi"}}}});
  CHECK(resourcesJson(p.injectorResources) ==
        json{{"requests", {{"cpu", "10m"}, {"memory", "64Mi"}}}});
}

TEST_CASE("spec mapping: every field of the full sample reaches the builders", "[remoteistio]") {
  auto ri = sample("istio_v1beta1_remoteistio_full.yaml");
  auto owner = ownerFor(ri, "cn-shanghai");
  CHECK(injectorReplicas(ri) == 2);
  CHECK(gatewayEnabled(ri));
  CHECK(gatewayReplicas(ri) == 2);
  CHECK(rootSecretName(ri) == std::optional<std::string>("mesh-root-ca"));
  CHECK(injectionNamespaces(ri) == std::vector<std::string>{"default", "shop"});

  auto p = injectorParams(ri, owner, "istio-system", "istiod.istio-system.svc:15012");
  CHECK(p.proxy.includeIPRanges == "172.16.0.0/12,192.168.0.0/16");
  CHECK(p.proxy.concurrency == 2);
  CHECK(p.proxy.logLevel == "warning");
  CHECK(resourcesJson(p.injectorResources) ==
        json{{"requests", {{"cpu", "10m"}, {"memory", "64Mi"}}},
             {"limits", {{"cpu", "500m"}, {"memory", "256Mi"}}}});

  auto g = gatewayParams(ri, owner, "istio-system", "istiod.istio-system.svc:15012");
  CHECK(g.replicas == 2);
  CHECK(g.serviceType == "LoadBalancer");
  CHECK(g.image == "registry.cn-shanghai.aliyuncs.com/aliacs-app-catalog/proxyv2:1.1.4");
  CHECK(g.serviceAnnotations.at(
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type") == "intranet");
  auto manifests = desired::ingressGateway(g);
  const json& svc = manifests.back().object;
  CHECK(svc["metadata"]["annotations"]
           ["service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type"] == "intranet");
}

TEST_CASE("spec mapping: a full image reference and Ignore reach the injector as written",
          "[remoteistio]") {
  json obj = testing::OperatorEnv::sample("istio_v1beta1_remoteistio_minimal.yaml");
  obj["spec"]["sidecarInjector"] = {{"image", "my.registry/istio/sidecar_injector:fix"},
                                    {"failurePolicy", "Ignore"},
                                    {"enabled", false}};
  auto decoded = v1beta1::decodeRemoteIstio(obj);
  REQUIRE(decoded.ok());
  auto p = injectorParams(decoded.object, ownerFor(decoded.object, "c"), "istio-system", "x:1");
  CHECK(desired::injectorImage(p) == "my.registry/istio/sidecar_injector:fix");
  CHECK(p.failurePolicy == "Ignore");
  CHECK_FALSE(injectorEnabled(decoded.object));
  CHECK(desired::sidecarInjector(p).back().object["webhooks"][0]["failurePolicy"] == "Ignore");
}
