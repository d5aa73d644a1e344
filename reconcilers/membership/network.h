// The address ranges a member occupies and the overlaps between members: pod, service and VPC
// CIDRs of every MeshMembership must be disjoint, or traffic to one cluster's pods could be
// routed to another's. Pure functions on JSON objects from the cache.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rio::reconcilers::membership {

/// A compact, exact form of a set of CIDRs: unparsable entries and networks inside others are
/// dropped, sibling halves are merged into their parent (10.1.0.0/24 + 10.1.1.0/24 ->
/// 10.1.0.0/23), and the result is sorted canonical text. Node pod CIDRs of a large cluster
/// collapse to a few entries this way. Never throws.
std::vector<std::string> collapseCidrs(const std::vector<std::string>& cidrs);

/// The ranges one member occupies, as the other members see them.
struct MemberNetworks {
  std::string cluster;  // cluster name in the mesh
  std::string object;   // "<namespace>/<name>" of its MeshMembership
  std::vector<std::string> podCIDRs;
  std::string serviceCIDR;
  std::vector<std::string> vpcCIDRs;
};

/// The cluster name of a MeshMembership object (spec.clusterName, else metadata.name).
std::string clusterNameOf(const nlohmann::json& meshMembership);

/// A member's ranges from its MeshMembership object: spec.network.podCIDRs/serviceCIDR when
/// set, else what its status reports; spec.network.vpcCIDRs. Missing or odd fields are empty.
MemberNetworks networksOf(const nlohmann::json& meshMembership);

/// One overlap between this member's range and another member's.
struct Overlap {
  std::string kind;  // "pod", "service" or "VPC"
  std::string cidr;
  std::string otherCluster;
  std::string otherObject;
  std::string otherKind;
  std::string otherCidr;
};

/// "pod CIDR 10.1.0.0/16 of cluster a overlaps pod CIDR 10.1.0.0/24 of cluster b
/// (MeshMembership ns/b)": both clusters and both ranges, as the condition message names them.
std::string describe(const Overlap& overlap, const std::string& cluster);

/// Every overlap of `self`'s ranges with those of `others` (members with the same cluster name
/// as `self` are skipped). Ordered by the other member, then kind.
std::vector<Overlap> findOverlaps(const MemberNetworks& self,
                                  const std::vector<MemberNetworks>& others);

}  // namespace rio::reconcilers::membership
