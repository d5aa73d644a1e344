// The MeshMembership controller against kube-testenv: a hub and two remote clusters in-process,
// RBAC evaluated, real expiring tokens, fault injection and request accounting.
#include <thread>

#include <set>

#include <catch2/catch.hpp>

#include "api/meta/time.h"
#include "reconcilers/desired/membership_objects.h"
#include "reconcilers/membership/credentials.h"
#include "test/reconcilers/membership/membership_harness.h"

using namespace rio;
using namespace std::chrono_literals;
using nlohmann::json;
using rio::testing::eventually;
using rio::testing::HarnessOptions;
using rio::testing::MembershipHarness;
namespace r = kube::resources;

namespace {

const std::string kCredsSecret = "remote-istio-operator-cn-beijing";

std::string tokenIn(const std::string& kubeconfig) {
  auto config = kube::restConfigFromUntrustedKubeconfig(kubeconfig, "test");
  REQUIRE(config);
  auto token = config->token->token();
  REQUIRE(token);
  return *token;
}

std::string credsKubeconfig(MembershipHarness& h) {
  auto secret = h.hubSecret(kCredsSecret);
  REQUIRE(secret);
  auto data = base64::decode((*secret)["data"]["kubeconfig"].get<std::string>());
  REQUIRE(data);
  return *data;
}

// Every place a secret must never appear: logs, Events, status, metrics.
void checkNoSecretLeaks(MembershipHarness& h, const std::vector<std::string>& secrets, const std::string& name) {
  std::vector<std::string> places;
  for (const auto& line : h.logs().lines()) places.push_back("log: " + line);
  for (const auto& e : h.events(name)) places.push_back("event: " + e.dump());
  if (auto mm = h.membership(name)) places.push_back("status: " + (*mm).value("status", json()).dump());
  places.push_back("metrics: " + h.metricsText());
  REQUIRE(places.size() > 3);
  for (const auto& secret : secrets) {
    REQUIRE(secret.size() > 16);
    for (const auto& place : places) {
      INFO(place.substr(0, 200));
      CHECK(place.find(secret) == std::string::npos);
    }
  }
}

}  // namespace

