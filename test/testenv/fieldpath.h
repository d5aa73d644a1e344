// Field paths and field sets as kube-apiserver's server-side apply keeps them
// (sigs.k8s.io/structured-merge-diff fieldpath): a path element names a map field, an associative
// list item by its keys, a set item by its value, or a list item by its index; a FieldSet is the
// set of paths one manager owns, serialised as FieldsV1 in metadata.managedFields.
//
// Pure value types: no I/O, no shared state; copies are independent.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rio::testenv::fieldpath {

/// Compact JSON text; invalid UTF-8 in strings is replaced rather than thrown on.
std::string dumpCompact(const nlohmann::json& value);

/// Total order over JSON values as structured-merge-diff's value.Compare defines it: numbers
/// (compared numerically) < strings < booleans < lists < maps < null.
int compareValues(const nlohmann::json& a, const nlohmann::json& b);

/// One step of a path. Ordered like structured-merge-diff: fields < keys < values < indexes.
struct PathElement {
  enum class Kind { kField = 0, kKey = 1, kValue = 2, kIndex = 3 };
  using KeyFields = std::vector<std::pair<std::string, nlohmann::json>>;

  Kind kind = Kind::kField;
  std::string field;     // kField
  KeyFields key;         // kKey, sorted by name
  nlohmann::json value;  // kValue
  int index = 0;         // kIndex

  static PathElement ofField(std::string name);
  /// Sorts the key fields by name.
  static PathElement ofKey(KeyFields fields);
  static PathElement ofValue(nlohmann::json value);
  static PathElement ofIndex(int index);

  int compare(const PathElement& other) const;
  bool operator<(const PathElement& other) const { return compare(other) < 0; }
  bool operator==(const PathElement& other) const { return compare(other) == 0; }

  /// kube's conflict-message form: `.name`, `[name="c"]`, `[port=443,protocol="TCP"]`,
  /// `[="v"]`, `[3]`.
  std::string toString() const;
  /// FieldsV1 object key: `f:name`, `k:{"name":"c"}`, `v:"v"`, `i:3`.
  std::string toFieldsV1Key() const;
  /// Parses a FieldsV1 object key; nullopt when malformed.
  static std::optional<PathElement> fromFieldsV1Key(std::string_view key);
};

using Path = std::vector<PathElement>;

/// `.spec.template.spec.containers[name="c"].image`
std::string toString(const Path& path);

/// A set of paths (structured-merge-diff fieldpath.Set): `members` are paths ending here,
/// `children` hold the paths that continue below an element. Invariant: no child set is empty.
class FieldSet {
 public:
  void insert(const Path& path);
  bool empty() const { return members_.empty() && children_.empty(); }
  /// Whether the one-element path `pe` is a member.
  bool hasMember(const PathElement& pe) const { return members_.count(pe) > 0; }
  /// The paths below `pe` (without the `pe` prefix); nullptr when there are none.
  const FieldSet* childAt(const PathElement& pe) const;

  FieldSet unionWith(const FieldSet& other) const;
  FieldSet intersection(const FieldSet& other) const;
  FieldSet difference(const FieldSet& other) const;
  bool operator==(const FieldSet& other) const;

  /// Every path, members of a level before the paths below it, each level in element order.
  std::vector<Path> paths() const;

  const std::set<PathElement>& members() const { return members_; }
  const std::map<PathElement, FieldSet>& children() const { return children_; }
  std::set<PathElement>& mutableMembers() { return members_; }
  /// Replaces the child set at `pe` (dropped when empty).
  void setChild(const PathElement& pe, FieldSet child);

  /// FieldsV1 encoding: `{"f:data": {".": {}, "f:k": {}}}`.
  nlohmann::json toFieldsV1() const;
  /// Decodes FieldsV1; nullopt when it is not a valid encoding.
  static std::optional<FieldSet> fromFieldsV1(const nlohmann::json& fields);

 private:
  void collect(Path& prefix, std::vector<Path>& out) const;
  nlohmann::json emit(bool includeSelf) const;

  std::set<PathElement> members_;
  std::map<PathElement, FieldSet> children_;
};

}  // namespace rio::testenv::fieldpath
