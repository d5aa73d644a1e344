// The RemoteIstio controller end to end against kube-testenv: a control-plane ("hub") cluster with
// the CRDs and two remote clusters, the controller running in a Manager with a ClusterRegistry.
#include "reconcilers/remoteistio/reconciler.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <catch2/catch.hpp>

#include "controller/core/base64.h"
#include "controller/core/logging.h"
#include "controller/kube/kubeconfig.h"
#include "controller/manager/manager.h"
#include "controller/pki/x509.h"
#include "reconcilers/desired/injector.h"
#include "reconcilers/desired/labels.h"
#include "reconcilers/desired/trust.h"
#include "reconcilers/remoteistio/hub_pki.h"
#include "reconcilers/remoteistio/setup.h"
#include "reconcilers/resources.h"
#include "test/support/eventually.h"
#include "test/support/operator_env.h"

using namespace rio;
using namespace rio::reconcilers::remoteistio;
using nlohmann::json;
using rio::testing::eventually;
namespace r = kube::resources;

namespace {

constexpr auto kConverge = std::chrono::seconds(30);
const std::string kNs = "istio-system";

// The operator: Manager + ClusterRegistry + the RemoteIstio controller, running on a thread.
class Operator {
 public:
  explicit Operator(testing::OperatorEnv& env, RemoteIstioControllerOptions options = {})
      : env_(env) {
    manager::ManagerOptions mo;
    mo.restConfig = env.hub().restConfig();
    mo.metricsBindAddress = "0";
    mo.healthProbeBindAddress = "0";
    mo.maxConcurrentReconciles = 4;
    auto mgr = manager::Manager::create(mo);
    REQUIRE(mgr);
    mgr_ = std::move(*mgr);
    reconcilers::ClusterRegistryOptions ro;
    ro.io = &mgr_->io();
    ro.executor = mgr_->executor();
    ro.requestTimeout = std::chrono::seconds(2);
    ro.maxRetries = 0;
    registry_ = std::make_unique<reconcilers::ClusterRegistry>(ro);
    metrics_ = std::make_shared<reconcilers::OperatorMetrics>(mgr_->registry());
    auto ctrl = setupRemoteIstioController(*mgr_, *registry_, metrics_, options);
    REQUIRE(ctrl);
    controller_ = *ctrl;
    runner_ = std::thread([this] { exit_ = mgr_->run(); });
    REQUIRE(eventually([&] { return controller_->started(); }, kConverge));
  }
  ~Operator() {
    mgr_->stop();
    runner_.join();
    controller_.reset();
    registry_.reset();
    mgr_.reset();
  }

  reconcilers::ClusterRegistry& registry() { return *registry_; }
  runtime::Controller& controller() { return *controller_; }
  std::string metricsText() {
    return prometheus::TextSerializer().Serialize(mgr_->registry().Collect());
  }

