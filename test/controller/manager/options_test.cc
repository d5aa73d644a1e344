#include "controller/manager/options.h"

#include <map>

#include <catch2/catch.hpp>

#include "controller/manager/bind_address.h"

using namespace rio;
using namespace rio::manager;
using namespace std::chrono_literals;

namespace {

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Expected<CommandLine> parse(std::vector<std::string> args,
                            std::map<std::string, std::string> env = {}) {
  return parseCommandLine(args, envOf(std::move(env)));
}

}  // namespace

TEST_CASE("Options: the defaults are kubebuilder's", "[manager][options]") {
  auto c = parse({});
  REQUIRE(c);
  CHECK(c->kubeconfig.empty());
  CHECK(c->metricsBindAddress == ":8080");
  CHECK(c->healthProbeBindAddress == ":8081");
  CHECK_FALSE(c->leaderElect);
  CHECK(c->leaderElectionId == "remote-istio-operator");
  // Shorter than client-go's 15 s / 10 s: failover within 10 s (docs/operations.md).
  CHECK(c->leaderElectionLeaseDuration == 8s);
  CHECK(c->leaderElectionRenewDeadline == 5s);
  CHECK(c->leaderElectionRetryPeriod == 2s);
  CHECK(c->maxConcurrentReconciles == 4);
  CHECK(c->logLevel == log::Level::kInfo);
  CHECK(c->logFormat == log::Format::kAuto);
  CHECK(c->meshNamespace == "istio-system");
}

TEST_CASE(
    "Options: flags take Go's forms: one or two dashes, =value or a separate value, bare "
    "booleans",
    "[manager][options]") {
  auto c = parse({"--kubeconfig", "/tmp/kc", "-metrics-bind-address=127.0.0.1:9090",
                  "--leader-elect", "--leader-election-namespace=ops",
                  "--leader-election-lease-duration=1m30s", "--leader-election-renew-deadline",
                  "20s", "--leader-election-retry-period=500ms", "--max-concurrent-reconciles=4",
                  "--log-level=debug", "--log-format", "text", "--mesh-namespace=mesh",
                  "--cluster-probe-interval=15s"});
  REQUIRE(c);
  CHECK(c->kubeconfig == "/tmp/kc");
  CHECK(c->metricsBindAddress == "127.0.0.1:9090");
  CHECK(c->leaderElect);
  CHECK(c->leaderElectionNamespace == "ops");
  CHECK(c->leaderElectionLeaseDuration == 90s);
  CHECK(c->leaderElectionRenewDeadline == 20s);
  CHECK(c->leaderElectionRetryPeriod == 500ms);
  CHECK(c->maxConcurrentReconciles == 4);
  CHECK(c->logLevel == log::Level::kDebug);
  CHECK(c->logFormat == log::Format::kText);
  CHECK(c->meshNamespace == "mesh");
  CHECK(c->clusterProbeInterval == 15s);
  CHECK(parse({}).value().clusterProbeInterval == 60s);
  CHECK_FALSE(parse({"--cluster-probe-interval=500ms"}));
  CHECK(parse({"--leader-elect=false"})->leaderElect == false);
  CHECK(parse({"-h"})->help);
  CHECK(parse({"--version"})->version);
}

TEST_CASE("Options: every flag can come from a RIO_ variable, and the flag wins",
          "[manager][options]") {
  auto c = parse({"--max-concurrent-reconciles=3"}, {{"RIO_LEADER_ELECT", "true"},
                                                     {"RIO_MAX_CONCURRENT_RECONCILES", "8"},
                                                     {"RIO_HEALTH_PROBE_BIND_ADDRESS", ":9443"},
                                                     {"RIO_LEADER_ELECTION_RETRY_PERIOD", "1s"},
                                                     {"RIO_LOG_FORMAT", "json"}});
  REQUIRE(c);
  CHECK(c->leaderElect);
  CHECK(c->maxConcurrentReconciles == 3);
  CHECK(c->healthProbeBindAddress == ":9443");
  CHECK(c->leaderElectionRetryPeriod == 1s);
  CHECK(c->logFormat == log::Format::kJson);
  CHECK(envName("leader-election-lease-duration") == "RIO_LEADER_ELECTION_LEASE_DURATION");
  CHECK_FALSE(parse({}, {{"RIO_HELP", "true"}})->help);  // --help and --version are flags only
}

