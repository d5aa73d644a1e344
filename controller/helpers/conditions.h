// Status conditions on JSON status objects with metav1.Condition semantics (the rules are
// api/meta/condition.h's setCondition: lastTransitionTime moves only when the status flips), and
// a status writer that sends nothing when the status did not change.
//
//   nlohmann::json status = live.value("status", nlohmann::json::object());
//   meta::Condition ready{.type = "Ready", .status = meta::ConditionStatus::kTrue,
//                         .observedGeneration = generation, .reason = "Joined", .message = "..."};
//   helpers::setStatusCondition(status, ready, clock->wallNow());
//   status["observedGeneration"] = generation;
//   auto wrote = helpers::updateStatusIfChanged(*client, resource, live, status);
//
// Typed statuses use meta::setCondition on their std::vector<meta::Condition> and meta::encode()
// the status for updateStatusIfChanged().
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "api/meta/condition.h"
#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/kube/client.h"

namespace rio::helpers {

/// Sets `condition` in status["conditions"] (created when absent) with meta::setCondition's rules;
/// the other conditions are left exactly as they are. An existing entry of that type that does not
/// decode as a metav1.Condition is replaced. Returns true when anything changed. Never throws.
bool setStatusCondition(nlohmann::json& status, meta::Condition condition, WallTime now);

/// The RFC 7386 merge patch that turns `from` into `to` (null for removed keys; arrays and
/// scalars replaced whole). Never throws.
nlohmann::json mergePatchBetween(const nlohmann::json& from, const nlohmann::json& to);

/// Writes `status` to the status subresource of `live`'s object unless live.status already equals
/// it; returns true when a request was sent. The patch is a merge patch carrying live's
/// metadata.resourceVersion, so a stale `live` fails with 409 Conflict (re-read and retry) instead
/// of overwriting a newer status. Errors are the client's ("patch <Kind> <ns/name> (status): ...").
/// Blocking: call from a reconcile, never from an I/O thread.
Expected<bool> updateStatusIfChanged(kube::Client& client, const kube::Resource& resource,
                                     const nlohmann::json& live, const nlohmann::json& status);

}  // namespace rio::helpers
