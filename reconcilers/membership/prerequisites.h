// The prerequisite checks of the reference procedure, as one pure function: Kubernetes >= 1.10.4,
// enough ready worker nodes, CIDRs that overlap no other member's, and an acceptable clock skew.
// Hard failures block every install into the remote cluster; a soft one (too few workers when
// spec.prerequisites.requireMinWorkerNodes is false, an unknown service CIDR) is a warning in
// the PrerequisitesMet message.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "controller/kube/discovery.h"
#include "reconcilers/membership/network.h"

namespace rio::reconcilers::membership {

/// The oldest remote Kubernetes the operator joins (the reference procedure's minimum).
inline constexpr int kMinMajor = 1, kMinMinor = 10, kMinPatch = 4;

struct PrerequisiteInputs {
  std::string cluster;
  kube::ServerVersion version;
  int readyWorkers = 0;
  int minWorkerNodes = 3;
  bool requireMinWorkerNodes = false;
  std::optional<std::chrono::milliseconds> clockSkew;  // remote minus local
  std::chrono::milliseconds maxClockSkew{std::chrono::minutes(5)};
  std::vector<Overlap> overlaps;  // with members this one must yield to
  bool serviceCidrKnown = true;
};

struct PrerequisiteReport {
  bool met = true;     // no hard failure
  std::string reason;  // the PrerequisitesMet condition's reason
  std::string message;
};

/// Evaluates every check and reports them all in one message ("; "-separated). The reason is the
/// first hard failure in the order UnsupportedVersion, ClockSkew, CIDROverlap, TooFewWorkerNodes;
/// without one, TooFewWorkerNodes when that is a warning, else Reconciled. Pure.
PrerequisiteReport evaluatePrerequisites(const PrerequisiteInputs& in);

/// The magnitude of a skew in whole seconds, as Go prints durations: "7m3s", "0s".
std::string formatSkew(std::chrono::milliseconds skew);

}  // namespace rio::reconcilers::membership
