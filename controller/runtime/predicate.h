// Event filters (controller-runtime's predicates): decide which cache events reach a controller's
// queue. A predicate that is not set for an event type lets that event through.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "controller/cache/object.h"

namespace rio::runtime {

/// Thread-safety: called on informer strands, possibly concurrently for different informers;
/// the functions must be pure.
struct Predicate {
  std::function<bool(const cache::ObjectPtr& object)> create;  // null: pass
  std::function<bool(const cache::ObjectPtr& oldObject, const cache::ObjectPtr& newObject)> update;
  std::function<bool(const cache::ObjectPtr& object)> del;

  /// Whether each kind of event passes (an unset function passes everything).
  bool allowsCreate(const cache::ObjectPtr& o) const { return !create || create(o); }
  bool allowsUpdate(const cache::ObjectPtr& a, const cache::ObjectPtr& b) const {
    return !update || update(a, b);
  }
  bool allowsDelete(const cache::ObjectPtr& o) const { return !del || del(o); }
};

namespace predicates {

/// Updates pass only when metadata.generation changed (spec changes, not status); creates and
/// deletes pass.
Predicate generationChanged();
/// Updates pass only when metadata.labels changed.
Predicate labelChanged();
/// Updates pass only when metadata.annotations changed.
Predicate annotationChanged();
/// Updates pass only when metadata.resourceVersion changed.
Predicate resourceVersionChanged();
/// Every event passes when fn(object) holds (for updates: the new object).
Predicate fromFunction(std::function<bool(const nlohmann::json& object)> fn);
/// Passes when any of `ps` passes (e.g. generation or label changed).
Predicate anyOf(std::vector<Predicate> ps);
/// Passes when all of `ps` pass.
Predicate allOf(std::vector<Predicate> ps);

}  // namespace predicates
}  // namespace rio::runtime
