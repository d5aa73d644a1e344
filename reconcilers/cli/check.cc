// check: a doctor in the manner of `linkerd mc check`, against the control plane. For each
// MeshMembership: credentials and their expiry, the remote's reachability and version, ready
// worker nodes, CIDR overlaps across all members, status conditions, istiod's remote secret and
// the shared trust root. Read-only; remote requests use the operator's own credentials (else the
// bootstrap kubeconfig) with a short timeout. No token or key is ever printed.
#include <chrono>
#include <optional>

#include "api/meta/duration.h"
#include "api/meta/time.h"
#include "api/v1beta1/mesh_membership.h"
#include "controller/kube/discovery.h"
#include "controller/kube/kubeconfig.h"
#include "controller/kube/resource.h"
#include "reconcilers/cli/commands.h"
#include "reconcilers/desired/remote_secret.h"
#include "reconcilers/desired/trust.h"
#include "reconcilers/membership/credentials.h"
#include "reconcilers/membership/network.h"
#include "reconcilers/membership/prerequisites.h"
#include "reconcilers/membership/probe.h"
#include "reconcilers/remoteistio/hub_pki.h"
#include "reconcilers/resources.h"

namespace rio::cli {
namespace {

using nlohmann::json;
namespace r = kube::resources;
namespace mem = reconcilers::membership;

/// Tokens with less than this fraction of their lifetime left are a warning.
constexpr double kWarnFractionLeft = 0.2;

std::vector<FlagSpec> checkFlags() {
  return withGlobals({
      {"timeout", 0, false, "DURATION", "Bound on each request to a remote cluster", "5s"},
  });
}

std::string checkHelp(const std::string& program) {
  return "Check the mesh memberships in the CONTROL PLANE (-n, default istio-system): for each\n"
         "MeshMembership (or the one named), its credentials and their expiry, whether the remote\n"
         "API server answers (with the operator's credentials, else the bootstrap kubeconfig) and\n"
         "runs Kubernetes >= 1.10.4, ready worker nodes, CIDR overlaps with every other member,\n"
         "the Ready and PrerequisitesMet conditions, istiod's remote secret, and the shared trust\n"
         "root (when RemoteIstio security is in use).\n"
         "\n"
         "Lines start with ✓ (ok), ! (warning) or ✗ (failure). Exit code 1 when any check fails.\n"
         "\n"
         "Usage:\n  " +
         program + " check [NAME] [flags]\n\n" + flagsHelp(checkFlags());
}

enum class Mark { kOk, kWarn, kFail, kSkip };

struct Report {
  std::ostream& out;
  int ok = 0, warnings = 0, failures = 0;

  void line(Mark mark, const std::string& text) {
    switch (mark) {
      case Mark::kOk:
        ++ok;
        out << "  \u2713 ";
        break;
      case Mark::kWarn:
        ++warnings;
        out << "  ! ";
        break;
      case Mark::kFail:
        ++failures;
        out << "  \u2717 ";
        break;
      case Mark::kSkip:
        out << "  - ";
        break;
    }
    out << text << "\n";
  }
};

std::string statusOf(const json& mm, std::string_view type, std::string* reason,
                     std::string* message) {
  const json status = mm.value("status", json::object());
  if (!status.is_object()) return {};
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.is_object() && c.value("type", "") == type) {
      *reason = c.value("reason", "");
      *message = c.value("message", "");
      return c.value("status", "");
    }
  }
  return {};
}

/// "23h59m", "59m", "45s": precise enough for an expiry, short enough to read.
std::string humanDuration(std::chrono::seconds d) {
  const auto h = std::chrono::duration_cast<std::chrono::hours>(d);
  const auto m = std::chrono::duration_cast<std::chrono::minutes>(d - h);
  if (h.count() > 0) return std::to_string(h.count()) + "h" + std::to_string(m.count()) + "m";
  if (m.count() > 0) return std::to_string(m.count()) + "m";
  return std::to_string(d.count()) + "s";
}

