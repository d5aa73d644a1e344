// Test helper: what a kube-apiserver does with our CRDs, offline.
//  - structuralProblems(): the structural-schema rules a CRD must follow to be accepted;
//  - validateInstance(): OpenAPI validation of an object (types, enums, bounds, patterns,
//    list uniqueness, required, unknown fields that would be pruned) plus the CEL rules our
//    CRDs use (each evaluated by hand; an unknown rule fails the test, so a new rule needs an
//    evaluator here);
//  - applySchemaDefaults(): structural defaulting;
//  - schemaKnownFields(): the schema as meta::KnownFields, to compare with the C++ tables.
#pragma once

#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/duration.h"
#include "api/meta/fields.h"
#include "api/v1beta1/mesh_membership.h"
#include "api/v1beta1/remote_istio.h"

namespace rio::testing {

using nlohmann::json;

inline std::string join(const std::string& path, const std::string& child) {
  return path.empty() ? child : path + "." + child;
}

inline bool isIntOrString(const json& node) {
  return node.value("x-kubernetes-int-or-string", false);
}

// ---- CEL rules used by our CRDs ------------------------------------------------------------

inline bool isLabel(const std::string& s) {
  static const std::regex kLabel("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  return s.size() <= 63 && std::regex_match(s, kLabel);
}

/// Evaluates one rule on `self`; false with `error` set when it fails or cannot be evaluated.
inline bool evalCel(const std::string& rule, const json& self, std::string& error) {
  static const std::regex kDuration(
      R"(^duration\(self\) >= duration\('([^']+)'\) && duration\(self\) <= duration\('([^']+)'\)$)");
  std::smatch m;
  if (std::regex_match(rule, m, kDuration)) {
    auto value = meta::parseDuration(self.get<std::string>());
    if (!value) {
      error = "rule evaluation error: " + value.error().message();
      return false;
    }
    auto lo = meta::parseDuration(m[1].str());
    auto hi = meta::parseDuration(m[2].str());
    if (!lo || !hi) {
      error = "bad bounds in rule " + rule;
      return false;
    }
    if (*value < *lo || *value > *hi) {
      error = "failed rule: " + rule;
      return false;
    }
    return true;
  }
  const std::string name = self.contains("metadata") ? self["metadata"].value("name", "") : "";
  if (rule == v1beta1::kRemoteIstioNameRule) {
    if (!isLabel(name)) error = "failed rule: " + rule;
    return isLabel(name);
  }
  if (rule == v1beta1::kMeshMembershipNameRule) {
    const bool hasClusterName =
        self.contains("spec") && self["spec"].is_object() && self["spec"].contains("clusterName");
    const bool ok = hasClusterName || isLabel(name);
    if (!ok) error = "failed rule: " + rule;
    return ok;
  }
  error = "the test has no evaluator for CEL rule: " + rule;
  return false;
}

// ---- validation ----------------------------------------------------------------------------

inline bool typeMatches(const std::string& type, const json& v) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return v.is_number_integer() || v.is_number_unsigned();
  if (type == "number") return v.is_number();
  return false;
}

/// Validates `value` against `schema` as the API server would; appends "path: problem".
/// `root` is the whole object (for root CEL rules).
inline void validateInstance(const json& schema, const json& value, const std::string& path,
                             std::vector<std::string>& errors, const json* root = nullptr) {
  if (value.is_null()) return;  // nulls of non-nullable fields are pruned
  const std::string at = path.empty() ? "<root>" : path;
  if (isIntOrString(schema)) {
    if (!value.is_string() && !value.is_number_integer() && !value.is_number_unsigned()) {
      errors.push_back(at + ": must be an integer or a string");
      return;
    }
  } else if (!typeMatches(schema.value("type", ""), value)) {
    errors.push_back(at + ": must be of type " + schema.value("type", "?"));
    return;
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == value;
    if (!found) errors.push_back(at + ": unsupported value " + value.dump());
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (schema.contains("maxLength") && s.size() > schema["maxLength"].get<size_t>()) {
      errors.push_back(at + ": too long");
    }
    if (schema.contains("minLength") && s.size() < schema["minLength"].get<size_t>()) {
      errors.push_back(at + ": too short");
    }
    if (schema.contains("pattern") &&
        !std::regex_search(s, std::regex(schema["pattern"].get<std::string>()))) {
      errors.push_back(at + ": does not match pattern");
    }
  }
  if (value.is_number()) {
    if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>()) {
      errors.push_back(at + ": below minimum");
    }
    if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>()) {
      errors.push_back(at + ": above maximum");
    }
  }
  if (value.is_array()) {
    const std::string listType = schema.value("x-kubernetes-list-type", "atomic");
    std::vector<json> seen;
    for (size_t i = 0; i < value.size(); ++i) {
      validateInstance(schema["items"], value[i], path + "[" + std::to_string(i) + "]", errors,
                       root);
      json id = value[i];
      if (listType == "map") {
        id = json::object();
        for (const auto& k : schema["x-kubernetes-list-map-keys"]) {
          id[k.get<std::string>()] = value[i].value(k.get<std::string>(), json());
        }
      }
      if (listType != "atomic") {
        for (const auto& s : seen) {
          if (s == id) errors.push_back(at + "[" + std::to_string(i) + "]: duplicate value");
        }
        seen.push_back(id);
      }
    }
  }
  if (value.is_object()) {
    for (const auto& r : schema.value("required", json::array())) {
      if (!value.contains(r.get<std::string>()) || value[r.get<std::string>()].is_null()) {
        errors.push_back(join(path, r.get<std::string>()) + ": required");
      }
    }
    for (const auto& [k, v] : value.items()) {
      if (schema.contains("properties") && schema["properties"].contains(k)) {
        // Root metadata is validated by the server's own ObjectMeta rules, not the schema.
        if (path.empty() && k == "metadata") continue;
        validateInstance(schema["properties"][k], v, join(path, k), errors, root);
      } else if (schema.contains("additionalProperties")) {
        validateInstance(schema["additionalProperties"], v, path + "[" + k + "]", errors, root);
      } else if (!schema.value("x-kubernetes-preserve-unknown-fields", false)) {
        errors.push_back(join(path, k) + ": unknown field (the server would drop it)");
      }
    }
  }
  for (const auto& rule : schema.value("x-kubernetes-validations", json::array())) {
    std::string error;
    const json& self = path.empty() && root != nullptr ? *root : value;
    if (!evalCel(rule["rule"].get<std::string>(), self, error)) errors.push_back(at + ": " + error);
  }
}

