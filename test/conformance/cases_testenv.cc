// What every cluster has (seeded namespaces, the kubernetes Service, per-namespace defaults, a
// Deployment controller), and kube-testenv's own test controls: injected errors, latency,
// blackhole, watch faults, restart and request accounting (skipped on other servers).
#include <thread>

#include "test/conformance/cases_common.h"
#include "test/conformance/watch_recorder.h"
#include "test/testenv/cluster.h"

namespace rio::conformance {
namespace {

using namespace kube::resources;
using std::chrono::milliseconds;
using std::chrono::seconds;

void seededCase(Context& ctx) {
  auto& c = ctx.client();
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    json got = ctx.must(c.get(kNamespaces, {"", ns}), std::string("get namespace ") + ns);
    ctx.require(got["status"].value("phase", "") == "Active", std::string(ns) + " is not Active");
    ctx.require(got["metadata"]["labels"].value("kubernetes.io/metadata.name", "") == ns,
                std::string(ns) + " lacks the kubernetes.io/metadata.name label");
  }
  json svc =
      ctx.must(c.get(kServices, {"default", "kubernetes"}), "get Service default/kubernetes");
  ctx.require(
      svc["spec"].value("type", "") == "ClusterIP" && !svc["spec"].value("clusterIP", "").empty(),
      "the kubernetes Service has no cluster IP");
  ctx.require(svc["spec"]["ports"][0].value("name", "") == "https" &&
                  svc["spec"]["ports"][0].value("port", 0) == 443,
              "the kubernetes Service does not serve https/443: " + svc["spec"]["ports"].dump());
  json ep =
      ctx.must(c.get(kEndpoints, {"default", "kubernetes"}), "get Endpoints default/kubernetes");
  ctx.require(!ep["subsets"].empty() && !ep["subsets"][0]["addresses"].empty(),
              "the kubernetes Endpoints are empty");
  // Every namespace gets its default ServiceAccount and the cluster CA bundle.
  ctx.eventually(
      [&] {
        return c.get(kServiceAccounts, {ctx.ns(), "default"}).has_value();
      },
      "ServiceAccount default appears in a new namespace");
  ctx.eventually(
      [&] {
        auto cm = c.get(kConfigMaps, {ctx.ns(), "kube-root-ca.crt"});
        return cm &&
               (*cm)["data"].value("ca.crt", "").find("BEGIN CERTIFICATE") != std::string::npos;
      },
      "ConfigMap kube-root-ca.crt with the cluster CA appears in a new namespace");
}

void deploymentAvailableCase(Context& ctx) {
  json d = recordedRequest(ctx, "deployment-create-defaults.txt");
  d["metadata"]["namespace"] = ctx.ns();
  d["spec"]["replicas"] = 1;
  d["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.k8s.io/pause:3.9";
  ctx.eventually(
      [&] {
        return ctx.client().get(kServiceAccounts, {ctx.ns(), "default"}).has_value();
      },
      "ServiceAccount default exists");
  json created = ctx.must(ctx.client().create(kDeployments, d), "create Deployment");
  json last;
  auto available = [&] {
    auto got = ctx.client().get(kDeployments, {ctx.ns(), "d1"});
    if (!got) return false;
    last = *got;
    if (last["status"].value("observedGeneration", 0) != generationOf(last)) return false;
    for (const auto& cond : last["status"].value("conditions", json::array()))
      if (cond.value("type", "") == "Available" && cond.value("status", "") == "True") return true;
    return false;
  };
  ctx.eventually(available, "the Deployment becomes Available", seconds(180));
  ctx.require(last["status"].value("readyReplicas", 0) == 1 &&
                  last["status"].value("availableReplicas", 0) == 1,
              "an Available Deployment reports its ready replicas: " + last["status"].dump());
  bool progressing = false;
  for (const auto& cond : last["status"]["conditions"])
    progressing = progressing ||
                  (cond.value("type", "") == "Progressing" && cond.value("status", "") == "True");
  ctx.require(progressing, "Available Deployment without Progressing=True");
}

void setFaults(Context& ctx, const json& faults) {
  ctx.must(ctx.target().adminCall("PUT", "faults", faults), "PUT /_testenv/faults");
  Target* target = &ctx.target();
  ctx.defer([target] { (void)target->adminCall("PUT", "faults", json::object()); });
}

void injectedErrorsCase(Context& ctx) {
  ctx.must(ctx.client().create(kConfigMaps, configMap(ctx.ns(), "c1")), "create");
  kube::ClientOptions noRetry;
  noRetry.retry.maxRetries = 0;
  auto once = ctx.target().adminWith(noRetry);
  for (int code : {429, 500, 503}) {
    setFaults(ctx, {{"errors",
                     {{{"code", code},
                       {"rate", 1.0},
                       {"verb", "get"},
                       {"resource", "configmaps"},
                       {"retryAfterSeconds", 2}}}}});
    Error e = ctx.mustFail(once->get(kConfigMaps, {ctx.ns(), "c1"}),
                           "get under an injected " + std::to_string(code));
    ctx.require(e.code() == code, "want " + std::to_string(code) + ", got " + Context::describe(e));
    ctx.require(e.isRetryable(), std::to_string(code) + " must be retryable");
    if (code != 500)
      ctx.require(e.retryAfter() == seconds(2), std::to_string(code) + " without Retry-After 2");
    ctx.must(once->list(kConfigMaps, ctx.ns()), "a list is not matched by a get rule");
  }
  // The retrying client waits Retry-After and then succeeds once the errors stop.
  setFaults(ctx, {{"errors",
                   {{{"code", 503},
                     {"rate", 1.0},
                     {"verb", "get"},
                     {"resource", "configmaps"},
                     {"retryAfterSeconds", 1}}}}});
  Target* target = &ctx.target();
  std::vector<std::chrono::nanoseconds> waits;
  kube::ClientOptions retrying;
  retrying.sleep = [&](std::chrono::nanoseconds d) {
    waits.push_back(d);
    (void)target->adminCall("PUT", "faults", json::object());
  };
  ctx.must(ctx.target().adminWith(retrying)->get(kConfigMaps, {ctx.ns(), "c1"}),
           "get with retries");
  ctx.require(waits.size() == 1 && waits[0] == seconds(1),
              "the client must wait Retry-After (1 s) once");
  json stats = ctx.must(ctx.target().adminCall("GET", "requests"), "GET /_testenv/requests");
  ctx.require(stats.value("total", 0) > 0, "accounting is empty");
}

void latencyBlackholeCase(Context& ctx) {
  setFaults(ctx, {{"latencyMs", 300}});
  auto started = std::chrono::steady_clock::now();
  ctx.must(ctx.client().list(kConfigMaps, ctx.ns()), "list under 300 ms latency");
  auto took = std::chrono::steady_clock::now() - started;
  ctx.require(took >= milliseconds(290), "latency was not added");
  setFaults(ctx, {{"blackhole", true}});
  kube::RestConfig cfg = ctx.target().config();
  cfg.timeout = milliseconds(500);
  auto impatient = ctx.must(kube::makeClient(ctx.target().io(), cfg, {.retry = {.maxRetries = 0}}),
                            "a client with a 500 ms timeout");
  Error e = ctx.mustFail(impatient->list(kConfigMaps, ctx.ns()), "list against a blackhole");
  ctx.require(e.isTimeout(), "a blackholed request must time out, got " + Context::describe(e));
  ctx.must(ctx.target().adminCall("PUT", "faults", json::object()), "end the blackhole");
  ctx.must(ctx.target().adminCall("POST", "blackhole/release"), "release held requests");
  ctx.must(ctx.client().list(kConfigMaps, ctx.ns()), "list after the blackhole");
}

void watchFaultsCase(Context& ctx) {
  auto& c = ctx.client();
  json list = ctx.must(c.list(kConfigMaps, ctx.ns()), "list");
  setFaults(ctx, {{"closeWatchesAfterEvents", 2}});
  auto w = WatchRecorder::start(
      c, kConfigMaps, ctx.ns(),
      {.resourceVersion = metaString(list, "resourceVersion"), .allowBookmarks = false});
  for (int i = 0; i < 3; ++i)
    ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c" + std::to_string(i))), "create");
  ctx.require(w->waitClosed(seconds(10)), "the watch must end after 2 events");
  ctx.require(
      w->events().size() == 2 && !w->closeError(),
      "closeWatchesAfterEvents=2 delivered " + std::to_string(w->events().size()) + " events");
  ctx.must(ctx.target().adminCall("PUT", "faults", json::object()), "clear faults");
  auto w2 = WatchRecorder::start(c, kConfigMaps, ctx.ns(),
                                 {.resourceVersion = metaString(list, "resourceVersion")});
  ctx.require(w2->waitForCount(3, std::nullopt, seconds(10)), "a new watch replays the 3 events");
  ctx.must(ctx.target().adminCall("POST", "watches/drop"), "POST /_testenv/watches/drop");
  ctx.require(w2->waitClosed(seconds(10)), "dropped watches must end");
}

void restartCase(Context& ctx) {
  auto& c = ctx.client();
  json cm = ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c1", {{"k", "v"}})), "create");
  auto w = WatchRecorder::start(c, kConfigMaps, ctx.ns(),
                                {.resourceVersion = metaString(cm, "resourceVersion")});
  // The watch connects asynchronously: it must be open before the restart to be ended by it.
  ctx.eventually([&] { return ctx.target().cluster()->api().activeWatches() >= 1; },
                 "the watch is open");
  std::string url = ctx.target().cluster()->url();
  ctx.must(ctx.target().cluster()->restart(), "restart the cluster");
  ctx.require(ctx.target().cluster()->url() == url,
              "the cluster moved to " + ctx.target().cluster()->url());
  ctx.require(w->waitClosed(seconds(10)), "watches end when the server restarts");
  json again = ctx.must(c.get(kConfigMaps, {ctx.ns(), "c1"}), "get after the restart");
  ctx.require(metaString(again, "uid") == metaString(cm, "uid"), "objects survive a restart");
  auto w2 = WatchRecorder::start(c, kConfigMaps, ctx.ns(),
                                 {.resourceVersion = metaString(cm, "resourceVersion")});
  ctx.must(
      c.patch(kConfigMaps, {ctx.ns(), "c1"}, kube::PatchType::kMerge, {{"data", {{"k", "w"}}}}),
      "modify");
  ctx.require(w2->waitForCount(1, kube::WatchEventType::kModified, seconds(10)),
              "a watch resumes from its resourceVersion after the restart");
}

void accountingCase(Context& ctx) {
  ctx.must(ctx.client().create(kConfigMaps, configMap(ctx.ns(), "c1")), "create");
  ctx.must(ctx.target().adminCall("DELETE", "requests"), "DELETE /_testenv/requests");
  for (int i = 0; i < 3; ++i) ctx.must(ctx.client().get(kConfigMaps, {ctx.ns(), "c1"}), "get");
  (void)ctx.client().get(kConfigMaps, {ctx.ns(), "missing"});
  ctx.must(ctx.client().patch(kConfigMaps, {ctx.ns(), "c1"}, kube::PatchType::kMerge,
                              {{"data", {{"a", "b"}}}}),
           "patch");
  json stats = ctx.must(ctx.target().adminCall("GET", "requests"), "GET /_testenv/requests");
  auto count = [&](const std::string& verb, int code) {
    std::uint64_t n = 0;
    for (const auto& r : stats["requests"])
      if (r.value("verb", "") == verb && r.value("resource", "") == "configmaps" &&
          r.value("code", 0) == code)
        n += r.value("count", 0ULL);
    return n;
  };
  ctx.require(count("get", 200) == 3 && count("get", 404) == 1 && count("patch", 200) == 1,
              "accounting by verb/resource/code: " + stats.dump());
  ctx.require(stats.value("writes", 0) == 1, "one write was made: " + stats.dump());
}

}  // namespace

void addTestenvCases(Suite& suite) {
  suite.add({"cluster: seeded namespaces and defaults",
             "default/kube-system/kube-public/kube-node-lease, the kubernetes Service and "
             "Endpoints; every "
             "namespace gets ServiceAccount default and ConfigMap kube-root-ca.crt",
             Needs::kNothing, seededCase});
  suite.add({"cluster: a Deployment becomes Available",
             "the Deployment controller reports observedGeneration, ready replicas and "
             "Available/Progressing",
             Needs::kNothing, deploymentAvailableCase});
  suite.add({"testenv: injected errors",
             "429/500/503 with Retry-After per verb and resource; the client waits and retries",
             Needs::kAdminEndpoint, injectedErrorsCase});
  suite.add({"testenv: latency and blackhole",
             "added latency; a blackhole makes requests time out until released",
             Needs::kAdminEndpoint, latencyBlackholeCase});
  suite.add({"testenv: watch faults", "watches closed after N events; all watches dropped",
             Needs::kAdminEndpoint, watchFaultsCase});
  suite.add({"testenv: restart",
             "a restart ends watches, keeps objects and the port; watches resume",
             Needs::kInProcess, restartCase});
  suite.add({"testenv: request accounting",
             "requests counted by verb, resource and code; writes counted", Needs::kAdminEndpoint,
             accountingCase});
}

}  // namespace rio::conformance