  /// Reconciles finished so far (every result).
  double reconciles() {
    double total = 0;
    std::string text = metricsText();
    const std::string prefix = "controller_runtime_reconcile_total{controller=\"remoteistio\"";
    for (std::size_t pos = text.find(prefix); pos != std::string::npos;
         pos = text.find(prefix, pos + 1)) {
      auto end = text.find('\n', pos);
      auto line = text.substr(pos, end - pos);
      total += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return total;
  }
  /// Nothing queued or running, several polls in a row.
  bool idle() {
    int quiet = 0;
    return eventually(
        [&] {
          bool now = controller_->queue().len() == 0 && controller_->queue().processing() == 0;
          quiet = now ? quiet + 1 : 0;
          if (quiet < 25) std::this_thread::sleep_for(std::chrono::milliseconds(10));
          return quiet >= 25;
        },
        kConverge);
  }

 private:
  testing::OperatorEnv& env_;
  std::unique_ptr<manager::Manager> mgr_;
  std::unique_ptr<reconcilers::ClusterRegistry> registry_;
  reconcilers::OperatorMetricsPtr metrics_;
  runtime::ControllerPtr controller_;
  std::thread runner_;
  std::atomic<int> exit_{-1};
};

json remoteIstio(const std::string& name,
                 const std::string& sampleFile = "istio_v1beta1_remoteistio.yaml") {
  json ri = testing::OperatorEnv::sample(sampleFile);
  ri["metadata"]["name"] = name;
  ri["metadata"]["namespace"] = kNs;
  return ri;
}

void create(const kube::ClientPtr& client, const kube::Resource& res, const json& obj) {
  auto created = client->create(res, obj);
  INFO(obj.dump());
  REQUIRE(created);
}

void createNamespace(const kube::ClientPtr& client, const std::string& name,
                     json labels = json::object()) {
  create(client, r::kNamespaces,
         {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata", {{"name", name}, {"labels", labels}}}});
}

// What create-secret.sh made: the cluster's kubeconfig under the cluster's name, labelled for
// istiod.
void createLegacySecret(testing::OperatorEnv& env, const std::string& cluster,
                        const std::string& kubeconfig) {
  create(env.hubClient(), r::kSecrets,
         {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           {{"name", cluster}, {"namespace", kNs}, {"labels", {{"istio/multiCluster", "true"}}}}},
          {"type", "Opaque"},
          {"data", {{cluster, base64::encode(kubeconfig)}}}});
}

// A control-plane pod (istiod/pilot) with an IP, as kubelet would report it.
void createPilotPod(testing::OperatorEnv& env, const std::string& name, const std::string& ip) {
  auto hub = env.hubClient();
  create(
      hub, r::kPods,
      {{"apiVersion", "v1"},
       {"kind", "Pod"},
       {"metadata",
        {{"name", name}, {"namespace", kNs}, {"labels", {{"istio", "pilot"}, {"app", "pilot"}}}}},
       {"spec",
        {{"containers", json::array({{{"name", "discovery"}, {"image", "istio/pilot:1.1.4"}}})}}}});
  kube::PatchOptions po;
  po.subresource = "status";
  auto patched = hub->patch(
      r::kPods, {kNs, name}, kube::PatchType::kMerge,
      {{"status", {{"phase", "Running"}, {"podIP", ip}, {"podIPs", json::array({{{"ip", ip}}})}}}},
      po);
  REQUIRE(patched);
}

// The reference procedure's starting point for cn-beijing: istio-system in the remote, a pilot
// pod in the control plane, and create-secret.sh's Secret.
void prepareBeijing(testing::OperatorEnv& env) {
  createNamespace(env.remoteClient("cn-beijing"), kNs);
  createPilotPod(env, "istio-pilot-1", "10.100.0.11");
  createLegacySecret(env, "cn-beijing", env.remote("cn-beijing").kubeconfig());
}

json getRi(testing::OperatorEnv& env, const std::string& name) {
  auto got = env.hubClient()->get(reconcilers::kRemoteIstios, {kNs, name});
  return got ? *got : json();
}

std::string conditionOf(const json& ri, const std::string& type,
                        const std::string& field = "status") {
  if (!ri.is_object() || !ri.contains("status")) return "";
  for (const auto& c : ri["status"].value("conditions", json::array())) {
    if (c.value("type", "") == type) return c.value(field, "");
  }
  return "";
}

bool hasCondition(testing::OperatorEnv& env, const std::string& name, const std::string& type,
                  const std::string& status, const std::string& reason = "") {
  json ri = getRi(env, name);
  return conditionOf(ri, type) == status &&
         (reason.empty() || conditionOf(ri, type, "reason") == reason);
}

bool ready(testing::OperatorEnv& env, const std::string& name) {
  return hasCondition(env, name, "Ready", "True");
}

std::optional<json> remoteGet(testing::OperatorEnv& env, const std::string& cluster,
                              const kube::Resource& res, const std::string& name,
                              const std::string& ns = kNs) {
  return env.remote(cluster).api().get(res, res.namespaced ? ns : "", name);
}

std::vector<std::string> endpointIps(const json& endpoints) {
  std::vector<std::string> ips;
  for (const auto& subset : endpoints.value("subsets", json::array())) {
    for (const auto& a : subset.value("addresses", json::array())) ips.push_back(a.value("ip", ""));
  }
  return ips;
}

std::string label(const json& obj, const std::string& key) {
  return obj["metadata"].value("labels", json::object()).value(key, "");
}

// Objects in the remote that the RemoteIstio controller owns.
std::vector<std::string> ownedRemoteObjects(testing::OperatorEnv& env, const std::string& cluster) {
  std::vector<std::string> out;
  auto kinds = reconcilers::ownedNamespacedResources();
  kinds.push_back(r::kMutatingWebhookConfigurations);
  kinds.push_back(r::kNamespaces);
  for (const auto& res : kinds) {
    for (const auto& obj : env.remote(cluster).api().list(res)) {
      if (label(obj, desired::kOwnerKindLabel) == "RemoteIstio") {
        out.push_back(res.kind + " " + obj["metadata"].value("namespace", "") + "/" +
                      obj["metadata"].value("name", ""));
      }
    }
  }
  return out;
}

std::vector<json> hubEvents(testing::OperatorEnv& env, const std::string& name) {
  std::vector<json> out;
  for (const auto& e : env.hub().api().list(r::kEvents, kNs)) {
    if (e["involvedObject"].value("name", "") == name &&
        e["involvedObject"].value("kind", "") == "RemoteIstio") {
      out.push_back(e);
    }
  }
  return out;
}

bool hasEvent(testing::OperatorEnv& env, const std::string& name, const std::string& reason) {
  for (const auto& e : hubEvents(env, name)) {
    if (e.value("reason", "") == reason) return true;
  }
  return false;
}

void patchRi(testing::OperatorEnv& env, const std::string& name, const json& patch) {
  auto patched = env.hubClient()->patch(reconcilers::kRemoteIstios, {kNs, name},
                                        kube::PatchType::kMerge, patch);
  INFO((patched ? std::string() : patched.error().message()));
  REQUIRE(patched);
}

// Writes (not Events) and reads a converged RemoteIstio costs: one forced reconcile.
std::uint64_t writesOfOneReconcile(testing::OperatorEnv& env, Operator& op, const std::string& name,
                                   std::uint64_t* remoteRequests = nullptr) {
  REQUIRE(op.idle());
  std::vector<std::string> clusters = {"hub", "cn-beijing", "cn-hangzhou"};
  // Earlier passes' Events are written asynchronously: wait until no cluster sees requests.
  auto totalRequests = [&] {
    std::uint64_t n = 0;
    for (const auto& c : clusters) n += env.remote(c).api().stats().total;
    return n;
  };
  std::uint64_t last = totalRequests();
  int quiet = 0;
  REQUIRE(eventually(
      [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::uint64_t now = totalRequests();
        quiet = now == last ? quiet + 1 : 0;
        last = now;
        return quiet >= 25;
      },
      kConverge));
  for (const auto& c : clusters) env.remote(c).api().resetStats();
  double before = op.reconciles();
  op.controller().enqueue({kNs, name});
  REQUIRE(eventually([&] { return op.reconciles() > before; }, kConverge));
  REQUIRE(op.idle());
  std::uint64_t writes = 0;
  for (const auto& c : clusters) {
    auto stats = env.remote(c).api().stats();
    INFO(c << ": " << stats.toJson().dump());
    writes += stats.writes;
    if (remoteRequests && c != "hub") *remoteRequests += stats.total;
  }
  return writes;
}

struct LogCapture {
  LogCapture() {
    id = log::addSink([this](std::string_view line) {
      std::lock_guard lock(mu);
      text += std::string(line) + "\n";
    });
  }
  ~LogCapture() { log::removeSink(id); }
  std::string get() {
    std::lock_guard lock(mu);
    return text;
  }
  int id;
  std::mutex mu;
  std::string text;
};

}  // namespace

TEST_CASE(
    "RemoteIstio: the reference sample reaches Ready with create-secret.sh's Secret on a flat "
    "network",
    "[remoteistio][integration]") {
  LogCapture logs;
  testing::OperatorEnv env;
  auto remote = env.remoteClient("cn-beijing");
  createNamespace(remote, kNs);  // the reference procedure: kubectl create namespace istio-system
  createPilotPod(env, "istio-pilot-1", "10.100.0.11");
  createLegacySecret(env, "cn-beijing", env.remote("cn-beijing").kubeconfig());
  Operator op(env);
  env.createInHub(remoteIstio("cn-beijing").dump());

  REQUIRE(eventually([&] { return ready(env, "cn-beijing"); }, kConverge));
  json ri = getRi(env, "cn-beijing");
  INFO(ri["status"].dump(2));
  const json& status = ri["status"];
  CHECK(status["observedGeneration"] == ri["metadata"]["generation"]);
  CHECK(status["phase"] == "Ready");
  CHECK(status["kubernetesVersion"] == "v1.32.13");
  CHECK(status["labeledNamespaces"] == json::array({"default"}));
  CHECK(status.contains("lastSyncTime"));
  for (const char* type : {"Connected", "InjectorReady", "WebhookConfigured", "NamespacesLabeled",
                           "DiscoverySynced", "TrustSynced"}) {
    CHECK(conditionOf(ri, type) == "True");
  }
  CHECK(conditionOf(ri, "Connected", "message").find("Secret istio-system/cn-beijing") !=
        std::string::npos);
  CHECK(ri["metadata"]["finalizers"] ==
        json::array({"istio.alibabacloud.com/remoteistio-cleanup"}));
  std::set<std::string> components;
  for (const auto& c : status["components"]) {
    components.insert(c["name"].get<std::string>());
    CHECK(c["ready"] == true);
  }
  CHECK(components == std::set<std::string>{"sidecarInjector", "webhook", "discovery", "trust"});

  // The injector as the sample asks for it.
  auto deploy = remoteGet(env, "cn-beijing", r::kDeployments, "istio-sidecar-injector");
  REQUIRE(deploy);
  CHECK((*deploy)["spec"]["replicas"] == 1);
  CHECK((*deploy)["spec"]["template"]["spec"]["containers"][0]["image"] ==
        "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog/sidecar_injector:1.1.4");
  auto config = remoteGet(env, "cn-beijing", r::kConfigMaps, "istio-sidecar-injector");
  REQUIRE(config);
  CHECK((*config)["data"]["config"].get<std::string>().find("proxyv2:1.1.4") != std::string::npos);

  // The webhook's CA bundle verifies the serving certificate the injector presents (OpenSSL).
  auto mwc =
      remoteGet(env, "cn-beijing", r::kMutatingWebhookConfigurations, "istio-sidecar-injector");
  auto certs = remoteGet(env, "cn-beijing", r::kSecrets, desired::kInjectorCertSecret);
  REQUIRE(mwc);
  REQUIRE(certs);
  auto bundle =
      base64::decode((*mwc)["webhooks"][0]["clientConfig"]["caBundle"].get<std::string>());
  auto serving = base64::decode((*certs)["data"]["cert-chain.pem"].get<std::string>());
  REQUIRE(bundle);
  REQUIRE(serving);
  auto verified = pki::verify(*serving, *bundle, std::chrono::system_clock::now(),
                              "istio-sidecar-injector.istio-system.svc");
  INFO((verified ? std::string() : verified.error().message()));
  CHECK(verified);
  CHECK((*mwc)["webhooks"][0]["namespaceSelector"]["matchLabels"]["istio-injection"] == "enabled");

  // Discovery points at the control-plane pod.
  auto pilot = remoteGet(env, "cn-beijing", r::kEndpoints, "istio-pilot");
  REQUIRE(pilot);
  CHECK(endpointIps(*pilot) == std::vector<std::string>{"10.100.0.11"});

  // Trust: an intermediate under the mesh root kept in the hub; the root key stays there.
  auto cacerts = remoteGet(env, "cn-beijing", r::kSecrets, "cacerts");
  auto root = env.hub().api().get(r::kSecrets, kNs, kMeshRootSecret);
  REQUIRE(cacerts);
  REQUIRE(root);
  auto rootCert = base64::decode((*root)["data"][kRootCertKey].get<std::string>());
  auto rootKey = base64::decode((*root)["data"][kRootKeyKey].get<std::string>());
  auto caCert = base64::decode((*cacerts)["data"]["ca-cert.pem"].get<std::string>());
  REQUIRE(caCert);
  CHECK(pki::verify(*caCert, *rootCert, std::chrono::system_clock::now()));
  for (const auto& [key, value] : (*cacerts)["data"].items()) {
    CHECK(*base64::decode(value.get<std::string>()) != *rootKey);
  }

  // Injection label with the ownership marker, set with the operator's own field manager.
  auto ns = remoteGet(env, "cn-beijing", r::kNamespaces, "default", "");
  REQUIRE(ns);
  CHECK(label(*ns, "istio-injection") == "enabled");
  CHECK(label(*ns, desired::kInjectionOwnerLabel) == "true");
  bool managerFound = false;
  for (const auto& mf : (*ns)["metadata"].value("managedFields", json::array())) {
    if (mf.value("manager", "") == desired::kInjectionFieldManager &&
        mf.value("operation", "") == "Apply") {
      managerFound = true;
    }
  }
  CHECK(managerFound);

  // Metrics and Events.
  std::string text = op.metricsText();
  CHECK(text.find(R"(remote_istio_ready{cluster="cn-beijing"} 1)") != std::string::npos);
  CHECK(text.find(R"(remote_istio_remote_objects{cluster="cn-beijing",kind="Deployment"} 1)") !=
        std::string::npos);
  CHECK(
      text.find(
          R"(remote_istio_remote_apply_total{cluster="cn-beijing",kind="Deployment",result="created"} 1)") !=
      std::string::npos);
  REQUIRE(eventually([&] { return hasEvent(env, "cn-beijing", "Reconciled"); }, kConverge));
  // One Event for the install: the waits on the way (first lists, rollout) are status only.
  for (const auto& e : hubEvents(env, "cn-beijing")) {
    CHECK(e.value("reason", "") == "Reconciled");
    CHECK(e.value("type", "") == "Normal");
  }

  // A converged RemoteIstio: a reconcile writes nothing anywhere and asks the remote nothing.
  std::uint64_t remoteRequests = 0;
  CHECK(writesOfOneReconcile(env, op, "cn-beijing", &remoteRequests) == 0);
  CHECK(remoteRequests == 0);

  // Nothing secret in logs, events or status.
  std::string everything = logs.get() + getRi(env, "cn-beijing").dump();
  for (const auto& e : hubEvents(env, "cn-beijing")) everything += e.dump();
  CHECK(everything.find(env.remote("cn-beijing").adminToken()) == std::string::npos);
  CHECK(everything.find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE(
    "RemoteIstio: through a MeshMembership in Gateway mode, discovery follows the gateway and the "
    "layout",
    "[remoteistio][integration]") {
  testing::OperatorEnv env;
  auto hub = env.hubClient();
  auto remote = env.remoteClient("cn-hangzhou");
  createNamespace(remote, kNs);  // made by the membership controller
  // The control plane's ingress gateway with a LoadBalancer address.
  create(hub, r::kServices,
         {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", "istio-ingressgateway"},
            {"namespace", kNs},
            {"labels", {{"istio", "ingressgateway"}}}}},
          {"spec",
           {{"type", "LoadBalancer"},
            {"selector", {{"istio", "ingressgateway"}}},
            {"ports", json::array({{{"name", "grpc-xds"}, {"port", 15010}}})}}}});
  kube::PatchOptions status;
  status.subresource = "status";
  auto lb = [&](const std::string& ip) {
    REQUIRE(hub->patch(r::kServices, {kNs, "istio-ingressgateway"}, kube::PatchType::kMerge,
                       {{"status", {{"loadBalancer", {{"ingress", json::array({{{"ip", ip}}})}}}}}},
                       status));
  };
  lb("47.1.2.3");
  createPilotPod(env, "istio-pilot-1", "10.100.0.11");  // not reachable in Gateway mode

  Operator op(env);
  env.createInHub(remoteIstio("cn-hangzhou").dump());
  // No membership and no Secret yet: nothing to connect with, and the message says what was looked
  // for.
  REQUIRE(eventually(
      [&] { return hasCondition(env, "cn-hangzhou", "Connected", "False", "CredentialsNotFound"); },
      kConverge));
  CHECK(conditionOf(getRi(env, "cn-hangzhou"), "Connected", "message")
            .find("Secret istio-system/cn-hangzhou") != std::string::npos);

  env.createInHub(json{{"apiVersion", "istio.alibabacloud.com/v1beta1"},
                       {"kind", "MeshMembership"},
                       {"metadata", {{"name", "cn-hangzhou"}, {"namespace", kNs}}},
                       {"spec",
                        {{"bootstrapSecretRef", {{"name", "cn-hangzhou-bootstrap"}}},
                         {"network", {{"mode", "Gateway"}}}}}}
                      .dump());
  REQUIRE(eventually(
      [&] { return hasCondition(env, "cn-hangzhou", "Connected", "False", "MembershipNotReady"); },
      kConverge));

  // What the membership controller does once it has minted credentials: connect, report.
  REQUIRE(op.registry().connect("cn-hangzhou", env.remote("cn-hangzhou").restConfig()));
  auto now = meta::formatTime(std::chrono::system_clock::now());
  json conditions = json::array();
  for (const char* type :
       {"Reachable", "PrerequisitesMet", "CredentialsIssued", "RemoteSecretSynced", "Ready"}) {
    conditions.push_back({{"type", type},
                          {"status", "True"},
                          {"reason", "Reconciled"},
                          {"message", "ok"},
                          {"lastTransitionTime", now},
                          {"observedGeneration", 1}});
  }
  REQUIRE(hub->patch(reconcilers::kMeshMemberships, {kNs, "cn-hangzhou"}, kube::PatchType::kMerge,
                     {{"status", {{"conditions", conditions}, {"kubernetesVersion", "v1.32.13"}}}},
                     status));

  REQUIRE(eventually([&] { return ready(env, "cn-hangzhou"); }, kConverge));
  CHECK(conditionOf(getRi(env, "cn-hangzhou"), "Connected", "message")
            .find("MeshMembership istio-system/cn-hangzhou") != std::string::npos);
  auto pilot = remoteGet(env, "cn-hangzhou", r::kEndpoints, "istio-pilot");
  REQUIRE(pilot);
  CHECK(endpointIps(*pilot) == std::vector<std::string>{"47.1.2.3"});

  // The gateway's address changes: the remote Endpoints follow.
  lb("47.1.2.4");
  REQUIRE(eventually(
      [&] {
        auto e = remoteGet(env, "cn-hangzhou", r::kEndpoints, "istio-pilot");
        return e && endpointIps(*e) == std::vector<std::string>{"47.1.2.4"};
      },
      kConverge));

  // The control plane moves to istiod: the remote gets istiod, and the legacy Services go.
  create(hub, r::kServices,
         {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "istiod"}, {"namespace", kNs}}},
          {"spec",
           {{"selector", {{"app", "istiod"}}},
            {"ports", json::array({{{"name", "grpc-xds"}, {"port", 15010}}})}}}});
  REQUIRE(eventually(
      [&] {
        auto istiod = remoteGet(env, "cn-hangzhou", r::kEndpoints, "istiod");
        return istiod && endpointIps(*istiod) == std::vector<std::string>{"47.1.2.4"} &&
               !remoteGet(env, "cn-hangzhou", r::kServices, "istio-pilot") &&
               !remoteGet(env, "cn-hangzhou", r::kEndpoints, "zipkin");
      },
      kConverge));
  REQUIRE(eventually([&] { return ready(env, "cn-hangzhou"); }, kConverge));
  auto config = remoteGet(env, "cn-hangzhou", r::kConfigMaps, "istio");
  REQUIRE(config);
  CHECK((*config)["data"]["mesh"].get<std::string>().find("istiod.istio-system.svc:15012") !=
        std::string::npos);
  CHECK(writesOfOneReconcile(env, op, "cn-hangzhou") == 0);
}

