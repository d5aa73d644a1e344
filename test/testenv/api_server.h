// One kube-testenv cluster's Kubernetes API server engine: an http::Handler with kube-apiserver
// 1.32's semantics (storage, discovery, errors, patch/apply, list/watch, status subresources,
// authentication and RBAC), simulated controllers, fault injection and request accounting.
// It owns no sockets: test/testenv/cluster.h puts it behind an http::Server; unit tests drive it
// with testing::FakeExchange.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/http/server.h"
#include "controller/kube/resource.h"
#include "test/testenv/auth.h"
#include "test/testenv/merge.h"
#include "test/testenv/scheduler.h"

namespace rio::testenv {

/// The merge.h functions the server calls, injectable so engine tests can isolate them. Members
/// left empty get the real implementation from merge.h.
struct MergeFunctions {
  std::function<Expected<nlohmann::json>(const nlohmann::json& original,
                                         const nlohmann::json& patch, std::string_view apiVersion,
                                         std::string_view kind)>
      strategicMergePatch;
  std::function<Expected<ApplyOutcome>(
      const nlohmann::json& live, const nlohmann::json& applied, const std::string& manager,
      bool force, const std::string& apiVersion, const std::string& subresource, WallTime now)>
      serverSideApply;
  std::function<nlohmann::json(const nlohmann::json& before, const nlohmann::json& after,
                               const std::string& manager, const std::string& apiVersion,
                               const std::string& subresource, WallTime now)>
      recordUpdate;
  std::function<nlohmann::json(const std::vector<FieldConflict>& conflicts,
                               const std::string& apiVersion)>
      conflictStatus;
};

/// The auth.h pieces the server calls. Members left empty get the real implementation
/// (makeTokenAuthority, authenticate, makeRbacAuthorizer, checkEscalation).
struct AuthFunctions {
  std::shared_ptr<TokenAuthority> tokens;
  std::function<std::optional<UserInfo>(const http::ServerRequest& request)> authenticate;
  /// Builds the authorizer over this server's RBAC objects.
  std::function<std::shared_ptr<Authorizer>(RbacObjectsFn objects, RbacVersionFn version)>
      makeAuthorizer;
  /// Role/binding writes by non-admins: "" when allowed, else the complete Forbidden message
  /// (`roles.rbac.authorization.k8s.io "r" is forbidden: user ...`). `previous` is null on create.
  std::function<std::string(Authorizer& authorizer, const UserInfo& user,
                            const nlohmann::json& object, const nlohmann::json* previous,
                            const RbacObjectsFn& objects)>
      checkEscalation;
};

/// The simulated controllers and seeded objects; each can be switched off.
struct SimulationOptions {
  /// Deployments get status (replicas, ready, available, conditions Available/Progressing) after
  /// `deploymentReadyDelay` (0: right after each spec change, as separate writes).
  bool deployments = true;
  std::chrono::milliseconds deploymentReadyDelay{0};
  /// Namespaces default, kube-system, kube-public, kube-node-lease and the `kubernetes` Service and
  /// Endpoints in default (clusterIP = first address of the service CIDR).
  bool seedNamespaces = true;
  /// Seeded Ready nodes named `<nodeNamePrefix><i>` (1-based) with podCIDRs sliced from the pod
  /// CIDR and topology labels from region/zones.
  int nodes = 3;
  std::string nodeNamePrefix = "node-";
  /// Every namespace gets a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap.
  bool namespaceController = true;
  /// Dependents whose owners (ownerReferences) are all gone are deleted in the background.
  bool garbageCollector = true;
  /// ClusterRoles cluster-admin/admin/edit/view/system:discovery/system:basic-user/
  /// system:public-info-viewer and the bindings kube-apiserver bootstraps.
  bool seedRbac = true;
};

/// One answered request, for logs and accounting.
struct RequestRecord {
  std::string method;
  std::string target;
  std::string user;
  std::string verb;  // RBAC verb ("get", "list", "watch", "create", ...) or lower-case method
  std::string
      resource;  // "configmaps", "deployments.apps", "serviceaccounts/token"; "" non-resource
  int code = 0;
  std::chrono::microseconds latency{0};
};

struct ApiServerOptions {
  std::string clusterName = "cluster";
  std::string gitVersion = "v1.32.13";
  /// "host:port" as /api advertises it (cluster.cc sets the bound address).
  std::string serverAddress = "127.0.0.1:6443";
  /// Default audiences of issued service-account tokens.
  std::vector<std::string> tokenAudiences = {"https://kubernetes.default.svc.cluster.local"};
  std::string serviceCidr = "10.96.0.0/12";
  std::string podCidr = "10.244.0.0/16";
  std::string region = "cn-hangzhou";
  /// Node zones, round-robin; empty: <region>-a, <region>-b, <region>-c.
  std::vector<std::string> zones;
  /// The cluster CA (PEM) published as kube-root-ca.crt.
  std::string rootCaPem;
  std::size_t maxBodyBytes = 3 * 1024 * 1024;
  /// How many past events watches can resume from (older resourceVersions get 410 Expired).
  std::size_t watchHistory = 2000;
  std::chrono::milliseconds bookmarkInterval{std::chrono::seconds(60)};
  /// Watches without timeoutSeconds end after this long (kube-apiserver: 30-60 min).
  std::chrono::seconds defaultWatchTimeout{1800};
  /// Seeds UIDs, generated names, cluster IPs and error-rate dice (0: random).
  std::uint64_t randomSeed = 0;
  SimulationOptions simulation;
  /// Called once per finished request (after the response started), e.g. for a one-line log.
  std::function<void(const RequestRecord&)> onRequest;
  /// Consulted for every authenticated request before anything is processed (the admin endpoint
  /// excepted; `code` is 0): returning true drops the request unanswered and closes its
  /// connection, as when the client process died. Fault tests use it to cut one client off at an
  /// exact point (e.g. right after an operator's K-th write). Runs on an I/O thread; must not
  /// call back into the server.
  std::function<bool(const RequestRecord&)> dropIf;
  /// Consulted once a request was processed, right before its complete answer is sent (after
  /// onRequest; streams excepted): returning true loses the answer (the connection closes) though
  /// whatever the request changed stays changed, as when a client times out or its connection
  /// breaks after the server committed. Runs on an I/O thread; must not call back into the server.
  std::function<bool(const RequestRecord&)> loseResponseIf;
};

/// Requests answered, by (verb, resource, code).
struct RequestStats {
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> counts;
  std::uint64_t total = 0;
  /// create, update, patch, delete, deletecollection requests (whatever their outcome).
  std::uint64_t writes = 0;

