#include "reconcilers/cli/cli.h"

#include <array>
#include <exception>

#include "controller/core/logging.h"
#include "reconcilers/cli/commands.h"

namespace rio::cli {
namespace {

constexpr std::string_view kPluginName = "kubectl-remoteistio";

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(const Invocation&);
};

constexpr std::array kCommands = {
    Command{"join", "Join a remote cluster: bootstrap Secret + MeshMembership", runJoin},
    Command{"generate-kubeconfig",
            "Prepare istiod's reader account in a remote and print a short-lived kubeconfig",
            runGenerateKubeconfig},
    Command{"create-secret", "Create istiod's remote secret for a cluster joined by hand",
            runCreateSecret},
    Command{"check", "Check every mesh member (or one) and report problems", runCheck},
};

std::string_view basename(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool invokedAsPlugin(std::string_view argv0) { return basename(argv0) == kPluginName; }

const Command* findCommand(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string programName(std::string_view argv0) {
  return invokedAsPlugin(argv0) ? "kubectl remoteistio" : std::string(basename(argv0));
}

std::string topHelp(const std::string& program) {
  std::string out =
      "Join remote Kubernetes clusters to an Istio mesh managed by remote-istio-operator.\n"
      "\n"
      "Usage:\n  " +
      program +
      " COMMAND [NAME] [flags]\n"
      "\n"
      "Commands:\n";
  for (const auto& c : kCommands) {
    out += "  " + std::string(c.name) + std::string(22 - c.name.size(), ' ') +
           std::string(c.summary) + "\n";
  }
  out +=
      "\n"
      "Global flags (every command): --kubeconfig FILE, --context NAME, -n/--namespace NS\n"
      "(default istio-system); KUBECONFIG is honoured as kubectl does.\n"
      "Exit codes: 0 success, 1 failure (or a failed check), 2 usage error.\n"
      "\n"
      "Run '" +
      program + " COMMAND --help' for a command's flags.\n";
  return out;
}

/// The global flags that take a separate value, so the value is not mistaken for the command.
bool takesValue(const std::string& arg) {
  return arg == "--kubeconfig" || arg == "--context" || arg == "-n" || arg == "--namespace";
}

}  // namespace

bool isCliInvocation(std::string_view argv0, const std::vector<std::string>& args) {
  if (invokedAsPlugin(argv0)) return true;
  return !args.empty() && findCommand(args.front()) != nullptr;
}

int run(std::string_view argv0, const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err) {
  const std::string program = programName(argv0);
  // Library logs are for the operator; a CLI user wants warnings and errors only.
  if (log::level() < log::Level::kWarn) log::configure(log::Level::kWarn);
  // The command is the first argument that is neither a flag nor a global flag's value
  // (`kubectl remoteistio -n mesh join x` works as kubectl's plugins do).
  std::vector<std::string> rest;
  std::string commandName;
  bool help = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!commandName.empty()) {
      rest.push_back(a);
    } else if (takesValue(a)) {
      rest.push_back(a);
      if (i + 1 < args.size()) rest.push_back(args[++i]);
    } else if (a == "-h" || a == "--help") {
      help = true;
    } else if (!a.empty() && a[0] == '-') {
      rest.push_back(a);
    } else {
      commandName = a;
    }
  }
  if (commandName == "help") {
    if (!rest.empty() && findCommand(rest.front())) {
      commandName = rest.front();
      rest = {"--help"};
    } else {
      out << topHelp(program);
      return kExitOk;
    }
  }
  if (commandName.empty()) {
    if (help) {
      out << topHelp(program);
      return kExitOk;
    }
    err << topHelp(program);
    err << "\nerror: a command is required\n";
    return kExitUsage;
  }
  const Command* command = findCommand(commandName);
  if (!command) {
    err << "error: unknown command \"" << commandName << "\"\nRun '" << program
        << " --help' for usage.\n";
    return kExitUsage;
  }
  if (help) rest.push_back("--help");
  Invocation inv{program, rest, out, err};
  try {
    return command->run(inv);
  } catch (const std::exception& e) {
    // Nothing below should throw; a bug must still end with a message, not an abort.
    return inv.fail(std::string("internal error: ") + e.what());
  }
}

}  // namespace rio::cli
