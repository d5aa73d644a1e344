// One table per API struct drives everything the API layer does with it:
//   decode (untrusted JSON -> struct, every problem collected with its field path, unknown
//   fields kept), encode (struct -> JSON, unknown fields written back), defaulting, generic
//   validation (formats, bounds, enums, required, list uniqueness) and the list of known field
//   paths with their schema facts, which a test compares with the CRD's OpenAPI schema.
//
// A struct takes part by having
//   nlohmann::json unknownFields = nlohmann::json::object();  // fields it does not model
//   static const FieldTable<T>& fields();                     // its table (function-static)
// and, optionally, `static void validateObject(const T&, const FieldPath&, FieldErrors&)` for
// cross-field rules.
//
// Nothing here throws on bad input; JSON type errors become FieldErrors. Tables are immutable
// after their (thread-safe, function-static) construction, so they may be used from any thread.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/duration.h"
#include "api/meta/field_error.h"
#include "api/meta/formats.h"
#include "api/meta/quantity.h"
#include "api/meta/time.h"

namespace rio::meta {

/// `x-kubernetes-list-type` of an array field.
enum class ListType { kAtomic, kSet, kMap };

/// Schema facts and rules of one field, given where the table is written.
/// For arrays and maps, format/bounds apply to the items.
struct FieldOptions {
  /// Value filled in by defaulting when the field is absent (JSON, decoded like input).
  std::optional<nlohmann::json> defaultValue{};
  /// The default is applied by the operator only and NOT declared in the CRD (computed or
  /// release-dependent defaults, and `{}` for objects whose fields have defaults).
  bool operatorDefault = false;
  /// Decoding reports a missing field; encoding always writes it.
  bool required = false;
  /// Encoding writes the field even when it is empty.
  bool alwaysEmit = false;
  std::optional<int64_t> minimum{};
  std::optional<int64_t> maximum{};
  StringFormat format = StringFormat::kNone;
  /// Overrides the format's maximum length.
  std::optional<std::size_t> maxLength{};
  /// Bounds for kDuration strings (enforced by the CRD with a CEL rule).
  std::optional<std::chrono::nanoseconds> minDuration{};
  std::optional<std::chrono::nanoseconds> maxDuration{};
  ListType listType = ListType::kAtomic;
  /// The key field of a kMap list ("type" for conditions).
  std::string listMapKey{};
};

/// A field path the C++ types know, with the schema facts the CRD must declare for it.
/// Arrays items are "path[]", map values "path.*".
struct KnownField {
  std::string path;
  std::string type;    // string, integer, boolean, object, array, int-or-string
  std::string format;  // OpenAPI format: int32, int64, date-time, or ""
  bool required = false;
  std::optional<nlohmann::json> defaultValue;  // declared in the CRD
  std::vector<std::string> enumValues;
  std::optional<int64_t> minimum;
  std::optional<int64_t> maximum;
  std::string pattern;
  std::optional<std::size_t> maxLength;
  std::string listType;  // "", "set", "map"
  std::string listMapKey;
  std::string celRule;  // the x-kubernetes-validations rule, if any

