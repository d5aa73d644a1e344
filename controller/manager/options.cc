#include "controller/manager/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "controller/kube/kubeconfig.h"
#include "controller/leader/leader_elector.h"
#include "controller/manager/bind_address.h"

namespace rio::manager {
namespace {

using std::chrono::milliseconds;

std::string fmtDuration(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

// One flag: how to set it from text, and how to show it in --help.
struct Flag {
  std::string name;
  std::string help;
  bool isBool = false;
  bool fromEnv = true;
  std::function<std::string(const CommandLine&)> shownDefault;
  std::function<Expected<void>(CommandLine&, const std::string&)> set;
};

Expected<void> invalid(const std::string& message) { return fail(Error::invalid(message)); }

Expected<void> setDuration(milliseconds& out, const std::string& text) {
  auto d = parseGoDuration(text);
  if (!d) return fail(d.error());
  if (d->count() <= 0) return invalid("must be a positive duration");
  out = *d;
  return {};
}

const std::vector<Flag>& flags() {
  static const std::vector<Flag> table = {
      {"kubeconfig",
       "Path to a kubeconfig. Only required if out-of-cluster (else in-cluster, else $KUBECONFIG, "
       "else ~/.kube/config).",
       false, true, [](const CommandLine& c) { return c.kubeconfig; },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         c.kubeconfig = v;
         return {};
       }},
      {"metrics-bind-address",
       "The address the metrics endpoint binds to (\":8080\", \"127.0.0.1:8080\"; \"0\" disables "
       "it).",
       false, true, [](const CommandLine& c) { return c.metricsBindAddress; },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         if (auto a = parseBindAddress(v); !a) return fail(a.error());
         c.metricsBindAddress = v;
         return {};
       }},
      {"health-probe-bind-address",
       "The address the probe endpoint (/healthz, /readyz) binds to (\"0\" disables it).", false,
       true, [](const CommandLine& c) { return c.healthProbeBindAddress; },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         if (auto a = parseBindAddress(v); !a) return fail(a.error());
         c.healthProbeBindAddress = v;
         return {};
       }},
      {"leader-elect",
       "Enable leader election for the controller manager. Enabling this will ensure there is "
       "only one active controller manager.",
       true, true, [](const CommandLine& c) { return c.leaderElect ? "true" : "false"; },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         auto b = parseGoBool(v);
         if (!b) return invalid("must be true or false");
         c.leaderElect = *b;
         return {};
       }},
      {"leader-election-namespace",
       "Namespace of the leader election Lease (default: the pod's namespace).", false, true,
       [](const CommandLine& c) { return c.leaderElectionNamespace; },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         c.leaderElectionNamespace = v;
         return {};
       }},
      {"leader-election-id", "Name of the leader election Lease.", false, true,
       [](const CommandLine& c) { return c.leaderElectionId; },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         if (v.empty()) return invalid("must not be empty");
         c.leaderElectionId = v;
         return {};
       }},
      {"leader-election-lease-duration",
       "How long non-leaders wait after the last observed renewal before taking the lease.", false,
       true, [](const CommandLine& c) { return fmtDuration(c.leaderElectionLeaseDuration); },
       [](CommandLine& c, const std::string& v) {
         return setDuration(c.leaderElectionLeaseDuration, v);
       }},
      {"leader-election-renew-deadline",
       "How long the leader retries renewing before it gives up leadership.", false, true,
       [](const CommandLine& c) { return fmtDuration(c.leaderElectionRenewDeadline); },
       [](CommandLine& c, const std::string& v) {
         return setDuration(c.leaderElectionRenewDeadline, v);
       }},
      {"leader-election-retry-period", "Interval between leader election attempts.", false, true,
       [](const CommandLine& c) { return fmtDuration(c.leaderElectionRetryPeriod); },
       [](CommandLine& c, const std::string& v) {
         return setDuration(c.leaderElectionRetryPeriod, v);
       }},
      {"max-concurrent-reconciles",
       "Reconciles run in parallel per controller, each on its own thread (a reconcile waits on "
       "its cluster's API server, so several keep one slow cluster from holding up the others).",
       false, true,
       [](const CommandLine& c) { return std::to_string(c.maxConcurrentReconciles); },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         int n = 0;
         auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
         if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 1024) {
           return invalid("must be a whole number from 1 to 1024");
         }
         c.maxConcurrentReconciles = n;
         return {};
       }},
      {"log-level", "Log level: trace, debug, info, warn or error.", false, true,
       [](const CommandLine&) { return std::string("info"); },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         auto l = log::parseLevel(v);
         if (!l) return invalid("must be one of trace, debug, info, warn, error");
         c.logLevel = *l;
         return {};
       }},
      {"log-format", "Log format: json or text (default: json, text when stderr is a terminal).",
       false, true, [](const CommandLine&) { return std::string(); },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         if (v == "json") {
           c.logFormat = log::Format::kJson;
         } else if (v == "text") {
           c.logFormat = log::Format::kText;
         } else {
           return invalid("must be json or text");
         }
         return {};
       }},
      {"mesh-namespace", "Namespace of the Istio control plane.", false, true,
       [](const CommandLine& c) { return c.meshNamespace; },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         if (v.empty()) return invalid("must not be empty");
         c.meshNamespace = v;
         return {};
       }},
      {"cluster-probe-interval",
       "How often each member cluster's API server is asked GET /version (Reachable, version, "
       "clock skew): one request per cluster each time (every 5 minutes the node list takes its "
       "place). A cluster that is down shows "
       "Reachable=False within seconds (its watches and requests fail); one that hangs, within "
       "this plus the request timeout.",
       false, true, [](const CommandLine& c) { return fmtDuration(c.clusterProbeInterval); },
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         if (auto ok = setDuration(c.clusterProbeInterval, v); !ok) return ok;
         if (c.clusterProbeInterval < std::chrono::seconds(1)) return invalid("must be at least 1s");
         return {};
       }},
      {"help", "Show this help and exit.", true, false, nullptr,
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         auto b = parseGoBool(v);
         if (!b) return invalid("must be true or false");
         c.help = *b;
         return {};
       }},
      {"version", "Print the version and exit.", true, false, nullptr,
       [](CommandLine& c, const std::string& v) -> Expected<void> {
         auto b = parseGoBool(v);
         if (!b) return invalid("must be true or false");
         c.version = *b;
         return {};
       }},
  };
  return table;
}

