// Which REST resource an object lives in: group, version, plural resource name, kind and scope.
#pragma once

#include <string>
#include <string_view>

namespace rio::kube {

struct Resource {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "configmaps"
  std::string kind;      // "ConfigMap"
  bool namespaced = true;

  /// "v1" for the core group, "apps/v1" otherwise.
  std::string apiVersion() const;
  /// The REST path: "/api/v1/namespaces/<ns>/configmaps/<name>/<subresource>". Cluster-scoped
  /// resources ignore `ns`; an empty `ns` on a namespaced resource lists across namespaces.
  std::string path(std::string_view ns = {}, std::string_view name = {},
                   std::string_view subresource = {}) const;
  /// "configmaps" or "deployments.apps", as kubectl and RBAC messages name it.
  std::string qualifiedName() const;

  bool operator==(const Resource& other) const {
    return group == other.group && version == other.version && resource == other.resource;
  }
};

/// The built-in resources the project uses.
namespace resources {
inline const Resource kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline const Resource kNodes{"", "v1", "nodes", "Node", false};
inline const Resource kPods{"", "v1", "pods", "Pod", true};
inline const Resource kServices{"", "v1", "services", "Service", true};
inline const Resource kEndpoints{"", "v1", "endpoints", "Endpoints", true};
inline const Resource kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
inline const Resource kSecrets{"", "v1", "secrets", "Secret", true};
inline const Resource kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
inline const Resource kEvents{"", "v1", "events", "Event", true};
inline const Resource kEventsV1{"events.k8s.io", "v1", "events", "Event", true};
inline const Resource kDeployments{"apps", "v1", "deployments", "Deployment", true};
inline const Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
inline const Resource kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false};
inline const Resource kClusterRoleBindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false};
inline const Resource kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
inline const Resource kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
inline const Resource kMutatingWebhookConfigurations{"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false};
inline const Resource kCustomResourceDefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false};
inline const Resource kSelfSubjectAccessReviews{"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false};
inline const Resource kTokenReviews{"authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false};
}  // namespace resources

}  // namespace rio::kube
