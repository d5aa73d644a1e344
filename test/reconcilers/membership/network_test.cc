#include "reconcilers/membership/network.h"

#include <catch2/catch.hpp>

using namespace rio::reconcilers::membership;
using nlohmann::json;
using Strings = std::vector<std::string>;

TEST_CASE("Network: node pod CIDRs collapse to an exact compact set", "[membership][network]") {
  CHECK(collapseCidrs({"10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"}) == Strings{"10.1.0.0/23", "10.1.2.0/24"});
  CHECK(collapseCidrs({"10.1.3.0/24", "10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"}) == Strings{"10.1.0.0/22"});
  CHECK(collapseCidrs({"10.1.0.0/16", "10.1.5.0/24", "10.1.0.0/16"}) == Strings{"10.1.0.0/16"});
  CHECK(collapseCidrs({"10.20.0.0/16", "10.3.0.0/16", "fd00::/64", "nonsense"}) ==
        Strings{"10.3.0.0/16", "10.20.0.0/16", "fd00::/64"});
  CHECK(collapseCidrs({}).empty());
}

TEST_CASE("Network: a member's ranges come from its spec, else its status", "[membership][network]") {
  json mm = json::parse(R"({"metadata":{"name":"b","namespace":"istio-system"},
    "spec":{"clusterName":"cn-b","network":{"vpcCIDRs":["192.168.0.0/16"],"serviceCIDR":"172.21.0.0/20"}},
    "status":{"podCIDRs":["10.2.0.0/16"],"serviceCIDR":"10.96.0.0/12"}})");
  auto n = networksOf(mm);
  CHECK(n.cluster == "cn-b");
  CHECK(n.object == "istio-system/b");
  CHECK(n.podCIDRs == Strings{"10.2.0.0/16"});
  CHECK(n.serviceCIDR == "172.21.0.0/20");
  CHECK(n.vpcCIDRs == Strings{"192.168.0.0/16"});
  CHECK(clusterNameOf(json::parse(R"({"metadata":{"name":"a"}})")) == "a");
}

TEST_CASE("Network: overlaps name both clusters and both ranges; disjoint members pass", "[membership][network]") {
  MemberNetworks self{"cn-a", "istio-system/cn-a", {"10.1.0.0/16"}, "10.96.0.0/16", {"192.168.0.0/16"}};
  MemberNetworks clash{"cn-b", "istio-system/cn-b", {"10.1.128.0/17"}, "10.97.0.0/16", {"192.168.10.0/24"}};
  MemberNetworks apart{"cn-c", "istio-system/cn-c", {"10.3.0.0/16"}, "10.98.0.0/16", {}};
  MemberNetworks sameName{"cn-a", "other/cn-a", {"10.1.0.0/16"}, "", {}};
  auto overlaps = findOverlaps(self, {clash, apart, sameName});
  REQUIRE(overlaps.size() == 2);
  CHECK(describe(overlaps[0], "cn-a") ==
        "pod CIDR 10.1.0.0/16 of cluster cn-a overlaps pod CIDR 10.1.128.0/17 of cluster cn-b (MeshMembership istio-system/cn-b)");
  CHECK(describe(overlaps[1], "cn-a") ==
        "VPC CIDR 192.168.0.0/16 of cluster cn-a overlaps VPC CIDR 192.168.10.0/24 of cluster cn-b (MeshMembership istio-system/cn-b)");
  CHECK(findOverlaps(self, {apart}).empty());
  // A service range inside another member's pod range is an overlap too.
  MemberNetworks podsOverService{"cn-d", "istio-system/cn-d", {"10.96.0.0/12"}, "", {}};
  auto cross = findOverlaps(self, {podsOverService});
  REQUIRE(cross.size() == 1);
  CHECK(cross[0].kind == "service");
  CHECK(cross[0].otherKind == "pod");
}