/// The PEM root a RemoteIstio of `cluster` uses, when it uses one: nullopt with `why` set when
/// the trust check does not apply.
std::optional<std::string> hubRoot(kube::Client& hub, const std::string& ns,
                                   const std::string& cluster, std::string& why) {
  auto ri = hub.getIfExists(reconcilers::kRemoteIstios, {ns, cluster});
  if (!ri) {
    why = "cannot read RemoteIstio " + ns + "/" + cluster + ": " + ri.error().message();
    return std::nullopt;
  }
  if (!*ri) {
    why = "no RemoteIstio " + ns + "/" + cluster + " (RemoteIstio security not in use)";
    return std::nullopt;
  }
  const json spec = (**ri).value("spec", json::object());
  const json cacerts = spec.value("security", json::object()).value("cacerts", json::object());
  if (cacerts.is_object() && cacerts.value("enabled", true) == false) {
    why = "RemoteIstio " + ns + "/" + cluster + " does not manage cacerts";
    return std::nullopt;
  }
  std::string secretName = reconcilers::remoteistio::kMeshRootSecret;
  if (cacerts.is_object() && cacerts.contains("rootSecretRef")) {
    secretName = cacerts["rootSecretRef"].value("name", secretName);
  }
  auto secret = hub.getIfExists(r::kSecrets, {ns, secretName});
  if (!secret || !*secret) {
    why = "no mesh root Secret " + ns + "/" + secretName + " in the control plane yet";
    return std::nullopt;
  }
  auto pem = mem::secretData(**secret, reconcilers::remoteistio::kRootCertKey);
  if (!pem) {
    why = "Secret " + ns + "/" + secretName + " has no " + reconcilers::remoteistio::kRootCertKey;
    return std::nullopt;
  }
  return pem;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

struct Checker {
  Session& session;
  kube::Client& hub;
  std::string ns;
  std::chrono::milliseconds timeout;
  Report& report;
  std::vector<json> all;  // every MeshMembership, for overlaps

  void checkMember(const json& object) {
    const auto decoded = v1beta1::decodeMeshMembership(object);
    const v1beta1::MeshMembership& mm = decoded.object;
    const std::string cluster = mem::clusterNameOf(object);
    const std::string name = mm.metadata.name;
    report.out << "Cluster " << cluster << " (MeshMembership " << ns << "/" << name << ")\n";
    if (!decoded.ok()) report.line(Mark::kFail, decoded.message());
    const auto now = std::chrono::system_clock::now();

    // ---- credentials
    const std::string bootstrapName = mm.spec.bootstrapSecretRef.name;
    const std::string bootstrapKey =
        mm.spec.bootstrapSecretRef.key.value_or(std::string(v1beta1::kDefaultBootstrapSecretKey));
    auto bootstrap = hub.getIfExists(r::kSecrets, {ns, bootstrapName});
    std::optional<std::string> bootstrapKubeconfig;
    if (bootstrap && *bootstrap) bootstrapKubeconfig = mem::secretData(**bootstrap, bootstrapKey);
    const std::string credsName = desired::operatorCredentialsSecretName(cluster);
    auto credsSecret = hub.getIfExists(r::kSecrets, {ns, credsName});
    std::optional<mem::StoredCredentials> stored;
    bool credsExpired = false;
    if (credsSecret && *credsSecret) {
      auto s = mem::readStoredCredentials(**credsSecret);
      if (!s) {
        report.line(Mark::kFail, "operator credentials Secret " + ns + "/" + credsName +
                                     " unreadable: " + s.error().message());
      } else if (!s->timing) {
        report.line(Mark::kWarn, "operator credentials Secret " + ns + "/" + credsName +
                                     " has no expiry annotation (" + mem::kExpiresAtAnnotation +
                                     ")");
        stored = std::move(*s);
      } else {
        const auto& t = *s->timing;
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(t.expiresAt - now);
        const auto life = t.lifetime();
        const std::string at = meta::formatTime(t.expiresAt);
        if (left <= std::chrono::seconds(0)) {
          credsExpired = true;
          report.line(Mark::kFail, "operator credentials Secret " + ns + "/" + credsName +
                                       " expired at " + at + " (is the operator running?)");
        } else if (life.count() > 0 &&
                   static_cast<double>(left.count()) < kWarnFractionLeft * life.count()) {
          report.line(Mark::kWarn, "operator credentials expire soon: " + humanDuration(left) +
                                       " left of " + humanDuration(life) + " (" + at +
                                       "; the operator renews them at 80%: is it running?)");
        } else {
          report.line(Mark::kOk,
                      "operator credentials valid for " + humanDuration(left) + " (" + at + ")");
        }
        stored = std::move(*s);
      }
    }
    if (bootstrapKubeconfig) {
      report.line(Mark::kOk, "bootstrap Secret " + ns + "/" + bootstrapName + " present");
    } else if (stored && !credsExpired) {
      report.line(mm.status.bootstrapSecretNoLongerNeeded ? Mark::kOk : Mark::kWarn,
                  "bootstrap Secret " + ns + "/" + bootstrapName + " (key " + bootstrapKey +
                      ") absent" +
                      (mm.status.bootstrapSecretNoLongerNeeded
                           ? ": not needed any more, the operator has its own credentials"
                           : ": it is needed again to repair the remote or to remove everything "
                             "on deletion"));
    } else {
      report.line(Mark::kFail, "no credentials for the remote: bootstrap Secret " + ns + "/" +
                                   bootstrapName + " (key " + bootstrapKey +
                                   ") is missing and the operator has none of its own yet");
    }
    if (!stored && bootstrapKubeconfig) {
      report.line(Mark::kWarn, "operator credentials Secret " + ns + "/" + credsName +
                                   " not written yet (the join is in progress or failing)");
    }

    // ---- reachability, version, nodes: the operator's credentials, else the bootstrap ones.
    kube::ClientPtr remote;
    std::string via;
    if (stored && !credsExpired) {
      via = "the operator's credentials";
      auto rc = mem::restConfigFor(stored->endpoint, stored->token,
                                   "Secret " + ns + "/" + credsName, timeout);
      if (auto c = session.clientFor(rc)) remote = *c;
    }
    if (!remote && bootstrapKubeconfig) {
      via = "the bootstrap kubeconfig";
      auto rc = kube::restConfigFromUntrustedKubeconfig(*bootstrapKubeconfig,
                                                        "Secret " + ns + "/" + bootstrapName);
      if (!rc) {
        report.line(Mark::kFail, "bootstrap kubeconfig unusable: " + rc.error().message());
      } else {
        rc->timeout = timeout;
        if (auto c = session.clientFor(*rc)) {
          remote = *c;
        } else {
          report.line(Mark::kFail, "bootstrap kubeconfig unusable: " + c.error().message());
        }
      }
    }
    if (!remote) {
      report.line(Mark::kFail, "remote API server not checked: no usable credentials");
    } else {
      const auto start = std::chrono::steady_clock::now();
      auto answer = remote->getPath("/version");
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      auto version = answer ? kube::ServerVersion::fromJson(*answer)
                            : Expected<kube::ServerVersion>(fail(answer.error()));
      if (!version) {
        report.line(Mark::kFail, "remote API server " + remote->server() + " unreachable with " +
                                     via + ": " + version.error().message());
      } else {
        report.line(Mark::kOk, "remote API server " + remote->server() + " reachable with " + via +
                                   " (" + std::to_string(took.count()) + "ms)");
        const std::string minimum = "v" + std::to_string(mem::kMinMajor) + "." +
                                    std::to_string(mem::kMinMinor) + "." +
                                    std::to_string(mem::kMinPatch);
        if (version->atLeast(mem::kMinMajor, mem::kMinMinor, mem::kMinPatch)) {
          report.line(Mark::kOk, "Kubernetes " + version->gitVersion + " (>= " + minimum + ")");
        } else {
          report.line(Mark::kFail,
                      "Kubernetes " + version->gitVersion + " is older than " + minimum);
        }
        auto nodes = mem::probeNodes(*remote);
        const int wanted = mm.minWorkerNodes();
        if (!nodes) {
          report.line(Mark::kWarn, "cannot list nodes: " + nodes.error().message());
        } else if (nodes->readyWorkers >= wanted) {
          report.line(Mark::kOk, std::to_string(nodes->readyWorkers) + " ready worker nodes (" +
                                     std::to_string(wanted) + " wanted)");
        } else {
          report.line(mm.requireMinWorkerNodes() ? Mark::kFail : Mark::kWarn,
                      "only " + std::to_string(nodes->readyWorkers) + " ready worker nodes, " +
                          std::to_string(wanted) + " wanted");
        }
      }
    }

    // ---- CIDR overlaps with every other member.
    std::vector<mem::MemberNetworks> others;
    for (const auto& o : all) {
      if (kube::ObjectKey::of(o) == kube::ObjectKey::of(object)) continue;
      others.push_back(mem::networksOf(o));
    }
    const auto self = mem::networksOf(object);
    const auto overlaps = mem::findOverlaps(self, others);
    if (self.podCIDRs.empty() && self.serviceCIDR.empty() && self.vpcCIDRs.empty()) {
      report.line(Mark::kWarn, "CIDRs unknown yet (not in spec.network nor status)");
    } else if (overlaps.empty()) {
      report.line(Mark::kOk,
                  "no CIDR overlap with the other " + std::to_string(others.size()) + " member(s)");
    }
    for (const auto& o : overlaps) report.line(Mark::kFail, mem::describe(o, cluster));

    // ---- conditions
    for (std::string_view type :
         {v1beta1::condition::kReady, v1beta1::condition::kPrerequisitesMet}) {
      std::string reason, message;
      const std::string status = statusOf(object, type, &reason, &message);
      const std::string t(type);
      if (status == "True") {
        report.line(Mark::kOk, t + "=True");
      } else if (status == "False") {
        report.line(Mark::kFail,
                    t + "=False (" + reason + ")" + (message.empty() ? "" : ": " + message));
      } else {
        report.line(Mark::kWarn, t + " not reported yet" +
                                     (status.empty() ? "" : " (" + status + ", " + reason + ")"));
      }
    }

    // ---- istiod's remote secret
    const std::string remoteSecret = desired::remoteSecretName(cluster);
    auto rs = hub.getIfExists(r::kSecrets, {ns, remoteSecret});
    if (!rs) {
      report.line(Mark::kFail, "cannot read istiod's remote secret " + ns + "/" + remoteSecret +
                                   ": " + rs.error().message());
    } else if (!*rs) {
      report.line(Mark::kFail, "istiod's remote secret " + ns + "/" + remoteSecret +
                                   " for cluster " + cluster + " is missing");
    } else {
      const json labels = (**rs)["metadata"].value("labels", json::object());
      if (labels.value(desired::kMultiClusterLabel, "") != "true") {
        report.line(Mark::kFail, "remote secret " + ns + "/" + remoteSecret + " lacks label " +
                                     desired::kMultiClusterLabel + "=\"true\": istiod ignores it");
      } else if (!mem::secretData(**rs, cluster)) {
        report.line(Mark::kFail,
                    "remote secret " + ns + "/" + remoteSecret + " has no key " + cluster);
      } else {
        report.line(Mark::kOk, "istiod's remote secret " + ns + "/" + remoteSecret + " present");
      }
    }

    // ---- shared trust root
    std::string why;
    auto root = hubRoot(hub, ns, cluster, why);
    if (!root) {
      report.line(Mark::kSkip, "trust root not checked: " + why);
    } else if (!remote) {
      report.line(Mark::kWarn, "trust root not checked: the remote cannot be reached");
    } else {
      const std::string meshNs = mm.meshNamespace();
      auto cacerts = remote->getIfExists(r::kSecrets, {meshNs, desired::kCacertsSecret});
      if (!cacerts) {
        report.line(Mark::kWarn, "cannot read the remote's Secret " + meshNs + "/" +
                                     desired::kCacertsSecret + ": " + cacerts.error().message());
      } else if (!*cacerts) {
        report.line(Mark::kFail, "the remote has no Secret " + meshNs + "/" +
                                     desired::kCacertsSecret +
                                     ": workloads will not share the mesh root");
      } else {
        auto remoteRoot = mem::secretData(**cacerts, reconcilers::remoteistio::kRootCertKey);
        if (remoteRoot && trimmed(*remoteRoot) == trimmed(*root)) {
          report.line(Mark::kOk, "the remote's cacerts share the control plane's mesh root");
        } else {
          report.line(Mark::kFail, "the remote's Secret " + meshNs + "/" + desired::kCacertsSecret +
                                       " has a different root-cert.pem than the control plane");
        }
      }
    }
    report.out << "\n";
  }
};

}  // namespace

