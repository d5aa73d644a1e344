#include "reconcilers/remoteistio/spec_mapping.h"

#include <algorithm>

#include "api/meta/duration.h"

namespace rio::reconcilers::remoteistio {
namespace {

using v1beta1::RemoteIstio;

std::string quantityOf(const std::map<std::string, meta::Quantity>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second.toString();
}

}  // namespace

desired::Owner ownerFor(const RemoteIstio& ri, const std::string& cluster) {
  return desired::Owner{std::string(v1beta1::kRemoteIstioKind), ri.metadata.namespace_,
                        ri.metadata.name, cluster};
}

desired::Resources resourcesFrom(const std::optional<meta::ResourceRequirements>& spec,
                                 const desired::Resources& fallback) {
  if (!spec) return fallback;
  return desired::Resources{quantityOf(spec->requests, "cpu"), quantityOf(spec->requests, "memory"),
                            quantityOf(spec->limits, "cpu"), quantityOf(spec->limits, "memory")};
}

bool injectorEnabled(const RemoteIstio& ri) {
  return !ri.spec.sidecarInjector || ri.spec.sidecarInjector->enabled.value_or(true);
}

int injectorReplicas(const RemoteIstio& ri) {
  if (!ri.spec.sidecarInjector) return v1beta1::kDefaultReplicaCount;
  return ri.spec.sidecarInjector->replicaCount.value_or(v1beta1::kDefaultReplicaCount);
}

bool gatewayEnabled(const RemoteIstio& ri) {
  return ri.spec.gateways && ri.spec.gateways->k8singress &&
         ri.spec.gateways->k8singress->enabled.value_or(false);
}

int gatewayReplicas(const RemoteIstio& ri) {
  if (!ri.spec.gateways || !ri.spec.gateways->k8singress) return v1beta1::kDefaultReplicaCount;
  return ri.spec.gateways->k8singress->replicaCount.value_or(v1beta1::kDefaultReplicaCount);
}

bool cacertsEnabled(const RemoteIstio& ri) {
  return !ri.spec.security || !ri.spec.security->cacerts ||
         ri.spec.security->cacerts->enabled.value_or(true);
}

std::optional<std::string> rootSecretName(const RemoteIstio& ri) {
  if (!ri.spec.security || !ri.spec.security->cacerts ||
      !ri.spec.security->cacerts->rootSecretRef) {
    return std::nullopt;
  }
  return ri.spec.security->cacerts->rootSecretRef->name;
}

std::chrono::hours intermediateLifetime(const RemoteIstio& ri) {
  constexpr std::chrono::hours kDefault{24 * 365};
  if (!ri.spec.security || !ri.spec.security->cacerts || !ri.spec.security->cacerts->certTTL)
    return kDefault;
  auto parsed = meta::parseDuration(*ri.spec.security->cacerts->certTTL);
  if (!parsed) return kDefault;
  auto hours = std::chrono::duration_cast<std::chrono::hours>(*parsed);
  return hours.count() > 0 ? hours : kDefault;
}

std::vector<std::string> injectionNamespaces(const RemoteIstio& ri) {
  std::vector<std::string> out =
      ri.spec.autoInjectionNamespaces.value_or(std::vector<std::string>{});
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

desired::InjectorParams injectorParams(const RemoteIstio& ri, const desired::Owner& owner,
                                       const std::string& meshNamespace,
                                       const std::string& discoveryAddress) {
  desired::InjectorParams p;
  p.owner = owner;
  p.meshNamespace = meshNamespace;
  p.hub = ri.hub();
  p.tag = ri.tag();
  p.injectorImage = ri.injectorImage();
  p.replicas = injectorReplicas(ri);
  p.discoveryAddress = discoveryAddress;
  if (ri.spec.sidecarInjector) {
    const auto& si = *ri.spec.sidecarInjector;
    if (si.failurePolicy) p.failurePolicy = std::string(meta::enumName(*si.failurePolicy));
    // The API's default sets requests only; no limits unless the user asks for them.
    p.injectorResources = resourcesFrom(si.resources, desired::Resources{"10m", "64Mi", "", ""});
  }
  p.proxy.image = ri.proxyImage();
  p.proxy.includeIPRanges =
      ri.spec.includeIPRanges.value_or(std::string(v1beta1::kDefaultIncludeIPRanges));
  if (ri.spec.proxy) {
    const auto& proxy = *ri.spec.proxy;
    p.proxy.resources = resourcesFrom(proxy.resources, p.proxy.resources);
    if (proxy.concurrency) p.proxy.concurrency = *proxy.concurrency;
    if (proxy.logLevel) p.proxy.logLevel = std::string(meta::enumName(*proxy.logLevel));
  }
  return p;
}

desired::GatewayParams gatewayParams(const RemoteIstio& ri, const desired::Owner& owner,
                                     const std::string& meshNamespace,
                                     const std::string& discoveryAddress) {
  desired::GatewayParams p;
  p.owner = owner;
  p.meshNamespace = meshNamespace;
  p.image = ri.proxyImage();
  p.replicas = gatewayReplicas(ri);
  p.discoveryAddress = discoveryAddress;
  if (ri.spec.gateways && ri.spec.gateways->k8singress) {
    const auto& gw = *ri.spec.gateways->k8singress;
    if (gw.serviceType) p.serviceType = std::string(meta::enumName(*gw.serviceType));
    if (gw.serviceAnnotations) p.serviceAnnotations = *gw.serviceAnnotations;
    p.resources = resourcesFrom(gw.resources, p.resources);
  }
  return p;
}

}  // namespace rio::reconcilers::remoteistio
