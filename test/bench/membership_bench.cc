// Benchmark of joining (not a test): N remote clusters in kube-testenv, one MeshMembership each
// with a bootstrap Secret holding the remote's admin kubeconfig, the MeshMembership controller in
// a Manager as the operator wires it:
//  - time until every MeshMembership is Ready (probed, prerequisites checked, RBAC created, tokens
//    minted, istiod's remote secret written);
//  - API requests per join (hub and remotes) against the objects written;
//  - idle requests per remote per minute once joined (reachability probes, watches).
//
//   build/bin/membership-bench [--clusters 10,100] [--workers 4] [--idle-seconds 60] [--crds crds]
//
// Run from the source root (the CRDs are read from --crds). Prints one JSON object.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/core/base64.h"
#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "controller/manager/manager.h"
#include "reconcilers/cluster_registry.h"
#include "reconcilers/metrics.h"
#include "reconcilers/membership/setup.h"
#include "reconcilers/resources.h"
#include "test/testenv/object_util.h"
#include "test/testenv/testenv.h"

using namespace rio;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
namespace r = kube::resources;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool post(testenv::ApiServer& api, const std::string& path, const json& body) {
  auto resp = api.request("POST", path, body);
  if (resp.status >= 300) {
    std::fprintf(stderr, "POST %s: %d %s\n", path.c_str(), resp.status, resp.body.dump().c_str());
    return false;
  }
  return true;
}