  /// Sum over matching entries; empty verb/resource and code 0 match anything.
  std::uint64_t count(const std::string& verb = {}, const std::string& resource = {},
                      int code = 0) const;
  /// {"total": N, "writes": N, "requests": [{"verb","resource","code","count"}...]}.
  nlohmann::json toJson() const;
};

/// An injected error: answer `code` (409, 429, 500, 503) to a fraction `rate` (0..1] of the
/// matching requests. Empty verb/resource match all. 409 is the stale-resourceVersion Conflict a
/// concurrent writer causes; 429 and 503 carry Retry-After.
struct ErrorRule {
  int code = 503;
  double rate = 1.0;
  std::string verb;
  std::string resource;  // as in RequestRecord::resource
  int retryAfterSeconds = 1;
};

struct FaultConfig {
  /// Requests are accepted and never answered (admin endpoint excepted).
  bool blackhole = false;
  /// Added before every request is processed.
  std::chrono::milliseconds latency{0};
  std::vector<ErrorRule> errors;
  /// Watches end (cleanly) after sending this many events.
  std::optional<std::size_t> closeWatchesAfterEvents;

  nlohmann::json toJson() const;
  /// Parses the admin endpoint's JSON ({"blackhole":true,"latencyMs":100,"errors":[{"code":429,
  /// "rate":0.5,"verb":"list","resource":"configmaps","retryAfterSeconds":2}],
  /// "closeWatchesAfterEvents":3}). kInvalid on bad input.
  static Expected<FaultConfig> fromJson(const nlohmann::json& j);
};

/// Collaborators. `clock` defaults to the system clock; `scheduler` is required (ApiServer throws
/// std::invalid_argument without one); empty `merge`/`auth` members default to the real ones.
struct ApiServerDeps {
  ClockPtr clock;
  SchedulerPtr scheduler;
  MergeFunctions merge;
  AuthFunctions auth;
};

/// Thread-safety: every method may be called from any thread; handle() runs concurrently on I/O
/// threads. One mutex guards the cluster's store; handlers never block on I/O. Timers and
/// onClosed callbacks hold only weak references, so destroying the server is safe while watches
/// and timers are pending (open watches are finished).
class ApiServer {
 public:
  ApiServer(ApiServerOptions options, ApiServerDeps deps);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  /// The http::Handler entry point. Never throws; answers every request (or keeps it when
  /// blackholed) with kube-apiserver's status codes and Status bodies.
  void handle(http::ServerRequest request, http::ExchangePtr exchange);
  /// A handler bound to this server (for http::Server); must not outlive it.
  http::Handler handler();

