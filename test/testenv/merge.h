// Patch and apply semantics of kube-apiserver that are pure functions of JSON: strategic merge
// patch for built-in kinds, and server-side apply with per-manager field ownership
// (metadata.managedFields, FieldsV1). The API server (api_server.h) calls these.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"

namespace rio::testenv {

/// Applies a strategic merge patch to `original` for the built-in kind `apiVersion`/`kind`
/// (list merge keys such as containers by name, ports by containerPort, env by name, volumes by
/// name, `$patch: delete|replace`, `$retainKeys`, `$deleteFromPrimitiveList`). Unknown kinds
/// (custom resources) are refused with 415 as the real server does. Invalid patches are kApi Errors
/// with the Status kube-apiserver answers: 400 BadRequest for a patch that is not an object or a
/// malformed `$retainKeys`/`$deleteFromPrimitiveList`/`$setElementOrder`, 422 for lists of lists,
/// and 500 (no reason) for the rest (unknown `$patch`, list item without its merge key), since
/// kube does not translate those. Never throws.
Expected<nlohmann::json> strategicMergePatch(const nlohmann::json& original,
                                             const nlohmann::json& patch,
                                             std::string_view apiVersion, std::string_view kind);

struct FieldConflict {
  std::string manager;  // the manager that owns the field
  std::string field;    // ".data.k", ".spec.replicas", `.spec.containers[name="c"].image`
  // The owner's managedFields entry, for the message kube prints: `"op"` for an applier,
  // `"curl" using v1` for an updater. Empty operation means Update at conflictStatus's apiVersion.
  std::string operation;    // "Apply" or "Update"
  std::string apiVersion;   // the entry's apiVersion
  std::string subresource;  // "" or "status"
};

struct ApplyOutcome {
  nlohmann::json object;                 // the merged object with updated metadata.managedFields
  std::vector<FieldConflict> conflicts;  // non-empty → the server answers 409 (unless force)
};

/// Server-side apply of `applied` by `manager` onto `live` (null when the object does not exist).
/// Fields set in `applied` become owned by `manager` (operation Apply); fields it owned before and
/// no longer sets are removed unless another manager owns them; fields owned by other managers
/// with a different value are conflicts unless `force` (then ownership moves). `subresource` is
/// "" or "status". Returns conflicts without changing anything when there are some and !force.
/// Through "status" only `.status` of `applied` is applied. On the main endpoint of a resource with
/// a status subresource the caller removes `status` from `applied` first (kube's reset fields).
/// Manager "kubectl" takes over, without conflict, fields still at the value of the
/// last-applied-configuration annotation, and keeps that annotation in sync. Errors (kApi with a
/// Status): 400 for a body that is not an object, a wrong apiVersion/kind ("invalid object type")
/// or metadata.managedFields set; 500 when an associative list item lacks its keys or repeats
/// them, as kube answers. Never throws.
Expected<ApplyOutcome> serverSideApply(const nlohmann::json& live, const nlohmann::json& applied,
                                       const std::string& manager, bool force,
                                       const std::string& apiVersion,
                                       const std::string& subresource, WallTime now);

/// Records field ownership after a non-apply write (create, update, patch): fields that changed
/// between `before` (null on create) and `after` become owned by `manager` with operation Update,
/// and are taken from other managers' sets. Returns `after` with updated metadata.managedFields.
/// `after` is the object as it will be stored, defaults included, but without values the server
/// allocates after tracking (a Service's clusterIP(s), ipFamilies, ipFamilyPolicy). managedFields
/// set in `after` by the request replace the stored ones (`[]` clears them; ignored for
/// subresources); an existing object without managedFields stays untracked, as on kube.
nlohmann::json recordUpdate(const nlohmann::json& before, const nlohmann::json& after,
                            const std::string& manager, const std::string& apiVersion,
                            const std::string& subresource, WallTime now);

/// The Status body kube-apiserver sends for apply conflicts (409, reason Conflict, one
/// FieldManagerConflict cause per field; see reference cm-apply-conflict-409.txt).
nlohmann::json conflictStatus(const std::vector<FieldConflict>& conflicts,
                              const std::string& apiVersion);

}  // namespace rio::testenv
