// Finalizers added and removed with a JSON patch that carries a `test` op on
// metadata.finalizers: the patch applies only to the exact list the caller saw, so it never drops
// a finalizer another controller added meanwhile and never removes one it does not own. On a race
// the server answers 422 (test failed) or 409; the caller re-reads and retries (a reconcile
// returns a retryable error).
//
//   PATCH (application/json-patch+json)
//   [{"op":"test","path":"/metadata/finalizers","value":["a.example.com/x"]},
//    {"op":"add","path":"/metadata/finalizers/-","value":"rio.example.com/cleanup"}]
//
// A missing list cannot be tested (RFC 6902 tests need an existing member), so the patch tests
// the object's metadata.resourceVersion instead (any change since the read fails it), then
// creates the list with an `add`. Without a resourceVersion it tests the list for `null`, which
// kube-apiserver's JSON patch accepts for a missing member.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/kube/client.h"

namespace rio::helpers {

/// True when metadata.finalizers contains `finalizer`. Never throws.
bool hasFinalizer(const nlohmann::json& object, std::string_view finalizer);

/// The JSON patch adding `finalizer` to `object` as seen, or an empty array when it is already
/// there.
nlohmann::json addFinalizerPatch(const nlohmann::json& object, std::string_view finalizer);
/// The JSON patch removing `finalizer` (every occurrence) from `object` as seen, or an empty
/// array when it is not there.
nlohmann::json removeFinalizerPatch(const nlohmann::json& object, std::string_view finalizer);

/// Adds `finalizer` to the live object `object` (from the cache) with addFinalizerPatch().
/// Returns the object as the server has it after the patch (so the caller needs no GET to go on
/// with it), or nullopt when the finalizer was already present (no request).
/// Errors are the server's: isFinalizerRace() tells a concurrent change (retry after re-reading)
/// from a real failure. Blocking: call from a reconcile, never from an I/O thread.
Expected<std::optional<nlohmann::json>> addFinalizer(kube::Client& client,
                                                     const kube::Resource& resource,
                                                     const nlohmann::json& object,
                                                     std::string_view finalizer);
/// Removes `finalizer` likewise; false (no request) when it is not there.
Expected<bool> removeFinalizer(kube::Client& client, const kube::Resource& resource,
                               const nlohmann::json& object, std::string_view finalizer);

/// True for the answers a lost race gives: 422 Invalid from a failed `test` op, or 409 Conflict.
bool isFinalizerRace(const Error& error);

}  // namespace rio::helpers