bool isReady(const json& ri) {
  for (const auto& c : ri.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

struct Totals {
  std::uint64_t hubRequests = 0, hubWrites = 0, remoteRequests = 0, remoteWrites = 0;
};

Totals totals(testenv::Testenv& env) {
  Totals t;
  for (auto* c : env.clusters()) {
    auto s = c->api().stats();
    // Event writes are the recorder's, asynchronous: counted with the hub's writes anyway.
    if (c->name() == "hub") {
      t.hubRequests += s.total;
      t.hubWrites += s.writes;
    } else {
      t.remoteRequests += s.total;
      t.remoteWrites += s.writes;
    }
  }
  return t;
}

/// Write requests by "verb resource" (hub and remotes apart), to see where they go.
json writeBreakdown(testenv::Testenv& env) {
  json out = {{"hub", json::object()}, {"remotes", json::object()}};
  for (auto* c : env.clusters()) {
    auto& side = out[c->name() == "hub" ? "hub" : "remotes"];
    for (const auto& [key, n] : c->api().stats().counts) {
      const auto& [verb, resource, code] = key;
      if (verb != "create" && verb != "update" && verb != "patch" && verb != "delete") continue;
      const std::string k = verb + " " + resource;
      side[k] = side.value(k, std::uint64_t{0}) + n;
    }
  }
  return out;
}

// CPU seconds (user + system) of the whole process so far: the controller and kube-testenv.
double processCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

void resetStats(testenv::Testenv& env) {
  for (auto* c : env.clusters()) c->api().resetStats();
}

}  // namespace

json runOnce(int clusters, int workers, int idleSeconds, const std::string& crds) {
  IoRuntime io(2);
  testenv::Testenv env(io);
  std::vector<std::string> names{"hub"};
  for (int i = 0; i < clusters; ++i) names.push_back("remote-" + std::to_string(i));
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto added = env.add(testenv::Testenv::defaultsFor(names[i], i));
    if (!added) {
      std::fprintf(stderr, "testenv: %s\n", added.error().message().c_str());
      return json();
    }
  }
  auto& hub = env.find("hub")->api();
  for (const char* file : {"istio.alibabacloud.com_remoteistios.yaml", "istio.alibabacloud.com_meshmemberships.yaml"}) {
    auto crd = testenv::yamlToJson(readFile(crds + "/" + file));
    if (!crd || !post(hub, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", *crd)) return json();
  }
  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "istio-system"}}}};
  if (!post(hub, "/api/v1/namespaces", ns)) return json();
  for (int i = 0; i < clusters; ++i) {
    auto* remote = env.find(names[i + 1]);
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", names[i + 1] + "-bootstrap"}}},
                   {"data", {{"kubeconfig", base64::encode(remote->kubeconfig())}}}};
    if (!post(hub, "/api/v1/namespaces/istio-system/secrets", secret)) return json();
  }
  // Make sure the CRD is served before the manager lists it.
  for (int i = 0; i < 100 && hub.request("GET", "/apis/istio.alibabacloud.com/v1beta1").status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  manager::ManagerOptions mo;
  mo.restConfig = env.find("hub")->restConfig();
  mo.metricsBindAddress = "0";
  mo.healthProbeBindAddress = "0";
  mo.maxConcurrentReconciles = workers;
  mo.ioThreads = 2;
  auto mgr = manager::Manager::create(mo);
  if (!mgr) return json();
  reconcilers::ClusterRegistryOptions ro;
  ro.io = &(*mgr)->io();
  ro.executor = (*mgr)->executor();
  auto registry = std::make_unique<reconcilers::ClusterRegistry>(ro);
  auto metrics = std::make_shared<reconcilers::OperatorMetrics>((*mgr)->registry());
  auto ctrl = reconcilers::membership::setupMembershipController(**mgr, *registry, metrics, {});
  if (!ctrl) return json();
  std::thread runner([&] { (*mgr)->run(); });
  while (!(*ctrl)->started()) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  resetStats(env);
  const double cpuStarted = processCpuSeconds();
  auto started = SteadyClock::now();
  for (int i = 0; i < clusters; ++i) {
    json mm = {{"apiVersion", "istio.alibabacloud.com/v1beta1"},
               {"kind", "MeshMembership"},
               {"metadata", {{"name", names[i + 1]}}},
               {"spec", {{"bootstrapSecretRef", {{"name", names[i + 1] + "-bootstrap"}}}}}};
    if (!post(hub, "/apis/istio.alibabacloud.com/v1beta1/namespaces/istio-system/meshmemberships", mm)) return json();
  }
  int ready = 0;
  const auto limit = started + std::chrono::minutes(30);
  while (SteadyClock::now() < limit) {
    ready = 0;
    for (const auto& ri : hub.list(reconcilers::kMeshMemberships, "istio-system")) ready += isReady(ri) ? 1 : 0;
    if (ready == clusters) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  double convergeSeconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  const double convergeCpu = processCpuSeconds() - cpuStarted;
  // Let in-flight reconciles (Deployment status, the last status writes) finish.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  Totals converge = totals(env);
  json convergeWrites = writeBreakdown(env);

  // Written in the remotes: what joining created (label-selected) and two TokenRequests; in the
  // hub: istiod's remote secret and the operator's credentials Secret.
  std::size_t remoteObjects = 0;
  const std::vector<kube::Resource> kinds{r::kNamespaces,   r::kServiceAccounts, r::kRoles,
                                          r::kRoleBindings, r::kClusterRoles,    r::kClusterRoleBindings};
  for (int i = 0; i < clusters; ++i) {
    auto& api = env.find(names[i + 1])->api();
    for (const auto& res : kinds) {
      for (const auto& obj : api.list(res)) {
        auto labels = obj["metadata"].value("labels", json::object());
        if (labels.value("istio.alibabacloud.com/owner-kind", "") == "MeshMembership") ++remoteObjects;
      }
    }
    remoteObjects += 2;  // the reader's and the operator's tokens
  }
  const std::size_t hubObjects = 2 * static_cast<std::size_t>(clusters);

  std::map<std::string, json> statusBefore;
  for (const auto& mm : hub.list(reconcilers::kMeshMemberships, "istio-system")) {
    statusBefore[mm["metadata"].value("name", "")] = mm.value("status", json::object());
  }
  resetStats(env);
  const double cpuIdleStarted = processCpuSeconds();
  std::this_thread::sleep_for(std::chrono::seconds(idleSeconds));
  const double idleCpu = processCpuSeconds() - cpuIdleStarted;
  // What changed in the statuses while idle (each change is a write).
  std::map<std::string, int> changedFields;
  for (const auto& mm : hub.list(reconcilers::kMeshMemberships, "istio-system")) {
    const json& before = statusBefore[mm["metadata"].value("name", "")];
    const json after = mm.contains("status") ? mm["status"] : json::object();
    for (auto it = after.begin(); it != after.end(); ++it) {
      if (!before.contains(it.key()) || before[it.key()] != it.value()) ++changedFields[it.key()];
    }
  }
  for (const auto& [k, n] : changedFields) std::fprintf(stderr, "membership-bench: idle: status.%s changed in %d members\n", k.c_str(), n);
  Totals idle = totals(env);
  json idleWrites = writeBreakdown(env);

  json out = {
      {"remotes", clusters},
      {"all_ready_seconds", convergeSeconds},
      // Process CPU (controller and kube-testenv together) until all Ready, and while idle.
      {"converge_cpu_seconds", convergeCpu},
      {"idle_cpu_cores", idleSeconds ? idleCpu / idleSeconds : 0.0},
      {"remote_objects_written", remoteObjects},
      {"remote_writes", converge.remoteWrites},
      {"remote_requests", converge.remoteRequests},
      {"remote_writes_per_object", remoteObjects ? double(converge.remoteWrites) / remoteObjects : 0.0},
      {"remote_requests_per_object", remoteObjects ? double(converge.remoteRequests) / remoteObjects : 0.0},
      {"hub_objects_written", hubObjects},
      {"hub_writes", converge.hubWrites},
      {"hub_requests", converge.hubRequests},
      {"idle_requests_per_remote_per_minute",
       clusters && idleSeconds ? double(idle.remoteRequests) * 60.0 / (clusters * idleSeconds) : 0.0},
      {"idle_remote_writes", idle.remoteWrites},
      {"idle_hub_writes", idle.hubWrites},
  };
  std::fprintf(stderr, "membership-bench: %d remotes: writes by request while joining %s, idle %s\n", clusters,
               convergeWrites.dump().c_str(), idleWrites.dump().c_str());
  (*mgr)->stop();
  runner.join();
  ctrl->reset();  // its remote clients run on the manager's IoRuntime: they go first
  registry.reset();
  mgr->reset();
  env.stop();
  if (ready != clusters) return json();
  return out;
}

int main(int argc, char** argv) {
  std::string clusterList = "10,100";
  int workers = 4, idleSeconds = 60;
  std::string crds = "crds";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clusters")) clusterList = argv[i + 1];
    if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--idle-seconds")) idleSeconds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--crds")) crds = argv[i + 1];
  }
  log::configure(log::Level::kError, log::Format::kJson);
  json runs = json::array();
  std::stringstream list(clusterList);
  for (std::string n; std::getline(list, n, ',');) {
    std::fprintf(stderr, "membership-bench: joining %s remotes\n", n.c_str());
    auto run = runOnce(std::atoi(n.c_str()), workers, idleSeconds, crds);
    if (run.is_null()) {
      std::fprintf(stderr, "membership-bench: %s remotes did not all become Ready\n", n.c_str());
      return 1;
    }
    runs.push_back(std::move(run));
  }
  json out = {{"workers", workers}, {"idle_seconds", idleSeconds}, {"runs", runs}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
