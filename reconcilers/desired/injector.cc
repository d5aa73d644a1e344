#include "reconcilers/desired/injector.h"

#include "controller/core/base64.h"
#include "reconcilers/desired/quantity.h"

namespace rio::desired {
namespace {

using nlohmann::json;
namespace r = kube::resources;

const json kAppLabels = {{"app", "sidecarInjectorWebhook"}, {"istio", "sidecar-injector"}};

// The legacy injector (Istio 1.0/1.1) renders this Go template with `[[ ]]` delimiters for each
// pod; values known to the operator are filled in here.
std::string injectionTemplate(const InjectorParams& p) {
  const ProxySettings& x = p.proxy;
  std::string t;
  t += "initContainers:\n";
  t += "- name: istio-init\n";
  t += "  image: " + p.hub + "/proxy_init:" + p.tag + "\n";
  t += "  args:\n";
  t += "  - \"-p\"\n  - \"[[ .MeshConfig.ProxyListenPort ]]\"\n";
  t += "  - \"-u\"\n  - \"1337\"\n";
  t += "  - \"-m\"\n  - \"[[ annotation .ObjectMeta `sidecar.istio.io/interceptionMode` .ProxyConfig.InterceptionMode ]]\"\n";
  t += "  - \"-i\"\n  - \"[[ annotation .ObjectMeta `traffic.sidecar.istio.io/includeOutboundIPRanges` `" +
       x.includeIPRanges + "` ]]\"\n";
  t += "  - \"-x\"\n  - \"[[ annotation .ObjectMeta `traffic.sidecar.istio.io/excludeOutboundIPRanges` `" +
       x.excludeIPRanges + "` ]]\"\n";
  t += "  - \"-b\"\n  - \"[[ annotation .ObjectMeta `traffic.sidecar.istio.io/includeInboundPorts` `" +
       x.includeInboundPorts + "` ]]\"\n";
  t += "  - \"-d\"\n  - \"[[ annotation .ObjectMeta `traffic.sidecar.istio.io/excludeInboundPorts` `" +
       x.excludeInboundPorts + "` ]]\"\n";
  t += "  imagePullPolicy: " + p.imagePullPolicy + "\n";
  t += "  securityContext:\n    capabilities:\n      add:\n      - NET_ADMIN\n      - NET_RAW\n";
  t += "containers:\n";
  t += "- name: istio-proxy\n";
  t += "  image: \"[[ annotation .ObjectMeta `sidecar.istio.io/proxyImage` `" + proxyImage(p) + "` ]]\"\n";
  t += "  args:\n  - proxy\n  - sidecar\n";
  t += "  - --configPath\n  - \"[[ .ProxyConfig.ConfigPath ]]\"\n";
  t += "  - --binaryPath\n  - \"[[ .ProxyConfig.BinaryPath ]]\"\n";
  t += "  - --serviceCluster\n  - \"[[ or (index .ObjectMeta.Labels `app`) `istio-proxy` ]]\"\n";
  t += "  - --drainDuration\n  - \"[[ formatDuration .ProxyConfig.DrainDuration ]]\"\n";
  t += "  - --parentShutdownDuration\n  - \"[[ formatDuration .ProxyConfig.ParentShutdownDuration ]]\"\n";
  t += "  - --discoveryAddress\n  - \"[[ annotation .ObjectMeta `sidecar.istio.io/discoveryAddress` .ProxyConfig.DiscoveryAddress ]]\"\n";
  t += "  - --connectTimeout\n  - \"[[ formatDuration .ProxyConfig.ConnectTimeout ]]\"\n";
  t += "  - --proxyAdminPort\n  - \"[[ .ProxyConfig.ProxyAdminPort ]]\"\n";
  t += "  - --concurrency\n  - \"" + std::to_string(x.concurrency) + "\"\n";
  t += "  - --proxyLogLevel\n  - \"[[ annotation .ObjectMeta `sidecar.istio.io/logLevel` `" + x.logLevel + "` ]]\"\n";
  t += "  - --controlPlaneAuthPolicy\n  - \"[[ annotation .ObjectMeta `sidecar.istio.io/controlPlaneAuthPolicy` .ProxyConfig.ControlPlaneAuthPolicy ]]\"\n";
  t += "  env:\n";
  for (const auto& [name, path] : {std::pair{"POD_NAME", "metadata.name"}, std::pair{"POD_NAMESPACE", "metadata.namespace"},
                                   std::pair{"INSTANCE_IP", "status.podIP"}, std::pair{"ISTIO_META_POD_NAME", "metadata.name"}}) {
    t += std::string("  - name: ") + name + "\n    valueFrom:\n      fieldRef:\n        fieldPath: " + path + "\n";
  }
  t += "  imagePullPolicy: " + p.imagePullPolicy + "\n";
  t += "  securityContext:\n    readOnlyRootFilesystem: true\n    runAsUser: 1337\n";
  t += "  resources:\n";
  json res = x.resources.toJson();
  for (const auto& part : {"requests", "limits"}) {
    if (!res.contains(part)) continue;
    t += std::string("    ") + part + ":\n";
    for (const auto& [k, v] : res[part].items()) t += "      " + k + ": \"" + v.get<std::string>() + "\"\n";
  }
  t += "  volumeMounts:\n  - mountPath: /etc/istio/proxy\n    name: istio-envoy\n"
       "  - mountPath: /etc/certs/\n    name: istio-certs\n    readOnly: true\n";
  t += "volumes:\n- emptyDir:\n    medium: Memory\n  name: istio-envoy\n";
  t += "- name: istio-certs\n  secret:\n    optional: true\n"
       "    secretName: \"[[ printf `istio.%s` (or .Spec.ServiceAccountName `default`) ]]\"\n";
  return t;
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += prefix + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

}  // namespace

json Resources::toJson() const {
  json j = json::object();
  // The API server stores quantities canonically ("2000m" -> "2"); so do we (see quantity.h).
  if (!cpuRequest.empty()) j["requests"]["cpu"] = canonicalQuantity(cpuRequest);
  if (!memoryRequest.empty()) j["requests"]["memory"] = canonicalQuantity(memoryRequest);
  if (!cpuLimit.empty()) j["limits"]["cpu"] = canonicalQuantity(cpuLimit);
  if (!memoryLimit.empty()) j["limits"]["memory"] = canonicalQuantity(memoryLimit);
  return j;
}

std::string proxyImage(const InjectorParams& p) {
  return p.proxy.image.empty() ? p.hub + "/proxyv2:" + p.tag : p.proxy.image;
}

std::string injectorImage(const InjectorParams& p) {
  return p.injectorImage.empty() ? p.hub + "/sidecar_injector:" + p.tag : p.injectorImage;
}

std::string injectionConfig(const InjectorParams& p) {
  return "policy: " + p.policy + "\ntemplate: |-\n" + indent(injectionTemplate(p), "  ");
}

std::string meshConfig(const InjectorParams& p) {
  std::string m;
  m += "defaultConfig:\n";
  m += "  connectTimeout: 10s\n";
  m += "  configPath: /etc/istio/proxy\n";
  m += "  binaryPath: /usr/local/bin/envoy\n";
  m += "  serviceCluster: istio-proxy\n";
  m += "  drainDuration: 45s\n";
  m += "  parentShutdownDuration: 1m0s\n";
  m += "  proxyAdminPort: 15000\n";
  m += "  concurrency: " + std::to_string(p.proxy.concurrency) + "\n";
  m += std::string("  controlPlaneAuthPolicy: ") + (p.controlPlaneMtls ? "MUTUAL_TLS" : "NONE") + "\n";
  m += "  discoveryAddress: " + p.discoveryAddress + "\n";
  return m;
}

Manifests sidecarInjector(const InjectorParams& p) {
  const std::string& ns = p.meshNamespace;
  Manifests out;

  out.push_back({r::kServiceAccounts, typed(r::kServiceAccounts, objectMeta(p.owner, kInjectorServiceAccount, ns, kAppLabels))});

  // The injector reads only its two ConfigMaps (mounted, but hot-reload watches may read them).
  json role = typed(r::kRoles, objectMeta(p.owner, kInjectorName, ns, kAppLabels));
  role["rules"] = json::array({{{"apiGroups", {""}},
                                {"resources", {"configmaps"}},
                                {"resourceNames", {kInjectorName, kMeshConfigMap}},
                                {"verbs", {"get", "list", "watch"}}}});
  out.push_back({r::kRoles, role});
  json rb = typed(r::kRoleBindings, objectMeta(p.owner, kInjectorName, ns, kAppLabels));
  rb["roleRef"] = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", kInjectorName}};
  rb["subjects"] = json::array({{{"kind", "ServiceAccount"}, {"name", kInjectorServiceAccount}, {"namespace", ns}}});
  out.push_back({r::kRoleBindings, rb});

  json mesh = typed(r::kConfigMaps, objectMeta(p.owner, kMeshConfigMap, ns, {{"app", "istio"}}));
  mesh["data"] = {{"mesh", meshConfig(p)}};
  out.push_back({r::kConfigMaps, mesh});

  json inject = typed(r::kConfigMaps, objectMeta(p.owner, kInjectorName, ns, kAppLabels));
  inject["data"] = {{"config", injectionConfig(p)}};
  out.push_back({r::kConfigMaps, inject});

  json certs = typed(r::kSecrets, objectMeta(p.owner, kInjectorCertSecret, ns, kAppLabels));
  certs["type"] = "Opaque";
  certs["data"] = {{"cert-chain.pem", base64::encode(p.servingCertPem)},
                   {"key.pem", base64::encode(p.servingKeyPem)},
                   {"root-cert.pem", base64::encode(p.caBundlePem)}};
  out.push_back({r::kSecrets, certs});

  json deploy = typed(r::kDeployments, objectMeta(p.owner, kInjectorName, ns, kAppLabels));
  json container = {
      {"name", "sidecar-injector-webhook"},
      {"image", injectorImage(p)},
      {"imagePullPolicy", p.imagePullPolicy},
      {"args", {"--caCertFile=/etc/istio/certs/root-cert.pem", "--tlsCertFile=/etc/istio/certs/cert-chain.pem",
                "--tlsKeyFile=/etc/istio/certs/key.pem", "--injectConfig=/etc/istio/inject/config",
                "--meshConfig=/etc/istio/config/mesh", "--port=" + std::to_string(kInjectorPort),
                "--healthCheckInterval=2s", "--healthCheckFile=/tmp/health"}},
      {"ports", json::array({{{"name", "https-webhook"}, {"containerPort", kInjectorPort}, {"protocol", "TCP"}}})},
      {"volumeMounts", json::array({{{"name", "config-volume"}, {"mountPath", "/etc/istio/config"}, {"readOnly", true}},
                                    {{"name", "certs"}, {"mountPath", "/etc/istio/certs"}, {"readOnly", true}},
                                    {{"name", "inject-config"}, {"mountPath", "/etc/istio/inject"}, {"readOnly", true}},
                                    {{"name", "tmp"}, {"mountPath", "/tmp"}}})},
      {"livenessProbe", {{"exec", {{"command", {"/usr/local/bin/sidecar-injector", "probe", "--probe-path=/tmp/health", "--interval=4s"}}}},
                         {"initialDelaySeconds", 4}, {"periodSeconds", 4}}},
      {"readinessProbe", {{"exec", {{"command", {"/usr/local/bin/sidecar-injector", "probe", "--probe-path=/tmp/health", "--interval=4s"}}}},
                          {"initialDelaySeconds", 4}, {"periodSeconds", 4}}},
      {"resources", p.injectorResources.toJson()},
      {"securityContext", {{"allowPrivilegeEscalation", false},
                           {"readOnlyRootFilesystem", true},
                           {"runAsNonRoot", true},
                           {"runAsUser", 1337},
                           {"runAsGroup", 1337},
                           {"capabilities", {{"drop", {"ALL"}}}}}},
  };
  deploy["spec"] = {
      {"replicas", p.replicas},
      {"selector", {{"matchLabels", {{"istio", "sidecar-injector"}}}}},
      {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}}},
      {"template",
       {{"metadata", {{"labels", kAppLabels}, {"annotations", {{"sidecar.istio.io/inject", "false"}}}}},
        {"spec",
         {{"serviceAccountName", kInjectorServiceAccount},
          {"securityContext", {{"runAsNonRoot", true}, {"fsGroup", 1337}}},
          {"containers", json::array({container})},
          {"volumes", json::array({{{"name", "config-volume"}, {"configMap", {{"name", kMeshConfigMap}}}},
                                   {{"name", "certs"}, {"secret", {{"secretName", kInjectorCertSecret}}}},
                                   {{"name", "inject-config"},
                                    {"configMap", {{"name", kInjectorName}, {"items", json::array({{{"key", "config"}, {"path", "config"}}})}}}},
                                   {{"name", "tmp"}, {"emptyDir", json::object()}}})}}}}},
  };
  out.push_back({r::kDeployments, deploy});

