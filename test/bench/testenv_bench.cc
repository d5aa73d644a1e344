// Benchmark of kube-testenv (not a test): one process serving N clusters (default 1,000) on one
// shared IoRuntime, measuring
//   - memory per cluster (RSS from /proc/self/status before and after starting them) and per
//     idle watch (one open watch per cluster, as an operator keeps on every remote),
//   - requests per second from a client load: several threads of our REST client doing GET, LIST
//     and PATCH against a sample of the clusters over HTTPS, while the idle watches stay open,
//   - watch fan-out: M watchers of one cluster, K writes; events delivered per second and the
//     CPU time per delivered event (server encoding + TLS + client decoding, all in-process).
//
//   build/bin/testenv-bench [--clusters 1000] [--io-threads 2] [--sample 50] [--threads 4]
//                           [--seconds 10] [--fanout 10,100,1000] [--writes 200]
//
// Prints one JSON object; scripts/bench.sh turns it into the kube-testenv section of
// BENCHMARKS.md.
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "controller/kube/client.h"
#include "test/testenv/testenv.h"

using namespace rio;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

namespace {

/// Resident set size, after returning freed heap pages to the OS (so transient buffers do not
/// count as what a cluster or a watch keeps).
double rssMiB() {
  malloc_trim(0);
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return tv(u.ru_utime) + tv(u.ru_stime);
}

double secondsSince(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

void raiseFileLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

std::vector<int> parseList(const char* s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::atoi(item.c_str()));
  return out;
}

json configMap(const std::string& ns, int i) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", "cm-" + std::to_string(i)},
            {"namespace", ns},
            {"labels",
             {{"app.kubernetes.io/managed-by", "remote-istio-operator"},
              {"index", std::to_string(i)}}}}},
          {"data", {{"config", std::string(256, 'x')}}}};
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto idx = static_cast<std::size_t>(p * double(v.size() - 1));
  return v[idx];
}

/// Counts the events of one watch.
struct Counter {
  std::atomic<std::uint64_t> events{0};
  std::atomic<bool> closed{false};
};

kube::WatchPtr countingWatch(kube::Client& client, const std::string& ns, const std::string& rv,
                             std::shared_ptr<Counter> counter) {
  kube::WatchOptions o;
  o.resourceVersion = rv;
  o.allowBookmarks = false;
  kube::WatchHandler h;
  h.onEvent = [counter](kube::WatchEvent&&) {
    counter->events.fetch_add(1, std::memory_order_relaxed);
  };
  h.onClose = [counter](const std::optional<Error>&) { counter->closed = true; };
  return client.watch(kube::resources::kConfigMaps, ns, o, std::move(h));
}

}  // namespace

