// Removing what joining created in a remote cluster when a MeshMembership is deleted: the
// service accounts, roles and bindings of desired::membershipRbac, found by their owner labels
// (label-selected lists, or the known names when a list is not allowed) and deleted only when
// the live object carries this owner's labels. The mesh namespace is kept: other components and
// users' workloads may live there, as `istioctl uninstall` keeps istio-system.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/meta/error.h"
#include "controller/kube/client.h"
#include "reconcilers/desired/membership_objects.h"

namespace rio::reconcilers::membership {

struct CleanupResult {
  std::vector<std::string> deleted;     // "ClusterRole remote-istio-reader", in order
  std::vector<std::string> leftBehind;  // refused by the server (403/401/422), with the reason
  /// Set when the server stopped answering (transport, TLS, timeout, 5xx): cleanup stopped there
  /// and should be retried.
  std::optional<Error> unreachable;
};

/// Deletes the objects joining created for `params.owner`, other objects first and the
/// operator's own account last (deleting its binding ends its rights). Blocking; each request is
/// bounded by the client's timeout.
CleanupResult cleanupRemote(kube::Client& client, const desired::MembershipParams& params);

/// "Kind [namespace/]name" of every object joining creates (for the Event listing what was left
/// behind when the remote cannot be reached). Never includes the mesh namespace.
std::vector<std::string> joinedObjects(const desired::MembershipParams& params);

}  // namespace rio::reconcilers::membership
