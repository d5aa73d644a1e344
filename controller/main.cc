// remote-istio-operator: the controller binary. Parses the command line (flags and RIO_*
// environment variables), loads the control-plane config, and runs the Manager until SIGTERM or
// SIGINT, with the RemoteIstio and MeshMembership controllers (reconcilers/operator.h); it serves
// /metrics, /healthz and /readyz and takes part in leader election.
// Invoked as kubectl-remoteistio, or with a subcommand (join, generate-kubeconfig, create-secret,
// check), it is the command-line tool of reconcilers/cli/ instead.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "controller/core/logging.h"
#include "controller/kube/kubeconfig.h"
#include "controller/manager/manager.h"
#include "controller/manager/options.h"
#include "reconcilers/cli/cli.h"
#include "reconcilers/operator.h"
#include "rio_version.h"

int main(int argc, char** argv) {
  namespace manager = rio::manager;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (rio::cli::isCliInvocation(argv[0], args))
    return rio::cli::run(argv[0], args, std::cout, std::cerr);
  auto commandLine = manager::parseCommandLine(args, manager::processEnv());
  if (!commandLine) {
    std::fprintf(stderr,
                 "remote-istio-operator: %s\nRun 'remote-istio-operator --help' for usage.\n",
                 commandLine.error().message().c_str());
    return 2;
  }
  if (commandLine->help) {
    std::fputs(manager::usage().c_str(), stdout);
    std::fputs("\nCommands (also as the kubectl plugin kubectl-remoteistio; COMMAND --help for each):\n"
               "  join, generate-kubeconfig, create-secret, check\n",
               stdout);
    return 0;
  }
  if (commandLine->version) {
    std::printf("remote-istio-operator %s\n", RIO_VERSION);
    return 0;
  }
  rio::log::configure(commandLine->logLevel, commandLine->logFormat);
  const auto& logger = rio::log::root();

  auto config = rio::kube::loadDefaultConfig(commandLine->kubeconfig);
  if (!config) {
    logger.error("unable to load the cluster configuration", {{"error", config.error().message()}});
    return manager::kExitFailure;
  }
  logger.info("starting remote-istio-operator", {{"version", RIO_VERSION},
                                                 {"cluster", config->describe()},
                                                 {"mesh_namespace", commandLine->meshNamespace}});
  auto options = manager::toManagerOptions(*commandLine, std::move(*config));
  if (!options) {
    logger.error("invalid configuration", {{"error", options.error().message()}});
    return manager::kExitFailure;
  }
  options->handleSignals = true;
  auto mgr = manager::Manager::create(std::move(*options));
  if (!mgr) {
    logger.error("unable to create the manager", {{"error", mgr.error().message()}});
    return manager::kExitFailure;
  }
  rio::reconcilers::OperatorOptions operatorOptions;
  operatorOptions.meshNamespace = commandLine->meshNamespace;
  operatorOptions.membership.probeInterval = commandLine->clusterProbeInterval;
  auto op = rio::reconcilers::Operator::setup(**mgr, std::move(operatorOptions));
  if (!op) {
    logger.error("unable to set up the controllers", {{"error", op.error().message()}});
    return manager::kExitFailure;
  }
  const int code = (*mgr)->run();
  op->reset();  // remote clients run on the manager's IoRuntime: they go first
  return code;
}
