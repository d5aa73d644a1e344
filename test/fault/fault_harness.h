// What the fault-injection suite shares: an OperatorEnv whose API servers report every request to
// a tap (which counts the operator's writes and can cut the operator off right after its K-th
// one, as a kill would), the operator as its binary wires it (Manager + reconcilers::Operator) on
// a thread, user objects seeded before the operator starts, and the two checks every fault test
// ends with: the final state a user would see, and that nothing the operator did not create was
// changed or deleted.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "controller/core/base64.h"
#include "controller/kube/kubeconfig.h"
#include "controller/manager/manager.h"
#include "reconcilers/desired/labels.h"
#include "reconcilers/desired/remote_secret.h"
#include "reconcilers/operator.h"
#include "reconcilers/resources.h"
#include "test/support/eventually.h"
#include "test/support/operator_env.h"

namespace rio::testing::fault {

using nlohmann::json;
using namespace std::chrono_literals;

inline const std::string kNs = "istio-system";
inline constexpr auto kConverge = std::chrono::seconds(60);

// ---------------------------------------------------------------- the tap

/// Sees every request every API server of the environment answers. Counts writes (Events
/// excepted: the recorder sends them asynchronously) while armed; after the `killAfter`-th one,
/// every further request is dropped unanswered, everywhere, until uncut(). With one I/O thread
/// serving all clusters, no request slips in between. Thread-safe.
class Tap {
 public:
  void arm(std::uint64_t killAfter = 0) {
    std::lock_guard lock(mu_);
    writes_ = 0;
    log_.clear();
    lostSeen_.clear();
    killAfter_ = killAfter;
    armed_ = true;
  }
  void disarm() {
    std::lock_guard lock(mu_);
    armed_ = false;
  }
  bool cut() const { return cut_.load(); }
  void uncut() { cut_ = false; }
  /// Drops every request authenticated as `user` from now on ("" = none): one process of
  /// several killed, when each has its own identity.
  void dropUser(const std::string& user) {
    std::lock_guard lock(mu_);
    droppedUser_ = user;
  }
  std::uint64_t writes() const {
    std::lock_guard lock(mu_);
    return writes_;
  }
  /// "<cluster> <verb> <path> -> <code>" per counted write.
  std::vector<std::string> log() const {
    std::lock_guard lock(mu_);
    return log_;
  }

  /// While armed: the answer to the first successful request of every distinct write (cluster,
  /// verb, path) is lost after the server made the change.
  void loseEachWriteOnce(bool on) {
    std::lock_guard lock(mu_);
    loseOnce_ = on;
  }
  /// While armed: the answers to the first `n` successful writes to `cluster` are lost.
  void loseFirstWritesTo(const std::string& cluster, int n) {
    std::lock_guard lock(mu_);
    loseFirstTo_ = cluster;
    loseFirstN_ = n;
  }
  /// "<cluster> <verb> <path>" of every answer lost.
  std::vector<std::string> lost() const {
    std::lock_guard lock(mu_);
    return {lostSeen_.begin(), lostSeen_.end()};
  }

  void install(testenv::ClusterOptions& options) {
    const std::string cluster = options.name;
    options.apiServer.onRequest = [this, cluster](const testenv::RequestRecord& r) {
      onRequest(cluster, r);
    };
    options.apiServer.dropIf = [this](const testenv::RequestRecord& r) {
      if (cut_.load()) return true;
      std::lock_guard lock(mu_);
      return !droppedUser_.empty() && r.user == droppedUser_;
    };
    options.apiServer.loseResponseIf = [this, cluster](const testenv::RequestRecord& r) {
      if (!isWrite(r.verb) || r.resource.rfind("events", 0) == 0 || r.code >= 300) return false;
      std::lock_guard lock(mu_);
      if (!armed_) return false;
      if (loseFirstN_ > 0 && cluster == loseFirstTo_) {
        --loseFirstN_;
        lostSeen_.insert(cluster + " " + r.verb + " " + r.target.substr(0, r.target.find('?')) +
                         " #" + std::to_string(loseFirstN_));
        return true;
      }
      if (!loseOnce_) return false;
      return lostSeen_.insert(cluster + " " + r.verb + " " + r.target.substr(0, r.target.find('?')))
          .second;
    };
  }

