// The Kubernetes API `Status` object (meta/v1 Status): what an API server answers when a request
// fails, and what a watch stream carries in an ERROR event.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rio::meta {

/// Well-known `Status.reason` values (k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason).
namespace reason {
inline constexpr std::string_view kNotFound = "NotFound";
inline constexpr std::string_view kAlreadyExists = "AlreadyExists";
inline constexpr std::string_view kConflict = "Conflict";
inline constexpr std::string_view kGone = "Gone";
inline constexpr std::string_view kExpired = "Expired";
inline constexpr std::string_view kInvalid = "Invalid";
inline constexpr std::string_view kBadRequest = "BadRequest";
inline constexpr std::string_view kForbidden = "Forbidden";
inline constexpr std::string_view kUnauthorized = "Unauthorized";
inline constexpr std::string_view kTooManyRequests = "TooManyRequests";
inline constexpr std::string_view kMethodNotAllowed = "MethodNotAllowed";
inline constexpr std::string_view kNotAcceptable = "NotAcceptable";
inline constexpr std::string_view kUnsupportedMediaType = "UnsupportedMediaType";
inline constexpr std::string_view kRequestEntityTooLarge = "RequestEntityTooLarge";
inline constexpr std::string_view kInternalError = "InternalError";
inline constexpr std::string_view kServiceUnavailable = "ServiceUnavailable";
inline constexpr std::string_view kTimeout = "Timeout";
}  // namespace reason

/// One entry of `Status.details.causes` (e.g. a field that failed validation, or a
/// server-side-apply `FieldManagerConflict`).
struct StatusCause {
  std::string reason;   // e.g. "FieldValueInvalid", "FieldManagerConflict"
  std::string message;  // human readable
  std::string field;    // e.g. "metadata.name", ".data.k"

  bool operator==(const StatusCause&) const = default;
};

/// A decoded meta/v1 Status with `status: Failure` (or Success for DELETE answers).
struct Status {
  int code = 0;            // HTTP status code the server meant
  std::string status;      // "Failure" or "Success"
  std::string reason;      // CamelCase reason, may be empty
  std::string message;     // human readable
  std::string detailsName; // details.name
  std::string detailsGroup;
  std::string detailsKind;
  std::vector<StatusCause> causes;
  std::optional<int> retryAfterSeconds;  // details.retryAfterSeconds

  bool operator==(const Status&) const = default;

  /// Parses a JSON value that must be an object with `kind: Status`. Returns nullopt for any
  /// other shape; never throws.
  static std::optional<Status> fromJson(const nlohmann::json& j);
  /// Parses raw bytes (an HTTP body); nullopt when it is not a Status document.
  static std::optional<Status> parse(std::string_view body);
  /// Serialises in the exact shape kube-apiserver uses (kind, apiVersion, metadata, status,
  /// message, reason, details, code).
  nlohmann::json toJson() const;

  /// A Failure status as a server would build it, e.g. failure(404, kNotFound, "...").
  static Status failure(int code, std::string_view reason, std::string message);
};

/// The reason a server uses for a bare HTTP status code when it has nothing more specific
/// (e.g. 404 -> NotFound, 503 -> ServiceUnavailable). Empty for codes with no reason.
std::string_view reasonForCode(int code);

}  // namespace rio::meta
