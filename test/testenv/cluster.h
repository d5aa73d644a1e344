// One kube-testenv cluster: an ApiServer behind the project's HTTPS server, with its own CA,
// serving certificate, admin token, token-signing key and kubeconfig file. Optional state
// directory so a restarted process keeps objects, certificates and issued tokens.
#pragma once

#include <memory>
#include <string>

#include "api/meta/error.h"
#include "controller/core/io_runtime.h"
#include "controller/http/server.h"
#include "controller/kube/kubeconfig.h"
#include "controller/kube/rest_config.h"
#include "controller/pki/x509.h"
#include "test/testenv/api_server.h"

namespace rio::testenv {

struct ClusterOptions {
  /// The cluster's name: kubeconfig cluster/user/context name and file name. DNS-1123 label.
  std::string name = "cluster";
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = a free port, kept across restart()
  /// Where `<name>.kubeconfig` is written by start() (empty: not written).
  std::string kubeconfigDir;
  /// Where state lives between processes (empty: none): `<stateDir>/<name>/` holds the CA and
  /// serving key, the admin token, the token-signing key and `objects.json`.
  std::string stateDir;
  /// Leave apiServer.serverAddress/tokenAudiences alone: the cluster sets them.
  ApiServerOptions apiServer;
  ClockPtr clock;  // null = the system clock
};

/// Thread-safety: start/stop/restart from one controlling thread (never an I/O thread);
/// accessors from any thread.
class Cluster {
 public:
  /// Creates the PKI (or loads it from the state dir), the ApiServer (objects loaded from the
  /// state dir when present) and the HTTPS server; nothing listens until start(). kConfig errors
  /// for unusable options or state files.
  static Expected<std::unique_ptr<Cluster>> create(IoRuntime& io, ClusterOptions options);
  ~Cluster();  // stop(), saving state when a state dir is set
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// Binds (the same port again after a stop) and writes the kubeconfig file.
  Expected<void> start();
  /// Closes the listener and every connection: watches end as on an API server restart. Saves
  /// state when a state dir is set. Idempotent.
  void stop();
  /// stop() then start() on the same port.
  Expected<void> restart();
  bool running() const;

  const std::string& name() const { return options_.name; }
  std::string url() const;  // "https://127.0.0.1:<port>"
  std::uint16_t port() const;
  ApiServer& api() { return *api_; }
  const std::string& caPem() const { return ca_.certPem; }
  /// The system:masters bearer token written into the kubeconfig. Secret: never log it.
  const std::string& adminToken() const { return adminToken_; }
  /// The admin kubeconfig (YAML). Holds the token: never log it.
  std::string kubeconfig() const;
  /// The path start() wrote, or "" without kubeconfigDir.
  std::string kubeconfigPath() const;
  /// Admin RestConfig for the project's own client.
  kube::RestConfig restConfig() const;
  /// A client certificate signed by this cluster's CA (CN = user, O = groups), for client-cert
  /// authentication.
  Expected<pki::KeyedCertificate> issueClientCertificate(
      const std::string& user, const std::vector<std::string>& groups) const;
  /// Writes objects.json into the state dir now (no-op without one).
  Expected<void> saveState() const;

 private:
  Cluster(IoRuntime& io, ClusterOptions options);
  Expected<void> init();

  IoRuntime& io_;
  ClusterOptions options_;
  pki::KeyedCertificate ca_;
  pki::KeyedCertificate serving_;
  std::string adminToken_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
};

}  // namespace rio::testenv
