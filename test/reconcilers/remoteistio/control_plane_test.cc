#include "reconcilers/remoteistio/control_plane.h"

#include <catch2/catch.hpp>

using namespace rio;
using namespace rio::reconcilers::remoteistio;
using nlohmann::json;

namespace {

cache::ObjectPtr pod(const std::string& name, const std::string& ip,
                     const std::string& phase = "Running", json extra = json::object()) {
  json p = {{"kind", "Pod"},
            {"metadata",
             {{"name", name}, {"namespace", "istio-system"}, {"labels", {{"istio", "pilot"}}}}},
            {"status", {{"phase", phase}}}};
  if (!ip.empty()) p["status"]["podIP"] = ip;
  p.merge_patch(extra);
  return std::make_shared<const json>(p);
}

cache::ObjectPtr service(const std::string& name, json labels = json::object(),
                         json ingress = json::array()) {
  json s = {{"kind", "Service"},
            {"metadata", {{"name", name}, {"namespace", "istio-system"}, {"labels", labels}}}};
  if (!ingress.empty()) s["status"] = {{"loadBalancer", {{"ingress", ingress}}}};
  return std::make_shared<const json>(s);
}

}  // namespace

TEST_CASE("control plane: a Service named istiod means the istiod layout, otherwise legacy",
          "[remoteistio]") {
  CHECK(detectLayout({service("istio-pilot")}) == desired::DiscoveryLayout::kLegacy);
  CHECK(detectLayout({service("istio-pilot"), service("istiod")}) ==
        desired::DiscoveryLayout::kIstiod);
  CHECK(detectLayout({}) == desired::DiscoveryLayout::kLegacy);
}

TEST_CASE("control plane: only running, not unready, not deleting pilot pods give addresses",
          "[remoteistio]") {
  auto addresses = pilotPodAddresses({
      pod("a", "10.0.0.2"),
      pod("b", "10.0.0.1"),
      pod("pending", "10.0.0.3", "Pending"),
      pod("no-ip", ""),
      pod("unready", "10.0.0.4", "Running",
          {{"status", {{"conditions", json::array({{{"type", "Ready"}, {"status", "False"}}})}}}}),
      pod("deleting", "10.0.0.5", "Running",
          {{"metadata", {{"deletionTimestamp", "2026-01-01T00:00:00Z"}}}}),
      pod("dual", "10.0.0.6", "Running",
          {{"status", {{"podIPs", json::array({{{"ip", "10.0.0.6"}}, {{"ip", "fd00::6"}}})}}}}),
  });
  CHECK(addresses == std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.6", "fd00::6"});
}

TEST_CASE(
    "control plane: gateway mode reads the LoadBalancer ingress of istio=ingressgateway Services",
    "[remoteistio]") {
  std::vector<cache::ObjectPtr> services = {
      service("istio-ingressgateway", {{"istio", "ingressgateway"}},
              json::array({{{"ip", "47.1.2.3"}}})),
      service("other-lb", {{"app", "shop"}}, json::array({{{"ip", "47.9.9.9"}}})),
      service("istio-ingressgateway-dns", {{"istio", "ingressgateway"}},
              json::array({{{"hostname", "gw.example.com"}}})),
  };
  std::string source;
  CHECK(ingressGatewayAddresses(services, &source) ==
        std::vector<std::string>{"47.1.2.3", "gw.example.com"});
  CHECK(source ==
        "Service istio-system/istio-ingressgateway, Service istio-system/istio-ingressgateway-dns");

  auto cp = controlPlaneAddresses(v1beta1::NetworkMode::kGateway, "istio-system",
                                  {pod("p", "10.0.0.1")}, services);
  CHECK(cp.addresses == std::vector<std::string>{"47.1.2.3", "gw.example.com"});
  auto flat = controlPlaneAddresses(v1beta1::NetworkMode::kFlat, "istio-system",
                                    {pod("p", "10.0.0.1")}, services);
  CHECK(flat.addresses == std::vector<std::string>{"10.0.0.1"});
  CHECK(flat.source == "pods labelled istio=pilot in istio-system");
}

TEST_CASE("control plane: address keys change only with what the remote Endpoints depend on",
          "[remoteistio]") {
  json a = *pod("a", "10.0.0.1");
  json heartbeat = a;
  heartbeat["metadata"]["resourceVersion"] = "99";
  heartbeat["status"]["startTime"] = "2026-01-01T00:00:00Z";
  CHECK(podAddressKey(a) == podAddressKey(heartbeat));
  json moved = a;
  moved["status"]["podIP"] = "10.0.0.9";
  CHECK(podAddressKey(a) != podAddressKey(moved));

  json gw = *service("istio-ingressgateway", {{"istio", "ingressgateway"}},
                     json::array({{{"ip", "47.1.2.3"}}}));
  json gw2 = gw;
  gw2["status"]["loadBalancer"]["ingress"][0]["ip"] = "47.1.2.4";
  CHECK(serviceAddressKey(gw) != serviceAddressKey(gw2));
  json plain = *service("shop");
  json plain2 = plain;
  plain2["spec"] = {{"ports", json::array()}};
  CHECK(serviceAddressKey(plain) == serviceAddressKey(plain2));
}