  bool operator==(const KnownField&) const = default;
};
using KnownFields = std::vector<KnownField>;

/// The CEL rule the CRD carries for a bounded duration string.
std::string durationCelRule(std::optional<std::chrono::nanoseconds> min,
                            std::optional<std::chrono::nanoseconds> max);

/// The JSON type name used in "must be a string (got number)".
std::string_view jsonTypeName(const nlohmann::json& j);

/// Names of an enum's wire values. Specialise with a static `values()` returning
/// `const std::vector<std::pair<E, std::string_view>>&`.
template <class E>
struct EnumTraits;

/// The wire name of an enum value.
template <class E>
std::string_view enumName(E value) {
  for (const auto& [v, name] : EnumTraits<E>::values()) {
    if (v == value) return name;
  }
  return {};
}

/// Codec<T>::decode returns whether `out` holds a usable value: false when the JSON type at this
/// level is wrong (or a list/map item failed); an object with failed fields is still usable.
template <class T>
struct Codec;

template <class S>
struct FieldSpec {
  std::string name;
  FieldOptions options;
  std::function<void(const nlohmann::json&, S&, const FieldPath&, FieldErrors&)> decode;
  std::function<void(const S&, nlohmann::json&)> encode;
  std::function<void(S&)> applyDefault;
  std::function<void(const S&, const FieldPath&, FieldErrors&)> validate;
  std::function<void(const std::string&, KnownFields&)> describe;
};

template <class S>
using FieldTable = std::vector<FieldSpec<S>>;

template <class T>
concept ApiObject = requires(const T& t) {
  { T::fields() } -> std::same_as<const FieldTable<T>&>;
  { t.unknownFields } -> std::convertible_to<const nlohmann::json&>;
};

template <class T>
concept HasObjectValidation = requires(const T& t, const FieldPath& p, FieldErrors& e) {
  T::validateObject(t, p, e);
};

namespace detail {

template <class M>
struct OptionalOf {
  using Inner = M;
  static constexpr bool kOptional = false;
};
template <class M>
struct OptionalOf<std::optional<M>> {
  using Inner = M;
  static constexpr bool kOptional = true;
};

/// Options that carry over from an array or map field to its items.
inline FieldOptions itemOptions(const FieldOptions& o) {
  FieldOptions items;
  items.minimum = o.minimum;
  items.maximum = o.maximum;
  items.format = o.format;
  items.maxLength = o.maxLength;
  items.minDuration = o.minDuration;
  items.maxDuration = o.maxDuration;
  return items;
}

inline KnownField leaf(const std::string& path, std::string type, std::string format = {}) {
  KnownField f;
  f.path = path;
  f.type = std::move(type);
  f.format = std::move(format);
  return f;
}

template <class Int>
bool decodeInteger(const nlohmann::json& j, Int& out, const FieldPath& path, FieldErrors& errors) {
  if (j.is_number_integer()) {
    const auto v = j.get<int64_t>();
    if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) {
      errors.invalid(path, "out of range for a " + std::to_string(sizeof(Int) * 8) +
                               "-bit integer (got " + std::to_string(v) + ")");
      return false;
    }
    out = static_cast<Int>(v);
    return true;
  }
  if (j.is_number_unsigned()) {  // only values above INT64_MAX land here
    errors.invalid(path, "out of range for a " + std::to_string(sizeof(Int) * 8) + "-bit integer");
    return false;
  }
  errors.typeInvalid(path, "an integer", jsonTypeName(j));
  return false;
}

template <class Int>
void validateInteger(Int v, const FieldPath& path, const FieldOptions& o, FieldErrors& errors) {
  if (o.minimum && v < *o.minimum) {
    errors.invalid(path,
                   "must be >= " + std::to_string(*o.minimum) + " (got " + std::to_string(v) + ")");
  }
  if (o.maximum && v > *o.maximum) {
    errors.invalid(path,
                   "must be <= " + std::to_string(*o.maximum) + " (got " + std::to_string(v) + ")");
  }
}

template <class Int>
void describeInteger(const std::string& path, const FieldOptions& o, KnownFields& out) {
  KnownField f = leaf(path, "integer", sizeof(Int) == 4 ? "int32" : "int64");
  f.minimum = o.minimum;
  f.maximum = o.maximum;
  out.push_back(std::move(f));
}

void validateString(const std::string& v, const FieldPath& path, const FieldOptions& o,
                    FieldErrors& errors);
void describeString(const std::string& path, const FieldOptions& o, KnownFields& out);

}  // namespace detail

// ---- scalar codecs -----------------------------------------------------------------------

