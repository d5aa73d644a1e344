#include "reconcilers/membership/prerequisites.h"

#include <catch2/catch.hpp>

using namespace rio;
using namespace rio::reconcilers::membership;
using namespace std::chrono_literals;

namespace {

PrerequisiteInputs healthy() {
  PrerequisiteInputs in;
  in.cluster = "cn-a";
  in.version = *kube::ServerVersion::fromJson({{"gitVersion", "v1.28.3"}});
  in.readyWorkers = 3;
  in.clockSkew = 300ms;
  return in;
}

}  // namespace

TEST_CASE("Prerequisites: a healthy cluster meets them with a stable message", "[membership][prerequisites]") {
  auto r = evaluatePrerequisites(healthy());
  CHECK(r.met);
  CHECK(r.reason == "Reconciled");
  CHECK(r.message == "Kubernetes v1.28.3, 3 ready worker nodes, no CIDR overlap with other members");
}

TEST_CASE("Prerequisites: Kubernetes older than 1.10.4 is refused, 1.10.4 itself is fine", "[membership][prerequisites]") {
  auto in = healthy();
  in.version = *kube::ServerVersion::fromJson({{"gitVersion", "v1.10.3"}});
  auto r = evaluatePrerequisites(in);
  CHECK_FALSE(r.met);
  CHECK(r.reason == "UnsupportedVersion");
  CHECK(r.message.find("Kubernetes v1.10.3 is older than 1.10.4") == 0);
  in.version = *kube::ServerVersion::fromJson({{"gitVersion", "v1.10.4-eks-abc"}});
  CHECK(evaluatePrerequisites(in).met);
}

TEST_CASE("Prerequisites: too few workers warn, or fail when the spec requires them", "[membership][prerequisites]") {
  auto in = healthy();
  in.readyWorkers = 1;
  auto warn = evaluatePrerequisites(in);
  CHECK(warn.met);
  CHECK(warn.reason == "TooFewWorkerNodes");
  CHECK(warn.message.find("warning: 1 ready worker node, 3 wanted (spec.prerequisites.minWorkerNodes)") != std::string::npos);
  in.requireMinWorkerNodes = true;
  auto hard = evaluatePrerequisites(in);
  CHECK_FALSE(hard.met);
  CHECK(hard.reason == "TooFewWorkerNodes");
}

TEST_CASE("Prerequisites: clock skew beyond the limit fails in either direction", "[membership][prerequisites]") {
  auto in = healthy();
  in.clockSkew = -7min - 3s;
  auto r = evaluatePrerequisites(in);
  CHECK_FALSE(r.met);
  CHECK(r.reason == "ClockSkew");
  CHECK(r.message.find("the remote clock is 7m3s behind the operator's (at most 5m allowed)") == 0);
  in.clockSkew = 4min;
  CHECK(evaluatePrerequisites(in).met);
  in.clockSkew.reset();  // no Date header: nothing to judge
  CHECK(evaluatePrerequisites(in).met);
}

TEST_CASE("Prerequisites: every failure is listed, the reason is the first in priority", "[membership][prerequisites]") {
  auto in = healthy();
  in.readyWorkers = 0;
  in.requireMinWorkerNodes = true;
  in.overlaps = {{"pod", "10.1.0.0/16", "cn-b", "istio-system/cn-b", "pod", "10.1.0.0/24"}};
  in.serviceCidrKnown = false;
  auto r = evaluatePrerequisites(in);
  CHECK_FALSE(r.met);
  CHECK(r.reason == "CIDROverlap");
  CHECK(r.message ==
        "pod CIDR 10.1.0.0/16 of cluster cn-a overlaps pod CIDR 10.1.0.0/24 of cluster cn-b (MeshMembership "
        "istio-system/cn-b); 0 ready worker nodes, 3 wanted (spec.prerequisites.minWorkerNodes); warning: the "
        "service CIDR could not be discovered; set spec.network.serviceCIDR so overlaps can be checked");
}