TEST_CASE("RemoteIstio: prerequisites a MeshMembership reports failed mean nothing is installed",
          "[remoteistio][integration]") {
  testing::OperatorEnv env;
  auto hub = env.hubClient();
  createNamespace(env.remoteClient("cn-hangzhou"), kNs);
  Operator op(env);
  REQUIRE(op.registry().connect("cn-hangzhou", env.remote("cn-hangzhou").restConfig()));
  env.createInHub(json{{"apiVersion", "istio.alibabacloud.com/v1beta1"},
                       {"kind", "MeshMembership"},
                       {"metadata", {{"name", "cn-hangzhou"}, {"namespace", kNs}}},
                       {"spec", {{"bootstrapSecretRef", {{"name", "b"}}}}}}
                      .dump());
  kube::PatchOptions status;
  status.subresource = "status";
  auto now = meta::formatTime(std::chrono::system_clock::now());
  REQUIRE(hub->patch(
      reconcilers::kMeshMemberships, {kNs, "cn-hangzhou"}, kube::PatchType::kMerge,
      {{"status",
        {{"conditions", json::array({{{"type", "PrerequisitesMet"},
                                      {"status", "False"},
                                      {"reason", "UnsupportedVersion"},
                                      {"message", "Kubernetes v1.9.0 is older than 1.10.4"},
                                      {"lastTransitionTime", now},
                                      {"observedGeneration", 1}},
                                     {{"type", "CredentialsIssued"},
                                      {"status", "True"},
                                      {"reason", "Reconciled"},
                                      {"message", "ok"},
                                      {"lastTransitionTime", now},
                                      {"observedGeneration", 1}}})}}}},
      status));
  env.createInHub(remoteIstio("cn-hangzhou").dump());
  REQUIRE(eventually(
      [&] { return hasCondition(env, "cn-hangzhou", "Connected", "False", "PrerequisitesNotMet"); },
      kConverge));
  CHECK(conditionOf(getRi(env, "cn-hangzhou"), "Connected", "message").find("older than 1.10.4") !=
        std::string::npos);
  CHECK(hasCondition(env, "cn-hangzhou", "Ready", "False", "PrerequisitesNotMet"));
  REQUIRE(op.idle());
  CHECK(ownedRemoteObjects(env, "cn-hangzhou").empty());
}

