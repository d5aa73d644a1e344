// Writes to one remote cluster during one reconcile: applies desired objects against the
// registry's caches (so a converged object costs no request), deletes what the RemoteIstio no
// longer wants (owner-label selected, never anything else), counts every outcome in
// remote_istio_remote_apply_total, reports reachability to the cluster's ServerHealth, and stops
// talking to the cluster at the first sign that it is not answering (or rejects the credentials),
// so a dead remote costs one request deadline per pass, not one per object.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "api/meta/error.h"
#include "reconcilers/cluster_registry.h"
#include "reconcilers/desired/labels.h"
#include "reconcilers/desired/manifest.h"
#include "reconcilers/metrics.h"

namespace rio::reconcilers::remoteistio {

/// A request the remote cluster did not grant.
struct RemoteFailure {
  /// A condition reason: Unreachable, Unauthorized, Forbidden, FieldConflict or ApplyFailed.
  std::string reason;
  /// The verb, the object and the API server's message ("apply Deployment istio-system/x: ...");
  /// for field conflicts, the conflicting fields and their managers. Never secret data.
  std::string message;
  Error error;
};

/// The condition reason for a failed remote request (see RemoteFailure::reason).
std::string failureReason(const Error& error);

/// "<qualified resource>|<namespace>/<name>": identifies one object across kinds.
std::string objectId(const kube::Resource& resource, const nlohmann::json& object);

/// Not thread-safe: one per reconcile, used by its worker only.
class RemoteWriter {
 public:
  template <class T>
  using Outcome = tl::expected<T, RemoteFailure>;

  /// `meshNamespace` is where the registry watches namespaced owned kinds; `metrics` may be null;
  /// `cancelled` (optional) is polled before every request: once true (the reconcile's deadline
  /// passed), the pass stops as if the cluster did not answer.
  RemoteWriter(reconcilers::RemoteClusterPtr remote, std::string meshNamespace,
               reconcilers::OperatorMetrics* metrics, std::function<bool()> cancelled = {});

  /// Server-side applies `manifest` with desired::kFieldManager unless the cached live object
  /// already matches. The live object after the call; with `wantObject` false it may be null
  /// instead (an object created is not decoded from the answer).
  Outcome<nlohmann::json> apply(const desired::Manifest& manifest, bool wantObject = true);
  /// Server-side applies a namespace label body (namespace_labels.h) with
  /// desired::kInjectionFieldManager, never forced.
  Outcome<void> applyNamespaceLabels(const nlohmann::json& body);
  /// The remote's Kubernetes version (GET /version: gitVersion).
  Outcome<std::string> serverVersion();
  /// Deletes `object` (uid precondition: a re-created object of the same name is left alone);
  /// gone already counts as success.
  Outcome<void> remove(const kube::Resource& resource, const nlohmann::json& object);

  /// The objects of every owned kind (cluster_registry.h) labelled for `owner`: from the caches,
  /// or, for a cache that has not synced and when `listWhenUnsynced`, from a label-selected LIST.
  /// `complete` (optional) turns false when some kind could not be read.
  std::vector<std::pair<kube::Resource, nlohmann::json>> ownedObjects(const desired::Owner& owner,
                                                                      bool listWhenUnsynced,
                                                                      bool* complete = nullptr);
  /// Deletes the objects of `owner` whose objectId() is not in `keep` (caches only: a kind whose
  /// cache has not synced is pruned on a later pass).
  void prune(const desired::Owner& owner, const std::set<std::string>& keep);

  /// True once the cluster did not answer or refused the credentials: every later call fails at
  /// once with that failure.
  bool stopped() const { return stop_.has_value(); }
  /// The failure that stopped the pass.
  const std::optional<RemoteFailure>& stopFailure() const { return stop_; }
  /// Every failure so far (in order).
  const std::vector<RemoteFailure>& failures() const { return failures_; }
  /// True when anything was created, changed or deleted.
  bool wrote() const { return created_ + updated_ + deleted_ > 0; }
  int created() const { return created_; }
  int updated() const { return updated_; }
  int deleted() const { return deleted_; }

 private:
  RemoteFailure failed(const Error& error, const std::string& kind);
  bool halted();
  void succeeded(const std::string& kind, const std::string& result);

  reconcilers::RemoteClusterPtr remote_;
  std::string meshNamespace_;
  reconcilers::OperatorMetrics* metrics_;
  std::function<bool()> cancelled_;
  std::optional<RemoteFailure> stop_;
  std::vector<RemoteFailure> failures_;
  int created_ = 0;
  int updated_ = 0;
  int deleted_ = 0;
};

}  // namespace rio::reconcilers::remoteistio
