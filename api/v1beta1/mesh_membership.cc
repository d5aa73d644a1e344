#include "api/v1beta1/mesh_membership.h"

#include "api/meta/cidr.h"
#include "api/meta/duration.h"
#include "api/v1beta1/object_codec.h"

namespace rio::meta {

const std::vector<std::pair<v1beta1::NetworkMode, std::string_view>>&
EnumTraits<v1beta1::NetworkMode>::values() {
  using M = v1beta1::NetworkMode;
  static const std::vector<std::pair<M, std::string_view>> kValues = {
      {M::kFlat, "Flat"},
      {M::kGateway, "Gateway"},
  };
  return kValues;
}

}  // namespace rio::meta

namespace rio::v1beta1 {

using meta::field;
using meta::FieldTable;
using meta::ListType;
using meta::StringFormat;
using nlohmann::json;
using namespace std::chrono_literals;

const FieldTable<SecretKeySelector>& SecretKeySelector::fields() {
  static const FieldTable<SecretKeySelector> kTable = {
      field("name", &SecretKeySelector::name,
            {.required = true, .format = StringFormat::kDns1123Subdomain}),
      field("key", &SecretKeySelector::key,
            {.defaultValue = json(kDefaultBootstrapSecretKey), .format = StringFormat::kSecretKey}),
  };
  return kTable;
}

const FieldTable<NetworkSpec>& NetworkSpec::fields() {
  static const FieldTable<NetworkSpec> kTable = {
      field("mode", &NetworkSpec::mode, {.defaultValue = "Flat"}),
      field("vpcCIDRs", &NetworkSpec::vpcCIDRs,
            {.format = StringFormat::kCidr, .listType = ListType::kSet}),
      field("podCIDRs", &NetworkSpec::podCIDRs,
            {.format = StringFormat::kCidr, .listType = ListType::kSet}),
      field("serviceCIDR", &NetworkSpec::serviceCIDR, {.format = StringFormat::kCidr}),
  };
  return kTable;
}

void NetworkSpec::validateObject(const NetworkSpec& n, const meta::FieldPath& path,
                                 meta::FieldErrors& errors) {
  if (!n.serviceCIDR || !n.podCIDRs) return;
  auto service = meta::Cidr::parse(*n.serviceCIDR);
  if (!service) return;  // reported by the format check
  for (size_t i = 0; i < n.podCIDRs->size(); ++i) {
    auto pod = meta::Cidr::parse((*n.podCIDRs)[i]);
    if (pod && pod->overlaps(*service)) {
      errors.invalid(path.child("serviceCIDR"), "overlaps pod CIDR " + (*n.podCIDRs)[i] + " (" +
                                                    path.child("podCIDRs").index(i).str() + ")");
    }
  }
}

const FieldTable<Locality>& Locality::fields() {
  static const FieldTable<Locality> kTable = {
      field("region", &Locality::region, {.format = StringFormat::kLabelValue}),
      field("zone", &Locality::zone, {.format = StringFormat::kLabelValue}),
  };
  return kTable;
}

const FieldTable<CredentialsSpec>& CredentialsSpec::fields() {
  static const FieldTable<CredentialsSpec> kTable = {
      field("readerTTL", &CredentialsSpec::readerTTL,
            {.defaultValue = "24h",
             .format = StringFormat::kDuration,
             .minDuration = kMinTokenTTL,
             .maxDuration = kMaxTokenTTL}),
      field("operatorTTL", &CredentialsSpec::operatorTTL,
            {.defaultValue = "1h",
             .format = StringFormat::kDuration,
             .minDuration = kMinTokenTTL,
             .maxDuration = kMaxTokenTTL}),
  };
  return kTable;
}

const FieldTable<PrerequisitesSpec>& PrerequisitesSpec::fields() {
  static const FieldTable<PrerequisitesSpec> kTable = {
      field("minWorkerNodes", &PrerequisitesSpec::minWorkerNodes,
            {.defaultValue = kDefaultMinWorkerNodes, .minimum = 0, .maximum = 1000}),
      field("requireMinWorkerNodes", &PrerequisitesSpec::requireMinWorkerNodes,
            {.defaultValue = false}),
  };
  return kTable;
}

const FieldTable<DeletionSpec>& DeletionSpec::fields() {
  static const FieldTable<DeletionSpec> kTable = {
      field("timeout", &DeletionSpec::timeout,
            {.defaultValue = "10m",
             .format = StringFormat::kDuration,
             .minDuration = 0s,
             .maxDuration = kMaxDeletionTimeout}),
  };
  return kTable;
}

const FieldTable<MeshMembershipSpec>& MeshMembershipSpec::fields() {
  static const FieldTable<MeshMembershipSpec> kTable = {
      // clusterName's default (metadata.name) is applied in MeshMembership::applyDefaults.
      field("clusterName", &MeshMembershipSpec::clusterName,
            {.format = StringFormat::kDns1123Label}),
      field("bootstrapSecretRef", &MeshMembershipSpec::bootstrapSecretRef, {.required = true}),
      // Declared in the CRD too, so the server fills in network.mode for `kubectl get`.
      field("network", &MeshMembershipSpec::network, {.defaultValue = json::object()}),
      field("locality", &MeshMembershipSpec::locality),
      field("credentials", &MeshMembershipSpec::credentials,
            {.defaultValue = json::object(), .operatorDefault = true}),
      field("prerequisites", &MeshMembershipSpec::prerequisites,
            {.defaultValue = json::object(), .operatorDefault = true}),
      field("meshNamespace", &MeshMembershipSpec::meshNamespace,
            {.defaultValue = json(kDefaultMeshNamespace), .format = StringFormat::kDns1123Label}),
      field("deletion", &MeshMembershipSpec::deletion,
            {.defaultValue = json::object(), .operatorDefault = true}),
  };
  return kTable;
}

const FieldTable<MeshMembershipStatus>& MeshMembershipStatus::fields() {
  static const FieldTable<MeshMembershipStatus> kTable = {
      field("observedGeneration", &MeshMembershipStatus::observedGeneration, {.minimum = 0}),
      field("conditions", &MeshMembershipStatus::conditions,
            {.listType = ListType::kMap, .listMapKey = "type"}),
      field("clusterName", &MeshMembershipStatus::clusterName),
      field("kubernetesVersion", &MeshMembershipStatus::kubernetesVersion),
      field("workerNodes", &MeshMembershipStatus::workerNodes, {.minimum = 0}),
      field("podCIDRs", &MeshMembershipStatus::podCIDRs),
      field("serviceCIDR", &MeshMembershipStatus::serviceCIDR),
      field("region", &MeshMembershipStatus::region),
      field("zone", &MeshMembershipStatus::zone),
      field("credentialsExpireAt", &MeshMembershipStatus::credentialsExpireAt),
      field("probeLatency", &MeshMembershipStatus::probeLatency),
      field("clockSkew", &MeshMembershipStatus::clockSkew),
      field("remoteSecretName", &MeshMembershipStatus::remoteSecretName),
      field("bootstrapSecretNoLongerNeeded", &MeshMembershipStatus::bootstrapSecretNoLongerNeeded),
  };
  return kTable;
}

const FieldTable<MeshMembership>& MeshMembership::fields() {
  static const FieldTable<MeshMembership> kTable = {
      field("apiVersion", &MeshMembership::apiVersion),
      field("kind", &MeshMembership::kind),
      field("metadata", &MeshMembership::metadata, {.alwaysEmit = true}),
      field("spec", &MeshMembership::spec, {.required = true}),
      field("status", &MeshMembership::status),
  };
  return kTable;
}

Expected<MeshMembership> MeshMembership::fromJson(const json& j) {
  return detail::strictDecode<MeshMembership>(j, kMeshMembershipKind);
}

json MeshMembership::toJson() const { return meta::encode(*this); }

void MeshMembership::applyDefaults() {
  if (!spec.clusterName && !metadata.name.empty()) spec.clusterName = metadata.name;
  meta::applyDefaults(spec);
}

meta::FieldErrors MeshMembership::validate() const {
  meta::FieldErrors errors;
  detail::validateTypeMeta(apiVersion, kind, kMeshMembershipKind, errors);
  // Without spec.clusterName the name is the cluster name; report it where the user can fix it.
  const bool nameIsClusterName = !spec.clusterName || *spec.clusterName == metadata.name;
  const meta::FieldPath name("metadata.name");
  if (metadata.name.empty()) {
    errors.required(name);
  } else if (nameIsClusterName && !meta::isDns1123Label(metadata.name)) {
    errors.invalid(name,
                   "is the cluster name (spec.clusterName is empty or the same): " +
                       std::string(meta::formatInfo(StringFormat::kDns1123Label).requirement) +
                       " (got " + meta::quoteValue(metadata.name) + ")");
  }
  meta::FieldErrors specErrors;
  meta::validateFields(spec, meta::FieldPath("spec"), specErrors);
  for (const auto& e : specErrors) {
    // A defaulted clusterName repeats the metadata.name error above; keep one.
    if (e.field == "spec.clusterName" && nameIsClusterName) continue;
    errors.add(e);
  }
  return errors;
}

std::string MeshMembership::clusterName() const {
  return spec.clusterName && !spec.clusterName->empty() ? *spec.clusterName : metadata.name;
}

NetworkMode MeshMembership::networkMode() const {
  return spec.network && spec.network->mode ? *spec.network->mode : NetworkMode::kFlat;
}

std::string MeshMembership::meshNamespace() const {
  return spec.meshNamespace && !spec.meshNamespace->empty() ? *spec.meshNamespace
                                                            : std::string(kDefaultMeshNamespace);
}

namespace {
std::chrono::seconds durationOr(const std::optional<std::string>& text,
                                std::chrono::seconds fallback) {
  if (!text) return fallback;
  auto d = meta::parseDuration(*text);
  if (!d || d->count() < 0) return fallback;
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}
}  // namespace

std::chrono::seconds MeshMembership::readerTokenTTL() const {
  return durationOr(spec.credentials ? spec.credentials->readerTTL : std::nullopt,
                    kDefaultReaderTokenTTL);
}

std::chrono::seconds MeshMembership::operatorTokenTTL() const {
  return durationOr(spec.credentials ? spec.credentials->operatorTTL : std::nullopt,
                    kDefaultOperatorTokenTTL);
}

std::chrono::seconds MeshMembership::deletionTimeout() const {
  return durationOr(spec.deletion ? spec.deletion->timeout : std::nullopt, kDefaultDeletionTimeout);
}

int32_t MeshMembership::minWorkerNodes() const {
  return spec.prerequisites && spec.prerequisites->minWorkerNodes
             ? *spec.prerequisites->minWorkerNodes
             : kDefaultMinWorkerNodes;
}

bool MeshMembership::requireMinWorkerNodes() const {
  return spec.prerequisites && spec.prerequisites->requireMinWorkerNodes.value_or(false);
}

meta::KnownFields MeshMembership::knownFields() {
  return detail::specAndStatusFields<MeshMembership>();
}

meta::ValidationResult<MeshMembership> decodeMeshMembership(const json& j) {
  return detail::decodeAndValidate<MeshMembership>(j);
}

}  // namespace rio::v1beta1
