// The Manager and the helpers against kube-testenv: real HTTPS, the production client and
// transport, and an API server with kube-apiserver's semantics (resourceVersion conflicts, JSON
// patch test ops, server-side apply field ownership, request accounting).
#include <future>

#include <catch2/catch.hpp>

#include "controller/events/event_recorder.h"
#include "controller/helpers/apply.h"
#include "controller/helpers/finalizers.h"
#include "controller/helpers/time_format.h"
#include "controller/leader/leader_elector.h"
#include "controller/manager/manager.h"
#include "test/controller/runtime/fake_executor.h"
#include "test/support/eventually.h"
#include "test/support/fake_clock.h"
#include "test/testenv/testenv.h"

using namespace rio;
using namespace std::chrono_literals;
using rio::testing::eventually;
using Json = nlohmann::json;

namespace {

struct Hub {
  IoRuntime io{2};
  testenv::Testenv env{io};
  testenv::Cluster* cluster = nullptr;
  Hub() {
    auto c = env.add(testenv::Testenv::defaultsFor("hub", 0));
    REQUIRE(c);
    cluster = *c;
  }
  ~Hub() { env.stop(); }
  testenv::ApiServer& api() { return cluster->api(); }
  kube::ClientPtr client() {
    kube::ClientOptions co;
    co.retry.maxRetries = 0;
    auto c = kube::makeClient(io, cluster->restConfig(), co);
    REQUIRE(c);
    return *c;
  }
  Json lease(const std::string& name) {
    auto l = api().get(kube::resources::kLeases, "default", name);
    return l ? (*l)["spec"] : Json();
  }
};

void drain(runtime::ExecutorImpl& executor) {
  auto ran = std::make_shared<std::promise<void>>();
  auto done = ran->get_future();
  executor.post([ran] { ran->set_value(); });
  REQUIRE(done.wait_for(20s) == std::future_status::ready);
}

class Runner {
 public:
  explicit Runner(manager::Manager& mgr) : mgr_(mgr), thread_([this] { code_ = mgr_.run(); }) {}
  ~Runner() {
    if (!thread_.joinable()) return;
    mgr_.stop();
    thread_.join();
  }
  int join() {
    thread_.join();
    return code_;
  }

 private:
  manager::Manager& mgr_;
  std::atomic<int> code_{-1};
  std::thread thread_;
};

}  // namespace

TEST_CASE(
    "Manager with kube-testenv: two managers elect one leader, the stopped leader's lease "
    "is taken within 2 s, never two leaders at once",
    "[manager][testenv]") {
  Hub hub;
  auto clock = std::make_shared<testing::FakeClock>();
  auto executorA = runtime::makeExecutor(1, clock);
  auto executorB = runtime::makeExecutor(1, clock);
  auto options = [&](const std::string& identity, runtime::ExecutorPtr executor) {
    manager::ManagerOptions o;
    o.restConfig = hub.cluster->restConfig();
    o.metricsBindAddress = "0";
    o.healthProbeBindAddress = "127.0.0.1:0";
    o.leaderElection = true;
    o.leaderElectionNamespace = "default";
    o.leaderElectionId = "rio-test";
    o.identity = identity;
    o.executor = std::move(executor);
    return o;
  };
  auto a = manager::Manager::create(options("a", executorA));
  auto b = manager::Manager::create(options("b", executorB));
  REQUIRE(a);
  REQUIRE(b);
  auto oneLeader = [&] { return !((*a)->leading() && (*b)->leading()); };

  Runner runA(**a);
  REQUIRE(eventually([&] { return (*a)->leading(); }, 20s));
  drain(*executorA);
  Json spec = hub.lease("rio-test");
  CHECK(spec["holderIdentity"] == "a");
  CHECK(spec["leaseDurationSeconds"] == 15);
  CHECK(spec["renewTime"] == helpers::formatMicroTime(clock->wallNow()));

  Runner runB(**b);
  REQUIRE(eventually([&] { return (*b)->elector()->observedLeader() == "a"; }, 20s));
  for (int i = 0; i < 3; ++i) {
    clock->advance(2s);
    executorA->wake();
    executorB->wake();
    REQUIRE(eventually(
        [&] {
          return hub.lease("rio-test")["renewTime"] == helpers::formatMicroTime(clock->wallNow());
        },
        20s));
    drain(*executorA);
    CHECK(oneLeader());
    CHECK_FALSE((*b)->leading());
  }

  (*a)->stop();
  CHECK(runA.join() == manager::kExitOk);
  spec = hub.lease("rio-test");
  CHECK(spec["holderIdentity"] == "");
  CHECK(spec["leaseDurationSeconds"] == 1);
  CHECK_FALSE((*a)->leading());

  clock->advance(2s);  // one retry period: b's next poll is due by now
  executorB->wake();
  REQUIRE(eventually([&] { return (*b)->leading(); }, 20s));
  spec = hub.lease("rio-test");
  CHECK(spec["holderIdentity"] == "b");
  CHECK(spec["leaseTransitions"] == 1);

  (*b)->stop();
  CHECK(runB.join() == manager::kExitOk);
  a->reset();
  b->reset();
  executorA->shutdown();
  executorB->shutdown();
}

