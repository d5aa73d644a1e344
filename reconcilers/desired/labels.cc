#include "reconcilers/desired/labels.h"

#include <openssl/evp.h>

#include <cstdio>

namespace rio::desired {

std::string ownerValue(const Owner& owner) {
  std::string value = owner.ns + "." + owner.name;
  if (value.size() <= 63) return value;
  // Keep a readable prefix and make it unique with a hash of the whole value.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(value.data(), value.size(), digest, &len, EVP_sha256(), nullptr);
  char hex[17];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  std::string prefix = value.substr(0, 46);
  while (!prefix.empty() && (prefix.back() == '.' || prefix.back() == '-')) prefix.pop_back();
  return prefix + "-" + std::string(hex, 16);
}

nlohmann::json ownerLabels(const Owner& owner) {
  return {{kManagedByLabel, kManagedByValue},
          {kOwnerKindLabel, owner.kind},
          {kOwnerLabel, ownerValue(owner)},
          {kClusterLabel, owner.cluster}};
}

std::string ownerSelector(const Owner& owner) {
  return std::string(kManagedByLabel) + "=" + kManagedByValue + "," + kOwnerKindLabel + "=" + owner.kind +
         "," + kOwnerLabel + "=" + ownerValue(owner);
}

nlohmann::json objectMeta(const Owner& owner, const std::string& name, const std::string& ns,
                          const nlohmann::json& extraLabels) {
  nlohmann::json labels = ownerLabels(owner);
  for (const auto& [k, v] : extraLabels.items()) labels[k] = v;
  nlohmann::json meta = {{"name", name}, {"labels", labels}, {"annotations", {{kOwnerAnnotation, owner.ns + "/" + owner.name}}}};
  if (!ns.empty()) meta["namespace"] = ns;
  return meta;
}

std::optional<Owner> ownerOf(const nlohmann::json& object) {
  const auto* meta = object.contains("metadata") ? &object["metadata"] : nullptr;
  if (!meta || !meta->is_object()) return std::nullopt;
  auto labels = meta->value("labels", nlohmann::json::object());
  auto annotations = meta->value("annotations", nlohmann::json::object());
  if (!labels.is_object() || !annotations.is_object()) return std::nullopt;
  if (labels.value(kManagedByLabel, "") != kManagedByValue) return std::nullopt;
  std::string ref = annotations.value(kOwnerAnnotation, "");
  auto slash = ref.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == ref.size()) return std::nullopt;
  return Owner{labels.value(kOwnerKindLabel, ""), ref.substr(0, slash), ref.substr(slash + 1),
               labels.value(kClusterLabel, "")};
}

}  // namespace rio::desired
