#include "test/testenv/api_errors.h"

#include <cstdio>

namespace rio::testenv {
namespace {

nlohmann::json statusJson(int code, const std::string& reason, const std::string& message,
                          std::optional<nlohmann::json> details) {
  nlohmann::json j = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", message}, {"code", code}};
  if (!reason.empty()) j["reason"] = reason;
  if (details) j["details"] = *details;
  return j;
}

ApiError make(int code, const std::string& reason, const std::string& message,
              std::optional<nlohmann::json> details = std::nullopt) {
  return ApiError{code, statusJson(code, reason, message, std::move(details)), {}};
}

nlohmann::json details(const std::string& group, const std::string& kind, const std::string& name) {
  nlohmann::json d = nlohmann::json::object();
  if (!name.empty()) d["name"] = name;
  if (!group.empty()) d["group"] = group;
  if (!kind.empty()) d["kind"] = kind;
  return d;
}

std::string qualified(const std::string& group, const std::string& resource) {
  return group.empty() ? resource : resource + "." + group;
}

std::string renderValue(const nlohmann::json& v) {
  if (v.is_string()) return goQuote(v.get<std::string>());
  if (v.is_null()) return "\"null\"";
  if (v.is_number() || v.is_boolean()) return v.dump();
  return v.dump();
}

std::string joinQuoted(const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += goQuote(values[i]);
  }
  return out;
}

}  // namespace

std::string goQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

FieldError FieldError::invalid(std::string field, nlohmann::json value, std::string detail) {
  return {Type::kInvalid, std::move(field), std::move(value), std::move(detail)};
}
FieldError FieldError::required(std::string field, std::string detail) {
  return {Type::kRequired, std::move(field), nullptr, std::move(detail)};
}
FieldError FieldError::forbidden(std::string field, std::string detail) {
  return {Type::kForbidden, std::move(field), nullptr, std::move(detail)};
}
FieldError FieldError::notSupported(std::string field, nlohmann::json value,
                                    const std::vector<std::string>& supported) {
  return {Type::kNotSupported, std::move(field), std::move(value),
          supported.empty() ? std::string() : "supported values: " + joinQuoted(supported)};
}
FieldError FieldError::duplicate(std::string field, nlohmann::json value) {
  return {Type::kDuplicate, std::move(field), std::move(value), {}};
}
FieldError FieldError::typeInvalid(std::string field, nlohmann::json value, std::string detail) {
  return {Type::kTypeInvalid, std::move(field), std::move(value), std::move(detail)};
}
FieldError FieldError::tooLong(std::string field, std::size_t max) {
  return {Type::kTooLong, std::move(field), nullptr,
          "may not be more than " + std::to_string(max) + " bytes"};
}

std::string FieldError::body() const {
  std::string s;
  switch (type) {
    case Type::kRequired:
      s = "Required value";
      break;
    case Type::kForbidden:
      s = "Forbidden";
      break;
    case Type::kTooLong:
      s = "Too long";
      break;
    case Type::kTooMany:
      s = "Too many";
      break;
    case Type::kInvalid:
      s = "Invalid value: " + (rawValue ? *rawValue : renderValue(value));
      break;
    case Type::kTypeInvalid:
      s = "Invalid value: " + renderValue(value);
      break;
    case Type::kNotSupported:
      s = "Unsupported value: " + renderValue(value);
      break;
    case Type::kDuplicate:
      s = "Duplicate value: " + renderValue(value);
      break;
  }
  if (!detail.empty()) s += ": " + detail;
  return s;
}

std::string FieldError::causeReason() const {
  switch (type) {
    case Type::kInvalid:
      return "FieldValueInvalid";
    case Type::kRequired:
      return "FieldValueRequired";
    case Type::kForbidden:
      return "FieldValueForbidden";
    case Type::kNotSupported:
      return "FieldValueNotSupported";
    case Type::kDuplicate:
      return "FieldValueDuplicate";
    case Type::kTooLong:
      return "FieldValueTooLong";
    case Type::kTooMany:
      return "FieldValueTooMany";
    case Type::kTypeInvalid:
      return "FieldValueTypeInvalid";
  }
  return "FieldValueInvalid";
}

std::string ApiError::reason() const {
  return status.is_object() ? status.value("reason", "") : "";
}
std::string ApiError::message() const {
  return status.is_object() ? status.value("message", "") : "";
}

