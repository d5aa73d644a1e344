// The operator against API servers that misbehave while a cluster joins and its RemoteIstio is
// reconciled: a remote blackholed, down, restarted; the control plane restarted; watch history
// expiring (410 Gone) over and over; 429 with Retry-After; bursts of 500/503; update conflicts.
// Each test lifts the fault and then checks what a user would see (everything Ready and working,
// exactly the objects a clean run makes) and that nothing the operator did not create was changed
// or deleted; most also check that the operator still follows changes afterwards (its watches
// came back).
#include <catch2/catch.hpp>

#include "controller/core/logging.h"
#include "test/fault/fault_harness.h"

using namespace rio;
using namespace rio::testing::fault;
using rio::testing::eventually;
namespace r = kube::resources;

namespace {

const std::vector<std::string> kBeijing = {"cn-beijing"};

// Probes every 2 s instead of once a minute: a hang shows sooner (the detection time itself is the
// membership tests' business).
ProcessOptions quickProbes(int workers = 2) {
  ProcessOptions o;
  o.workers = workers;
  o.operatorOptions.membership.probeInterval = 2s;
  o.operatorOptions.membership.probeTimeout = 1s;
  return o;
}

testenv::ErrorRule rule(int code, double rate, const std::string& verb = "") {
  testenv::ErrorRule rule;
  rule.code = code;
  rule.rate = rate;
  rule.verb = verb;
  rule.retryAfterSeconds = 1;
  return rule;
}

std::uint64_t writesTo(testing::OperatorEnv& env, const std::string& cluster) {
  return env.remote(cluster).api().stats().writes;
}

/// After the faults: a spec change reaches the remote (the hub's watches work), and an object the
/// operator owns, deleted in the remote, comes back (the remote's watches work).
void checkStillFollows(World& w, const std::string& remote, int replicas = 2) {
  auto& hub = w.env().hub().api();
  auto patched = hub.request(
      "PATCH",
      "/apis/istio.alibabacloud.com/v1beta1/namespaces/istio-system/remoteistios/" + remote,
      {{"spec", {{"sidecarInjector", {{"replicaCount", replicas}}}}}},
      "application/merge-patch+json");
  REQUIRE(patched.status == 200);
  CHECK(eventually(
      [&] {
        auto d = w.remoteGet(remote, r::kDeployments, "istio-sidecar-injector");
        return d && (*d)["spec"]["replicas"] == replicas;
      },
      kConverge));
  auto deleted = w.env().remote(remote).api().request(
      "DELETE",
      "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector");
  REQUIRE(deleted.status == 200);
  CHECK(eventually(
      [&] {
        return w.remoteGet(remote, r::kMutatingWebhookConfigurations, "istio-sidecar-injector")
            .has_value();
      },
      kConverge));
  CHECK(w.waitReady(reconcilers::kRemoteIstios, remote));
}

}  // namespace

TEST_CASE(
    "A remote blackholed mid-reconcile is reported Unreachable, another member converges "
    "meanwhile, and both converge once it answers",
    "[fault][remote]") {
  const std::vector<std::string> remotes = {"cn-beijing", "cn-hangzhou"};
  auto reference = cleanInventory(remotes);
  World w({remotes});
  joinAndInstall(w, remotes);
  auto before = snapshot(w.env());
  auto& beijing = w.env().remote("cn-beijing").api();
  beijing.resetStats();
  // One worker, the product's default: the dead remote must not hold it.
  OperatorProcess op(w.env(), quickProbes(1));
  REQUIRE(eventually([&] { return beijing.stats().writes >= 1; }, kConverge));
  beijing.setBlackhole(true);

  // The other member is not held up by the dead one.
  REQUIRE(w.waitReady(reconcilers::kMeshMemberships, "cn-hangzhou"));
  REQUIRE(w.waitReady(reconcilers::kRemoteIstios, "cn-hangzhou"));
  // The dead one says so.
  std::string reason;
  REQUIRE(eventually(
      [&] {
        return w.condition(reconcilers::kMeshMemberships, "cn-beijing", "Reachable", &reason) ==
               "False";
      },
      kConverge));
  CHECK(reason == "Unreachable");
  CHECK_FALSE(w.remoteIstioReady("cn-beijing"));

  beijing.setBlackhole(false);
  beijing.releaseBlackholed();
  checkConverged(w, remotes, before, reference);
  checkStillFollows(w, "cn-beijing");
}

