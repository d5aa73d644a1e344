// Benchmark of the controller runtime (not a test): informer cache memory per 1,000 cached objects,
// time to sync 10,000 objects from a kube-testenv cluster over HTTPS, and workqueue throughput.
//
//   build/bin/runtime-bench [--objects 10000] [--workers 4] [--items 200000]
//
// Prints one JSON object; scripts/bench.sh turns it into BENCHMARKS.md.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/cache/informer.h"
#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "controller/kube/client.h"
#include "controller/runtime/executor.h"
#include "controller/workqueue/workqueue.h"
#include "test/testenv/testenv.h"

using namespace rio;
using WallClock = std::chrono::steady_clock;

namespace {

long rssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// A ConfigMap shaped like the objects an operator caches: labels, annotations, a little data.
nlohmann::json configMap(int i) {
  nlohmann::json labels = {{"app.kubernetes.io/managed-by", "remote-istio-operator"},
                           {"app.kubernetes.io/name", "bench"},
                           {"istio.alibabacloud.com/cluster", "cn-beijing"},
                           {"index", std::to_string(i)}};
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "cm-" + std::to_string(i)}, {"namespace", "bench"}, {"labels", labels},
                        {"annotations", {{"istio.alibabacloud.com/owner", "istio-system/cn-beijing"}}}}},
          {"data", {{"config", std::string(256, 'x')}, {"mesh", "discoveryAddress: istio-pilot.istio-system:15010"}}}};
}

}  // namespace

int main(int argc, char** argv) {
  int objects = 10000, workers = 4, items = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--objects")) objects = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--items")) items = std::atoi(argv[i + 1]);
  }
  log::configure(log::Level::kWarn, log::Format::kJson);
  nlohmann::json out;

  {
    IoRuntime io(1);
    testenv::Testenv env(io);
    auto cluster = env.add(testenv::Testenv::defaultsFor("bench", 0));
    if (!cluster) {
      std::fprintf(stderr, "testenv: %s\n", cluster.error().message().c_str());
      return 1;
    }
    auto& api = (*cluster)->api();
    api.request("POST", "/api/v1/namespaces", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "bench"}}}});
    for (int i = 0; i < objects; ++i) api.request("POST", "/api/v1/namespaces/bench/configmaps", configMap(i));

    auto client = kube::makeClient(io, (*cluster)->restConfig());
    if (!client) return 1;
    auto executor = runtime::makeExecutor(2);
    cache::InformerOptions o;
    o.watcher.resource = kube::resources::kConfigMaps;
    o.watcher.ns = "bench";
    malloc_trim(0);
    long before = rssKiB();
    auto started = WallClock::now();
    auto informer = cache::Informer::create(*client, o, executor);
    informer->start();
    informer->waitForSync(std::chrono::minutes(5));
    double syncSeconds = std::chrono::duration<double>(WallClock::now() - started).count();
    long peak = rssKiB();
    // Return the list pages' transient buffers to the OS before measuring what the cache keeps.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    malloc_trim(0);
    long after = rssKiB();
    out["informer"] = {{"objects", informer->store().size()},
                       {"sync_seconds", syncSeconds},
                       {"objects_per_second", objects / syncSeconds},
                       {"rss_delta_kib", after - before},
                       {"rss_peak_delta_kib", peak - before},
                       {"kib_per_1000_objects", 1000.0 * double(after - before) / objects}};
    informer->stop();
    executor->shutdown();
  }

  {
    auto executor = runtime::makeExecutor(2);
    workqueue::WorkQueueOptions<std::string> o;
    o.executor = executor;
    auto queue = workqueue::WorkQueue<std::string>::create(std::move(o));
    std::atomic<int> processed{0};
    std::vector<std::thread> pool;
    auto started = WallClock::now();
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        while (auto item = queue->get()) {
          queue->done(*item);
          processed.fetch_add(1);
        }
      });
    }
    // 1,000 distinct keys added over and over: dedupe and the processing set are exercised.
    for (int i = 0; i < items; ++i) queue->add("ns/key-" + std::to_string(i % 1000));
    queue->shutDownWithDrain();
    for (auto& t : pool) t.join();
    double seconds = std::chrono::duration<double>(WallClock::now() - started).count();
    out["workqueue"] = {{"adds", items}, {"processed", processed.load()}, {"workers", workers},
                        {"seconds", seconds}, {"adds_per_second", items / seconds}};
    executor->shutdown();
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
