// RemoteIstio (istio.alibabacloud.com/v1beta1): what the operator installs in one remote
// cluster so that its workloads join the mesh of the control-plane cluster. Accepts the
// reference procedure's manifest unchanged (docs/api.md, crds/samples/).
//
// All spec fields are optional. Decoding keeps fields this version does not model, so an
// update never drops what a newer client wrote. Types are plain values; not thread-safe to
// mutate concurrently, safe to read from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/condition.h"
#include "api/meta/error.h"
#include "api/meta/fields.h"
#include "api/meta/object_meta.h"
#include "api/meta/resources.h"
#include "api/meta/validation_result.h"
#include "api/v1beta1/names.h"

namespace rio::v1beta1 {

/// Sidecar proxy log levels (Envoy's).
enum class ProxyLogLevel { kTrace, kDebug, kInfo, kWarning, kError, kCritical, kOff };
/// MutatingWebhookConfiguration failurePolicy.
enum class WebhookFailurePolicy { kFail, kIgnore };
/// Service type of the ingress gateway.
enum class GatewayServiceType { kLoadBalancer, kNodePort, kClusterIP };

}  // namespace rio::v1beta1

namespace rio::meta {
template <>
struct EnumTraits<v1beta1::ProxyLogLevel> {
  static const std::vector<std::pair<v1beta1::ProxyLogLevel, std::string_view>>& values();
};
template <>
struct EnumTraits<v1beta1::WebhookFailurePolicy> {
  static const std::vector<std::pair<v1beta1::WebhookFailurePolicy, std::string_view>>& values();
};
template <>
struct EnumTraits<v1beta1::GatewayServiceType> {
  static const std::vector<std::pair<v1beta1::GatewayServiceType, std::string_view>>& values();
};
}  // namespace rio::meta

namespace rio::v1beta1 {

/// Defaults the operator applies (and the CRD declares where docs/api.md says so).
inline constexpr std::string_view kDefaultTag = "1.1.4";
inline constexpr std::string_view kDefaultHub = "docker.io/istio";
inline constexpr std::string_view kDefaultProxyImage = "proxyv2";
inline constexpr std::string_view kDefaultInjectorImage = "sidecar_injector";
inline constexpr std::string_view kDefaultIncludeIPRanges = "*";
inline constexpr std::string_view kDefaultTrustDomain = "cluster.local";
inline constexpr int32_t kDefaultReplicaCount = 1;
inline constexpr int32_t kMaxReplicaCount = 100;

/// The registry of a region: "registry.<region>.aliyuncs.com/aliacs-app-catalog".
std::string hubForRegion(std::string_view region);
/// `<hub>/<image>:<tag>`; an image that already contains '/' is a full reference, used as is.
std::string imageReference(std::string_view hub, std::string_view image, std::string_view tag);

/// spec.dockerImage
struct DockerImage {
  std::optional<std::string> region;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<DockerImage>& fields();
  bool operator==(const DockerImage&) const = default;
};

/// spec.proxy: settings of the sidecar proxy the injector adds to pods.
struct ProxyConfig {
  std::optional<std::string> image;
  std::optional<meta::ResourceRequirements> resources;
  std::optional<int32_t> concurrency;
  std::optional<ProxyLogLevel> logLevel;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<ProxyConfig>& fields();
  bool operator==(const ProxyConfig&) const = default;
};

/// A reference to a Secret in the same namespace.
struct LocalSecretReference {
  std::string name;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<LocalSecretReference>& fields();
  bool operator==(const LocalSecretReference&) const = default;
};

/// spec.security.cacerts: the per-cluster intermediate CA written to the remote `cacerts` Secret.
struct CACertsConfig {
  std::optional<bool> enabled;
  std::optional<LocalSecretReference> rootSecretRef;
  std::optional<std::string> certTTL;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<CACertsConfig>& fields();
  bool operator==(const CACertsConfig&) const = default;
};

/// spec.security
struct SecurityConfig {
  std::optional<std::string> trustDomain;
  std::optional<CACertsConfig> cacerts;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<SecurityConfig>& fields();
  bool operator==(const SecurityConfig&) const = default;
};

/// spec.gateways.k8singress
struct K8sIngressGateway {
  std::optional<bool> enabled;
  std::optional<int32_t> replicaCount;
  std::optional<GatewayServiceType> serviceType;
  std::optional<std::map<std::string, std::string>> serviceAnnotations;
  std::optional<meta::ResourceRequirements> resources;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<K8sIngressGateway>& fields();
  bool operator==(const K8sIngressGateway&) const = default;
};

/// spec.gateways
struct Gateways {
  std::optional<K8sIngressGateway> k8singress;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<Gateways>& fields();
  bool operator==(const Gateways&) const = default;
};

/// spec.sidecarInjector
struct SidecarInjectorConfig {
  std::optional<bool> enabled;
  std::optional<int32_t> replicaCount;
  std::optional<std::string> image;
  std::optional<WebhookFailurePolicy> failurePolicy;
  std::optional<meta::ResourceRequirements> resources;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<SidecarInjectorConfig>& fields();
  bool operator==(const SidecarInjectorConfig&) const = default;
};

/// spec
struct RemoteIstioSpec {
  std::optional<std::vector<std::string>> autoInjectionNamespaces;
  std::optional<DockerImage> dockerImage;
  std::optional<std::string> hub;
  std::optional<std::string> tag;
  std::optional<std::string> includeIPRanges;
  std::optional<ProxyConfig> proxy;
  std::optional<SecurityConfig> security;
  std::optional<Gateways> gateways;
  std::optional<SidecarInjectorConfig> sidecarInjector;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<RemoteIstioSpec>& fields();
  bool operator==(const RemoteIstioSpec&) const = default;
};

/// status.components[]: readiness of one thing the operator runs in the remote cluster.
struct ComponentStatus {
  std::string name;  // see v1beta1::component
  bool ready = false;
  std::optional<int32_t> desiredReplicas;
  std::optional<int32_t> readyReplicas;
  std::string message;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<ComponentStatus>& fields();
  bool operator==(const ComponentStatus&) const = default;
};

/// status
struct RemoteIstioStatus {
  int64_t observedGeneration = 0;
  std::vector<meta::Condition> conditions;
  std::string phase;  // see v1beta1::phase
  std::vector<ComponentStatus> components;
  std::string kubernetesVersion;
  std::vector<std::string> labeledNamespaces;
  std::optional<meta::Time> lastSyncTime;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<RemoteIstioStatus>& fields();
  bool operator==(const RemoteIstioStatus&) const = default;
};

/// A RemoteIstio object. metadata.name is the remote cluster's name.
struct RemoteIstio {
  std::string apiVersion = std::string(kApiVersion);
  std::string kind = std::string(kRemoteIstioKind);
  meta::ObjectMeta metadata;
  RemoteIstioSpec spec;
  RemoteIstioStatus status;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<RemoteIstio>& fields();
  bool operator==(const RemoteIstio&) const = default;

