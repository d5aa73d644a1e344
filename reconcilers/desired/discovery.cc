#include "reconcilers/desired/discovery.h"

#include <algorithm>

namespace rio::desired {
namespace {

using nlohmann::json;
namespace r = kube::resources;

struct Port {
  std::string name;
  int port;
  int targetPort;  // == port unless the Service maps it
};

struct ServiceSpec {
  std::string name;
  std::vector<Port> ports;
  bool headless;
};

std::vector<ServiceSpec> specs(DiscoveryLayout layout) {
  if (layout == DiscoveryLayout::kIstiod) {
    return {{"istiod",
             {{"grpc-xds", 15010, 15010}, {"https-dns", 15012, 15012}, {"https-webhook", 443, 15017}, {"http-monitoring", 15014, 15014}},
             false}};
  }
  return {
      {"istio-pilot",
       {{"grpc-xds", 15010, 15010}, {"https-xds", 15011, 15011}, {"http-legacy-discovery", 8080, 8080}, {"http-monitoring", 15014, 15014}},
       true},
      {"istio-policy", {{"grpc-mixer", 9091, 9091}, {"grpc-mixer-mtls", 15004, 15004}, {"http-monitoring", 15014, 15014}}, true},
      {"istio-telemetry",
       {{"grpc-mixer", 9091, 9091}, {"grpc-mixer-mtls", 15004, 15004}, {"http-monitoring", 15014, 15014}, {"prometheus", 42422, 42422}},
       true},
      {"zipkin", {{"http-zipkin", 9411, 9411}}, true},
  };
}

bool isIpLiteral(const std::string& a) {
  if (a.find(':') != std::string::npos) return true;  // IPv6
  return !a.empty() && std::all_of(a.begin(), a.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

std::vector<std::string> discoveryServiceNames(DiscoveryLayout layout) {
  std::vector<std::string> names;
  for (const auto& s : specs(layout)) names.push_back(s.name);
  return names;
}

std::string discoveryAddress(DiscoveryLayout layout, const std::string& ns, bool mtls) {
  if (layout == DiscoveryLayout::kIstiod) return "istiod." + ns + ".svc:15012";
  return "istio-pilot." + ns + ":" + (mtls ? "15011" : "15010");
}

Manifests discoveryServices(const DiscoveryParams& p) {
  std::vector<std::string> ips, hosts;
  for (const auto& a : p.addresses) (isIpLiteral(a) ? ips : hosts).push_back(a);
  std::sort(ips.begin(), ips.end());
  Manifests out;
  for (const auto& spec : specs(p.layout)) {
    json svc = typed(r::kServices, objectMeta(p.owner, spec.name, p.meshNamespace, {{"istio.alibabacloud.com/discovery", "true"}}));
    json ports = json::array();
    for (const auto& port : spec.ports) {
      ports.push_back({{"name", port.name}, {"port", port.port}, {"targetPort", port.targetPort}, {"protocol", "TCP"}});
    }
    svc["spec"] = {{"ports", ports}};
    if (ips.empty() && !hosts.empty()) {
      // A LoadBalancer with a DNS name: Endpoints cannot hold host names, a CNAME can.
      svc["spec"]["type"] = "ExternalName";
      svc["spec"]["externalName"] = hosts.front();
      out.push_back({r::kServices, svc});
      continue;
    }
    if (spec.headless) svc["spec"]["clusterIP"] = "None";
    out.push_back({r::kServices, svc});

    json eps = typed(r::kEndpoints, objectMeta(p.owner, spec.name, p.meshNamespace, {{"istio.alibabacloud.com/discovery", "true"}}));
    json addresses = json::array();
    for (const auto& ip : ips) addresses.push_back({{"ip", ip}});
    json epPorts = json::array();
    for (const auto& port : spec.ports) epPorts.push_back({{"name", port.name}, {"port", port.targetPort}, {"protocol", "TCP"}});
    eps["subsets"] = ips.empty() ? json::array() : json::array({{{"addresses", addresses}, {"ports", epPorts}}});
    out.push_back({r::kEndpoints, eps});
  }
  return out;
}

}  // namespace rio::desired
