// The REST resources of the operator's own kinds (istio.alibabacloud.com/v1beta1), for clients,
// informers and event references. Names come from api/v1beta1/names.h.
#pragma once

#include <string>

#include "api/v1beta1/names.h"
#include "controller/kube/resource.h"

namespace rio::reconcilers {

inline const kube::Resource kRemoteIstios{
    std::string(v1beta1::kGroup), std::string(v1beta1::kVersion),
    std::string(v1beta1::kRemoteIstioPlural), std::string(v1beta1::kRemoteIstioKind), true};
inline const kube::Resource kMeshMemberships{
    std::string(v1beta1::kGroup), std::string(v1beta1::kVersion),
    std::string(v1beta1::kMeshMembershipPlural), std::string(v1beta1::kMeshMembershipKind), true};

}  // namespace rio::reconcilers
