#include <catch2/catch.hpp>

#include "controller/core/base64.h"
#include "reconcilers/desired/discovery.h"
#include "reconcilers/desired/gateway.h"
#include "reconcilers/desired/injector.h"
#include "reconcilers/desired/membership_objects.h"
#include "reconcilers/desired/remote_secret.h"
#include "reconcilers/desired/trust.h"
#include "test/support/golden.h"

using namespace rio;
using namespace rio::desired;
using nlohmann::json;

namespace {

const Owner kOwner{"RemoteIstio", "istio-system", "cn-beijing", "cn-beijing"};
const Owner kMember{"MeshMembership", "istio-system", "cn-beijing", "cn-beijing"};

json toJson(const Manifests& manifests) {
  json out = json::array();
  for (const auto& m : manifests) out.push_back(m.object);
  return out;
}

InjectorParams referenceInjector() {
  // What the reference RemoteIstio sample asks for (hub from the sample, replicaCount 1).
  InjectorParams p;
  p.owner = kOwner;
  p.hub = "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog";
  p.tag = "1.1.4";
  p.replicas = 1;
  p.discoveryAddress = discoveryAddress(DiscoveryLayout::kLegacy, "istio-system", false);
  p.caBundlePem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
  p.servingCertPem = "-----BEGIN CERTIFICATE-----\nSERVING\n-----END CERTIFICATE-----\n";
  p.servingKeyPem = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";
  return p;
}

const json* find(const json& objects, const std::string& kind, const std::string& name) {
  for (const auto& o : objects) {
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("desired: membership RBAC matches its golden file", "[desired][golden]") {
  MembershipParams p{kMember, "istio-system"};
  json all = toJson(membershipRbac(p));
  all.insert(all.begin(), meshNamespace(p).object);
  CHECK(testing::compareGolden("test/reconcilers/desired/golden/membership.json", all).empty());
}

TEST_CASE("desired: the istiod reader and the operator get no cluster-wide Secret access", "[desired][rbac]") {
  json all = toJson(membershipRbac({kMember, "istio-system"}));
  for (const auto& obj : all) {
    if (obj["kind"] != "ClusterRole") continue;
    for (const auto& rule : obj["rules"]) {
      for (const auto& res : rule["resources"]) {
        CHECK(res != "secrets");
        CHECK(res != "*");
      }
      for (const auto& verb : rule["verbs"]) CHECK(verb != "*");
    }
  }
  // Token minting is limited to the two accounts joining created.
  const json* role = find(all, "Role", kOperatorRole);
  REQUIRE(role);
  bool tokenRuleFound = false;
  for (const auto& rule : (*role)["rules"]) {
    if (rule["resources"] == json{"serviceaccounts/token"}) {
      tokenRuleFound = true;
      CHECK(rule["resourceNames"] == json{kReaderServiceAccount, kOperatorServiceAccount});
      CHECK(rule["verbs"] == json{"create"});
    }
  }
  CHECK(tokenRuleFound);
}

TEST_CASE("desired: the sidecar injector for the reference sample matches its golden file", "[desired][golden]") {
  CHECK(testing::compareGolden("test/reconcilers/desired/golden/injector.json", toJson(sidecarInjector(referenceInjector()))).empty());
}

TEST_CASE("desired: injector images, replicas and the webhook follow the parameters", "[desired][injector]") {
  InjectorParams p = referenceInjector();
  p.replicas = 3;
  p.proxy.includeIPRanges = "10.0.0.0/8,172.16.0.0/12";
  json all = toJson(sidecarInjector(p));
  const json* deploy = find(all, "Deployment", kInjectorName);
  REQUIRE(deploy);
  CHECK((*deploy)["spec"]["replicas"] == 3);
  CHECK((*deploy)["spec"]["template"]["spec"]["containers"][0]["image"] ==
        "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog/sidecar_injector:1.1.4");
  CHECK((*deploy)["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] == true);

  const json* config = find(all, "ConfigMap", kInjectorName);
  REQUIRE(config);
  std::string cfg = (*config)["data"]["config"];
  CHECK(cfg.find("registry.cn-beijing.aliyuncs.com/aliacs-app-catalog/proxyv2:1.1.4") != std::string::npos);
  CHECK(cfg.find("10.0.0.0/8,172.16.0.0/12") != std::string::npos);

  const json* mwc = find(all, "MutatingWebhookConfiguration", kInjectorName);
  REQUIRE(mwc);
  const json& hook = (*mwc)["webhooks"][0];
  CHECK(*base64::decode(hook["clientConfig"]["caBundle"].get<std::string>()) == p.caBundlePem);
  CHECK(hook["namespaceSelector"]["matchLabels"]["istio-injection"] == "enabled");
  CHECK(hook["clientConfig"]["service"]["name"] == "istio-sidecar-injector");
}

TEST_CASE("desired: legacy and istiod discovery services point at the given addresses", "[desired][discovery]") {
  DiscoveryParams legacy{kOwner, "istio-system", DiscoveryLayout::kLegacy, {"10.1.0.7", "10.1.0.5"}};
  CHECK(testing::compareGolden("test/reconcilers/desired/golden/discovery-legacy.json", toJson(discoveryServices(legacy))).empty());

  DiscoveryParams istiod{kOwner, "istio-system", DiscoveryLayout::kIstiod, {"47.95.1.2"}};
  json all = toJson(discoveryServices(istiod));
  REQUIRE(all.size() == 2);
  const json* eps = find(all, "Endpoints", "istiod");
  REQUIRE(eps);
  CHECK((*eps)["subsets"][0]["addresses"] == json::array({{{"ip", "47.95.1.2"}}}));
  CHECK(discoveryAddress(DiscoveryLayout::kIstiod, "istio-system", true) == "istiod.istio-system.svc:15012");
}

TEST_CASE("desired: a LoadBalancer host name becomes ExternalName services", "[desired][discovery]") {
  DiscoveryParams p{kOwner, "istio-system", DiscoveryLayout::kLegacy, {"gw.example.com"}};
  json all = toJson(discoveryServices(p));
  REQUIRE(all.size() == 4);
  for (const auto& svc : all) {
    CHECK(svc["kind"] == "Service");
    CHECK(svc["spec"]["type"] == "ExternalName");
    CHECK(svc["spec"]["externalName"] == "gw.example.com");
  }
}

TEST_CASE("desired: cacerts carries the intermediate, never a root key", "[desired][trust]") {
  TrustParams t{kOwner, "istio-system", "INTERMEDIATE", "INTERMEDIATE-KEY", "ROOT", "INTERMEDIATE\nROOT"};
  json secret = cacertsSecret(t).object;
  CHECK(secret["metadata"]["name"] == "cacerts");
  CHECK(secret["data"].size() == 4);
  CHECK(*base64::decode(secret["data"]["root-cert.pem"].get<std::string>()) == "ROOT");
  CHECK_FALSE(secret["data"].contains("root-key.pem"));
}

TEST_CASE("desired: the Istio remote secret has istiod's label, annotation and key", "[desired][remotesecret]") {
  json secret = istioRemoteSecret(kMember, "istio-system", "apiVersion: v1\nkind: Config\n").object;
  CHECK(secret["metadata"]["name"] == "istio-remote-secret-cn-beijing");
  CHECK(secret["metadata"]["labels"]["istio/multiCluster"] == "true");
  CHECK(secret["metadata"]["annotations"]["networking.istio.io/cluster"] == "cn-beijing");
  CHECK(*base64::decode(secret["data"]["cn-beijing"].get<std::string>()) == "apiVersion: v1\nkind: Config\n");
}

TEST_CASE("desired: the ingress gateway matches its golden file", "[desired][golden]") {
  GatewayParams g;
  g.owner = kOwner;
  g.image = "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog/proxyv2:1.1.4";
  g.discoveryAddress = "istio-pilot.istio-system:15010";
  CHECK(testing::compareGolden("test/reconcilers/desired/golden/gateway.json", toJson(ingressGateway(g))).empty());
}

TEST_CASE("desired: owner label values stay valid label values for long names", "[desired][labels]") {
  Owner longOwner{"RemoteIstio", "a-very-long-namespace-name-for-tenants", "cluster-with-an-even-longer-name-in-region", "c"};
  std::string v = ownerValue(longOwner);
  CHECK(v.size() <= 63);
  CHECK(v != ownerValue(Owner{"RemoteIstio", "a-very-long-namespace-name-for-tenants", "cluster-with-an-even-longer-name-in-regioN", "c"}));
  CHECK(ownerValue(kOwner) == "istio-system.cn-beijing");
  CHECK(ownerSelector(kOwner) ==
        "app.kubernetes.io/managed-by=remote-istio-operator,istio.alibabacloud.com/owner-kind=RemoteIstio,istio.alibabacloud.com/owner=istio-system.cn-beijing");
}

#include <yaml-cpp/yaml.h>

TEST_CASE("desired: the injection config is YAML with policy and a template the injector renders", "[desired][injector]") {
  InjectorParams p = referenceInjector();
  YAML::Node config = YAML::Load(injectionConfig(p));
  CHECK(config["policy"].as<std::string>() == "enabled");
  std::string tmpl = config["template"].as<std::string>();
  CHECK(tmpl.rfind("initContainers:\n- name: istio-init\n", 0) == 0);
  // Each pod's template output must itself be YAML: check the static skeleton parses.
  YAML::Node rendered = YAML::Load(tmpl);
  CHECK(rendered["containers"][0]["name"].as<std::string>() == "istio-proxy");
  YAML::Node mesh = YAML::Load(meshConfig(p));
  CHECK(mesh["defaultConfig"]["discoveryAddress"].as<std::string>() == "istio-pilot.istio-system:15010");
}

TEST_CASE("desired: the owner of a managed object is read back from its metadata", "[desired][labels]") {
  json obj = typed(kube::resources::kConfigMaps, objectMeta(kOwner, "x", "istio-system"));
  auto owner = ownerOf(obj);
  REQUIRE(owner);
  CHECK(owner->kind == "RemoteIstio");
  CHECK(owner->ns == "istio-system");
  CHECK(owner->name == "cn-beijing");
  CHECK(owner->cluster == "cn-beijing");
  // Objects somebody else made are not ours, whatever their annotations say.
  obj["metadata"]["labels"].erase(kManagedByLabel);
  CHECK_FALSE(ownerOf(obj));
  CHECK_FALSE(ownerOf(json::object()));
}
