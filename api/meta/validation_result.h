// The one call a reconciler makes on an object from the cache: decode, default, validate, and
// get back either a usable object or the condition to report.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "api/meta/condition.h"
#include "api/meta/field_error.h"

namespace rio::meta {

/// Condition reason for a spec that fails validation.
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";

/// The outcome of decoding and validating one object.
///
/// `object` is always filled as far as the input allowed and defaulted, even when invalid, so a
/// reconciler can still read metadata (name, generation, finalizers, deletionTimestamp) and run
/// deletion. It must push nothing to a remote cluster unless ok().
template <class T>
struct ValidationResult {
  T object;
  /// Problems in metadata and spec: each names its field path. Empty when valid.
  FieldErrors errors;
  /// Problems in the stored status (e.g. written by another version). They do not make the
  /// object invalid: the reconciler rewrites status anyway.
  FieldErrors statusErrors;

  bool ok() const { return errors.empty(); }
  explicit operator bool() const { return ok(); }
  /// "InvalidSpec" when invalid, empty when valid.
  std::string_view reason() const { return ok() ? std::string_view{} : kReasonInvalidSpec; }
  /// "invalid spec: spec.a: ...; spec.b: ..." (every field path), at most `maxBytes` long;
  /// empty when valid. Use maxBytes = 1024 for an Event note.
  std::string message(std::size_t maxBytes = kMaxConditionMessageBytes) const {
    if (ok()) return {};
    static constexpr std::string_view kPrefix = "invalid spec: ";
    if (maxBytes <= kPrefix.size()) return truncateUtf8(kPrefix, maxBytes);
    return std::string(kPrefix) + errors.summary(maxBytes - kPrefix.size());
  }
  /// The condition to report for an invalid object: `type`=False, reason InvalidSpec, the
  /// message above, observedGeneration = metadata.generation. Pass it to setCondition.
  Condition invalidCondition(std::string_view type = "Ready") const {
    Condition c;
    c.type = std::string(type);
    c.status = ConditionStatus::kFalse;
    c.observedGeneration = object.metadata.generation;
    c.reason = std::string(kReasonInvalidSpec);
    c.message = message();
    return c;
  }
};

}  // namespace rio::meta
