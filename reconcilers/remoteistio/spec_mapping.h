// The RemoteIstio spec mapped onto the parameters of the pure builders in reconcilers/desired/.
// Expects an object from v1beta1::decodeRemoteIstio (defaults applied, valid). Pure functions;
// certificates and addresses, which need I/O, are filled in by the reconciler.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "api/meta/resources.h"
#include "api/v1beta1/remote_istio.h"
#include "reconcilers/desired/gateway.h"
#include "reconcilers/desired/injector.h"
#include "reconcilers/desired/labels.h"

namespace rio::reconcilers::remoteistio {

/// The owner labels of everything `ri` creates in `cluster`.
desired::Owner ownerFor(const v1beta1::RemoteIstio& ri, const std::string& cluster);

/// cpu and memory of `spec` (other resources are not modelled by the builders); `fallback` when
/// the spec has none.
desired::Resources resourcesFrom(const std::optional<meta::ResourceRequirements>& spec,
                                 const desired::Resources& fallback);

bool injectorEnabled(const v1beta1::RemoteIstio& ri);
int injectorReplicas(const v1beta1::RemoteIstio& ri);
bool gatewayEnabled(const v1beta1::RemoteIstio& ri);
int gatewayReplicas(const v1beta1::RemoteIstio& ri);
bool cacertsEnabled(const v1beta1::RemoteIstio& ri);
/// spec.security.cacerts.rootSecretRef.name, when the user supplies the mesh root.
std::optional<std::string> rootSecretName(const v1beta1::RemoteIstio& ri);
/// Lifetime of the cluster's intermediate CA (spec.security.cacerts.certTTL, default 8760h).
std::chrono::hours intermediateLifetime(const v1beta1::RemoteIstio& ri);
/// spec.autoInjectionNamespaces, sorted and without duplicates.
std::vector<std::string> injectionNamespaces(const v1beta1::RemoteIstio& ri);

/// The injector's parameters without the certificates (caBundlePem, servingCertPem,
/// servingKeyPem are left empty).
desired::InjectorParams injectorParams(const v1beta1::RemoteIstio& ri, const desired::Owner& owner,
                                       const std::string& meshNamespace,
                                       const std::string& discoveryAddress);

/// The ingress gateway's parameters.
desired::GatewayParams gatewayParams(const v1beta1::RemoteIstio& ri, const desired::Owner& owner,
                                     const std::string& meshNamespace,
                                     const std::string& discoveryAddress);

}  // namespace rio::reconcilers::remoteistio
