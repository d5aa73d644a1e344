#include "test/testenv/fieldpath.h"

#include <algorithm>
#include <charconv>

namespace rio::testenv::fieldpath {
namespace {

using nlohmann::json;

int rank(const json& v) {
  if (v.is_number()) return 0;
  if (v.is_string()) return 1;
  if (v.is_boolean()) return 2;
  if (v.is_array()) return 3;
  if (v.is_object()) return 4;
  return 5;  // null (and discarded values)
}

template <class T>
int threeWay(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compareNumbers(const json& a, const json& b) {
  if (!a.is_number_integer() || !b.is_number_integer()) {
    return threeWay(a.get<double>(), b.get<double>());
  }
  // Integers are int64 or uint64: compare signs first, then magnitudes.
  const bool aNegative = !a.is_number_unsigned() && a.get<std::int64_t>() < 0;
  const bool bNegative = !b.is_number_unsigned() && b.get<std::int64_t>() < 0;
  if (aNegative != bNegative) return aNegative ? -1 : 1;
  if (aNegative) return threeWay(a.get<std::int64_t>(), b.get<std::int64_t>());
  return threeWay(a.get<std::uint64_t>(), b.get<std::uint64_t>());
}

std::string valueToString(const json& v) {
  if (v.is_null()) return "null";
  return dumpCompact(v);
}

}  // namespace

std::string dumpCompact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

int compareValues(const json& a, const json& b) {
  const int ra = rank(a);
  const int rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return compareNumbers(a, b);
    case 1:
      return threeWay(a.get_ref<const std::string&>(), b.get_ref<const std::string&>());
    case 2:
      return threeWay(a.get<bool>(), b.get<bool>());
    case 3: {
      const std::size_t n = std::min(a.size(), b.size());
      for (std::size_t i = 0; i < n; ++i) {
        if (int c = compareValues(a[i], b[i]); c != 0) return c;
      }
      return threeWay(a.size(), b.size());
    }
    case 4: {
      // Lexical key order; a key missing on one side makes that side greater, as in
      // structured-merge-diff's MapCompare.
      auto ia = a.begin();
      auto ib = b.begin();
      while (ia != a.end() && ib != b.end()) {
        if (ia.key() != ib.key()) return ia.key() < ib.key() ? 1 : -1;
        if (int c = compareValues(ia.value(), ib.value()); c != 0) return c;
        ++ia;
        ++ib;
      }
      if (ia == a.end() && ib == b.end()) return 0;
      return ia == a.end() ? -1 : 1;
    }
    default:
      return 0;
  }
}

PathElement PathElement::ofField(std::string name) {
  PathElement pe;
  pe.kind = Kind::kField;
  pe.field = std::move(name);
  return pe;
}

PathElement PathElement::ofKey(KeyFields fields) {
  std::sort(fields.begin(), fields.end(),
            [](const auto& l, const auto& r) { return l.first < r.first; });
  PathElement pe;
  pe.kind = Kind::kKey;
  pe.key = std::move(fields);
  return pe;
}

PathElement PathElement::ofValue(json value) {
  PathElement pe;
  pe.kind = Kind::kValue;
  pe.value = std::move(value);
  return pe;
}

PathElement PathElement::ofIndex(int index) {
  PathElement pe;
  pe.kind = Kind::kIndex;
  pe.index = index;
  return pe;
}

int PathElement::compare(const PathElement& other) const {
  if (kind != other.kind) return static_cast<int>(kind) < static_cast<int>(other.kind) ? -1 : 1;
  switch (kind) {
    case Kind::kField:
      return threeWay(field, other.field);
    case Kind::kKey: {
      const std::size_t n = std::min(key.size(), other.key.size());
      for (std::size_t i = 0; i < n; ++i) {
        if (int c = threeWay(key[i].first, other.key[i].first); c != 0) return c;
        if (int c = compareValues(key[i].second, other.key[i].second); c != 0) return c;
      }
      return threeWay(key.size(), other.key.size());
    }
    case Kind::kValue:
      return compareValues(value, other.value);
    case Kind::kIndex:
      return threeWay(index, other.index);
  }
  return 0;
}

std::string PathElement::toString() const {
  switch (kind) {
    case Kind::kField:
      return "." + field;
    case Kind::kKey: {
      std::string out = "[";
      for (std::size_t i = 0; i < key.size(); ++i) {
        if (i > 0) out += ",";
        out += key[i].first + "=" + valueToString(key[i].second);
      }
      return out + "]";
    }
    case Kind::kValue:
      return "[=" + valueToString(value) + "]";
    case Kind::kIndex:
      return "[" + std::to_string(index) + "]";
  }
  return "{{invalid path element}}";
}

std::string PathElement::toFieldsV1Key() const {
  switch (kind) {
    case Kind::kField:
      return "f:" + field;
    case Kind::kKey: {
      json obj = json::object();
      for (const auto& [name, v] : key) obj[name] = v;
      return "k:" + dumpCompact(obj);
    }
    case Kind::kValue:
      return "v:" + dumpCompact(value);
    case Kind::kIndex:
      return "i:" + std::to_string(index);
  }
  return {};
}

std::optional<PathElement> PathElement::fromFieldsV1Key(std::string_view key) {
  if (key.size() < 2 || key[1] != ':') return std::nullopt;
  const std::string_view rest = key.substr(2);
  switch (key[0]) {
    case 'f':
      return ofField(std::string(rest));
    case 'k': {
      json obj = json::parse(rest, nullptr, /*allow_exceptions=*/false);
      if (!obj.is_object() || obj.empty()) return std::nullopt;
      KeyFields fields;
      for (auto it = obj.begin(); it != obj.end(); ++it) fields.emplace_back(it.key(), it.value());
      return ofKey(std::move(fields));
    }
    case 'v': {
      json v = json::parse(rest, nullptr, /*allow_exceptions=*/false);
      if (v.is_discarded()) return std::nullopt;
      return ofValue(std::move(v));
    }
    case 'i': {
      int index = 0;
      auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
      if (ec != std::errc() || ptr != rest.data() + rest.size()) return std::nullopt;
      return ofIndex(index);
    }
    default:
      return std::nullopt;
  }
}

std::string toString(const Path& path) {
  std::string out;
  for (const auto& pe : path) out += pe.toString();
  return out;
}

void FieldSet::insert(const Path& path) {
  // The empty path is the whole object, whose ownership is not tracked.
  if (path.empty()) return;
  FieldSet* node = this;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) node = &node->children_[path[i]];
  node->members_.insert(path.back());
}