TEST_CASE(
    "LeaderElector with kube-testenv: a leader that dies without releasing is replaced "
    "once its lease expired, never two leaders at once",
    "[leader][testenv]") {
  Hub hub;
  auto executor = std::make_shared<testing::FakeExecutor>();
  auto elector = [&](const std::string& identity) {
    leader::LeaderElectionOptions o;
    o.name = "rio-kill";
    o.identity = identity;
    o.random = [] { return 0.0; };
    auto e = leader::LeaderElector::create(
        std::make_shared<leader::LeaseLockImpl>(hub.client(), "default", "rio-kill"), executor, o,
        {});
    REQUIRE(e);
    return *e;
  };
  auto a = elector("a");
  auto b = elector("b");
  a->start();
  executor->runReady();
  b->start();
  executor->runReady();
  REQUIRE(a->isLeader());
  REQUIRE_FALSE(b->isLeader());
  auto advance = [&](std::chrono::milliseconds d) {
    for (auto left = d; left.count() > 0; left -= 100ms) {
      executor->advance(100ms, 100ms);
      REQUIRE_FALSE((a && a->isLeader() && b->isLeader()));
    }
  };
  advance(3s);  // a renewed at 2 s, b saw it
  a.reset();    // killed: no release

  advance(13900ms);  // b last saw a change at 2 s: valid until 17 s, when b takes it
  CHECK_FALSE(b->isLeader());
  advance(100ms);
  CHECK(b->isLeader());
  CHECK(hub.lease("rio-kill")["holderIdentity"] == "b");
  CHECK(hub.lease("rio-kill")["leaseTransitions"] == 1);
  b->stop();
  CHECK(hub.lease("rio-kill")["holderIdentity"] == "");
  executor->shutdown();
}

TEST_CASE(
    "Helpers with kube-testenv: finalizer patches apply to the list as seen and fail on a "
    "race",
    "[helpers][testenv]") {
  Hub hub;
  auto client = hub.client();
  const auto& cms = kube::resources::kConfigMaps;
  auto created =
      client->create(cms, Json{{"apiVersion", "v1"},
                               {"kind", "ConfigMap"},
                               {"metadata", {{"name", "f1"}, {"namespace", "default"}}}});
  REQUIRE(created);

  // No list yet: guarded by the resourceVersion.
  REQUIRE(helpers::addFinalizer(*client, cms, *created, "other.example.com/x"));
  auto seen = client->get(cms, {"default", "f1"});
  REQUIRE(seen);
  CHECK((*seen)["metadata"]["finalizers"] == Json{"other.example.com/x"});
  // The stale copy (no finalizers) can no longer add: the server answers 422.
  auto stale = helpers::addFinalizer(*client, cms, *created, "rio.example.com/cleanup");
  REQUIRE_FALSE(stale);
  CHECK(helpers::isFinalizerRace(stale.error()));

  REQUIRE(helpers::addFinalizer(*client, cms, *seen, "rio.example.com/cleanup"));
  auto both = client->get(cms, {"default", "f1"});
  CHECK((*both)["metadata"]["finalizers"] ==
        Json{"other.example.com/x", "rio.example.com/cleanup"});
  // Removing with a view taken before ours was added would be a race: refused.
  auto race = helpers::removeFinalizer(*client, cms, *seen, "other.example.com/x");
  REQUIRE_FALSE(race);
  CHECK(helpers::isFinalizerRace(race.error()));
  REQUIRE(helpers::removeFinalizer(*client, cms, *both, "rio.example.com/cleanup"));
  CHECK((*client->get(cms, {"default", "f1"}))["metadata"]["finalizers"] ==
        Json{"other.example.com/x"});
}