template <>
struct Codec<std::string> {
  static bool decode(const nlohmann::json& j, std::string& out, const FieldPath& path,
                     FieldErrors& errors) {
    if (!j.is_string()) {
      errors.typeInvalid(path, "a string", jsonTypeName(j));
      return false;
    }
    out = j.get<std::string>();
    return true;
  }
  static nlohmann::json encode(const std::string& v) { return v; }
  static bool isEmpty(const std::string& v) { return v.empty(); }
  static void applyDefaults(std::string&) {}
  static void validate(const std::string& v, const FieldPath& path, const FieldOptions& o,
                       FieldErrors& errors) {
    detail::validateString(v, path, o, errors);
  }
  static void describe(const std::string& path, const FieldOptions& o, KnownFields& out) {
    detail::describeString(path, o, out);
  }
};

template <>
struct Codec<bool> {
  static bool decode(const nlohmann::json& j, bool& out, const FieldPath& path,
                     FieldErrors& errors) {
    if (!j.is_boolean()) {
      errors.typeInvalid(path, "a boolean", jsonTypeName(j));
      return false;
    }
    out = j.get<bool>();
    return true;
  }
  static nlohmann::json encode(bool v) { return v; }
  static bool isEmpty(bool v) { return !v; }
  static void applyDefaults(bool&) {}
  static void validate(bool, const FieldPath&, const FieldOptions&, FieldErrors&) {}
  static void describe(const std::string& path, const FieldOptions&, KnownFields& out) {
    out.push_back(detail::leaf(path, "boolean"));
  }
};

template <class Int>
requires(std::same_as<Int, int32_t> || std::same_as<Int, int64_t>) struct Codec<Int> {
  static bool decode(const nlohmann::json& j, Int& out, const FieldPath& path,
                     FieldErrors& errors) {
    return detail::decodeInteger(j, out, path, errors);
  }
  static nlohmann::json encode(Int v) { return v; }
  static bool isEmpty(Int v) { return v == 0; }
  static void applyDefaults(Int&) {}
  static void validate(Int v, const FieldPath& path, const FieldOptions& o, FieldErrors& errors) {
    detail::validateInteger(v, path, o, errors);
  }
  static void describe(const std::string& path, const FieldOptions& o, KnownFields& out) {
    detail::describeInteger<Int>(path, o, out);
  }
};

template <>
struct Codec<Time> {
  static bool decode(const nlohmann::json& j, Time& out, const FieldPath& path,
                     FieldErrors& errors) {
    if (!j.is_string()) {
      errors.typeInvalid(path, "an RFC 3339 time string", jsonTypeName(j));
      return false;
    }
    auto t = parseTime(j.get_ref<const std::string&>());
    if (!t) {
      errors.invalid(path, t.error().message());
      return false;
    }
    out = *t;
    return true;
  }
  static nlohmann::json encode(const Time& v) { return formatTime(v); }
  static bool isEmpty(const Time& v) { return v.time_since_epoch().count() == 0; }
  static void applyDefaults(Time&) {}
  static void validate(const Time&, const FieldPath&, const FieldOptions&, FieldErrors&) {}
  static void describe(const std::string& path, const FieldOptions&, KnownFields& out) {
    out.push_back(detail::leaf(path, "string", "date-time"));
  }
};

template <>
struct Codec<Quantity> {
  static bool decode(const nlohmann::json& j, Quantity& out, const FieldPath& path,
                     FieldErrors& errors) {
    if (!j.is_string() && !j.is_number()) {
      errors.typeInvalid(path, "a quantity (string or number)", jsonTypeName(j));
      return false;
    }
    out.raw = j;
    return true;
  }
  static nlohmann::json encode(const Quantity& v) { return v.raw; }
  static bool isEmpty(const Quantity& v) { return v.raw.is_null(); }
  static void applyDefaults(Quantity&) {}
  static void validate(const Quantity& v, const FieldPath& path, const FieldOptions&,
                       FieldErrors& errors) {
    if (!v.value()) {
      errors.invalid(
          path, "must be a quantity like 100m, 128Mi or 2 (got " + quoteValue(v.toString()) + ")");
    }
  }
  static void describe(const std::string& path, const FieldOptions&, KnownFields& out) {
    KnownField f = detail::leaf(path, "int-or-string");
    f.pattern = std::string(kQuantityPattern);
    out.push_back(std::move(f));
  }
};

