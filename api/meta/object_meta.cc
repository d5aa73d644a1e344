#include "api/meta/object_meta.h"

#include <algorithm>

namespace rio::meta {

const FieldTable<OwnerReference>& OwnerReference::fields() {
  static const FieldTable<OwnerReference> kTable = {
      field("apiVersion", &OwnerReference::apiVersion, {.required = true}),
      field("kind", &OwnerReference::kind, {.required = true}),
      field("name", &OwnerReference::name, {.required = true}),
      field("uid", &OwnerReference::uid, {.required = true}),
      field("controller", &OwnerReference::controller),
      field("blockOwnerDeletion", &OwnerReference::blockOwnerDeletion),
  };
  return kTable;
}

const FieldTable<ObjectMeta>& ObjectMeta::fields() {
  static const FieldTable<ObjectMeta> kTable = {
      field("name", &ObjectMeta::name),
      field("generateName", &ObjectMeta::generateName),
      field("namespace", &ObjectMeta::namespace_),
      field("uid", &ObjectMeta::uid),
      field("resourceVersion", &ObjectMeta::resourceVersion),
      field("generation", &ObjectMeta::generation),
      field("creationTimestamp", &ObjectMeta::creationTimestamp),
      field("deletionTimestamp", &ObjectMeta::deletionTimestamp),
      field("labels", &ObjectMeta::labels),
      field("annotations", &ObjectMeta::annotations),
      field("finalizers", &ObjectMeta::finalizers),
      field("ownerReferences", &ObjectMeta::ownerReferences),
  };
  return kTable;
}

bool ObjectMeta::hasFinalizer(std::string_view finalizer) const {
  return std::find(finalizers.begin(), finalizers.end(), finalizer) != finalizers.end();
}

bool ObjectMeta::addFinalizer(std::string_view finalizer) {
  if (hasFinalizer(finalizer)) return false;
  finalizers.emplace_back(finalizer);
  return true;
}

bool ObjectMeta::removeFinalizer(std::string_view finalizer) {
  const auto before = finalizers.size();
  std::erase(finalizers, finalizer);
  return finalizers.size() != before;
}

std::optional<std::string> ObjectMeta::annotation(std::string_view key) const {
  auto it = annotations.find(std::string(key));
  if (it == annotations.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ObjectMeta::label(std::string_view key) const {
  auto it = labels.find(std::string(key));
  if (it == labels.end()) return std::nullopt;
  return it->second;
}

}  // namespace rio::meta
