// Authentication and authorization for kube-testenv: who is calling (bearer tokens, client
// certificates) and whether RBAC, evaluated from the cluster's stored Roles, ClusterRoles and
// bindings, lets them do it. Faithful enough that the least-privilege RBAC the operator writes is
// really tested.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/http/server.h"

namespace rio::testenv {

/// The authenticated caller, as kube-apiserver's user.Info.
struct UserInfo {
  std::string name;                 // "admin", "system:serviceaccount:ns:sa", a cert CN
  std::vector<std::string> groups;  // includes "system:authenticated"
  std::string uid;
  /// Service-account tokens only: the bound ServiceAccount.
  std::string serviceAccountNamespace;
  std::string serviceAccountName;
  bool isAdmin() const;  // member of system:masters: bypasses RBAC, as on a real server
};

/// What a request wants to do, in RBAC terms (k8s.io/apiserver authorizer.Attributes).
struct Attributes {
  std::string verb;  // get list watch create update patch delete deletecollection (+ escalate bind impersonate)
  std::string apiGroup;
  std::string resource;  // plural
  std::string subresource;
  std::string ns;
  std::string name;
  bool resourceRequest = true;  // false for /version, /api, /healthz ... (nonResourceURLs)
  std::string path;             // for non-resource requests
};

struct Decision {
  bool allowed = false;
  /// For a denial: kube-apiserver's message tail, e.g.
  /// `User "system:serviceaccount:demo:bot" cannot list resource "secrets" in API group "" in the namespace "demo"`.
  std::string reason;
};

/// Every RBAC object of one kind, as JSON; shared and never modified (nullptr: none).
using RbacObjects = std::shared_ptr<const std::vector<nlohmann::json>>;
/// Read access to the RBAC objects of one cluster (the API server's store).
/// Returns every object of a kind ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding").
/// Must be safe to call from the authorizer while the store is consistent. The API server gives
/// the same list again until an RBAC object changes, so authorizing a request copies nothing.
using RbacObjectsFn = std::function<RbacObjects(const std::string& kind)>;
/// A number that changes whenever any of those objects does (the store's RBAC write count).
using RbacVersionFn = std::function<std::uint64_t()>;

/// Issues and validates service-account tokens (TokenRequest), and knows static tokens.
/// Thread-safe.
class TokenAuthority {
 public:
  virtual ~TokenAuthority() = default;
  /// A token for `ns/name` (uid of the ServiceAccount) valid for `ttl` from now. Returns the token
  /// and its expiry. `audiences` as in TokenRequest.spec.audiences.
  struct Issued {
    std::string token;
    WallTime expiresAt;
  };
  virtual Issued issue(const std::string& ns, const std::string& name, const std::string& uid,
                       std::chrono::seconds ttl, const std::vector<std::string>& audiences) = 0;
  /// The user of a valid token; nullopt when unknown or expired (or the bound ServiceAccount was
  /// deleted: see revokeServiceAccount).
  virtual std::optional<UserInfo> authenticate(const std::string& token) = 0;
  /// Adds a fixed token (the admin token written into kubeconfigs).
  virtual void addStaticToken(const std::string& token, UserInfo user) = 0;
  /// Invalidates every token bound to this ServiceAccount uid (the SA was deleted).
  virtual void revokeServiceAccount(const std::string& uid) = 0;
};

/// Authenticates one HTTP request: `Authorization: Bearer`, then a verified client certificate
/// (CN = user, O = groups). nullopt → the server answers 401.
std::optional<UserInfo> authenticate(const http::ServerRequest& request, TokenAuthority& tokens);

/// RBAC as kube-apiserver evaluates it. Thread-safe if `objects` is.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual Decision authorize(const UserInfo& user, const Attributes& attributes) = 0;
  /// SelfSubjectRulesReview: the rules that apply to `user` in `ns`.
  virtual nlohmann::json rulesFor(const UserInfo& user, const std::string& ns) = 0;
};

std::unique_ptr<TokenAuthority> makeTokenAuthority(ClockPtr clock);
/// With `version` (a number that changes whenever any RBAC object does), the rules resolved for a
/// user in a namespace are reused until it changes; without it they are resolved on every call.
std::unique_ptr<Authorizer> makeRbacAuthorizer(RbacObjectsFn objects, RbacVersionFn version = {});

/// RBAC privilege-escalation check for writes of Roles/ClusterRoles (the writer must hold every
/// rule it grants, or have `escalate`) and bindings (must hold the referenced role's rules, or have
/// `bind`). Returns an empty string when allowed, else kube-apiserver's Forbidden message.
std::string checkEscalation(Authorizer& authorizer, const UserInfo& user, const nlohmann::json& object,
                            const RbacObjectsFn& objects);

}  // namespace rio::testenv
