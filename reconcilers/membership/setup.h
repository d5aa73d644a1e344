// Wiring of the MeshMembership controller into a Manager:
//
//   auto registry = std::make_shared<ClusterRegistry>(registryOptions);
//   auto metrics = std::make_shared<OperatorMetrics>(mgr->registry());
//   auto ctrl = membership::setupMembershipController(*mgr, *registry, metrics, {});
//   if (!ctrl) -> start-up error
//   mgr->run();
#pragma once

#include "api/meta/error.h"
#include "controller/manager/manager.h"
#include "controller/runtime/controller.h"
#include "reconcilers/cluster_registry.h"
#include "reconcilers/membership/reconciler.h"
#include "reconcilers/metrics.h"

namespace rio::reconcilers::membership {

/// The label selector of the control-plane Secrets this controller writes (istiod's remote
/// secrets and the operator's credentials Secrets).
std::string ownSecretsSelector();

/// Creates the controller's informers through the manager's informer factory (MeshMemberships in
/// every namespace; its own Secrets in the mesh namespace, label-selected), builds the controller (its Secrets map back
/// to their MeshMembership through the owner annotation), adds it to the manager, and registers a
/// ClusterRegistry change handler that queues the MeshMembership owning a changed remote object.
/// Call before mgr.run() and before the registry's first connect(). `registry` must outlive the
/// manager's run. The reconciler's remote clients run on the manager's IoRuntime: drop the
/// returned pointer (and the registry) before the manager is destroyed. Errors (kInvalid/kConfig)
/// come from informer or controller construction.
Expected<runtime::ControllerPtr> setupMembershipController(manager::Manager& mgr,
                                                           ClusterRegistry& registry,
                                                           OperatorMetricsPtr metrics,
                                                           const MembershipControllerOptions& options);

}  // namespace rio::reconcilers::membership