TEST_CASE("MeshMembership: a cluster joins with its bootstrap kubeconfig and reaches Ready", "[membership]") {
  MembershipHarness h;
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  auto mm = *h.membership("cn-beijing");
  INFO(mm["status"].dump(2));
  const auto& status = mm["status"];
  CHECK(status["observedGeneration"] == 1);
  CHECK(status["clusterName"] == "cn-beijing");
  CHECK(status["kubernetesVersion"] == "v1.32.13");
  CHECK(status["workerNodes"] == 3);
  CHECK(status["podCIDRs"] == json::array({"10.0.64.0/23", "10.0.66.0/24"}));
  CHECK(status["serviceCIDR"] == "172.16.4.0/22");
  CHECK(status["region"] == "cn-hangzhou");
  CHECK(status["zone"] == "cn-hangzhou-a");
  CHECK(status["remoteSecretName"] == "istio-system/istio-remote-secret-cn-beijing");
  CHECK(status["bootstrapSecretNoLongerNeeded"] == true);
  CHECK(status["clockSkew"] == "0s");
  CHECK(status.contains("probeLatency"));
  CHECK(status.contains("credentialsExpireAt"));
  for (const char* type : {"Reachable", "PrerequisitesMet", "CredentialsIssued", "RemoteSecretSynced", "Ready"}) {
    CHECK(h.conditionIs("cn-beijing", type, "True", "Reconciled"));
    CHECK(h.condition("cn-beijing", type)["observedGeneration"] == 1);
  }
  CHECK(mm["metadata"]["finalizers"] == json::array({"istio.alibabacloud.com/meshmembership-cleanup"}));

  // istiod's remote secret, as istioctl writes it.
  auto remoteSecret = *h.hubSecret("istio-remote-secret-cn-beijing");
  CHECK(remoteSecret["metadata"]["labels"]["istio/multiCluster"] == "true");
  CHECK(remoteSecret["metadata"]["annotations"]["networking.istio.io/cluster"] == "cn-beijing");
  CHECK(remoteSecret["data"].size() == 1);
  auto parsed = kube::parseKubeconfig(h.remoteSecretKubeconfig("cn-beijing"), "", kube::KubeconfigTrust::kRestricted, "t");
  REQUIRE(parsed);
  CHECK(parsed->clusters.at("cn-beijing").server == h.env().remote("cn-beijing").url());
  CHECK(parsed->clusters.at("cn-beijing").certificateAuthorityData == h.env().remote("cn-beijing").caPem());

  // The operator's credentials (the contract with the RemoteIstio reconciler).
  auto creds = *h.hubSecret(kCredsSecret);
  auto expiresAt = meta::parseTime(creds["metadata"]["annotations"]["istio.alibabacloud.com/expires-at"].get<std::string>());
  REQUIRE(expiresAt);
  CHECK(*expiresAt > std::chrono::system_clock::now() + 50min);
  CHECK(*expiresAt < std::chrono::system_clock::now() + 61min);
  CHECK_FALSE(creds["metadata"]["labels"].contains("istio/multiCluster"));

  // In the remote: the two service accounts and their RBAC, all labelled as the operator's.
  CHECK(h.ownedInRemote("cn-beijing", r::kServiceAccounts, "istio-system").size() == 2);
  CHECK(h.ownedInRemote("cn-beijing", r::kClusterRoles).size() == 2);
  CHECK(h.ownedInRemote("cn-beijing", r::kClusterRoleBindings).size() == 2);
  CHECK(h.ownedInRemote("cn-beijing", r::kRoles).size() == 2);

  // The registry holds the operator's own connection (the RemoteIstio reconciler only finds it).
  auto connection = h.registry().find("cn-beijing");
  REQUIRE(connection);
  CHECK(connection->origin() == "Secret istio-system/" + kCredsSecret);
  CHECK(connection->client()->list(r::kServiceAccounts, "istio-system"));
  auto secrets = connection->client()->list(r::kSecrets, "");
  REQUIRE_FALSE(secrets);
  CHECK(secrets.error().isForbidden());

  CHECK(eventually([&] { return h.hasEvent("cn-beijing", "Ready") && h.hasEvent("cn-beijing", "RemoteClusterSetUp"); }));
  // A join records what it set up and that the member is Ready, not one Event per condition.
  std::multiset<std::string> reasons;
  for (const auto& e : h.events("cn-beijing")) reasons.insert(e.value("reason", ""));
  CHECK(reasons == std::multiset<std::string>{"Ready", "RemoteClusterSetUp"});
  auto metrics = h.metricsText();
  CHECK(metrics.find("remote_istio_cluster_reachable{cluster=\"cn-beijing\"} 1") != std::string::npos);
  CHECK(metrics.find("remote_istio_credentials_expiry_timestamp_seconds{cluster=\"cn-beijing\"} 0") == std::string::npos);
}

TEST_CASE("MeshMembership: istiod's reader token lists what remote discovery reads and is refused Secrets",
          "[membership]") {
  MembershipHarness h;
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  auto reader = h.clientFor(h.remoteSecretKubeconfig("cn-beijing"));
  for (const auto& res : {r::kPods, r::kServices, r::kEndpoints, r::kEndpointSlices}) {
    INFO(res.resource);
    CHECK(reader->list(res, ""));
  }
  CHECK(reader->list(r::kNodes, ""));
  CHECK(reader->list(r::kNamespaces, ""));
  auto allSecrets = reader->list(r::kSecrets, "");
  REQUIRE_FALSE(allSecrets);
  CHECK(allSecrets.error().isForbidden());
  auto meshSecrets = reader->list(r::kSecrets, "istio-system");
  REQUIRE_FALSE(meshSecrets);
  CHECK(meshSecrets.error().isForbidden());
  auto write = reader->create(r::kConfigMaps, {{"metadata", {{"name", "x"}, {"namespace", "default"}}}});
  REQUIRE_FALSE(write);
  CHECK(write.error().isForbidden());
}

