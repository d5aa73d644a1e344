// Field-level validation errors, like k8s.io/apimachinery/pkg/util/validation/field: each error
// names the field path ("spec.sidecarInjector.replicaCount"), what kind of problem it is, and a
// human detail. Used for every problem found in untrusted objects, so a user sees all of them
// at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "api/meta/status.h"

namespace rio::meta {

/// The kind of problem, as field.ErrorType.
enum class FieldErrorType {
  kRequired,      // a required field is missing
  kInvalid,       // the value is malformed or out of range
  kNotSupported,  // the value is not one of the allowed values
  kDuplicate,     // the value repeats an earlier list entry
  kTooLong,       // the value is longer than allowed
  kForbidden,     // the field may not be set (in this combination)
  kTypeInvalid,   // the JSON type is wrong (a number where a string belongs)
};

/// The `Status.details.causes[].reason` a kube-apiserver uses: "FieldValueRequired", ...
std::string_view causeReason(FieldErrorType type);

/// A path to a field: "spec.network.vpcCIDRs[1]", "metadata.labels[app]". Value type.
class FieldPath {
 public:
  FieldPath() = default;
  explicit FieldPath(std::string root) : path_(std::move(root)) {}

  /// "a" + child("b") = "a.b" (or "b" at the root).
  FieldPath child(std::string_view name) const;
  /// "a" + index(2) = "a[2]".
  FieldPath index(std::size_t i) const;
  /// "a" + key("k") = "a[k]" (map entries).
  FieldPath key(std::string_view k) const;

  const std::string& str() const { return path_; }
  bool empty() const { return path_.empty(); }

 private:
  std::string path_;
};

/// One problem with one field.
struct FieldError {
  FieldErrorType type = FieldErrorType::kInvalid;
  std::string field;   // "spec.sidecarInjector.replicaCount"; "<root>" for the whole object
  std::string detail;  // "must be >= 0 (got -1)"

  /// "spec.sidecarInjector.replicaCount: must be >= 0 (got -1)".
  std::string toString() const;
  bool operator==(const FieldError&) const = default;
};

/// Quotes an untrusted value for a message: JSON-escaped, at most 64 bytes of it, valid UTF-8.
/// Only for values that are never secret (spec fields, never Secret data).
std::string quoteValue(std::string_view value);

/// Every problem found in one object. Not thread-safe; a value type.
class FieldErrors {
 public:
  /// Appends one error as given.
  void add(FieldError error) { errors_.push_back(std::move(error)); }
  /// A missing field: "required value".
  void required(const FieldPath& path, std::string detail = "required value");
  /// A malformed or out-of-range value; `detail` says what is expected ("must be >= 0 (got -1)").
  void invalid(const FieldPath& path, std::string detail);
  /// detail: "unsupported value \"x\": supported values: \"A\", \"B\"".
  void notSupported(const FieldPath& path, std::string_view value,
                    const std::vector<std::string>& supported);
  /// A list entry that repeats an earlier one: "duplicate value \"x\"".
  void duplicate(const FieldPath& path, std::string_view value);
  /// "must have at most N bytes".
  void tooLong(const FieldPath& path, std::size_t maxLength);
  /// A field that may not be set (in this combination).
  void forbidden(const FieldPath& path, std::string detail);
  /// detail: "must be a string (got number)".
  void typeInvalid(const FieldPath& path, std::string_view want, std::string_view got);
  /// Appends every error of `other`.
  void append(const FieldErrors& other);

  bool empty() const { return errors_.empty(); }
  std::size_t size() const { return errors_.size(); }
  const FieldError& operator[](std::size_t i) const { return errors_[i]; }
  auto begin() const { return errors_.begin(); }
  auto end() const { return errors_.end(); }
  const std::vector<FieldError>& items() const { return errors_; }

  /// True when some error is about exactly this field path.
  bool hasField(std::string_view field) const;
  /// The errors whose path is `prefix` or lies under it ("spec" matches "spec.hub", "spec[0]").
  FieldErrors under(std::string_view prefix) const;
  /// The errors whose path is not under `prefix`.
  FieldErrors notUnder(std::string_view prefix) const;

  /// "a: x; b: y", at most `maxBytes` long (cut at a UTF-8 boundary, ending with
  /// "; and N more" when errors were left out). Order is the order of discovery.
  std::string summary(std::size_t maxBytes = 32768) const;
  /// As a kube-apiserver's 422 causes: reason FieldValue*, message = detail, field = path.
  std::vector<StatusCause> toStatusCauses() const;

 private:
  std::vector<FieldError> errors_;
};

/// Cuts `text` to at most `maxBytes` without splitting a UTF-8 sequence.
std::string truncateUtf8(std::string_view text, std::size_t maxBytes);

}  // namespace rio::meta
