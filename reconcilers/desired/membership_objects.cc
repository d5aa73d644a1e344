#include "reconcilers/desired/membership_objects.h"

namespace rio::desired {
namespace {

using nlohmann::json;
namespace r = kube::resources;

json rule(json apiGroups, json resources, json verbs, json resourceNames = nullptr) {
  json j = {{"apiGroups", std::move(apiGroups)}, {"resources", std::move(resources)}, {"verbs", std::move(verbs)}};
  if (!resourceNames.is_null()) j["resourceNames"] = std::move(resourceNames);
  return j;
}

const json kRead = {"get", "list", "watch"};
const json kReadWrite = {"get", "list", "watch", "create", "update", "patch", "delete"};

json serviceAccountSubject(const std::string& name, const std::string& ns) {
  return {{"kind", "ServiceAccount"}, {"name", name}, {"namespace", ns}};
}

Manifest binding(const kube::Resource& resource, const Owner& owner, const std::string& name,
                 const std::string& ns, const std::string& roleKind, const std::string& roleName,
                 json subjects) {
  json obj = typed(resource, objectMeta(owner, name, ns));
  obj["roleRef"] = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", roleKind}, {"name", roleName}};
  obj["subjects"] = std::move(subjects);
  return {resource, obj};
}

}  // namespace

Manifest meshNamespace(const MembershipParams& p) {
  return {r::kNamespaces, typed(r::kNamespaces, objectMeta(p.owner, p.meshNamespace, ""))};
}

Manifests membershipRbac(const MembershipParams& p) {
  const std::string& ns = p.meshNamespace;
  Manifests out;

  // istiod's reader: what remote service discovery and workload authentication read; no Secrets.
  out.push_back({r::kServiceAccounts, typed(r::kServiceAccounts, objectMeta(p.owner, kReaderServiceAccount, ns))});
  json reader = typed(r::kClusterRoles, objectMeta(p.owner, kReaderClusterRole, ""));
  reader["rules"] = json::array({
      rule({""}, {"nodes", "pods", "services", "endpoints", "namespaces"}, kRead),
      rule({"discovery.k8s.io"}, {"endpointslices"}, kRead),
      // istiod authenticates remote workloads' tokens against this cluster.
      rule({"authentication.k8s.io"}, {"tokenreviews"}, {"create"}),
      rule({"authorization.k8s.io"}, {"subjectaccessreviews"}, {"create"}),
  });
  out.push_back({r::kClusterRoles, reader});
  out.push_back(binding(r::kClusterRoleBindings, p.owner, kReaderClusterRole, "", "ClusterRole", kReaderClusterRole,
                        json::array({serviceAccountSubject(kReaderServiceAccount, ns)})));

  // The operator's own account: cluster-wide only what the RemoteIstio reconciler touches there.
  out.push_back({r::kServiceAccounts, typed(r::kServiceAccounts, objectMeta(p.owner, kOperatorServiceAccount, ns))});
  json opCluster = typed(r::kClusterRoles, objectMeta(p.owner, kOperatorClusterRole, ""));
  opCluster["rules"] = json::array({
      // Injection labels on user namespaces; re-creating the mesh namespace if someone deleted it.
      rule({""}, {"namespaces"}, {"get", "list", "watch", "create", "patch", "update"}),
      rule({""}, {"nodes"}, kRead),
      rule({"admissionregistration.k8s.io"}, {"mutatingwebhookconfigurations"}, {"get", "list", "watch", "create"}),
      rule({"admissionregistration.k8s.io"}, {"mutatingwebhookconfigurations"}, {"update", "patch", "delete"},
           {"istio-sidecar-injector"}),
      // Read-only view of the RBAC joining created, to report drift.
      rule({"rbac.authorization.k8s.io"}, {"clusterroles", "clusterrolebindings"}, {"get"},
           {kReaderClusterRole, kOperatorClusterRole}),
  });
  out.push_back({r::kClusterRoles, opCluster});
  out.push_back(binding(r::kClusterRoleBindings, p.owner, kOperatorClusterRole, "", "ClusterRole", kOperatorClusterRole,
                        json::array({serviceAccountSubject(kOperatorServiceAccount, ns)})));

  // Everything else happens inside the mesh namespace.
  json opRole = typed(r::kRoles, objectMeta(p.owner, kOperatorRole, ns));
  opRole["rules"] = json::array({
      rule({""}, {"configmaps", "secrets", "services", "endpoints", "serviceaccounts"}, kReadWrite),
      rule({"apps"}, {"deployments"}, kReadWrite),
      rule({"rbac.authorization.k8s.io"}, {"roles", "rolebindings"}, kReadWrite),
      // Token rotation without the bootstrap credentials: only for the two accounts joining made.
      rule({""}, {"serviceaccounts/token"}, {"create"}, {kReaderServiceAccount, kOperatorServiceAccount}),
  });
  out.push_back({r::kRoles, opRole});
  out.push_back(binding(r::kRoleBindings, p.owner, kOperatorRole, ns, "Role", kOperatorRole,
                        json::array({serviceAccountSubject(kOperatorServiceAccount, ns)})));

  json probeRole = typed(r::kRoles, objectMeta(p.owner, kOperatorProbeRole, "default"));
  probeRole["rules"] = json::array({rule({""}, {"services"}, {"get"}, {"kubernetes"})});
  out.push_back({r::kRoles, probeRole});
  out.push_back(binding(r::kRoleBindings, p.owner, kOperatorProbeRole, "default", "Role", kOperatorProbeRole,
                        json::array({serviceAccountSubject(kOperatorServiceAccount, ns)})));
  return out;
}

}  // namespace rio::desired
