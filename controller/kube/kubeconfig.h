// Kubeconfig loading as kubectl does it, plus in-cluster config and a restricted loader for
// kubeconfigs that arrive in Secrets (untrusted input).
#pragma once

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
  };
  struct Context {
    std::string cluster;
    std::string user;
    std::string ns;  // `namespace`
  };
  std::map<std::string, Cluster> clusters;
  std::map<std::string, User> users;
  std::map<std::string, Context> contexts;
  std::string currentContext;
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
Expected<Kubeconfig> parseKubeconfig(std::string_view yaml, const std::string& baseDir,
                                     KubeconfigTrust trust, const std::string& sourceName);

/// Reads and merges files in order, kubectl's rules: for each map entry and for current-context
/// the first file that sets it wins. Missing files in a KUBECONFIG list are skipped; if none
/// exists it is an error.
Expected<Kubeconfig> loadKubeconfigFiles(const std::vector<std::string>& paths);

/// Resolves a context (empty = current-context) into a RestConfig. Reads CA/cert/key files
/// (kLocal). Refuses exec/auth-provider users, missing clusters/users, and servers without a
/// scheme, with a message naming the context and field.
Expected<RestConfig> restConfigFromKubeconfig(const Kubeconfig& config, const std::string& context);

/// The restricted path in one call: parse untrusted bytes (from a Secret) and resolve `context`.
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
Expected<RestConfig> inClusterConfig(const InClusterPaths& paths = {});
/// The pod's namespace from the mount, if present.
std::optional<std::string> inClusterNamespace(const InClusterPaths& paths = {});

/// The operator's rule (controller-runtime's): `--kubeconfig` flag if given; else in-cluster when
/// running in a pod; else $KUBECONFIG (colon-separated, merged); else ~/.kube/config.
Expected<RestConfig> loadDefaultConfig(const std::string& kubeconfigFlag, const std::string& context = {});

}  // namespace rio::kube
