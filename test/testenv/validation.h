// Validation as kube-apiserver does it before storing an object: names (DNS-1123 subdomain/label,
// DNS-1035, path segments), labels, annotations, owner references, kind-specific required fields,
// and custom resources against their CRD's OpenAPI v3 schema (with pruning and defaulting).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/testenv/api_errors.h"
#include "test/testenv/registry.h"

namespace rio::testenv {

enum class NameRule { kSubdomain, kLabel, kDns1035, kPathSegment };

/// The rule kube-apiserver applies to metadata.name of `type`.
NameRule nameRuleFor(const ResourceType& type);
/// Messages for an invalid name (empty when valid), as the apimachinery validators word them.
std::vector<std::string> checkName(const std::string& name, NameRule rule);
/// "a lowercase RFC 1123 subdomain must consist of..." etc. for label/annotation keys & values.
std::vector<std::string> checkQualifiedName(const std::string& key);
std::vector<std::string> checkLabelValue(const std::string& value);
/// Config map / secret keys: [-._a-zA-Z0-9]+.
std::vector<std::string> checkConfigKey(const std::string& key);

/// Checks metadata of an object to be stored (name, generateName, labels, annotations,
/// ownerReferences, finalizers).
FieldErrors validateObjectMeta(const ResourceType& type, const nlohmann::json& obj);
/// Kind-specific checks of built-in kinds; `old` is null on create. Updates also check
/// immutable fields (Deployment selector, RoleBinding roleRef, immutable ConfigMaps/Secrets).
FieldErrors validateBuiltin(const ResourceType& type, const nlohmann::json& obj,
                            const nlohmann::json& old);
/// CustomResourceDefinition checks (group, names, versions, schemas, metadata.name).
FieldErrors validateCrd(const nlohmann::json& crd, const nlohmann::json& old);

/// The outcome of pruning a custom resource.
struct PruneResult {
  std::vector<std::string> unknownFields;  // "spec.foo" paths that were dropped
};
/// Applies `default`s, drops unknown fields (unless x-kubernetes-preserve-unknown-fields) and
/// non-nullable nulls, in place. `schema` is the version's openAPIV3Schema (null: nothing).
PruneResult pruneAndDefault(const nlohmann::json& schema, nlohmann::json& obj);
/// Validates a custom resource against its schema (type, required, enum, minimum/maximum,
/// lengths, items, pattern, int-or-string). Field paths are "spec.size" as the server writes them.
FieldErrors validateSchema(const nlohmann::json& schema, const nlohmann::json& obj);

}  // namespace rio::testenv
