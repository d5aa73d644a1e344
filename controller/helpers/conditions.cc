#include "controller/helpers/conditions.h"

#include <vector>

#include "api/meta/fields.h"

namespace rio::helpers {
namespace {

using Json = nlohmann::json;

}  // namespace

bool setStatusCondition(Json& status, meta::Condition condition, WallTime now) {
  if (!status.is_object()) status = Json::object();
  Json& list = status["conditions"];
  if (!list.is_array()) list = Json::array();
  for (auto& item : list) {
    if (!item.is_object() || item.value("type", "") != condition.type) continue;
    std::vector<meta::Condition> one(1);
    meta::FieldErrors errors;
    if (!meta::decodeInto(item, one[0], meta::FieldPath(), errors)) one.clear();
    bool changed = meta::setCondition(one, std::move(condition), now);
    if (changed) item = meta::encode(one.front());
    return changed;
  }
  std::vector<meta::Condition> fresh;
  meta::setCondition(fresh, std::move(condition), now);
  list.push_back(meta::encode(fresh.front()));
  return true;
}

Json mergePatchBetween(const Json& from, const Json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  Json patch = Json::object();
  for (auto it = from.begin(); it != from.end(); ++it) {
    if (!to.contains(it.key())) patch[it.key()] = nullptr;
  }
  for (auto it = to.begin(); it != to.end(); ++it) {
    auto old = from.find(it.key());
    if (old == from.end()) {
      patch[it.key()] = *it;
    } else if (*old != *it) {
      patch[it.key()] = mergePatchBetween(*old, *it);
    }
  }
  return patch;
}

Expected<bool> updateStatusIfChanged(kube::Client& client, const kube::Resource& resource,
                                     const Json& live, const Json& status) {
  Json current = live.contains("status") ? live["status"] : Json::object();
  if (current == status) return false;
  Json patch{{"status", mergePatchBetween(current, status)}};
  if (auto m = live.find("metadata"); m != live.end() && m->contains("resourceVersion")) {
    patch["metadata"] = {{"resourceVersion", (*m)["resourceVersion"]}};
  }
  kube::PatchOptions options;
  options.subresource = "status";
  auto r =
      client.patch(resource, kube::ObjectKey::of(live), kube::PatchType::kMerge, patch, options);
  if (!r) return fail(r.error());
  return true;
}

}  // namespace rio::helpers
