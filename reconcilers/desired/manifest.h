// A desired object together with the REST resource it is written to.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "controller/kube/resource.h"

namespace rio::desired {

struct Manifest {
  kube::Resource resource;
  nlohmann::json object;
};
using Manifests = std::vector<Manifest>;

/// A typed object skeleton: apiVersion and kind from `resource`, plus `metadata`.
nlohmann::json typed(const kube::Resource& resource, nlohmann::json metadata);

}  // namespace rio::desired
