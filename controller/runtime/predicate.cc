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
  auto f = std::make_shared<const std::function<bool(const nlohmann::json&)>>(std::move(fn));
  Predicate p;
  p.create = [f](const cache::ObjectPtr& o) { return o && (*f)(*o); };
  p.update = [f](const cache::ObjectPtr&, const cache::ObjectPtr& o) { return o && (*f)(*o); };
  p.del = [f](const cache::ObjectPtr& o) { return o && (*f)(*o); };
  return p;
}

namespace {

// One combinator for anyOf/allOf: `any` decides whether one passing (true) or one failing
// (false) predicate settles the answer.
Predicate combine(std::vector<Predicate> ps, bool any) {
  auto all = std::make_shared<const std::vector<Predicate>>(std::move(ps));
  auto decide = [all, any](auto&& allows) {
    for (const auto& q : *all) {
      if (allows(q) == any) return any;
    }
    return any ? all->empty() : true;
  };
  Predicate p;
  p.create = [decide](const cache::ObjectPtr& o) {
    return decide([&](const Predicate& q) { return q.allowsCreate(o); });
  };
  p.update = [decide](const cache::ObjectPtr& a, const cache::ObjectPtr& b) {
    return decide([&](const Predicate& q) { return q.allowsUpdate(a, b); });
  };
  p.del = [decide](const cache::ObjectPtr& o) {
    return decide([&](const Predicate& q) { return q.allowsDelete(o); });
  };
  return p;
}

}  // namespace

Predicate anyOf(std::vector<Predicate> ps) { return combine(std::move(ps), true); }

Predicate allOf(std::vector<Predicate> ps) { return combine(std::move(ps), false); }

}  // namespace rio::runtime::predicates