TEST_CASE(
    "A remote API server restarted mid-reconcile, then down for a while and back on the "
    "same port: the operator converges and its remote watches resume",
    "[fault][remote]") {
  auto reference = cleanInventory(kBeijing);
  World w({kBeijing});
  joinAndInstall(w, kBeijing);
  auto before = snapshot(w.env());
  auto& beijing = w.env().remote("cn-beijing");
  beijing.api().resetStats();
  OperatorProcess op(w.env(), quickProbes());

  // Restarted in the middle of the join: connections drop, watches end.
  REQUIRE(eventually([&] { return writesTo(w.env(), "cn-beijing") >= 2; }, kConverge));
  REQUIRE(beijing.restart());
  // Again in the middle of the RemoteIstio reconcile (its first remote write is the Deployment,
  // the Secret or the ConfigMap of the injector: anything past the join's writes).
  const auto joinWrites = writesTo(w.env(), "cn-beijing");
  REQUIRE(eventually([&] { return writesTo(w.env(), "cn-beijing") >= joinWrites + 6; }, kConverge));
  REQUIRE(beijing.restart());
  checkConverged(w, kBeijing, before, reference);

  // Down (connection refused) until the operator notices, then back.
  beijing.stop();
  std::string reason;
  REQUIRE(eventually(
      [&] {
        return w.condition(reconcilers::kMeshMemberships, "cn-beijing", "Reachable", &reason) ==
               "False";
      },
      kConverge));
  CHECK(reason == "Unreachable");
  CHECK(eventually([&] { return w.hasEvent("cn-beijing", "Unreachable"); }, kConverge));
  REQUIRE(beijing.start());
  checkConverged(w, kBeijing, before, reference);
  checkStillFollows(w, "cn-beijing");
}

TEST_CASE(
    "The control-plane API server restarted mid-join and mid-reconcile: the operator "
    "converges and follows later changes",
    "[fault][hub]") {
  auto reference = cleanInventory(kBeijing);
  World w({kBeijing});
  joinAndInstall(w, kBeijing);
  auto before = snapshot(w.env());
  auto& hub = w.env().hub();
  hub.api().resetStats();
  OperatorProcess op(w.env());
  REQUIRE(eventually([&] { return hub.api().stats().writes >= 1; }, kConverge));
  REQUIRE(hub.restart());
  REQUIRE(eventually([&] { return writesTo(w.env(), "cn-beijing") >= 8; }, kConverge));
  REQUIRE(hub.restart());
  checkConverged(w, kBeijing, before, reference);
  // Once more while idle: every watch on the hub ends; the next change must still arrive.
  REQUIRE(hub.restart());
  checkStillFollows(w, "cn-beijing");
}