TEST_CASE("MeshMembership: a no-op reconcile writes nothing anywhere", "[membership]") {
  MembershipHarness h;
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  // Let the join's follow-ups (Secret events, the first probe with the operator's own token) settle.
  h.reconcileOnce("cn-beijing");
  h.reconcileOnce("cn-beijing");
  for (auto* c : h.env().env().clusters()) c->api().resetStats();
  h.reconcileOnce("cn-beijing");
  h.reconcileOnce("cn-beijing");
  for (auto* c : h.env().env().clusters()) {
    INFO(c->name() << ": " << c->api().stats().toJson().dump());
    // Events are the recorder's business (none is due on a no-op); count everything else.
    CHECK(c->api().stats().writes - c->api().stats().count("create", "events") - c->api().stats().count("patch", "events") == 0);
  }
  CHECK(h.conditionIs("cn-beijing", "Ready", "True"));
}

TEST_CASE("MeshMembership: a Ready member costs one request per probe interval, the node list "
          "standing in for the probe when it is due",
          "[membership]") {
  HarnessOptions o;
  o.manualClock = true;  // probeInterval 1 minute, fullProbeInterval 5 minutes (the defaults)
  MembershipHarness h(o);
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  h.reconcileOnce("cn-beijing");
  h.reconcileOnce("cn-beijing");
  std::this_thread::sleep_for(500ms);  // the join's last probe completes
  auto& api = h.env().remote("cn-beijing").api();
  api.resetStats();
  auto probes = [&] { return api.stats().count("get"); };  // GET /version
  auto nodeLists = [&] { return api.stats().count("list", "nodes"); };

  // Ten minutes, one probe interval at a time: each interval asks one thing of the remote, a
  // probe or, twice, the node list instead of it (not both, as it used to every 5 minutes).
  for (std::uint64_t minute = 1; minute <= 10; ++minute) {
    h.advance(60s, "cn-beijing");
    CAPTURE(minute);
    REQUIRE(eventually([&] { return probes() + nodeLists() >= minute; }, 10s));
    std::this_thread::sleep_for(200ms);  // what this minute set off (a pass after the probe)
  }
  INFO(api.stats().toJson().dump());
  CHECK(nodeLists() == 2);
  CHECK(probes() == 8);
  CHECK(api.stats().writes == 0);
  CHECK(h.conditionIs("cn-beijing", "Ready", "True"));
  CHECK(h.conditionIs("cn-beijing", "Reachable", "True"));
}

TEST_CASE("MeshMembership: tokens are re-minted at 80 % of their lifetime, also after the bootstrap Secret is gone",
          "[membership]") {
  HarnessOptions o;
  o.manualClock = true;
  MembershipHarness h(o);
  h.join("cn-beijing", "  credentials:\n    readerTTL: 1h\n    operatorTTL: 1h\n");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  const std::string reader1 = tokenIn(h.remoteSecretKubeconfig("cn-beijing"));
  const std::string operator1 = tokenIn(credsKubeconfig(h));
  const std::string expires1 = (*h.membership("cn-beijing"))["status"]["credentialsExpireAt"];
  std::vector<std::string> seen{reader1, operator1, h.env().remote("cn-beijing").adminToken()};

  // The bootstrap credentials are no longer needed.
  CHECK((*h.membership("cn-beijing"))["status"]["bootstrapSecretNoLongerNeeded"] == true);
  REQUIRE(h.env().hubClient()->remove(r::kSecrets, {"istio-system", "cn-beijing-bootstrap"}));

  // 40 minutes in: nothing is due yet.
  h.advance(40min, "cn-beijing");
  h.reconcileOnce("cn-beijing");
  CHECK(tokenIn(h.remoteSecretKubeconfig("cn-beijing")) == reader1);

  // 50 minutes in (past 48): both re-minted with the operator's own token, no restart.
  h.advance(10min, "cn-beijing");
  REQUIRE(eventually([&] { return tokenIn(credsKubeconfig(h)) != operator1; }, 20s));
  REQUIRE(eventually([&] { return tokenIn(h.remoteSecretKubeconfig("cn-beijing")) != reader1; }, 20s));
  const std::string reader2 = tokenIn(h.remoteSecretKubeconfig("cn-beijing"));
  const std::string operator2 = tokenIn(credsKubeconfig(h));
  seen.push_back(reader2);
  seen.push_back(operator2);
  REQUIRE(eventually([&] { return (*h.membership("cn-beijing"))["status"]["credentialsExpireAt"] != expires1; }));
  CHECK(h.conditionIs("cn-beijing", "Ready", "True"));
  CHECK(eventually([&] { return h.hasEvent("cn-beijing", "CredentialsRotated"); }));
  CHECK(h.clientFor(h.remoteSecretKubeconfig("cn-beijing"))->list(r::kPods, ""));
  // The registry's connection follows the new token in place.
  auto connection = h.registry().find("cn-beijing");
  REQUIRE(connection);
  CHECK(connection->client()->list(r::kServiceAccounts, "istio-system"));

  // Another 50 minutes: the first tokens have expired; the second generation mints the third.
  h.advance(50min, "cn-beijing");
  REQUIRE(eventually([&] { return tokenIn(credsKubeconfig(h)) != operator2; }, 20s));
  REQUIRE(eventually([&] { return tokenIn(h.remoteSecretKubeconfig("cn-beijing")) != reader2; }, 20s));
  seen.push_back(tokenIn(h.remoteSecretKubeconfig("cn-beijing")));
  seen.push_back(tokenIn(credsKubeconfig(h)));
  auto expired = h.clientFor(kube::renderKubeconfig(kube::singleClusterKubeconfig(
      "x", h.env().remote("cn-beijing").url(), h.env().remote("cn-beijing").caPem(), reader1)));
  auto refused = expired->list(r::kPods, "");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().isUnauthorized());
  CHECK(h.clientFor(h.remoteSecretKubeconfig("cn-beijing"))->list(r::kPods, ""));
  CHECK(h.conditionIs("cn-beijing", "Ready", "True"));

  checkNoSecretLeaks(h, seen, "cn-beijing");
}

