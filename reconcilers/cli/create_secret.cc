// create-secret: the reference procedure's create-secret.sh, against the control plane: istiod's
// remote secret for one cluster, from a kubeconfig (typically generate-kubeconfig's).
#include "api/v1beta1/mesh_membership.h"
#include "reconcilers/cli/commands.h"
#include "reconcilers/desired/remote_secret.h"

namespace rio::cli {
namespace {

std::vector<FlagSpec> createSecretFlags() {
  return withGlobals({
      {"from-kubeconfig", 0, false, "FILE", "Kubeconfig istiod uses to read the remote (required)",
       ""},
      {"from-context", 0, false, "NAME",
       "Context of --from-kubeconfig to use (default: its current-context)", ""},
      {"dry-run", 0, true, "", "Print the Secret instead of creating it (with -o)", ""},
      {"output", 'o', false, "yaml|json", "Output format of --dry-run", ""},
  });
}

std::string createSecretHelp(const std::string& program) {
  return "Create (or update) istiod's remote secret istio-remote-secret-NAME in the CONTROL PLANE\n"
         "(-n, default istio-system): label istio/multiCluster=\"true\", annotation\n"
         "networking.istio.io/cluster=NAME, data key NAME holding the kubeconfig. File references\n"
         "in the kubeconfig are inlined; the result must pass istiod's rules (inline data only, "
         "no\n"
         "exec or auth-provider users).\n"
         "\n"
         "MeshMemberships write this Secret themselves: use create-secret only for a cluster\n"
         "joined by hand. --dry-run -o yaml prints it instead (it contains the credentials).\n"
         "\n"
         "Usage:\n  " +
         program +
         " create-secret NAME --from-kubeconfig FILE [flags]\n"
         "\n"
         "Example:\n  " +
         program +
         " generate-kubeconfig cn-beijing --kubeconfig remote-admin.kubeconfig -o "
         "cn-beijing.kubeconfig\n  " +
         program +
         " create-secret cn-beijing --from-kubeconfig cn-beijing.kubeconfig\n"
         "\n" +
         flagsHelp(createSecretFlags());
}

}  // namespace

int runCreateSecret(const Invocation& inv) {
  const auto specs = createSecretFlags();
  auto parsed = parseArgs(inv.args, specs);
  if (!parsed) return inv.usage("create-secret", parsed.error().message());
  if (parsed->help) {
    inv.out << createSecretHelp(inv.program);
    return kExitOk;
  }
  if (parsed->positionals.size() != 1) {
    return inv.usage("create-secret", "create-secret needs exactly one cluster NAME");
  }
  const std::string name = parsed->positionals.front();
  if (auto problem = dns1123LabelProblem(name); !problem.empty()) {
    return inv.usage("create-secret", "invalid cluster name: " + problem);
  }
  const std::string file = parsed->get("from-kubeconfig", specs);
  if (file.empty()) return inv.usage("create-secret", "flag --from-kubeconfig is required");
  const bool dryRun = parsed->flag("dry-run");
  const std::string output = parsed->get("output", specs);
  if (!output.empty() && output != "yaml" && output != "json") {
    return inv.usage("create-secret", "flag -o takes yaml or json, not \"" + output + "\"");
  }
  if (!output.empty() && !dryRun)
    return inv.usage("create-secret", "flag -o is only for --dry-run");
  const Globals globals = globalsOf(*parsed, specs);

  auto kubeconfig = portableKubeconfig(file, parsed->get("from-context", specs), name);
  if (!kubeconfig) return inv.fail(kubeconfig.error().message());
  // Labelled as the operator labels the remote secret of MeshMembership NAME, so a later
  // MeshMembership of that name takes it over rather than colliding with it.
  desired::Owner owner{std::string(v1beta1::kMeshMembershipKind), globals.ns, name, name};
  auto secret = desired::istioRemoteSecret(owner, globals.ns, kubeconfig->yaml);

  if (dryRun) {
    if (output.empty()) {
      inv.out << kubectlName(secret.resource, desired::remoteSecretName(name))
              << " configured (dry run)\n";
    } else {
      printObjects(inv.out, {secret.object}, output);
    }
    return kExitOk;
  }
  Session session;
  auto hub = session.connect(globals, std::chrono::seconds(30));
  if (!hub) return inv.fail("control plane: " + hub.error().message());
  auto applied = applyAndReport(**hub, secret.resource, secret.object, inv.out);
  if (!applied) return inv.fail(applied.error().message());
  return kExitOk;
}

}  // namespace rio::cli