TEST_CASE(
    "RemoteIstio: replicas, namespaces and drift follow the spec; deletion leaves only the user's "
    "objects",
    "[remoteistio][integration]") {
  testing::OperatorEnv env;
  auto remote = env.remoteClient("cn-beijing");
  createNamespace(remote, kNs);
  createNamespace(remote, "shop");
  createNamespace(remote, "users", {{"istio-injection", "enabled"}});  // the user's own label
  create(remote, r::kConfigMaps,
         {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "user-config"}, {"namespace", kNs}}},
          {"data", {{"k", "v"}}}});
  createPilotPod(env, "istio-pilot-1", "10.100.0.11");
  createLegacySecret(env, "cn-beijing", env.remote("cn-beijing").kubeconfig());
  Operator op(env);
  json ri = remoteIstio("cn-beijing");
  ri["spec"]["autoInjectionNamespaces"] = {"default", "shop", "users", "later"};
  env.createInHub(ri.dump());
  REQUIRE(eventually([&] { return ready(env, "cn-beijing"); }, kConverge));
  // The operator's own labels; the user's label on `users` counts but is not the operator's.
  CHECK(getRi(env, "cn-beijing")["status"]["labeledNamespaces"] ==
        json::array({"default", "shop"}));
  std::string labelled = conditionOf(getRi(env, "cn-beijing"), "NamespacesLabeled", "message");
  CHECK(labelled.find("not present yet (labelled when created): later") != std::string::npos);
  CHECK(labelled.find("labelled by someone else: users") != std::string::npos);
  auto users = remoteGet(env, "cn-beijing", r::kNamespaces, "users", "");
  REQUIRE(users);
  CHECK(label(*users, desired::kInjectionOwnerLabel).empty());

  SECTION("a listed namespace that appears later gets labelled") {
    createNamespace(remote, "later");
    REQUIRE(eventually(
        [&] {
          auto ns = remoteGet(env, "cn-beijing", r::kNamespaces, "later", "");
          return ns && label(*ns, "istio-injection") == "enabled" &&
                 label(*ns, desired::kInjectionOwnerLabel) == "true";
        },
        kConverge));
  }

  SECTION("removing namespaces from the list unlabels only what the operator labelled") {
    patchRi(env, "cn-beijing", {{"spec", {{"autoInjectionNamespaces", {"default"}}}}});
    REQUIRE(eventually(
        [&] {
          auto shop = remoteGet(env, "cn-beijing", r::kNamespaces, "shop", "");
          return shop && label(*shop, "istio-injection").empty() &&
                 label(*shop, desired::kInjectionOwnerLabel).empty();
        },
        kConverge));
    users = remoteGet(env, "cn-beijing", r::kNamespaces, "users", "");
    REQUIRE(users);
    CHECK(label(*users, "istio-injection") == "enabled");
    auto def = remoteGet(env, "cn-beijing", r::kNamespaces, "default", "");
    REQUIRE(def);
    CHECK(label(*def, "istio-injection") == "enabled");
    REQUIRE(eventually(
        [&] {
          return getRi(env, "cn-beijing")["status"]["labeledNamespaces"] ==
                 json::array({"default"});
        },
        kConverge));
  }

  SECTION("a replicaCount change scales the Deployment") {
    patchRi(env, "cn-beijing", {{"spec", {{"sidecarInjector", {{"replicaCount", 3}}}}}});
    REQUIRE(eventually(
        [&] {
          auto d = remoteGet(env, "cn-beijing", r::kDeployments, "istio-sidecar-injector");
          return d && (*d)["spec"]["replicas"] == 3;
        },
        kConverge));
    REQUIRE(eventually(
        [&] {
          json got = getRi(env, "cn-beijing");
          return conditionOf(got, "InjectorReady") == "True" &&
                 conditionOf(got, "InjectorReady", "message").find("3/3 replicas available") !=
                     std::string::npos &&
                 got["status"]["observedGeneration"] == got["metadata"]["generation"];
        },
        kConverge));
  }

  SECTION("gateways.k8singress.enabled deploys an ingress gateway, and disabling removes it") {
    patchRi(env, "cn-beijing",
            {{"spec",
              {{"gateways",
                {{"k8singress",
                  {{"enabled", true},
                   {"replicaCount", 2},
                   {"serviceAnnotations", {{"lb.example.com/type", "intranet"}}}}}}}}}});
    REQUIRE(eventually(
        [&] {
          json got = getRi(env, "cn-beijing");
          for (const auto& c : got["status"].value("components", json::array())) {
            if (c["name"] == "ingressGateway")
              return c["ready"] == true && c.value("readyReplicas", 0) == 2;
          }
          return false;
        },
        kConverge));
    auto deploy = remoteGet(env, "cn-beijing", r::kDeployments, "istio-ingressgateway");
    auto svc = remoteGet(env, "cn-beijing", r::kServices, "istio-ingressgateway");
    REQUIRE(deploy);
    REQUIRE(svc);
    CHECK((*deploy)["spec"]["replicas"] == 2);
    CHECK((*svc)["spec"]["type"] == "LoadBalancer");
    CHECK((*svc)["metadata"]["annotations"]["lb.example.com/type"] == "intranet");
    patchRi(env, "cn-beijing", {{"spec", {{"gateways", {{"k8singress", {{"enabled", false}}}}}}}});
    REQUIRE(eventually(
        [&] {
          return !remoteGet(env, "cn-beijing", r::kDeployments, "istio-ingressgateway") &&
                 !remoteGet(env, "cn-beijing", r::kServices, "istio-ingressgateway");
        },
        kConverge));
  }

  SECTION("a Deployment deleted by hand comes back") {
    auto before = remoteGet(env, "cn-beijing", r::kDeployments, "istio-sidecar-injector");
    REQUIRE(before);
    REQUIRE(remote->remove(r::kDeployments, {kNs, "istio-sidecar-injector"}));
    REQUIRE(eventually(
        [&] {
          auto d = remoteGet(env, "cn-beijing", r::kDeployments, "istio-sidecar-injector");
          return d && (*d)["metadata"]["uid"] != (*before)["metadata"]["uid"];
        },
        kConverge));
    REQUIRE(eventually([&] { return ready(env, "cn-beijing"); }, kConverge));
  }

  SECTION("a control-plane pod IP change reaches the remote Endpoints") {
    REQUIRE(env.hubClient()->remove(r::kPods, {kNs, "istio-pilot-1"}));
    createPilotPod(env, "istio-pilot-2", "10.100.0.12");
    REQUIRE(eventually(
        [&] {
          auto e = remoteGet(env, "cn-beijing", r::kEndpoints, "istio-pilot");
          return e && endpointIps(*e) == std::vector<std::string>{"10.100.0.12"};
        },
        kConverge));
  }

  SECTION("sidecarInjector.enabled: false removes the injector and its webhook") {
    patchRi(env, "cn-beijing", {{"spec", {{"sidecarInjector", {{"enabled", false}}}}}});
    REQUIRE(eventually(
        [&] {
          return !remoteGet(env, "cn-beijing", r::kDeployments, "istio-sidecar-injector") &&
                 !remoteGet(env, "cn-beijing", r::kMutatingWebhookConfigurations,
                            "istio-sidecar-injector") &&
                 !remoteGet(env, "cn-beijing", r::kSecrets, desired::kInjectorCertSecret);
        },
        kConverge));
    REQUIRE(eventually(
        [&] { return hasCondition(env, "cn-beijing", "InjectorReady", "True", "Disabled"); },
        kConverge));
    CHECK(remoteGet(env, "cn-beijing", r::kSecrets, "cacerts"));
    CHECK(ready(env, "cn-beijing"));
  }

  SECTION("deletion removes what the operator created and takes back its labels, nothing else") {
    REQUIRE(env.hubClient()->remove(reconcilers::kRemoteIstios, {kNs, "cn-beijing"}));
    REQUIRE(eventually([&] { return getRi(env, "cn-beijing").is_null(); }, kConverge));
    CHECK(ownedRemoteObjects(env, "cn-beijing").empty());
    auto def = remoteGet(env, "cn-beijing", r::kNamespaces, "default", "");
    REQUIRE(def);
    CHECK(label(*def, "istio-injection").empty());
    CHECK(label(*def, desired::kInjectionOwnerLabel).empty());
    users = remoteGet(env, "cn-beijing", r::kNamespaces, "users", "");
    REQUIRE(users);
    CHECK(label(*users, "istio-injection") == "enabled");
    CHECK(remoteGet(env, "cn-beijing", r::kConfigMaps, "user-config"));
    CHECK(remoteGet(env, "cn-beijing", r::kNamespaces, kNs, ""));  // the user made it
    REQUIRE(eventually([&] { return hasEvent(env, "cn-beijing", "Deleting"); }, kConverge));
    std::string text = op.metricsText();
    CHECK(text.find(R"(remote_istio_ready{cluster="cn-beijing"})") == std::string::npos);
  }
}

