#include "reconcilers/desired/manifest.h"

namespace rio::desired {

nlohmann::json typed(const kube::Resource& resource, nlohmann::json metadata) {
  return {{"apiVersion", resource.apiVersion()}, {"kind", resource.kind}, {"metadata", std::move(metadata)}};
}

}  // namespace rio::desired