 private:
  static bool isWrite(const std::string& verb) {
    return verb == "create" || verb == "update" || verb == "patch" || verb == "delete" ||
           verb == "deletecollection";
  }
  void onRequest(const std::string& cluster, const testenv::RequestRecord& r) {
    if (!isWrite(r.verb) || r.resource.rfind("events", 0) == 0 || r.resource.empty()) return;
    std::lock_guard lock(mu_);
    if (!armed_) return;
    ++writes_;
    log_.push_back(cluster + " " + r.verb + " " + r.target.substr(0, r.target.find('?')) + " -> " +
                   std::to_string(r.code));
    if (killAfter_ != 0 && writes_ >= killAfter_) cut_ = true;
  }

  mutable std::mutex mu_;
  bool armed_ = false;
  std::uint64_t writes_ = 0;
  std::uint64_t killAfter_ = 0;
  std::vector<std::string> log_;
  std::string droppedUser_;
  bool loseOnce_ = false;
  std::string loseFirstTo_;
  int loseFirstN_ = 0;
  std::set<std::string> lostSeen_;
  std::atomic<bool> cut_{false};
};

// ---------------------------------------------------------------- the operator process

struct ProcessOptions {
  /// The control-plane credentials (default: the hub's admin kubeconfig).
  std::optional<kube::RestConfig> restConfig;
  bool leaderElection = false;
  std::string identity;
  reconcilers::OperatorOptions operatorOptions;
  int workers = 2;
  /// The constructor returns once the controllers run (without leader election).
  bool waitForStart = true;
};

/// One operator process: Manager + reconcilers::Operator, run() on a thread, as main() wires
/// them. Destroying it is a graceful stop (SIGTERM); a kill is the Tap's cut followed by that.
class OperatorProcess {
 public:
  OperatorProcess(OperatorEnv& env, ProcessOptions options = {}) {
    manager::ManagerOptions mo;
    mo.restConfig = options.restConfig ? *options.restConfig : env.hub().restConfig();
    mo.metricsBindAddress = "0";
    mo.healthProbeBindAddress = "0";
    mo.workerThreads = 4;
    mo.maxConcurrentReconciles = options.workers;
    mo.gracefulShutdownTimeout = 10s;
    if (options.leaderElection) {
      mo.leaderElection = true;
      mo.leaderElectionNamespace = kNs;
      mo.identity = options.identity;
      // Short, within client-go's rules (leaseDuration > renewDeadline > 1.2 * retryPeriod).
      mo.leaseDuration = 3s;
      mo.renewDeadline = 2s;
      mo.retryPeriod = 500ms;
    }
    auto mgr = manager::Manager::create(mo);
    REQUIRE(mgr);
    mgr_ = std::move(*mgr);
    auto op = reconcilers::Operator::setup(*mgr_, options.operatorOptions);
    REQUIRE(op);
    op_ = std::move(*op);
    runner_ = std::thread([this] { exit_ = mgr_->run(); });
    if (options.waitForStart && !options.leaderElection &&
        !eventually([&] { return mgr_->leading(); }, kConverge)) {
      stop();
      FAIL("the operator did not start");
    }
  }
  ~OperatorProcess() { stop(); }
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  manager::Manager& manager() { return *mgr_; }
  bool leading() const { return mgr_->leading(); }
  /// run()'s exit code, -1 while it runs.
  int exitCode() const { return exit_.load(); }

 private:
  void stop() {
    if (!mgr_) return;
    mgr_->stop();
    if (runner_.joinable()) runner_.join();
    op_.reset();  // remote clients run on the manager's IoRuntime
    mgr_.reset();
  }

