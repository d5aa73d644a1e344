// Decoding of the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`: the
// "k8s\0" magic, a runtime.Unknown envelope, then the generated.proto message) into JSON, for the
// kinds kubectl sends with its typed clients: `kubectl create namespace|serviceaccount|configmap|
// secret|role|clusterrole|rolebinding|clusterrolebinding|deployment|service|token`, and
// `kubectl auth can-i` / `auth whoami` reviews. Zero values are dropped as JSON's omitempty
// would; fields outside the tables are refused rather than silently lost.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"

namespace rio::testenv {

inline constexpr char kProtobufContentType[] = "application/vnd.kubernetes.protobuf";

/// The JSON form of a protobuf-encoded object, with apiVersion and kind from the envelope.
/// kDecode for a malformed body, kInvalid for a kind or field this decoder does not know (the
/// message names it). Never throws.
Expected<nlohmann::json> decodeKubeProtobuf(std::string_view body);

}  // namespace rio::testenv
