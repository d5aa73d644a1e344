// The failures kube-apiserver answers with, as `Status` bodies in its exact shapes (messages,
// reasons, details, causes), and validation field errors (k8s.io/apimachinery field.Error).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/http/message.h"

namespace rio::testenv {

/// One validation failure on one field.
struct FieldError {
  enum class Type {
    kInvalid,
    kRequired,
    kForbidden,
    kNotSupported,
    kDuplicate,
    kTooLong,
    kTooMany,
    kTypeInvalid
  };
  FieldError() = default;
  FieldError(Type t, std::string f, nlohmann::json v, std::string d)
      : type(t), field(std::move(f)), value(std::move(v)), detail(std::move(d)) {}

  Type type = Type::kInvalid;
  std::string field;     // "metadata.name", "spec.ports[0].port"
  nlohmann::json value;  // the offending value (kInvalid, kNotSupported, kDuplicate, kTypeInvalid)
  std::string detail;
  /// Printed instead of `value` when set (Go renders some values unquoted, e.g. `0x0`).
  std::optional<std::string> rawValue;

  static FieldError invalid(std::string field, nlohmann::json value, std::string detail);
  static FieldError required(std::string field, std::string detail = {});
  static FieldError forbidden(std::string field, std::string detail);
  static FieldError notSupported(std::string field, nlohmann::json value,
                                 const std::vector<std::string>& supported);
  static FieldError duplicate(std::string field, nlohmann::json value);
  static FieldError typeInvalid(std::string field, nlohmann::json value, std::string detail);
  static FieldError tooLong(std::string field, std::size_t max);

  /// "Invalid value: \"Bad_Name\": a lowercase RFC 1123 ..." (field.Error.ErrorBody()).
  std::string body() const;
  /// "FieldValueInvalid", "FieldValueRequired", ...
  std::string causeReason() const;
};
using FieldErrors = std::vector<FieldError>;

/// A failed request: HTTP code, Status body, extra headers (Retry-After).
struct ApiError {
  int code = 500;
  nlohmann::json status;
  http::Headers headers;

  std::string reason() const;
  std::string message() const;
};

namespace errors {

/// `configmaps "missing" not found`, details {name, group, kind: <plural>}.
ApiError notFound(const std::string& group, const std::string& resource, const std::string& name);
/// `configmaps "c1" already exists`.
ApiError alreadyExists(const std::string& group, const std::string& resource,
                       const std::string& name);
/// `Operation cannot be fulfilled on configmaps "c1": <detail>` (409 Conflict).
ApiError conflict(const std::string& group, const std::string& resource, const std::string& name,
                  const std::string& detail);
/// The stale-resourceVersion Conflict (cm-update-stale-409.txt).
ApiError staleConflict(const std::string& group, const std::string& resource,
                       const std::string& name);
/// `ConfigMap "Bad_Name" is invalid: metadata.name: ...` with one cause per error (422).
ApiError invalid(const std::string& group, const std::string& kind, const std::string& name,
                 const FieldErrors& errors);
ApiError badRequest(const std::string& message);
/// 415 with the media types the endpoint accepts.
ApiError unsupportedMediaType(const std::vector<std::string>& accepted);
ApiError notAcceptable(const std::vector<std::string>& accepted);
/// 405 "the server does not allow this method on the requested resource".
ApiError methodNotAllowed();
/// 404 "the server could not find the requested resource" (unknown path, group, resource).
ApiError resourceNotFound();
/// 403 `<resource>[ "<name>"] is forbidden: <message>`.
ApiError forbidden(const std::string& group, const std::string& resource, const std::string& name,
                   const std::string& message);
/// 403 with a complete message (the escalation check's).
ApiError forbiddenWithMessage(const std::string& group, const std::string& resource,
                              const std::string& name, const std::string& message);
ApiError unauthorized();
/// 413 "Request entity too large: limit is 3145728".
ApiError requestEntityTooLarge(std::size_t limit);
ApiError internal(const std::string& message);
/// 429 with Retry-After.
ApiError tooManyRequests(int retryAfterSeconds);
ApiError serviceUnavailable(const std::string& message);
/// 410 Expired (list continue or resourceVersion too old).
ApiError expired(const std::string& message);
/// 422 for JSON patch failures (cm-json-patch-test-failed-422.txt): generic message, empty details.
ApiError genericUnprocessable();

}  // namespace errors

/// Go's %q for a string (what field errors and messages quote values with).
std::string goQuote(const std::string& s);

}  // namespace rio::testenv
