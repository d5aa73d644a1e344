#include "api/v1beta1/remote_istio.h"

#include "api/v1beta1/object_codec.h"

namespace rio::meta {

const std::vector<std::pair<v1beta1::ProxyLogLevel, std::string_view>>&
EnumTraits<v1beta1::ProxyLogLevel>::values() {
  using L = v1beta1::ProxyLogLevel;
  static const std::vector<std::pair<L, std::string_view>> kValues = {
      {L::kTrace, "trace"},     {L::kDebug, "debug"}, {L::kInfo, "info"},
      {L::kWarning, "warning"}, {L::kError, "error"}, {L::kCritical, "critical"},
      {L::kOff, "off"},
  };
  return kValues;
}

const std::vector<std::pair<v1beta1::WebhookFailurePolicy, std::string_view>>&
EnumTraits<v1beta1::WebhookFailurePolicy>::values() {
  using P = v1beta1::WebhookFailurePolicy;
  static const std::vector<std::pair<P, std::string_view>> kValues = {
      {P::kFail, "Fail"},
      {P::kIgnore, "Ignore"},
  };
  return kValues;
}

const std::vector<std::pair<v1beta1::GatewayServiceType, std::string_view>>&
EnumTraits<v1beta1::GatewayServiceType>::values() {
  using T = v1beta1::GatewayServiceType;
  static const std::vector<std::pair<T, std::string_view>> kValues = {
      {T::kLoadBalancer, "LoadBalancer"},
      {T::kNodePort, "NodePort"},
      {T::kClusterIP, "ClusterIP"},
  };
  return kValues;
}

}  // namespace rio::meta

namespace rio::v1beta1 {

using meta::field;
using meta::FieldTable;
using meta::ListType;
using meta::StringFormat;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Istio's defaults for the sidecar proxy and gateways (istio-remote/istio charts). Function
// statics, so a (never expected) allocation failure cannot happen before main.
const json& proxyResources() {
  static const json kValue = {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}},
                              {"limits", {{"cpu", "2000m"}, {"memory", "1024Mi"}}}};
  return kValue;
}

const json& injectorResources() {
  static const json kValue = {{"requests", {{"cpu", "10m"}, {"memory", "64Mi"}}}};
  return kValue;
}

}  // namespace

std::string hubForRegion(std::string_view region) {
  return "registry." + std::string(region) + ".aliyuncs.com/aliacs-app-catalog";
}

std::string imageReference(std::string_view hub, std::string_view image, std::string_view tag) {
  if (image.find('/') != std::string_view::npos) return std::string(image);
  return std::string(hub) + "/" + std::string(image) + ":" + std::string(tag);
}

const FieldTable<DockerImage>& DockerImage::fields() {
  static const FieldTable<DockerImage> kTable = {
      field("region", &DockerImage::region, {.format = StringFormat::kDns1123Label}),
  };
  return kTable;
}

const FieldTable<ProxyConfig>& ProxyConfig::fields() {
  static const FieldTable<ProxyConfig> kTable = {
      field("image", &ProxyConfig::image,
            {.defaultValue = json(kDefaultProxyImage),
             .operatorDefault = true,
             .format = StringFormat::kImage}),
      field("resources", &ProxyConfig::resources,
            {.defaultValue = proxyResources(), .operatorDefault = true}),
      field("concurrency", &ProxyConfig::concurrency,
            {.defaultValue = 2, .minimum = 0, .maximum = 256}),
      field("logLevel", &ProxyConfig::logLevel, {.defaultValue = "warning"}),
  };
  return kTable;
}

const FieldTable<LocalSecretReference>& LocalSecretReference::fields() {
  static const FieldTable<LocalSecretReference> kTable = {
      field("name", &LocalSecretReference::name,
            {.required = true, .format = StringFormat::kDns1123Subdomain}),
  };
  return kTable;
}

const FieldTable<CACertsConfig>& CACertsConfig::fields() {
  static const FieldTable<CACertsConfig> kTable = {
      field("enabled", &CACertsConfig::enabled, {.defaultValue = true}),
      field("rootSecretRef", &CACertsConfig::rootSecretRef),
      field("certTTL", &CACertsConfig::certTTL,
            {.defaultValue = "8760h",
             .format = StringFormat::kDuration,
             .minDuration = 24h,
             .maxDuration = 87600h}),
  };
  return kTable;
}

