// A typed subset of metav1.ObjectMeta. Fields not modelled here (managedFields, ...) are kept in
// unknownFields and written back unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/fields.h"
#include "api/meta/time.h"

namespace rio::meta {

/// metav1.OwnerReference.
struct OwnerReference {
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> blockOwnerDeletion;
  nlohmann::json unknownFields = nlohmann::json::object();

  static const FieldTable<OwnerReference>& fields();
  bool operator==(const OwnerReference&) const = default;
};

/// metav1.ObjectMeta (the fields the operator reads or writes).
struct ObjectMeta {
  std::string name;
  std::string generateName;
  std::string namespace_;  // JSON "namespace"
  std::string uid;
  std::string resourceVersion;
  int64_t generation = 0;
  std::optional<Time> creationTimestamp;
  std::optional<Time> deletionTimestamp;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;
  std::vector<OwnerReference> ownerReferences;
  nlohmann::json unknownFields = nlohmann::json::object();

  static const FieldTable<ObjectMeta>& fields();
  bool operator==(const ObjectMeta&) const = default;

  /// True once deletion was requested (deletionTimestamp set).
  bool isBeingDeleted() const { return deletionTimestamp.has_value(); }
  bool hasFinalizer(std::string_view finalizer) const;
  /// Appends the finalizer unless present; true when it was added.
  bool addFinalizer(std::string_view finalizer);
  /// Removes the finalizer; true when it was present.
  bool removeFinalizer(std::string_view finalizer);
  /// The annotation's value, or nullopt.
  std::optional<std::string> annotation(std::string_view key) const;
  /// The label's value, or nullopt.
  std::optional<std::string> label(std::string_view key) const;
};

}  // namespace rio::meta
