// rio::Error and rio::Expected<T>: the one result type for anything that can fail because of the
// network, an API server or untrusted input. The error keeps the API `Status` (code, reason,
// message, causes) apart from transport, TLS, timeout and decode failures, so callers can ask
// `isNotFound()` without parsing strings.
//
// Error messages never contain secret material: callers must not pass tokens, keys or
// kubeconfig contents into them (the constructors do not inspect their input).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "api/meta/status.h"

namespace rio {

/// What kind of failure an Error is. `Api` errors carry a meta::Status.
enum class ErrorKind {
  kApi,        // the server answered with a failure Status (or a bare error code)
  kTransport,  // connect/read/write failed, connection reset, DNS
  kTls,        // handshake or certificate verification failed
  kTimeout,    // a deadline passed before the answer arrived
  kDecode,     // a body or stream could not be parsed
  kConfig,     // bad local configuration (kubeconfig, flags)
  kInvalid,    // bad input from a user or caller (validation)
  kCancelled,  // the operation was stopped on purpose (shutdown)
  kInternal,   // a bug or an exception caught at a boundary
};

std::string_view toString(ErrorKind kind);

class Error {
 public:
  Error(ErrorKind kind, std::string message);
  /// An API failure; message() is the Status message.
  explicit Error(meta::Status status);

  static Error api(meta::Status status) { return Error(std::move(status)); }
  /// An API failure from a bare HTTP code when the body was not a Status.
  static Error fromHttp(int code, std::string_view body);
  static Error transport(std::string message) { return {ErrorKind::kTransport, std::move(message)}; }
  static Error tls(std::string message) { return {ErrorKind::kTls, std::move(message)}; }
  static Error timeout(std::string message) { return {ErrorKind::kTimeout, std::move(message)}; }
  static Error decode(std::string message) { return {ErrorKind::kDecode, std::move(message)}; }
  static Error config(std::string message) { return {ErrorKind::kConfig, std::move(message)}; }
  static Error invalid(std::string message) { return {ErrorKind::kInvalid, std::move(message)}; }
  static Error cancelled(std::string message) { return {ErrorKind::kCancelled, std::move(message)}; }
  static Error internal(std::string message) { return {ErrorKind::kInternal, std::move(message)}; }

  ErrorKind kind() const { return kind_; }
  /// The full message, with every context added by wrap() in front: "get Secret a/b: not found".
  const std::string& message() const { return message_; }
  /// The API Status when kind() == kApi.
  const std::optional<meta::Status>& status() const { return status_; }
  /// HTTP code for API errors, 0 otherwise.
  int code() const { return status_ ? status_->code : 0; }
  /// Status reason for API errors, empty otherwise.
  std::string_view reason() const;

  /// A copy with "context: " put in front of the message; kind and Status are kept.
  Error wrap(std::string_view context) const;

  bool isNotFound() const;
  bool isAlreadyExists() const;
  /// 409 Conflict (stale resourceVersion, or a server-side-apply field conflict).
  bool isConflict() const;
  /// 410 Gone, or a watch ERROR with reason Expired/Gone: the resourceVersion is too old.
  bool isGone() const;
  bool isInvalid() const;
  bool isBadRequest() const;
  bool isForbidden() const;
  bool isUnauthorized() const;
  bool isTooManyRequests() const;
  /// 5xx from the server.
  bool isServerError() const;
  bool isTimeout() const;
  /// Worth retrying the same request later: transport, timeout, 429, 5xx (not TLS, decode, 4xx).
  bool isRetryable() const;
  /// Retry-After the server asked for (429/503 header or Status details), if any.
  std::optional<std::chrono::seconds> retryAfter() const;
  Error withRetryAfter(std::chrono::seconds after) const;

 private:
  ErrorKind kind_;
  std::string message_;
  std::optional<meta::Status> status_;
  std::optional<std::chrono::seconds> retryAfter_;
};

template <class T>
using Expected = tl::expected<T, Error>;

/// Shorthand for `return tl::unexpected(error)`.
inline tl::unexpected<Error> fail(Error error) { return tl::unexpected(std::move(error)); }

}  // namespace rio