template <class E>
requires std::is_enum_v<E>
struct Codec<E> {
  static std::vector<std::string> names() {
    std::vector<std::string> out;
    for (const auto& [v, name] : EnumTraits<E>::values()) out.emplace_back(name);
    return out;
  }
  static bool decode(const nlohmann::json& j, E& out, const FieldPath& path, FieldErrors& errors) {
    if (!j.is_string()) {
      errors.typeInvalid(path, "a string", jsonTypeName(j));
      return false;
    }
    const auto& text = j.get_ref<const std::string&>();
    for (const auto& [v, name] : EnumTraits<E>::values()) {
      if (name == text) {
        out = v;
        return true;
      }
    }
    errors.notSupported(path, text, names());
    return false;
  }
  static nlohmann::json encode(E v) { return std::string(enumName(v)); }
  static bool isEmpty(E) { return false; }
  static void applyDefaults(E&) {}
  static void validate(E, const FieldPath&, const FieldOptions&, FieldErrors&) {}
  static void describe(const std::string& path, const FieldOptions&, KnownFields& out) {
    KnownField f = detail::leaf(path, "string");
    f.enumValues = names();
    out.push_back(std::move(f));
  }
};

// ---- containers --------------------------------------------------------------------------

template <class T>
struct Codec<std::vector<T>> {
  static bool decode(const nlohmann::json& j, std::vector<T>& out, const FieldPath& path,
                     FieldErrors& errors) {
    if (!j.is_array()) {
      errors.typeInvalid(path, "a list", jsonTypeName(j));
      return false;
    }
    out.clear();
    bool ok = true;
    for (std::size_t i = 0; i < j.size(); ++i) {
      T item{};
      if (Codec<T>::decode(j[i], item, path.index(i), errors)) {
        out.push_back(std::move(item));
      } else {
        ok = false;
      }
    }
    return ok;
  }
  static nlohmann::json encode(const std::vector<T>& v) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : v) out.push_back(Codec<T>::encode(item));
    return out;
  }
  static bool isEmpty(const std::vector<T>& v) { return v.empty(); }
  static void applyDefaults(std::vector<T>& v) {
    for (auto& item : v) Codec<T>::applyDefaults(item);
  }
  static void validate(const std::vector<T>& v, const FieldPath& path, const FieldOptions& o,
                       FieldErrors& errors) {
    const FieldOptions items = detail::itemOptions(o);
    std::vector<nlohmann::json> seen;
    for (std::size_t i = 0; i < v.size(); ++i) {
      Codec<T>::validate(v[i], path.index(i), items, errors);
      if (o.listType == ListType::kAtomic) continue;
      nlohmann::json id = Codec<T>::encode(v[i]);
      if (o.listType == ListType::kMap)
        id = id.is_object() ? id.value(o.listMapKey, nlohmann::json()) : nlohmann::json();
      bool dup = false;
      for (const auto& s : seen) dup = dup || s == id;
      if (dup) {
        const FieldPath at =
            o.listType == ListType::kMap ? path.index(i).child(o.listMapKey) : path.index(i);
        errors.duplicate(
            at, id.is_string() ? id.get<std::string>()
                               : id.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      seen.push_back(std::move(id));
    }
  }
  static void describe(const std::string& path, const FieldOptions& o, KnownFields& out) {
    KnownField f = detail::leaf(path, "array");
    if (o.listType == ListType::kSet) f.listType = "set";
    if (o.listType == ListType::kMap) {
      f.listType = "map";
      f.listMapKey = o.listMapKey;
    }
    out.push_back(std::move(f));
    Codec<T>::describe(path + "[]", detail::itemOptions(o), out);
  }
};

template <class T>
struct Codec<std::map<std::string, T>> {
  static bool decode(const nlohmann::json& j, std::map<std::string, T>& out, const FieldPath& path,
                     FieldErrors& errors) {
    if (!j.is_object()) {
      errors.typeInvalid(path, "an object", jsonTypeName(j));
      return false;
    }
    out.clear();
    bool ok = true;
    for (const auto& [k, value] : j.items()) {
      T item{};
      if (Codec<T>::decode(value, item, path.key(k), errors)) {
        out.emplace(k, std::move(item));
      } else {
        ok = false;
      }
    }
    return ok;
  }
  static nlohmann::json encode(const std::map<std::string, T>& v) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, item] : v) out[k] = Codec<T>::encode(item);
    return out;
  }
  static bool isEmpty(const std::map<std::string, T>& v) { return v.empty(); }
  static void applyDefaults(std::map<std::string, T>& v) {
    for (auto& [k, item] : v) Codec<T>::applyDefaults(item);
  }
  static void validate(const std::map<std::string, T>& v, const FieldPath& path,
                       const FieldOptions& o, FieldErrors& errors) {
    for (const auto& [k, item] : v)
      Codec<T>::validate(item, path.key(k), detail::itemOptions(o), errors);
  }
  static void describe(const std::string& path, const FieldOptions& o, KnownFields& out) {
    out.push_back(detail::leaf(path, "object"));
    Codec<T>::describe(path + ".*", detail::itemOptions(o), out);
  }
};

