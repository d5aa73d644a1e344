// RBAC v1 policy rules as kube-apiserver evaluates them: matching one request against one rule
// (k8s.io/kubernetes/pkg/apis/rbac/v1 evaluation_helpers.go), and rule coverage for the
// privilege-escalation check (pkg/registry/rbac/validation policy_comparator.go, rule.go).
// Pure functions; no state, safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/testenv/auth.h"

namespace rio::testenv::rbac {

inline constexpr std::string_view kVerbAll = "*";
inline constexpr std::string_view kAPIGroupAll = "*";
inline constexpr std::string_view kResourceAll = "*";
inline constexpr std::string_view kNonResourceAll = "*";

/// One rbac.authorization.k8s.io/v1 PolicyRule.
struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> apiGroups;
  std::vector<std::string> resources;
  std::vector<std::string> resourceNames;
  std::vector<std::string> nonResourceURLs;

  bool operator==(const PolicyRule&) const = default;

  /// Reads a PolicyRule object; missing or malformed fields read as empty lists (a rule the
  /// server would have refused at validation simply matches less). Never throws.
  static PolicyRule fromJson(const nlohmann::json& j);
  /// The v1 JSON shape (empty lists omitted, as `omitempty` does; `verbs` always present).
  nlohmann::json toJson() const;
};

/// Reads `rules` of a Role/ClusterRole object (absent or not a list: no rules).
std::vector<PolicyRule> rulesOf(const nlohmann::json& roleObject);

/// rbac.RuleAllows: does `rule` allow this request? Resource requests match verb, API group,
/// resource (`*`, exact `resource/subresource`, or `*/subresource`) and resource name (a rule with
/// resourceNames needs a request naming one of them, so it never matches list/create without a
/// name); non-resource requests match verb and URL (exact, `*`, or a prefix ending in `*`).
bool ruleAllows(const Attributes& request, const PolicyRule& rule);

/// Splits a rule into rules of one group, one resource, one verb (and one name), or one URL and
/// one verb (BreakdownRule).
std::vector<PolicyRule> breakdownRule(const PolicyRule& rule);

/// Whether `owner` covers the single-valued `subRule` (ruleCovers of the escalation check).
bool ruleCovers(const PolicyRule& owner, const PolicyRule& subRule);

/// The broken-down parts of `servantRules` that no rule in `ownerRules` covers (Covers); empty
/// means the owner holds everything the servant rules grant.
std::vector<PolicyRule> uncoveredRules(const std::vector<PolicyRule>& ownerRules,
                                       const std::vector<PolicyRule>& servantRules);

/// Merges simple rules (one group, one resource, at most one name, no URLs) that differ only by
/// verb (CompactRules); other rules are kept as they are.
std::vector<PolicyRule> compactRules(const std::vector<PolicyRule>& rules);

/// `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "list"]}` (CompactString), as the
/// escalation error lists missing permissions.
std::string compactString(const PolicyRule& rule);

/// Go's `%q` of a string (strconv.Quote).
std::string goQuote(std::string_view s);
/// Go's `%q` of a []string: `["a" "b"]`.
std::string goQuoteList(const std::vector<std::string>& list);

/// metav1.LabelSelector semantics (matchLabels and matchExpressions with In, NotIn, Exists,
/// DoesNotExist) against an object's `metadata.labels`. An empty selector matches everything; a
/// null or invalid one matches nothing, as LabelSelectorAsSelector does.
bool labelSelectorMatches(const nlohmann::json& selector, const nlohmann::json& labels);

}  // namespace rio::testenv::rbac