TEST_CASE("MeshMembership: overlapping CIDRs are refused naming both clusters and ranges, and nothing is installed",
          "[membership]") {
  MembershipHarness h;
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  h.join("cn-hangzhou", "  network:\n    podCIDRs: [10.0.0.0/16]\n");
  REQUIRE(h.waitFor("cn-hangzhou", "PrerequisitesMet", "False", "CIDROverlap"));
  const std::string message = h.condition("cn-hangzhou", "PrerequisitesMet")["message"];
  CHECK(message.find("pod CIDR 10.0.0.0/16 of cluster cn-hangzhou overlaps pod CIDR 10.0.64.0/23 of cluster "
                     "cn-beijing (MeshMembership istio-system/cn-beijing)") != std::string::npos);
  CHECK(h.conditionIs("cn-hangzhou", "Ready", "False", "PrerequisitesNotMet"));
  CHECK(h.conditionIs("cn-hangzhou", "CredentialsIssued", "Unknown", "PrerequisitesNotMet"));
  CHECK(h.ownedInRemote("cn-hangzhou", r::kServiceAccounts, "istio-system").empty());
  CHECK(h.ownedInRemote("cn-hangzhou", r::kClusterRoles).empty());
  CHECK_FALSE(h.hubSecret("istio-remote-secret-cn-hangzhou"));
  CHECK(eventually([&] { return h.hasEvent("cn-hangzhou", "CIDROverlap"); }));
  // The member that was there first is left alone.
  h.reconcileOnce("cn-beijing");
  CHECK(h.conditionIs("cn-beijing", "Ready", "True"));
}

TEST_CASE("MeshMembership: a remote older than Kubernetes 1.10.4 is refused and gets no write", "[membership]") {
  HarnessOptions o;
  o.env.customize = [](testenv::ClusterOptions& c) {
    if (c.name == "cn-hangzhou") c.apiServer.gitVersion = "v1.9.11";
  };
  MembershipHarness h(o);
  h.join("cn-hangzhou");
  REQUIRE(h.waitFor("cn-hangzhou", "PrerequisitesMet", "False", "UnsupportedVersion"));
  CHECK(h.condition("cn-hangzhou", "PrerequisitesMet")["message"].get<std::string>().find(
            "Kubernetes v1.9.11 is older than 1.10.4") == 0);
  CHECK(h.conditionIs("cn-hangzhou", "Ready", "False", "PrerequisitesNotMet"));
  CHECK((*h.membership("cn-hangzhou"))["status"]["kubernetesVersion"] == "v1.9.11");
  auto stats = h.env().remote("cn-hangzhou").api().stats();
  INFO(stats.toJson().dump());
  CHECK(stats.writes == stats.count("create", "services"));  // only the dry-run that reads the service CIDR
  CHECK(stats.count("create", "serviceaccounts/token") == 0);
  CHECK_FALSE(h.hubSecret("istio-remote-secret-cn-hangzhou"));
  CHECK(eventually([&] { return h.hasEvent("cn-hangzhou", "UnsupportedVersion"); }));
}

