#include "reconcilers/desired/gateway.h"

namespace rio::desired {

Manifests ingressGateway(const GatewayParams& p) {
  using nlohmann::json;
  namespace r = kube::resources;
  const json labels = {{"app", "istio-ingressgateway"}, {"istio", "ingressgateway"}};
  const std::string sa = std::string(kIngressGatewayName) + "-service-account";
  Manifests out;
  out.push_back({r::kServiceAccounts, typed(r::kServiceAccounts, objectMeta(p.owner, sa, p.meshNamespace, labels))});

  json deploy = typed(r::kDeployments, objectMeta(p.owner, kIngressGatewayName, p.meshNamespace, labels));
  json container = {
      {"name", "istio-proxy"},
      {"image", p.image},
      {"imagePullPolicy", p.imagePullPolicy},
      {"args", {"proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--log_output_level=default:info",
                "--drainDuration", "45s", "--parentShutdownDuration", "1m0s", "--connectTimeout", "10s",
                "--serviceCluster", "istio-ingressgateway", "--proxyAdminPort", "15000", "--statusPort", "15020",
                "--controlPlaneAuthPolicy", "NONE", "--discoveryAddress", p.discoveryAddress}},
      {"ports", json::array({{{"containerPort", 8080}, {"name", "http2"}, {"protocol", "TCP"}},
                             {{"containerPort", 8443}, {"name", "https"}, {"protocol", "TCP"}},
                             {{"containerPort", 15443}, {"name", "tls"}, {"protocol", "TCP"}},
                             {{"containerPort", 15020}, {"name", "status-port"}, {"protocol", "TCP"}}})},
      {"readinessProbe", {{"httpGet", {{"path", "/healthz/ready"}, {"port", 15020}}}, {"initialDelaySeconds", 1}, {"periodSeconds", 2}}},
      {"env", json::array({{{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
                           {{"name", "POD_NAMESPACE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
                           {{"name", "INSTANCE_IP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIP"}}}}}}})},
      {"resources", p.resources.toJson()},
      {"securityContext", {{"allowPrivilegeEscalation", false}, {"runAsNonRoot", true}, {"runAsUser", 1337},
                           {"capabilities", {{"drop", {"ALL"}}}}}},
  };
  deploy["spec"] = {{"replicas", p.replicas},
                    {"selector", {{"matchLabels", {{"istio", "ingressgateway"}}}}},
                    {"template", {{"metadata", {{"labels", labels}, {"annotations", {{"sidecar.istio.io/inject", "false"}}}}},
                                  {"spec", {{"serviceAccountName", sa}, {"containers", json::array({container})}}}}}};
  out.push_back({r::kDeployments, deploy});

  json svc = typed(r::kServices, objectMeta(p.owner, kIngressGatewayName, p.meshNamespace, labels));
  for (const auto& [key, value] : p.serviceAnnotations) svc["metadata"]["annotations"][key] = value;
  svc["spec"] = {{"type", p.serviceType},
                 {"selector", {{"istio", "ingressgateway"}}},
                 {"ports", json::array({{{"name", "http2"}, {"port", 80}, {"targetPort", 8080}, {"protocol", "TCP"}},
                                        {{"name", "https"}, {"port", 443}, {"targetPort", 8443}, {"protocol", "TCP"}},
                                        {{"name", "tls"}, {"port", 15443}, {"targetPort", 15443}, {"protocol", "TCP"}}})}};
  out.push_back({r::kServices, svc});
  return out;
}

}  // namespace rio::desired
