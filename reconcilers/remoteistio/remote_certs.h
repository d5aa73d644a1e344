// Certificates that live in a remote cluster: the sidecar injector's serving certificate (signed
// by the hub's webhook CA) and the `cacerts` intermediate CA (signed by the mesh root). Each is
// taken over from the live Secret while it is still good, so a converged cluster is never
// rewritten, and issued anew when it is missing, broken, signed by another CA or due for renewal
// (less than a third of its lifetime left). Pure functions of their inputs and `now`.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "reconcilers/pki/mesh_trust.h"

namespace rio::reconcilers::remoteistio {

/// The DNS name the API server uses to call the injector webhook in `ns`.
std::string webhookHostName(const std::string& ns);

/// The serving certificate (certPem: the leaf, keyPem: its key) for the injector in `ns`: the one
/// in `liveSecret` (the injector's certificate Secret from the registry's cache, or null) when it
/// chains to `webhookCa`, names webhookHostName(ns), matches its key, carries `webhookCa` as its
/// root and is not due for renewal; otherwise a new one valid for `lifetime`.
Expected<pki::KeyedCertificate> servingCertificate(const nlohmann::json* liveSecret,
                                                   const pki::KeyedCertificate& webhookCa,
                                                   const std::string& ns, WallTime now,
                                                   std::chrono::hours lifetime);

/// The intermediate CA of `cluster` for its `cacerts` Secret: the live one (null when absent)
/// while it chains to `root`, matches its key, carries `root` and the right chain, and is not due
/// for renewal; otherwise a new one valid for `lifetime`.
Expected<pki::ClusterCa> clusterCa(const nlohmann::json* liveCacerts,
                                   const pki::KeyedCertificate& root, const std::string& cluster,
                                   WallTime now, std::chrono::hours lifetime);

/// When `certPem` becomes due for renewal (pki::needsRenewal turns true), nullopt when it does
/// not parse.
std::optional<WallTime> renewalTime(const std::string& certPem);

}  // namespace rio::reconcilers::remoteistio
