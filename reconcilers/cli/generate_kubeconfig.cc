// generate-kubeconfig: the reference procedure's generate-kubeconfig.sh, run against a remote
// cluster, with a short-lived token (TokenRequest) instead of a long-lived service-account token
// Secret.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "api/meta/duration.h"
#include "api/meta/time.h"
#include "api/v1beta1/mesh_membership.h"
#include "controller/kube/resource.h"
#include "reconcilers/cli/commands.h"
#include "reconcilers/desired/membership_objects.h"
#include "reconcilers/membership/credentials.h"

namespace rio::cli {
namespace {

using nlohmann::json;

std::vector<FlagSpec> generateFlags() {
  return withGlobals({
      {"duration", 0, false, "DURATION",
       "Lifetime of the token (TokenRequest expirationSeconds; 10m to 168h)", "24h"},
      {"output", 'o', false, "FILE", "Write the kubeconfig to FILE (mode 0600) instead of stdout",
       ""},
  });
}

std::string generateHelp(const std::string& program) {
  return "Prepare a REMOTE cluster for istiod and print a kubeconfig for it: ensures the\n"
         "ServiceAccount istio-reader-service-account (in -n, default istio-system) with the\n"
         "least-privilege reader ClusterRole the operator's join creates (no access to Secrets),\n"
         "mints a short-lived token for it with the TokenRequest API, and prints a kubeconfig\n"
         "(server, CA data, inline token; cluster, user and context named NAME).\n"
         "\n"
         "Run it with the REMOTE cluster's --kubeconfig/--context. The kubeconfig holds a token:\n"
         "it goes to stdout only when -o is not given.\n"
         "\n"
         "Usage:\n  " +
         program +
         " generate-kubeconfig NAME [flags]\n"
         "\n"
         "Example:\n  " +
         program +
         " generate-kubeconfig cn-beijing --kubeconfig ./cn-beijing-admin.kubeconfig -o "
         "cn-beijing.kubeconfig\n"
         "\n" +
         flagsHelp(generateFlags());
}

/// Writes `content` to `path` readable by the owner only (also when the file existed).
Expected<void> writePrivateFile(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Error::config("cannot write " + path + ": " + std::strerror(errno)));
  if (::fchmod(fd, 0600) != 0) {
    ::close(fd);
    return fail(
        Error::config("cannot restrict " + path + " to mode 0600: " + std::strerror(errno)));
  }
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string why = std::strerror(errno);
      ::close(fd);
      return fail(Error::config("cannot write " + path + ": " + why));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0)
    return fail(Error::config("cannot write " + path + ": " + std::strerror(errno)));
  return {};
}

}  // namespace

int runGenerateKubeconfig(const Invocation& inv) {
  const auto specs = generateFlags();
  auto parsed = parseArgs(inv.args, specs);
  if (!parsed) return inv.usage("generate-kubeconfig", parsed.error().message());
  if (parsed->help) {
    inv.out << generateHelp(inv.program);
    return kExitOk;
  }
  if (parsed->positionals.size() != 1) {
    return inv.usage("generate-kubeconfig", "generate-kubeconfig needs exactly one cluster NAME");
  }
  const std::string name = parsed->positionals.front();
  if (auto problem = dns1123LabelProblem(name); !problem.empty()) {
    return inv.usage("generate-kubeconfig", "invalid cluster name: " + problem);
  }
  auto duration = meta::parseDuration(parsed->get("duration", specs));
  const auto ttl = duration ? std::chrono::duration_cast<std::chrono::seconds>(*duration)
                            : std::chrono::seconds(0);
  if (!duration || ttl < v1beta1::kMinTokenTTL || ttl > v1beta1::kMaxTokenTTL) {
    return inv.usage("generate-kubeconfig",
                     "flag --duration takes a duration from 10m to 168h, not \"" +
                         parsed->get("duration", specs) + "\"");
  }
  const Globals globals = globalsOf(*parsed, specs);
  const std::string outFile = parsed->get("output", specs);

  Session session;
  kube::RestConfig config;
  auto remote = session.connect(globals, std::chrono::seconds(30), &config);
  if (!remote) return inv.fail("remote cluster: " + remote.error().message());
  kube::Client& client = **remote;

  // The namespace is created only when absent (the script did the same).
  auto ns = client.getIfExists(kube::resources::kNamespaces, {"", globals.ns});
  if (!ns) return inv.fail(ns.error().wrap("get Namespace " + globals.ns).message());
  if (!*ns) {
    json object = {
        {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", globals.ns}}}};
    auto created = client.create(kube::resources::kNamespaces, object);
    if (!created && !created.error().isAlreadyExists()) {
      return inv.fail(created.error().wrap("create Namespace " + globals.ns).message());
    }
    inv.err << "namespace/" << globals.ns << " created\n";
  }
  // istiod's reader only: the ServiceAccount, ClusterRole and ClusterRoleBinding of
  // membershipRbac(), labelled as the MeshMembership NAME would label them.
  desired::MembershipParams params;
  params.owner = {std::string(v1beta1::kMeshMembershipKind), globals.ns, name, name};
  params.meshNamespace = globals.ns;
  for (const auto& m : desired::membershipRbac(params)) {
    const std::string objectName = m.object["metadata"].value("name", "");
    if (objectName != desired::kReaderServiceAccount && objectName != desired::kReaderClusterRole) {
      continue;
    }
    auto applied = applyAndReport(client, m.resource, m.object, inv.err);
    if (!applied) return inv.fail(applied.error().message());
  }

  auto minted = reconcilers::membership::mintToken(
      client, globals.ns, desired::kReaderServiceAccount, ttl, std::chrono::system_clock::now());
  if (!minted) return inv.fail(minted.error().message());
  const std::string kubeconfig = reconcilers::membership::tokenKubeconfig(
      name, reconcilers::membership::RemoteEndpoint::of(config), minted->token);
  const std::string expires = meta::formatTime(minted->expiresAt);
  if (outFile.empty()) {
    inv.out << kubeconfig;
    inv.err << "token of ServiceAccount " << globals.ns << "/" << desired::kReaderServiceAccount
            << " expires at " << expires << "\n";
    return kExitOk;
  }
  if (auto written = writePrivateFile(outFile, kubeconfig); !written) {
    return inv.fail(written.error().message());
  }
  inv.out << "kubeconfig for " << name << " written to " << outFile << " (token of ServiceAccount "
          << globals.ns << "/" << desired::kReaderServiceAccount << " expires at " << expires
          << ")\n";
  return kExitOk;
}

}  // namespace rio::cli
