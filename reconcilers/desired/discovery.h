// Selector-less Services + Endpoints in a remote cluster that point back at the control plane, so
// sidecars there resolve `istio-pilot.istio-system` (legacy layout: pilot, policy, telemetry,
// zipkin) or `istiod.istio-system` (Istio ≥ 1.5) to control-plane pod IPs (flat network) or to the
// control plane's ingress gateway address (gateway mode). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "reconcilers/desired/labels.h"
#include "reconcilers/desired/manifest.h"

namespace rio::desired {

enum class DiscoveryLayout { kLegacy, kIstiod };

struct DiscoveryParams {
  Owner owner;
  std::string meshNamespace = "istio-system";
  DiscoveryLayout layout = DiscoveryLayout::kLegacy;
  /// Addresses the services resolve to: IPv4/IPv6 literals. Host names (a LoadBalancer with a DNS
  /// name) are served through ExternalName Services instead of Endpoints.
  std::vector<std::string> addresses;
};

/// The Service names of a layout ("istio-pilot", "istio-policy", ... or "istiod").
std::vector<std::string> discoveryServiceNames(DiscoveryLayout layout);
/// The address sidecars use for xDS in this layout, e.g. "istio-pilot.istio-system:15010".
std::string discoveryAddress(DiscoveryLayout layout, const std::string& meshNamespace, bool mtls);
/// Services (and Endpoints for IP addresses), sorted per service: Service then Endpoints.
Manifests discoveryServices(const DiscoveryParams& params);

}  // namespace rio::desired
