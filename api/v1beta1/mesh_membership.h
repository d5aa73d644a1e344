// MeshMembership (istio.alibabacloud.com/v1beta1): one remote cluster joining the mesh. Replaces
// the reference procedure's rbac.yml + generate-kubeconfig.sh + create-secret.sh steps: the
// operator reads a bootstrap kubeconfig, sets up least-privilege accounts in the remote, mints
// short-lived tokens and keeps istiod's remote secret rotated.
//
// Value types, like remote_istio.h: decoding keeps unknown fields; never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/condition.h"
#include "api/meta/error.h"
#include "api/meta/fields.h"
#include "api/meta/object_meta.h"
#include "api/meta/validation_result.h"
#include "api/v1beta1/names.h"

namespace rio::v1beta1 {

/// How remote sidecars reach the control plane.
enum class NetworkMode {
  kFlat,     // one flat network / VPN: remote sidecars reach control-plane pod IPs
  kGateway,  // no flat network: only through the control plane's ingress gateway address
};

}  // namespace rio::v1beta1

namespace rio::meta {
template <>
struct EnumTraits<v1beta1::NetworkMode> {
  static const std::vector<std::pair<v1beta1::NetworkMode, std::string_view>>& values();
};
}  // namespace rio::meta

namespace rio::v1beta1 {

inline constexpr std::string_view kDefaultBootstrapSecretKey = "kubeconfig";
inline constexpr std::string_view kDefaultMeshNamespace = "istio-system";
inline constexpr std::chrono::hours kDefaultReaderTokenTTL{24};
inline constexpr std::chrono::hours kDefaultOperatorTokenTTL{1};
inline constexpr std::chrono::minutes kMinTokenTTL{10};  // TokenRequest's minimum
inline constexpr std::chrono::hours kMaxTokenTTL{24 * 7};
inline constexpr std::chrono::minutes kDefaultDeletionTimeout{10};
inline constexpr std::chrono::hours kMaxDeletionTimeout{24};
inline constexpr int32_t kDefaultMinWorkerNodes = 3;

/// A key of a Secret in the MeshMembership's namespace.
struct SecretKeySelector {
  std::string name;
  std::optional<std::string> key;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<SecretKeySelector>& fields();
  bool operator==(const SecretKeySelector&) const = default;
};

/// spec.network
struct NetworkSpec {
  std::optional<NetworkMode> mode;
  std::optional<std::vector<std::string>> vpcCIDRs;
  std::optional<std::vector<std::string>> podCIDRs;
  std::optional<std::string> serviceCIDR;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<NetworkSpec>& fields();
  /// serviceCIDR may not overlap a pod CIDR.
  static void validateObject(const NetworkSpec& n, const meta::FieldPath& path,
                             meta::FieldErrors& errors);
  bool operator==(const NetworkSpec&) const = default;
};

/// spec.locality
struct Locality {
  std::optional<std::string> region;
  std::optional<std::string> zone;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<Locality>& fields();
  bool operator==(const Locality&) const = default;
};

/// spec.credentials: lifetimes of the tokens the operator mints in the remote cluster.
struct CredentialsSpec {
  std::optional<std::string> readerTTL;
  std::optional<std::string> operatorTTL;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<CredentialsSpec>& fields();
  bool operator==(const CredentialsSpec&) const = default;
};

/// spec.prerequisites
struct PrerequisitesSpec {
  std::optional<int32_t> minWorkerNodes;
  std::optional<bool> requireMinWorkerNodes;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<PrerequisitesSpec>& fields();
  bool operator==(const PrerequisitesSpec&) const = default;
};

/// spec.deletion
struct DeletionSpec {
  std::optional<std::string> timeout;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<DeletionSpec>& fields();
  bool operator==(const DeletionSpec&) const = default;
};

/// spec
struct MeshMembershipSpec {
  std::optional<std::string> clusterName;
  SecretKeySelector bootstrapSecretRef;  // required
  std::optional<NetworkSpec> network;
  std::optional<Locality> locality;
  std::optional<CredentialsSpec> credentials;
  std::optional<PrerequisitesSpec> prerequisites;
  std::optional<std::string> meshNamespace;
  std::optional<DeletionSpec> deletion;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<MeshMembershipSpec>& fields();
  bool operator==(const MeshMembershipSpec&) const = default;
};

/// status
struct MeshMembershipStatus {
  int64_t observedGeneration = 0;
  std::vector<meta::Condition> conditions;
  std::string clusterName;  // the cluster name in effect (spec.clusterName or metadata.name)
  std::string kubernetesVersion;
  std::optional<int32_t> workerNodes;  // ready worker nodes
  std::vector<std::string> podCIDRs;
  std::string serviceCIDR;
  std::string region;
  std::string zone;
  std::optional<meta::Time> credentialsExpireAt;
  std::string probeLatency;  // Go duration, e.g. "35ms"
  std::string clockSkew;     // Go duration, e.g. "1.2s"
  std::string remoteSecretName;
  bool bootstrapSecretNoLongerNeeded = false;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<MeshMembershipStatus>& fields();
  bool operator==(const MeshMembershipStatus&) const = default;
};

/// A MeshMembership object.
struct MeshMembership {
  std::string apiVersion = std::string(kApiVersion);
  std::string kind = std::string(kMeshMembershipKind);
  meta::ObjectMeta metadata;
  MeshMembershipSpec spec;
  MeshMembershipStatus status;
  nlohmann::json unknownFields = nlohmann::json::object();
  static const meta::FieldTable<MeshMembership>& fields();
  bool operator==(const MeshMembership&) const = default;

  /// Strict decode (see RemoteIstio::fromJson). Never throws.
  static Expected<MeshMembership> fromJson(const nlohmann::json& j);
  /// The object as JSON, including fields it does not model.
  nlohmann::json toJson() const;
  /// Fills in every default (docs/api.md), clusterName from metadata.name included.
  /// For reading only: never write a defaulted object back.
  void applyDefaults();
  /// Every problem in metadata and spec, each with its field path. Empty when valid.
  meta::FieldErrors validate() const;

  /// spec.clusterName, else metadata.name.
  std::string clusterName() const;
  /// spec.network.mode, else Flat.
  NetworkMode networkMode() const;
  /// The mesh namespace in the remote (spec.meshNamespace, else istio-system).
  std::string meshNamespace() const;
  /// Parsed token lifetimes and deletion deadline; the defaults when unset or unparsable
  /// (validate() reports the latter).
  std::chrono::seconds readerTokenTTL() const;
  std::chrono::seconds operatorTokenTTL() const;
  std::chrono::seconds deletionTimeout() const;
  /// Worker nodes wanted, and whether fewer is a hard failure (else a warning).
  int32_t minWorkerNodes() const;
  bool requireMinWorkerNodes() const;

  /// Every field path of spec and status with the facts the CRD schema must declare.
  static meta::KnownFields knownFields();
};

/// THE call for reconcilers: decode (best effort), default, validate. See
/// meta::ValidationResult and decodeRemoteIstio. Never throws.
meta::ValidationResult<MeshMembership> decodeMeshMembership(const nlohmann::json& j);

/// The CEL rule at the root of the MeshMembership schema: without spec.clusterName,
/// metadata.name is the cluster name and must be a DNS-1123 label.
inline constexpr std::string_view kMeshMembershipNameRule =
    "(has(self.spec) && has(self.spec.clusterName)) || (self.metadata.name.size() <= 63 && "
    "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'))";

}  // namespace rio::v1beta1
