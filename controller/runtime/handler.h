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

/// The owner named by the child's metadata.ownerReferences with this API group ("" = core) and
/// kind; with `controllerOnly`, only the reference marked `controller: true`. The owner is in the
/// child's namespace, or cluster-scoped when `ownerNamespaced` is false.
MapFunc requestForOwnerReference(std::string ownerGroup, std::string ownerKind,
                                 bool controllerOnly = true, bool ownerNamespaced = true);

}  // namespace rio::runtime
