// The part of the built-in kinds' schemas that merging depends on: which lists are associative
// (and by which keys), which are sets, which maps and structs are atomic, and the strategic merge
// patch tags (patchStrategy, patchMergeKey) of Go's API types. Anything not described is
// "untyped": objects merge field by field, lists are atomic, as for a CRD's structural schema
// without list-type annotations.
//
// The tables are immutable after construction and safe to read from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rio::testenv::schema {

enum class Kind {
  kUntyped,  // deduced from the value: objects are open structs, lists atomic, the rest scalars
  kScalar,
  kMap,  // a struct (declared fields) and/or a map (elem for undeclared keys)
  kList,
};

enum class ListType { kAtomic, kSet, kMap };

struct Type;

/// A declared struct field with its strategic-merge-patch tags.
struct Field {
  std::string name;
  const Type* type = nullptr;
  std::string patchStrategy;  // "", "merge", "replace", "retainKeys", "merge,retainKeys"
  std::string patchMergeKey;
};

struct Type {
  Kind kind = Kind::kUntyped;
  // kMap
  bool atomic = false;         // owned and replaced as a whole (+structType/+mapType=atomic)
  std::vector<Field> fields;   // declared (named) fields
  const Type* elem = nullptr;  // kMap: type of undeclared keys (nullptr: open struct);
                               // kList: item type
  // kList
  ListType listType = ListType::kAtomic;
  std::vector<std::string> keys;  // listMapKey, in declaration order
  nlohmann::json keyDefaults;     // object: key name -> default (e.g. protocol: TCP)

  const Field* findField(std::string_view name) const;
};

/// How one key of a map-kind value is typed. `named` keys are struct fields (not owned by
/// themselves unless they are leaves); the others are map entries (always owned).
struct Child {
  const Type* type = nullptr;
  bool named = true;
  const Field* field = nullptr;  // declared field, for its patch tags
};

/// The untyped type (shared, immutable).
const Type* untyped();

/// The type of key `key` inside a value of type `t` (any kind; non-map types give untyped).
Child childOf(const Type* t, const std::string& key);

/// The item type of a list type (untyped for anything else).
const Type* itemOf(const Type* t);

/// Whether `group` (the part of apiVersion before "/", "" for core) is served by kube-apiserver
/// itself rather than by a CustomResourceDefinition.
bool isBuiltinGroup(std::string_view group);

/// The group of an apiVersion: "apps/v1" -> "apps", "v1" -> "".
std::string_view groupOf(std::string_view apiVersion);

/// The root type of an object of `apiVersion`/`kind`: a described built-in kind, or an open struct
/// whose metadata is ObjectMeta (other built-ins and custom resources).
const Type* rootType(std::string_view apiVersion, std::string_view kind);

/// What the zero value of the kind's Go type serialises to (the "live object" of a create):
/// non-omitempty struct fields appear as {} or null. `{}` for kinds without such fields and for
/// custom resources.
nlohmann::json zeroValue(std::string_view apiVersion, std::string_view kind);

}  // namespace rio::testenv::schema
