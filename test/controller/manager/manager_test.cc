#include "controller/manager/manager.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "controller/helpers/time_format.h"
#include "controller/http/server.h"
#include "controller/kube/transport.h"
#include "controller/runtime/builder.h"
#include "test/controller/leader/fake_lease_server.h"
#include "test/support/eventually.h"
#include "test/support/fake_clock.h"
#include "test/support/fake_transport.h"
#include "test/support/temp_dir.h"

using namespace rio;
using namespace rio::manager;
using namespace std::chrono_literals;
using rio::testing::eventually;
using rio::testing::FakeLeaseServer;
using rio::testing::FakeTransport;
using Json = nlohmann::json;

namespace {

// A fake control plane: Leases from a FakeLeaseServer, a ConfigMap list that can be held back
// (so a test sees the manager before its caches synced), Events accepted as sent.
class FakeControlPlane {
 public:
  ~FakeControlPlane() { openLists(); }

  ClientFactory clientFactory() {
    return [this](IoRuntime&, kube::ClientOptions co,
                  std::chrono::milliseconds) -> Expected<kube::ClientPtr> {
      auto transport = std::make_shared<FakeTransport>();
      transport->setResponder([this](const http::Request& r) { return respond(r); });
      co.sleep = [](std::chrono::nanoseconds) {};
      kube::RestConfig config;
      config.server = "https://fake.example:6443";
      return kube::makeClient(transport, config, co);
    };
  }
  void holdLists() {
    std::lock_guard lock(mu_);
    listsOpen_ = false;
  }
  void openLists() {
    {
      std::lock_guard lock(mu_);
      listsOpen_ = true;
    }
    cv_.notify_all();
  }
  FakeLeaseServer leases;

 private:
  Expected<http::Response> respond(const http::Request& r) {
    if (r.target.rfind("/apis/coordination.k8s.io/", 0) == 0) return leases.handle(r);
    if (r.target.find("/configmaps") != std::string::npos) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return listsOpen_; });
      Json list{
          {"kind", "ConfigMapList"},
          {"apiVersion", "v1"},
          {"metadata", {{"resourceVersion", "10"}}},
          {"items",
           {{{"metadata", {{"name", "c1"}, {"namespace", "demo"}, {"resourceVersion", "9"}}}}}}};
      return http::Response{200, {}, list.dump()};
    }
    if (r.target.find("/events") != std::string::npos) return http::Response{201, {}, r.body};
    return http::Response{
        404,
        {},
        R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404})"};
  }

  std::mutex mu_;  // guards listsOpen_
  std::condition_variable cv_;
  bool listsOpen_ = true;
};

// Plain HTTP GETs against the manager's ports, on the test's own I/O loop.
class HttpClient {
 public:
  http::Response get(std::uint16_t port, const std::string& path) {
    auto ep = kube::Endpoint::parse("http://127.0.0.1:" + std::to_string(port));
    REQUIRE(ep);
    auto t = kube::makeTransport(io_, *ep, {});
    REQUIRE(t);
    http::Request r;
    r.target = path;
    r.timeout = 10s;
    auto resp = (*t)->roundTrip(r);
    REQUIRE(resp);
    return *resp;
  }

 private:
  IoRuntime io_{1};
};

ManagerOptions baseOptions(FakeControlPlane& cp) {
  ManagerOptions o;
  o.clientFactory = cp.clientFactory();
  o.metricsBindAddress = "127.0.0.1:0";
  o.healthProbeBindAddress = "127.0.0.1:0";
  o.workerThreads = 2;
  o.gracefulShutdownTimeout = 20s;
  return o;
}

ManagerOptions electingOptions(FakeControlPlane& cp, const std::string& identity) {
  ManagerOptions o = baseOptions(cp);
  o.leaderElection = true;
  o.leaderElectionNamespace = "demo";
  o.leaderElectionId = "rio-test";
  o.identity = identity;
  return o;
}

// Runs mgr->run() on a thread and keeps its exit code.
class Runner {
 public:
  explicit Runner(Manager& mgr)
      : mgr_(mgr), thread_([this, &mgr] {
          code_ = mgr.run();
          done_ = true;
        }) {}
  // A failed REQUIRE leaves the manager running: stop it so the test ends instead of hanging.
  ~Runner() {
    if (!thread_.joinable()) return;
    mgr_.stop();
    thread_.join();
  }
  int join() {
    thread_.join();
    return code_;
  }
  bool done() const { return done_.load(); }

