#include "test/testenv/registry.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include <openssl/sha.h>

#include "controller/core/base64.h"

namespace rio::testenv {
namespace {

const std::vector<std::string> kStandardVerbs = {"create", "delete", "deletecollection", "get",
                                                 "list",   "patch",  "update",           "watch"};
const std::vector<std::string> kStatusVerbs = {"get", "patch", "update"};

struct Spec {
  std::string group, version, resource, singular, kind;
  bool namespaced;
  std::vector<std::string> verbs;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  std::string hash;
  std::vector<SubresourceInfo> subresources;
};

ResourceTypePtr make(Spec s, bool generation = false, bool createOnUpdate = false,
                     bool returnDeleted = false, bool stored = true, std::string storageKey = {}) {
  auto t = std::make_shared<ResourceType>();
  t->group = std::move(s.group);
  t->version = std::move(s.version);
  t->resource = std::move(s.resource);
  t->singular = std::move(s.singular);
  t->kind = std::move(s.kind);
  t->listKind = t->kind + "List";
  t->namespaced = s.namespaced;
  t->verbs = std::move(s.verbs);
  t->shortNames = std::move(s.shortNames);
  t->categories = std::move(s.categories);
  t->storageVersionHash = std::move(s.hash);
  t->subresources = std::move(s.subresources);
  t->tracksGeneration = generation;
  t->allowCreateOnUpdate = createOnUpdate;
  t->returnDeletedObject = returnDeleted;
  t->stored = stored;
  t->storageKey = storageKey.empty() ? t->group + "/" + t->resource : std::move(storageKey);
  return t;
}

SubresourceInfo status() { return {"status", "", "", "", kStatusVerbs}; }

std::vector<ResourceTypePtr> builtinTypes() {
  const std::vector<std::string> create = {"create"};
  std::vector<ResourceTypePtr> v;
  // core/v1, in the order /api/v1 lists them.
  v.push_back(make({"",
                    "v1",
                    "configmaps",
                    "configmap",
                    "ConfigMap",
                    true,
                    kStandardVerbs,
                    {"cm"},
                    {},
                    "qFsyl6wFWjQ=",
                    {}}));
  v.push_back(make({"",
                    "v1",
                    "endpoints",
                    "endpoints",
                    "Endpoints",
                    true,
                    kStandardVerbs,
                    {"ep"},
                    {},
                    "fWeeMqaN/OA=",
                    {}},
                   false, true));
  v.push_back(make(
      {"", "v1", "events", "event", "Event", true, kStandardVerbs, {"ev"}, {}, "r2yiGXH7wu8=", {}},
      false, true, false, true, "/events"));
  {
    auto ns = make({"",
                    "v1",
                    "namespaces",
                    "namespace",
                    "Namespace",
                    false,
                    {"create", "delete", "get", "list", "patch", "update", "watch"},
                    {"ns"},
                    {},
                    "Q3oi5N2YM8M=",
                    {{"finalize", "", "", "", {"update"}}, status()}},
                   false, false, true);
    v.push_back(ns);
  }
  v.push_back(make({"",
                    "v1",
                    "nodes",
                    "node",
                    "Node",
                    false,
                    kStandardVerbs,
                    {"no"},
                    {},
                    "XwShjMxG9Fs=",
                    {status()}}));
  v.push_back(make({"",
                    "v1",
                    "pods",
                    "pod",
                    "Pod",
                    true,
                    kStandardVerbs,
                    {"po"},
                    {"all"},
                    "xPOwRZ+Yhw8=",
                    {status()}},
                   false, false, true));
  v.push_back(make(
      {"", "v1", "secrets", "secret", "Secret", true, kStandardVerbs, {}, {}, "S6u1pOWzb84=", {}}));
  v.push_back(make({"",
                    "v1",
                    "serviceaccounts",
                    "serviceaccount",
                    "ServiceAccount",
                    true,
                    kStandardVerbs,
                    {"sa"},
                    {},
                    "pbx9ZvyFpBE=",
                    {{"token", "authentication.k8s.io", "v1", "TokenRequest", create}}}));
  v.push_back(make({"",
                    "v1",
                    "services",
                    "service",
                    "Service",
                    true,
                    kStandardVerbs,
                    {"svc"},
                    {"all"},
                    "0/CO1lhkEBI=",
                    {status()}}));
  // apps/v1
  v.push_back(make({"apps",
                    "v1",
                    "deployments",
                    "deployment",
                    "Deployment",
                    true,
                    kStandardVerbs,
                    {"deploy"},
                    {"all"},
                    "8aSe+NMegvE=",
                    {{"scale", "autoscaling", "v1", "Scale", kStatusVerbs}, status()}},
                   true));
  // events.k8s.io/v1 shares the core Events' storage.
  v.push_back(make({"events.k8s.io",
                    "v1",
                    "events",
                    "event",
                    "Event",
                    true,
                    kStandardVerbs,
                    {"ev"},
                    {},
                    "r2yiGXH7wu8=",
                    {}},
                   false, true, false, true, "/events"));
  // authentication.k8s.io/v1
  v.push_back(make({"authentication.k8s.io",
                    "v1",
                    "selfsubjectreviews",
                    "selfsubjectreview",
                    "SelfSubjectReview",
                    false,
                    create,
                    {},
                    {},
                    "",
                    {}},
                   false, false, false, false));
  v.push_back(make({"authentication.k8s.io",
                    "v1",
                    "tokenreviews",
                    "tokenreview",
                    "TokenReview",
                    false,
                    create,
                    {},
                    {},
                    "",
                    {}},
                   false, false, false, false));
  // authorization.k8s.io/v1
  v.push_back(make({"authorization.k8s.io",
                    "v1",
                    "selfsubjectaccessreviews",
                    "selfsubjectaccessreview",
                    "SelfSubjectAccessReview",
                    false,
                    create,
                    {},
                    {},
                    "",
                    {}},
                   false, false, false, false));
  v.push_back(make({"authorization.k8s.io",
                    "v1",
                    "selfsubjectrulesreviews",
                    "selfsubjectrulesreview",
                    "SelfSubjectRulesReview",
                    false,
                    create,
                    {},
                    {},
                    "",
                    {}},
                   false, false, false, false));
  v.push_back(make({"authorization.k8s.io",
                    "v1",
                    "subjectaccessreviews",
                    "subjectaccessreview",
                    "SubjectAccessReview",
                    false,
                    create,
                    {},
                    {},
                    "",
                    {}},
                   false, false, false, false));
  // rbac.authorization.k8s.io/v1
  v.push_back(make({"rbac.authorization.k8s.io",
                    "v1",
                    "clusterrolebindings",
                    "clusterrolebinding",
                    "ClusterRoleBinding",
                    false,
                    kStandardVerbs,
                    {},
                    {},
                    "48tpQ8gZHFc=",
                    {}},
                   false, true));
  v.push_back(make({"rbac.authorization.k8s.io",
                    "v1",
                    "clusterroles",
                    "clusterrole",
                    "ClusterRole",
                    false,
                    kStandardVerbs,
                    {},
                    {},
                    "bYE5ZWDrJ44=",
                    {}},
                   false, true));
  v.push_back(make({"rbac.authorization.k8s.io",
                    "v1",
                    "rolebindings",
                    "rolebinding",
                    "RoleBinding",
                    true,
                    kStandardVerbs,
                    {},
                    {},
                    "eGsCzGH6b1g=",
                    {}},
                   false, true));
  v.push_back(make({"rbac.authorization.k8s.io",
                    "v1",
                    "roles",
                    "role",
                    "Role",
                    true,
                    kStandardVerbs,
                    {},
                    {},
                    "7FuwZcIIItM=",
                    {}},
                   false, true));
  // admissionregistration.k8s.io/v1
  v.push_back(make({"admissionregistration.k8s.io",
                    "v1",
                    "mutatingwebhookconfigurations",
                    "mutatingwebhookconfiguration",
                    "MutatingWebhookConfiguration",
                    false,
                    kStandardVerbs,
                    {},
                    {"api-extensions"},
                    "Sqi0GUgDaX0=",
                    {}},
                   true));
  v.push_back(make({"admissionregistration.k8s.io",
                    "v1",
                    "validatingwebhookconfigurations",
                    "validatingwebhookconfiguration",
                    "ValidatingWebhookConfiguration",
                    false,
                    kStandardVerbs,
                    {},
                    {"api-extensions"},
                    "B0wHjQmsGNk=",
                    {}},
                   true));
  // apiextensions.k8s.io/v1
  v.push_back(make({"apiextensions.k8s.io",
                    "v1",
                    "customresourcedefinitions",
                    "customresourcedefinition",
                    "CustomResourceDefinition",
                    false,
                    kStandardVerbs,
                    {"crd", "crds"},
                    {"api-extensions"},
                    "jfWCUB31mvA=",
                    {status()}},
                   true));
  // coordination.k8s.io/v1
  v.push_back(make({"coordination.k8s.io",
                    "v1",
                    "leases",
                    "lease",
                    "Lease",
                    true,
                    kStandardVerbs,
                    {},
                    {},
                    "gqkMMb/YqFM=",
                    {}},
                   false, true));
  // discovery.k8s.io/v1
  v.push_back(make({"discovery.k8s.io",
                    "v1",
                    "endpointslices",
                    "endpointslice",
                    "EndpointSlice",
                    true,
                    kStandardVerbs,
                    {},
                    {},
                    "qgS0xkrxYAI=",
                    {}},
                   false, true));
  return v;
}

// The order /apis lists the built-in groups kube-testenv serves (as kube-apiserver 1.32 does).
const std::vector<std::string> kGroupOrder = {"apps",
                                              "events.k8s.io",
                                              "authentication.k8s.io",
                                              "authorization.k8s.io",
                                              "rbac.authorization.k8s.io",
                                              "admissionregistration.k8s.io",
                                              "apiextensions.k8s.io",
                                              "coordination.k8s.io",
                                              "discovery.k8s.io"};

std::string storageHash(const std::string& group, const std::string& version,
                        const std::string& kind) {
  std::string gvk = group + "/" + version + "/" + kind;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(gvk.data()), gvk.size(), digest);
  return base64::encode(std::string_view(reinterpret_cast<const char*>(digest), 8));
}

std::vector<std::string> stringList(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// Splits "v1beta2" into (major, stage, minor); stage 3 = GA, 2 = beta, 1 = alpha, 0 = not
// kube-like.
std::tuple<int, int, int> versionKey(const std::string& v) {
  static const std::regex kRe("v([0-9]+)(?:(alpha|beta)([0-9]+))?");
  std::smatch m;
  if (!std::regex_match(v, m, kRe)) return {0, 0, 0};
  int major = std::stoi(m[1]);
  if (!m[2].matched) return {major, 3, 0};
  return {major, m[2] == "beta" ? 2 : 1, std::stoi(m[3])};
}

}  // namespace

bool ResourceType::hasSubresource(const std::string& name) const {
  return std::any_of(subresources.begin(), subresources.end(),
                     [&](const SubresourceInfo& s) { return s.name == name; });
}

bool ResourceType::supportsVerb(const std::string& verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

bool kubeVersionLess(const std::string& a, const std::string& b) {
  auto [amaj, ast, amin] = versionKey(a);
  auto [bmaj, bst, bmin] = versionKey(b);
  // Higher priority sorts first.
  if (ast == 0 || bst == 0) {
    if (ast != bst) return ast > bst;
    return a < b;
  }
  if (ast != bst) return ast > bst;
  if (amaj != bmaj) return amaj > bmaj;
  return amin > bmin;
}

Registry::Registry() : builtins_(builtinTypes()) {}

ResourceTypePtr Registry::find(const std::string& group, const std::string& version,
                               const std::string& resource) const {
  for (const auto& t : builtins_) {
    if (t->group == group && t->version == version && t->resource == resource) return t;
  }
  for (const auto& [name, types] : custom_) {
    for (const auto& t : types) {
      if (t->group == group && t->version == version && t->resource == resource) return t;
    }
  }
  return nullptr;
}

ResourceTypePtr Registry::findAnyVersion(const std::string& group,
                                         const std::string& resource) const {
  for (const auto& t : all()) {
    if (t->group == group && t->resource == resource) return t;
  }
  return nullptr;
}

ResourceTypePtr Registry::findKind(const std::string& apiVersion, const std::string& kind) const {
  for (const auto& t : all()) {
    if (t->apiVersion() == apiVersion && t->kind == kind) return t;
  }
  return nullptr;
}

std::vector<ResourceTypePtr> Registry::all() const {
  std::vector<ResourceTypePtr> out = builtins_;
  for (const auto& [name, types] : custom_) out.insert(out.end(), types.begin(), types.end());
  return out;
}

std::vector<ResourceTypePtr> Registry::groupVersion(const std::string& group,
                                                    const std::string& version) const {
  std::vector<ResourceTypePtr> out;
  for (const auto& t : all()) {
    if (t->group == group && t->version == version) out.push_back(t);
  }
  return out;
}

std::vector<GroupInfo> Registry::groups() const {
  std::vector<GroupInfo> out;
  for (const auto& g : kGroupOrder) {
    GroupInfo info{g, {}};
    for (const auto& t : builtins_) {
      if (t->group == g && std::find(info.versions.begin(), info.versions.end(), t->version) ==
                               info.versions.end()) {
        info.versions.push_back(t->version);
      }
    }
    out.push_back(std::move(info));
  }
  std::map<std::string, std::vector<std::string>> custom;
  for (const auto& [name, types] : custom_) {
    for (const auto& t : types) {
      if (std::find(kGroupOrder.begin(), kGroupOrder.end(), t->group) != kGroupOrder.end())
        continue;
      auto& versions = custom[t->group];
      if (std::find(versions.begin(), versions.end(), t->version) == versions.end())
        versions.push_back(t->version);
    }
  }
  for (auto& [g, versions] : custom) {
    std::sort(versions.begin(), versions.end(), kubeVersionLess);
    out.push_back({g, versions});
  }
  return out;
}

bool Registry::servesGroupVersion(const std::string& group, const std::string& version) const {
  for (const auto& t : all()) {
    if (t->group == group && t->version == version) return true;
  }
  return false;
}

std::string Registry::crdStorageKey(const nlohmann::json& crd) {
  const auto& spec = crd.value("spec", nlohmann::json::object());
  std::string group = spec.is_object() ? spec.value("group", "") : "";
  std::string plural;
  if (spec.is_object() && spec.contains("names") && spec["names"].is_object()) {
    plural = spec["names"].value("plural", "");
  }
  return group + "/" + plural;
}

Expected<void> Registry::setCustomResource(const nlohmann::json& crd) {
  try {
    const auto& spec = crd.at("spec");
    const auto& names = spec.at("names");
    std::string crdName = crd.at("metadata").at("name").get<std::string>();
    std::string group = spec.at("group").get<std::string>();
    std::string plural = names.at("plural").get<std::string>();
    std::string kind = names.at("kind").get<std::string>();
    std::string singular = names.value("singular", "");
    if (singular.empty()) {
      singular = kind;
      std::transform(singular.begin(), singular.end(), singular.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    std::string listKind = names.value("listKind", kind + "List");
    bool namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    std::vector<ResourceTypePtr> types;
    for (const auto& ver : spec.at("versions")) {
      if (!ver.value("served", false)) continue;
      auto t = std::make_shared<ResourceType>();
      t->group = group;
      t->version = ver.at("name").get<std::string>();
      t->resource = plural;
      t->singular = singular;
      t->kind = kind;
      t->listKind = listKind;
      t->namespaced = namespaced;
      // The order kube-apiserver lists a CRD's verbs in (discovery-example.com_v1.txt).
      t->verbs = {"delete", "deletecollection", "get",    "list",
                  "patch",  "create",           "update", "watch"};
      t->shortNames = stringList(names.value("shortNames", nlohmann::json::array()));
      t->categories = stringList(names.value("categories", nlohmann::json::array()));
      t->storageVersionHash = storageHash(group, t->version, kind);
      t->tracksGeneration = true;
      t->allowUnconditionalUpdate = false;
      t->custom = true;
      t->crdName = crdName;
      t->storageKey = group + "/" + plural;
      nlohmann::json subresources = ver.value("subresources", nlohmann::json::object());
      if (subresources.is_null()) subresources = nlohmann::json::object();
      if (subresources.contains("status")) t->subresources.push_back(status());
      if (subresources.contains("scale")) {
        t->subresources.push_back({"scale", "autoscaling", "v1", "Scale", kStatusVerbs});
      }
      std::sort(t->subresources.begin(), t->subresources.end(),
                [](const SubresourceInfo& a, const SubresourceInfo& b) { return a.name < b.name; });
      if (ver.contains("schema") && ver["schema"].is_object()) {
        t->schema = ver["schema"].value("openAPIV3Schema", nlohmann::json());
      }
      if (ver.contains("additionalPrinterColumns") && ver["additionalPrinterColumns"].is_array()) {
        t->printerColumns = ver["additionalPrinterColumns"];
      }
      if (ver.contains("selectableFields") && ver["selectableFields"].is_array()) {
        for (const auto& f : ver["selectableFields"]) {
          if (f.is_object() && f.contains("jsonPath") && f["jsonPath"].is_string()) {
            t->selectableFields.push_back(f["jsonPath"].get<std::string>());
          }
        }
      }
      types.push_back(t);
    }
    if (types.empty()) return fail(Error::invalid("the CRD serves no version"));
    std::sort(types.begin(), types.end(), [](const ResourceTypePtr& a, const ResourceTypePtr& b) {
      return kubeVersionLess(a->version, b->version);
    });
    custom_[crdName] = std::move(types);
    return {};
  } catch (const std::exception& e) {
    return fail(Error::invalid(std::string("unusable CustomResourceDefinition: ") + e.what()));
  }
}

void Registry::removeCustomResource(const std::string& crdName) { custom_.erase(crdName); }

}  // namespace rio::testenv
