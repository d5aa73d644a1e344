#include "reconcilers/cli/common.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "controller/core/yaml.h"
#include "controller/kube/kubeconfig.h"

namespace rio::cli {
namespace {

Expected<std::string> readWhole(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error::config("cannot read " + what + " " + path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int Invocation::fail(const std::string& message, int code) const {
  err << "error: " << message << "\n";
  return code;
}

int Invocation::usage(const std::string& command, const std::string& message) const {
  err << "error: " << message << "\nSee '" << program << " " << command << " --help' for usage.\n";
  return kExitUsage;
}

std::vector<FlagSpec> globalFlags() {
  return {
      {"kubeconfig", 0, false, "FILE",
       "Kubeconfig file of the cluster to talk to (default: $KUBECONFIG, else ~/.kube/config)", ""},
      {"context", 0, false, "NAME", "Kubeconfig context to use (default: current-context)", ""},
      {"namespace", 'n', false, "NS", "Namespace of the operator's objects", "istio-system"},
  };
}

std::vector<FlagSpec> withGlobals(std::vector<FlagSpec> own) {
  auto globals = globalFlags();
  own.insert(own.end(), globals.begin(), globals.end());
  return own;
}

Globals globalsOf(const ParsedArgs& parsed, const std::vector<FlagSpec>& specs) {
  return {parsed.get("kubeconfig", specs), parsed.get("context", specs),
          parsed.get("namespace", specs)};
}

std::string dns1123LabelProblem(const std::string& name) {
  static const std::regex kLabel("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  if (name.empty()) return "a name is required";
  if (name.size() > 63) return "\"" + name + "\" is longer than 63 characters";
  if (!std::regex_match(name, kLabel)) {
    return "\"" + name +
           "\" is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending "
           "with a letter or digit)";
  }
  return {};
}

Session::Session() : io_(std::make_unique<IoRuntime>(1)) {}
Session::~Session() { io_->stop(); }

Expected<kube::ClientPtr> Session::connect(const Globals& globals,
                                           std::chrono::milliseconds timeout,
                                           kube::RestConfig* configOut) {
  auto config = kube::loadDefaultConfig(globals.kubeconfig, globals.context);
  if (!config) return fail(config.error());
  config->timeout = timeout;
  config->userAgent = kCliFieldManager;
  kube::ClientOptions options;
  options.retry.maxRetries = 1;
  options.defaultFieldManager = kCliFieldManager;
  auto client = kube::makeClient(*io_, *config, options);
  if (!client) return fail(client.error());
  if (configOut) *configOut = *config;
  return *client;
}

Expected<kube::ClientPtr> Session::clientFor(const kube::RestConfig& config) {
  kube::ClientOptions options;
  options.retry.maxRetries = 0;
  options.defaultFieldManager = kCliFieldManager;
  return kube::makeClient(*io_, config, options);
}

Expected<PortableKubeconfig> portableKubeconfig(const std::string& file, const std::string& context,
                                                const std::string& name) {
  auto loaded = kube::loadKubeconfigFiles({file});
  if (!loaded) return fail(loaded.error());
  const kube::Kubeconfig& config = *loaded;
  const std::string ctxName = context.empty() ? config.currentContext : context;
  const std::string where = "kubeconfig " + file;
  if (ctxName.empty()) {
    return fail(Error::config(where + " has no current-context: name one with the context flag"));
  }
  // The full loader's checks first: it refuses exec/auth-provider users, impersonation,
  // proxy-url and inconsistent entries, naming the context and field.
  if (auto resolved = kube::restConfigFromKubeconfig(config, ctxName); !resolved) {
    return fail(resolved.error());
  }
  const auto& ctx = config.contexts.at(ctxName);
  kube::Kubeconfig::Cluster cluster = config.clusters.at(ctx.cluster);
  kube::Kubeconfig::User user;
  if (auto it = config.users.find(ctx.user); it != config.users.end()) user = it->second;

  // Inline every file reference: the kubeconfig travels to another machine (a Secret).
  if (!cluster.certificateAuthority.empty()) {
    auto pem = readWhole(cluster.certificateAuthority, "certificate-authority file");
    if (!pem) return fail(pem.error().wrap(where));
    cluster.certificateAuthorityData = *pem;
    cluster.certificateAuthority.clear();
  }
  if (!user.clientCertificate.empty()) {
    auto pem = readWhole(user.clientCertificate, "client-certificate file");
    if (!pem) return fail(pem.error().wrap(where));
    user.clientCertificateData = *pem;
    user.clientCertificate.clear();
  }
  if (!user.clientKey.empty()) {
    auto pem = readWhole(user.clientKey, "client-key file");
    if (!pem) return fail(pem.error().wrap(where));
    user.clientKeyData = *pem;
    user.clientKey.clear();
  }
  if (!user.tokenFile.empty()) {
    auto token = readWhole(user.tokenFile, "tokenFile");
    if (!token) return fail(token.error().wrap(where));
    std::string t = *token;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    user.token = t;
    user.tokenFile.clear();
  }
  if (user.token.empty() && user.clientCertificateData.empty() && user.username.empty()) {
    return fail(Error::config(where + ": context \"" + ctxName +
                              "\" has no credentials (token or client certificate)"));
  }
  cluster.source.clear();
  user.source.clear();

  kube::Kubeconfig out;
  out.clusters[name] = cluster;
  out.users[name] = user;
  out.contexts[name] = kube::Kubeconfig::Context{name, name, "", ""};
  out.currentContext = name;
  PortableKubeconfig result;
  result.yaml = kube::renderKubeconfig(out);
  // What the operator and istiod will do with it: the restricted loader must accept it.
  auto restricted = kube::restConfigFromUntrustedKubeconfig(result.yaml, where);
  if (!restricted) return fail(restricted.error());
  result.config = std::move(*restricted);
  return result;
}

void printObjects(std::ostream& out, const std::vector<nlohmann::json>& objects,
                  const std::string& format) {
  if (format == "json") {
    if (objects.size() == 1) {
      out << objects.front().dump(4) << "\n";
    } else {
      nlohmann::json list = {{"apiVersion", "v1"},
                             {"kind", "List"},
                             {"metadata", {{"resourceVersion", ""}}},
                             {"items", objects}};
      out << list.dump(4) << "\n";
    }
    return;
  }
  out << yaml::jsonToYamlAll(objects);
}

std::string kubectlName(const kube::Resource& resource, const std::string& name) {
  std::string kind = resource.kind;
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!resource.group.empty()) kind += "." + resource.group;
  return kind + "/" + name;
}

Expected<nlohmann::json> applyAndReport(kube::Client& client, const kube::Resource& resource,
                                        const nlohmann::json& object, std::ostream& out) {
  const auto key = kube::ObjectKey::of(object);
  auto before = client.getIfExists(resource, key);
  if (!before) return fail(before.error().wrap("get " + resource.kind + " " + key.toString()));
  auto applied = client.apply(resource, object, kCliFieldManager, true);
  if (!applied) return fail(applied.error().wrap("apply " + resource.kind + " " + key.toString()));
  out << kubectlName(resource, key.name) << (*before ? " configured" : " created") << "\n";
  return applied;
}

}  // namespace rio::cli
