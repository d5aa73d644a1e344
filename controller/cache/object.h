// Cached objects: immutable JSON shared by the store, event handlers and readers.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "controller/kube/client.h"  // kube::ObjectKey

namespace rio::cache {

/// An object as the cache holds it. Never modified once published: a reader may keep it as long
/// as it likes, and a newer version of the object is a different pointer.
using ObjectPtr = std::shared_ptr<const nlohmann::json>;
using kube::ObjectKey;

/// metadata.resourceVersion, or "" when absent.
std::string resourceVersionOf(const nlohmann::json& object);
/// metadata.generation, or 0 when absent.
std::int64_t generationOf(const nlohmann::json& object);
/// metadata.labels[key], or nullptr when absent or not a string.
const std::string* labelOf(const nlohmann::json& object, std::string_view key);
/// metadata.annotations[key], or nullptr when absent or not a string.
const std::string* annotationOf(const nlohmann::json& object, std::string_view key);

}  // namespace rio::cache
