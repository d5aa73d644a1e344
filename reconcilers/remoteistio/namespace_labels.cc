#include "reconcilers/remoteistio/namespace_labels.h"

#include <algorithm>
#include <map>
#include <set>

#include "reconcilers/desired/labels.h"

namespace rio::reconcilers::remoteistio {
namespace {

using nlohmann::json;

constexpr char kEnabled[] = "enabled";
constexpr char kMarkerValue[] = "true";

struct NamespaceView {
  const std::string* injection = nullptr;  // istio-injection, when set
  bool marked = false;                     // carries our marker
  bool terminating = false;
};

}  // namespace

NamespaceLabelPlan planNamespaceLabels(const std::vector<std::string>& wanted,
                                       const std::vector<cache::ObjectPtr>& namespaces) {
  std::map<std::string, NamespaceView> views;
  for (const auto& ns : namespaces) {
    if (!ns || !ns->is_object()) continue;
    const auto& meta = ns->value("metadata", json::object());
    std::string name = meta.value("name", "");
    if (name.empty()) continue;
    NamespaceView v;
    v.injection = cache::labelOf(*ns, desired::kInjectionLabel);
    const std::string* marker = cache::labelOf(*ns, desired::kInjectionOwnerLabel);
    v.marked = marker && *marker == kMarkerValue;
    v.terminating = meta.contains("deletionTimestamp") ||
                    ns->value("status", json::object()).value("phase", "") == "Terminating";
    views[name] = v;
  }

  NamespaceLabelPlan plan;
  std::set<std::string> want(wanted.begin(), wanted.end());
  for (const auto& name : want) {
    auto it = views.find(name);
    if (it == views.end() || it->second.terminating) {
      plan.missing.push_back(name);
      continue;
    }
    const NamespaceView& v = it->second;
    if (!v.injection) {
      plan.toLabel.push_back(name);
    } else if (*v.injection == kEnabled) {
      (v.marked ? plan.labeled : plan.labeledByOthers).push_back(name);
    } else {
      plan.conflicts.emplace_back(name, *v.injection);
    }
  }
  for (const auto& [name, v] : views) {
    if (v.marked && !want.count(name) && !v.terminating) plan.toUnlabel.push_back(name);
  }
  return plan;
}

json labelApply(const std::string& name) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Namespace"},
      {"metadata",
       {{"name", name},
        {"labels",
         {{desired::kInjectionLabel, kEnabled}, {desired::kInjectionOwnerLabel, kMarkerValue}}}}}};
}

json unlabelApply(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}

}  // namespace rio::reconcilers::remoteistio
