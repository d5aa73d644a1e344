// The MeshMembership controller wired as the operator wires it (Manager, ClusterRegistry,
// OperatorMetrics, setupMembershipController) on top of an OperatorEnv, plus the reads the tests
// make: the object, its conditions, the Secrets it wrote, Events, captured log lines.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <sstream>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "controller/core/base64.h"
#include "controller/core/logging.h"
#include "controller/kube/kubeconfig.h"
#include "controller/manager/manager.h"
#include "reconcilers/cluster_registry.h"
#include "reconcilers/desired/remote_secret.h"
#include "reconcilers/membership/setup.h"
#include "reconcilers/metrics.h"
#include "test/support/eventually.h"
#include "test/support/fake_clock.h"
#include "test/support/operator_env.h"

namespace rio::testing {

struct HarnessOptions {
  OperatorEnvOptions env;
  reconcilers::membership::MembershipControllerOptions controller;
  /// A manual clock shared by the API servers and the reconciler, set to the real time.
  bool manualClock = false;
  /// Reconcile workers.
  int workers = 2;
};

/// Captures every log line (to grep for secrets). Registered for the harness's lifetime.
class LogCapture {
 public:
  LogCapture() {
    id_ = log::addSink([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { log::removeSink(id_); }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  int id_ = 0;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

class MembershipHarness {
 public:
  explicit MembershipHarness(HarnessOptions options = {}) : options_(std::move(options)) {
    if (options_.manualClock) {
      clock_ = std::make_shared<FakeClock>();
      clock_->setWall(std::chrono::system_clock::now());
      options_.env.clock = clock_;
      options_.controller.clock = clock_;
    }
    env_ = std::make_unique<OperatorEnv>(options_.env);
    manager::ManagerOptions mo;
    mo.restConfig = env_->hub().restConfig();
    mo.metricsBindAddress = "0";
    mo.healthProbeBindAddress = "0";
    mo.workerThreads = 2;
    mo.maxConcurrentReconciles = options_.workers;
    mo.gracefulShutdownTimeout = std::chrono::seconds(20);
    auto mgr = manager::Manager::create(mo);
    REQUIRE(mgr);
    mgr_ = std::move(*mgr);
    reconcilers::ClusterRegistryOptions ro;
    ro.io = &mgr_->io();
    ro.executor = mgr_->executor();
    ro.requestTimeout = std::chrono::seconds(5);
    ro.maxRetries = 0;
    registry_ = std::make_unique<reconcilers::ClusterRegistry>(ro);
    metrics_ = std::make_shared<reconcilers::OperatorMetrics>(mgr_->registry());
    auto ctrl = reconcilers::membership::setupMembershipController(*mgr_, *registry_, metrics_, options_.controller);
    REQUIRE(ctrl);
    controller_ = *ctrl;
    runner_ = std::thread([this] { mgr_->run(); });
    REQUIRE(eventually([&] { return mgr_->ready(); }, std::chrono::seconds(20)));
  }

  ~MembershipHarness() {
    mgr_->stop();
    if (runner_.joinable()) runner_.join();
    // Remote clients run on the manager's IoRuntime: everything holding one goes first.
    controller_.reset();
    registry_.reset();
    mgr_.reset();
  }

  OperatorEnv& env() { return *env_; }
  FakeClock& clock() { return *clock_; }
  reconcilers::ClusterRegistry& registry() { return *registry_; }
  runtime::Controller& controller() { return *controller_; }
  std::string metricsText() {
    prometheus::TextSerializer text;
    return text.Serialize(mgr_->registry().Collect());
  }

  /// Moves the manual clock and asks for a reconcile of ns/name (timers run on real time).
  template <class D>
  void advance(D d, const std::string& name, const std::string& ns = "istio-system") {
    clock_->advance(d);
    controller_->enqueue({ns, name});
  }

  /// A MeshMembership whose bootstrap Secret holds the remote's admin kubeconfig.
  nlohmann::json join(const std::string& remote, const std::string& extraSpecYaml = "", const std::string& name = "") {
    const std::string n = name.empty() ? remote : name;
    env_->createBootstrapSecret(remote, n + "-bootstrap");
    std::string yaml = "apiVersion: istio.alibabacloud.com/v1beta1\nkind: MeshMembership\nmetadata:\n  name: " + n +
                       "\n  namespace: istio-system\nspec:\n  bootstrapSecretRef:\n    name: " + n + "-bootstrap\n" +
                       extraSpecYaml;
    return env_->createInHub(yaml);
  }

  std::optional<nlohmann::json> membership(const std::string& name, const std::string& ns = "istio-system") {
    auto got = env_->hubClient()->getIfExists(reconcilers::membership::kMeshMemberships, {ns, name});
    REQUIRE(got);
    return *got;
  }

  /// The condition of that type ({} when absent).
  nlohmann::json condition(const std::string& name, const std::string& type) {
    auto mm = membership(name);
    if (!mm) return {};
    for (const auto& c : (*mm).value("status", nlohmann::json::object()).value("conditions", nlohmann::json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return {};
  }
  bool conditionIs(const std::string& name, const std::string& type, const std::string& status,
                   const std::string& reason = "") {
    auto c = condition(name, type);
    return !c.is_null() && c.value("status", "") == status && (reason.empty() || c.value("reason", "") == reason);
  }
  bool waitFor(const std::string& name, const std::string& type, const std::string& status,
               const std::string& reason = "", std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    bool ok = eventually([&] { return conditionIs(name, type, status, reason); }, limit);
    if (!ok) UNSCOPED_INFO("status of " << name << ": " << membership(name).value_or(nlohmann::json()).value("status", nlohmann::json()).dump(2));
    return ok;
  }

  std::optional<nlohmann::json> hubSecret(const std::string& name, const std::string& ns = "istio-system") {
    auto got = env_->hubClient()->getIfExists(kube::resources::kSecrets, {ns, name});
    REQUIRE(got);
    return *got;
  }

  /// The kubeconfig istiod would read for `cluster`.
  std::string remoteSecretKubeconfig(const std::string& cluster) {
    auto secret = hubSecret(desired::remoteSecretName(cluster));
    REQUIRE(secret);
    auto data = base64::decode((*secret)["data"][cluster].get<std::string>());
    REQUIRE(data);
    return *data;
  }

  /// A client for a kubeconfig (restricted loader, as istiod's rules).
  kube::ClientPtr clientFor(const std::string& kubeconfig) {
    auto config = kube::restConfigFromUntrustedKubeconfig(kubeconfig, "test");
    REQUIRE(config);
    return env_->clientFor(*config);
  }

  /// Events about ns/name in the hub.
  std::vector<nlohmann::json> events(const std::string& name, const std::string& ns = "istio-system") {
    kube::ListOptions o;
    o.fieldSelector = "involvedObject.name=" + name;
    auto list = env_->hubClient()->list(kube::resources::kEvents, ns, o);
    REQUIRE(list);
    std::vector<nlohmann::json> out;
    for (const auto& e : (*list)["items"]) out.push_back(e);
    return out;
  }
  bool hasEvent(const std::string& name, const std::string& reason) {
    for (const auto& e : events(name)) {
      if (e.value("reason", "") == reason) return true;
    }
    return false;
  }

  const LogCapture& logs() const { return logs_; }

  /// Reconciles the controller finished so far (controller_runtime_reconcile_total, all results).
  double reconcileCount() {
    double total = 0;
    std::istringstream in(metricsText());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("controller_runtime_reconcile_total{", 0) != 0) continue;
      if (line.find("controller=\"meshmembership\"") == std::string::npos) continue;
      total += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return total;
  }

  /// Queues ns/name and waits until at least one more reconcile finished, then a little longer
  /// for the probe-driven follow-up.
  void reconcileOnce(const std::string& name, const std::string& ns = "istio-system") {
    double before = reconcileCount();
    controller_->enqueue({ns, name});
    REQUIRE(eventually([&] { return reconcileCount() > before; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }

  /// The remote's objects of `resource` in `ns` carrying the owner labels of a MeshMembership.
  std::vector<nlohmann::json> ownedInRemote(const std::string& remote, const kube::Resource& resource,
                                            const std::string& ns = "") {
    std::vector<nlohmann::json> out;
    for (auto& o : env_->remote(remote).api().list(resource, ns)) {
      auto labels = o["metadata"].value("labels", nlohmann::json::object());
      if (labels.value("istio.alibabacloud.com/owner-kind", "") == "MeshMembership") out.push_back(o);
    }
    return out;
  }

 private:
  HarnessOptions options_;
  LogCapture logs_;
  std::shared_ptr<FakeClock> clock_;
  std::unique_ptr<OperatorEnv> env_;
  std::unique_ptr<manager::Manager> mgr_;
  std::unique_ptr<reconcilers::ClusterRegistry> registry_;
  reconcilers::OperatorMetricsPtr metrics_;
  runtime::ControllerPtr controller_;
  std::thread runner_;
};

}  // namespace rio::testing
