// Benchmark of the RemoteIstio controller (not a test): N remote clusters in kube-testenv, one
// reference-sample RemoteIstio each (legacy create-secret.sh credentials, flat network), the
// controller in a Manager:
//  - time until every RemoteIstio is Ready;
//  - API requests per convergence (hub and remotes) against the objects written to the remotes;
//  - idle requests per remote per minute once converged (watches, bookmarks, resyncs).
//
//   build/bin/remoteistio-bench [--clusters 10] [--workers 4] [--idle-seconds 60] [--crds crds]
//
// Run from the source root (the CRDs are read from --crds). Prints one JSON object.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
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
#include "reconcilers/remoteistio/setup.h"
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

void resetStats(testenv::Testenv& env) {
  for (auto* c : env.clusters()) c->api().resetStats();
}

}  // namespace

int main(int argc, char** argv) {
  int clusters = 10, workers = 4, idleSeconds = 60;
  std::string crds = "crds";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clusters")) clusters = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--idle-seconds")) idleSeconds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--crds")) crds = argv[i + 1];
  }
  log::configure(log::Level::kError, log::Format::kJson);

  IoRuntime io(2);
  testenv::Testenv env(io);
  std::vector<std::string> names{"hub"};
  for (int i = 0; i < clusters; ++i) names.push_back("remote-" + std::to_string(i));
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto added = env.add(testenv::Testenv::defaultsFor(names[i], i));
    if (!added) {
      std::fprintf(stderr, "testenv: %s\n", added.error().message().c_str());
      return 1;
    }
  }
  auto& hub = env.find("hub")->api();
  for (const char* file : {"istio.alibabacloud.com_remoteistios.yaml", "istio.alibabacloud.com_meshmemberships.yaml"}) {
    auto crd = testenv::yamlToJson(readFile(crds + "/" + file));
    if (!crd || !post(hub, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", *crd)) return 1;
  }
  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "istio-system"}}}};
  if (!post(hub, "/api/v1/namespaces", ns)) return 1;
  if (!post(hub, "/api/v1/namespaces/istio-system/pods",
            {{"apiVersion", "v1"}, {"kind", "Pod"},
             {"metadata", {{"name", "istio-pilot-0"}, {"labels", {{"istio", "pilot"}}}}},
             {"spec", {{"containers", json::array({{{"name", "discovery"}, {"image", "istio/pilot"}}})}}}})) {
    return 1;
  }
  hub.request("PATCH", "/api/v1/namespaces/istio-system/pods/istio-pilot-0/status",
              {{"status", {{"phase", "Running"}, {"podIP", "10.100.7.21"}}}}, "application/merge-patch+json");
  for (int i = 0; i < clusters; ++i) {
    auto* remote = env.find(names[i + 1]);
    if (!post(remote->api(), "/api/v1/namespaces", ns)) return 1;
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", names[i + 1]}, {"labels", {{"istio/multiCluster", "true"}}}}},
                   {"data", {{names[i + 1], base64::encode(remote->kubeconfig())}}}};
    if (!post(hub, "/api/v1/namespaces/istio-system/secrets", secret)) return 1;
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
  if (!mgr) return 1;
  reconcilers::ClusterRegistryOptions ro;
  ro.io = &(*mgr)->io();
  ro.executor = (*mgr)->executor();
  auto registry = std::make_unique<reconcilers::ClusterRegistry>(ro);
  auto metrics = std::make_shared<reconcilers::OperatorMetrics>((*mgr)->registry());
  auto ctrl = reconcilers::remoteistio::setupRemoteIstioController(**mgr, *registry, metrics, {});
  if (!ctrl) return 1;
  std::thread runner([&] { (*mgr)->run(); });
  while (!(*ctrl)->started()) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  resetStats(env);
  auto started = SteadyClock::now();
  json sample = testenv::yamlToJson(readFile(crds + "/samples/istio_v1beta1_remoteistio.yaml")).value_or(json());
  for (int i = 0; i < clusters; ++i) {
    json ri = sample;
    ri["metadata"]["name"] = names[i + 1];
    if (!post(hub, "/apis/istio.alibabacloud.com/v1beta1/namespaces/istio-system/remoteistios", ri)) return 1;
  }
  int ready = 0;
  const auto limit = started + std::chrono::minutes(30);
  while (SteadyClock::now() < limit) {
    ready = 0;
    for (const auto& ri : hub.list(reconcilers::kRemoteIstios, "istio-system")) ready += isReady(ri) ? 1 : 0;
    if (ready == clusters) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  double convergeSeconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  // Let in-flight reconciles (Deployment status, the last status writes) finish.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  Totals converge = totals(env);

  std::size_t remoteObjects = 0;
  auto kinds = reconcilers::ownedNamespacedResources();
  kinds.push_back(r::kMutatingWebhookConfigurations);
  for (int i = 0; i < clusters; ++i) {
    auto& api = env.find(names[i + 1])->api();
    for (const auto& res : kinds) {
      for (const auto& obj : api.list(res)) {
        auto labels = obj["metadata"].value("labels", json::object());
        if (labels.value("istio.alibabacloud.com/owner-kind", "") == "RemoteIstio") ++remoteObjects;
      }
    }
    ++remoteObjects;  // the injection label on `default`
  }

  resetStats(env);
  std::this_thread::sleep_for(std::chrono::seconds(idleSeconds));
  Totals idle = totals(env);

  json out = {
      {"clusters", clusters},
      {"workers", workers},
      {"ready", ready},
      {"converge_seconds", convergeSeconds},
      {"remote_objects_written", remoteObjects},
      {"converge_requests", {{"hub", converge.hubRequests}, {"hub_writes", converge.hubWrites},
                             {"remotes", converge.remoteRequests}, {"remote_writes", converge.remoteWrites}}},
      {"remote_requests_per_object", remoteObjects ? double(converge.remoteRequests) / remoteObjects : 0.0},
      {"remote_writes_per_object", remoteObjects ? double(converge.remoteWrites) / remoteObjects : 0.0},
      {"idle_seconds", idleSeconds},
      {"idle_requests", {{"hub", idle.hubRequests}, {"hub_writes", idle.hubWrites}, {"remotes", idle.remoteRequests},
                         {"remote_writes", idle.remoteWrites}}},
      {"idle_requests_per_remote_per_minute",
       clusters && idleSeconds ? double(idle.remoteRequests) * 60.0 / (clusters * idleSeconds) : 0.0},
  };
  (*mgr)->stop();
  runner.join();
  registry.reset();
  mgr->reset();
  env.stop();
  std::printf("%s\n", out.dump(2).c_str());
  return ready == clusters ? 0 : 1;
}
