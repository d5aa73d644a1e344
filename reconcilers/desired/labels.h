// The labels and names every object the operator creates carries, so it can find (label-selected
// informers), repair and delete exactly what it made, and nothing else. Cross-cluster
// ownerReferences do not exist, hence labels.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace rio::desired {

inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedByValue[] = "remote-istio-operator";
/// Which controller owns the object: "RemoteIstio" or "MeshMembership".
inline constexpr char kOwnerKindLabel[] = "istio.alibabacloud.com/owner-kind";
/// The owning CR as "<namespace>.<name>" (hashed when longer than a label value may be).
inline constexpr char kOwnerLabel[] = "istio.alibabacloud.com/owner";
/// The owning CR as "<namespace>/<name>", exact (labels may be hashed): maps remote events back to it.
inline constexpr char kOwnerAnnotation[] = "istio.alibabacloud.com/owner";
/// The remote cluster the object belongs to.
inline constexpr char kClusterLabel[] = "istio.alibabacloud.com/cluster";
/// Set on user namespaces whose `istio-injection` label the operator added (and only those).
inline constexpr char kInjectionOwnerLabel[] = "istio.alibabacloud.com/injection-managed";
inline constexpr char kInjectionLabel[] = "istio-injection";
/// The field manager of every write.
inline constexpr char kFieldManager[] = "remote-istio-operator";
/// The field manager of the injection labels on user namespaces (server-side apply, never forced).
/// A manager of its own: an apply replaces the whole set of fields its manager applied to that
/// object before, so sharing kFieldManager would make the injection labels and any other labels
/// the operator applies to the same namespace (the mesh namespace's owner labels) undo each other.
inline constexpr char kInjectionFieldManager[] = "remote-istio-operator-injection";

/// Who owns a set of objects.
struct Owner {
  std::string kind;       // "RemoteIstio" or "MeshMembership"
  std::string ns;         // namespace of the CR in the control plane
  std::string name;       // name of the CR
  std::string cluster;    // remote cluster name
};

/// The label value identifying `owner` (≤ 63 characters, valid label value).
std::string ownerValue(const Owner& owner);
/// Labels every object owned by `owner` carries.
nlohmann::json ownerLabels(const Owner& owner);
/// The label selector matching exactly the objects of `owner`.
std::string ownerSelector(const Owner& owner);
/// The owner of an object from its owner annotation; nullopt when it has none.
std::optional<Owner> ownerOf(const nlohmann::json& object);
/// Object metadata: name, namespace (omitted when empty), the owner labels plus `extra` labels,
/// and the owner annotation.
nlohmann::json objectMeta(const Owner& owner, const std::string& name, const std::string& ns,
                          const nlohmann::json& extraLabels = nlohmann::json::object());

}  // namespace rio::desired