int main(int argc, char** argv) {
  int clusters = 1000, ioThreads = 2, sample = 50, threads = 4, seconds = 10, writes = 200;
  std::vector<int> fanout = {10, 100, 1000};
  std::string command = "build/bin/testenv-bench";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clusters"))
      clusters = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--io-threads"))
      ioThreads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--sample"))
      sample = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds"))
      seconds = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--fanout"))
      fanout = parseList(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--writes"))
      writes = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  sample = std::min(sample, clusters);
  log::configure(log::Level::kError);
  raiseFileLimit();
  json out = {{"benchmark", "kube-testenv"},
              {"command", command},
              {"clusters", clusters},
              {"ioThreads", ioThreads}};

  IoRuntime io(static_cast<std::size_t>(ioThreads));
  testenv::Testenv env(io);
  double rssBefore = rssMiB();

  // ---- 1. N clusters: start time and memory.
  auto started = Steady::now();
  for (int i = 0; i < clusters; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "c%04d", i);
    auto added = env.add(testenv::Testenv::defaultsFor(name, static_cast<std::size_t>(i)));
    if (!added) {
      std::fprintf(stderr, "cluster %s: %s\n", name, added.error().message().c_str());
      return 1;
    }
  }
  double startSeconds = secondsSince(started);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // seeding controllers settle
  double rssClusters = rssMiB();
  out["start"] = {{"seconds", startSeconds},
                  {"rssBeforeMiB", rssBefore},
                  {"rssAfterMiB", rssClusters},
                  {"rssPerClusterKiB", (rssClusters - rssBefore) * 1024.0 / clusters}};
  std::fprintf(stderr, "%d clusters up in %.1f s, RSS %.0f -> %.0f MiB\n", clusters, startSeconds,
               rssBefore, rssClusters);

  // ---- 2. One client per cluster and an idle watch on each.
  auto all = env.clusters();
  std::vector<kube::ClientPtr> clients;
  clients.reserve(all.size());
  for (auto* c : all) {
    auto client = kube::makeClient(io, c->restConfig());
    if (!client) {
      std::fprintf(stderr, "client: %s\n", client.error().message().c_str());
      return 1;
    }
    clients.push_back(*client);
  }
  double rssClients = rssMiB();
  std::vector<kube::WatchPtr> idle;
  std::vector<std::shared_ptr<Counter>> idleCounters;
  for (auto& client : clients) {
    auto counter = std::make_shared<Counter>();
    idleCounters.push_back(counter);
    idle.push_back(countingWatch(*client, "kube-public", "", counter));
  }
  std::size_t active = 0;
  auto watchDeadline = Steady::now() + std::chrono::seconds(120);
  while (Steady::now() < watchDeadline) {
    active = 0;
    for (auto* c : all) active += c->api().activeWatches();
    if (active >= all.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double rssWatches = rssMiB();
  out["idleWatches"] = {
      {"open", active},
      {"rssClientsMiB", rssClients},
      {"rssAfterMiB", rssWatches},
      {"rssPerWatchKiB", active ? (rssWatches - rssClients) * 1024.0 / double(active) : 0.0},
      {"rssPerClientKiB", (rssClients - rssClusters) * 1024.0 / clusters}};
  std::fprintf(stderr, "%zu idle watches open, RSS %.0f MiB\n", active, rssWatches);

  // ---- 3. Client load against a sample of the clusters.
  std::vector<std::size_t> sampled;
  for (int i = 0; i < sample; ++i)
    sampled.push_back(static_cast<std::size_t>(i) * all.size() / sample);
  for (auto idx : sampled) {
    auto& c = *clients[idx];
    (void)c.create(
        kube::resources::kNamespaces,
        {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "bench"}}}});
    for (int k = 0; k < 20; ++k)
      (void)c.create(kube::resources::kConfigMaps, configMap("bench", k));
  }
  for (auto* c : all) c->api().resetStats();
  struct VerbStats {
    std::vector<double> latMs;
    std::uint64_t errors = 0;
  };
  std::mutex mu;
  std::map<std::string, VerbStats> byVerb;
  std::atomic<bool> stop{false};
  double cpuLoad0 = cpuSeconds();
  auto loadStart = Steady::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1);
      std::map<std::string, VerbStats> local;
      std::uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        auto& client = *clients[sampled[rng() % sampled.size()]];
        int k = static_cast<int>(rng() % 20);
        int dice = static_cast<int>(rng() % 10);
        std::string verb = dice < 6 ? "get" : dice < 8 ? "list" : "patch";
        auto t0 = Steady::now();
        bool ok = false;
        if (verb == "get") {
          ok = client.get(kube::resources::kConfigMaps, {"bench", "cm-" + std::to_string(k)})
                   .has_value();
        } else if (verb == "list") {
          ok = client.list(kube::resources::kConfigMaps, "bench").has_value();
        } else {
          ok = client
                   .patch(kube::resources::kConfigMaps, {"bench", "cm-" + std::to_string(k)},
                          kube::PatchType::kMerge, {{"data", {{"n", std::to_string(++n)}}}})
                   .has_value();
        }
        auto& s = local[verb];
        s.latMs.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
        if (!ok) ++s.errors;
      }
      std::lock_guard lock(mu);
      for (auto& [verb, s] : local) {
        auto& dst = byVerb[verb];
        dst.latMs.insert(dst.latMs.end(), s.latMs.begin(), s.latMs.end());
        dst.errors += s.errors;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  double loadSeconds = secondsSince(loadStart);
  double loadCpu = cpuSeconds() - cpuLoad0;
  std::uint64_t total = 0, errors = 0;
  json verbs = json::object();
  for (auto& [verb, s] : byVerb) {
    total += s.latMs.size();
    errors += s.errors;
    verbs[verb] = {{"count", s.latMs.size()},
                   {"p50ms", percentile(s.latMs, 0.5)},
                   {"p99ms", percentile(s.latMs, 0.99)},
                   {"errors", s.errors}};
  }
  std::uint64_t served = 0;
  for (auto* c : all) served += c->api().stats().total;
  out["load"] = {{"threads", threads},
                 {"sampledClusters", sample},
                 {"seconds", loadSeconds},
                 {"requests", total},
                 {"errors", errors},
                 {"requestsPerSecond", double(total) / loadSeconds},
                 {"serverCountedRequests", served},
                 {"cpuCoresBusy", loadCpu / loadSeconds},
                 {"verbs", verbs},
                 {"rssAfterMiB", rssMiB()}};
  std::fprintf(stderr, "load: %.0f requests/s (%llu requests, %llu errors)\n",
               double(total) / loadSeconds, static_cast<unsigned long long>(total),
               static_cast<unsigned long long>(errors));

  // ---- 4. Watch fan-out on one cluster.
  json fan = json::array();
  auto& target = *clients[0];
  (void)target.create(
      kube::resources::kNamespaces,
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "fanout"}}}});
  (void)target.create(kube::resources::kConfigMaps, configMap("fanout", 0));
  for (int m : fanout) {
    auto list = target.list(kube::resources::kConfigMaps, "fanout");
    std::string rv = list ? (*list)["metadata"].value("resourceVersion", "") : "";
    std::vector<std::shared_ptr<Counter>> counters;
    std::vector<kube::WatchPtr> watches;
    for (int w = 0; w < m; ++w) {
      auto counter = std::make_shared<Counter>();
      counters.push_back(counter);
      watches.push_back(countingWatch(target, "fanout", rv, counter));
    }
    auto deadline = Steady::now() + std::chrono::seconds(120);
    while (all[0]->api().activeWatches() < static_cast<std::size_t>(m) + 1 &&
           Steady::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    double cpu0 = cpuSeconds();
    auto t0 = Steady::now();
    for (int k = 0; k < writes; ++k) {
      (void)target.patch(kube::resources::kConfigMaps, {"fanout", "cm-0"}, kube::PatchType::kMerge,
                         {{"data", {{"n", std::to_string(m) + "-" + std::to_string(k)}}}});
    }
    double writeSeconds = secondsSince(t0);
    auto want = static_cast<std::uint64_t>(writes);
    deadline = Steady::now() + std::chrono::seconds(300);
    std::uint64_t delivered = 0;
    while (Steady::now() < deadline) {
      delivered = 0;
      bool done = true;
      for (auto& c : counters) {
        auto e = c->events.load();
        delivered += e;
        done = done && e >= want;
      }
      if (done) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    double seconds = secondsSince(t0);
    double cpu = cpuSeconds() - cpu0;
    fan.push_back({{"watchers", m},
                   {"writes", writes},
                   {"eventsDelivered", delivered},
                   {"writeSeconds", writeSeconds},
                   // A write returns once its event is encoded for and queued to every watcher
                   // (under the store lock), so write latency grows with the number of watchers.
                   {"writeLatencyMs", writeSeconds * 1000.0 / writes},
                   {"deliverySeconds", seconds},
                   {"eventsPerSecond", double(delivered) / seconds},
                   {"cpuMicrosPerEvent", delivered ? cpu * 1e6 / double(delivered) : 0.0},
                   {"rssMiB", rssMiB()}});
    std::fprintf(stderr, "fan-out %d watchers x %d writes: %.0f events/s\n", m, writes,
                 double(delivered) / seconds);
    for (auto& w : watches) w->stop();
    deadline = Steady::now() + std::chrono::seconds(30);
    while (all[0]->api().activeWatches() > 1 && Steady::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  out["fanout"] = fan;

  for (auto& w : idle) w->stop();
  idle.clear();
  clients.clear();
  env.stop();
  io.stop();
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
