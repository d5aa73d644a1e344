// What one kube-testenv cluster serves: every resource type (built-in kinds and the versions of
// established CustomResourceDefinitions) with the facts discovery, RBAC, storage and validation
// need about it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"

namespace rio::testenv {

/// A subresource as discovery lists it ("status", "token", "scale").
struct SubresourceInfo {
  std::string name;
  std::string group;  // response kind's group/version when it differs (TokenRequest, Scale)
  std::string version;
  std::string kind;
  std::vector<std::string> verbs;
};

/// One served resource in one version. Immutable once registered (shared by in-flight requests
/// and watches).
struct ResourceType {
  std::string group;  // "" for core
  std::string version;
  std::string resource;  // plural
  std::string singular;
  std::string kind;
  std::string listKind;
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  std::string storageVersionHash;
  std::vector<SubresourceInfo> subresources;

  /// metadata.generation is maintained: bumped when anything but metadata (and status, when a
  /// status subresource exists) changes.
  bool tracksGeneration = false;
  /// Objects are persisted (false for reviews such as SelfSubjectAccessReview: create-only).
  bool stored = true;
  /// PUT of a missing object creates it (Endpoints, Leases, RBAC objects, Events ...).
  bool allowCreateOnUpdate = false;
  /// PUT without metadata.resourceVersion is accepted (false for custom resources).
  bool allowUnconditionalUpdate = true;
  /// A DELETE answers with the object (Pods, Services, Namespaces) instead of a Success Status.
  bool returnDeletedObject = false;
  /// Served from a CustomResourceDefinition.
  bool custom = false;
  /// The CRD's name for custom resources.
  std::string crdName;
  /// Several types may share one storage (core and events.k8s.io Events; versions of a CRD).
  std::string storageKey;
  /// Custom resources: openAPIV3Schema of this version (null when none), printer columns,
  /// selectable fields (JSONPaths).
  nlohmann::json schema;
  nlohmann::json printerColumns = nlohmann::json::array();
  std::vector<std::string> selectableFields;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  /// "configmaps", "deployments.apps", "widgets.example.com": how messages name the resource.
  std::string groupResource() const { return group.empty() ? resource : resource + "." + group; }
  bool hasSubresource(const std::string& name) const;
  bool hasStatus() const { return hasSubresource("status"); }
  bool supportsVerb(const std::string& verb) const;
};
using ResourceTypePtr = std::shared_ptr<const ResourceType>;

/// One API group as discovery lists it.
struct GroupInfo {
  std::string name;
  std::vector<std::string> versions;  // preferred first
};

/// The served types. Thread-safety: none; the API server guards it with its store mutex and hands
/// out ResourceTypePtr snapshots.
class Registry {
 public:
  /// Starts with the built-in kinds of kube-apiserver 1.32 that kube-testenv serves.
  Registry();

  ResourceTypePtr find(const std::string& group, const std::string& version,
                       const std::string& resource) const;
  /// Any served version of group/resource (the preferred one first).
  ResourceTypePtr findAnyVersion(const std::string& group, const std::string& resource) const;
  /// By kind in a group-version ("apps/v1", "Deployment").
  ResourceTypePtr findKind(const std::string& apiVersion, const std::string& kind) const;
  /// Every type, built-ins first in discovery order.
  std::vector<ResourceTypePtr> all() const;
  /// Types of one group-version, discovery order.
  std::vector<ResourceTypePtr> groupVersion(const std::string& group,
                                            const std::string& version) const;
  /// Groups ("" excluded) in discovery order: built-in groups, then CRD groups by name.
  std::vector<GroupInfo> groups() const;
  bool servesGroupVersion(const std::string& group, const std::string& version) const;

  /// Registers (or replaces) the served versions of a CRD. Fails with kInvalid when the CRD is
  /// unusable (no group, names, or served versions).
  Expected<void> setCustomResource(const nlohmann::json& crd);
  void removeCustomResource(const std::string& crdName);
  /// The storage key ("group/resource") of a CRD's resources.
  static std::string crdStorageKey(const nlohmann::json& crd);

 private:
  std::vector<ResourceTypePtr> builtins_;
  std::map<std::string, std::vector<ResourceTypePtr>> custom_;  // by CRD name
};

/// Kubernetes version priority ("v1" > "v1beta2" > "v1beta1" > "v1alpha1" > "foo"): true when a
/// sorts before b.
bool kubeVersionLess(const std::string& a, const std::string& b);

}  // namespace rio::testenv