TEST_CASE("Options: unknown flags, stray arguments and bad values are clear errors",
          "[manager][options]") {
  auto message = [](std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    auto c = parse(std::move(args), std::move(env));
    REQUIRE_FALSE(c);
    CHECK(c.error().kind() == ErrorKind::kInvalid);
    return c.error().message();
  };
  CHECK(message({"--metrics-addr=:8080"}) == "unknown flag \"--metrics-addr\"");
  CHECK_THAT(message({"--leader-elect", "false"}),
             Catch::Contains("unexpected argument \"false\""));
  CHECK_THAT(message({"--leader-elect=maybe"}), Catch::Contains("for flag --leader-elect"));
  CHECK_THAT(message({"--kubeconfig"}), Catch::Contains("--kubeconfig needs a value"));
  CHECK_THAT(message({"--max-concurrent-reconciles=0"}), Catch::Contains("from 1 to 1024"));
  CHECK_THAT(message({"--leader-election-retry-period=2"}),
             Catch::Contains("invalid duration \"2\""));
  CHECK_THAT(message({"--leader-election-lease-duration=5s"}),
             Catch::Contains("must be greater than the renew deadline"));
  CHECK_THAT(message({"--metrics-bind-address=localhost"}), Catch::Contains("no port"));
  CHECK_THAT(message({"--log-format=xml"}), Catch::Contains("json or text"));
  CHECK_THAT(message({}, {{"RIO_LOG_LEVEL", "loud"}}),
             Catch::Contains("environment variable RIO_LOG_LEVEL"));
}

TEST_CASE("Options: Go durations and booleans parse as Go parses them", "[manager][options]") {
  CHECK(*parseGoDuration("15s") == 15s);
  CHECK(*parseGoDuration("1h2m3s") == 3723s);
  CHECK(*parseGoDuration("1.5s") == 1500ms);
  CHECK(*parseGoDuration("250ms") == 250ms);
  CHECK(*parseGoDuration("0") == 0ms);
  for (const char* bad : {"", "s", "10", "1x", "-", "1..5s"}) CHECK_FALSE(parseGoDuration(bad));
  CHECK(parseGoBool("T") == true);
  CHECK(parseGoBool("0") == false);
  CHECK_FALSE(parseGoBool("yes"));
}

TEST_CASE("Options: bind addresses accept :port, host:port, [v6]:port and 0 to disable",
          "[manager][options]") {
  CHECK(**parseBindAddress(":8080") == BindAddress{"0.0.0.0", 8080});
  CHECK(**parseBindAddress("127.0.0.1:0") == BindAddress{"127.0.0.1", 0});
  CHECK(**parseBindAddress("[::1]:9090") == BindAddress{"::1", 9090});
  CHECK_FALSE(parseBindAddress("0")->has_value());
  CHECK_FALSE(parseBindAddress("::1:80"));
  CHECK_FALSE(parseBindAddress(":http"));
}

TEST_CASE("Options: --help lists every flag with its default and environment variable",
          "[manager][options]") {
  std::string text = usage();
  for (const char* flag :
       {"--kubeconfig", "--metrics-bind-address", "--health-probe-bind-address", "--leader-elect",
        "--leader-election-namespace", "--leader-election-id", "--leader-election-lease-duration",
        "--leader-election-renew-deadline", "--leader-election-retry-period",
        "--max-concurrent-reconciles", "--log-level", "--log-format", "--mesh-namespace",
        "--cluster-probe-interval", "--help",
        "--version"}) {
    CHECK_THAT(text, Catch::Contains(flag));
  }
  CHECK_THAT(text, Catch::Contains("(default \":8080\")"));
  CHECK_THAT(text, Catch::Contains("[env RIO_LEADER_ELECT]"));
}

TEST_CASE("Options: the manager options carry the command line", "[manager][options]") {
  auto c =
      parse({"--leader-elect", "--leader-election-namespace=ops", "--max-concurrent-reconciles=2"});
  REQUIRE(c);
  kube::RestConfig config;
  config.server = "https://hub.example:6443";
  auto o = toManagerOptions(*c, config);
  REQUIRE(o);
  CHECK(o->leaderElection);
  CHECK(o->leaderElectionNamespace == "ops");
  CHECK(o->leaderElectionId == "remote-istio-operator");
  CHECK(o->maxConcurrentReconciles == 2);
  CHECK(o->restConfig.server == "https://hub.example:6443");
}