 private:
  Manager& mgr_;
  std::atomic<int> code_{-1};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Waits until every task queued on a one-thread executor before this call has run (the sentinel
// runs after them), so a test moves a manual clock only when the executor has settled.
void drain(runtime::ExecutorImpl& executor) {
  auto ran = std::make_shared<std::promise<void>>();
  auto done = ran->get_future();
  executor.post([ran] { ran->set_value(); });
  REQUIRE(done.wait_for(10s) == std::future_status::ready);
}

// Checks the Prometheus text exposition format line by line: HELP/TYPE comments and samples
// whose family was typed before. Returns the offending line, or "" when all are well formed.
std::string badPrometheusLine(const std::string& text) {
  static const std::regex help(R"(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*)");
  static const std::regex type(
      R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (?:[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|NaN|[-+]Inf)( -?[0-9]+)?)");
  std::set<std::string> typed;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.empty() || std::regex_match(line, help)) continue;
    if (std::regex_match(line, m, type)) {
      typed.insert(m[1]);
      continue;
    }
    if (!std::regex_match(line, m, sample)) return line;
    std::string family = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s = suffix;
      if (!typed.count(family) && family.size() > s.size() &&
          family.compare(family.size() - s.size(), s.size(), s) == 0) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    if (!typed.count(family)) return line + "  (no TYPE before it)";
  }
  return "";
}

}  // namespace

TEST_CASE(
    "Manager: /readyz fails until the caches synced, then controllers run and /metrics "
    "serves every runtime family as Prometheus text",
    "[manager]") {
  FakeControlPlane cp;
  cp.holdLists();
  auto created = Manager::create(electingOptions(cp, "a"));
  REQUIRE(created);
  Manager& mgr = **created;
  auto informer = mgr.informer({kube::resources::kConfigMaps, "demo"});
  REQUIRE(informer);
  CHECK(*mgr.informer({kube::resources::kConfigMaps, "demo"}) == *informer);  // shared
  std::atomic<int> reconciles{0};
  auto ctrl = runtime::Builder("widgets", mgr.executor())
                  .forInformer(*informer)
                  .withOptions(mgr.controllerOptions())
                  .build(runtime::reconcilerFunc(
                      [&](const runtime::ReconcileContext&, const runtime::Request&) {
                        ++reconciles;
                        return runtime::ReconcileOutcome(runtime::Result{});
                      }));
  REQUIRE(ctrl);
  mgr.add(*ctrl);
  mgr.addReadyzCheck("remote-clusters", [] { return std::optional<std::string>(); });

  Runner runner(mgr);
  REQUIRE(eventually([&] { return mgr.healthPort() != 0 && mgr.metricsPort() != 0; }));
  HttpClient http;
  auto healthz = http.get(mgr.healthPort(), "/healthz");
  CHECK(healthz.status == 200);
  CHECK(healthz.body == "ok");
  auto notReady = http.get(mgr.healthPort(), "/readyz");
  CHECK(notReady.status == 500);
  CHECK_THAT(notReady.body, Catch::Contains("[-]informers failed"));
  CHECK_THAT(notReady.body, Catch::Contains("[+]remote-clusters ok"));
  CHECK(http.get(mgr.healthPort(), "/readyz/ping").status == 200);
  CHECK(http.get(mgr.healthPort(), "/readyz/informers").status == 500);
  CHECK(http.get(mgr.healthPort(), "/readyz/nope").status == 404);
  CHECK(reconciles == 0);
  CHECK_FALSE(mgr.leading());  // election waits for the caches

  cp.openLists();
  REQUIRE(eventually([&] { return http.get(mgr.healthPort(), "/readyz").status == 200; }));
  CHECK(http.get(mgr.healthPort(), "/readyz?verbose").body ==
        "[+]ping ok\n[+]informers ok\n[+]remote-clusters ok\nreadyz check passed\n");
  REQUIRE(eventually([&] { return reconciles.load() >= 1; }));
  CHECK(mgr.leading());

  auto metrics = http.get(mgr.metricsPort(), "/metrics");
  CHECK(metrics.status == 200);
  CHECK(http::findHeader(metrics.headers, "Content-Type") ==
        "text/plain; version=0.0.4; charset=utf-8");
  CHECK(badPrometheusLine(metrics.body) == "");
  if (std::filesystem::exists("/usr/bin/promtool")) {  // Prometheus's own parser and linter
    testing::TempDir dir;
    std::string file = dir.write("metrics.txt", metrics.body);
    CHECK(std::system(
              ("/usr/bin/promtool check metrics < " + file + " > /dev/null 2>&1").c_str()) == 0);
  }
  for (const char* series :
       {"controller_runtime_reconcile_total{controller=\"widgets\",result=\"success\"}",
        "controller_runtime_reconcile_errors_total{controller=\"widgets\"}",
        "controller_runtime_reconcile_time_seconds_bucket{controller=\"widgets\"",
        "controller_runtime_max_concurrent_reconciles{controller=\"widgets\"} 1",
        "workqueue_depth{name=\"widgets\"}", "workqueue_adds_total{name=\"widgets\"}",
        "rest_client_requests_total{", "rest_client_request_duration_seconds_bucket{",
        "leader_election_master_status{name=\"rio-test\"} 1",
        "event_recorder_events_total{result=\"created\"} 0"}) {
    CHECK_THAT(metrics.body, Catch::Contains(series));
  }
  CHECK(http.get(mgr.metricsPort(), "/healthz").status == 404);  // probes have their own port

  mgr.stop();
  CHECK(runner.join() == kExitOk);
  CHECK_FALSE(mgr.ready());
  CHECK(cp.leases.spec("demo", "rio-test")["holderIdentity"] == "");  // released
}

