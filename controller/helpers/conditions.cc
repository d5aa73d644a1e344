#include "controller/helpers/conditions.h"

#include "controller/helpers/time_format.h"

namespace rio::helpers {
namespace {

using Json = nlohmann::json;

// Cuts at a UTF-8 character boundary at or below `max` bytes.
std::string capUtf8(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

}  // namespace

const Json* findCondition(const Json& conditions, std::string_view type) {
  if (!conditions.is_array()) return nullptr;
  for (const auto& c : conditions) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool isConditionTrue(const Json& conditions, std::string_view type) {
  const Json* c = findCondition(conditions, type);
  return c && c->value("status", "") == "True";
}

bool removeCondition(Json& conditions, std::string_view type) {
  if (!conditions.is_array()) return false;
  for (auto it = conditions.begin(); it != conditions.end(); ++it) {
    if (it->is_object() && it->value("type", "") == type) {
      conditions.erase(it);
      return true;
    }
  }
  return false;
}

bool setCondition(Json& conditions, const Condition& condition, WallTime now) {
  if (!conditions.is_array()) conditions = Json::array();
  const std::string message = capUtf8(condition.message, kMaxConditionMessageBytes);
  for (auto& c : conditions) {
    if (!c.is_object() || c.value("type", "") != condition.type) continue;
    Json before = c;
    if (c.value("status", "") != condition.status) {
      c["status"] = condition.status;
      c["lastTransitionTime"] = formatTime(now);
    } else if (!c.contains("lastTransitionTime")) {
      c["lastTransitionTime"] = formatTime(now);
    }
    c["reason"] = condition.reason;
    c["message"] = message;
    c["observedGeneration"] = condition.observedGeneration;
    return c != before;
  }
  conditions.push_back({{"type", condition.type},
                        {"status", condition.status},
                        {"observedGeneration", condition.observedGeneration},
                        {"lastTransitionTime", formatTime(now)},
                        {"reason", condition.reason},
                        {"message", message}});
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
  auto r = client.patch(resource, kube::ObjectKey::of(live), kube::PatchType::kMerge, patch,
                        options);
  if (!r) return fail(r.error());  // "patch <Kind> <ns/name> (status): ..."
  return true;
}

}  // namespace rio::helpers