  std::unique_ptr<manager::Manager> mgr_;
  std::unique_ptr<reconcilers::Operator> op_;
  std::thread runner_;
  std::atomic<int> exit_{-1};
};

// ---------------------------------------------------------------- objects

/// The kinds the checks look at, in every cluster.
inline std::vector<kube::Resource> inventoryResources() {
  namespace r = kube::resources;
  return {r::kNamespaces,
          r::kConfigMaps,
          r::kSecrets,
          r::kServiceAccounts,
          r::kServices,
          r::kEndpoints,
          r::kDeployments,
          r::kClusterRoles,
          r::kClusterRoleBindings,
          r::kRoles,
          r::kRoleBindings,
          r::kMutatingWebhookConfigurations,
          r::kNodes,
          r::kLeases,
          r::kCustomResourceDefinitions,
          reconcilers::kRemoteIstios,
          reconcilers::kMeshMemberships};
}

/// Every object of inventoryResources() in every cluster, by "<cluster> <Kind> <ns>/<name>".
using Snapshot = std::map<std::string, json>;

inline Snapshot snapshot(OperatorEnv& env) {
  Snapshot out;
  for (auto* cluster : env.env().clusters()) {
    for (const auto& res : inventoryResources()) {
      for (auto& obj : cluster->api().list(res)) {
        std::string key = cluster->name() + " " + res.kind + " " +
                          obj["metadata"].value("namespace", "") + "/" +
                          obj["metadata"].value("name", "");
        out.emplace(std::move(key), std::move(obj));
      }
    }
  }
  return out;
}

/// Keys in `after` that were not in `before`: what appeared meanwhile.
inline std::set<std::string> created(const Snapshot& before, const Snapshot& after) {
  std::set<std::string> out;
  for (const auto& [key, obj] : after) {
    if (!before.count(key)) out.insert(key);
  }
  return out;
}

/// Labels the operator may add to a namespace it was asked to label.
inline bool operatorLabel(const std::string& key) {
  return key == "istio-injection" || key == desired::kInjectionOwnerLabel;
}

/// Every object of `before` not made by the operator (no managed-by label) is still there,
/// and unchanged except for what the operator may write on objects it does not own: status and
/// finalizers of the custom resources it serves, and its injection labels on namespaces (never
/// altering or removing a label the user had).
inline void checkNothingElseTouched(const Snapshot& before, const Snapshot& after) {
  for (const auto& [key, was] : before) {
    INFO(key);
    // The operator's own objects, made before `before` was taken: still there (not lost),
    // their content is the operator's business.
    if (was["metadata"].value("labels", json::object()).value(desired::kManagedByLabel, "") ==
        desired::kManagedByValue) {
      CHECK(after.count(key));
      continue;
    }
    auto it = after.find(key);
    CHECK(it != after.end());
    if (it == after.end()) continue;
    const json& now = it->second;
    CHECK(now["metadata"].value("uid", "") == was["metadata"].value("uid", ""));
    if (now["metadata"].value("resourceVersion", "") ==
        was["metadata"].value("resourceVersion", "")) {
      continue;
    }
    json a = was;
    json b = now;
    const std::string kind = a.value("kind", "");
    const bool served = kind == "RemoteIstio" || kind == "MeshMembership";
    for (json* o : {&a, &b}) {
      auto& m = (*o)["metadata"];
      m.erase("resourceVersion");
      m.erase("managedFields");
      if (served) {
        m.erase("finalizers");
        o->erase("status");
      }
    }
    if (kind == "Namespace") {
      json la = a["metadata"].value("labels", json::object());
      json lb = b["metadata"].value("labels", json::object());
      for (const auto& [k, v] : la.items()) {
        INFO("label " << k);
        CHECK(lb.value(k, json()) == v);
      }
      for (const auto& [k, v] : lb.items()) {
        INFO("label " << k);
        CHECK((la.contains(k) || operatorLabel(k)));
      }
      a["metadata"].erase("labels");
      b["metadata"].erase("labels");
    }
    INFO("before: " << a.dump());
    INFO("after:  " << b.dump());
    CHECK(a == b);
  }
}

// ---------------------------------------------------------------- the world

struct WorldOptions {
  std::vector<std::string> remotes = {"cn-beijing"};
};

/// An OperatorEnv with a Tap on every API server and the user's own objects seeded.
class World {
 public:
  explicit World(WorldOptions options = {}) {
    OperatorEnvOptions eo;
    eo.remotes = options.remotes;
    eo.customize = [this](testenv::ClusterOptions& c) { tap_.install(c); };
    env_ = std::make_unique<OperatorEnv>(eo);
    seed(options.remotes);
  }

  OperatorEnv& env() { return *env_; }
  Tap& tap() { return tap_; }

  /// The same error rules on every API server (hub and remotes); {} lifts them.
  void setErrorRulesEverywhere(const std::vector<testenv::ErrorRule>& rules) {
    for (auto* c : env_->env().clusters()) c->api().setErrorRules(rules);
  }
  /// Requests answered with `code` by all API servers since their last resetStats().
  std::uint64_t answeredEverywhere(int code) {
    std::uint64_t n = 0;
    for (auto* c : env_->env().clusters()) n += c->api().stats().count("", "", code);
    return n;
  }
  void resetStatsEverywhere() {
    for (auto* c : env_->env().clusters()) c->api().resetStats();
  }

