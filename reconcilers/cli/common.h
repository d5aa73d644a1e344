// What the kubectl-remoteistio subcommands share: kubectl's global flags, exit codes, a session
// owning the I/O runtime its clients run on, loading a user's kubeconfig into the portable
// (inline-data-only) form the operator and istiod accept, and printing objects.
#pragma once

#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/io_runtime.h"
#include "controller/kube/client.h"
#include "controller/kube/rest_config.h"
#include "reconcilers/cli/flags.h"

namespace rio::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// The field manager of every write the CLI makes (server-side apply).
inline constexpr char kCliFieldManager[] = "kubectl-remoteistio";

/// One subcommand's invocation.
struct Invocation {
  std::string program;            // "kubectl remoteistio" or "remote-istio-operator", for messages
  std::vector<std::string> args;  // after the subcommand (global flags included)
  std::ostream& out;
  std::ostream& err;

  /// "error: <message>" on err; returns `code`.
  int fail(const std::string& message, int code = kExitFailure) const;
  /// A usage error: the message and a pointer to --help; returns kExitUsage.
  int usage(const std::string& command, const std::string& message) const;
};

/// --kubeconfig, --context, -n/--namespace (default istio-system).
std::vector<FlagSpec> globalFlags();
/// The global flags plus `own`.
std::vector<FlagSpec> withGlobals(std::vector<FlagSpec> own);

struct Globals {
  std::string kubeconfig;
  std::string context;
  std::string ns;
};
Globals globalsOf(const ParsedArgs& parsed, const std::vector<FlagSpec>& specs);

/// A DNS-1123 label (what a cluster name and a MeshMembership without spec.clusterName must be):
/// empty when valid, else why not.
std::string dns1123LabelProblem(const std::string& name);

/// The I/O runtime the clients of one subcommand run on. Declare it before any client so the
/// clients go first. Not thread-safe (one subcommand, one thread).
class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// The cluster of --kubeconfig/--context (KUBECONFIG and ~/.kube/config as kubectl reads
  /// them), each request bounded by `timeout`, one retry at most.
  Expected<kube::ClientPtr> connect(const Globals& globals, std::chrono::milliseconds timeout,
                                    kube::RestConfig* configOut = nullptr);
  /// A client for `config` with no retries.
  Expected<kube::ClientPtr> clientFor(const kube::RestConfig& config);

 private:
  std::unique_ptr<IoRuntime> io_;
};

/// A user's kubeconfig made portable: the context `context` (empty: current-context) of `file`
/// (read as kubectl reads it), with every file reference (CA, client certificate and key,
/// tokenFile) read and inlined, reduced to one cluster, user and context all named `name`.
/// Refuses exec and auth-provider users, impersonation and proxy-url with a message naming the
/// file, context and field. The result passes the restricted loader (istiod's rules), which is
/// checked. Secret material: never log it.
struct PortableKubeconfig {
  std::string yaml;         // secret
  kube::RestConfig config;  // as the restricted loader reads `yaml`
};
Expected<PortableKubeconfig> portableKubeconfig(const std::string& file, const std::string& context,
                                                const std::string& name);

/// Prints `objects` as `kubectl get -o yaml|json` does (several JSON objects as a v1 List).
/// `format` must be "yaml" or "json".
void printObjects(std::ostream& out, const std::vector<nlohmann::json>& objects,
                  const std::string& format);

/// "<kind lowercased>[.<group>]/<name>", as kubectl names objects in messages.
std::string kubectlName(const kube::Resource& resource, const std::string& name);

/// Server-side apply as kCliFieldManager (forced: the CLI is the user's own hand), saying
/// "created" or "configured" on `out` as kubectl apply does.
Expected<nlohmann::json> applyAndReport(kube::Client& client, const kube::Resource& resource,
                                        const nlohmann::json& object, std::ostream& out);

}  // namespace rio::cli
