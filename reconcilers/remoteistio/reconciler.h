// The RemoteIstio reconciler: for each RemoteIstio (its name is the remote cluster's name) it keeps
// in that cluster the sidecar injector and its webhook, the injection labels of
// spec.autoInjectionNamespaces, discovery Services/Endpoints pointing back at the control plane,
// the `cacerts` intermediate CA and, when asked, an ingress gateway; it reports conditions, status,
// Events and remote_istio_* metrics in the control plane, and cleans up behind a finalizer.
//
// Level-based: every pass reads the hub's informers and the registry's caches and writes only
// what differs, so a converged pass makes no write anywhere. Failure policy:
//  - invalid spec: Ready=False InvalidSpec + Event, nothing applied (terminal);
//  - no credentials / membership not ready / prerequisites not met: Connected=False, nothing
//    applied; retried when the Secret or the MeshMembership changes;
//  - remote unreachable or credentials refused: the pass stops at the first such answer (one
//    request deadline at most; none at all while the cluster's ServerHealth is suspect),
//    Connected=False, retried with per-item backoff;
//  - a remote that refuses a write (403, 409 field conflict, 422): the component's condition
//    names the object and the server's message, the rest of the pass goes on, retried with backoff;
//  - certificates are renewed when a third of their lifetime is left: the pass asks to run again
//    at that time.
// Deletion: removes every object labelled for this RemoteIstio and takes back the injection labels
// it added; an unreachable cluster is retried until the deadline (the MeshMembership's
// spec.deletion.timeout, or the controller's default), then deletion completes with an Event
// listing what was left behind; `istio.alibabacloud.com/orphan-on-delete: "true"` completes at
// once.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/v1beta1/remote_istio.h"
#include "controller/cache/informer.h"
#include "controller/events/event_recorder.h"
#include "controller/kube/client.h"
#include "controller/runtime/reconciler.h"
#include "reconcilers/cluster_registry.h"
#include "reconcilers/metrics.h"
#include "reconcilers/remoteistio/cluster_index.h"
#include "reconcilers/remoteistio/connection.h"
#include "reconcilers/remoteistio/hub_pki.h"
#include "reconcilers/remoteistio/options.h"

namespace rio::reconcilers::remoteistio {

/// What the reconciler reads and writes. Informers are the hub's (see setup.h for their specs).
struct RemoteIstioDeps {
  kube::ClientPtr hub;
  reconcilers::ClusterRegistry* registry = nullptr;
  reconcilers::OperatorMetricsPtr metrics;  // optional
  events::EventRecorderPtr recorder;        // optional
  cache::InformerPtr remoteIstios;
  cache::InformerPtr memberships;
  cache::InformerPtr pilotPods;          // istio=pilot in the mesh namespace
  cache::InformerPtr services;           // every Service of the mesh namespace
  cache::InformerPtr credentialSecrets;  // istio/multiCluster=true in the mesh namespace
  cache::InformerPtr operatorSecrets;    // managed-by=remote-istio-operator in the mesh namespace
  std::shared_ptr<ClusterIndex> index;
  ClockPtr clock;
};

/// Thread-safety: reconcile() runs concurrently for different requests (never twice for one);
/// shared state (the version cache) sits behind one mutex, HubPki has its own.
class RemoteIstioReconciler final : public runtime::Reconciler {
 public:
  RemoteIstioReconciler(RemoteIstioDeps deps, RemoteIstioControllerOptions options);

  runtime::ReconcileOutcome reconcile(const runtime::ReconcileContext& ctx,
                                      const runtime::Request& request) override;

 private:
  struct Pass;

  runtime::ReconcileOutcome reconcileLive(const runtime::ReconcileContext& ctx,
                                          const nlohmann::json& live,
                                          const v1beta1::RemoteIstio& ri, WallTime now);
  runtime::ReconcileOutcome finalize(const runtime::ReconcileContext& ctx,
                                     const nlohmann::json& live, const v1beta1::RemoteIstio& ri,
                                     WallTime now);
  void sync(Pass& pass);
  void syncInjector(Pass& pass);
  void syncDiscovery(Pass& pass);
  void syncTrust(Pass& pass);
  void syncGateway(Pass& pass);
  void syncNamespaces(Pass& pass);
  std::string kubernetesVersion(Pass& pass);
  /// Writes `status` unless it equals the live one; emits Events for condition transitions.
  Expected<bool> writeStatus(const nlohmann::json& live, const v1beta1::RemoteIstioStatus& before,
                             const v1beta1::RemoteIstioStatus& after);
  void event(const nlohmann::json& live, bool warning, std::string_view reason,
             const std::string& message);
  void forgetCluster(const Connection& conn);

  RemoteIstioDeps deps_;
  RemoteIstioControllerOptions options_;
  ConnectionResolver resolver_;
  HubPki hubPki_;
  std::string remoteNamespace_;
  SteadyTime startedAt_;  // the first minute after a start, Ready statuses wait for connections

  std::mutex syncedMu_;  // guards synced_
  /// When a pass last changed something in each RemoteIstio's remote (by "namespace/name"): the
  /// status write that said so may have been refused (409) and the next pass writes nothing.
  std::map<std::string, meta::Time> synced_;

  std::mutex versionsMu_;  // guards versions_
  /// Remote Kubernetes versions, asked once per connection.
  std::map<std::string, std::pair<std::weak_ptr<reconcilers::RemoteCluster>, std::string>>
      versions_;
};

}  // namespace rio::reconcilers::remoteistio
