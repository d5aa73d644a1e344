// Kubeconfig loading as kubectl does it, plus in-cluster config and a restricted loader for
// kubeconfigs that arrive in Secrets (untrusted input).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/meta/error.h"
#include "controller/kube/rest_config.h"

namespace rio::kube {

/// A parsed kubeconfig (possibly merged from several files). Paths inside it are already resolved
/// against the directory of the file that defined them.
struct Kubeconfig {
  struct Cluster {
    std::string server;
    std::string certificateAuthority;      // file path
    std::string certificateAuthorityData;  // decoded PEM
    std::string tlsServerName;
    bool insecureSkipTlsVerify = false;
    std::string proxyUrl;  // not supported; kept so it can be reported
    std::string source;    // where this entry was defined, for messages; not rendered
  };
  struct User {
    std::string token;
    std::string tokenFile;
    std::string clientCertificate;      // file path
    std::string clientCertificateData;  // decoded PEM
    std::string clientKey;              // file path
    std::string clientKeyData;          // decoded PEM
    std::string username;
    std::string password;
    bool hasExec = false;          // `exec` credential plugin (EKS-style)
    bool hasAuthProvider = false;  // `auth-provider` (GKE/OIDC-style)
    std::string authProviderName;
    bool hasImpersonation = false;  // `as`, `as-uid`, `as-groups`, `as-user-extra`: not supported
    std::string source;             // where this entry was defined, for messages; not rendered
  };
  struct Context {
    std::string cluster;
    std::string user;
    std::string ns;      // `namespace`
    std::string source;  // where this entry was defined, for messages; not rendered
  };
  std::map<std::string, Cluster> clusters;
  std::map<std::string, User> users;
  std::map<std::string, Context> contexts;
  std::string currentContext;
  /// Where the whole config came from, for messages ("kubeconfig /home/u/.kube/config",
  /// "Secret istio-system/x"); empty for configs built in memory. Not rendered.
  std::string source;
};

/// How much a kubeconfig is trusted.
enum class KubeconfigTrust {
  /// A user's own file: file paths, tokenFile allowed (exec/auth-provider still refused: not
  /// supported by this client).
  kLocal,
  /// Came from a Secret or another user: inline data only. File paths, tokenFile, exec and
  /// auth-provider are refused with a message naming the field (istiod's rules).
  kRestricted,
};

/// Parses one kubeconfig document. `baseDir` resolves relative paths (kLocal only). Errors are
/// kConfig with a message naming the file/field; never includes secret values.
/// `sourceName` is a noun phrase put in front of every message and recorded as `source` on the
/// config and its entries ("kubeconfig /home/u/.kube/config", "Secret istio-system/x").
/// An empty document is an empty config (kubectl's rule). Under kRestricted, any entry using a file
/// path, tokenFile, exec or auth-provider makes the whole document an error; under kLocal, exec,
/// auth-provider and impersonation are recorded and refused only when that user is resolved.
/// Never throws.
Expected<Kubeconfig> parseKubeconfig(std::string_view yaml, const std::string& baseDir,
                                     KubeconfigTrust trust, const std::string& sourceName);

/// Reads and merges files in order, kubectl's rules: for each map entry and for current-context
/// the first file that sets it wins. Missing files in a KUBECONFIG list are skipped; if none
/// exists it is an error. Empty paths and repeated paths are ignored. A file that exists but
/// cannot be read or parsed is an error (kConfig, naming the file). Never throws.
Expected<Kubeconfig> loadKubeconfigFiles(const std::vector<std::string>& paths);

/// Resolves a context (empty = current-context) into a RestConfig. Reads CA/cert/key files
/// (kLocal). Refuses exec/auth-provider users, missing clusters/users, and servers without a
/// scheme, with a message naming the context and field.
/// Also refuses what kubectl's validation refuses (a file and `-data` for the same item, a client
/// certificate without its key, token together with basic auth, a CA together with
/// insecure-skip-tls-verify) and what this client does not do (proxy-url, impersonation).
/// insecure-skip-tls-verify is allowed and logged as a warning. A `tokenFile` becomes a
/// FileTokenSource and is read once here, so an unreadable file fails early. Never throws.
Expected<RestConfig> restConfigFromKubeconfig(const Kubeconfig& config, const std::string& context);

/// The restricted path in one call: parse untrusted bytes (from a Secret) and resolve `context`.
/// `sourceName` names the Secret in messages ("Secret istio-system/istio-remote-secret-c1").
Expected<RestConfig> restConfigFromUntrustedKubeconfig(std::string_view yaml,
                                                       const std::string& sourceName,
                                                       const std::string& context = {});

/// Where the in-cluster config comes from (overridable for tests).
struct InClusterPaths {
  std::string tokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string caFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
  std::string host;  // KUBERNETES_SERVICE_HOST when empty
  std::string port;  // KUBERNETES_SERVICE_PORT when empty
};

/// The config of a pod's service account; the token is re-read when kubelet rotates it.
/// Errors (kConfig) when the host/port are unset, the CA or token file cannot be read, or the
/// token file is empty. An IPv6 host is bracketed in the server URL.
Expected<RestConfig> inClusterConfig(const InClusterPaths& paths = {});
/// The pod's namespace from the mount, if present.
std::optional<std::string> inClusterNamespace(const InClusterPaths& paths = {});

/// The operator's rule (DESIGN.md §5): `--kubeconfig` flag if given (it must exist); else
/// in-cluster when running in a pod (KUBERNETES_SERVICE_HOST/PORT set and the token file exists);
/// else $KUBECONFIG (colon-separated, merged); else ~/.kube/config. `context` applies to
/// kubeconfigs only. (controller-runtime itself tries $KUBECONFIG before in-cluster.)
/// Reads the process environment; see the overload below for tests.
Expected<RestConfig> loadDefaultConfig(const std::string& kubeconfigFlag,
                                       const std::string& context = {});

/// Everything loadDefaultConfig() looks at, so it can be driven without touching the environment.
struct DefaultConfigSources {
  std::string kubeconfigFlag;
  std::string context;
  /// In-cluster paths; host/port empty = read KUBERNETES_SERVICE_HOST/PORT from `env`.
  InClusterPaths inCluster;
  /// Environment lookup (KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT, KUBECONFIG, HOME);
  /// null = the process environment.
  std::function<std::optional<std::string>(const std::string&)> env;
};

/// loadDefaultConfig() with its inputs explicit. Never throws.
Expected<RestConfig> loadDefaultConfig(const DefaultConfigSources& sources);

/// Writes `config` as a kubeconfig YAML document kubectl accepts (apiVersion v1, kind Config):
/// `*-data` fields base64-encoded, every string quoted so no value is re-typed by a YAML 1.1
/// reader, empty fields omitted. `source`, exec, auth-provider and impersonation markers are not
/// written (there is nothing to write back for them). parseKubeconfig() of the result gives the
/// same clusters, users, contexts and current-context. The output holds the credentials: never
/// log it.
std::string renderKubeconfig(const Kubeconfig& config);

/// A kubeconfig with one cluster, one user and one context, all called `name`, and
/// current-context set to it: the shape of an Istio remote secret and of the test API server's
/// `<cluster>.kubeconfig`. `caPem` is the PEM CA bundle (empty = system roots), `token` a bearer
/// token (empty = no user credentials).
Kubeconfig singleClusterKubeconfig(const std::string& name, const std::string& server,
                                   const std::string& caPem, const std::string& token);

}  // namespace rio::kube
