// What remote sidecars need to know about the control plane, read from the hub's caches: the
// discovery layout (legacy pilot/policy/telemetry/zipkin, or istiod) and the addresses the remote
// discovery Services point at (pilot pod IPs on a flat network, the ingress gateway's LoadBalancer
// address otherwise). Pure functions over cached objects.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/v1beta1/mesh_membership.h"
#include "controller/cache/object.h"
#include "reconcilers/desired/discovery.h"

namespace rio::reconcilers::remoteistio {

/// Control-plane pods (pilot, or istiod which carries the same label).
inline constexpr char kPilotSelector[] = "istio=pilot";
/// The control plane's ingress gateway Services.
inline constexpr char kIngressGatewayLabel[] = "istio";
inline constexpr char kIngressGatewayValue[] = "ingressgateway";
/// The Service whose presence means the istiod layout (Istio >= 1.5).
inline constexpr char kIstiodService[] = "istiod";

/// Where remote sidecars reach the control plane.
struct ControlPlaneAddresses {
  desired::DiscoveryLayout layout = desired::DiscoveryLayout::kLegacy;
  /// Sorted, without duplicates: IP literals, or host names of a LoadBalancer.
  std::vector<std::string> addresses;
  /// What the addresses were read from, for condition messages ("istio=pilot pods in
  /// istio-system", "Service istio-system/istio-ingressgateway").
  std::string source;
};

/// kIstiod when a Service named `istiod` is among `services` (the hub's mesh namespace), else
/// kLegacy.
desired::DiscoveryLayout detectLayout(const std::vector<cache::ObjectPtr>& services);

/// IPs of the pods that can serve: status.podIP/podIPs set, phase Running, not being deleted and
/// not reporting Ready=False. Sorted, unique.
std::vector<std::string> pilotPodAddresses(const std::vector<cache::ObjectPtr>& pods);

/// status.loadBalancer.ingress[].ip (or .hostname) of the Services labelled
/// istio=ingressgateway. Sorted, unique; `source` names the Services read.
std::vector<std::string> ingressGatewayAddresses(const std::vector<cache::ObjectPtr>& services,
                                                 std::string* source = nullptr);

/// The addresses for `mode`, with the layout detected from `services`.
ControlPlaneAddresses controlPlaneAddresses(v1beta1::NetworkMode mode,
                                            const std::string& meshNamespace,
                                            const std::vector<cache::ObjectPtr>& pods,
                                            const std::vector<cache::ObjectPtr>& services);

/// What of a pod matters to the remote Endpoints (its IPs and whether it serves), so informer
/// updates that change nothing else (status heartbeats) can be filtered out.
std::string podAddressKey(const nlohmann::json& pod);
/// Likewise for a hub Service: its name (istiod detection), gateway label and LoadBalancer
/// ingress.
std::string serviceAddressKey(const nlohmann::json& service);

}  // namespace rio::reconcilers::remoteistio
