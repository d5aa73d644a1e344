// join: what the reference procedure did by hand (a kubeconfig Secret, then the CR), as one
// idempotent, declarative step: server-side apply of the bootstrap Secret and the MeshMembership.
#include <chrono>
#include <map>
#include <thread>
#include <tuple>

#include "api/meta/duration.h"
#include "api/v1beta1/mesh_membership.h"
#include "controller/core/base64.h"
#include "controller/kube/resource.h"
#include "reconcilers/cli/commands.h"
#include "reconcilers/resources.h"

namespace rio::cli {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kDefaultWait[] = "5m";

std::vector<FlagSpec> joinFlags() {
  return withGlobals({
      {"remote-kubeconfig", 0, false, "FILE",
       "Kubeconfig of the remote cluster, with rights to set it up (required)", ""},
      {"remote-context", 0, false, "NAME",
       "Context of --remote-kubeconfig to use (default: its current-context)", ""},
      {"mode", 0, false, "Flat|Gateway",
       "How remote sidecars reach the control plane (spec.network.mode; default Flat)", ""},
      {"dry-run", 0, true, "", "Create nothing; with -o, print the objects instead", ""},
      {"output", 'o', false, "yaml|json", "Output format of --dry-run", ""},
      {"wait", 0, false, "[=TIMEOUT]",
       "Wait for Ready, printing condition transitions (default 5m)", ""},
  });
}

std::string joinHelp(const std::string& program) {
  return "Join a remote cluster to the mesh: creates (or updates) in the control plane the "
         "bootstrap\n"
         "Secret NAME-bootstrap holding the remote kubeconfig (key \"kubeconfig\") and the\n"
         "MeshMembership NAME referring to it. The operator then sets the remote up with\n"
         "least-privilege accounts, mints short-lived tokens and writes istiod's remote secret.\n"
         "\n"
         "The remote kubeconfig is made portable first: file references (CA, client certificate\n"
         "and key, tokenFile) are read and inlined; exec and auth-provider users are refused (the\n"
         "operator cannot run them: use a token or client certificate, or generate-kubeconfig).\n"
         "Applying again updates both objects (server-side apply).\n"
         "\n"
         "--dry-run -o yaml|json prints both objects instead, for GitOps. NOTE: the printed "
         "Secret\n"
         "contains the remote cluster's credentials; store it encrypted (sealed/SOPS secrets).\n"
         "\n"
         "Usage:\n  " +
         program +
         " join NAME --remote-kubeconfig FILE [flags]\n"
         "\n"
         "Examples:\n  " +
         program + " join cn-beijing --remote-kubeconfig ./cn-beijing.kubeconfig --wait\n  " +
         program +
         " join cn-hangzhou --remote-kubeconfig ./hz.kubeconfig --mode Gateway --dry-run -o yaml\n"
         "\n" +
         flagsHelp(joinFlags());
}

/// The condition transitions of a MeshMembership, printed as they happen.
class ConditionPrinter {
 public:
  explicit ConditionPrinter(std::ostream& out) : out_(out) {}
  void observe(const json& mm) {
    const json status = mm.value("status", json::object());
    if (!status.is_object()) return;
    for (const auto& c : status.value("conditions", json::array())) {
      if (!c.is_object()) continue;
      auto now =
          std::make_tuple(c.value("status", ""), c.value("reason", ""), c.value("message", ""));
      auto& seen = seen_[c.value("type", "")];
      if (seen == now) continue;
      seen = now;
      out_ << "  " << c.value("type", "") << "=" << std::get<0>(now) << " (" << std::get<1>(now)
           << ")";
      if (!std::get<2>(now).empty()) out_ << ": " << std::get<2>(now);
      out_ << "\n";
      out_.flush();
    }
  }

 private:
  std::ostream& out_;
  std::map<std::string, std::tuple<std::string, std::string, std::string>> seen_;
};

bool readyNow(const json& mm) {
  const json status = mm.value("status", json::object());
  if (!status.is_object()) return false;
  const auto generation = mm["metadata"].value("generation", 0LL);
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.is_object() && c.value("type", "") == v1beta1::condition::kReady) {
      return c.value("status", "") == "True" && c.value("observedGeneration", 0LL) >= generation;
    }
  }
  return false;
}

}  // namespace

