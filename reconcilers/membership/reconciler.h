// The MeshMembership reconciler: joins one remote cluster to the mesh per MeshMembership.
//
// For each object, in order (docs/api.md describes the conditions and status it reports):
//  1. credentials: the operator's own credentials Secret when it holds a valid token for the
//     current setup; otherwise the bootstrap kubeconfig (spec.bootstrapSecretRef), read with the
//     restricted loader through a temporary client (never the ClusterRegistry);
//  2. reachability: an asynchronous GET /version every probe interval (Prober), so a dead remote
//     costs no worker; then, only after it answered, a bounded full probe (nodes, service CIDR);
//  3. prerequisites (version, workers, CIDR overlaps with the other members, clock skew): a hard
//     failure installs nothing;
//  4. setup through the bootstrap credentials: mesh namespace (created only when absent) and the
//     least-privilege RBAC of desired::membershipRbac;
//  5. tokens (TokenRequest) re-minted at `renewFraction` of their lifetime; istiod's remote secret
//     and the operator's credentials Secret written in the control plane; the ClusterRegistry
//     connection created or its token swapped in place (the RemoteIstio reconciler only finds it);
//  6. status with conditions Reachable, PrerequisitesMet, CredentialsIssued, RemoteSecretSynced,
//     Ready, Events on transitions, remote_istio_* metrics.
// Deletion (finalizer): istiod's remote secret first, then the remote objects (label-selected),
// retried until spec.deletion.timeout, then finished with an Event listing what was left behind;
// the orphan annotation finishes at once. A converged member costs one GET /version per probe
// interval and no writes.
//
// Secrets: tokens and kubeconfigs pass through here; none is ever logged or put in a status,
// condition, Event or error message.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "controller/cache/informer.h"
#include "controller/core/clock.h"
#include "controller/core/io_runtime.h"
#include "controller/events/event_recorder.h"
#include "controller/kube/client.h"
#include "controller/runtime/reconciler.h"
#include "reconcilers/cluster_registry.h"
#include "reconcilers/membership/probe.h"
#include "reconcilers/metrics.h"

namespace rio::reconcilers::membership {

/// The REST resource of MeshMemberships in the control plane.
inline const kube::Resource kMeshMemberships{"istio.alibabacloud.com", "v1beta1", "meshmemberships",
                                             "MeshMembership", true};

struct MembershipControllerOptions {
  /// Controller name (metrics, logs, Event source).
  std::string name = "meshmembership";
  /// Namespace of istiod in the control plane: where its remote secrets are written.
  std::string istioNamespace = "istio-system";
  /// Time for token renewal, probe freshness, deletion deadlines and condition timestamps.
  /// Null: the manager's clock. (Tests inject a manual clock shared with the test API servers.)
  ClockPtr clock;
  /// Tokens are re-minted at this fraction of their lifetime.
  double renewFraction = 0.8;
  /// How often each remote is probed (GET /version), and how long a probe may take: a server
  /// that hangs shows as Reachable=False within probeInterval + probeTimeout. One that is down
  /// (its watches cut, connections refused) shows within seconds: the remote's informers and
  /// requests report it, whatever the interval.
  std::chrono::milliseconds probeInterval{std::chrono::seconds(60)};
  std::chrono::milliseconds probeTimeout{std::chrono::seconds(5)};
  /// Probe interval while the last probe failed (no answer, or an error answer): the end of an
  /// outage shows within about this long. Costs requests only during outages.
  std::chrono::milliseconds unreachableProbeInterval{std::chrono::seconds(2)};
  /// Each other request to a remote (nodes, setup, tokens, cleanup); no retries.
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(5)};
  /// How often nodes are listed again (worker count, pod CIDRs, locality). The list is made on
  /// the probe tick it falls in and stands in for that tick's probe.
  std::chrono::milliseconds fullProbeInterval{std::chrono::minutes(5)};
  /// A larger difference between the remote's clock and ours fails PrerequisitesMet.
  std::chrono::milliseconds maxClockSkew{std::chrono::minutes(5)};
  /// Re-check of a member waiting for the user (bootstrap Secret missing, name conflict).
  std::chrono::milliseconds recheckInterval{std::chrono::seconds(30)};
};

/// What the reconciler works with; setupMembershipController() fills it from the manager.
struct MembershipDeps {
  kube::ClientPtr hub;                        // the control-plane client
  cache::InformerPtr memberships;             // every MeshMembership
  cache::InformerPtr secrets;                 // the Secrets this controller wrote (label-selected)
  ClusterRegistry* registry = nullptr;        // required
  OperatorMetricsPtr metrics;                 // optional
  events::EventRecorderPtr recorder;          // optional
  IoRuntime* io = nullptr;                    // required: remote clients run on it
  std::shared_ptr<kube::ClientMetrics> clientMetrics;  // optional, for remote clients
  MembershipControllerOptions options;
};

/// Thread-safety: reconcile() runs on controller workers, never twice at once for one request;
/// per-member state sits behind one mutex (the map) and is only touched by that request's
/// reconcile; probe completions run on I/O threads and only enqueue.
class MembershipReconciler final : public runtime::Reconciler {
 public:
  explicit MembershipReconciler(MembershipDeps deps);
  ~MembershipReconciler() override;

  runtime::ReconcileOutcome reconcile(const runtime::ReconcileContext& ctx,
                                      const runtime::Request& request) override;

  /// How a finished probe asks for a reconcile (the controller's enqueue). Set once, after the
  /// controller is built and before it starts.
  void setEnqueue(std::function<void(const runtime::Request&)> enqueue);

  struct Member;
  struct Pass;
  struct MemberIndex;

 private:
  struct Enqueuer;
  struct IndexState;
  /// The other members as the cross-member checks need them (cluster names, readiness, ranges).
  /// Kept up to date from the informer's events (O(log N) per change) and rebuilt only when
  /// what the checks read changed: a status write that changes none of it costs nothing here.
  std::shared_ptr<const MemberIndex> memberIndex();
  std::shared_ptr<Member> member(const std::string& key);
  void forget(const runtime::Request& request);
  /// A callback that queues `request` again (safe to call after the reconciler is gone).
  std::function<void()> requeuer(const runtime::Request& request) const;

  runtime::ReconcileOutcome join(Pass& p);
  runtime::ReconcileOutcome finalize(Pass& p);
  runtime::ReconcileOutcome finish(Pass& p, const std::vector<std::string>& leftBehind,
                                   bool deadlineExceeded);

  MembershipDeps deps_;
  ClockPtr clock_;
  Prober prober_;
  std::shared_ptr<Enqueuer> enqueuer_;
  mutable std::mutex mu_;  // guards members_
  std::map<std::string, std::shared_ptr<Member>> members_;
  std::shared_ptr<IndexState> indexState_;  // shared with the informer's event handler
  std::optional<cache::HandlerId> indexHandler_;
};

}  // namespace rio::reconcilers::membership