TEST_CASE("MeshMembership: a blackholed remote is Reachable=False within 20 s while another member converges",
          "[membership]") {
  HarnessOptions o;
  o.workers = 1;  // one worker: the dead remote must not hold it
  // Detection takes at most probeInterval + probeTimeout (15 s with the defaults); shorter
  // intervals here keep a loaded CI machine well inside the 20 s the product promises.
  o.controller.probeInterval = 3s;
  o.controller.probeTimeout = 2s;
  MembershipHarness h(o);
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));

  const auto outage = std::chrono::steady_clock::now();
  h.env().remote("cn-beijing").api().setBlackhole(true);
  h.join("cn-hangzhou");
  REQUIRE(h.waitFor("cn-hangzhou", "Ready", "True", "", 15s));
  REQUIRE(h.waitFor("cn-beijing", "Reachable", "False", "Unreachable", 25s));
  const auto detected = std::chrono::steady_clock::now() - outage;
  CHECK(detected < 20s);
  CHECK(h.conditionIs("cn-beijing", "Ready", "False", "Unreachable"));
  CHECK(h.metricsText().find("remote_istio_cluster_reachable{cluster=\"cn-beijing\"} 0") != std::string::npos);
  CHECK(h.conditionIs("cn-hangzhou", "Ready", "True"));

  // It recovers by itself when the server answers again.
  h.env().remote("cn-beijing").api().setBlackhole(false);
  h.env().remote("cn-beijing").api().releaseBlackholed();
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True", "", 40s));
  CHECK(h.conditionIs("cn-beijing", "Reachable", "True"));
}

TEST_CASE("MeshMembership: a remote that goes down is Reachable=False within seconds, long before "
          "the next idle probe",
          "[membership]") {
  HarnessOptions o;
  o.controller.probeInterval = 10min;  // the idle cadence plays no part below
  o.controller.probeTimeout = 2s;
  MembershipHarness h(o);
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  REQUIRE(eventually([&] { return h.registry().find("cn-beijing") != nullptr; }));
  // Settled: the probes that follow a join are done, the next one is 10 minutes away.
  std::this_thread::sleep_for(5s);
  REQUIRE(h.conditionIs("cn-beijing", "Reachable", "True"));

  // Its watches are cut and cannot reconnect: the informers tell the member, which probes at once.
  const auto outage = std::chrono::steady_clock::now();
  h.env().remote("cn-beijing").stop();
  REQUIRE(h.waitFor("cn-beijing", "Reachable", "False", "Unreachable", 30s));
  CHECK(std::chrono::steady_clock::now() - outage < 15s);
  CHECK(h.conditionIs("cn-beijing", "Ready", "False", "Unreachable"));

  // Back up: the short outage cadence sees it, not the 10-minute one.
  REQUIRE(h.env().remote("cn-beijing").restart());
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True", "", 30s));
  CHECK(h.conditionIs("cn-beijing", "Reachable", "True"));
}

