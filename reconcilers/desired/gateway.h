// `gateways.k8singress.enabled`: an ingress gateway in the remote cluster (Deployment running the
// proxy as a router, its service account, and a LoadBalancer Service). Pure function.
#pragma once

#include <map>
#include <string>

#include "reconcilers/desired/injector.h"
#include "reconcilers/desired/labels.h"
#include "reconcilers/desired/manifest.h"

namespace rio::desired {

inline constexpr char kIngressGatewayName[] = "istio-ingressgateway";

struct GatewayParams {
  Owner owner;
  std::string meshNamespace = "istio-system";
  std::string image;  // <hub>/proxyv2:<tag>
  std::string imagePullPolicy = "IfNotPresent";
  int replicas = 1;
  std::string serviceType = "LoadBalancer";
  /// Extra annotations of the Service (cloud load balancer settings).
  std::map<std::string, std::string> serviceAnnotations;
  std::string discoveryAddress;
  Resources resources{"100m", "128Mi", "2000m", "1024Mi"};
};

Manifests ingressGateway(const GatewayParams& params);

}  // namespace rio::desired
