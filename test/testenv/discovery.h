// Discovery documents built from the Registry, in kube-apiserver 1.32's shapes: /version, legacy
// discovery (/api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>), aggregated discovery
// (apidiscovery.k8s.io/v2) and OpenAPI v3 (/openapi/v3 index and per group-version documents,
// enough for `kubectl apply` to use server-side field validation and for `kubectl explain`).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "test/testenv/registry.h"

namespace rio::testenv::discovery {

/// /version for a gitVersion such as "v1.32.13".
nlohmann::json version(const std::string& gitVersion);
/// /api (APIVersions); `serverAddress` is "host:port".
nlohmann::json apiVersions(const std::string& serverAddress);
/// /api/v1 or /apis/<g>/<v> (APIResourceList).
nlohmann::json resourceList(const Registry& registry, const std::string& group,
                            const std::string& version);
/// /apis (APIGroupList).
nlohmann::json groupList(const Registry& registry);
/// /apis/<g> (APIGroup); null when the group is not served.
nlohmann::json group(const Registry& registry, const std::string& name);
/// Aggregated discovery for /api (core) or /apis (every group).
nlohmann::json aggregated(const Registry& registry, bool core);
inline constexpr char kAggregatedContentType[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// /openapi/v3: {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}}}.
nlohmann::json openApiIndex(const Registry& registry);
/// /openapi/v3/api/v1 or /openapi/v3/apis/<g>/<v>; null when not served.
nlohmann::json openApiDocument(const Registry& registry, const std::string& group,
                               const std::string& version);

}  // namespace rio::testenv::discovery