  /// Objects a user made before the operator came: the checks expect them untouched.
  void seed(const std::vector<std::string>& remotes) {
    auto hub = env_->hubClient();
    must(hub->create(
        kube::resources::kConfigMaps,
        {{"metadata", {{"name", "user-settings"}, {"namespace", kNs}}}, {"data", {{"k", "v"}}}}));
    // create-secret.sh's Secret for a cluster the operator was never told about.
    must(hub->create(kube::resources::kSecrets,
                     {{"metadata",
                       {{"name", "other-cluster"},
                        {"namespace", kNs},
                        {"labels", {{"istio/multiCluster", "true"}}}}},
                      {"data", {{"other-cluster", base64::encode("not a kubeconfig")}}}}));
    for (const auto& name : remotes) {
      auto remote = env_->remoteClient(name);
      // The reference procedure's `kubectl create namespace istio-system`, with a label of the
      // user's.
      must(remote->create(kube::resources::kNamespaces,
                          {{"metadata", {{"name", kNs}, {"labels", {{"team", "mesh"}}}}}}));
      must(remote->create(kube::resources::kNamespaces,
                          {{"metadata", {{"name", "shop"}, {"labels", {{"team", "shop"}}}}}}));
      must(remote->create(kube::resources::kNamespaces,
                          {{"metadata", {{"name", "untouched"}, {"labels", {{"team", "x"}}}}}}));
      must(remote->create(
          kube::resources::kConfigMaps,
          {{"metadata", {{"name", "user-config"}, {"namespace", kNs}}}, {"data", {{"k", "v"}}}}));
      must(remote->create(kube::resources::kSecrets,
                          {{"metadata", {{"name", "user-secret"}, {"namespace", kNs}}},
                           {"data", {{"k", base64::encode("v")}}}}));
      must(remote->create(kube::resources::kServiceAccounts,
                          {{"metadata", {{"name", "users-own"}, {"namespace", kNs}}}}));
    }
    // istiod (pilot) with an IP, so that discovery has something to point at.
    auto& hubApi = env_->hub().api();
    auto pod = hubApi.request(
        "POST", "/api/v1/namespaces/istio-system/pods",
        {{"apiVersion", "v1"},
         {"kind", "Pod"},
         {"metadata",
          {{"name", "istio-pilot-1"}, {"labels", {{"istio", "pilot"}, {"app", "pilot"}}}}},
         {"spec",
          {{"containers",
            json::array({{{"name", "discovery"}, {"image", "istio/pilot:1.1.4"}}})}}}});
    REQUIRE(pod.status == 201);
    auto status =
        hubApi.request("PATCH", "/api/v1/namespaces/istio-system/pods/istio-pilot-1/status",
                       {{"status",
                         {{"phase", "Running"},
                          {"podIP", "10.100.0.11"},
                          {"podIPs", json::array({{{"ip", "10.100.0.11"}}})}}}},
                       "application/merge-patch+json");
    REQUIRE(status.status == 200);
  }

  /// What `kubectl remoteistio join` makes: the bootstrap Secret and the MeshMembership.
  void join(const std::string& remote) {
    env_->createBootstrapSecret(remote, remote + "-bootstrap");
    env_->createInHub(
        "apiVersion: istio.alibabacloud.com/v1beta1\nkind: MeshMembership\n"
        "metadata:\n  name: " +
        remote +
        "\n  namespace: istio-system\nspec:\n"
        "  bootstrapSecretRef:\n    name: " +
        remote + "-bootstrap\n");
  }

  /// The reference sample for `remote`, labelling `default` and `shop`.
  void createRemoteIstio(const std::string& remote) {
    json ri = OperatorEnv::sample("istio_v1beta1_remoteistio.yaml");
    ri["metadata"]["name"] = remote;
    ri["spec"]["autoInjectionNamespaces"] = {"default", "shop"};
    env_->createInHub(ri.dump());
  }