const Flag* findFlag(std::string_view name) {
  if (name == "h") name = "help";
  for (const auto& f : flags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Go's duration units, longest first where prefixes overlap.
std::optional<double> unitNanos(std::string_view unit) {
  if (unit == "ns") return 1.0;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  if (unit == "m") return 60e9;
  if (unit == "h") return 3600e9;
  return std::nullopt;
}

}  // namespace

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    // Read once at start-up, before any thread sets the environment.
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::string envName(std::string_view flag) {
  std::string out = "RIO_";
  for (char c : flag)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::optional<bool> parseGoBool(std::string_view t) {
  if (t == "1" || t == "t" || t == "T" || t == "TRUE" || t == "true" || t == "True") return true;
  if (t == "0" || t == "f" || t == "F" || t == "FALSE" || t == "false" || t == "False")
    return false;
  return std::nullopt;
}

Expected<milliseconds> parseGoDuration(std::string_view text) {
  auto bad = [&] {
    return fail(Error::invalid("invalid duration \"" + std::string(text) +
                               "\" (want a Go duration like 15s, 1m30s or 500ms)"));
  };
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s == "0") return milliseconds(0);
  if (s.empty()) return bad();
  double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return bad();
    std::string number(s.substr(0, i));
    if (std::count(number.begin(), number.end(), '.') > 1 || number == ".") return bad();
    double value = std::strtod(number.c_str(), nullptr);
    s.remove_prefix(i);
    std::size_t j = 0;
    while (j < s.size() && !std::isdigit(static_cast<unsigned char>(s[j])) && s[j] != '.') ++j;
    auto unit = unitNanos(s.substr(0, j));
    if (!unit) return bad();
    total += value * *unit;
    s.remove_prefix(j);
  }
  if (!std::isfinite(total) || total > 1e18) return bad();
  return milliseconds(static_cast<long long>(std::llround(total / 1e6)));
}

