// Injection labels on the remote cluster's user namespaces (spec.autoInjectionNamespaces).
//
// Rules (docs/api.md): a listed namespace without `istio-injection` gets `istio-injection=enabled`
// plus the marker `istio.alibabacloud.com/injection-managed=true`; a namespace whose
// `istio-injection` someone else set is left alone (enabled: it counts as labelled; another value:
// a conflict to report, never overwritten); only namespaces carrying the marker are ever
// unlabelled, when they leave the list or the RemoteIstio is deleted. Namespaces that do not exist
// yet are labelled when they appear (the registry's namespace informer triggers a reconcile).
//
// Writes are server-side applies of exactly those two labels with desired::kInjectionFieldManager,
// never forced; taking the labels back is an apply of the same manager without them, so a label a
// user applied too (shared ownership) stays.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/cache/object.h"

namespace rio::reconcilers::remoteistio {

/// What to do with the remote's namespaces. Every list is sorted.
struct NamespaceLabelPlan {
  /// Listed, existing, without istio-injection (or with our marker but the label gone): label them.
  std::vector<std::string> toLabel;
  /// Carrying our marker but no longer listed: take the labels back.
  std::vector<std::string> toUnlabel;
  /// Listed and carrying istio-injection=enabled with our marker.
  std::vector<std::string> labeled;
  /// Listed and carrying istio-injection=enabled that someone else set (left alone, never removed).
  std::vector<std::string> labeledByOthers;
  /// Listed but absent (or terminating): labelled when they appear.
  std::vector<std::string> missing;
  /// Listed, with istio-injection set by someone else to another value: (namespace, value).
  std::vector<std::pair<std::string, std::string>> conflicts;
};

/// The plan for `wanted` (the spec's list; empty while deleting) against the cached `namespaces`.
NamespaceLabelPlan planNamespaceLabels(const std::vector<std::string>& wanted,
                                       const std::vector<cache::ObjectPtr>& namespaces);

/// The apply body that sets the injection label and the marker on `name`.
nlohmann::json labelApply(const std::string& name);
/// The apply body that gives both labels back (the manager's field set becomes empty).
nlohmann::json unlabelApply(const std::string& name);

}  // namespace rio::reconcilers::remoteistio
