// Two operator processes with leader election on one Lease; the leader is killed (it never
// releases the Lease): the standby takes over once the Lease expires and converges a change made
// after the kill.
#include <catch2/catch.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "test/fault/fault_harness.h"

using namespace rio;
using namespace rio::testing::fault;
using rio::testing::eventually;
namespace r = kube::resources;

namespace {

const std::vector<std::string> kBeijing = {"cn-beijing"};

/// The hub as a process with its own identity (a client certificate, CN = `user`, cluster
/// admin): the API servers can tell the two processes apart, so one can be cut off.
kube::RestConfig identityConfig(testing::OperatorEnv& env, const std::string& user) {
  auto cert = env.hub().issueClientCertificate(user, {"system:masters"});
  REQUIRE(cert);
  kube::RestConfig config = env.hub().restConfig();
  config.token = nullptr;
  config.tls.clientCertPem = cert->certPem;
  config.tls.clientKeyPem = cert->keyPem;
  config.origin = "client certificate " + user;
  return config;
}

ProcessOptions candidate(testing::OperatorEnv& env, const std::string& identity) {
  ProcessOptions o;
  o.restConfig = identityConfig(env, identity);
  o.leaderElection = true;
  o.identity = identity;
  return o;
}

std::optional<json> lease(World& w) {
  return w.env().hub().api().get(r::kLeases, kNs, "remote-istio-operator");
}

/// How often an Event with `reason` about cn-beijing was recorded in the hub (Event counts).
int eventCount(World& w, const std::string& reason) {
  int n = 0;
  for (const auto& e : w.env().hub().api().list(r::kEvents, kNs)) {
    if (e["involvedObject"].value("name", "") == "cn-beijing" && e.value("reason", "") == reason)
      n += e.value("count", 1);
  }
  return n;
}

}  // namespace

TEST_CASE(
    "The leader killed without releasing its Lease: the standby takes over when it expires "
    "and converges a change made after the kill",
    "[fault][leader]") {
  auto reference = cleanInventory(kBeijing);
  reference.insert("hub Lease istio-system/remote-istio-operator");
  World w({kBeijing});
  joinAndInstall(w, kBeijing);
  auto before = snapshot(w.env());

  auto a = std::make_unique<OperatorProcess>(w.env(), candidate(w.env(), "operator-a"));
  REQUIRE(eventually([&] { return a->leading(); }, kConverge));
  OperatorProcess b(w.env(), candidate(w.env(), "operator-b"));
  REQUIRE(eventually([&] { return b.manager().ready(); }, kConverge));
  waitConverged(w, kBeijing);
  CHECK_FALSE(b.leading());
  REQUIRE(lease(w));
  CHECK((*lease(w))["spec"]["holderIdentity"] == "operator-a");
  const int transitions = (*lease(w))["spec"].value("leaseTransitions", 0);

  const int membershipNotReadyBefore = eventCount(w, "MembershipNotReady");
  // Killed: from now on nothing from operator-a reaches the control plane, not even the release
  // a graceful stop would write.
  w.tap().dropUser("operator-a");
  a.reset();
  CHECK((*lease(w))["spec"]["holderIdentity"] == "operator-a");

  // A change nobody acts on until the standby leads.
  auto patched = w.env().hub().api().request(
      "PATCH",
      "/apis/istio.alibabacloud.com/v1beta1/namespaces/istio-system/remoteistios/cn-beijing",
      {{"spec", {{"sidecarInjector", {{"replicaCount", 2}}}}}}, "application/merge-patch+json");
  REQUIRE(patched.status == 200);

  REQUIRE(eventually([&] { return b.leading(); }, kConverge));
  CHECK((*lease(w))["spec"]["holderIdentity"] == "operator-b");
  CHECK((*lease(w))["spec"].value("leaseTransitions", 0) == transitions + 1);
  REQUIRE(eventually(
      [&] {
        auto d = w.remoteGet("cn-beijing", r::kDeployments, "istio-sidecar-injector");
        return d && (*d)["spec"]["replicas"] == 2;
      },
      kConverge));
  waitConverged(w, kBeijing);
  w.checkJoined("cn-beijing");
  w.checkInstalled("cn-beijing", 2);
  // The changed RemoteIstio waited for the new leader's connection to its (Ready) membership
  // without reporting the membership as not ready.
  CHECK(eventCount(w, "MembershipNotReady") == membershipNotReadyBefore);
  auto after = snapshot(w.env());
  auto made = created(before, after);
  CHECK(made == reference);
  // The RemoteIstio's spec is the user's change; everything else of theirs is as it was.
  before.at("hub RemoteIstio istio-system/cn-beijing")["spec"]["sidecarInjector"]["replicaCount"] =
      2;
  before.at("hub RemoteIstio istio-system/cn-beijing")["metadata"]["generation"] =
      after.at("hub RemoteIstio istio-system/cn-beijing")["metadata"]["generation"];
  checkNothingElseTouched(before, after);
}

TEST_CASE(
    "An operator restarted with everything Ready changes nothing: no status write and no Event in "
    "any cluster, Ready never leaves True",
    "[fault][restart]") {
  World w({kBeijing});
  joinAndInstall(w, kBeijing);
  {
    OperatorProcess first(w.env());
    waitConverged(w, kBeijing);
  }
  w.resetStatsEverywhere();
  OperatorProcess second(w.env());
  // The new process has run a full RemoteIstio pass over its own synced caches once it reports
  // the remote in its metrics; then it goes quiet.
  REQUIRE(eventually(
      [&] {
        auto text = prometheus::TextSerializer().Serialize(second.manager().registry().Collect());
        return text.find(R"(remote_istio_ready{cluster="cn-beijing"} 1)") != std::string::npos;
      },
      kConverge));
  REQUIRE(w.settle());
  for (auto* cluster : w.env().env().clusters()) {
    auto stats = cluster->api().stats();
    INFO(stats.toJson().dump());
    CHECK(stats.writes == 0);
  }
  CHECK(w.membershipReady("cn-beijing"));
  CHECK(w.remoteIstioReady("cn-beijing"));
}
