#include "reconcilers/membership/prerequisites.h"

#include "api/meta/duration.h"
#include "api/v1beta1/names.h"

namespace rio::reconcilers::membership {

namespace reason = v1beta1::reason;

std::string formatSkew(std::chrono::milliseconds skew) {
  auto abs = skew.count() < 0 ? -skew : skew;
  return meta::formatDuration(std::chrono::duration_cast<std::chrono::seconds>(abs));
}

PrerequisiteReport evaluatePrerequisites(const PrerequisiteInputs& in) {
  PrerequisiteReport report;
  std::vector<std::string> hard;     // messages of hard failures, in reason order
  std::vector<std::string> reasons;  // their reasons
  std::vector<std::string> warnings;
  std::string warningReason;

  if (!in.version.atLeast(kMinMajor, kMinMinor, kMinPatch)) {
    hard.push_back("Kubernetes " + in.version.gitVersion + " is older than 1.10.4, the oldest version the mesh supports: upgrade the cluster");
    reasons.emplace_back(reason::kUnsupportedVersion);
  }
  if (in.clockSkew) {
    auto abs = in.clockSkew->count() < 0 ? -*in.clockSkew : *in.clockSkew;
    if (abs > in.maxClockSkew) {
      hard.push_back("the remote clock is " + formatSkew(*in.clockSkew) +
                     (in.clockSkew->count() < 0 ? " behind" : " ahead of") +
                     " the operator's (at most " + meta::formatDurationShort(in.maxClockSkew) +
                     " allowed): tokens and certificates cannot be trusted; fix the clocks (NTP)");
      reasons.emplace_back(reason::kClockSkew);
    }
  }
  for (const auto& o : in.overlaps) {
    hard.push_back(describe(o, in.cluster));
    if (reasons.empty() || reasons.back() != reason::kCIDROverlap) reasons.emplace_back(reason::kCIDROverlap);
  }
  if (in.readyWorkers < in.minWorkerNodes) {
    std::string m = std::to_string(in.readyWorkers) + " ready worker node" + (in.readyWorkers == 1 ? "" : "s") +
                    ", " + std::to_string(in.minWorkerNodes) + " wanted (spec.prerequisites.minWorkerNodes)";
    if (in.requireMinWorkerNodes) {
      hard.push_back(m);
      reasons.emplace_back(reason::kTooFewWorkerNodes);
    } else {
      warnings.push_back("warning: " + m);
      warningReason = reason::kTooFewWorkerNodes;
    }
  }
  if (!in.serviceCidrKnown) {
    warnings.push_back("warning: the service CIDR could not be discovered; set spec.network.serviceCIDR so overlaps can be checked");
  }

  std::string message;
  auto append = [&](const std::string& part) {
    if (!message.empty()) message += "; ";
    message += part;
  };
  if (!hard.empty()) {
    report.met = false;
    report.reason = reasons.front();
    for (const auto& h : hard) append(h);
    for (const auto& w : warnings) append(w);
    report.message = message;
    return report;
  }
  report.reason = warningReason.empty() ? std::string(reason::kReconciled) : warningReason;
  append("Kubernetes " + in.version.gitVersion + ", " + std::to_string(in.readyWorkers) + " ready worker node" +
         (in.readyWorkers == 1 ? "" : "s") + ", no CIDR overlap with other members");
  for (const auto& w : warnings) append(w);
  report.message = message;
  return report;
}

}  // namespace rio::reconcilers::membership