TEST_CASE("MeshMembership: deletion removes istiod's remote secret, then what joining created, and nothing else",
          "[membership]") {
  MembershipHarness h;
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  auto remote = h.env().remoteClient("cn-beijing");
  REQUIRE(remote->create(r::kServiceAccounts, {{"metadata", {{"name", "users-own"}, {"namespace", "istio-system"}}}}));

  REQUIRE(h.env().hubClient()->remove(reconcilers::membership::kMeshMemberships, {"istio-system", "cn-beijing"}));
  REQUIRE(eventually([&] { return !h.membership("cn-beijing"); }, 20s));
  CHECK_FALSE(h.hubSecret("istio-remote-secret-cn-beijing"));
  CHECK_FALSE(h.hubSecret(kCredsSecret));
  CHECK(h.ownedInRemote("cn-beijing", r::kServiceAccounts, "istio-system").empty());
  CHECK(h.ownedInRemote("cn-beijing", r::kClusterRoles).empty());
  CHECK(h.ownedInRemote("cn-beijing", r::kClusterRoleBindings).empty());
  CHECK(h.ownedInRemote("cn-beijing", r::kRoles).empty());
  CHECK(h.ownedInRemote("cn-beijing", r::kRoleBindings).empty());
  CHECK(h.env().remote("cn-beijing").api().get(r::kServiceAccounts, "istio-system", "users-own"));
  CHECK(h.env().remote("cn-beijing").api().get(r::kNamespaces, "", "istio-system"));
  CHECK(h.env().remote("cn-beijing").api().get(r::kClusterRoles, "", "cluster-admin"));
  CHECK(h.hasEvent("cn-beijing", "CleanedUp"));
  CHECK(h.registry().find("cn-beijing") == nullptr);
  CHECK(h.metricsText().find("cluster=\"cn-beijing\"") == std::string::npos);
}

TEST_CASE("MeshMembership: deletion with a dead remote finishes after the deadline and lists what was left behind",
          "[membership]") {
  HarnessOptions o;
  o.manualClock = true;
  MembershipHarness h(o);
  h.join("cn-beijing", "  deletion:\n    timeout: 2m\n");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  h.env().remote("cn-beijing").api().setBlackhole(true);

  REQUIRE(h.env().hubClient()->remove(reconcilers::membership::kMeshMemberships, {"istio-system", "cn-beijing"}));
  // istiod stops using the cluster at once; the object waits for the remote.
  REQUIRE(eventually([&] { return !h.hubSecret("istio-remote-secret-cn-beijing"); }, 10s));
  REQUIRE(h.waitFor("cn-beijing", "Ready", "False", "Deleting", 20s));
  CHECK(h.condition("cn-beijing", "Ready")["message"].get<std::string>().find("does not answer") != std::string::npos);
  CHECK(h.membership("cn-beijing"));

  h.advance(3min, "cn-beijing");
  REQUIRE(eventually([&] { return !h.membership("cn-beijing"); }, 20s));
  CHECK_FALSE(h.hubSecret(kCredsSecret));
  std::string note;
  for (const auto& e : h.events("cn-beijing")) {
    if (e.value("reason", "") == "CleanupDeadlineExceeded") note = e.value("message", "");
  }
  INFO(note);
  CHECK(note.find("deletion finished after 2m with cluster cn-beijing unreachable; left behind:") == 0);
  CHECK(note.find("ServiceAccount istio-system/istio-reader-service-account") != std::string::npos);
  CHECK(note.find("ClusterRoleBinding remote-istio-reader") != std::string::npos);
  // Nothing was deleted in the remote (it never answered).
  CHECK(h.env().remote("cn-beijing").api().get(r::kServiceAccounts, "istio-system", "istio-reader-service-account"));
  h.env().remote("cn-beijing").api().setBlackhole(false);
  h.env().remote("cn-beijing").api().releaseBlackholed();
}

TEST_CASE("MeshMembership: the orphan annotation finishes deletion at once and leaves the remote as it is",
          "[membership]") {
  MembershipHarness h;
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True"));
  REQUIRE(h.env().hubClient()->patch(reconcilers::membership::kMeshMemberships, {"istio-system", "cn-beijing"},
                                     kube::PatchType::kMerge,
                                     {{"metadata", {{"annotations", {{"istio.alibabacloud.com/orphan-on-delete", "true"}}}}}}));
  h.env().remote("cn-beijing").api().setBlackhole(true);  // not needed at all
  REQUIRE(h.env().hubClient()->remove(reconcilers::membership::kMeshMemberships, {"istio-system", "cn-beijing"}));
  REQUIRE(eventually([&] { return !h.membership("cn-beijing"); }, 10s));
  CHECK_FALSE(h.hubSecret("istio-remote-secret-cn-beijing"));
  CHECK(h.ownedInRemote("cn-beijing", r::kServiceAccounts, "istio-system").size() == 2);
  CHECK(eventually([&] { return h.hasEvent("cn-beijing", "Orphaned"); }));
  h.env().remote("cn-beijing").api().setBlackhole(false);
  h.env().remote("cn-beijing").api().releaseBlackholed();
}

