#include "api/meta/field_error.h"

#include <nlohmann/json.hpp>

namespace rio::meta {

std::string_view causeReason(FieldErrorType type) {
  switch (type) {
    case FieldErrorType::kRequired:
      return "FieldValueRequired";
    case FieldErrorType::kInvalid:
      return "FieldValueInvalid";
    case FieldErrorType::kNotSupported:
      return "FieldValueNotSupported";
    case FieldErrorType::kDuplicate:
      return "FieldValueDuplicate";
    case FieldErrorType::kTooLong:
      return "FieldValueTooLong";
    case FieldErrorType::kForbidden:
      return "FieldValueForbidden";
    case FieldErrorType::kTypeInvalid:
      return "FieldValueTypeInvalid";
  }
  return "FieldValueInvalid";
}

FieldPath FieldPath::child(std::string_view name) const {
  if (path_.empty()) return FieldPath(std::string(name));
  return FieldPath(path_ + "." + std::string(name));
}

FieldPath FieldPath::index(std::size_t i) const {
  return FieldPath(path_ + "[" + std::to_string(i) + "]");
}

FieldPath FieldPath::key(std::string_view k) const {
  return FieldPath(path_ + "[" + std::string(k) + "]");
}

std::string FieldError::toString() const {
  return (field.empty() ? std::string("<root>") : field) + ": " + detail;
}

std::string truncateUtf8(std::string_view text, std::size_t maxBytes) {
  if (text.size() <= maxBytes) return std::string(text);
  std::size_t cut = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so no sequence is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut));
}

std::string quoteValue(std::string_view value) {
  std::string cut = truncateUtf8(value, 64);
  std::string quoted =
      nlohmann::json(cut).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (cut.size() < value.size()) quoted += "...";
  return quoted;
}

void FieldErrors::required(const FieldPath& path, std::string detail) {
  add({FieldErrorType::kRequired, path.str(), std::move(detail)});
}

void FieldErrors::invalid(const FieldPath& path, std::string detail) {
  add({FieldErrorType::kInvalid, path.str(), std::move(detail)});
}

void FieldErrors::notSupported(const FieldPath& path, std::string_view value,
                               const std::vector<std::string>& supported) {
  std::string detail = "unsupported value " + quoteValue(value) + ": supported values: ";
  for (std::size_t i = 0; i < supported.size(); ++i) {
    if (i > 0) detail += ", ";
    detail += "\"" + supported[i] + "\"";
  }
  add({FieldErrorType::kNotSupported, path.str(), std::move(detail)});
}

void FieldErrors::duplicate(const FieldPath& path, std::string_view value) {
  add({FieldErrorType::kDuplicate, path.str(), "duplicate value " + quoteValue(value)});
}

void FieldErrors::tooLong(const FieldPath& path, std::size_t maxLength) {
  add({FieldErrorType::kTooLong, path.str(),
       "must have at most " + std::to_string(maxLength) + " bytes"});
}

void FieldErrors::forbidden(const FieldPath& path, std::string detail) {
  add({FieldErrorType::kForbidden, path.str(), std::move(detail)});
}

void FieldErrors::typeInvalid(const FieldPath& path, std::string_view want, std::string_view got) {
  add({FieldErrorType::kTypeInvalid, path.str(),
       "must be " + std::string(want) + " (got " + std::string(got) + ")"});
}

void FieldErrors::append(const FieldErrors& other) {
  errors_.insert(errors_.end(), other.errors_.begin(), other.errors_.end());
}

bool FieldErrors::hasField(std::string_view field) const {
  for (const auto& e : errors_) {
    if (e.field == field) return true;
  }
  return false;
}

namespace {
bool isUnder(std::string_view field, std::string_view prefix) {
  if (field.substr(0, prefix.size()) != prefix) return false;
  return field.size() == prefix.size() || field[prefix.size()] == '.' ||
         field[prefix.size()] == '[';
}
}  // namespace

FieldErrors FieldErrors::under(std::string_view prefix) const {
  FieldErrors out;
  for (const auto& e : errors_) {
    if (isUnder(e.field, prefix)) out.add(e);
  }
  return out;
}

FieldErrors FieldErrors::notUnder(std::string_view prefix) const {
  FieldErrors out;
  for (const auto& e : errors_) {
    if (!isUnder(e.field, prefix)) out.add(e);
  }
  return out;
}

std::string FieldErrors::summary(std::size_t maxBytes) const {
  std::string out;
  for (std::size_t i = 0; i < errors_.size(); ++i) {
    std::string item = (i == 0 ? "" : "; ") + errors_[i].toString();
    const std::size_t left = errors_.size() - i;
    // Keep room for the "; and N more" tail whenever something may still be cut.
    const std::string tail = "; and " + std::to_string(left) + " more";
    if (out.size() + item.size() + (left > 1 ? tail.size() : 0) > maxBytes) {
      if (out.size() + tail.size() <= maxBytes && i > 0) return out + tail;
      return truncateUtf8(out.empty() ? item : out, maxBytes);
    }
    out += item;
  }
  return out;
}

std::vector<StatusCause> FieldErrors::toStatusCauses() const {
  std::vector<StatusCause> causes;
  causes.reserve(errors_.size());
  for (const auto& e : errors_) {
    causes.push_back({std::string(causeReason(e.type)), e.detail, e.field});
  }
  return causes;
}

}  // namespace rio::meta