  json svc = typed(r::kServices, objectMeta(p.owner, kInjectorName, ns, {{"istio", "sidecar-injector"}}));
  svc["spec"] = {{"selector", {{"istio", "sidecar-injector"}}},
                 {"ports", json::array({{{"name", "https-webhook"}, {"port", 443}, {"targetPort", kInjectorPort}, {"protocol", "TCP"}}})}};
  out.push_back({r::kServices, svc});

  json mwc = typed(r::kMutatingWebhookConfigurations, objectMeta(p.owner, kInjectorName, "", {{"app", "sidecar-injector"}}));
  mwc["webhooks"] = json::array({{
      {"name", kWebhookName},
      {"clientConfig", {{"service", {{"name", kInjectorName}, {"namespace", ns}, {"path", "/inject"}, {"port", 443}}},
                        {"caBundle", base64::encode(p.caBundlePem)}}},
      {"rules", json::array({{{"operations", {"CREATE"}}, {"apiGroups", {""}}, {"apiVersions", {"v1"}}, {"resources", {"pods"}}, {"scope", "*"}}})},
      {"failurePolicy", p.failurePolicy},
      {"sideEffects", "None"},
      {"admissionReviewVersions", {"v1beta1", "v1"}},
      {"timeoutSeconds", 10},
      {"namespaceSelector", {{"matchLabels", {{kInjectionLabel, "enabled"}}}}},
  }});
  out.push_back({r::kMutatingWebhookConfigurations, mwc});
  return out;
}

}  // namespace rio::desired
