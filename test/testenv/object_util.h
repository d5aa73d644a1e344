// Small helpers on Kubernetes objects as JSON: timestamps in the API's RFC 3339 form, ages as
// kubectl prints them, UIDs, safe field access, YAML → JSON, and a guard against pathological
// nesting in untrusted bodies.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/core/yaml.h"

namespace rio::testenv {

/// "2026-11-25T18:54:38Z" (seconds precision, UTC), as metadata timestamps are written.
std::string formatTimestamp(WallTime t);
/// Parses "2026-11-25T18:54:38Z" and "2026-11-25T18:54:38.123456Z"; nullopt otherwise.
std::optional<WallTime> parseTimestamp(std::string_view text);
/// kubectl's age ("3s", "5m10s", "2d3h"), k8s.io/apimachinery duration.HumanDuration.
std::string humanDuration(std::chrono::nanoseconds d);

/// A random RFC 4122 version 4 UUID from `rng`.
std::string newUuid(std::mt19937_64& rng);
/// The 5 random characters kube-apiserver appends to metadata.generateName.
std::string randomNameSuffix(std::mt19937_64& rng);

/// obj[key] when it is a string, else "".
std::string stringAt(const nlohmann::json& obj, std::string_view key);
/// obj.metadata[key] when it is a string, else "".
std::string metaString(const nlohmann::json& obj, std::string_view key);
/// obj.metadata (an object) or an empty object.
const nlohmann::json& metadataOf(const nlohmann::json& obj);
/// metadata.labels as a string map (non-string values skipped).
std::map<std::string, std::string> labelsOf(const nlohmann::json& obj);
/// The numeric metadata.resourceVersion, 0 when absent or not a number.
std::uint64_t resourceVersionOf(const nlohmann::json& obj);

/// The deepest nesting of arrays/objects in a JSON or YAML flow text, counted without parsing
/// (strings skipped). Parsers and the recursive code after them are protected by refusing bodies
/// nested deeper than kMaxNesting. (yaml::nestingDepth in controller/core/yaml.h.)
std::size_t nestingDepth(std::string_view text);
inline constexpr std::size_t kMaxNesting = yaml::kMaxNesting;

/// Parses YAML (one document) into JSON with YAML 1.1-ish scalar typing as sigs.k8s.io/yaml does:
/// plain true/false/null/numbers are typed, quoted scalars stay strings. kDecode on bad input.
/// (yaml::yamlToJson in controller/core/yaml.h, kept here for the testenv's callers.)
Expected<nlohmann::json> yamlToJson(std::string_view text);

}  // namespace rio::testenv
