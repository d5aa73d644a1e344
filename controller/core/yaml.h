// YAML <-> JSON for product code: manifests and kubeconfigs arrive as YAML, objects are JSON
// (nlohmann::json) everywhere else, and the CLI prints YAML for GitOps (`join --dry-run -o yaml`).
//
// Reading follows sigs.k8s.io/yaml (what kubectl uses): plain scalars get YAML 1.1 types
// (true/false/yes/no/on/off, null, ~, integers, floats), quoted scalars stay strings. Writing is
// block style with keys in JSON order (sorted, as kubectl prints), strings quoted whenever a
// reader would otherwise re-type them, so yamlToJson(jsonToYaml(v)) == v.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"

namespace rio::yaml {

/// Documents nested deeper than this are refused before parsing (untrusted input: the parser and
/// the recursive conversion after it must not run out of stack).
inline constexpr std::size_t kMaxNesting = 200;

/// The deepest nesting of arrays/objects in a JSON or YAML flow text, counted without parsing
/// (quoted strings skipped). Block-style nesting is bounded by indentation and line length.
std::size_t nestingDepth(std::string_view text);

/// The first non-empty document of `text` as JSON (null when there is none). Errors (kDecode)
/// name the line; the message never quotes document content (it may be a Secret). Never throws.
Expected<nlohmann::json> yamlToJson(std::string_view text);
/// Every non-empty document of a multi-document stream (`---` separated), in order.
Expected<std::vector<nlohmann::json>> yamlToJsonAll(std::string_view text);

/// One YAML document (no leading `---`, ends with a newline). Multi-line strings are written as
/// literal blocks. Never throws.
std::string jsonToYaml(const nlohmann::json& value);
/// Several documents separated by `---` lines, as `kubectl get -o yaml` prints a stream.
std::string jsonToYamlAll(const std::vector<nlohmann::json>& values);

}  // namespace rio::yaml