int runCheck(const Invocation& inv) {
  const auto specs = checkFlags();
  auto parsed = parseArgs(inv.args, specs);
  if (!parsed) return inv.usage("check", parsed.error().message());
  if (parsed->help) {
    inv.out << checkHelp(inv.program);
    return kExitOk;
  }
  if (parsed->positionals.size() > 1) return inv.usage("check", "check takes at most one NAME");
  auto timeout = meta::parseDuration(parsed->get("timeout", specs));
  if (!timeout || timeout->count() <= 0) {
    return inv.usage("check", "flag --timeout takes a positive duration such as 5s, not \"" +
                                  parsed->get("timeout", specs) + "\"");
  }
  const Globals globals = globalsOf(*parsed, specs);

  Session session;
  auto hub = session.connect(globals, std::chrono::seconds(15));
  if (!hub) return inv.fail("control plane: " + hub.error().message());
  auto list = (*hub)->listAll(reconcilers::kMeshMemberships, globals.ns);
  if (!list) {
    return inv.fail("list MeshMemberships in " + globals.ns + ": " + list.error().message());
  }
  std::vector<json> all;
  for (const auto& item : (*list)["items"]) all.push_back(item);
  std::vector<json> selected;
  if (parsed->positionals.empty()) {
    selected = all;
  } else {
    for (const auto& item : all) {
      if (item["metadata"].value("name", "") == parsed->positionals.front())
        selected.push_back(item);
    }
    if (selected.empty()) {
      return inv.fail("MeshMembership " + globals.ns + "/" + parsed->positionals.front() +
                      " not found");
    }
  }
  if (selected.empty()) {
    inv.out << "no MeshMembership in namespace " << globals.ns << ": nothing to check\n";
    return kExitOk;
  }
  Report report{inv.out};
  Checker checker{session,    **hub,
                  globals.ns, std::chrono::duration_cast<std::chrono::milliseconds>(*timeout),
                  report,     all};
  for (const auto& mm : selected) checker.checkMember(mm);
  inv.out << "Summary: " << selected.size() << " cluster(s), " << report.ok << " passed, "
          << report.warnings << " warning(s), " << report.failures << " failed\n";
  if (report.failures > 0) {
    inv.out << "\u2717 check failed\n";
    return kExitFailure;
  }
  inv.out << "\u2713 check passed\n";
  return kExitOk;
}

}  // namespace rio::cli