Expected<CommandLine> parseCommandLine(const std::vector<std::string>& args, const EnvLookup& env) {
  CommandLine c;
  // Environment first, so flags win.
  for (const auto& f : flags()) {
    if (!f.fromEnv || !env) continue;
    auto value = env(envName(f.name));
    if (!value) continue;
    if (auto ok = f.set(c, *value); !ok) {
      return fail(Error::invalid("invalid value \"" + *value + "\" for environment variable " +
                                 envName(f.name) + ": " + ok.error().message()));
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) {
        return fail(Error::invalid("unexpected argument \"" + args[i + 1] +
                                   "\" (this program takes flags only)"));
      }
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      return fail(
          Error::invalid("unexpected argument \"" + arg + "\" (this program takes flags only)"));
    }
    std::string_view body(arg);
    body.remove_prefix(body.substr(0, 2) == "--" ? 2 : 1);
    std::optional<std::string> value;
    std::string_view name = body;
    if (auto eq = body.find('='); eq != std::string_view::npos) {
      name = body.substr(0, eq);
      value = std::string(body.substr(eq + 1));
    }
    const Flag* f = findFlag(name);
    if (!f || name.empty() || name.front() == '-') {
      return fail(Error::invalid("unknown flag \"" + arg.substr(0, arg.find('=')) + "\""));
    }
    if (!value) {
      if (f->isBool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return fail(Error::invalid("flag --" + f->name + " needs a value"));
      }
    }
    if (auto ok = f->set(c, *value); !ok) {
      return fail(Error::invalid("invalid value \"" + *value + "\" for flag --" + f->name + ": " +
                                 ok.error().message()));
    }
  }
  // Relations between the leader election durations (client-go's checks).
  leader::LeaderElectionOptions lo;
  lo.name = c.leaderElectionId;
  lo.identity = "validation";
  lo.leaseDuration = c.leaderElectionLeaseDuration;
  lo.renewDeadline = c.leaderElectionRenewDeadline;
  lo.retryPeriod = c.leaderElectionRetryPeriod;
  if (auto ok = leader::validate(lo); !ok) {
    return fail(Error::invalid("invalid leader election durations: " + ok.error().message()));
  }
  return c;
}

std::string usage(std::string_view program) {
  std::string out = "Usage: " + std::string(program) + " [flags]\n\n" +
                    "Runs the remote-istio-operator controller manager.\n\nFlags:\n";
  for (const auto& f : flags()) {
    out += "  --" + f.name + (f.isBool ? "" : " value") + "\n        " + f.help;
    if (f.shownDefault) {
      std::string d = f.shownDefault(CommandLine{});
      if (!d.empty()) out += " (default \"" + d + "\")";
    }
    if (f.fromEnv) out += "\n        [env " + envName(f.name) + "]";
    out += "\n";
  }
  out +=
      "\nFlags win over environment variables. Exit codes: 0 clean shutdown, 1 start-up failure "
      "or lost leadership, 2 bad command line.\n";
  return out;
}

Expected<ManagerOptions> toManagerOptions(const CommandLine& c, kube::RestConfig config) {
  ManagerOptions o;
  o.restConfig = std::move(config);
  o.metricsBindAddress = c.metricsBindAddress;
  o.healthProbeBindAddress = c.healthProbeBindAddress;
  o.leaderElection = c.leaderElect;
  o.leaderElectionNamespace = c.leaderElectionNamespace;
  o.leaderElectionId = c.leaderElectionId;
  o.leaseDuration = c.leaderElectionLeaseDuration;
  o.renewDeadline = c.leaderElectionRenewDeadline;
  o.retryPeriod = c.leaderElectionRetryPeriod;
  o.maxConcurrentReconciles = c.maxConcurrentReconciles;
  if (o.leaderElection && o.leaderElectionNamespace.empty()) {
    auto ns = kube::inClusterNamespace();
    if (!ns || ns->empty()) {
      return fail(Error::config(
          "unable to find the leader election namespace: not running in a cluster, set "
          "--leader-election-namespace"));
    }
    o.leaderElectionNamespace = *ns;
  }
  return o;
}

}  // namespace rio::manager
