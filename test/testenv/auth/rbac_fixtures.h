// Builders for RBAC objects and callers used by the auth tests, and an in-memory store that
// stands in for the API server's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/testenv/auth.h"

namespace rio::testenv::testing {

using nlohmann::json;

/// The RBAC objects of one cluster; fn() reads them live, so tests can add objects later.
struct RbacStore {
  std::vector<json> objects;
  std::uint64_t version = 0;  // bumped by add()
  void add(json o) {
    objects.push_back(std::move(o));
    ++version;
  }
  RbacVersionFn versionFn() {
    return [this] { return version; };
  }
  RbacObjectsFn fn() {
    return [this](const std::string& kind) -> RbacObjects {
      std::vector<json> out;
      for (const auto& o : objects) {
        if (o.value("kind", "") == kind) out.push_back(o);
      }
      return std::make_shared<const std::vector<json>>(std::move(out));
    };
  }
};

inline json rule(std::vector<std::string> groups, std::vector<std::string> resources,
                 std::vector<std::string> verbs, std::vector<std::string> names = {}) {
  json r = {{"apiGroups", groups}, {"resources", resources}, {"verbs", verbs}};
  if (!names.empty()) r["resourceNames"] = names;
  return r;
}

inline json urlRule(std::vector<std::string> urls, std::vector<std::string> verbs) {
  return {{"nonResourceURLs", urls}, {"verbs", verbs}};
}

inline json role(const std::string& ns, const std::string& name, json rules) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"rules", rules}};
}

inline json clusterRole(const std::string& name, json rules, json labels = json::object()) {
  json o = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", "ClusterRole"},
            {"metadata", {{"name", name}}},
            {"rules", rules}};
  if (!labels.empty()) o["metadata"]["labels"] = labels;
  return o;
}

inline json aggregatedClusterRole(const std::string& name, json selectors,
                                  json labels = json::object()) {
  json o = clusterRole(name, json::array(), labels);
  o["aggregationRule"] = {{"clusterRoleSelectors", selectors}};
  return o;
}

inline json saSubject(const std::string& ns, const std::string& name) {
  json s = {{"kind", "ServiceAccount"}, {"name", name}};
  if (!ns.empty()) s["namespace"] = ns;
  return s;
}
inline json userSubject(const std::string& name) {
  return {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "User"}, {"name", name}};
}
inline json groupSubject(const std::string& name) {
  return {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", name}};
}

inline json roleBinding(const std::string& ns, const std::string& name, const std::string& refKind,
                        const std::string& refName, json subjects) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "RoleBinding"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"roleRef",
           {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", refKind}, {"name", refName}}},
          {"subjects", subjects}};
}

inline json clusterRoleBinding(const std::string& name, const std::string& refName, json subjects) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRoleBinding"},
          {"metadata", {{"name", name}}},
          {"roleRef",
           {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", refName}}},
          {"subjects", subjects}};
}

/// A service-account caller as the token authenticator produces it.
inline UserInfo serviceAccount(const std::string& ns, const std::string& name) {
  UserInfo u;
  u.name = "system:serviceaccount:" + ns + ":" + name;
  u.groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
  u.serviceAccountNamespace = ns;
  u.serviceAccountName = name;
  return u;
}

inline UserInfo user(const std::string& name,
                     std::vector<std::string> groups = {"system:authenticated"}) {
  UserInfo u;
  u.name = name;
  u.groups = std::move(groups);
  return u;
}

inline Attributes request(const std::string& verb, const std::string& group,
                          const std::string& resource, const std::string& ns,
                          const std::string& name = "", const std::string& subresource = "") {
  Attributes a;
  a.verb = verb;
  a.apiGroup = group;
  a.resource = resource;
  a.subresource = subresource;
  a.ns = ns;
  a.name = name;
  return a;
}

inline Attributes pathRequest(const std::string& verb, const std::string& path) {
  Attributes a;
  a.verb = verb;
  a.resourceRequest = false;
  a.path = path;
  return a;
}

}  // namespace rio::testenv::testing
