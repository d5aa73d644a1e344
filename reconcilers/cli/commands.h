// The kubectl-remoteistio subcommands (cli.h dispatches). Each prints its own --help, parses its
// flags, and returns an exit code (common.h).
#pragma once

#include "reconcilers/cli/common.h"

namespace rio::cli {

/// join NAME --remote-kubeconfig FILE: the bootstrap Secret and the MeshMembership.
int runJoin(const Invocation& inv);
/// generate-kubeconfig NAME: istiod's reader account in a remote and a short-lived kubeconfig.
int runGenerateKubeconfig(const Invocation& inv);
/// create-secret NAME --from-kubeconfig FILE: istiod's remote secret in the control plane.
int runCreateSecret(const Invocation& inv);
/// check [NAME]: the doctor.
int runCheck(const Invocation& inv);

}  // namespace rio::cli