  /// Strict decode of untrusted JSON: any wrong type, unsupported enum value or missing
  /// required field (anywhere, status included) is an Error of kind kInvalid whose message lists
  /// every field path. No defaults applied, no validation. Never throws.
  static Expected<RemoteIstio> fromJson(const nlohmann::json& j);
  /// The object as JSON, including the fields it was decoded with but does not model.
  nlohmann::json toJson() const;
  /// Fills in every default (docs/api.md), including the hub computed from dockerImage.region.
  /// For reading only: never write a defaulted object back to the API server.
  void applyDefaults();
  /// Every problem in metadata and spec, each with its field path. Empty when valid.
  meta::FieldErrors validate() const;

  /// The registry in effect: spec.hub, else the region's registry, else kDefaultHub.
  std::string hub() const;
  /// The image tag in effect (spec.tag or kDefaultTag).
  std::string tag() const;
  /// `<hub>/sidecar_injector:<tag>` (or spec.sidecarInjector.image when it is a full reference).
  std::string injectorImage() const;
  /// `<hub>/proxyv2:<tag>` (or spec.proxy.image when it is a full reference).
  std::string proxyImage() const;

  /// Every field path of spec and status with the facts the CRD schema must declare.
  static meta::KnownFields knownFields();
};

/// THE call for reconcilers: decode (best effort), apply defaults, validate. See
/// meta::ValidationResult: if !result.ok(), report result.invalidCondition() (Ready=False,
/// reason InvalidSpec, message naming every bad field) and an Event, and push nothing to the
/// remote cluster; metadata is still usable for finalizers. Never throws.
meta::ValidationResult<RemoteIstio> decodeRemoteIstio(const nlohmann::json& j);

/// The CEL rule at the root of the RemoteIstio schema: metadata.name is a DNS-1123 label.
inline constexpr std::string_view kRemoteIstioNameRule =
    "self.metadata.name.size() <= 63 && "
    "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')";

}  // namespace rio::v1beta1
