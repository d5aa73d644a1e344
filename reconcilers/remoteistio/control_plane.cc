#include "reconcilers/remoteistio/control_plane.h"

#include <algorithm>
#include <set>

namespace rio::reconcilers::remoteistio {
namespace {

using nlohmann::json;

const json& member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string stringOf(const json& j) { return j.is_string() ? j.get<std::string>() : std::string(); }

bool beingDeleted(const json& object) {
  return !member(member(object, "metadata"), "deletionTimestamp").is_null();
}

// A pod serves when it runs and does not say it is unready (a pod without a Ready condition yet
// counts: a freshly started pilot is better than none, and testenv pods carry no conditions).
bool serves(const json& pod) {
  const json& status = member(pod, "status");
  if (stringOf(member(status, "phase")) != "Running" || beingDeleted(pod)) return false;
  const json& conditions = member(status, "conditions");
  if (conditions.is_array()) {
    for (const auto& c : conditions) {
      if (stringOf(member(c, "type")) == "Ready" && stringOf(member(c, "status")) == "False")
        return false;
    }
  }
  return true;
}

std::vector<std::string> podIps(const json& pod) {
  std::set<std::string> ips;
  const json& status = member(pod, "status");
  if (auto ip = stringOf(member(status, "podIP")); !ip.empty()) ips.insert(ip);
  const json& list = member(status, "podIPs");
  if (list.is_array()) {
    for (const auto& entry : list) {
      if (auto ip = stringOf(member(entry, "ip")); !ip.empty()) ips.insert(ip);
    }
  }
  return {ips.begin(), ips.end()};
}

bool isIngressGateway(const json& service) {
  const json& labels = member(member(service, "metadata"), "labels");
  return stringOf(member(labels, kIngressGatewayLabel)) == kIngressGatewayValue;
}

std::vector<std::string> loadBalancerAddresses(const json& service) {
  std::vector<std::string> out;
  const json& ingress = member(member(member(service, "status"), "loadBalancer"), "ingress");
  if (!ingress.is_array()) return out;
  for (const auto& entry : ingress) {
    std::string ip = stringOf(member(entry, "ip"));
    std::string host = stringOf(member(entry, "hostname"));
    if (!ip.empty()) {
      out.push_back(ip);
    } else if (!host.empty()) {
      out.push_back(host);
    }
  }
  return out;
}

std::string nameOf(const json& object) {
  return stringOf(member(member(object, "metadata"), "name"));
}
std::string namespaceOf(const json& object) {
  return stringOf(member(member(object, "metadata"), "namespace"));
}

}  // namespace

desired::DiscoveryLayout detectLayout(const std::vector<cache::ObjectPtr>& services) {
  for (const auto& svc : services) {
    if (svc && nameOf(*svc) == kIstiodService && !beingDeleted(*svc))
      return desired::DiscoveryLayout::kIstiod;
  }
  return desired::DiscoveryLayout::kLegacy;
}

std::vector<std::string> pilotPodAddresses(const std::vector<cache::ObjectPtr>& pods) {
  std::set<std::string> ips;
  for (const auto& pod : pods) {
    if (!pod || !serves(*pod)) continue;
    for (auto& ip : podIps(*pod)) ips.insert(std::move(ip));
  }
  return {ips.begin(), ips.end()};
}

std::vector<std::string> ingressGatewayAddresses(const std::vector<cache::ObjectPtr>& services,
                                                 std::string* source) {
  std::set<std::string> addresses;
  std::vector<std::string> names;
  for (const auto& svc : services) {
    if (!svc || !isIngressGateway(*svc) || beingDeleted(*svc)) continue;
    names.push_back("Service " + namespaceOf(*svc) + "/" + nameOf(*svc));
    for (auto& a : loadBalancerAddresses(*svc)) addresses.insert(std::move(a));
  }
  if (source) {
    std::sort(names.begin(), names.end());
    source->clear();
    for (const auto& n : names) *source += (source->empty() ? "" : ", ") + n;
  }
  return {addresses.begin(), addresses.end()};
}

ControlPlaneAddresses controlPlaneAddresses(v1beta1::NetworkMode mode,
                                            const std::string& meshNamespace,
                                            const std::vector<cache::ObjectPtr>& pods,
                                            const std::vector<cache::ObjectPtr>& services) {
  ControlPlaneAddresses out;
  out.layout = detectLayout(services);
  if (mode == v1beta1::NetworkMode::kGateway) {
    std::string source;
    out.addresses = ingressGatewayAddresses(services, &source);
    out.source =
        source.empty() ? "Services labelled istio=ingressgateway in " + meshNamespace : source;
  } else {
    out.addresses = pilotPodAddresses(pods);
    out.source = std::string("pods labelled ") + kPilotSelector + " in " + meshNamespace;
  }
  return out;
}

std::string podAddressKey(const json& pod) {
  std::string key = serves(pod) ? "serving" : "idle";
  for (const auto& ip : podIps(pod)) key += "," + ip;
  return key;
}

std::string serviceAddressKey(const json& service) {
  std::string key = nameOf(service) + (beingDeleted(service) ? ":deleting" : "");
  if (isIngressGateway(service)) {
    key += ":gateway";
    for (const auto& a : loadBalancerAddresses(service)) key += "," + a;
  }
  return key;
}

}  // namespace rio::reconcilers::remoteistio