TEST_CASE("MeshMembership: a missing or unusable bootstrap Secret is reported precisely and nothing else happens",
          "[membership]") {
  HarnessOptions o;
  o.controller.recheckInterval = 500ms;
  MembershipHarness h(o);
  h.env().remote("cn-beijing").api().resetStats();
  h.env().createInHub(R"(apiVersion: istio.alibabacloud.com/v1beta1
kind: MeshMembership
metadata: {name: cn-beijing, namespace: istio-system}
spec:
  bootstrapSecretRef: {name: beijing-admin}
)");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "False", "BootstrapSecretNotFound"));
  CHECK(h.condition("cn-beijing", "Ready")["message"].get<std::string>().find(
            "bootstrap Secret istio-system/beijing-admin not found") == 0);
  CHECK(eventually([&] { return h.hasEvent("cn-beijing", "BootstrapSecretNotFound"); }));

  const std::string execKubeconfig =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n"
      "  user:\n    exec: {command: aws-iam-authenticator, apiVersion: client.authentication.k8s.io/v1beta1}\n"
      "contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n";
  REQUIRE(h.env().hubClient()->create(r::kSecrets, {{"metadata", {{"name", "beijing-admin"}, {"namespace", "istio-system"}}},
                                                    {"data", {{"kubeconfig", base64::encode(execKubeconfig)}}}}));
  REQUIRE(h.waitFor("cn-beijing", "Ready", "False", "BootstrapCredentialsInvalid"));
  const std::string message = h.condition("cn-beijing", "Ready")["message"];
  CHECK(message.find("Secret istio-system/beijing-admin") != std::string::npos);
  CHECK(message.find("exec") != std::string::npos);
  CHECK(h.env().remote("cn-beijing").api().stats().total == 0);
  CHECK_FALSE(h.hubSecret("istio-remote-secret-cn-beijing"));
}

TEST_CASE("MeshMembership: a spec only the operator can judge invalid is reported as InvalidSpec", "[membership]") {
  MembershipHarness h;
  h.join("cn-beijing", "  network:\n    podCIDRs: [10.8.0.0/16]\n    serviceCIDR: 10.8.1.0/24\n");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "False", "InvalidSpec"));
  CHECK(h.condition("cn-beijing", "Ready")["message"].get<std::string>().find("spec.network.serviceCIDR") != std::string::npos);
  CHECK(h.env().remote("cn-beijing").api().stats().count("create", "serviceaccounts/token") == 0);
}

TEST_CASE("MeshMembership: one outside the mesh namespace is refused, naming the namespace, and nothing happens",
          "[membership]") {
  MembershipHarness h;
  h.env().createInHub(
      "apiVersion: istio.alibabacloud.com/v1beta1\nkind: MeshMembership\nmetadata:\n  name: cn-beijing\n"
      "  namespace: default\nspec:\n  bootstrapSecretRef:\n    name: cn-beijing-bootstrap\n");
  auto readyReason = [&] {
    auto mm = h.membership("cn-beijing", "default");
    for (const auto& c : mm->value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "Ready") return c.value("reason", "") + ": " + c.value("message", "");
    }
    return std::string();
  };
  REQUIRE(eventually([&] { return readyReason().rfind("InvalidSpec", 0) == 0; }));
  CHECK(readyReason().find("serves MeshMemberships in namespace istio-system") != std::string::npos);
  CHECK(h.membership("cn-beijing", "default")->value("metadata", json::object()).value("finalizers", json::array()).empty());
  CHECK(h.env().remote("cn-beijing").api().stats().total == 0);
  // Deleting it needs nothing from the operator.
  REQUIRE(h.env().hubClient()->remove(reconcilers::membership::kMeshMemberships, {"default", "cn-beijing"}));
  CHECK(eventually([&] { return !h.membership("cn-beijing", "default"); }));
}