// ---- API structs -------------------------------------------------------------------------

template <ApiObject T>
struct Codec<T> {
  static bool decode(const nlohmann::json& j, T& out, const FieldPath& path, FieldErrors& errors) {
    if (!j.is_object()) {
      errors.typeInvalid(path, "an object", jsonTypeName(j));
      return false;
    }
    const FieldTable<T>& table = T::fields();
    out.unknownFields = nlohmann::json::object();
    for (const auto& [key, value] : j.items()) {
      const FieldSpec<T>* spec = find(table, key);
      if (spec == nullptr) {
        out.unknownFields[key] = value;  // kept for round trips
        continue;
      }
      if (value.is_null()) continue;  // null means absent, as in Kubernetes
      spec->decode(value, out, path.child(key), errors);
    }
    for (const auto& spec : table) {
      if (!spec.options.required) continue;
      auto it = j.find(spec.name);
      if (it == j.end() || it->is_null()) errors.required(path.child(spec.name));
    }
    // The object is kept even when some of its fields failed (they stay unset), so the other
    // fields are still validated and every problem is reported at once.
    return true;
  }
  static nlohmann::json encode(const T& v) {
    nlohmann::json out = v.unknownFields.is_object() ? v.unknownFields : nlohmann::json::object();
    for (const auto& spec : T::fields()) spec.encode(v, out);
    return out;
  }
  static bool isEmpty(const T& v) { return encode(v).empty(); }
  static void applyDefaults(T& v) {
    for (const auto& spec : T::fields()) spec.applyDefault(v);
  }
  static void validate(const T& v, const FieldPath& path, const FieldOptions&,
                       FieldErrors& errors) {
    for (const auto& spec : T::fields()) spec.validate(v, path.child(spec.name), errors);
    if constexpr (HasObjectValidation<T>) T::validateObject(v, path, errors);
  }
  static void describe(const std::string& path, const FieldOptions&, KnownFields& out) {
    if (!path.empty()) out.push_back(detail::leaf(path, "object"));
    for (const auto& spec : T::fields())
      spec.describe(path.empty() ? spec.name : path + "." + spec.name, out);
  }

 private:
  static const FieldSpec<T>* find(const FieldTable<T>& table, std::string_view key) {
    for (const auto& spec : table) {
      if (spec.name == key) return &spec;
    }
    return nullptr;
  }
};

// ---- building tables ---------------------------------------------------------------------

