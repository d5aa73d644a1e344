#include "reconcilers/desired/remote_secret.h"

#include "controller/core/base64.h"

namespace rio::desired {

std::string remoteSecretName(const std::string& cluster) { return "istio-remote-secret-" + cluster; }

Manifest istioRemoteSecret(const Owner& owner, const std::string& istioNamespace, const std::string& kubeconfig) {
  namespace r = kube::resources;
  nlohmann::json meta = objectMeta(owner, remoteSecretName(owner.cluster), istioNamespace, {{kMultiClusterLabel, "true"}});
  meta["annotations"][kClusterAnnotation] = owner.cluster;
  nlohmann::json secret = typed(r::kSecrets, meta);
  secret["type"] = "Opaque";
  secret["data"] = {{owner.cluster, base64::encode(kubeconfig)}};
  return {r::kSecrets, secret};
}

std::string operatorCredentialsSecretName(const std::string& cluster) { return "remote-istio-operator-" + cluster; }

Manifest operatorCredentialsSecret(const Owner& owner, const std::string& ns, const std::string& kubeconfig) {
  namespace r = kube::resources;
  nlohmann::json secret = typed(r::kSecrets, objectMeta(owner, operatorCredentialsSecretName(owner.cluster), ns));
  secret["type"] = "Opaque";
  secret["data"] = {{"kubeconfig", base64::encode(kubeconfig)}};
  return {r::kSecrets, secret};
}

}  // namespace rio::desired