TEST_CASE("RemoteIstio: without the mesh namespace, the operator creates it and deletes it again",
          "[remoteistio][integration]") {
  testing::OperatorEnv env;
  createPilotPod(env, "istio-pilot-1", "10.100.0.11");
  createLegacySecret(env, "cn-beijing", env.remote("cn-beijing").kubeconfig());
  Operator op(env);
  env.createInHub(remoteIstio("cn-beijing").dump());
  REQUIRE(eventually([&] { return ready(env, "cn-beijing"); }, kConverge));
  REQUIRE(env.hubClient()->remove(reconcilers::kRemoteIstios, {kNs, "cn-beijing"}));
  REQUIRE(eventually([&] { return getRi(env, "cn-beijing").is_null(); }, kConverge));
  REQUIRE(eventually(
      [&] {
        auto ns = remoteGet(env, "cn-beijing", r::kNamespaces, kNs, "");
        return !ns || ns->contains(json::json_pointer("/metadata/deletionTimestamp"));
      },
      kConverge));
  CHECK(ownedRemoteObjects(env, "cn-beijing").size() <= 1);  // at most the terminating namespace
}

TEST_CASE("RemoteIstio: bad input is reported and nothing is pushed",
          "[remoteistio][integration]") {
  testing::OperatorEnv env;
  createNamespace(env.remoteClient("cn-beijing"), kNs);
  createLegacySecret(env, "cn-beijing", env.remote("cn-beijing").kubeconfig());
  Operator op(env);

  // Accepted by the CRD schema, rejected by the operator: a request above its limit.
  json ri = remoteIstio("cn-beijing");
  ri["spec"]["proxy"] = {{"resources", {{"requests", {{"cpu", "3"}}}, {"limits", {{"cpu", "2"}}}}}};
  env.createInHub(ri.dump());
  REQUIRE(eventually(
      [&] { return hasCondition(env, "cn-beijing", "Ready", "False", "InvalidSpec"); }, kConverge));
  CHECK(conditionOf(getRi(env, "cn-beijing"), "Ready", "message").find("spec.proxy.resources") !=
        std::string::npos);
  CHECK(getRi(env, "cn-beijing")["status"]["phase"] == "Failed");
  REQUIRE(eventually([&] { return hasEvent(env, "cn-beijing", "InvalidSpec"); }, kConverge));
  REQUIRE(op.idle());
  CHECK(ownedRemoteObjects(env, "cn-beijing").empty());

  // Fixed: it converges.
  patchRi(env, "cn-beijing",
          {{"spec", {{"proxy", {{"resources", {{"requests", {{"cpu", "1"}}}}}}}}}});
  REQUIRE(
      eventually([&] { return hasCondition(env, "cn-beijing", "Connected", "True"); }, kConverge));
}