  // ---- In-process access, as cluster admin, without faults and accounting.

  struct Response {
    int status = 0;
    nlohmann::json body;  // null when the body was not JSON
  };
  /// Runs one request synchronously ("POST", "/api/v1/namespaces/demo/configmaps", body).
  Response request(const std::string& method, const std::string& target,
                   const nlohmann::json& body = nullptr,
                   const std::string& contentType = "application/json");
  /// The stored object in its served form, or nullopt.
  std::optional<nlohmann::json> get(const kube::Resource& resource, const std::string& ns,
                                    const std::string& name) const;
  /// Objects of a resource (all namespaces when ns is empty), in key order.
  std::vector<nlohmann::json> list(const kube::Resource& resource,
                                   const std::string& ns = {}) const;
  /// The cluster's current resourceVersion.
  std::uint64_t resourceVersion() const;
  /// The token authority (admin tokens, issued service-account tokens).
  TokenAuthority& tokens();
  /// "host:port" the server is reachable at, once bound: /api advertises it and the seeded
  /// `kubernetes` Endpoints point at it.
  void setServerAddress(const std::string& address);

  // ---- Fault injection (also reachable through /_testenv/faults, admin only).

  void setFaults(FaultConfig faults);
  FaultConfig faults() const;
  void setBlackhole(bool on);
  void setLatency(std::chrono::milliseconds latency);
  void setErrorRules(std::vector<ErrorRule> rules);
  void closeWatchesAfter(std::optional<std::size_t> events);
  /// Forgets the watch history: the next watch from an older resourceVersion gets 410 Expired.
  void expireWatchHistory();
  /// Ends every open watch now (clients see the stream finish), as an API server restart does.
  void dropAllWatches();
  /// Aborts blackholed requests (their connections drop).
  void releaseBlackholed();
  /// Sends a BOOKMARK now on every watch that allowed bookmarks.
  void sendBookmarks();
  std::size_t activeWatches() const;

  // ---- Accounting (also GET/DELETE /_testenv/requests).

  RequestStats stats() const;
  void resetStats();

  // ---- Simulation.

  void setDeploymentReadyDelay(std::chrono::milliseconds delay);

  // ---- Persistence (--state-dir).

  /// Writes every object and the resourceVersion counter to `path` (atomically: temp + rename).
  Expected<void> save(const std::string& path) const;
  /// Replaces the store with the content of `path` (CRDs re-registered, IPs re-reserved); open
  /// watches are dropped.
  Expected<void> load(const std::string& path);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rio::testenv