TEST_CASE(
    "Helpers with kube-testenv: applyObject writes once, then nothing while unchanged, and "
    "reports another manager's field as a conflict",
    "[helpers][testenv]") {
  Hub hub;
  auto client = hub.client();
  const auto& deployments = kube::resources::kDeployments;
  Json desired = Json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "injector", "namespace": "default", "labels": {"app": "injector"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "injector"}},
      "template": {"metadata": {"labels": {"app": "injector"}},
        "spec": {"containers": [{"name": "injector", "image": "hub/sidecar_injector:1.0",
                                 "ports": [{"containerPort": 9443}]}]}}}})");

  auto first = helpers::applyObject(*client, deployments, desired, "rio", nullptr);
  REQUIRE(first);
  CHECK(first->result == helpers::ApplyResult::kCreated);
  hub.api().resetStats();
  // The server filled in defaults (also inside the container and port items): still unchanged.
  auto live = client->get(deployments, {"default", "injector"});
  REQUIRE(live);
  CHECK((*live)["spec"]["template"]["spec"]["containers"][0].contains("terminationMessagePath"));
  for (int i = 0; i < 3; ++i) {
    auto again = helpers::applyObject(*client, deployments, desired, "rio", &*live);
    REQUIRE(again);
    CHECK(again->result == helpers::ApplyResult::kUnchanged);
  }
  CHECK(hub.api().stats().writes == 0);

  desired["spec"]["replicas"] = 3;
  auto updated = helpers::applyObject(*client, deployments, desired, "rio", &*live);
  REQUIRE(updated);
  CHECK(updated->result == helpers::ApplyResult::kUpdated);
  CHECK(hub.api().stats().writes == 1);

  // Another manager owns the image now; ours differs: a conflict, nothing forced.
  Json theirs{
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "injector"}, {"namespace", "default"}}},
      {"spec",
       {{"template",
         {{"spec",
           {{"containers", {{{"name", "injector"}, {"image", "hub/sidecar_injector:2.0"}}}}}}}}}}};
  REQUIRE(client->apply(deployments, theirs, "someone-else", /*force=*/true));
  auto current = client->get(deployments, {"default", "injector"});
  auto conflict = helpers::applyObject(*client, deployments, desired, "rio", &*current);
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().isConflict());
  auto fields = helpers::conflictFields(conflict.error());
  REQUIRE(fields.size() == 1);
  CHECK_THAT(fields[0], Catch::Contains("someone-else"));
  CHECK((*client->get(
            deployments,
            {"default", "injector"}))["spec"]["template"]["spec"]["containers"][0]["image"] ==
        "hub/sidecar_injector:2.0");
}

TEST_CASE("EventRecorder with kube-testenv: a repeated event is one Event with count 2",
          "[events][testenv]") {
  Hub hub;
  auto executor = std::make_shared<testing::FakeExecutor>();
  auto broadcaster = events::Broadcaster::create(hub.client(), executor, {});
  auto recorder = broadcaster->recorderFor("remote-istio-operator");
  Json cm{{"metadata", {{"name", "c1"}, {"namespace", "default"}, {"uid", "u1"}}}};
  recorder->event(cm, kube::resources::kConfigMaps, events::EventType::kWarning, "Unreachable",
                  "cluster c1 is not answering");
  executor->runReady();
  executor->fakeClock().advance(30s);
  recorder->event(cm, kube::resources::kConfigMaps, events::EventType::kWarning, "Unreachable",
                  "cluster c1 is not answering");
  executor->runReady();
  auto stored = hub.api().list(kube::resources::kEvents, "default");
  std::vector<Json> ours;
  for (auto& e : stored) {
    if (e["involvedObject"].value("name", "") == "c1") ours.push_back(e);
  }
  REQUIRE(ours.size() == 1);
  CHECK(ours[0]["count"] == 2);
  CHECK(ours[0]["type"] == "Warning");
  CHECK(ours[0]["source"]["component"] == "remote-istio-operator");
  CHECK(ours[0]["lastTimestamp"] == helpers::formatTime(executor->clock()->wallNow()));
  CHECK(broadcaster->stats().created == 1);
  CHECK(broadcaster->stats().patched == 1);
  broadcaster->stop();
  executor->shutdown();
}