int runJoin(const Invocation& inv) {
  const auto specs = joinFlags();
  // `--wait` alone means the default timeout (the flag parser wants a value for it).
  std::vector<std::string> args = inv.args;
  for (auto& a : args) {
    if (a == "--wait") a = std::string("--wait=") + kDefaultWait;
  }
  auto parsed = parseArgs(args, specs);
  if (!parsed) return inv.usage("join", parsed.error().message());
  if (parsed->help) {
    inv.out << joinHelp(inv.program);
    return kExitOk;
  }
  if (parsed->positionals.size() != 1) {
    return inv.usage("join", parsed->positionals.empty()
                                 ? "join needs the cluster NAME"
                                 : "join takes one NAME, got " +
                                       std::to_string(parsed->positionals.size()) + " arguments");
  }
  const std::string name = parsed->positionals.front();
  if (auto problem = dns1123LabelProblem(name); !problem.empty()) {
    return inv.usage("join", "invalid cluster name: " + problem);
  }
  const std::string remoteFile = parsed->get("remote-kubeconfig", specs);
  if (remoteFile.empty()) return inv.usage("join", "flag --remote-kubeconfig is required");
  std::string mode = parsed->get("mode", specs);
  if (!mode.empty()) {
    std::string lower;
    for (char c : mode) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "flat") {
      mode = "Flat";
    } else if (lower == "gateway") {
      mode = "Gateway";
    } else {
      return inv.usage("join", "flag --mode takes Flat or Gateway, not \"" + mode + "\"");
    }
  }
  const bool dryRun = parsed->flag("dry-run");
  const std::string output = parsed->get("output", specs);
  if (!output.empty() && output != "yaml" && output != "json") {
    return inv.usage("join", "flag -o takes yaml or json, not \"" + output + "\"");
  }
  if (!output.empty() && !dryRun) {
    // Printing the applied Secret would print credentials nobody asked to see.
    return inv.usage("join", "flag -o is only for --dry-run");
  }
  std::optional<std::chrono::nanoseconds> wait;
  if (parsed->has("wait")) {
    auto d = meta::parseDuration(parsed->get("wait", specs));
    if (!d || d->count() <= 0) {
      return inv.usage("join", "flag --wait takes a positive duration such as 5m, not \"" +
                                   parsed->get("wait", specs) + "\"");
    }
    if (dryRun) return inv.usage("join", "flags --wait and --dry-run exclude each other");
    wait = *d;
  }
  const Globals globals = globalsOf(*parsed, specs);

  auto kubeconfig = portableKubeconfig(remoteFile, parsed->get("remote-context", specs), name);
  if (!kubeconfig) return inv.fail("remote kubeconfig: " + kubeconfig.error().message());

  const std::string secretName = name + "-bootstrap";
  const std::string key(v1beta1::kDefaultBootstrapSecretKey);
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", secretName},
                   {"namespace", globals.ns},
                   {"labels", {{"app.kubernetes.io/created-by", kCliFieldManager}}}}},
                 {"type", "Opaque"},
                 {"data", {{key, base64::encode(kubeconfig->yaml)}}}};
  json mm = {{"apiVersion", std::string(v1beta1::kApiVersion)},
             {"kind", std::string(v1beta1::kMeshMembershipKind)},
             {"metadata", {{"name", name}, {"namespace", globals.ns}}},
             {"spec", {{"bootstrapSecretRef", {{"name", secretName}, {"key", key}}}}}};
  if (!mode.empty()) mm["spec"]["network"]["mode"] = mode;
  if (auto checked = v1beta1::decodeMeshMembership(mm); !checked.ok()) {
    return inv.fail("MeshMembership " + globals.ns + "/" + name + ": " + checked.message());
  }

  if (dryRun) {
    if (output.empty()) {
      inv.out << kubectlName(kube::resources::kSecrets, secretName) << " configured (dry run)\n"
              << kubectlName(reconcilers::kMeshMemberships, name) << " configured (dry run)\n";
    } else {
      printObjects(inv.out, {secret, mm}, output);
    }
    return kExitOk;
  }

  Session session;
  auto hub = session.connect(globals, std::chrono::seconds(30));
  if (!hub) return inv.fail("control plane: " + hub.error().message());
  auto appliedSecret = applyAndReport(**hub, kube::resources::kSecrets, secret, inv.out);
  if (!appliedSecret) return inv.fail(appliedSecret.error().message());
  auto appliedMm = applyAndReport(**hub, reconcilers::kMeshMemberships, mm, inv.out);
  if (!appliedMm) return inv.fail(appliedMm.error().message());
  if (!wait) return kExitOk;

  inv.out << "waiting up to " << meta::formatDuration(*wait) << " for " << globals.ns << "/" << name
          << " to be Ready\n";
  inv.out.flush();
  ConditionPrinter printer(inv.out);
  const auto deadline = std::chrono::steady_clock::now() + *wait;
  while (true) {
    auto got = (*hub)->get(reconcilers::kMeshMemberships, {globals.ns, name});
    if (got) {
      printer.observe(*got);
      if (readyNow(*got)) {
        inv.out << "meshmembership " << globals.ns << "/" << name << " is Ready\n";
        return kExitOk;
      }
    } else if (got.error().isNotFound()) {
      return inv.fail("MeshMembership " + globals.ns + "/" + name + " was deleted while waiting");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return inv.fail("timed out after " + meta::formatDuration(*wait) + " waiting for " +
                      globals.ns + "/" + name + " to be Ready (see '" + inv.program + " check " +
                      name + "')");
    }
    std::this_thread::sleep_for(1s);
  }
}

}  // namespace rio::cli