/// One table row: the JSON name, the member it maps to, and its options.
/// `std::optional<X>` members are absent when nullopt; other members are omitted when empty
/// (like Go's omitempty) unless the options say required or alwaysEmit.
template <class S, class M>
FieldSpec<S> field(const std::string& name, M S::*member, FieldOptions options = {}) {
  using Traits = detail::OptionalOf<M>;
  using Inner = typename Traits::Inner;
  FieldSpec<S> f;
  f.name = name;
  f.options = options;
  f.decode = [member](const nlohmann::json& j, S& s, const FieldPath& path, FieldErrors& errors) {
    Inner value{};
    if (Codec<Inner>::decode(j, value, path, errors)) s.*member = std::move(value);
  };
  const bool emitEmpty = options.required || options.alwaysEmit;
  f.encode = [member, name, emitEmpty](const S& s, nlohmann::json& out) {
    if constexpr (Traits::kOptional) {
      (void)emitEmpty;  // an unset optional is never emitted
      if (s.*member) out[name] = Codec<Inner>::encode(*(s.*member));
    } else {
      if (emitEmpty || !Codec<Inner>::isEmpty(s.*member))
        out[name] = Codec<Inner>::encode(s.*member);
    }
  };
  f.applyDefault = [member, options](S& s) {
    if constexpr (Traits::kOptional) {
      if (!(s.*member) && options.defaultValue) {
        Inner value{};
        FieldErrors ignored;  // defaults are constants checked by tests
        if (Codec<Inner>::decode(*options.defaultValue, value, FieldPath(), ignored))
          s.*member = std::move(value);
      }
      if (s.*member) Codec<Inner>::applyDefaults(*(s.*member));
    } else {
      Codec<Inner>::applyDefaults(s.*member);
    }
  };
  f.validate = [member, options](const S& s, const FieldPath& path, FieldErrors& errors) {
    if constexpr (Traits::kOptional) {
      if (s.*member) Codec<Inner>::validate(*(s.*member), path, options, errors);
    } else {
      Codec<Inner>::validate(s.*member, path, options, errors);
    }
  };
  f.describe = [options](const std::string& path, KnownFields& out) {
    const std::size_t at = out.size();
    Codec<Inner>::describe(path, options, out);
    KnownField& self = out[at];
    self.required = options.required;
    if (options.defaultValue && !options.operatorDefault) self.defaultValue = options.defaultValue;
  };
  return f;
}

// ---- entry points ------------------------------------------------------------------------

/// Decodes `j` into `out`, adding every problem to `errors` with paths under `path`; true when
/// there was none. Best effort: a field that fails stays unset (a list with a bad item is dropped
/// whole), the rest of the object is decoded. Never throws.
template <class T>
bool decodeInto(const nlohmann::json& j, T& out, const FieldPath& path, FieldErrors& errors) {
  const std::size_t before = errors.size();
  try {
    Codec<T>::decode(j, out, path, errors);
    return errors.size() == before;
  } catch (const std::exception& e) {  // a bug in a codec, never bad input; keep it contained
    errors.invalid(path, std::string("internal decode error: ") + e.what());
    return false;
  }
}

/// Encodes `v`, writing back the unknown fields it was decoded with.
template <class T>
nlohmann::json encode(const T& v) {
  return Codec<T>::encode(v);
}

/// Fills in every default of the table (recursively).
template <class T>
void applyDefaults(T& v) {
  Codec<T>::applyDefaults(v);
}

/// Runs the generic rules of the table (and validateObject hooks) on `v` at `path`.
template <class T>
void validateFields(const T& v, const FieldPath& path, FieldErrors& errors) {
  Codec<T>::validate(v, path, FieldOptions{}, errors);
}

/// The known field paths of `T` under `path` ("spec"), with their schema facts.
template <class T>
KnownFields knownFields(const std::string& path) {
  KnownFields out;
  Codec<T>::describe(path, FieldOptions{}, out);
  return out;
}

}  // namespace rio::meta
