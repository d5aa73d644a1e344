// How cache events become Requests (controller-runtime's handler package): the object itself,
// its owner through owner labels (works across clusters, where ownerReferences cannot point),
// its owner through an ownerReference, or any mapping function.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "controller/cache/object.h"
#include "controller/runtime/reconciler.h"

namespace rio::runtime {

/// Maps one object to the requests it should trigger (none, one or several). Must be pure and
/// quick: it runs on an informer strand.
using MapFunc = std::function<std::vector<Request>(const cache::ObjectPtr& object)>;

/// The object's own namespace/name (for the primary resource).
MapFunc requestForObject();

/// The owner named by labels on the child: `nameLabel` holds the owner's name; `namespaceLabel`
/// its namespace (empty key: the owner is in the child's namespace). Children without the name
/// label map to nothing.
MapFunc requestForOwnerLabels(std::string nameLabel, std::string namespaceLabel = "");

/// The owner named by one annotation on the child holding "<namespace>/<name>" (or "<name>" for
/// a cluster-scoped owner): exact even where labels must be shortened. Children without it, or
/// with an empty name, map to nothing.
MapFunc requestForOwnerAnnotation(std::string annotation);

/// The queue priority of a request from an object of an informer's initial list (the controller
/// starts, or takes over after a failover, or a source is added): objects that were there before
/// and mostly need only a look. Changes seen afterwards always get workqueue::kNormalPriority.
using InitialPriority = std::function<int(const cache::ObjectPtr& object)>;

/// controller-runtime's rule (handler.WithLowPriorityWhenUnchanged): workqueue::kLowPriority.
InitialPriority lowPriority();

/// For the primary resource: workqueue::kNormalPriority for an object with work no controller has
/// reported on (metadata.generation ahead of status.observedGeneration, no observedGeneration
/// yet, or a deletionTimestamp), kLowPriority otherwise. A spec changed while no leader ran (during
/// a failover) is then handled before the routine pass over every other object.
InitialPriority unobservedChangesFirst();

/// The owner named by the child's metadata.ownerReferences with this API group ("" = core) and
/// kind; with `controllerOnly`, only the reference marked `controller: true`. The owner is in the
/// child's namespace, or cluster-scoped when `ownerNamespaced` is false.
MapFunc requestForOwnerReference(std::string ownerGroup, std::string ownerKind,
                                 bool controllerOnly = true, bool ownerNamespaced = true);

}  // namespace rio::runtime
