#include "api/meta/error.h"

#include <cctype>

namespace rio {

std::string_view toString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kApi: return "api";
    case ErrorKind::kTransport: return "transport";
    case ErrorKind::kTls: return "tls";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kDecode: return "decode";
    case ErrorKind::kConfig: return "config";
    case ErrorKind::kInvalid: return "invalid";
    case ErrorKind::kCancelled: return "cancelled";
    case ErrorKind::kInternal: return "internal";
  }
  return "unknown";
}

Error::Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

Error::Error(meta::Status status)
    : kind_(ErrorKind::kApi), message_(status.message), status_(std::move(status)) {
  if (message_.empty()) {
    message_ = "the server answered " + std::to_string(status_->code);
    if (!status_->reason.empty()) message_ += " (" + status_->reason + ")";
  }
  if (status_->retryAfterSeconds && *status_->retryAfterSeconds > 0) {
    retryAfter_ = std::chrono::seconds(*status_->retryAfterSeconds);
  }
}

Error Error::fromHttp(int code, std::string_view body) {
  if (auto s = meta::Status::parse(body)) {
    if (s->code == 0) s->code = code;
    return Error(std::move(*s));
  }
  meta::Status s = meta::Status::failure(code, meta::reasonForCode(code), {});
  // A short, printable body (e.g. a proxy's "503 Service Unavailable") helps; anything long or
  // binary does not belong in an error message.
  std::string snippet(body.substr(0, 200));
  bool printable = !snippet.empty();
  for (unsigned char c : snippet) {
    if (!std::isprint(c) && c != ' ') printable = false;
  }
  s.message = printable ? "the server answered " + std::to_string(code) + ": " + snippet
                        : "the server answered " + std::to_string(code);
  return Error(std::move(s));
}

std::string_view Error::reason() const {
  if (!status_) return {};
  return status_->reason;
}

Error Error::wrap(std::string_view context) const {
  Error e = *this;
  e.message_ = std::string(context) + ": " + message_;
  return e;
}

bool Error::isNotFound() const { return code() == 404 || reason() == meta::reason::kNotFound; }
bool Error::isAlreadyExists() const { return reason() == meta::reason::kAlreadyExists; }
bool Error::isConflict() const { return code() == 409 && !isAlreadyExists(); }
bool Error::isGone() const {
  return code() == 410 || reason() == meta::reason::kExpired || reason() == meta::reason::kGone;
}
bool Error::isInvalid() const { return code() == 422 || reason() == meta::reason::kInvalid; }
bool Error::isBadRequest() const { return code() == 400; }
bool Error::isForbidden() const { return code() == 403; }
bool Error::isUnauthorized() const { return code() == 401; }
bool Error::isTooManyRequests() const { return code() == 429; }
bool Error::isServerError() const { return code() >= 500 && code() <= 599; }
bool Error::isTimeout() const {
  return kind_ == ErrorKind::kTimeout || code() == 504 || reason() == meta::reason::kTimeout;
}

bool Error::isRetryable() const {
  switch (kind_) {
    case ErrorKind::kTransport:
    case ErrorKind::kTimeout: return true;
    case ErrorKind::kApi: return isTooManyRequests() || isServerError();
    default: return false;
  }
}

std::optional<std::chrono::seconds> Error::retryAfter() const { return retryAfter_; }

Error Error::withRetryAfter(std::chrono::seconds after) const {
  Error e = *this;
  e.retryAfter_ = after;
  return e;
}

}  // namespace rio
