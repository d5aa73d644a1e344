// One connection set per remote cluster, shared by the MeshMembership and RemoteIstio
// controllers: a REST client whose bearer token is rotated in place (no reconnect, no restart),
// one ServerHealth so all its informers recover together after an outage, and label-selected
// informers on every kind the operator owns there (plus all namespaces, for injection labels), so
// drift is seen within seconds and a no-op reconcile reads only caches.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/meta/error.h"
#include "controller/cache/informer.h"
#include "controller/core/logging.h"
#include "controller/kube/client.h"
#include "controller/kube/rest_config.h"
#include "controller/runtime/executor.h"

namespace rio {
class IoRuntime;
}

namespace rio::reconcilers {

struct ClusterRegistryOptions {
  IoRuntime* io = nullptr;          // required
  runtime::ExecutorPtr executor;    // required: the informers' strands run on it
  std::shared_ptr<kube::ClientMetrics> clientMetrics;  // optional
  ClockPtr clock = systemClock();
  std::string meshNamespace = "istio-system";
  /// Per request to a remote API server: a dead remote costs a worker at most this (times
  /// 1 + maxRetries), never more.
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(10)};
  int maxRetries = 1;
  /// Remote watches are long (the idle-traffic budget is about one request per remote per
  /// minute); bookmarks keep them fresh and the idle timeout catches blackholed connections.
  std::chrono::seconds watchTimeoutMin{std::chrono::minutes(30)};
  std::chrono::seconds watchTimeoutMax{std::chrono::minutes(60)};
  log::Logger logger;
};

/// The kinds the operator creates in a remote cluster and watches there (label-selected on
/// app.kubernetes.io/managed-by). Namespaced ones are watched in the mesh namespace only: the
/// operator's own RBAC there does not allow more.
std::vector<kube::Resource> ownedNamespacedResources();
std::vector<kube::Resource> ownedClusterResources();

/// The connection to one remote cluster. Thread-safe.
class RemoteCluster {
 public:
  const std::string& name() const { return name_; }
  /// The client; its token follows rotateToken() without reconnecting.
  const kube::ClientPtr& client() const { return client_; }
  /// The informer of an owned kind (see owned*Resources()), or null for any other kind.
  cache::InformerPtr informer(const kube::Resource& resource) const;
  /// Every namespace of the cluster.
  const cache::InformerPtr& namespaces() const { return namespaces_; }
  /// True once every informer has its first list.
  bool synced() const;
  /// When this connection was made (the registry's clock): how long the first lists have taken.
  SteadyTime connectedAt() const { return connectedAt_; }
  /// Shared reachability of this API server (informers and the membership probe report to it).
  const cache::ServerHealthPtr& health() const { return health_; }
  /// Where the credentials came from ("Secret istio-system/remote-istio-operator-cn-beijing").
  std::string origin() const;
  /// While health() is suspect, asks the server whether it answers again: GET /version,
  /// asynchronously (no worker waits; a dead server costs one request in flight per cluster, for
  /// at most the request timeout). Any HTTP answer clears the suspicion (and wakes the cluster's
  /// informers). Without it, a suspicion raised by one failed write stays until the next watch
  /// event: informers whose watches stayed connected do not probe, so a quiet cluster that
  /// answers everything else would be treated as dead. Non-blocking; no-op when not suspect.
  void probeIfSuspect();

 private:
  friend class ClusterRegistry;
  RemoteCluster() = default;
  bool sameIdentity(const kube::RestConfig& config) const;
  void stop();

  std::string name_;
  kube::RestConfig config_;  // as connected; the token lives in token_
  std::shared_ptr<kube::RotatingTokenSource> token_;  // null without bearer auth
  kube::ClientPtr client_;
  cache::ServerHealthPtr health_;
  std::map<std::string, cache::InformerPtr> owned_;  // by resource qualified name
  cache::InformerPtr namespaces_;
  std::chrono::milliseconds probeTimeout_{0};
  SteadyTime connectedAt_{};
  std::shared_ptr<std::atomic<bool>> probing_ = std::make_shared<std::atomic<bool>>(false);
  mutable std::mutex mu_;  // guards origin_
  std::string origin_;
};
using RemoteClusterPtr = std::shared_ptr<RemoteCluster>;

/// Thread-safety: every method may be called from any thread (one mutex guards the map).
class ClusterRegistry {
 public:
  explicit ClusterRegistry(ClusterRegistryOptions options);
  ~ClusterRegistry();  // disconnects everything
  ClusterRegistry(const ClusterRegistry&) = delete;
  ClusterRegistry& operator=(const ClusterRegistry&) = delete;

  /// Called on an informer strand for every add, update or delete of an owned object or of a
  /// namespace, in any cluster; `initial` for the objects of an informer's first list (they were
  /// there before this connection: nothing changed, so queue their owner at low priority). Must
  /// be quick (map to a request, enqueue). Register before the first connect().
  using ChangeHandler =
      std::function<void(const std::string& cluster, const cache::ObjectPtr& object, bool initial)>;
  void addChangeHandler(ChangeHandler handler);

  /// The connection for `cluster` with `config`. An existing connection is kept when `config`
  /// has the same server and TLS identity (a new bearer token is swapped in place); otherwise it
  /// is replaced and its informers restart. New informers are started, not waited for.
  /// Errors: kConfig for an unusable server URL or TLS material (message names `config.origin`).
  Expected<RemoteClusterPtr> connect(const std::string& cluster, const kube::RestConfig& config);
  /// The current connection, or null.
  RemoteClusterPtr find(const std::string& cluster) const;
  /// Stops the informers of `cluster` and forgets it. No-op when unknown.
  void disconnect(const std::string& cluster);
  std::vector<std::string> clusters() const;
  /// The namespace of the mesh components in every remote cluster (where owned kinds are watched).
  const std::string& meshNamespace() const { return options_.meshNamespace; }

 private:
  Expected<RemoteClusterPtr> build(const std::string& cluster, const kube::RestConfig& config);

  ClusterRegistryOptions options_;
  mutable std::mutex mu_;  // guards clusters_ and handlers_
  std::map<std::string, RemoteClusterPtr> clusters_;
  std::vector<ChangeHandler> handlers_;
};

}  // namespace rio::reconcilers
