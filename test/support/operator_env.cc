#include "test/support/operator_env.h"

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "controller/core/base64.h"
#include "controller/core/io_runtime.h"
#include "test/support/eventually.h"
#include "test/testenv/object_util.h"

namespace rio::testing {

std::string OperatorEnv::readSource(const std::string& relativePath) {
  std::ifstream in(std::string(RIO_SOURCE_DIR) + "/" + relativePath);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json OperatorEnv::sample(const std::string& fileName) {
  auto j = testenv::yamlToJson(readSource("crds/samples/" + fileName));
  REQUIRE(j);
  return *j;
}

OperatorEnv::OperatorEnv(OperatorEnvOptions options) : options_(std::move(options)) {
  io_ = std::make_unique<IoRuntime>(options_.ioThreads);
  env_ = std::make_unique<testenv::Testenv>(*io_);
  executor_ = runtime::makeExecutor(options_.executorThreads);
  std::vector<std::string> names{options_.hub};
  names.insert(names.end(), options_.remotes.begin(), options_.remotes.end());
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto opts = testenv::Testenv::defaultsFor(names[i], i);
    opts.apiServer.simulation.deploymentReadyDelay = options_.deploymentReadyDelay;
    auto added = env_->add(opts);
    REQUIRE(added);
  }
  auto hubc = hubClient();
  for (const char* crd : {"crds/istio.alibabacloud.com_remoteistios.yaml", "crds/istio.alibabacloud.com_meshmemberships.yaml"}) {
    auto obj = testenv::yamlToJson(readSource(crd));
    REQUIRE(obj);
    auto created = hubc->create(kube::resources::kCustomResourceDefinitions, *obj);
    REQUIRE(created);
  }
  nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", options_.meshNamespace}}}};
  REQUIRE(hubc->create(kube::resources::kNamespaces, ns));
  // The CRDs are served once discovery lists them.
  REQUIRE(eventually([&] { return hubc->getPath("/apis/istio.alibabacloud.com/v1beta1").has_value(); }));
}

OperatorEnv::~OperatorEnv() {
  env_->stop();
  executor_->shutdown();
  io_->stop();
}

testenv::Cluster& OperatorEnv::hub() { return remote(options_.hub); }

testenv::Cluster& OperatorEnv::remote(const std::string& name) {
  auto* c = env_->find(name);
  REQUIRE(c != nullptr);
  return *c;
}

kube::ClientPtr OperatorEnv::clientFor(const kube::RestConfig& config) {
  auto client = kube::makeClient(*io_, config);
  REQUIRE(client);
  return *client;
}

kube::ClientPtr OperatorEnv::hubClient() { return remoteClient(options_.hub); }

kube::ClientPtr OperatorEnv::remoteClient(const std::string& name) {
  auto it = clients_.find(name);
  if (it != clients_.end()) return it->second;
  auto client = clientFor(remote(name).restConfig());
  clients_[name] = client;
  return client;
}

void OperatorEnv::createBootstrapSecret(const std::string& remoteName, const std::string& secretName,
                                        const std::string& key) {
  nlohmann::json secret = {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"metadata", {{"name", secretName}, {"namespace", options_.meshNamespace}}},
                           {"type", "Opaque"},
                           {"data", {{key, base64::encode(remote(remoteName).kubeconfig())}}}};
  REQUIRE(hubClient()->create(kube::resources::kSecrets, secret));
}

nlohmann::json OperatorEnv::createInHub(const std::string& text) {
  auto obj = testenv::yamlToJson(text);
  REQUIRE(obj);
  std::string apiVersion = obj->value("apiVersion", "");
  std::string kind = obj->value("kind", "");
  kube::Resource resource;
  if (apiVersion == "istio.alibabacloud.com/v1beta1") {
    resource = kind == "RemoteIstio"
                   ? kube::Resource{"istio.alibabacloud.com", "v1beta1", "remoteistios", "RemoteIstio", true}
                   : kube::Resource{"istio.alibabacloud.com", "v1beta1", "meshmemberships", "MeshMembership", true};
  } else if (kind == "Secret") {
    resource = kube::resources::kSecrets;
  } else if (kind == "ConfigMap") {
    resource = kube::resources::kConfigMaps;
  } else if (kind == "Namespace") {
    resource = kube::resources::kNamespaces;
  } else {
    FAIL("createInHub does not know " << apiVersion << " " << kind);
  }
  auto created = hubClient()->create(resource, *obj);
  REQUIRE(created);
  return *created;
}

}  // namespace rio::testing