TEST_CASE(
    "RemoteIstio: a remote that refuses a write gets a condition naming the object and the "
    "server's message",
    "[remoteistio][integration]") {
  testing::OperatorEnv env;
  auto remote = env.remoteClient("cn-beijing");
  createNamespace(remote, kNs);
  createPilotPod(env, "istio-pilot-1", "10.100.0.11");
  // generate-kubeconfig.sh's account, but without the right to write webhook configurations.
  create(remote, r::kServiceAccounts,
         {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", {{"name", "limited"}, {"namespace", kNs}}}});
  create(
      remote, r::kClusterRoles,
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRole"},
       {"metadata", {{"name", "limited"}}},
       {"rules",
        json::array(
            {{{"apiGroups", {""}}, {"resources", {"*"}}, {"verbs", {"*"}}},
             {{"apiGroups", {"apps"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
             {{"apiGroups", {"rbac.authorization.k8s.io"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
             {{"apiGroups", {"admissionregistration.k8s.io"}},
              {"resources", {"mutatingwebhookconfigurations"}},
              {"verbs", {"get", "list", "watch"}}}})}});
  create(
      remote, r::kClusterRoleBindings,
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRoleBinding"},
       {"metadata", {{"name", "limited"}}},
       {"roleRef",
        {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "limited"}}},
       {"subjects",
        json::array({{{"kind", "ServiceAccount"}, {"name", "limited"}, {"namespace", kNs}}})}});
  auto token = remote->createSubresource(r::kServiceAccounts, {kNs, "limited"}, "token",
                                         {{"apiVersion", "authentication.k8s.io/v1"},
                                          {"kind", "TokenRequest"},
                                          {"spec", {{"expirationSeconds", 3600}}}});
  REQUIRE(token);
  std::string kubeconfig = kube::renderKubeconfig(kube::singleClusterKubeconfig(
      "cn-beijing", env.remote("cn-beijing").url(), env.remote("cn-beijing").caPem(),
      (*token)["status"]["token"].get<std::string>()));
  createLegacySecret(env, "cn-beijing", kubeconfig);
  Operator op(env);
  env.createInHub(remoteIstio("cn-beijing").dump());

  REQUIRE(eventually(
      [&] { return hasCondition(env, "cn-beijing", "WebhookConfigured", "False", "Forbidden"); },
      kConverge));
  json ri = getRi(env, "cn-beijing");
  std::string message = conditionOf(ri, "WebhookConfigured", "message");
  INFO(message);
  CHECK(message.find("MutatingWebhookConfiguration istio-sidecar-injector") != std::string::npos);
  CHECK(message.find("forbidden") != std::string::npos);
  CHECK(conditionOf(ri, "Ready", "reason") == "Forbidden");
  CHECK(conditionOf(ri, "Connected") == "True");
  CHECK(conditionOf(ri, "DiscoverySynced") == "True");  // the rest went on
  CHECK(ri["status"]["phase"] == "Degraded");
  REQUIRE(eventually([&] { return hasEvent(env, "cn-beijing", "Forbidden"); }, kConverge));
}

TEST_CASE(
    "RemoteIstio: a dead remote does not delay the others, and its deletion ends at the deadline",
    "[remoteistio][integration]") {
  testing::OperatorEnv env;
  for (const char* c : {"cn-beijing", "cn-hangzhou"}) {
    createNamespace(env.remoteClient(c), kNs);
    createLegacySecret(env, c, env.remote(c).kubeconfig());
  }
  createPilotPod(env, "istio-pilot-1", "10.100.0.11");
  RemoteIstioControllerOptions options;
  options.deletionTimeout = std::chrono::seconds(3);
  {
    Operator op(env, options);
    env.remote("cn-hangzhou").api().setBlackhole(true);
    env.createInHub(remoteIstio("cn-hangzhou").dump());
    env.createInHub(remoteIstio("cn-beijing").dump());
    REQUIRE(eventually([&] { return ready(env, "cn-beijing"); }, kConverge));
    REQUIRE(eventually(
        [&] { return hasCondition(env, "cn-hangzhou", "Connected", "False", "Unreachable"); },
        kConverge));

    // Deleting the unreachable one: retried until the deadline, then finished with an Event.
    REQUIRE(env.hubClient()->remove(reconcilers::kRemoteIstios, {kNs, "cn-hangzhou"}));
    REQUIRE(eventually([&] { return getRi(env, "cn-hangzhou").is_null(); }, kConverge));
    REQUIRE(eventually([&] { return hasEvent(env, "cn-hangzhou", "CleanupDeadlineExceeded"); },
                       kConverge));
    CHECK(ready(env, "cn-beijing"));

    // orphan-on-delete: finished at once, everything left in place.
    patchRi(
        env, "cn-beijing",
        {{"metadata", {{"annotations", {{"istio.alibabacloud.com/orphan-on-delete", "true"}}}}}});
    REQUIRE(env.hubClient()->remove(reconcilers::kRemoteIstios, {kNs, "cn-beijing"}));
    REQUIRE(eventually([&] { return getRi(env, "cn-beijing").is_null(); }, kConverge));
    CHECK(remoteGet(env, "cn-beijing", r::kDeployments, "istio-sidecar-injector"));
    env.remote("cn-hangzhou").api().setBlackhole(false);
    env.remote("cn-hangzhou").api().releaseBlackholed();
  }
}

TEST_CASE(
    "RemoteIstio: after a restart, a Ready RemoteIstio stays Ready while the new connection lists, "
    "without a status write",
    "[remoteistio][integration]") {
  testing::OperatorEnv env;
  prepareBeijing(env);
  {
    Operator op(env);
    env.createInHub(remoteIstio("cn-beijing").dump());
    REQUIRE(eventually([&] { return ready(env, "cn-beijing"); }, kConverge));
    REQUIRE(op.idle());
  }
  const std::string transitionBefore = conditionOf(getRi(env, "cn-beijing"), "Ready", "lastTransitionTime");
  auto eventsSeen = [&] {
    std::string seen;
    for (const auto& e : hubEvents(env, "cn-beijing")) {
      seen += e.value("reason", "") + " x" + std::to_string(e.value("count", 1)) + ": " +
              e.value("message", "") + "\n";
    }
    return seen;
  };
  const std::string eventsBefore = eventsSeen();
  // The restarted operator cannot list Deployments in the remote for now: its caches stay unsynced.
  env.remote("cn-beijing").api().setErrorRules({{500, 1.0, "list", "deployments.apps"}});
  env.hub().api().resetStats();
  auto statusWrites = [&] {
    std::uint64_t n = 0;
    for (const auto& [key, count] : env.hub().api().stats().counts) {
      const auto& [verb, resource, code] = key;
      if (resource.rfind("remoteistios", 0) == 0 && resource.find("/status") != std::string::npos &&
          verb != "get") {
        n += count;
      }
    }
    return n;
  };
  Operator op(env);
  REQUIRE(eventually([&] { return op.reconciles() >= 2; }, kConverge));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(statusWrites() == 0);
  CHECK(ready(env, "cn-beijing"));
  CHECK(eventsSeen() == eventsBefore);

  // Once the lists succeed the pass runs as usual and finds nothing to change.
  env.remote("cn-beijing").api().setErrorRules({});
  REQUIRE(eventually([&] { return op.reconciles() >= 3; }, kConverge));
  REQUIRE(op.idle());
  CHECK(ready(env, "cn-beijing"));
  CHECK(conditionOf(getRi(env, "cn-beijing"), "Ready", "lastTransitionTime") == transitionBefore);
}

TEST_CASE(
    "RemoteIstio: a user-supplied mesh root signs the remote's intermediate; a missing one is "
    "reported",
    "[remoteistio][integration]") {
  testing::OperatorEnv env;
  prepareBeijing(env);
  Operator op(env);
  json ri = remoteIstio("cn-beijing");
  ri["spec"]["security"] = {
      {"cacerts", {{"rootSecretRef", {{"name", "mesh-root-ca"}}}, {"certTTL", "48h"}}}};
  env.createInHub(ri.dump());
  REQUIRE(eventually(
      [&] { return hasCondition(env, "cn-beijing", "TrustSynced", "False", "RootCAInvalid"); },
      kConverge));
  CHECK(conditionOf(getRi(env, "cn-beijing"), "TrustSynced", "message")
            .find("Secret istio-system/mesh-root-ca") != std::string::npos);
  CHECK_FALSE(remoteGet(env, "cn-beijing", r::kSecrets, "cacerts"));

  auto root =
      pki::newCa("user mesh root", std::chrono::system_clock::now(), std::chrono::hours(24 * 3650));
  REQUIRE(root);
  create(env.hubClient(), r::kSecrets,
         {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", "mesh-root-ca"}, {"namespace", kNs}}},
          {"data",
           {{"root-cert.pem", base64::encode(root->certPem)},
            {"root-key.pem", base64::encode(root->keyPem)}}}});
  REQUIRE(eventually([&] { return ready(env, "cn-beijing"); }, kConverge));
  auto cacerts = remoteGet(env, "cn-beijing", r::kSecrets, "cacerts");
  REQUIRE(cacerts);
  auto caCert = base64::decode((*cacerts)["data"]["ca-cert.pem"].get<std::string>());
  REQUIRE(caCert);
  CHECK(pki::verify(*caCert, root->certPem, std::chrono::system_clock::now()));
  auto info = pki::parseCertificate(*caCert);
  REQUIRE(info);
  CHECK(info->notAfter - info->notBefore <=
        std::chrono::hours(49));  // certTTL, plus the backdating
  for (const auto& [key, value] : (*cacerts)["data"].items()) {
    CHECK(*base64::decode(value.get<std::string>()) != root->keyPem);
  }
  CHECK_FALSE(
      env.hub().api().get(r::kSecrets, kNs, kMeshRootSecret));  // the user's root, not one of ours
}

namespace {

// The system clock with the wall time moved forward on demand (deadlines stay real).
class ShiftedClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now() + shift_.load(); }
  void shift(std::chrono::hours by) { shift_ = by; }

 private:
  std::atomic<std::chrono::hours> shift_{std::chrono::hours(0)};
};

std::string secretValue(testing::OperatorEnv& env, const std::string& name,
                        const std::string& key) {
  auto secret = remoteGet(env, "cn-beijing", r::kSecrets, name);
  if (!secret) return "";
  auto decoded = base64::decode((*secret)["data"].value(key, ""));
  return decoded ? *decoded : "";
}

}  // namespace

TEST_CASE("RemoteIstio: certificates are re-issued when a third of their lifetime is left",
          "[remoteistio][integration]") {
  testing::OperatorEnv env;
  prepareBeijing(env);
  auto clock = std::make_shared<ShiftedClock>();
  RemoteIstioControllerOptions options;
  options.clock = clock;
  Operator op(env, options);
  env.createInHub(remoteIstio("cn-beijing").dump());
  REQUIRE(eventually([&] { return ready(env, "cn-beijing"); }, kConverge));
  const std::string serving = secretValue(env, desired::kInjectorCertSecret, "cert-chain.pem");
  const std::string intermediate = secretValue(env, "cacerts", "ca-cert.pem");
  REQUIRE_FALSE(serving.empty());
  REQUIRE_FALSE(intermediate.empty());

  // 300 days on: both one-year certificates have less than a third of their life left.
  clock->shift(std::chrono::hours(24 * 300));
  op.controller().enqueue({kNs, "cn-beijing"});
  REQUIRE(eventually(
      [&] {
        return secretValue(env, desired::kInjectorCertSecret, "cert-chain.pem") != serving &&
               secretValue(env, "cacerts", "ca-cert.pem") != intermediate;
      },
      kConverge));
  auto later = std::chrono::system_clock::now() + std::chrono::hours(24 * 300);
  auto mwc =
      remoteGet(env, "cn-beijing", r::kMutatingWebhookConfigurations, "istio-sidecar-injector");
  REQUIRE(mwc);
  auto bundle =
      base64::decode((*mwc)["webhooks"][0]["clientConfig"]["caBundle"].get<std::string>());
  REQUIRE(bundle);
  CHECK(pki::verify(secretValue(env, desired::kInjectorCertSecret, "cert-chain.pem"), *bundle,
                    later, "istio-sidecar-injector.istio-system.svc"));
  CHECK(pki::verify(secretValue(env, "cacerts", "ca-cert.pem"),
                    secretValue(env, "cacerts", "root-cert.pem"), later));
  REQUIRE(eventually([&] { return ready(env, "cn-beijing"); }, kConverge));
}
