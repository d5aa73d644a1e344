// corev1.ResourceRequirements (limits and requests) for the containers the operator deploys.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "api/meta/fields.h"
#include "api/meta/quantity.h"

namespace rio::meta {

/// Container resources: `{limits: {cpu: 2, memory: 1Gi}, requests: {cpu: 100m}}`.
struct ResourceRequirements {
  std::map<std::string, Quantity> limits;
  std::map<std::string, Quantity> requests;
  nlohmann::json unknownFields = nlohmann::json::object();

  static const FieldTable<ResourceRequirements>& fields();
  /// Quantities must be non-negative, and a request may not exceed the limit of the same
  /// resource (what the remote API server would otherwise reject when the Deployment is applied).
  static void validateObject(const ResourceRequirements& r, const FieldPath& path,
                             FieldErrors& errors);
  bool operator==(const ResourceRequirements&) const = default;
};

}  // namespace rio::meta