  /// The Secret create-secret.sh makes for `remote` (labelled istio/multiCluster=true, the admin
  /// kubeconfig under the cluster's name): a RemoteIstio with no MeshMembership connects with it.
  void createSecretShSecret(const std::string& remote) {
    auto secret = env_->hub().api().request(
        "POST", "/api/v1/namespaces/istio-system/secrets",
        {{"metadata", {{"name", remote}, {"labels", {{"istio/multiCluster", "true"}}}}},
         {"data", {{remote, base64::encode(env_->remote(remote).kubeconfig())}}}});
    REQUIRE(secret.status == 201);
  }

  // ---- reads (in-process: no faults, no accounting)

  std::optional<json> hubGet(const kube::Resource& res, const std::string& name) {
    return env_->hub().api().get(res, res.namespaced ? kNs : "", name);
  }
  std::optional<json> remoteGet(const std::string& remote, const kube::Resource& res,
                                const std::string& name, const std::string& ns = kNs) {
    return env_->remote(remote).api().get(res, res.namespaced ? ns : "", name);
  }

  /// status of condition `type` ("" when absent or not for the current generation).
  std::string condition(const kube::Resource& res, const std::string& name, const std::string& type,
                        std::string* reason = nullptr) {
    auto obj = hubGet(res, name);
    if (!obj) return "";
    for (const auto& c : obj->value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") != type) continue;
      if (c.value("observedGeneration", 0) != (*obj)["metadata"].value("generation", 0)) return "";
      if (reason) *reason = c.value("reason", "");
      return c.value("status", "");
    }
    return "";
  }
  bool membershipReady(const std::string& name) {
    return condition(reconcilers::kMeshMemberships, name, "Ready") == "True";
  }
  bool remoteIstioReady(const std::string& name) {
    return condition(reconcilers::kRemoteIstios, name, "Ready") == "True";
  }
  bool waitReady(const kube::Resource& res, const std::string& name,
                 std::chrono::milliseconds limit = kConverge) {
    bool ok = eventually([&] { return condition(res, name, "Ready") == "True"; }, limit);
    if (!ok) {
      auto obj = hubGet(res, name);
      UNSCOPED_INFO(res.kind << " " << name << ": "
                             << (obj ? obj->value("status", json()).dump(2) : "missing"));
      if (res.resource == reconcilers::kRemoteIstios.resource && env_->env().find(name)) {
        auto d = remoteGet(name, kube::resources::kDeployments, "istio-sidecar-injector");
        UNSCOPED_INFO(
            "the injector Deployment in "
            << name << ": "
            << (d ? json{{"generation", (*d)["metadata"].value("generation", 0)},
                         {"resourceVersion", (*d)["metadata"].value("resourceVersion", "")},
                         {"status", d->value("status", json())}}
                        .dump()
                  : "missing"));
      }
    }
    return ok;
  }

  /// Waits until no operator request reached any API server for `quiet` (its follow-ups, probes
  /// and Events written); a generous limit only turns a hot loop into a failure.
  bool settle(std::chrono::milliseconds quiet = 1s) {
    // Lease renewals and candidates' polls never stop: they do not count.
    auto total = [&] {
      std::uint64_t n = 0;
      for (auto* c : env_->env().clusters()) {
        auto stats = c->api().stats();
        n += stats.total;
        for (const auto& [key, count] : stats.counts) {
          if (std::get<1>(key).rfind("leases", 0) == 0) n -= count;
        }
      }
      return n;
    };
    std::uint64_t last = total();
    auto lastChange = std::chrono::steady_clock::now();
    return eventually(
        [&] {
          std::this_thread::sleep_for(50ms);
          std::uint64_t now = total();
          if (now != last) {
            last = now;
            lastChange = std::chrono::steady_clock::now();
          }
          return std::chrono::steady_clock::now() - lastChange >= quiet;
        },
        kConverge);
  }

  /// What the user relies on once a member joined: every MeshMembership condition True, and the
  /// remote secret istiod reads holds a kubeconfig that works in the remote.
  void checkJoined(const std::string& remote) {
    for (const char* type :
         {"Reachable", "PrerequisitesMet", "CredentialsIssued", "RemoteSecretSynced", "Ready"}) {
      INFO(type);
      CHECK(condition(reconcilers::kMeshMemberships, remote, type) == "True");
    }
    auto secret = hubGet(kube::resources::kSecrets, desired::remoteSecretName(remote));
    REQUIRE(secret);
    CHECK((*secret)["metadata"]["labels"]["istio/multiCluster"] == "true");
    auto kubeconfig = base64::decode((*secret)["data"][remote].get<std::string>());
    REQUIRE(kubeconfig);
    auto config = kube::restConfigFromUntrustedKubeconfig(*kubeconfig, "test");
    REQUIRE(config);
    auto pods = env_->clientFor(*config)->list(kube::resources::kPods, "");
    INFO((pods ? std::string() : pods.error().message()));
    CHECK(pods);
  }

