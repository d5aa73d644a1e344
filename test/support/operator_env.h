// An operator's world for integration tests: kube-testenv with a control-plane ("hub") cluster and
// remote clusters in one process, the CRDs from crds/ installed in the hub, the mesh namespace
// created, admin clients for every cluster, and the shared runtime pieces (IoRuntime, executor)
// a controller needs. Reconciler tests wire their controllers on top of it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/kube/client.h"
#include "controller/runtime/executor.h"
#include "test/testenv/testenv.h"

namespace rio::testing {

struct OperatorEnvOptions {
  std::string hub = "hub";
  std::vector<std::string> remotes = {"cn-beijing", "cn-hangzhou"};
  std::string meshNamespace = "istio-system";
  /// Deployments become Available at once (0) or after this delay.
  std::chrono::milliseconds deploymentReadyDelay{0};
  std::size_t ioThreads = 1;
  std::size_t executorThreads = 4;
};

/// Thread-safety: set up and tear down from the test thread; the clients are thread-safe.
class OperatorEnv {
 public:
  explicit OperatorEnv(OperatorEnvOptions options = {});
  ~OperatorEnv();
  OperatorEnv(const OperatorEnv&) = delete;
  OperatorEnv& operator=(const OperatorEnv&) = delete;

  IoRuntime& io() { return *io_; }
  runtime::ExecutorPtr executor() const { return executor_; }
  testenv::Testenv& env() { return *env_; }
  testenv::Cluster& hub();
  testenv::Cluster& remote(const std::string& name);
  const OperatorEnvOptions& options() const { return options_; }

  /// Admin clients (the cluster's admin token).
  kube::ClientPtr hubClient();
  kube::ClientPtr remoteClient(const std::string& name);
  /// A client for any RestConfig (e.g. credentials the operator wrote).
  kube::ClientPtr clientFor(const kube::RestConfig& config);

  /// A Secret in the hub's mesh namespace holding the remote's admin kubeconfig under `key`: what
  /// `kubectl remoteistio join` creates for a MeshMembership's bootstrapSecretRef.
  void createBootstrapSecret(const std::string& remote, const std::string& secretName,
                             const std::string& key = "kubeconfig");
  /// Creates an object from YAML or JSON text in the hub (namespace from the document).
  nlohmann::json createInHub(const std::string& yamlOrJson);
  /// A sample from crds/samples/ as JSON.
  static nlohmann::json sample(const std::string& fileName);
  /// Reads a file under the source tree.
  static std::string readSource(const std::string& relativePath);

 private:
  OperatorEnvOptions options_;
  std::unique_ptr<IoRuntime> io_;
  std::unique_ptr<testenv::Testenv> env_;
  std::shared_ptr<runtime::ExecutorImpl> executor_;
  std::map<std::string, kube::ClientPtr> clients_;
};

}  // namespace rio::testing
