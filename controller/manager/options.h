// The operator's command line, in kubebuilder's conventions (the flags of a scaffolded
// main.go), each flag also settable by an environment variable: RIO_ + the flag name in upper
// snake case (--leader-elect -> RIO_LEADER_ELECT=true). Precedence: flag > environment > default.
//
// Syntax as Go's flag package takes it: "--name=value", "--name value", one or two dashes; boolean
// flags are "--name" or "--name=false" (never "--name false"); durations are Go duration strings
// ("15s", "1m30s", "500ms"). Unknown flags, positional arguments and bad values are errors (the
// binary exits with code 2, as Go programs do for usage errors).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/meta/error.h"
#include "controller/core/logging.h"
#include "controller/kube/rest_config.h"
#include "controller/manager/manager.h"

namespace rio::manager {

struct CommandLine {
  std::string kubeconfig;  // empty: in-cluster, else $KUBECONFIG, else ~/.kube/config
  std::string metricsBindAddress = ":8080";
  std::string healthProbeBindAddress = ":8081";
  bool leaderElect = false;
  std::string leaderElectionNamespace;  // empty: the pod's namespace
  std::string leaderElectionId = "remote-istio-operator";
  /// Shorter than client-go's 15 s / 10 s so that a leader that dies without releasing the
  /// Lease is replaced within 10 s; the same 2 s retry period, so no more Lease writes. A leader
  /// steps down at most retryPeriod + renewDeadline (7 s) after its last renewal, 1 s before any
  /// candidate may take over.
  std::chrono::milliseconds leaderElectionLeaseDuration{std::chrono::seconds(8)};
  std::chrono::milliseconds leaderElectionRenewDeadline{std::chrono::seconds(5)};
  std::chrono::milliseconds leaderElectionRetryPeriod{std::chrono::seconds(2)};
  /// Each reconcile waits on its cluster's API server: several workers keep one slow cluster
  /// from holding up the others (controller-runtime's default of 1 suits one-cluster operators).
  int maxConcurrentReconciles = 4;
  log::Level logLevel = log::Level::kInfo;
  log::Format logFormat = log::Format::kAuto;  // json unless stderr is a terminal
  /// Domain option passed through to the reconcilers: where Istio's control plane runs.
  std::string meshNamespace = "istio-system";
  /// Domain option: the membership reachability probe's interval.
  std::chrono::milliseconds clusterProbeInterval{std::chrono::seconds(60)};
  bool help = false;
  bool version = false;
};

/// Looks up an environment variable (nullopt when unset).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
/// The process environment (getenv: call before threads start changing it).
EnvLookup processEnv();

/// Parses the arguments after the program name, with `env` for RIO_* variables. Errors are
/// kInvalid with a message naming the flag or variable and the value. Never throws.
Expected<CommandLine> parseCommandLine(const std::vector<std::string>& args, const EnvLookup& env);

/// The --help text: every flag with its default and environment variable.
std::string usage(std::string_view program = "remote-istio-operator");

/// "leader-elect" -> "RIO_LEADER_ELECT".
std::string envName(std::string_view flag);
/// Go's time.ParseDuration (no negative values): "300ms", "1.5h", "2h45m", "0". Errors kInvalid.
Expected<std::chrono::milliseconds> parseGoDuration(std::string_view text);
/// Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
std::optional<bool> parseGoBool(std::string_view text);

/// The manager's options for a parsed command line and the control-plane config. Without
/// --leader-election-namespace, leader election uses the pod's namespace (service-account mount)
/// and fails (kConfig) outside a cluster.
Expected<ManagerOptions> toManagerOptions(const CommandLine& commandLine, kube::RestConfig config);

}  // namespace rio::manager
