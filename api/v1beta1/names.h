// Names of the istio.alibabacloud.com/v1beta1 API: group, version, kinds, resources, and the
// finalizers, annotations, labels, condition types and reasons the operator defines. Reconcilers
// use these constants rather than string literals so a name is spelled once.
#pragma once

#include <array>
#include <string_view>

namespace rio::v1beta1 {

inline constexpr std::string_view kGroup = "istio.alibabacloud.com";
inline constexpr std::string_view kVersion = "v1beta1";
inline constexpr std::string_view kApiVersion = "istio.alibabacloud.com/v1beta1";

inline constexpr std::string_view kRemoteIstioKind = "RemoteIstio";
inline constexpr std::string_view kRemoteIstioListKind = "RemoteIstioList";
inline constexpr std::string_view kRemoteIstioPlural = "remoteistios";
inline constexpr std::string_view kRemoteIstioSingular = "remoteistio";
inline constexpr std::string_view kRemoteIstioShortName = "ri";

inline constexpr std::string_view kMeshMembershipKind = "MeshMembership";
inline constexpr std::string_view kMeshMembershipListKind = "MeshMembershipList";
inline constexpr std::string_view kMeshMembershipPlural = "meshmemberships";
inline constexpr std::string_view kMeshMembershipSingular = "meshmembership";
inline constexpr std::string_view kMeshMembershipShortName = "mm";

/// `kubectl get istio` and `kubectl get remote-istio` list both kinds. Not "remoteistio": kubectl
/// expands a category before a singular resource name, so `kubectl get remoteistio NAME` would fail.
inline constexpr std::string_view kCategoryIstio = "istio";
inline constexpr std::string_view kCategoryRemoteIstio = "remote-istio";

/// Finalizers: each reconciler removes what it created in the remote cluster, then its finalizer.
inline constexpr std::string_view kRemoteIstioFinalizer =
    "istio.alibabacloud.com/remoteistio-cleanup";
inline constexpr std::string_view kMeshMembershipFinalizer =
    "istio.alibabacloud.com/meshmembership-cleanup";

/// Annotation on a RemoteIstio or MeshMembership: "true" makes deletion finish at once and leave
/// every remote object in place (for a cluster that is gone for good).
inline constexpr std::string_view kOrphanOnDeleteAnnotation =
    "istio.alibabacloud.com/orphan-on-delete";

/// Labels on every object the operator creates (remote clusters and control plane). Remote
/// objects cannot carry cross-cluster ownerReferences; these labels select them instead.
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "remote-istio-operator";
inline constexpr std::string_view kOwnerKindLabel = "istio.alibabacloud.com/owner-kind";
inline constexpr std::string_view kOwnerNameLabel = "istio.alibabacloud.com/owner-name";
inline constexpr std::string_view kOwnerNamespaceLabel = "istio.alibabacloud.com/owner-namespace";
inline constexpr std::string_view kClusterLabel = "istio.alibabacloud.com/cluster";
/// Marker on a namespace whose `istio-injection` label the operator set: only then is the
/// label ever removed by the operator.
inline constexpr std::string_view kInjectionManagedLabel =
    "istio.alibabacloud.com/injection-managed";

/// Condition types. Every kind reports `Ready`, the summary `kubectl wait --for=condition=Ready`
/// uses.
namespace condition {
inline constexpr std::string_view kReady = "Ready";
// RemoteIstio
inline constexpr std::string_view kConnected = "Connected";
inline constexpr std::string_view kInjectorReady = "InjectorReady";
inline constexpr std::string_view kWebhookConfigured = "WebhookConfigured";
inline constexpr std::string_view kNamespacesLabeled = "NamespacesLabeled";
inline constexpr std::string_view kDiscoverySynced = "DiscoverySynced";
inline constexpr std::string_view kTrustSynced = "TrustSynced";
// MeshMembership
inline constexpr std::string_view kReachable = "Reachable";
inline constexpr std::string_view kPrerequisitesMet = "PrerequisitesMet";
inline constexpr std::string_view kCredentialsIssued = "CredentialsIssued";
inline constexpr std::string_view kRemoteSecretSynced = "RemoteSecretSynced";

inline constexpr std::array kRemoteIstioTypes = {
    kConnected,   kInjectorReady, kWebhookConfigured, kNamespacesLabeled, kDiscoverySynced,
    kTrustSynced, kReady};
inline constexpr std::array kMeshMembershipTypes = {
    kReachable, kPrerequisitesMet, kCredentialsIssued, kRemoteSecretSynced, kReady};
}  // namespace condition

/// Condition reasons (CamelCase). docs/api.md lists what each one means.
namespace reason {
inline constexpr std::string_view kInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kReconciled = "Reconciled";
inline constexpr std::string_view kProgressing = "Progressing";
inline constexpr std::string_view kDeleting = "Deleting";
inline constexpr std::string_view kDisabled = "Disabled";
// credentials and connectivity
inline constexpr std::string_view kBootstrapSecretNotFound = "BootstrapSecretNotFound";
inline constexpr std::string_view kBootstrapCredentialsInvalid = "BootstrapCredentialsInvalid";
inline constexpr std::string_view kCredentialsNotFound = "CredentialsNotFound";
inline constexpr std::string_view kUnreachable = "Unreachable";
inline constexpr std::string_view kUnauthorized = "Unauthorized";
inline constexpr std::string_view kForbidden = "Forbidden";
// prerequisites
inline constexpr std::string_view kUnsupportedVersion = "UnsupportedVersion";
inline constexpr std::string_view kTooFewWorkerNodes = "TooFewWorkerNodes";
inline constexpr std::string_view kCIDROverlap = "CIDROverlap";
inline constexpr std::string_view kClockSkew = "ClockSkew";
inline constexpr std::string_view kClusterNameConflict = "ClusterNameConflict";
// remote writes
inline constexpr std::string_view kApplyFailed = "ApplyFailed";
inline constexpr std::string_view kFieldConflict = "FieldConflict";
inline constexpr std::string_view kTokenRequestFailed = "TokenRequestFailed";
inline constexpr std::string_view kPrerequisitesNotMet = "PrerequisitesNotMet";
inline constexpr std::string_view kDependencyNotReady = "DependencyNotReady";
inline constexpr std::string_view kReplicasNotReady = "ReplicasNotReady";
inline constexpr std::string_view kCleanupDeadlineExceeded = "CleanupDeadlineExceeded";
// RemoteIstio
inline constexpr std::string_view kMembershipNotReady = "MembershipNotReady";
inline constexpr std::string_view kNoControlPlaneAddress = "NoControlPlaneAddress";
inline constexpr std::string_view kRootCAInvalid = "RootCAInvalid";

/// Every reason above (docs/api.md documents each; a test checks).
inline constexpr std::array kAll = {kInvalidSpec,
                                    kReconciled,
                                    kProgressing,
                                    kDeleting,
                                    kDisabled,
                                    kBootstrapSecretNotFound,
                                    kBootstrapCredentialsInvalid,
                                    kCredentialsNotFound,
                                    kUnreachable,
                                    kUnauthorized,
                                    kForbidden,
                                    kUnsupportedVersion,
                                    kTooFewWorkerNodes,
                                    kCIDROverlap,
                                    kClockSkew,
                                    kClusterNameConflict,
                                    kApplyFailed,
                                    kFieldConflict,
                                    kTokenRequestFailed,
                                    kPrerequisitesNotMet,
                                    kDependencyNotReady,
                                    kReplicasNotReady,
                                    kCleanupDeadlineExceeded,
                                    kMembershipNotReady,
                                    kNoControlPlaneAddress,
                                    kRootCAInvalid};
}  // namespace reason

/// Values of RemoteIstio `status.phase` (a one-word summary for `kubectl get`; the conditions
/// are the contract).
namespace phase {
inline constexpr std::string_view kPending = "Pending";
inline constexpr std::string_view kProgressing = "Progressing";
inline constexpr std::string_view kReady = "Ready";
inline constexpr std::string_view kDegraded = "Degraded";
inline constexpr std::string_view kFailed = "Failed";
inline constexpr std::string_view kTerminating = "Terminating";
}  // namespace phase

/// Names of RemoteIstio `status.components[].name`.
namespace component {
inline constexpr std::string_view kSidecarInjector = "sidecarInjector";
inline constexpr std::string_view kWebhook = "webhook";
inline constexpr std::string_view kDiscovery = "discovery";
inline constexpr std::string_view kTrust = "trust";
inline constexpr std::string_view kIngressGateway = "ingressGateway";
}  // namespace component

}  // namespace rio::v1beta1
