// Server-side apply that writes nothing when nothing would change. The reconcile loop calls it for
// every object it manages on every pass, so a converged system must cost no writes:
//
//   auto r = helpers::applyObject(*client, resources::kServices, desired, "remote-istio-operator",
//                                 servicesInformer->get(key).get());
//   if (!r && r.error().isConflict()) -> report the conflicting fields (conflictFields) in a
//                                        condition; the operator never forces.
//
// "Unchanged" is decided by a recursive subset comparison of `desired` against the live object:
// maps by key (extra keys in the live object are fine: server defaults, other managers' fields),
// lists element by element with the same length (so defaults the server fills into list items,
// like a container's terminationMessagePath, do not cause a write). Write desired values in the
// server's canonical form (e.g. quantities as the server prints them), or every pass writes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/kube/client.h"

namespace rio::helpers {

enum class ApplyResult { kCreated, kUpdated, kUnchanged };
/// "Created", "Updated", "Unchanged" (for logs and event reasons).
std::string_view toString(ApplyResult result);

struct Applied {
  ApplyResult result = ApplyResult::kUnchanged;
  /// The object after the apply; the live object when unchanged.
  nlohmann::json object;
};

/// True when every field of `desired` is in `live` with the same value: objects by key, arrays
/// element-wise with equal length, scalars by value (numbers numerically); a null in `desired`
/// matches a missing or null field. Never throws.
bool isSubset(const nlohmann::json& desired, const nlohmann::json& live);

/// Server-side applies `desired` (a full object with apiVersion, kind, metadata.name and, when
/// namespaced, metadata.namespace) as `fieldManager`, never with force:
/// - `live` given (from the cache) and isSubset(desired, *live): nothing is sent, kUnchanged;
/// - `live` given otherwise: one apply PATCH, kUpdated;
/// - `live` null: a GET first (a read, to tell Created from Updated and to skip unchanged
///   objects), then as above, or one apply PATCH reported kCreated when the GET found nothing.
/// top-level apiVersion/kind are compared only when the live object has them (cached list items
/// may not). Errors are the client's (naming the verb, kind and key): a field owned by another
/// manager is a 409 (isConflict(); see conflictFields()). Blocking: call from a reconcile.
Expected<Applied> applyObject(kube::Client& client, const kube::Resource& resource,
                              const nlohmann::json& desired, const std::string& fieldManager,
                              const nlohmann::json* live);

/// applyObject() for an object known not to exist (its namespace was just created, or a synced
/// cache of the kind does not have it): one apply PATCH, no GET, reported kCreated. Were it there
/// after all, the apply updates it as applyObject() would (only the report says kCreated).
Expected<Applied> applyAbsent(kube::Client& client, const kube::Resource& resource,
                              const nlohmann::json& desired, const std::string& fieldManager);

/// The conflicts of a server-side-apply 409: "<field> (conflict with \"<manager>\" ...)" per
/// FieldManagerConflict cause; empty for other errors. Safe to put in a condition message.
std::vector<std::string> conflictFields(const Error& error);

}  // namespace rio::helpers
