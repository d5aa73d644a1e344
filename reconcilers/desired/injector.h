// The sidecar injector in a remote cluster (Istio's legacy istio-remote layout): service account and
// a Role limited to its own ConfigMaps, the mesh ConfigMap `istio`, the injection ConfigMap
// `istio-sidecar-injector` (policy + template), the webhook serving certificate Secret, the
// Deployment, its Service and the MutatingWebhookConfiguration selecting `istio-injection=enabled`
// namespaces. Pure functions.
#pragma once

#include <string>

#include "reconcilers/desired/labels.h"
#include "reconcilers/desired/manifest.h"

namespace rio::desired {

inline constexpr char kInjectorName[] = "istio-sidecar-injector";
inline constexpr char kInjectorServiceAccount[] = "istio-sidecar-injector-service-account";
inline constexpr char kInjectorCertSecret[] = "istio.istio-sidecar-injector-service-account";
inline constexpr char kMeshConfigMap[] = "istio";
inline constexpr char kWebhookName[] = "sidecar-injector.istio.io";
inline constexpr int kInjectorPort = 9443;  // non-root: no port below 1024

struct Resources {
  std::string cpuRequest;
  std::string memoryRequest;
  std::string cpuLimit;
  std::string memoryLimit;
  /// {"requests": {...}, "limits": {...}}, empty parts omitted, quantities in canonical form.
  nlohmann::json toJson() const;
};

struct ProxySettings {
  std::string image;  // full image; empty = <hub>/proxyv2:<tag>
  Resources resources{"100m", "128Mi", "2000m", "1024Mi"};
  int concurrency = 2;
  std::string logLevel = "warning";
  std::string includeIPRanges = "*";
  std::string excludeIPRanges;
  std::string includeInboundPorts = "*";
  std::string excludeInboundPorts;
};

struct InjectorParams {
  Owner owner;
  std::string meshNamespace = "istio-system";
  std::string hub;
  std::string tag;
  /// Full injector image; empty = <hub>/sidecar_injector:<tag>.
  std::string injectorImage;
  std::string imagePullPolicy = "IfNotPresent";
  int replicas = 1;
  /// The webhook's failurePolicy: "Fail" or "Ignore".
  std::string failurePolicy = "Fail";
  std::string policy = "enabled";  // injection policy: enabled|disabled
  ProxySettings proxy;
  /// Where sidecars reach the control plane, e.g. "istio-pilot.istio-system:15010".
  std::string discoveryAddress;
  bool controlPlaneMtls = false;
  Resources injectorResources{"10m", "64Mi", "500m", "256Mi"};
  /// PEM: the CA that signed the serving certificate (the webhook's caBundle).
  std::string caBundlePem;
  /// PEM: the webhook serving certificate chain and key (secret material).
  std::string servingCertPem;
  std::string servingKeyPem;
};

std::string proxyImage(const InjectorParams& params);
std::string injectorImage(const InjectorParams& params);
/// The injection config (`policy` + `template`) as the legacy injector reads it.
std::string injectionConfig(const InjectorParams& params);
/// The mesh config (`mesh` key of ConfigMap `istio`).
std::string meshConfig(const InjectorParams& params);

/// Every injector object in creation order: ServiceAccount, Role, RoleBinding, ConfigMaps, Secret,
/// Deployment, Service, MutatingWebhookConfiguration.
Manifests sidecarInjector(const InjectorParams& params);

}  // namespace rio::desired
