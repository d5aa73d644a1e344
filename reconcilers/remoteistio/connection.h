// Which credentials a RemoteIstio's cluster is reached with, following the contract with the
// MeshMembership controller (docs/api.md):
//  - a MeshMembership of the same namespace/name exists: it owns the ClusterRegistry connection
//    (credentials it minted); this side only looks it up with registry.find(clusterName) and
//    waits (MembershipNotReady) until it is there and the membership reports CredentialsIssued.
//    PrerequisitesMet=False means nothing is installed. The network mode comes from its spec.
//  - otherwise the Secret named after the cluster in the RemoteIstio's namespace, labelled
//    istio/multiCluster=true, whose data key is the cluster name (what create-secret.sh made): its
//    kubeconfig is loaded with the restricted loader and connected here.
// Messages name Secrets and conditions, never their content.
#pragma once

#include <chrono>
#include <string>

#include "api/v1beta1/mesh_membership.h"
#include "api/v1beta1/remote_istio.h"
#include "controller/cache/informer.h"
#include "controller/kube/client.h"
#include "reconcilers/cluster_registry.h"

namespace rio::reconcilers::remoteistio {

/// The label create-secret.sh (and istiod) use on remote-cluster Secrets.
inline constexpr char kMultiClusterLabel[] = "istio/multiCluster";
inline constexpr char kMultiClusterSelector[] = "istio/multiCluster=true";

struct Connection {
  /// The cluster name in effect (the membership's clusterName, else the RemoteIstio's name).
  std::string cluster;
  v1beta1::NetworkMode mode = v1beta1::NetworkMode::kFlat;
  bool viaMembership = false;
  /// "MeshMembership istio-system/cn-beijing" or "Secret istio-system/cn-beijing".
  std::string credentialsSource;
  /// The connection, when usable.
  reconcilers::RemoteClusterPtr remote;
  /// When not usable: the Connected=False reason and message.
  std::string reason;
  std::string message;
  /// Not usable only because this process has not connected yet: the MeshMembership reports its
  /// credentials issued (a restarted operator, before the membership controller's first pass).
  bool connectPending = false;
  /// PrerequisitesNotMet: install nothing at all.
  bool installBlocked = false;
  /// How long a deletion keeps trying to clean up an unreachable cluster.
  std::chrono::seconds deletionTimeout{0};
  /// The remote Kubernetes version when the membership reports it (saves a request).
  std::string kubernetesVersion;
};

/// Thread-safety: resolve() may be called concurrently (the registry and informers are
/// thread-safe).
class ConnectionResolver {
 public:
  /// `memberships`: every MeshMembership; `credentialSecrets`: Secrets labelled
  /// istio/multiCluster=true in `meshNamespace` (RemoteIstios elsewhere are read with a GET).
  ConnectionResolver(reconcilers::ClusterRegistry& registry, cache::InformerPtr memberships,
                     cache::InformerPtr credentialSecrets, kube::ClientPtr hub,
                     std::string meshNamespace, std::chrono::seconds defaultDeletionTimeout);

  /// The connection of `ri`'s cluster. Connects the legacy Secret's kubeconfig to the registry
  /// (an unchanged kubeconfig keeps the existing connection; no request is made).
  Connection resolve(const v1beta1::RemoteIstio& ri);

 private:
  void fromMembership(const v1beta1::MeshMembership& membership, Connection& out) const;
  void fromSecret(const v1beta1::RemoteIstio& ri, Connection& out);

  reconcilers::ClusterRegistry& registry_;
  const cache::InformerPtr memberships_;
  const cache::InformerPtr secrets_;
  const kube::ClientPtr hub_;
  const std::string meshNamespace_;
  const std::chrono::seconds defaultDeletionTimeout_;
};

}  // namespace rio::reconcilers::remoteistio
