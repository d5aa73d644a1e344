#include "controller/runtime/predicate.h"

namespace rio::runtime::predicates {
namespace {

const nlohmann::json& metadataField(const nlohmann::json& object, const char* field) {
  static const nlohmann::json kNull;
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return kNull;
  auto f = m->find(field);
  return f == m->end() ? kNull : *f;
}

Predicate onUpdateOnly(
    std::function<bool(const cache::ObjectPtr&, const cache::ObjectPtr&)> update) {
  Predicate p;
  p.update = std::move(update);
  return p;
}

Predicate metadataChanged(const char* field) {
  return onUpdateOnly([field](const cache::ObjectPtr& a, const cache::ObjectPtr& b) {
    if (!a || !b) return true;
    return metadataField(*a, field) != metadataField(*b, field);
  });
}

}  // namespace

Predicate generationChanged() { return metadataChanged("generation"); }
Predicate labelChanged() { return metadataChanged("labels"); }
Predicate annotationChanged() { return metadataChanged("annotations"); }
Predicate resourceVersionChanged() { return metadataChanged("resourceVersion"); }

Predicate fromFunction(std::function<bool(const nlohmann::json&)> fn) {
  Predicate p;
  p.create = [fn](const cache::ObjectPtr& o) { return o && fn(*o); };
  p.update = [fn](const cache::ObjectPtr&, const cache::ObjectPtr& o) { return o && fn(*o); };
  p.del = [fn](const cache::ObjectPtr& o) { return o && fn(*o); };
  return p;
}

Predicate anyOf(std::vector<Predicate> ps) {
  Predicate p;
  p.create = [ps](const cache::ObjectPtr& o) {
    for (const auto& q : ps)
      if (q.allowsCreate(o)) return true;
    return ps.empty();
  };
  p.update = [ps](const cache::ObjectPtr& a, const cache::ObjectPtr& b) {
    for (const auto& q : ps)
      if (q.allowsUpdate(a, b)) return true;
    return ps.empty();
  };
  p.del = [ps](const cache::ObjectPtr& o) {
    for (const auto& q : ps)
      if (q.allowsDelete(o)) return true;
    return ps.empty();
  };
  return p;
}

Predicate allOf(std::vector<Predicate> ps) {
  Predicate p;
  p.create = [ps](const cache::ObjectPtr& o) {
    for (const auto& q : ps)
      if (!q.allowsCreate(o)) return false;
    return true;
  };
  p.update = [ps](const cache::ObjectPtr& a, const cache::ObjectPtr& b) {
    for (const auto& q : ps)
      if (!q.allowsUpdate(a, b)) return false;
    return true;
  };
  p.del = [ps](const cache::ObjectPtr& o) {
    for (const auto& q : ps)
      if (!q.allowsDelete(o)) return false;
    return true;
  };
  return p;
}

}  // namespace rio::runtime::predicates
