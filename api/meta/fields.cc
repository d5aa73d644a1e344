#include "api/meta/fields.h"

namespace rio::meta {

std::string durationCelRule(std::optional<std::chrono::nanoseconds> min,
                            std::optional<std::chrono::nanoseconds> max) {
  std::string rule;
  if (min) rule += "duration(self) >= duration('" + formatDurationShort(*min) + "')";
  if (min && max) rule += " && ";
  if (max) rule += "duration(self) <= duration('" + formatDurationShort(*max) + "')";
  return rule;
}

std::string_view jsonTypeName(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "object";
    case nlohmann::json::value_t::array:
      return "list";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "integer";
    case nlohmann::json::value_t::number_float:
      return "number";
    case nlohmann::json::value_t::binary:
      return "binary";
    case nlohmann::json::value_t::discarded:
      return "invalid";
  }
  return "unknown";
}

namespace detail {

void validateString(const std::string& v, const FieldPath& path, const FieldOptions& o,
                    FieldErrors& errors) {
  if (o.maxLength && v.size() > *o.maxLength) {
    errors.tooLong(path, *o.maxLength);
    return;
  }
  if (o.format == StringFormat::kNone) return;
  const FormatInfo& info = formatInfo(o.format);
  if (!matchesFormat(o.format, v)) {
    if (info.maxLength != 0 && v.size() > info.maxLength) {
      errors.tooLong(path, info.maxLength);
    } else {
      errors.invalid(path, std::string(info.requirement) + " (got " + quoteValue(v) + ")");
    }
    return;
  }
  if (o.format == StringFormat::kDuration && (o.minDuration || o.maxDuration)) {
    auto d = parseDuration(v);
    if (!d) return;  // matchesFormat already parsed it
    if (o.minDuration && *d < *o.minDuration) {
      errors.invalid(path, "must be at least " + formatDurationShort(*o.minDuration) + " (got " +
                               quoteValue(v) + ")");
    }
    if (o.maxDuration && *d > *o.maxDuration) {
      errors.invalid(path, "must be at most " + formatDurationShort(*o.maxDuration) + " (got " +
                               quoteValue(v) + ")");
    }
  }
}

void describeString(const std::string& path, const FieldOptions& o, KnownFields& out) {
  KnownField f = leaf(path, "string");
  if (o.format != StringFormat::kNone) {
    const FormatInfo& info = formatInfo(o.format);
    f.pattern = std::string(info.pattern);
    if (info.maxLength != 0) f.maxLength = info.maxLength;
  }
  if (o.maxLength) f.maxLength = o.maxLength;
  if (o.minDuration || o.maxDuration) f.celRule = durationCelRule(o.minDuration, o.maxDuration);
  out.push_back(std::move(f));
}

}  // namespace detail
}  // namespace rio::meta
