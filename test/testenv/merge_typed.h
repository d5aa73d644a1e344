// Schema-aware operations on JSON objects, after sigs.k8s.io/structured-merge-diff's typed
// package: the field set a value sets, the comparison of two values, the apply merge, and the
// removal of a set of fields. They are the building blocks of server-side apply
// (managed_fields.cc). Pure functions; never throw.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "test/testenv/fieldpath.h"
#include "test/testenv/merge_schema.h"

namespace rio::testenv::typed {

/// Paths added, modified and removed going from one value to another.
struct Comparison {
  fieldpath::FieldSet added;
  fieldpath::FieldSet modified;
  fieldpath::FieldSet removed;
};

/// The fields `value` sets (structured-merge-diff ToFieldSet): leaves, list items, map entries.
/// Struct fields holding non-empty objects are not members themselves. With `strict`, a list
/// item without its keys (and no default), or a duplicate key, is an error written to `error`
/// (as `.spec.ports: element 0: ...`) and nullopt returned; otherwise such a list counts as
/// atomic.
std::optional<fieldpath::FieldSet> toFieldSet(const nlohmann::json& value, const schema::Type* type,
                                              bool strict, std::string* error = nullptr);

/// Compares `lhs` with `rhs` (either may be nullptr: absent). Leaves present on one side only are
/// added/removed, leaves that differ are modified; a non-leaf present on one side only is itself
/// added/removed (the "." marker of FieldsV1). Lists whose items cannot be keyed compare atomic.
Comparison compare(const nlohmann::json* lhs, const nlohmann::json* rhs, const schema::Type* type);

/// The apply merge of `config` onto `live` (structured-merge-diff Merge): config wins at leaves
/// and atomic values, objects merge per key, associative lists per item (live-only items keep
/// their place, shared items follow config's order). A null leaf in config removes it. Returns
/// nullopt and sets `error` when an associative list item in config cannot be keyed.
std::optional<nlohmann::json> merge(const nlohmann::json& live, const nlohmann::json& config,
                                    const schema::Type* type, std::string* error = nullptr);

/// `value` without the paths in `toRemove` (each removed with everything below it). Objects and
/// lists left empty by the removal disappear from their parent.
nlohmann::json removeItems(const nlohmann::json& value, const fieldpath::FieldSet& toRemove,
                           const schema::Type* type);

/// `set` plus, at every level, the struct fields that have paths below them
/// (structured-merge-diff EnsureNamedFieldsAreMembers).
fieldpath::FieldSet ensureNamedFieldsAreMembers(const fieldpath::FieldSet& set,
                                                const schema::Type* type);

/// The path element of an item of list type `list`: its keys (with defaults) for associative
/// lists, its value for sets, nullopt (with `error`) when it has neither.
std::optional<fieldpath::PathElement> itemPathElement(const schema::Type* list,
                                                      const nlohmann::json& item,
                                                      std::string* error = nullptr);

}  // namespace rio::testenv::typed
