// The Istio remote secret istiod reads in the control plane (istio/istio
// pkg/kube/multicluster/secretcontroller.go): label `istio/multiCluster: "true"`, annotation
// `networking.istio.io/cluster`, one data key per cluster holding a kubeconfig with an inline token.
// Pure function; the kubeconfig is secret material.
#pragma once

#include <string>

#include "reconcilers/desired/labels.h"
#include "reconcilers/desired/manifest.h"

namespace rio::desired {

inline constexpr char kMultiClusterLabel[] = "istio/multiCluster";
inline constexpr char kClusterAnnotation[] = "networking.istio.io/cluster";

/// "istio-remote-secret-<cluster>", istioctl's convention.
std::string remoteSecretName(const std::string& cluster);

/// The remote secret in `istioNamespace` for `owner.cluster`.
Manifest istioRemoteSecret(const Owner& owner, const std::string& istioNamespace, const std::string& kubeconfigYaml);

/// The operator's own credentials for a remote cluster (not read by istiod: no multiCluster label).
std::string operatorCredentialsSecretName(const std::string& cluster);
Manifest operatorCredentialsSecret(const Owner& owner, const std::string& ns, const std::string& kubeconfigYaml);

}  // namespace rio::desired
