// Builder-style wiring of a controller, after controller-runtime's builder:
//
//   auto ctrl = runtime::Builder("membership", executor)
//                   .forInformer(memberships, {predicates::generationChanged()})
//                   .owns(secrets)                                    // by ownerReference
//                   .owns(remoteDeployments, OwnerMapping::byLabels("example.com/owner-name",
//                                                                   "example.com/owner-namespace"))
//                   .watches(nodes, mapNodeToMemberships)
//                   .withEventFilter(predicates::fromFunction(notBeingDeleted))
//                   .withOptions(opts)
//                   .build(reconciler);
//   // later, by the manager: caches synced, leader elected ->
//   (*ctrl)->start();
#pragma once

#include <string>
#include <vector>

#include "api/meta/error.h"
#include "controller/cache/informer.h"
#include "controller/runtime/controller.h"

namespace rio::runtime {

/// How children owned by the primary are mapped back to it.
struct OwnerMapping {
  enum class Kind { kOwnerReference, kLabels, kAnnotation };
  Kind kind = Kind::kOwnerReference;
  // kLabels
  std::string nameLabel;
  std::string namespaceLabel;
  // kAnnotation
  std::string annotation;
  // kOwnerReference
  bool controllerOnly = true;

  /// metadata.ownerReferences naming an object of the primary's group and kind (same cluster).
  static OwnerMapping byOwnerReference(bool controllerOnly = true) {
    OwnerMapping m;
    m.controllerOnly = controllerOnly;
    return m;
  }
  /// An owner annotation "<namespace>/<name>" on the child (any cluster): see
  /// requestForOwnerAnnotation().
  static OwnerMapping byAnnotation(std::string annotation) {
    OwnerMapping m;
    m.kind = Kind::kAnnotation;
    m.annotation = std::move(annotation);
    return m;
  }
  /// Owner labels on the child (any cluster): see requestForOwnerLabels().
  static OwnerMapping byLabels(std::string nameLabel, std::string namespaceLabel = "") {
    OwnerMapping m;
    m.kind = Kind::kLabels;
    m.nameLabel = std::move(nameLabel);
    m.namespaceLabel = std::move(namespaceLabel);
    return m;
  }
};

/// Collects the wiring, then build() creates the controller (not started).
/// Not thread-safe: use from one thread.
class Builder {
 public:
  /// `name` must be unique in the process (it labels metrics); empty: the primary's kind in lower
  /// case. `executor` is the shared pool (queue timers, reconcile deadlines).
  Builder(std::string name, ExecutorPtr executor);

  /// The primary resource: its events enqueue the object itself (from the initial list, at
  /// unobservedChangesFirst() priority).
  Builder& forInformer(cache::InformerPtr primary, std::vector<Predicate> predicates = {});
  /// Children: their events enqueue their owner.
  Builder& owns(cache::InformerPtr children,
                OwnerMapping mapping = OwnerMapping::byOwnerReference(),
                std::vector<Predicate> predicates = {});
  /// Any other informer with a mapping function.
  Builder& watches(cache::InformerPtr source, MapFunc map, std::vector<Predicate> predicates = {});
  /// A predicate every event of every source must pass.
  Builder& withEventFilter(Predicate predicate);
  /// Workers, deadline, rate limits, metrics and logger of the controller.
  Builder& withOptions(ControllerOptions options);

  /// The controller with its sources, not started. Errors (kInvalid): no primary, a second
  /// primary, a null informer or reconciler.
  Expected<ControllerPtr> build(ReconcilerPtr reconciler);

 private:
  struct PendingSource {
    cache::InformerPtr informer;
    MapFunc map;  // null for owns(): resolved in build()
    OwnerMapping owner;
    std::vector<Predicate> predicates;
  };

  std::string name_;
  ExecutorPtr executor_;
  cache::InformerPtr primary_;
  std::vector<Predicate> primaryPredicates_;
  std::vector<PendingSource> sources_;
  std::vector<Predicate> filters_;
  ControllerOptions options_;
  std::vector<std::string> problems_;
};

}  // namespace rio::runtime