TEST_CASE("Manager: SIGTERM makes run() return 0 after releasing the lease", "[manager]") {
  FakeControlPlane cp;
  ManagerOptions o = electingOptions(cp, "a");
  o.handleSignals = true;
  auto mgr = Manager::create(o);
  REQUIRE(mgr);
  Runner runner(**mgr);
  REQUIRE(eventually([&] { return (*mgr)->leading(); }));
  CHECK(cp.leases.spec("demo", "rio-test")["holderIdentity"] == "a");

  std::raise(SIGTERM);
  CHECK(runner.join() == kExitOk);
  Json spec = cp.leases.spec("demo", "rio-test");
  CHECK(spec["holderIdentity"] == "");
  CHECK(spec["leaseDurationSeconds"] == 1);
}

TEST_CASE("Manager: a bind address already in use fails the start-up with exit code 1",
          "[manager]") {
  FakeControlPlane cp;
  IoRuntime io(1);
  http::Server squatter(
      io, {}, [](http::ServerRequest, http::ExchangePtr ex) { ex->respond(200, {}, ""); });
  REQUIRE(squatter.start());
  ManagerOptions o = baseOptions(cp);
  o.healthProbeBindAddress = "127.0.0.1:" + std::to_string(squatter.port());
  auto mgr = Manager::create(o);
  REQUIRE(mgr);
  CHECK((*mgr)->run() == kExitFailure);
  CHECK((*mgr)->run() == kExitFailure);  // run() once only
}

TEST_CASE("Manager: bad options are configuration errors at creation", "[manager]") {
  FakeControlPlane cp;
  ManagerOptions o = baseOptions(cp);
  o.leaderElection = true;  // without a namespace
  auto noNamespace = Manager::create(o);
  REQUIRE_FALSE(noNamespace);
  CHECK(noNamespace.error().kind() == ErrorKind::kConfig);
  CHECK_THAT(noNamespace.error().message(), Catch::Contains("--leader-election-namespace"));

  ManagerOptions p = baseOptions(cp);
  p.metricsBindAddress = "nonsense";
  CHECK_FALSE(Manager::create(p));
}

TEST_CASE(
    "Manager: without leader election, a stop before anything synced still returns 0 and "
    "the metrics endpoint can be disabled",
    "[manager]") {
  FakeControlPlane cp;
  cp.holdLists();
  ManagerOptions o = baseOptions(cp);
  o.metricsBindAddress = "0";
  auto mgr = Manager::create(o);
  REQUIRE(mgr);
  REQUIRE((*mgr)->informer({kube::resources::kConfigMaps, "demo"}));
  std::atomic<bool> runnableStarted{false};
  (*mgr)->add(Runnable{"early", [&] { runnableStarted = true; }, nullptr, false});
  Runner runner(**mgr);
  REQUIRE(eventually([&] { return (*mgr)->healthPort() != 0; }));
  CHECK((*mgr)->metricsPort() == 0);
  REQUIRE(eventually([&] { return runnableStarted.load(); }));
  (*mgr)->stop();
  cp.openLists();  // the LIST in flight returns; its result is discarded
  CHECK(runner.join() == kExitOk);
}

