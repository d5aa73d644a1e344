// What joining a remote cluster creates there: the mesh namespace, istiod's reader service account
// with a least-privilege ClusterRole (no Secret access at all), and the operator's own service
// account with exactly the rights the RemoteIstio reconciler needs, including minting tokens for
// those two accounts only. Pure functions: parameters in, manifests out.
#pragma once

#include <string>

#include "reconcilers/desired/labels.h"
#include "reconcilers/desired/manifest.h"

namespace rio::desired {

inline constexpr char kReaderServiceAccount[] = "istio-reader-service-account";
inline constexpr char kReaderClusterRole[] = "remote-istio-reader";
inline constexpr char kOperatorServiceAccount[] = "remote-istio-operator";
inline constexpr char kOperatorClusterRole[] = "remote-istio-operator";
inline constexpr char kOperatorRole[] = "remote-istio-operator";
/// The only Role the operator needs outside the mesh namespace: reading the `kubernetes` Service in
/// `default` (to infer the service CIDR when re-probing).
inline constexpr char kOperatorProbeRole[] = "remote-istio-operator-probe";

struct MembershipParams {
  Owner owner;
  std::string meshNamespace = "istio-system";
};

/// The mesh namespace (created only when absent; the reconciler never deletes one it did not create).
Manifest meshNamespace(const MembershipParams& params);
/// Service accounts, roles and bindings, in the order they must be created.
Manifests membershipRbac(const MembershipParams& params);

}  // namespace rio::desired
