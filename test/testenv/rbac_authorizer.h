// The RBAC authorizer behind makeRbacAuthorizer() (auth.h), and the pieces the API server needs
// around it: the bootstrap policy every cluster has, the Forbidden message wording, rule
// resolution for a user (k8s.io/kubernetes/pkg/registry/rbac/validation DefaultRuleResolver) and
// the update-time helpers of the escalation check.
//
// Everything here reads the cluster's RBAC objects through an RbacObjectsFn, so a binding written a
// moment ago is in effect for the next request, as with a real server once its informers have
// caught up. The authorizer given an RbacVersionFn keeps the rules it resolved for a user in a
// namespace until that version changes (the API server's store bumps it on every RBAC write).
// Thread-safe when the RbacObjectsFn is.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/testenv/auth.h"
#include "test/testenv/rbac_rules.h"

namespace rio::testenv {

inline constexpr std::string_view kGroupMasters = "system:masters";
inline constexpr std::string_view kGroupAuthenticated = "system:authenticated";
inline constexpr std::string_view kGroupServiceAccounts = "system:serviceaccounts";
inline constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io";

/// The default ClusterRoles of kube-apiserver's bootstrap policy that matter to ordinary callers:
/// `cluster-admin`, `system:discovery`, `system:basic-user`, `system:public-info-viewer`, as
/// rbac.authorization.k8s.io/v1 objects (labels `kubernetes.io/bootstrapping: rbac-defaults`).
/// The API server may store them so that `kubectl get clusterrole` shows them.
std::vector<nlohmann::json> bootstrapClusterRoles();
/// The ClusterRoleBindings that bind them: cluster-admin to `system:masters`, the other three to
/// `system:authenticated` (public-info-viewer also to `system:unauthenticated`).
std::vector<nlohmann::json> bootstrapClusterRoleBindings();

/// `objects` plus the bootstrap policy: a bootstrap ClusterRole/ClusterRoleBinding is added
/// unless `objects` already has one of that name (a stored copy wins, as when a real cluster's
/// admin edits a default role). The authorizer and checkEscalation() use this view.
RbacObjectsFn withBootstrapPolicy(RbacObjectsFn objects);

/// kube-apiserver's Forbidden text for a denied request (responsewriters.forbiddenMessage, with
/// `&`, `<`, `>` escaped as the server does):
///   User "u" cannot list resource "secrets" in API group "" in the namespace "demo"
///   User "u" cannot get resource "deployments/status" in API group "apps" at the cluster scope
///   User "u" cannot get path "/metrics"
std::string forbiddenMessage(const UserInfo& user, const Attributes& attributes);

/// The Status message a real server sends for a denial: the qualified resource and name in
/// front of `reason` (`secrets "s1" is forbidden: User ...`, `forbidden: User ... path ...` for
/// non-resource requests).
std::string forbiddenStatusMessage(const Attributes& attributes, const std::string& reason);

/// Rules that apply to `user` in `ns` ("" = cluster-wide only), and the errors met while
/// resolving them (a binding naming a missing role). Rules come from ClusterRoleBindings, then
/// RoleBindings of `ns`; aggregated ClusterRoles contribute the rules of the ClusterRoles their
/// selectors match, evaluated live.
struct ResolvedRules {
  std::vector<rbac::PolicyRule> rules;
  std::vector<std::string> errors;
  /// utilerrors.NewAggregate(errors).Error(): "" / the one error / "[a, b]".
  std::string aggregateError() const;
};

/// How NotFound reads in resolution errors: the authorizer's informer listers say
/// `clusterrole.rbac.authorization.k8s.io "x" not found`, the registry used by the escalation
/// check says `clusterroles.rbac.authorization.k8s.io "x" not found`.
enum class NotFoundStyle { kLister, kRegistry };

/// DefaultRuleResolver.RulesFor over `objects` (which should include the bootstrap policy).
ResolvedRules resolveRules(const UserInfo& user, const std::string& ns,
                           const RbacObjectsFn& objects,
                           NotFoundStyle style = NotFoundStyle::kLister);

/// The effective rules of a ClusterRole object: its `rules`, or for one with an aggregationRule
/// the union of the rules of every other ClusterRole a selector matches (as the aggregation
/// controller would have written them).
std::vector<rbac::PolicyRule> clusterRoleRules(const nlohmann::json& clusterRole,
                                               const std::vector<nlohmann::json>& allClusterRoles);

/// rbacregistry.IsOnlyMutatingGCFields for JSON objects: true when `updated` differs from
/// `previous` only in metadata that the garbage collector or the server manages
/// (ownerReferences, finalizers, managedFields, resourceVersion, generation, selfLink, uid,
/// creationTimestamp). Such updates skip the escalation check.
bool isOnlyMutatingGcFields(const nlohmann::json& previous, const nlohmann::json& updated);

/// checkEscalation() for an update: `previous` is the stored object (nullptr for a create). An
/// update that only touches GC fields is allowed; `escalate` is checked against the object's name
/// (a create has no name in its request, so only an unrestricted `escalate` grant counts); a
/// ClusterRole that has or had an aggregationRule needs full cluster-admin rights.
std::string checkEscalation(Authorizer& authorizer, const UserInfo& user,
                            const nlohmann::json& object, const nlohmann::json* previous,
                            const RbacObjectsFn& objects);

}  // namespace rio::testenv