TEST_CASE("Manager: losing the lease ends run() with exit code 1", "[manager]") {
  FakeControlPlane cp;
  auto clock = std::make_shared<testing::FakeClock>();
  auto executor = runtime::makeExecutor(2, clock);
  ManagerOptions o = electingOptions(cp, "a");
  o.executor = executor;
  auto mgr = Manager::create(o);
  REQUIRE(mgr);
  Runner runner(**mgr);
  REQUIRE(eventually([&] { return (*mgr)->leading(); }));

  cp.leases.setDown(true);
  // Move the manual clock in small steps until the renew deadline has passed for the elector.
  REQUIRE(eventually(
      [&] {
        if (runner.done()) return true;
        clock->advance(100ms);
        executor->wake();
        return false;
      },
      60s));
  CHECK(runner.join() == kExitFailure);
  CHECK_FALSE((*mgr)->leading());
  mgr->reset();
  executor->shutdown();
}

TEST_CASE("Manager: two managers elect one leader, when it stops, the other leads within 2 s",
          "[manager]") {
  FakeControlPlane cp;
  auto clock = std::make_shared<testing::FakeClock>();
  // One worker each, so drain() can tell when an executor has settled.
  auto executorA = runtime::makeExecutor(1, clock);
  auto executorB = runtime::makeExecutor(1, clock);
  ManagerOptions oa = electingOptions(cp, "a");
  oa.executor = executorA;
  ManagerOptions ob = electingOptions(cp, "b");
  ob.executor = executorB;
  auto a = Manager::create(oa);
  auto b = Manager::create(ob);
  REQUIRE(a);
  REQUIRE(b);

  Runner runA(**a);
  REQUIRE(eventually([&] { return (*a)->leading(); }));
  drain(*executorA);
  Runner runB(**b);
  REQUIRE(eventually([&] { return (*b)->elector()->observedLeader() == "a"; }));
  CHECK_FALSE((*b)->leading());

  // Time passes in retry periods: a renews at each (the clock waits for it), b stays a follower.
  auto renewTime = [&] { return cp.leases.spec("demo", "rio-test")["renewTime"]; };
  for (int i = 0; i < 5; ++i) {
    clock->advance(2s);
    executorA->wake();
    executorB->wake();
    INFO("iteration " << i << ", renewTime " << renewTime() << ", now "
                      << helpers::formatMicroTime(clock->wallNow()));
    REQUIRE(eventually([&] { return renewTime() == helpers::formatMicroTime(clock->wallNow()); }));
    drain(*executorA);  // a has scheduled its next renewal before the clock moves again
    CHECK((*a)->leading());
    CHECK_FALSE((*b)->leading());
  }

  (*a)->stop();
  CHECK(runA.join() == kExitOk);
  CHECK(cp.leases.spec("demo", "rio-test")["holderIdentity"] == "");

  // b's next poll is at most one retry period (2 s) away: it leads without the clock moving
  // further than that.
  clock->advance(2s);
  executorB->wake();
  REQUIRE(eventually([&] { return (*b)->leading(); }));
  CHECK(cp.leases.spec("demo", "rio-test")["holderIdentity"] == "b");
  CHECK(cp.leases.spec("demo", "rio-test")["leaseTransitions"] == 1);

  (*b)->stop();
  CHECK(runB.join() == kExitOk);
  a->reset();
  b->reset();
  executorA->shutdown();
  executorB->shutdown();
}

TEST_CASE(
    "InformerFactory: one informer per resource, namespace and selectors, an index the "
    "shared one lacks is an error",
    "[manager]") {
  auto executor = runtime::makeExecutor(1);
  auto transport = std::make_shared<FakeTransport>();
  kube::RestConfig config;
  config.server = "https://fake.example:6443";
  InformerFactory factory(kube::makeClient(transport, config), executor);
  auto a = factory.informer(
      {kube::resources::kSecrets, "demo", "app=x", "", {{"owner", cache::indexByLabel("owner")}}});
  REQUIRE(a);
  CHECK(*factory.informer({kube::resources::kSecrets, "demo", "app=x"}) == *a);
  CHECK(*factory.informer({kube::resources::kSecrets, "demo"}) != *a);
  CHECK(*factory.informer({kube::resources::kSecrets, "other", "app=x"}) != *a);
  auto missing = factory.informer(
      {kube::resources::kSecrets, "demo", "app=x", "", {{"x", cache::indexByLabel("x")}}});
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message(), Catch::Contains("without the index \"x\""));
  CHECK(factory.informers().size() == 3);
  CHECK_FALSE(factory.hasSynced());  // never started
  factory.stop();
  executor->shutdown();
}