TEST_CASE(
    "A storm of 410 Gone (watch history expired, every watch dropped, again and again) "
    "neither stops convergence nor loses later changes",
    "[fault][watch]") {
  auto reference = cleanInventory(kBeijing);
  if (std::getenv("RIO_FAULT_DEBUG")) log::configure(log::Level::kDebug, log::Format::kJson);
  World w({kBeijing});
  joinAndInstall(w, kBeijing);
  auto before = snapshot(w.env());
  OperatorProcess op(w.env());
  auto stormUntil = std::chrono::steady_clock::now() + 4s;
  std::uint64_t rounds = 0;
  while (std::chrono::steady_clock::now() < stormUntil) {
    for (auto* c : w.env().env().clusters()) {
      c->api().expireWatchHistory();
      c->api().dropAllWatches();
    }
    ++rounds;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(rounds > 10);
  checkConverged(w, kBeijing, before, reference);
  // History expired once more while idle: resuming watches get 410 and must relist.
  for (auto* c : w.env().env().clusters()) {
    c->api().expireWatchHistory();
    c->api().dropAllWatches();
  }
  checkStillFollows(w, "cn-beijing");
}

TEST_CASE(
    "Every request answered 429 with Retry-After for a while: the operator backs off "
    "instead of hammering, then converges",
    "[fault][throttle]") {
  auto reference = cleanInventory(kBeijing);
  World w({kBeijing});
  joinAndInstall(w, kBeijing);
  auto before = snapshot(w.env());
  w.resetStatsEverywhere();
  w.setErrorRulesEverywhere({rule(429, 1.0)});
  {
    ProcessOptions o;
    o.waitForStart = false;  // it cannot start while every request is refused
    OperatorProcess op(w.env(), o);
    std::this_thread::sleep_for(4s);
    const std::uint64_t throttled = w.answeredEverywhere(429);
    w.setErrorRulesEverywhere({});
    // A client that honoured Retry-After: 1 asks at most about once a second per caller (a few
    // informers and workers); one that ignored it would have asked thousands of times.
    INFO("429 answers in 4 s: " << throttled);
    CHECK(throttled > 0);
    CHECK(throttled < 400);
    checkConverged(w, kBeijing, before, reference);
  }
  // A restarted operator follows a change under a lighter, partial throttle.
  w.setErrorRulesEverywhere({rule(429, 0.3)});
  OperatorProcess op(w.env());
  checkStillFollows(w, "cn-beijing");
  w.setErrorRulesEverywhere({});
}

TEST_CASE(
    "Bursts of 500 and 503 from every API server during a join and a reconcile: the "
    "operator converges, nothing duplicated",
    "[fault][5xx]") {
  auto reference = cleanInventory(kBeijing);
  World w({kBeijing});
  joinAndInstall(w, kBeijing);
  auto before = snapshot(w.env());
  OperatorProcess op(w.env());
  for (int burst = 0; burst < 4; ++burst) {
    w.setErrorRulesEverywhere({rule(500, 0.4), rule(503, 0.4)});
    std::this_thread::sleep_for(1s);
    w.setErrorRulesEverywhere({});
    std::this_thread::sleep_for(300ms);
  }
  const std::uint64_t failed = w.answeredEverywhere(500) + w.answeredEverywhere(503);
  CHECK(failed > 0);
  checkConverged(w, kBeijing, before, reference);
  checkStillFollows(w, "cn-beijing");
}

TEST_CASE(
    "Update conflicts, injected and from a user editing the same objects: the operator "
    "converges and the user's edits survive",
    "[fault][conflict]") {
  auto reference = cleanInventory(kBeijing);
  World w({kBeijing});
  joinAndInstall(w, kBeijing);
  auto before = snapshot(w.env());
  w.resetStatsEverywhere();
  w.setErrorRulesEverywhere({rule(409, 0.5, "update")});
  OperatorProcess op(w.env());
  // The user annotates both resources while the operator writes their status: real conflicts.
  auto& hub = w.env().hub().api();
  const std::string mm =
      "/apis/istio.alibabacloud.com/v1beta1/namespaces/istio-system/meshmemberships/cn-beijing";
  const std::string ri =
      "/apis/istio.alibabacloud.com/v1beta1/namespaces/istio-system/remoteistios/cn-beijing";
  int edits = 0;
  for (auto until = std::chrono::steady_clock::now() + 4s;
       std::chrono::steady_clock::now() < until;) {
    json patch = {{"metadata", {{"annotations", {{"example.com/edit", std::to_string(++edits)}}}}}};
    REQUIRE(hub.request("PATCH", mm, patch, "application/merge-patch+json").status == 200);
    REQUIRE(hub.request("PATCH", ri, patch, "application/merge-patch+json").status == 200);
    std::this_thread::sleep_for(20ms);
  }
  const std::uint64_t conflicts = w.answeredEverywhere(409);
  w.setErrorRulesEverywhere({});
  CHECK(conflicts > 0);
  // The user's last edit is what the objects carry; nothing else of theirs changed.
  for (const auto& res : {reconcilers::kMeshMemberships, reconcilers::kRemoteIstios}) {
    auto obj = w.hubGet(res, "cn-beijing");
    REQUIRE(obj);
    CHECK((*obj)["metadata"]["annotations"]["example.com/edit"] == std::to_string(edits));
    auto& was = before.at("hub " + res.kind + " istio-system/cn-beijing");
    was["metadata"]["annotations"]["example.com/edit"] = std::to_string(edits);
  }
  checkConverged(w, kBeijing, before, reference);
}

TEST_CASE(
    "The answer to every write of a join and a reconcile lost once after the change was "
    "made (a timeout after commit): the operator converges, nothing duplicated",
    "[fault][lost]") {
  auto reference = cleanInventory(kBeijing);
  World w({kBeijing});
  joinAndInstall(w, kBeijing);
  auto before = snapshot(w.env());
  w.tap().loseEachWriteOnce(true);
  w.tap().arm();
  OperatorProcess op(w.env());
  waitConverged(w, kBeijing);
  w.tap().disarm();
  auto lost = w.tap().lost();
  std::string list;
  for (const auto& l : lost) list += l + "\n";
  INFO("answers lost:\n" << list);
  CHECK(lost.size() > 30);
  checkConverged(w, kBeijing, before, reference);
  checkStillFollows(w, "cn-beijing");
}

TEST_CASE(
    "An answer from a remote lost after the change was made does not stall a RemoteIstio "
    "connected with create-secret.sh's Secret",
    "[fault][lost]") {
  World w({kBeijing});
  // The reference procedure's Secret: no MeshMembership, so no probe of the remote.
  w.createSecretShSecret("cn-beijing");
  w.createRemoteIstio("cn-beijing");
  // Twice: the client's own retry of the request meets the same fate, so the reconcile sees it.
  w.tap().loseFirstWritesTo("cn-beijing", 2);
  w.tap().arm();
  OperatorProcess op(w.env());
  REQUIRE(eventually([&] { return w.tap().lost().size() == 2; }, kConverge));
  INFO("answer lost: " << w.tap().lost().front());
  // The remote answers everything else: the operator must find out by itself and carry on.
  REQUIRE(w.waitReady(reconcilers::kRemoteIstios, "cn-beijing", 30s));
  w.checkInstalled("cn-beijing");

  // The same during deletion: it must clean up, not wait for its deadline and leave objects
  // behind in a cluster that answers.
  REQUIRE(w.settle());
  w.tap().disarm();
  w.tap().loseFirstWritesTo("cn-beijing", 2);
  w.tap().arm();
  auto deleted = w.env().hub().api().request(
      "DELETE",
      "/apis/istio.alibabacloud.com/v1beta1/namespaces/istio-system/remoteistios/cn-beijing");
  REQUIRE(deleted.status == 200);
  REQUIRE(eventually([&] { return !w.hubGet(reconcilers::kRemoteIstios, "cn-beijing"); }, 30s));
  CHECK(w.tap().lost().size() == 2);
  auto left = snapshot(w.env());
  for (const auto& [key, obj] : left) {
    INFO(key);
    CHECK(obj["metadata"].value("labels", json::object()).value(desired::kOwnerKindLabel, "") !=
          "RemoteIstio");
  }
  CHECK_FALSE(w.hasEvent("cn-beijing", "CleanupDeadlineExceeded"));
}

TEST_CASE(
    "Status writes of a RemoteIstio refused with 409 for a while: once they are accepted again "
    "it turns Ready promptly, not after a backoff grown in the meantime",
    "[fault][conflict]") {
  World w({kBeijing});
  w.createSecretShSecret("cn-beijing");
  w.createRemoteIstio("cn-beijing");
  auto& hub = w.env().hub().api();
  testenv::ErrorRule conflict = rule(409, 1.0, "patch");
  conflict.resource = "remoteistios.istio.alibabacloud.com/status";
  hub.setErrorRules({conflict});
  hub.resetStats();
  OperatorProcess op(w.env());
  // Everything is installed meanwhile; only the status cannot be written.
  REQUIRE(eventually(
      [&] {
        auto d = w.remoteGet("cn-beijing", r::kDeployments, "istio-sidecar-injector");
        return d && d->value("status", json::object()).value("availableReplicas", 0) == 1;
      },
      kConverge));
  std::this_thread::sleep_for(12s);
  CHECK(hub.stats().count("patch", conflict.resource, 409) > 0);
  hub.setErrorRules({});
  // The conflict says a newer version exists, but a status-only change does not trigger the
  // controller: a retry must come soon by itself (the item backoff alone would have grown past
  // 10 s by now).
  CHECK(w.waitReady(reconcilers::kRemoteIstios, "cn-beijing", 5s));
  w.checkInstalled("cn-beijing");
  // The passes that changed the remote could not write their status; it still says when.
  auto ri = w.hubGet(reconcilers::kRemoteIstios, "cn-beijing");
  REQUIRE(ri);
  CHECK((*ri)["status"].contains("lastSyncTime"));
}
