#include "api/meta/resources.h"

namespace rio::meta {

const FieldTable<ResourceRequirements>& ResourceRequirements::fields() {
  static const FieldTable<ResourceRequirements> kTable = {
      field("limits", &ResourceRequirements::limits),
      field("requests", &ResourceRequirements::requests),
  };
  return kTable;
}

void ResourceRequirements::validateObject(const ResourceRequirements& r, const FieldPath& path,
                                          FieldErrors& errors) {
  auto checkNonNegative = [&](const std::map<std::string, Quantity>& m, std::string_view name) {
    for (const auto& [resource, q] : m) {
      auto v = q.value();
      if (v && *v < 0) {
        errors.invalid(path.child(name).key(resource),
                       "must be greater than or equal to 0 (got " + quoteValue(q.toString()) + ")");
      }
    }
  };
  checkNonNegative(r.limits, "limits");
  checkNonNegative(r.requests, "requests");
  for (const auto& [resource, request] : r.requests) {
    auto limit = r.limits.find(resource);
    if (limit == r.limits.end()) continue;
    auto req = request.value();
    auto lim = limit->second.value();
    if (req && lim && *req > *lim) {
      errors.invalid(path.child("requests").key(resource), "must be less than or equal to the " +
                                                               resource + " limit (" +
                                                               limit->second.toString() + ")");
    }
  }
}

}  // namespace rio::meta
