#include "test/testenv/rbac_authorizer.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace rio::testenv {
namespace {

using nlohmann::json;
using rbac::PolicyRule;

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& metadataOf(const json& obj) {
  static const json kEmpty = json::object();
  if (!obj.is_object()) return kEmpty;
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

std::string nameOf(const json& obj) { return str(metadataOf(obj), "name"); }
std::string namespaceOf(const json& obj) { return str(metadataOf(obj), "namespace"); }

// One request's view of the RBAC objects: each kind is listed at most once.
class Snapshot {
 public:
  explicit Snapshot(const RbacObjectsFn& fn) : fn_(fn) {}
  const std::vector<json>& list(const std::string& kind) {
    static const std::vector<json> kNone;
    auto it = lists_.find(kind);
    if (it == lists_.end()) it = lists_.emplace(kind, fn_ ? fn_(kind) : nullptr).first;
    return it->second ? *it->second : kNone;
  }
  const json* find(const std::string& kind, const std::string& ns, const std::string& name) {
    for (const auto& obj : list(kind)) {
      if (nameOf(obj) == name && namespaceOf(obj) == ns) return &obj;
    }
    return nullptr;
  }

 private:
  const RbacObjectsFn& fn_;
  std::map<std::string, RbacObjects> lists_;
};

// The listers are sorted by name so that resolution order (and the SelfSubjectRulesReview) is
// stable; a real server's order is that of its informer cache, which is no more meaningful.
std::vector<const json*> sortedByName(const std::vector<json>& objs) {
  std::vector<const json*> out;
  out.reserve(objs.size());
  for (const auto& o : objs) out.push_back(&o);
  std::stable_sort(out.begin(), out.end(),
                   [](const json* a, const json* b) { return nameOf(*a) < nameOf(*b); });
  return out;
}

bool hasGroup(const UserInfo& user, std::string_view group) {
  return std::find(user.groups.begin(), user.groups.end(), group) != user.groups.end();
}

// appliesToUser (pkg/registry/rbac/validation/rule.go).
bool subjectApplies(const UserInfo& user, const json& subject,
                    const std::string& bindingNamespace) {
  std::string kind = str(subject, "kind");
  std::string name = str(subject, "name");
  if (kind == "User") return user.name == name;
  if (kind == "Group") return hasGroup(user, name);
  if (kind == "ServiceAccount") {
    // A RoleBinding's ServiceAccount subject without a namespace means one in the binding's
    // namespace; a ClusterRoleBinding's needs one.
    std::string saNamespace = str(subject, "namespace");
    if (saNamespace.empty()) saNamespace = bindingNamespace;
    if (saNamespace.empty()) return false;
    return user.name == "system:serviceaccount:" + saNamespace + ":" + name;
  }
  return false;
}

bool bindingApplies(const UserInfo& user, const json& binding, const std::string& ns) {
  auto it = binding.find("subjects");
  if (it == binding.end() || !it->is_array()) return false;
  return std::any_of(it->begin(), it->end(),
                     [&](const json& s) { return subjectApplies(user, s, ns); });
}

bool hasAggregationRule(const json& clusterRole) {
  if (!clusterRole.is_object()) return false;
  auto it = clusterRole.find("aggregationRule");
  return it != clusterRole.end() && it->is_object();
}

std::vector<PolicyRule> aggregatedRules(const json& role, const std::vector<json>& all,
                                        std::set<std::string>& visiting) {
  if (!hasAggregationRule(role)) return rbac::rulesOf(role);
  const std::string self = nameOf(role);
  visiting.insert(self);
  std::vector<PolicyRule> out;
  const json& selectors = role.at("aggregationRule").value("clusterRoleSelectors", json::array());
  if (selectors.is_array()) {
    auto sorted = sortedByName(all);
    for (const auto& selector : selectors) {
      for (const json* candidate : sorted) {
        std::string name = nameOf(*candidate);
        if (name == self) continue;
        if (!rbac::labelSelectorMatches(selector, metadataOf(*candidate).value("labels", json()))) {
          continue;
        }
        // A role already being expanded (a selector cycle) contributes what is stored in it.
        auto rules = visiting.count(name) ? rbac::rulesOf(*candidate)
                                          : aggregatedRules(*candidate, all, visiting);
        for (auto& r : rules) {
          if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
        }
      }
    }
  }
  visiting.erase(self);
  return out;
}

std::string notFound(NotFoundStyle style, const std::string& kind, const std::string& name) {
  // Informer listers name the resource in the singular; the registry's storage in the plural.
  std::string resource = kind == "Role" ? "role" : "clusterrole";
  if (style == NotFoundStyle::kRegistry) resource += "s";
  return resource + "." + std::string(kRbacGroup) + " " + rbac::goQuote(name) + " not found";
}

// GetRoleReferenceRules: the rules a roleRef grants in `bindingNamespace`, or an error text.
std::vector<PolicyRule> roleReferenceRules(const json& roleRef, const std::string& bindingNamespace,
                                           Snapshot& snap, NotFoundStyle style,
                                           std::string* error) {
  std::string kind = str(roleRef, "kind");
  std::string name = str(roleRef, "name");
  if (kind == "Role") {
    const json* role = snap.find("Role", bindingNamespace, name);
    if (!role) {
      *error = notFound(style, kind, name);
      return {};
    }
    return rbac::rulesOf(*role);
  }
  if (kind == "ClusterRole") {
    const json* role = snap.find("ClusterRole", "", name);
    if (!role) {
      *error = notFound(style, kind, name);
      return {};
    }
    return clusterRoleRules(*role, snap.list("ClusterRole"));
  }
  *error = "unsupported role reference kind: " + rbac::goQuote(kind);
  return {};
}

std::string htmlSanitize(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const std::vector<PolicyRule>& fullAuthority() {
  static const std::vector<PolicyRule> kRules = {
      PolicyRule{{"*"}, {"*"}, {"*"}, {}, {}},
      PolicyRule{{"*"}, {}, {}, {}, {"*"}},
  };
  return kRules;
}

std::string forbiddenPrefix(const std::string& resource, const std::string& name) {
  std::string out = resource + "." + std::string(kRbacGroup);
  if (!name.empty()) out += " " + rbac::goQuote(name);
  return out + " is forbidden: ";
}

// ConfirmNoEscalation: "" when `owner` covers `rules`.
std::string confirmNoEscalation(const UserInfo& user, const ResolvedRules& owner,
                                const std::vector<PolicyRule>& rules) {
  auto missing = rbac::uncoveredRules(owner.rules, rules);
  if (missing.empty()) return {};
  std::set<std::string> descriptions;  // sorted and unique, as sets.String.List()
  for (const auto& r : rbac::compactRules(missing)) descriptions.insert(rbac::compactString(r));
  std::string msg = "user " + rbac::goQuote(user.name) +
                    " (groups=" + rbac::goQuoteList(user.groups) +
                    ") is attempting to grant RBAC permissions not currently held:";
  for (const auto& d : descriptions) msg += "\n" + d;
  if (!owner.errors.empty()) msg += "; resolution errors: [" + owner.aggregateError() + "]";
  return msg;
}

class RbacAuthorizerImpl final : public Authorizer {
 public:
  RbacAuthorizerImpl(RbacObjectsFn objects, RbacVersionFn version)
      : objects_(withBootstrapPolicy(std::move(objects))), version_(std::move(version)) {}

  Decision authorize(const UserInfo& user, const Attributes& attributes) override {
    // kube-apiserver puts a privileged-group authorizer for system:masters in front of RBAC.
    if (user.isAdmin()) return {true, {}};
    const auto resolvedPtr = rules(user, attributes.ns);
    const ResolvedRules& resolved = *resolvedPtr;
    for (const auto& rule : resolved.rules) {
      if (rbac::ruleAllows(attributes, rule)) return {true, {}};
    }
    Decision d;
    d.reason = forbiddenMessage(user, attributes);
    if (!resolved.errors.empty()) d.reason += ": RBAC: " + resolved.aggregateError();
    return d;
  }

  json rulesFor(const UserInfo& user, const std::string& ns) override {
    const auto resolvedPtr = rules(user, ns);
    const ResolvedRules& resolved = *resolvedPtr;
    json resourceRules = json::array();
    json nonResourceRules = json::array();
    for (const auto& r : resolved.rules) {
      if (!r.resources.empty()) {
        resourceRules.push_back(
            PolicyRule{r.verbs, r.apiGroups, r.resources, r.resourceNames, {}}.toJson());
      }
      if (!r.nonResourceURLs.empty()) {
        nonResourceRules.push_back(PolicyRule{r.verbs, {}, {}, {}, r.nonResourceURLs}.toJson());
      }
    }
    json status = {{"resourceRules", resourceRules},
                   {"nonResourceRules", nonResourceRules},
                   {"incomplete", false}};
    if (!resolved.errors.empty()) status["evaluationError"] = resolved.aggregateError();
    return status;
  }

 private:
  RbacObjectsFn objects_;

  // The rules of `user` in `ns`: resolved again only when the RBAC objects changed (every
  // request of a service account would otherwise copy and walk every binding and role).
  std::shared_ptr<const ResolvedRules> rules(const UserInfo& user, const std::string& ns) {
    if (!version_) return std::make_shared<const ResolvedRules>(resolveRules(user, ns, objects_));
    std::string key = user.name + '\n' + user.serviceAccountNamespace + '\n' +
                      user.serviceAccountName + '\n' + ns;
    for (const auto& g : user.groups) key += '\n' + g;
    const std::uint64_t version = version_();  // read before the objects: never newer than them
    {
      std::lock_guard lock(cacheMu_);
      if (version > cacheVersion_ || cache_.size() >= kMaxCached) {
        cache_.clear();
        cacheVersion_ = version;
      }
      if (auto it = cache_.find(key); it != cache_.end() && version == cacheVersion_) {
        return it->second;
      }
    }
    auto resolved = std::make_shared<const ResolvedRules>(resolveRules(user, ns, objects_));
    std::lock_guard lock(cacheMu_);
    if (cacheVersion_ == version) cache_.emplace(std::move(key), resolved);
    return resolved;
  }

  static constexpr std::size_t kMaxCached = 4096;
  const RbacVersionFn version_;
  std::mutex cacheMu_;  // guards the two below
  std::uint64_t cacheVersion_ = 0;
  std::map<std::string, std::shared_ptr<const ResolvedRules>> cache_;
};

json bootstrapRole(const std::string& name, json rules) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRole"},
          {"metadata",
           {{"name", name},
            {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}},
            {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}}},
          {"rules", std::move(rules)}};
}

