// Running kubectl-remoteistio in-process against an OperatorEnv: kubeconfig files for its
// clusters and the captured output of one invocation.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "controller/kube/kubeconfig.h"
#include "reconcilers/cli/cli.h"
#include "test/support/operator_env.h"
#include "test/support/temp_dir.h"

namespace rio::testing {

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs `kubectl-remoteistio args...`.
inline CliResult runCli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  CliResult r;
  r.code = cli::run("/usr/local/bin/kubectl-remoteistio", args, out, err);
  r.out = out.str();
  r.err = err.str();
  UNSCOPED_INFO("kubectl-remoteistio exit " << r.code << "\nstdout:\n"
                                            << r.out << "stderr:\n"
                                            << r.err);
  return r;
}

/// The admin kubeconfig of every cluster of `env` written as `<cluster>.kubeconfig` in `dir`.
inline std::string kubeconfigFile(OperatorEnv& env, const TempDir& dir,
                                  const std::string& cluster) {
  return dir.write(cluster + ".kubeconfig", env.remote(cluster).kubeconfig());
}

/// The bearer token of a kubeconfig (restricted loader).
inline std::string tokenOf(const std::string& kubeconfig) {
  auto config = kube::restConfigFromUntrustedKubeconfig(kubeconfig, "test");
  REQUIRE(config);
  REQUIRE(config->token);
  auto token = config->token->token();
  REQUIRE(token);
  return *token;
}

}  // namespace rio::testing