const FieldSet* FieldSet::childAt(const PathElement& pe) const {
  auto it = children_.find(pe);
  return it == children_.end() ? nullptr : &it->second;
}

void FieldSet::setChild(const PathElement& pe, FieldSet child) {
  if (child.empty()) {
    children_.erase(pe);
  } else {
    children_[pe] = std::move(child);
  }
}

FieldSet FieldSet::unionWith(const FieldSet& other) const {
  FieldSet out = *this;
  out.members_.insert(other.members_.begin(), other.members_.end());
  for (const auto& [pe, child] : other.children_) {
    auto it = out.children_.find(pe);
    if (it == out.children_.end()) {
      out.children_.emplace(pe, child);
    } else {
      it->second = it->second.unionWith(child);
    }
  }
  return out;
}

FieldSet FieldSet::intersection(const FieldSet& other) const {
  FieldSet out;
  for (const auto& pe : members_) {
    if (other.members_.count(pe)) out.members_.insert(pe);
  }
  for (const auto& [pe, child] : children_) {
    if (const FieldSet* o = other.childAt(pe)) out.setChild(pe, child.intersection(*o));
  }
  return out;
}

FieldSet FieldSet::difference(const FieldSet& other) const {
  FieldSet out;
  for (const auto& pe : members_) {
    if (!other.members_.count(pe)) out.members_.insert(pe);
  }
  for (const auto& [pe, child] : children_) {
    const FieldSet* o = other.childAt(pe);
    out.setChild(pe, o ? child.difference(*o) : child);
  }
  return out;
}

bool FieldSet::operator==(const FieldSet& other) const {
  return members_ == other.members_ && children_ == other.children_;
}

std::vector<Path> FieldSet::paths() const {
  std::vector<Path> out;
  Path prefix;
  collect(prefix, out);
  return out;
}

void FieldSet::collect(Path& prefix, std::vector<Path>& out) const {
  for (const auto& pe : members_) {
    prefix.push_back(pe);
    out.push_back(prefix);
    prefix.pop_back();
  }
  for (const auto& [pe, child] : children_) {
    prefix.push_back(pe);
    child.collect(prefix, out);
    prefix.pop_back();
  }
}

json FieldSet::emit(bool includeSelf) const {
  json out = json::object();
  if (includeSelf && !empty()) out["."] = json::object();
  for (const auto& pe : members_) {
    if (!children_.count(pe)) out[pe.toFieldsV1Key()] = json::object();
  }
  for (const auto& [pe, child] : children_) {
    out[pe.toFieldsV1Key()] = child.emit(members_.count(pe) > 0);
  }
  return out;
}

json FieldSet::toFieldsV1() const { return emit(false); }

namespace {

// Reads one FieldsV1 level; `isMember` tells whether the level's own path is owned (an empty
// object, or a "." entry).
bool readLevel(const json& obj, FieldSet& out, bool& isMember) {
  isMember = false;
  bool sawEntry = false;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key() == ".") {
      isMember = true;
      continue;
    }
    auto pe = PathElement::fromFieldsV1Key(it.key());
    if (!pe || !it.value().is_object()) return false;
    sawEntry = true;
    FieldSet child;
    bool childIsMember = false;
    if (!readLevel(it.value(), child, childIsMember)) return false;
    if (childIsMember) out.mutableMembers().insert(*pe);
    out.setChild(*pe, std::move(child));
  }
  if (!sawEntry) isMember = true;
  return true;
}

}  // namespace

std::optional<FieldSet> FieldSet::fromFieldsV1(const json& fields) {
  if (!fields.is_object()) return std::nullopt;
  FieldSet out;
  bool ignored = false;
  if (!readLevel(fields, out, ignored)) return std::nullopt;
  return out;
}

}  // namespace rio::testenv::fieldpath
