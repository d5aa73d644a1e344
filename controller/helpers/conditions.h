// Status conditions with metav1.Condition semantics on the JSON `status.conditions` list, and a
// status writer that sends nothing when the status did not change.
//
//   nlohmann::json status = live.value("status", nlohmann::json::object());
//   helpers::setCondition(status["conditions"], {"Ready", "True", "Joined", "cluster joined",
//                                                generation}, clock->wallNow());
//   status["observedGeneration"] = generation;
//   auto wrote = helpers::updateStatusIfChanged(*client, resource, live, status);
//
// (A minimal JSON version: the typed rio::meta::Condition/setCondition in api/meta/condition.h
// is on wip/api and not on main yet; this follows the same rules.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/kube/client.h"

namespace rio::helpers {

/// Longest condition message kept (the metav1.Condition schema limit); longer ones are cut at a
/// UTF-8 boundary.
inline constexpr std::size_t kMaxConditionMessageBytes = 32768;

/// One condition as a reconciler states it (metav1.Condition without lastTransitionTime, which
/// setCondition() manages).
struct Condition {
  std::string type;     // "Ready"
  std::string status;   // "True", "False" or "Unknown"
  std::string reason;   // CamelCase: "InvalidSpec"
  std::string message;  // human readable; never secret data
  std::int64_t observedGeneration = 0;  // metadata.generation the condition was computed from
};

/// Sets `condition` in the JSON list `conditions` (null is treated as empty) as apimachinery's
/// meta.SetStatusCondition: a new type is appended with lastTransitionTime = now; an existing one
/// gets status, reason, message and observedGeneration, and lastTransitionTime moves to `now` only
/// when the status flips. Returns true when anything changed. Never throws.
bool setCondition(nlohmann::json& conditions, const Condition& condition, WallTime now);
/// The condition of that type in `conditions`, or nullptr.
const nlohmann::json* findCondition(const nlohmann::json& conditions, std::string_view type);
/// True when a condition of that type exists with status "True".
bool isConditionTrue(const nlohmann::json& conditions, std::string_view type);
/// Removes the condition of that type; true when one was removed.
bool removeCondition(nlohmann::json& conditions, std::string_view type);

/// The RFC 7386 merge patch that turns `from` into `to` (null for removed keys; arrays and
/// scalars replaced whole). Never throws.
nlohmann::json mergePatchBetween(const nlohmann::json& from, const nlohmann::json& to);

/// Writes `status` to the status subresource of `live`'s object unless live.status already equals
/// it; returns true when a request was sent. The patch is a merge patch carrying live's
/// metadata.resourceVersion, so a stale `live` fails with 409 Conflict (re-read and retry) instead
/// of overwriting a newer status. Blocking: call from a reconcile, never from an I/O thread.
Expected<bool> updateStatusIfChanged(kube::Client& client, const kube::Resource& resource,
                                     const nlohmann::json& live, const nlohmann::json& status);

}  // namespace rio::helpers