  /// What the user relies on once a RemoteIstio converged: Ready, the injector as asked, the
  /// injection labels on the namespaces asked for.
  void checkInstalled(const std::string& remote, int replicas = 1) {
    CHECK(remoteIstioReady(remote));
    auto deploy = remoteGet(remote, kube::resources::kDeployments, "istio-sidecar-injector");
    REQUIRE(deploy);
    CHECK((*deploy)["spec"]["replicas"] == replicas);
    CHECK(remoteGet(remote, kube::resources::kMutatingWebhookConfigurations,
                    "istio-sidecar-injector"));
    CHECK(remoteGet(remote, kube::resources::kSecrets, "cacerts"));
    for (const char* ns : {"default", "shop"}) {
      auto n = remoteGet(remote, kube::resources::kNamespaces, ns, "");
      REQUIRE(n);
      CHECK((*n)["metadata"]["labels"].value("istio-injection", "") == "enabled");
    }
  }

  /// Events in the hub about `name` with that reason.
  bool hasEvent(const std::string& name, const std::string& reason) {
    for (const auto& e : env_->hub().api().list(kube::resources::kEvents, kNs)) {
      if (e["involvedObject"].value("name", "") == name && e.value("reason", "") == reason)
        return true;
    }
    return false;
  }

 private:
  template <class R>
  static void must(const R& result) {
    INFO((result ? std::string() : result.error().message()));
    REQUIRE(result);
  }

  Tap tap_;
  std::unique_ptr<OperatorEnv> env_;
};

// ---------------------------------------------------------------- scenarios

/// What a user does to put `remotes` into the mesh: join each, then a RemoteIstio for each.
inline void joinAndInstall(World& w, const std::vector<std::string>& remotes,
                           bool remoteIstio = true) {
  for (const auto& r : remotes) w.join(r);
  if (remoteIstio) {
    for (const auto& r : remotes) w.createRemoteIstio(r);
  }
}

/// Waits for everything joinAndInstall() asked for to be Ready and for the operator to go quiet.
inline void waitConverged(World& w, const std::vector<std::string>& remotes,
                          bool remoteIstio = true) {
  for (const auto& r : remotes) {
    REQUIRE(w.waitReady(reconcilers::kMeshMemberships, r));
    if (remoteIstio) REQUIRE(w.waitReady(reconcilers::kRemoteIstios, r));
  }
  REQUIRE(w.settle());
}

/// What the operator creates for joinAndInstall(remotes) without any fault: the keys of the
/// objects that appear in every cluster (Events excepted).
inline std::set<std::string> cleanInventory(const std::vector<std::string>& remotes,
                                            bool remoteIstio = true) {
  World w({remotes});
  joinAndInstall(w, remotes, remoteIstio);
  auto before = snapshot(w.env());
  OperatorProcess op(w.env());
  waitConverged(w, remotes, remoteIstio);
  return created(before, snapshot(w.env()));
}

/// The end of every fault test, once the faults are gone: everything Ready and working, exactly
/// the objects a clean run creates (nothing duplicated, nothing lost, nothing left over), and
/// every object that was there before the operator (`before`) untouched.
inline void checkConverged(World& w, const std::vector<std::string>& remotes,
                           const Snapshot& before, const std::set<std::string>& reference,
                           bool remoteIstio = true) {
  waitConverged(w, remotes, remoteIstio);
  for (const auto& r : remotes) {
    INFO("cluster " << r);
    w.checkJoined(r);
    if (remoteIstio) w.checkInstalled(r);
  }
  auto after = snapshot(w.env());
  auto made = created(before, after);
  for (const auto& key : reference) {
    INFO("missing: " << key);
    CHECK(made.count(key));
  }
  for (const auto& key : made) {
    INFO("not made by a clean run: " << key);
    CHECK(reference.count(key));
  }
  checkNothingElseTouched(before, after);
}

}  // namespace rio::testing::fault