json bootstrapBinding(const std::string& name, const std::vector<std::string>& groups) {
  json subjects = json::array();
  for (const auto& g : groups) {
    subjects.push_back({{"apiGroup", kRbacGroup}, {"kind", "Group"}, {"name", g}});
  }
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRoleBinding"},
          {"metadata",
           {{"name", name},
            {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}},
            {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}}},
          {"roleRef", {{"apiGroup", kRbacGroup}, {"kind", "ClusterRole"}, {"name", name}}},
          {"subjects", std::move(subjects)}};
}

json withoutServerMetadata(json obj) {
  if (!obj.is_object()) return obj;
  obj.erase("apiVersion");
  obj.erase("kind");
  if (auto it = obj.find("metadata"); it != obj.end() && it->is_object()) {
    for (const char* key : {"ownerReferences", "finalizers", "managedFields", "resourceVersion",
                            "generation", "selfLink", "uid", "creationTimestamp"}) {
      it->erase(key);
    }
  }
  return obj;
}

}  // namespace

// The privileged group kube-apiserver authorizes ahead of RBAC.
bool UserInfo::isAdmin() const {
  return std::find(groups.begin(), groups.end(), kGroupMasters) != groups.end();
}

std::vector<json> bootstrapClusterRoles() {
  return {
      bootstrapRole("cluster-admin",
                    json::array({{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
                                 {{"nonResourceURLs", {"*"}}, {"verbs", {"*"}}}})),
      bootstrapRole(
          "system:basic-user",
          json::array({{{"apiGroups", {"authorization.k8s.io"}},
                        {"resources", {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
                        {"verbs", {"create"}}},
                       // kubectl auth whoami (SelfSubjectReview), in basic-user since 1.28.
                       {{"apiGroups", {"authentication.k8s.io"}},
                        {"resources", {"selfsubjectreviews"}},
                        {"verbs", {"create"}}}})),
      bootstrapRole("system:discovery",
                    json::array({{{"nonResourceURLs",
                                   {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                    "/openapi", "/openapi/*", "/readyz", "/version", "/version/"}},
                                  {"verbs", {"get"}}}})),
      bootstrapRole("system:public-info-viewer",
                    json::array({{{"nonResourceURLs",
                                   {"/healthz", "/livez", "/readyz", "/version", "/version/"}},
                                  {"verbs", {"get"}}}})),
  };
}

std::vector<json> bootstrapClusterRoleBindings() {
  return {
      bootstrapBinding("cluster-admin", {std::string(kGroupMasters)}),
      bootstrapBinding("system:basic-user", {std::string(kGroupAuthenticated)}),
      bootstrapBinding("system:discovery", {std::string(kGroupAuthenticated)}),
      bootstrapBinding("system:public-info-viewer",
                       {std::string(kGroupAuthenticated), "system:unauthenticated"}),
  };
}

RbacObjectsFn withBootstrapPolicy(RbacObjectsFn objects) {
  // The merged list of a kind is kept while the store gives the same list (the same pointer).
  struct Merged {
    std::mutex mu;
    std::map<std::string, std::pair<RbacObjects, RbacObjects>> byKind;  // kind -> (stored, merged)
  };
  auto merged = std::make_shared<Merged>();
  return [objects = std::move(objects), merged](const std::string& kind) -> RbacObjects {
    RbacObjects stored = objects ? objects(kind) : nullptr;
    if (kind != "ClusterRole" && kind != "ClusterRoleBinding") return stored;
    {
      std::lock_guard lock(merged->mu);
      auto it = merged->byKind.find(kind);
      // `stored` is held in the cache, so an equal pointer is the same list, never a new one
      // allocated where a freed one was.
      if (it != merged->byKind.end() && it->second.first == stored) return it->second.second;
    }
    std::vector<json> defaults =
        kind == "ClusterRole" ? bootstrapClusterRoles() : bootstrapClusterRoleBindings();
    std::vector<json> missing;
    for (auto& d : defaults) {
      const std::string name = nameOf(d);
      const bool present = stored && std::any_of(stored->begin(), stored->end(), [&](const json& o) {
                             return nameOf(o) == name;
                           });
      if (!present) missing.push_back(std::move(d));
    }
    // A server seeds the defaults in its store: then the stored list is the merged one, uncopied.
    RbacObjects result = stored;
    if (!missing.empty() || !stored) {
      std::vector<json> out = stored ? *stored : std::vector<json>{};
      for (auto& d : missing) out.push_back(std::move(d));
      result = std::make_shared<const std::vector<json>>(std::move(out));
    }
    std::lock_guard lock(merged->mu);
    merged->byKind[kind] = {stored, result};
    return result;
  };
}

std::string forbiddenMessage(const UserInfo& user, const Attributes& a) {
  std::string msg;
  if (!a.resourceRequest) {
    msg =
        "User " + rbac::goQuote(user.name) + " cannot " + a.verb + " path " + rbac::goQuote(a.path);
    return htmlSanitize(msg);
  }
  std::string resource = a.resource;
  if (!a.subresource.empty()) resource += "/" + a.subresource;
  msg = "User " + rbac::goQuote(user.name) + " cannot " + a.verb + " resource " +
        rbac::goQuote(resource) + " in API group " + rbac::goQuote(a.apiGroup);
  msg += a.ns.empty() ? std::string(" at the cluster scope")
                      : " in the namespace " + rbac::goQuote(a.ns);
  return htmlSanitize(msg);
}

std::string forbiddenStatusMessage(const Attributes& a, const std::string& reason) {
  // apierrors.NewForbidden(GroupResource{group, resource}, name, err)
  std::string qualified = a.resource;
  if (!a.apiGroup.empty() && !qualified.empty()) qualified += "." + a.apiGroup;
  if (!a.resourceRequest || qualified.empty()) return "forbidden: " + reason;
  if (a.name.empty()) return qualified + " is forbidden: " + reason;
  return qualified + " " + rbac::goQuote(a.name) + " is forbidden: " + reason;
}

std::string ResolvedRules::aggregateError() const {
  if (errors.empty()) return {};
  if (errors.size() == 1) return errors.front();
  std::vector<std::string> seen;
  for (const auto& e : errors) {
    if (std::find(seen.begin(), seen.end(), e) == seen.end()) seen.push_back(e);
  }
  std::string joined;
  for (std::size_t i = 0; i < seen.size(); ++i) joined += (i ? ", " : "") + seen[i];
  return seen.size() == 1 ? joined : "[" + joined + "]";
}

ResolvedRules resolveRules(const UserInfo& user, const std::string& ns,
                           const RbacObjectsFn& objects, NotFoundStyle style) {
  ResolvedRules out;
  Snapshot snap(objects);
  auto collect = [&](const json& binding, const std::string& bindingNamespace) {
    if (!bindingApplies(user, binding, bindingNamespace)) return;
    std::string error;
    auto rules = roleReferenceRules(binding.value("roleRef", json::object()), bindingNamespace,
                                    snap, style, &error);
    if (!error.empty()) {
      out.errors.push_back(std::move(error));
      return;
    }
    out.rules.insert(out.rules.end(), rules.begin(), rules.end());
  };
  for (const json* crb : sortedByName(snap.list("ClusterRoleBinding"))) collect(*crb, "");
  if (!ns.empty()) {
    for (const json* rb : sortedByName(snap.list("RoleBinding"))) {
      if (namespaceOf(*rb) == ns) collect(*rb, ns);
    }
  }
  return out;
}

std::vector<PolicyRule> clusterRoleRules(const json& clusterRole,
                                         const std::vector<json>& allClusterRoles) {
  std::set<std::string> visiting;
  return aggregatedRules(clusterRole, allClusterRoles, visiting);
}

bool isOnlyMutatingGcFields(const json& previous, const json& updated) {
  return withoutServerMetadata(previous) == withoutServerMetadata(updated);
}

std::string checkEscalation(Authorizer& authorizer, const UserInfo& user, const json& object,
                            const json* previous, const RbacObjectsFn& objectsIn) {
  // EscalationAllowed: system:masters may grant anything.
  if (user.isAdmin()) return {};
  const std::string kind = str(object, "kind");
  const bool isRole = kind == "Role" || kind == "ClusterRole";
  const bool isBinding = kind == "RoleBinding" || kind == "ClusterRoleBinding";
  if (!isRole && !isBinding) return {};
  if (previous && isOnlyMutatingGcFields(*previous, object)) return {};

  const RbacObjectsFn objects = withBootstrapPolicy(objectsIn);
  const std::string name = nameOf(object);
  const bool namespaced = kind == "Role" || kind == "RoleBinding";
  const std::string ns = namespaced ? namespaceOf(object) : std::string();

  if (isRole) {
    const std::string resource = kind == "Role" ? "roles" : "clusterroles";
    // RoleEscalationAuthorized: the request's own name (none on a create).
    Attributes escalate{"escalate", std::string(kRbacGroup), resource, "",
                        ns,         previous ? name : "",    true,     ""};
    if (authorizer.authorize(user, escalate).allowed) return {};
    ResolvedRules owner = resolveRules(user, ns, objects, NotFoundStyle::kRegistry);
    if (auto msg = confirmNoEscalation(user, owner, rbac::rulesOf(object)); !msg.empty()) {
      return forbiddenPrefix(resource, name) + msg;
    }
    // An aggregationRule can gather anything and prevent tightening: it needs * on *.*.
    if (kind == "ClusterRole" &&
        (hasAggregationRule(object) || (previous && hasAggregationRule(*previous)))) {
      if (!confirmNoEscalation(user, owner, fullAuthority()).empty()) {
        return forbiddenPrefix(resource, name) +
               "must have cluster-admin privileges to use the aggregationRule";
      }
    }
    return {};
  }

  const std::string resource = kind == "RoleBinding" ? "rolebindings" : "clusterrolebindings";
  const json roleRef = object.value("roleRef", json::object());
  const std::string refKind = str(roleRef, "kind");
  // BindingAuthorized: `bind` on the referenced role, in the binding's namespace.
  if (refKind == "Role" || refKind == "ClusterRole") {
    Attributes bind{"bind",
                    str(roleRef, "apiGroup"),
                    refKind == "Role" ? "roles" : "clusterroles",
                    "",
                    ns,
                    str(roleRef, "name"),
                    true,
                    ""};
    if (authorizer.authorize(user, bind).allowed) return {};
  }
  Snapshot snap(objects);
  std::string error;
  auto rules = roleReferenceRules(roleRef, ns, snap, NotFoundStyle::kRegistry, &error);
  if (!error.empty()) return forbiddenPrefix(resource, name) + error;
  ResolvedRules owner = resolveRules(user, ns, objects, NotFoundStyle::kRegistry);
  if (auto msg = confirmNoEscalation(user, owner, rules); !msg.empty()) {
    return forbiddenPrefix(resource, name) + msg;
  }
  return {};
}

std::string checkEscalation(Authorizer& authorizer, const UserInfo& user, const json& object,
                            const RbacObjectsFn& objects) {
  return checkEscalation(authorizer, user, object, nullptr, objects);
}

std::unique_ptr<Authorizer> makeRbacAuthorizer(RbacObjectsFn objects, RbacVersionFn version) {
  return std::make_unique<RbacAuthorizerImpl>(std::move(objects), std::move(version));
}

}  // namespace rio::testenv
