// kube-testenv: Kubernetes API servers for tests, the demo and benchmarks.
//
//   kube-testenv --clusters hub,beijing --dir DIR [--state-dir D] [--nodes N] [--pod-cidr C]
//                [--service-cidr C] [--region R] [--version v1.x.y] [--address A] [--port-base P]
//                [--threads N] [--deployment-ready-delay MS] [--log-level L]
//
// Writes DIR/<cluster>.kubeconfig for each cluster, logs one line per request, and exits cleanly
// on SIGTERM/SIGINT (state saved when --state-dir is given). Per-cluster values are accepted as
// `name=value,...` for --pod-cidr, --service-cidr, --region and --version.
#include <csignal>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>

#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "test/testenv/ipv4.h"
#include "test/testenv/testenv.h"

namespace {

using namespace rio;
using namespace rio::testenv;

const char kUsage[] =
    "usage: kube-testenv --clusters NAME[,NAME...] --dir DIR [options]\n"
    "\n"
    "Starts one Kubernetes API server per cluster on 127.0.0.1 and writes "
    "DIR/<cluster>.kubeconfig.\n"
    "\n"
    "  --clusters a,b          cluster names (DNS-1123 labels); default hub\n"
    "  --dir DIR               where kubeconfigs are written (required)\n"
    "  --state-dir D           keep objects, certificates and tokens across restarts\n"
    "  --nodes N               seeded Ready nodes per cluster (default 3)\n"
    "  --pod-cidr C            pod CIDR (default 10.<100+i>.0.0/16 for the i-th cluster)\n"
    "  --service-cidr C        service CIDR (default 10.<200+i>.0.0/16)\n"
    "  --region R              topology.kubernetes.io/region of the nodes (default cn-hangzhou)\n"
    "  --version v1.x.y        gitVersion served at /version and kubelet version (default "
    "v1.32.13)\n"
    "  --address A             listen address (default 127.0.0.1)\n"
    "  --port-base P           cluster i listens on P+i (default: free ports)\n"
    "  --threads N             I/O threads (default 2)\n"
    "  --deployment-ready-delay MS   simulated Deployment readiness delay (default 0)\n"
    "  --log-level L           trace, debug, info, warn, error (default info)\n"
    "\n"
    "Per-cluster values: --region hub=cn-hangzhou,beijing=cn-beijing (also --pod-cidr,\n"
    "--service-cidr, --version). Fault injection and request accounting: /_testenv/... on each\n"
    "server (cluster admins only; see test/testenv/api_server_admin.cc).\n";

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

/// "v" for everyone, or "a=v1,b=v2" per cluster.
struct PerCluster {
  std::string all;
  std::map<std::string, std::string> byName;
  std::optional<std::string> get(const std::string& name) const {
    if (auto it = byName.find(name); it != byName.end()) return it->second;
    if (!all.empty()) return all;
    return std::nullopt;
  }
  static PerCluster parse(const std::string& text) {
    PerCluster p;
    if (text.find('=') == std::string::npos) {
      p.all = text;
      return p;
    }
    for (const auto& part : split(text, ',')) {
      auto eq = part.find('=');
      if (eq != std::string::npos) p.byName[part.substr(0, eq)] = part.substr(eq + 1);
    }
    return p;
  }
};

int fatal(const std::string& message) {
  std::cerr << "kube-testenv: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"clusters", "hub"}, {"nodes", "3"},        {"address", "127.0.0.1"},       {"threads", "2"},
      {"port-base", "0"},  {"log-level", "info"}, {"deployment-ready-delay", "0"}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg.rfind("--", 0) != 0) return fatal("unexpected argument " + arg + "\n\n" + kUsage);
    std::string key = arg.substr(2), value;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fatal("flag --" + key + " needs a value");
    }
    static const std::vector<std::string> kKnown = {
        "clusters", "dir",     "state-dir", "nodes",     "pod-cidr", "service-cidr",
        "region",   "version", "address",   "port-base", "threads",  "deployment-ready-delay",
        "log-level"};
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end())
      return fatal("unknown flag --" + key);
    flags[key] = value;
  }
  if (flags["dir"].empty()) return fatal("--dir is required\n\n" + std::string(kUsage));
  auto level = log::parseLevel(flags["log-level"]);
  if (!level) return fatal("bad --log-level " + flags["log-level"]);
  log::configure(*level);

  int nodes = 0, threads = 0, portBase = 0, readyDelay = 0;
  try {
    nodes = std::stoi(flags["nodes"]);
    threads = std::stoi(flags["threads"]);
    portBase = std::stoi(flags["port-base"]);
    readyDelay = std::stoi(flags["deployment-ready-delay"]);
  } catch (...) {
    return fatal("--nodes, --threads, --port-base and --deployment-ready-delay take numbers");
  }
  if (nodes < 0 || threads < 1 || portBase < 0 || portBase > 65535 || readyDelay < 0)
    return fatal("numeric flag out of range");
  PerCluster podCidr = PerCluster::parse(flags["pod-cidr"]);
  PerCluster serviceCidr = PerCluster::parse(flags["service-cidr"]);
  PerCluster region = PerCluster::parse(flags["region"]);
  PerCluster version = PerCluster::parse(flags["version"]);
  auto names = split(flags["clusters"], ',');
  if (names.empty()) return fatal("--clusters names no cluster");

  // Signals are taken synchronously by the main thread; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  IoRuntime io(static_cast<std::size_t>(threads));
  Testenv env(io);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    ClusterOptions o = Testenv::defaultsFor(name, i);
    o.address = flags["address"];
    o.port = portBase == 0 ? 0 : static_cast<std::uint16_t>(portBase + static_cast<int>(i));
    o.kubeconfigDir = flags["dir"];
    o.stateDir = flags["state-dir"];
    o.apiServer.simulation.nodes = nodes;
    o.apiServer.simulation.deploymentReadyDelay = std::chrono::milliseconds(readyDelay);
    if (auto v = podCidr.get(name)) o.apiServer.podCidr = *v;
    if (auto v = serviceCidr.get(name)) o.apiServer.serviceCidr = *v;
    if (auto v = region.get(name)) o.apiServer.region = *v;
    if (auto v = version.get(name)) o.apiServer.gitVersion = *v;
    if (!parseCidr(o.apiServer.podCidr) || !parseCidr(o.apiServer.serviceCidr)) {
      return fatal("cluster " + name + ": bad pod or service CIDR");
    }
    log::Logger logger = log::root().with({{"cluster", name}});
    o.apiServer.onRequest = [logger](const RequestRecord& r) {
      logger.info("request", {{"method", r.method},
                              {"path", r.target},
                              {"verb", r.verb},
                              {"resource", r.resource},
                              {"code", r.code},
                              {"user", r.user},
                              {"latency_ms", static_cast<double>(r.latency.count()) / 1000.0}});
    };
    auto cluster = env.add(std::move(o));
    if (!cluster) return fatal(cluster.error().message());
    std::cout << "cluster " << name << " " << (*cluster)->url() << " kubeconfig "
              << (*cluster)->kubeconfigPath() << std::endl;
  }
  log::root().info("kube-testenv ready", {{"clusters", flags["clusters"]}});

  // Wait for SIGTERM/SIGINT; save state every few seconds meanwhile.
  bool persist = !flags["state-dir"].empty();
  while (true) {
    timespec wait{5, 0};
    int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (persist) {
      if (auto ok = env.saveAll(); !ok)
        log::root().warn("state not saved", {{"error", ok.error().message()}});
    }
  }
  log::root().info("kube-testenv stopping", {});
  env.stop();
  io.stop();
  return 0;
}