const FieldTable<SecurityConfig>& SecurityConfig::fields() {
  static const FieldTable<SecurityConfig> kTable = {
      field("trustDomain", &SecurityConfig::trustDomain,
            {.defaultValue = json(kDefaultTrustDomain), .format = StringFormat::kDns1123Subdomain}),
      field("cacerts", &SecurityConfig::cacerts,
            {.defaultValue = json::object(), .operatorDefault = true}),
  };
  return kTable;
}

const FieldTable<K8sIngressGateway>& K8sIngressGateway::fields() {
  static const FieldTable<K8sIngressGateway> kTable = {
      field("enabled", &K8sIngressGateway::enabled, {.defaultValue = false}),
      field("replicaCount", &K8sIngressGateway::replicaCount,
            {.defaultValue = kDefaultReplicaCount, .minimum = 0, .maximum = kMaxReplicaCount}),
      field("serviceType", &K8sIngressGateway::serviceType, {.defaultValue = "LoadBalancer"}),
      field("serviceAnnotations", &K8sIngressGateway::serviceAnnotations),
      field("resources", &K8sIngressGateway::resources,
            {.defaultValue = proxyResources(), .operatorDefault = true}),
  };
  return kTable;
}

const FieldTable<Gateways>& Gateways::fields() {
  static const FieldTable<Gateways> kTable = {
      field("k8singress", &Gateways::k8singress,
            {.defaultValue = json::object(), .operatorDefault = true}),
  };
  return kTable;
}

const FieldTable<SidecarInjectorConfig>& SidecarInjectorConfig::fields() {
  static const FieldTable<SidecarInjectorConfig> kTable = {
      field("enabled", &SidecarInjectorConfig::enabled, {.defaultValue = true}),
      field("replicaCount", &SidecarInjectorConfig::replicaCount,
            {.defaultValue = kDefaultReplicaCount, .minimum = 0, .maximum = kMaxReplicaCount}),
      field("image", &SidecarInjectorConfig::image,
            {.defaultValue = json(kDefaultInjectorImage),
             .operatorDefault = true,
             .format = StringFormat::kImage}),
      field("failurePolicy", &SidecarInjectorConfig::failurePolicy, {.defaultValue = "Fail"}),
      field("resources", &SidecarInjectorConfig::resources,
            {.defaultValue = injectorResources(), .operatorDefault = true}),
  };
  return kTable;
}

const FieldTable<RemoteIstioSpec>& RemoteIstioSpec::fields() {
  static const FieldTable<RemoteIstioSpec> kTable = {
      field("autoInjectionNamespaces", &RemoteIstioSpec::autoInjectionNamespaces,
            {.format = StringFormat::kDns1123Label, .listType = ListType::kSet}),
      field("dockerImage", &RemoteIstioSpec::dockerImage),
      // hub's default is computed from dockerImage.region in RemoteIstio::applyDefaults.
      field("hub", &RemoteIstioSpec::hub, {.format = StringFormat::kImageRepository}),
      field("tag", &RemoteIstioSpec::tag,
            {.defaultValue = json(kDefaultTag),
             .operatorDefault = true,
             .format = StringFormat::kImageTag}),
      field("includeIPRanges", &RemoteIstioSpec::includeIPRanges,
            {.defaultValue = json(kDefaultIncludeIPRanges),
             .format = StringFormat::kIncludeIPRanges}),
      field("proxy", &RemoteIstioSpec::proxy,
            {.defaultValue = json::object(), .operatorDefault = true}),
      field("security", &RemoteIstioSpec::security,
            {.defaultValue = json::object(), .operatorDefault = true}),
      field("gateways", &RemoteIstioSpec::gateways,
            {.defaultValue = json::object(), .operatorDefault = true}),
      field("sidecarInjector", &RemoteIstioSpec::sidecarInjector,
            {.defaultValue = json::object(), .operatorDefault = true}),
  };
  return kTable;
}

