#include "controller/helpers/apply.h"

#include <optional>

namespace rio::helpers {
namespace {

using Json = nlohmann::json;

// Top-level apiVersion/kind only count when the live object carries them.
bool matches(const Json& desired, const Json& live) {
  if (!desired.is_object() || !live.is_object()) return isSubset(desired, live);
  for (auto it = desired.begin(); it != desired.end(); ++it) {
    if ((it.key() == "apiVersion" || it.key() == "kind") && !live.contains(it.key())) continue;
    auto l = live.find(it.key());
    if (l == live.end()) {
      if (!it->is_null()) return false;
      continue;
    }
    if (!isSubset(*it, *l)) return false;
  }
  return true;
}

}  // namespace

std::string_view toString(ApplyResult result) {
  switch (result) {
    case ApplyResult::kCreated:
      return "Created";
    case ApplyResult::kUpdated:
      return "Updated";
    case ApplyResult::kUnchanged:
      return "Unchanged";
  }
  return "Unchanged";
}

bool isSubset(const Json& desired, const Json& live) {
  if (desired.is_null()) return live.is_null();
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      auto l = live.find(it.key());
      if (l == live.end()) {
        if (!it->is_null()) return false;
        continue;
      }
      if (!isSubset(*it, *l)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (std::size_t i = 0; i < desired.size(); ++i) {
      if (!isSubset(desired[i], live[i])) return false;
    }
    return true;
  }
  // Scalars: nlohmann compares integers and floats numerically (1 == 1.0, 1 == 1u).
  return desired == live;
}

Expected<Applied> applyObject(kube::Client& client, const kube::Resource& resource,
                              const Json& desired, const std::string& fieldManager,
                              const Json* live) {
  std::optional<Json> fetched;
  bool exists = live != nullptr;
  if (!live) {
    auto got = client.getIfExists(resource, kube::ObjectKey::of(desired));
    if (!got) return fail(got.error());  // the client's message names the verb and object
    fetched = std::move(*got);
    exists = fetched.has_value();
    if (fetched) live = &*fetched;
  }
  if (live && matches(desired, *live)) return Applied{ApplyResult::kUnchanged, *live};

  auto applied = client.apply(resource, desired, fieldManager, /*force=*/false);
  if (!applied) return fail(applied.error());
  return Applied{exists ? ApplyResult::kUpdated : ApplyResult::kCreated, std::move(*applied)};
}

Expected<Applied> applyAbsent(kube::Client& client, const kube::Resource& resource,
                              const Json& desired, const std::string& fieldManager) {
  auto applied = client.apply(resource, desired, fieldManager, /*force=*/false);
  if (!applied) return fail(applied.error());
  return Applied{ApplyResult::kCreated, std::move(*applied)};
}

std::vector<std::string> conflictFields(const Error& error) {
  std::vector<std::string> out;
  if (!error.isConflict() || !error.status()) return out;
  for (const auto& cause : error.status()->causes) {
    if (cause.reason != "FieldManagerConflict") continue;
    out.push_back(cause.field + " (" + cause.message + ")");
  }
  return out;
}

}  // namespace rio::helpers
