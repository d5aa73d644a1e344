// Wiring of the RemoteIstio controller into a Manager:
//
//   reconcilers::ClusterRegistry registry(registryOptions);  // shared with membership
//   auto metrics = std::make_shared<reconcilers::OperatorMetrics>(mgr->registry());
//   auto ctrl = remoteistio::setupRemoteIstioController(*mgr, registry, metrics, {});
//   ... the membership controller ...
//   mgr->run();
//
// Call it before anything connects a remote cluster (before the manager runs): the registry hands
// its change handlers only to connections made after they were registered.
#pragma once

#include "api/meta/error.h"
#include "controller/manager/manager.h"
#include "controller/runtime/controller.h"
#include "reconcilers/cluster_registry.h"
#include "reconcilers/metrics.h"
#include "reconcilers/remoteistio/options.h"

namespace rio::reconcilers::remoteistio {

/// Creates, through the manager's informer factory, the hub informers the controller reads:
/// RemoteIstios and MeshMemberships (all namespaces); in options.meshNamespace the Pods labelled
/// istio=pilot, every Service, the Secrets labelled istio/multiCluster=true (create-secret.sh's)
/// and the operator's own Secrets (its CAs). Builds the controller (RemoteIstio events that change
/// spec, metadata or deletion; a MeshMembership or Secret to the RemoteIstio of the same name;
/// control-plane pod and Service address changes and CA changes to every RemoteIstio), adds it to
/// the manager and registers a ClusterRegistry change handler mapping remote objects owned by a
/// RemoteIstio (owner annotation) and remote namespace events (by cluster) back to requests.
/// Errors: kInvalid from the informer factory or the builder.
Expected<runtime::ControllerPtr> setupRemoteIstioController(
    manager::Manager& manager, reconcilers::ClusterRegistry& registry,
    reconcilers::OperatorMetricsPtr metrics, const RemoteIstioControllerOptions& options);

}  // namespace rio::reconcilers::remoteistio
