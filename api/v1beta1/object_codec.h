// Shared plumbing of the top-level kinds (RemoteIstio, MeshMembership): strict decoding,
// decode-default-validate, and the TypeMeta check. Internal to api/v1beta1.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "api/meta/fields.h"
#include "api/meta/validation_result.h"
#include "api/v1beta1/names.h"

namespace rio::v1beta1::detail {

/// apiVersion/kind, when present, must name this API and kind.
inline void validateTypeMeta(const std::string& apiVersion, const std::string& kind,
                             std::string_view expectedKind, meta::FieldErrors& errors) {
  if (!apiVersion.empty() && apiVersion != kApiVersion) {
    errors.notSupported(meta::FieldPath("apiVersion"), apiVersion, {std::string(kApiVersion)});
  }
  if (!kind.empty() && kind != expectedKind) {
    errors.notSupported(meta::FieldPath("kind"), kind, {std::string(expectedKind)});
  }
}

template <class T>
Expected<T> strictDecode(const nlohmann::json& j, std::string_view kindName) {
  T out;
  meta::FieldErrors errors;
  meta::decodeInto(j, out, meta::FieldPath(), errors);
  if (!errors.empty()) {
    std::string what(kindName);
    if (!out.metadata.name.empty()) what += " " + meta::quoteValue(out.metadata.name);
    return fail(Error::invalid(what + " is invalid: " + errors.summary()));
  }
  return out;
}

/// `field` is `prefix` or lies under it.
inline bool isUnder(std::string_view field, std::string_view prefix) {
  if (field.substr(0, prefix.size()) != prefix) return false;
  return field.size() == prefix.size() || field[prefix.size()] == '.' ||
         field[prefix.size()] == '[';
}

template <class T>
meta::ValidationResult<T> decodeAndValidate(const nlohmann::json& j) {
  meta::ValidationResult<T> result;
  meta::FieldErrors decodeErrors;
  meta::decodeInto(j, result.object, meta::FieldPath(), decodeErrors);
  result.statusErrors = decodeErrors.under("status");
  result.errors = decodeErrors.notUnder("status");
  result.object.applyDefaults();
  // A missing required field was reported by the decoder; the empty value that stands in for it
  // would only repeat that (e.g. "name: must be a DNS-1123 subdomain (got \"\")").
  const meta::FieldErrors missing = result.errors;
  for (const auto& e : result.object.validate()) {
    bool repeats = false;
    for (const auto& m : missing) {
      repeats = repeats || (m.type == meta::FieldErrorType::kRequired && isUnder(e.field, m.field));
    }
    if (!repeats) result.errors.add(e);
  }
  return result;
}

/// The spec and status entries of a kind's known fields.
template <class T>
meta::KnownFields specAndStatusFields() {
  meta::KnownFields out;
  for (auto& f : meta::knownFields<T>("")) {
    if (f.path.starts_with("spec") || f.path.starts_with("status")) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace rio::v1beta1::detail