/// Validates a whole object against a CRD's openAPIV3Schema.
inline std::vector<std::string> validateObject(const json& schema, const json& object) {
  std::vector<std::string> errors;
  validateInstance(schema, object, "", errors, &object);
  return errors;
}

// ---- defaulting ----------------------------------------------------------------------------

/// Structural defaulting: absent properties with a default get it, then recursion (so nested
/// defaults of a defaulted {} apply too).
inline void applySchemaDefaults(const json& schema, json& value) {
  if (value.is_object() && schema.contains("properties")) {
    for (const auto& [k, prop] : schema["properties"].items()) {
      if (!value.contains(k) && prop.contains("default")) value[k] = prop["default"];
      if (value.contains(k)) applySchemaDefaults(prop, value[k]);
    }
  } else if (value.is_object() && schema.contains("additionalProperties") &&
             schema["additionalProperties"].is_object()) {
    for (auto& [k, v] : value.items()) applySchemaDefaults(schema["additionalProperties"], v);
  } else if (value.is_array() && schema.contains("items")) {
    for (auto& item : value) applySchemaDefaults(schema["items"], item);
  }
}

// ---- structural rules ----------------------------------------------------------------------

/// Problems that would make the API server reject the CRD (or make `kubectl explain` useless).
inline void structuralProblems(const json& node, const std::string& path, bool root,
                               std::vector<std::string>& problems) {
  const std::string at = path.empty() ? "<root>" : path;
  static const std::set<std::string> kAllowed = {"type",
                                                 "format",
                                                 "description",
                                                 "default",
                                                 "enum",
                                                 "minimum",
                                                 "maximum",
                                                 "minLength",
                                                 "maxLength",
                                                 "minItems",
                                                 "maxItems",
                                                 "pattern",
                                                 "required",
                                                 "properties",
                                                 "items",
                                                 "additionalProperties",
                                                 "anyOf",
                                                 "x-kubernetes-int-or-string",
                                                 "x-kubernetes-list-type",
                                                 "x-kubernetes-list-map-keys",
                                                 "x-kubernetes-validations",
                                                 "x-kubernetes-preserve-unknown-fields"};
  for (const auto& [k, v] : node.items()) {
    if (!kAllowed.count(k)) problems.push_back(at + ": unexpected keyword " + k);
  }
  if (isIntOrString(node)) {
    const json want = json::parse(R"([{"type":"integer"},{"type":"string"}])");
    if (node.contains("type")) problems.push_back(at + ": int-or-string must not have a type");
    if (node.value("anyOf", json()) != want)
      problems.push_back(at + ": int-or-string needs anyOf integer|string");
  } else if (!node.contains("type")) {
    problems.push_back(at + ": type is required in a structural schema");
  } else if (node.contains("anyOf")) {
    problems.push_back(at + ": anyOf is only used for int-or-string here");
  }
  if (node.contains("properties") && node.contains("additionalProperties")) {
    problems.push_back(at + ": properties and additionalProperties are mutually exclusive");
  }
  if (node.contains("enum")) {
    for (const auto& e : node["enum"]) {
      if (!typeMatches(node.value("type", ""), e))
        problems.push_back(at + ": enum value of the wrong type");
    }
  }
  if (node.contains("default")) {
    std::vector<std::string> errors;
    validateInstance(node, node["default"], path, errors);
    for (const auto& e : errors) problems.push_back(at + ": default is invalid: " + e);
  }
  if (node.contains("pattern")) {
    try {
      std::regex re(node["pattern"].get<std::string>());
    } catch (const std::regex_error&) {
      problems.push_back(at + ": pattern does not compile");
    }
  }
  if (node.value("x-kubernetes-list-type", "") == "map") {
    for (const auto& key : node.value("x-kubernetes-list-map-keys", json::array())) {
      bool required = false;
      for (const auto& r : node["items"].value("required", json::array()))
        required = required || r == key;
      if (!required) problems.push_back(at + ": list map key " + key.dump() + " must be required");
    }
  }
  if (node.value("x-kubernetes-list-type", "") == "set" &&
      node["items"].value("type", "") == "object") {
    problems.push_back(at + ": a set needs scalar items");
  }
  if (node.contains("properties")) {
    for (const auto& [k, child] : node["properties"].items()) {
      const std::string childPath = join(path, k);
      if (k == "metadata") {
        if (!root)
          problems.push_back(childPath + ": metadata must not be specified in a nested context");
        if (root && child != json{{"type", "object"}}) {
          problems.push_back(childPath + ": root metadata may only say type: object");
        }
        continue;
      }
      if (!child.contains("description") || child["description"].get<std::string>().empty()) {
        problems.push_back(childPath + ": has no description (kubectl explain would be empty)");
      }
      structuralProblems(child, childPath, false, problems);
    }
  }
  if (node.contains("items")) {
    if (!isIntOrString(node["items"]) && !node["items"].contains("description")) {
      problems.push_back(at + "[]: has no description");
    }
    structuralProblems(node["items"], path + "[]", false, problems);
  }
  if (node.contains("additionalProperties") && node["additionalProperties"].is_object()) {
    structuralProblems(node["additionalProperties"], path + ".*", false, problems);
  }
}