const FieldTable<ComponentStatus>& ComponentStatus::fields() {
  static const FieldTable<ComponentStatus> kTable = {
      field("name", &ComponentStatus::name, {.required = true}),
      field("ready", &ComponentStatus::ready, {.required = true}),
      field("desiredReplicas", &ComponentStatus::desiredReplicas, {.minimum = 0}),
      field("readyReplicas", &ComponentStatus::readyReplicas, {.minimum = 0}),
      field("message", &ComponentStatus::message),
  };
  return kTable;
}

const FieldTable<RemoteIstioStatus>& RemoteIstioStatus::fields() {
  static const FieldTable<RemoteIstioStatus> kTable = {
      field("observedGeneration", &RemoteIstioStatus::observedGeneration, {.minimum = 0}),
      field("conditions", &RemoteIstioStatus::conditions,
            {.listType = ListType::kMap, .listMapKey = "type"}),
      field("phase", &RemoteIstioStatus::phase),
      field("components", &RemoteIstioStatus::components,
            {.listType = ListType::kMap, .listMapKey = "name"}),
      field("kubernetesVersion", &RemoteIstioStatus::kubernetesVersion),
      field("labeledNamespaces", &RemoteIstioStatus::labeledNamespaces,
            {.listType = ListType::kSet}),
      field("lastSyncTime", &RemoteIstioStatus::lastSyncTime),
  };
  return kTable;
}

const FieldTable<RemoteIstio>& RemoteIstio::fields() {
  static const FieldTable<RemoteIstio> kTable = {
      field("apiVersion", &RemoteIstio::apiVersion),
      field("kind", &RemoteIstio::kind),
      field("metadata", &RemoteIstio::metadata, {.alwaysEmit = true}),
      field("spec", &RemoteIstio::spec, {.alwaysEmit = true}),
      field("status", &RemoteIstio::status),
  };
  return kTable;
}

Expected<RemoteIstio> RemoteIstio::fromJson(const json& j) {
  return detail::strictDecode<RemoteIstio>(j, kRemoteIstioKind);
}

json RemoteIstio::toJson() const { return meta::encode(*this); }

void RemoteIstio::applyDefaults() {
  if (!spec.hub) spec.hub = hub();
  meta::applyDefaults(spec);
}

meta::FieldErrors RemoteIstio::validate() const {
  meta::FieldErrors errors;
  detail::validateTypeMeta(apiVersion, kind, kRemoteIstioKind, errors);
  const meta::FieldPath name("metadata.name");
  if (metadata.name.empty()) {
    errors.required(name);
  } else if (!meta::isDns1123Label(metadata.name)) {
    errors.invalid(name,
                   "is the remote cluster's name: " +
                       std::string(meta::formatInfo(StringFormat::kDns1123Label).requirement) +
                       " (got " + meta::quoteValue(metadata.name) + ")");
  }
  meta::validateFields(spec, meta::FieldPath("spec"), errors);
  return errors;
}

std::string RemoteIstio::hub() const {
  if (spec.hub && !spec.hub->empty()) return *spec.hub;
  if (spec.dockerImage && spec.dockerImage->region && !spec.dockerImage->region->empty()) {
    return hubForRegion(*spec.dockerImage->region);
  }
  return std::string(kDefaultHub);
}

std::string RemoteIstio::tag() const {
  return spec.tag && !spec.tag->empty() ? *spec.tag : std::string(kDefaultTag);
}

std::string RemoteIstio::injectorImage() const {
  std::string image(kDefaultInjectorImage);
  if (spec.sidecarInjector && spec.sidecarInjector->image) image = *spec.sidecarInjector->image;
  return imageReference(hub(), image, tag());
}

std::string RemoteIstio::proxyImage() const {
  std::string image(kDefaultProxyImage);
  if (spec.proxy && spec.proxy->image) image = *spec.proxy->image;
  return imageReference(hub(), image, tag());
}

meta::KnownFields RemoteIstio::knownFields() { return detail::specAndStatusFields<RemoteIstio>(); }

meta::ValidationResult<RemoteIstio> decodeRemoteIstio(const json& j) {
  return detail::decodeAndValidate<RemoteIstio>(j);
}

}  // namespace rio::v1beta1
