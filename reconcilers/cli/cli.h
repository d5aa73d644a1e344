// kubectl-remoteistio: the operator binary's command-line side. Invoked through the
// `kubectl-remoteistio` symlink (so `kubectl remoteistio ...` works with build/bin on PATH) or as
// `remote-istio-operator <subcommand>`, it joins remote clusters without the reference procedure's
// shell scripts (docs/cli.md):
//
//   join NAME --remote-kubeconfig FILE      bootstrap Secret + MeshMembership in the control plane
//   generate-kubeconfig NAME                istiod's reader account and a short-lived kubeconfig
//   create-secret NAME --from-kubeconfig F  istiod's remote secret, by hand
//   check [NAME]                            a doctor for every member (or one)
//
// Exit codes: 0 success, 1 failure (a request failed, a check failed), 2 usage error.
// Tokens, keys and kubeconfigs are never printed, except where the user asks for them on stdout
// (`generate-kubeconfig` without -o, `--dry-run -o yaml|json`).
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace rio::cli {

/// True when argv[0]'s basename is "kubectl-remoteistio" or args[0] is one of the subcommands
/// (join, generate-kubeconfig, create-secret, check; help/--help only when invoked as
/// kubectl-remoteistio, so the operator's own --help is unchanged).
bool isCliInvocation(std::string_view argv0, const std::vector<std::string>& args);

/// Runs one subcommand; writes results to `out` and messages to `err`; returns the exit code
/// (0 ok, 1 failure/check failed, 2 usage error). Blocking (network requests with timeouts).
/// Never throws.
int run(std::string_view argv0, const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err);

}  // namespace rio::cli
