#include "controller/runtime/handler.h"

#include "controller/workqueue/workqueue.h"

namespace rio::runtime {

MapFunc requestForObject() {
  return [](const cache::ObjectPtr& o) { return std::vector<Request>{Request::of(*o)}; };
}

MapFunc requestForOwnerLabels(std::string nameLabel, std::string namespaceLabel) {
  return [nameLabel = std::move(nameLabel),
          namespaceLabel = std::move(namespaceLabel)](const cache::ObjectPtr& o) {
    const std::string* name = cache::labelOf(*o, nameLabel);
    if (!name || name->empty()) return std::vector<Request>{};
    std::string ns;
    if (namespaceLabel.empty()) {
      ns = kube::ObjectKey::of(*o).ns;
    } else if (const std::string* v = cache::labelOf(*o, namespaceLabel)) {
      ns = *v;
    }
    return std::vector<Request>{Request{std::move(ns), *name}};
  };
}

MapFunc requestForOwnerAnnotation(std::string annotation) {
  return [annotation = std::move(annotation)](const cache::ObjectPtr& o) {
    const std::string* value = cache::annotationOf(*o, annotation);
    if (!value) return std::vector<Request>{};
    auto slash = value->find('/');
    Request r = slash == std::string::npos
                    ? Request{"", *value}
                    : Request{value->substr(0, slash), value->substr(slash + 1)};
    if (r.name.empty() || r.name.find('/') != std::string::npos) return std::vector<Request>{};
    return std::vector<Request>{std::move(r)};
  };
}

InitialPriority lowPriority() {
  return [](const cache::ObjectPtr&) { return workqueue::kLowPriority; };
}

InitialPriority unobservedChangesFirst() {
  return [](const cache::ObjectPtr& o) {
    const auto& object = *o;
    auto md = object.find("metadata");
    if (md == object.end() || !md->is_object()) return workqueue::kNormalPriority;
    if (auto d = md->find("deletionTimestamp"); d != md->end() && !d->is_null())
      return workqueue::kNormalPriority;
    auto gen = md->find("generation");
    if (gen == md->end() || !gen->is_number_integer()) return workqueue::kLowPriority;
    auto status = object.find("status");
    if (status == object.end() || !status->is_object()) return workqueue::kNormalPriority;
    auto observed = status->find("observedGeneration");
    if (observed == status->end() || !observed->is_number_integer() ||
        observed->get<std::int64_t>() < gen->get<std::int64_t>())
      return workqueue::kNormalPriority;
    return workqueue::kLowPriority;
  };
}

MapFunc requestForOwnerReference(std::string ownerGroup, std::string ownerKind, bool controllerOnly,
                                 bool ownerNamespaced) {
  return [ownerGroup = std::move(ownerGroup), ownerKind = std::move(ownerKind), controllerOnly,
          ownerNamespaced](const cache::ObjectPtr& o) {
    std::vector<Request> out;
    auto m = o->find("metadata");
    if (m == o->end() || !m->is_object()) return out;
    auto refs = m->find("ownerReferences");
    if (refs == m->end() || !refs->is_array()) return out;
    std::string ns = ownerNamespaced ? m->value("namespace", "") : "";
    for (const auto& ref : *refs) {
      if (!ref.is_object() || ref.value("kind", "") != ownerKind) continue;
      std::string apiVersion = ref.value("apiVersion", "");
      auto slash = apiVersion.find('/');
      std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
      if (group != ownerGroup) continue;
      if (controllerOnly && !ref.value("controller", false)) continue;
      std::string name = ref.value("name", "");
      if (!name.empty()) out.push_back(Request{ns, std::move(name)});
    }
    return out;
  };
}

}  // namespace rio::runtime