// ---- the schema as KnownFields -------------------------------------------------------------

inline void schemaFields(const json& node, const std::string& path, bool required,
                         meta::KnownFields& out) {
  meta::KnownField f;
  f.path = path;
  f.type = isIntOrString(node) ? "int-or-string" : node.value("type", "");
  f.format = node.value("format", "");
  f.required = required;
  if (node.contains("default")) f.defaultValue = node["default"];
  for (const auto& e : node.value("enum", json::array()))
    f.enumValues.push_back(e.get<std::string>());
  if (node.contains("minimum")) f.minimum = node["minimum"].get<int64_t>();
  if (node.contains("maximum")) f.maximum = node["maximum"].get<int64_t>();
  f.pattern = node.value("pattern", "");
  if (node.contains("maxLength")) f.maxLength = node["maxLength"].get<size_t>();
  f.listType = node.value("x-kubernetes-list-type", "");
  if (f.listType == "atomic") f.listType.clear();
  if (node.contains("x-kubernetes-list-map-keys"))
    f.listMapKey = node["x-kubernetes-list-map-keys"][0];
  const auto rules = node.value("x-kubernetes-validations", json::array());
  if (!rules.empty()) f.celRule = rules[0]["rule"].get<std::string>();
  out.push_back(f);
  std::set<std::string> requiredChildren;
  for (const auto& r : node.value("required", json::array()))
    requiredChildren.insert(r.get<std::string>());
  if (node.contains("properties")) {
    for (const auto& [k, child] : node["properties"].items()) {
      schemaFields(child, path + "." + k, requiredChildren.count(k) > 0, out);
    }
  }
  if (node.contains("items")) schemaFields(node["items"], path + "[]", false, out);
  if (node.contains("additionalProperties") && node["additionalProperties"].is_object()) {
    schemaFields(node["additionalProperties"], path + ".*", false, out);
  }
}

/// spec and status of a CRD schema as KnownFields.
inline meta::KnownFields schemaKnownFields(const json& openAPIV3Schema) {
  meta::KnownFields out;
  std::set<std::string> required;
  for (const auto& r : openAPIV3Schema.value("required", json::array()))
    required.insert(r.get<std::string>());
  for (const char* top : {"spec", "status"}) {
    if (openAPIV3Schema["properties"].contains(top)) {
      schemaFields(openAPIV3Schema["properties"][top], top, required.count(top) > 0, out);
    }
  }
  return out;
}

}  // namespace rio::testing
