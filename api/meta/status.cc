#include "api/meta/status.h"

#include <cstdint>

namespace rio::meta {
namespace {

std::string stringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace

std::optional<Status> Status::fromJson(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  if (stringField(j, "kind") != "Status") return std::nullopt;
  Status s;
  // Numbers are taken only where they make sense: a code that is not an HTTP status, or a
  // negative or absurd Retry-After, is treated as absent rather than narrowed into something else.
  if (auto it = j.find("code"); it != j.end() && it->is_number_integer()) {
    const auto code = it->get<std::int64_t>();
    if (code >= 100 && code <= 599) s.code = static_cast<int>(code);
  }
  s.status = stringField(j, "status");
  s.reason = stringField(j, "reason");
  s.message = stringField(j, "message");
  if (auto d = j.find("details"); d != j.end() && d->is_object()) {
    s.detailsName = stringField(*d, "name");
    s.detailsGroup = stringField(*d, "group");
    s.detailsKind = stringField(*d, "kind");
    if (auto r = d->find("retryAfterSeconds"); r != d->end() && r->is_number_integer()) {
      const auto seconds = r->get<std::int64_t>();
      if (seconds >= 0 && seconds <= 24 * 3600) s.retryAfterSeconds = static_cast<int>(seconds);
    }
    if (auto c = d->find("causes"); c != d->end() && c->is_array()) {
      for (const auto& cause : *c) {
        if (!cause.is_object()) continue;
        s.causes.push_back(StatusCause{stringField(cause, "reason"), stringField(cause, "message"),
                                       stringField(cause, "field")});
      }
    }
  }
  return s;
}

std::optional<Status> Status::parse(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return fromJson(j);
}

nlohmann::json Status::toJson() const {
  // Key order follows kube-apiserver's output; nlohmann::json sorts keys anyway, which is fine
  // for every JSON client.
  nlohmann::json j = {{"kind", "Status"},
                      {"apiVersion", "v1"},
                      {"metadata", nlohmann::json::object()},
                      {"status", status.empty() ? "Failure" : status},
                      {"message", message},
                      {"code", code}};
  if (!reason.empty()) j["reason"] = reason;
  nlohmann::json details = nlohmann::json::object();
  if (!detailsName.empty()) details["name"] = detailsName;
  if (!detailsGroup.empty()) details["group"] = detailsGroup;
  if (!detailsKind.empty()) details["kind"] = detailsKind;
  if (retryAfterSeconds) details["retryAfterSeconds"] = *retryAfterSeconds;
  if (!causes.empty()) {
    auto& arr = details["causes"] = nlohmann::json::array();
    for (const auto& c : causes) {
      nlohmann::json cj = nlohmann::json::object();
      if (!c.reason.empty()) cj["reason"] = c.reason;
      if (!c.message.empty()) cj["message"] = c.message;
      if (!c.field.empty()) cj["field"] = c.field;
      arr.push_back(std::move(cj));
    }
  }
  if (!details.empty()) j["details"] = std::move(details);
  return j;
}

Status Status::failure(int code, std::string_view reason, std::string message) {
  Status s;
  s.code = code;
  s.status = "Failure";
  s.reason = std::string(reason);
  s.message = std::move(message);
  return s;
}

std::string_view reasonForCode(int code) {
  switch (code) {
    case 400: return reason::kBadRequest;
    case 401: return reason::kUnauthorized;
    case 403: return reason::kForbidden;
    case 404: return reason::kNotFound;
    case 405: return reason::kMethodNotAllowed;
    case 406: return reason::kNotAcceptable;
    case 409: return reason::kConflict;
    case 410: return reason::kGone;
    case 413: return reason::kRequestEntityTooLarge;
    case 415: return reason::kUnsupportedMediaType;
    case 422: return reason::kInvalid;
    case 429: return reason::kTooManyRequests;
    case 500: return reason::kInternalError;
    case 503: return reason::kServiceUnavailable;
    case 504: return reason::kTimeout;
    default: return {};
  }
}

}  // namespace rio::meta