namespace errors {

ApiError notFound(const std::string& group, const std::string& resource, const std::string& name) {
  return make(404, "NotFound", qualified(group, resource) + " " + goQuote(name) + " not found",
              details(group, resource, name));
}

ApiError alreadyExists(const std::string& group, const std::string& resource,
                       const std::string& name) {
  return make(409, "AlreadyExists",
              qualified(group, resource) + " " + goQuote(name) + " already exists",
              details(group, resource, name));
}

ApiError conflict(const std::string& group, const std::string& resource, const std::string& name,
                  const std::string& detail) {
  return make(409, "Conflict",
              "Operation cannot be fulfilled on " + qualified(group, resource) + " " +
                  goQuote(name) + ": " + detail,
              details(group, resource, name));
}

ApiError staleConflict(const std::string& group, const std::string& resource,
                       const std::string& name) {
  return conflict(group, resource, name,
                  "the object has been modified; please apply your changes to the latest version "
                  "and try again");
}

ApiError invalid(const std::string& group, const std::string& kind, const std::string& name,
                 const FieldErrors& errs) {
  std::string qualifiedKind = group.empty() ? kind : kind + "." + group;
  std::string list;
  nlohmann::json causes = nlohmann::json::array();
  for (std::size_t i = 0; i < errs.size(); ++i) {
    std::string one = errs[i].field + ": " + errs[i].body();
    list += (i ? ", " : "") + one;
    causes.push_back(
        {{"reason", errs[i].causeReason()}, {"message", errs[i].body()}, {"field", errs[i].field}});
  }
  if (errs.size() > 1) list = "[" + list + "]";
  nlohmann::json d = details(group, kind, name);
  d["name"] = name;
  d["causes"] = causes;
  return make(422, "Invalid", qualifiedKind + " " + goQuote(name) + " is invalid: " + list, d);
}

ApiError badRequest(const std::string& message) { return make(400, "BadRequest", message); }

ApiError unsupportedMediaType(const std::vector<std::string>& accepted) {
  std::string list;
  for (std::size_t i = 0; i < accepted.size(); ++i) list += (i ? ", " : "") + accepted[i];
  return make(
      415, "UnsupportedMediaType",
      "the body of the request was in an unknown format - accepted media types include: " + list);
}

ApiError notAcceptable(const std::vector<std::string>& accepted) {
  std::string list;
  for (std::size_t i = 0; i < accepted.size(); ++i) list += (i ? ", " : "") + accepted[i];
  return make(406, "NotAcceptable", "only the following media types are accepted: " + list);
}

ApiError methodNotAllowed() {
  return make(405, "MethodNotAllowed",
              "the server does not allow this method on the requested resource",
              nlohmann::json::object());
}

ApiError resourceNotFound() {
  return make(404, "NotFound", "the server could not find the requested resource",
              nlohmann::json::object());
}

ApiError forbidden(const std::string& group, const std::string& resource, const std::string& name,
                   const std::string& message) {
  std::string prefix;
  if (resource.empty()) {
    prefix = "forbidden: ";
  } else if (name.empty()) {
    prefix = qualified(group, resource) + " is forbidden: ";
  } else {
    prefix = qualified(group, resource) + " " + goQuote(name) + " is forbidden: ";
  }
  return make(403, "Forbidden", prefix + message, details(group, resource, name));
}

ApiError forbiddenWithMessage(const std::string& group, const std::string& resource,
                              const std::string& name, const std::string& message) {
  return make(403, "Forbidden", message, details(group, resource, name));
}

ApiError unauthorized() { return make(401, "Unauthorized", "Unauthorized"); }

ApiError requestEntityTooLarge(std::size_t limit) {
  return make(413, "RequestEntityTooLarge",
              "Request entity too large: limit is " + std::to_string(limit));
}

ApiError internal(const std::string& message) {
  return make(500, "InternalError", "Internal error occurred: " + message,
              nlohmann::json{{"causes", nlohmann::json::array({{{"message", message}}})}});
}

ApiError tooManyRequests(int retryAfterSeconds) {
  ApiError e = make(429, "TooManyRequests", "Too many requests, please try again later.",
                    nlohmann::json{{"retryAfterSeconds", retryAfterSeconds}});
  e.headers.push_back({"Retry-After", std::to_string(retryAfterSeconds)});
  return e;
}

ApiError serviceUnavailable(const std::string& message) {
  ApiError e = make(503, "ServiceUnavailable", message, nlohmann::json{{"retryAfterSeconds", 1}});
  e.headers.push_back({"Retry-After", "1"});
  return e;
}

ApiError expired(const std::string& message) { return make(410, "Expired", message); }

ApiError genericUnprocessable() {
  return make(422, "Invalid", "the server rejected our request due to an error in our request",
              nlohmann::json::object());
}

}  // namespace errors
}  // namespace rio::testenv
