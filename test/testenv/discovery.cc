#include "test/testenv/discovery.h"

#include <cstdio>
#include <regex>
#include <set>

#include <openssl/sha.h>

namespace rio::testenv::discovery {
namespace {

nlohmann::json resourceEntry(const ResourceType& t) {
  nlohmann::json r = {{"name", t.resource},
                      {"singularName", t.singular},
                      {"namespaced", t.namespaced},
                      {"kind", t.kind},
                      {"verbs", t.verbs}};
  if (!t.shortNames.empty()) r["shortNames"] = t.shortNames;
  if (!t.categories.empty()) r["categories"] = t.categories;
  if (!t.storageVersionHash.empty()) r["storageVersionHash"] = t.storageVersionHash;
  return r;
}

nlohmann::json subresourceEntry(const ResourceType& t, const SubresourceInfo& s) {
  nlohmann::json r = {{"name", t.resource + "/" + s.name},
                      {"singularName", ""},
                      {"namespaced", t.namespaced},
                      {"kind", s.kind.empty() ? t.kind : s.kind},
                      {"verbs", s.verbs}};
  if (!s.group.empty()) {
    r["group"] = s.group;
    r["version"] = s.version;
  }
  return r;
}

nlohmann::json groupVersionEntry(const std::string& group, const std::string& version) {
  return {{"groupVersion", group + "/" + version}, {"version", version}};
}

std::string hexSha512(const std::string& text) {
  unsigned char digest[SHA512_DIGEST_LENGTH];
  SHA512(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string out;
  char buf[3];
  for (unsigned char c : digest) {
    std::snprintf(buf, sizeof buf, "%02X", c);
    out += buf;
  }
  return out;
}

std::string schemaPackage(const ResourceType& t) {
  if (t.custom) {
    // example.com -> com.example
    std::vector<std::string> parts;
    std::string cur;
    for (char c : t.group) {
      if (c == '.') {
        parts.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    parts.push_back(cur);
    std::string out;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : ".") + *it;
    return out;
  }
  if (t.group == "apiextensions.k8s.io")
    return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions";
  std::string g = t.group.empty() ? "core" : t.group.substr(0, t.group.find('.'));
  return "io.k8s.api." + g;
}

std::string schemaName(const ResourceType& t) {
  return schemaPackage(t) + "." + t.version + "." + t.kind;
}

const char kMeta[] = "io.k8s.apimachinery.pkg.apis.meta.v1.";

nlohmann::json schemaRef(const std::string& name) {
  return {{"$ref", "#/components/schemas/" + name}};
}

nlohmann::json param(const std::string& name, const std::string& type,
                     const std::string& description) {
  return {{"name", name},
          {"in", "query"},
          {"description", description},
          {"schema", {{"type", type}, {"uniqueItems", true}}}};
}

nlohmann::json writeParams(bool patch) {
  nlohmann::json p = nlohmann::json::array();
  p.push_back(param("dryRun", "string",
                    "When present, indicates that modifications should not be persisted. Valid "
                    "values are: - All: "
                    "all dry run stages will be processed"));
  p.push_back(param(
      "fieldManager", "string",
      "fieldManager is a name associated with the actor or entity that is making these changes."));
  p.push_back(
      param("fieldValidation", "string",
            "fieldValidation instructs the server on how to handle objects in the request "
            "(POST/PUT/PATCH) "
            "containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict."));
  if (patch) {
    p.push_back(param("force", "boolean",
                      "Force is going to \"force\" Apply requests. It means user will re-acquire "
                      "conflicting fields "
                      "owned by other people."));
  }
  return p;
}

nlohmann::json content(const nlohmann::json& schema, const std::vector<std::string>& types) {
  nlohmann::json c = nlohmann::json::object();
  for (const auto& t : types) c[t] = {{"schema", schema}};
  return c;
}

nlohmann::json gvkExtension(const ResourceType& t) {
  return {{"group", t.group}, {"version", t.version}, {"kind", t.kind}};
}

nlohmann::json operation(const ResourceType& t, const std::string& action,
                         const std::string& description, nlohmann::json params,
                         const nlohmann::json& responseSchema,
                         std::optional<std::vector<std::string>> bodyTypes) {
  nlohmann::json op = {
      {"description", description},
      {"operationId", action + t.kind},
      {"parameters", std::move(params)},
      {"responses",
       {{"200",
         {{"description", "OK"},
          {"content", content(responseSchema, {"application/json", "application/yaml"})}}},
        {"401", {{"description", "Unauthorized"}}}}},
      {"x-kubernetes-action", action},
      {"x-kubernetes-group-version-kind", gvkExtension(t)}};
  if (bodyTypes) {
    nlohmann::json bodySchema =
        action == "patch" ? schemaRef(std::string(kMeta) + "Patch") : responseSchema;
    op["requestBody"] = {{"content", content(bodySchema, *bodyTypes)}, {"required", true}};
  }
  return op;
}

nlohmann::json objectMetaSchemas() {
  nlohmann::json s = nlohmann::json::object();
  s[std::string(kMeta) + "ObjectMeta"] = {
      {"description",
       "ObjectMeta is metadata that all persisted resources must have, which includes all objects "
       "users must create."},
      {"type", "object"},
      {"properties",
       {{"name", {{"type", "string"}, {"description", "Name must be unique within a namespace."}}},
        {"namespace",
         {{"type", "string"},
          {"description", "Namespace defines the space within which each name must be unique."}}},
        {"generateName",
         {{"type", "string"},
          {"description", "An optional prefix used by the server to generate a unique name."}}},
        {"labels",
         {{"type", "object"},
          {"additionalProperties", {{"type", "string"}, {"default", ""}}},
          {"description",
           "Map of string keys and values that can be used to organize and categorize objects."}}},
        {"annotations",
         {{"type", "object"},
          {"additionalProperties", {{"type", "string"}, {"default", ""}}},
          {"description", "Annotations is an unstructured key value map stored with a resource."}}},
        {"finalizers",
         {{"type", "array"},
          {"items", {{"type", "string"}, {"default", ""}}},
          {"description", "Must be empty before the object is deleted from the registry."},
          {"x-kubernetes-list-type", "set"},
          {"x-kubernetes-patch-strategy", "merge"}}},
        {"ownerReferences",
         {{"type", "array"},
          {"items", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}},
          {"description", "List of objects depended by this object."},
          {"x-kubernetes-patch-merge-key", "uid"},
          {"x-kubernetes-patch-strategy", "merge"}}},
        {"uid",
         {{"type", "string"},
          {"description", "UID is the unique in time and space value for this object."}}},
        {"resourceVersion",
         {{"type", "string"},
          {"description", "An opaque value that represents the internal version of this object."}}},
        {"generation",
         {{"type", "integer"},
          {"format", "int64"},
          {"description",
           "A sequence number representing a specific generation of the desired state."}}},
        {"creationTimestamp",
         {{"type", "string"},
          {"format", "date-time"},
          {"description",
           "CreationTimestamp is a timestamp representing the server time when this object was "
           "created."}}},
        {"deletionTimestamp",
         {{"type", "string"},
          {"format", "date-time"},
          {"description",
           "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted."}}},
        {"deletionGracePeriodSeconds", {{"type", "integer"}, {"format", "int64"}}},
        {"managedFields",
         {{"type", "array"},
          {"items", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}},
          {"description",
           "ManagedFields maps workflow-id and version to the set of fields that are managed by "
           "that workflow."}}}}}};
  s[std::string(kMeta) + "ListMeta"] = {
      {"type", "object"},
      {"properties",
       {{"resourceVersion", {{"type", "string"}}},
        {"continue", {{"type", "string"}}},
        {"remainingItemCount", {{"type", "integer"}, {"format", "int64"}}}}}};
  s[std::string(kMeta) + "Patch"] = {
      {"description",
       "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."},
      {"type", "object"}};
  s[std::string(kMeta) + "Status"] = {{"type", "object"},
                                      {"x-kubernetes-preserve-unknown-fields", true}};
  s[std::string(kMeta) + "DeleteOptions"] = {{"type", "object"},
                                             {"x-kubernetes-preserve-unknown-fields", true}};
  return s;
}

nlohmann::json kindSchema(const ResourceType& t) {
  nlohmann::json props = {
      {"apiVersion",
       {{"description",
         "APIVersion defines the versioned schema of this representation of an object."},
        {"type", "string"}}},
      {"kind",
       {{"description",
         "Kind is a string value representing the REST resource this object represents."},
        {"type", "string"}}},
      {"metadata",
       {{"description", "Standard object's metadata."},
        {"allOf", nlohmann::json::array({schemaRef(std::string(kMeta) + "ObjectMeta")})}}}};
  nlohmann::json schema;
  if (t.custom && t.schema.is_object()) {
    schema = t.schema;
    if (!schema.contains("properties") || !schema["properties"].is_object())
      schema["properties"] = nlohmann::json::object();
    for (const auto& [k, v] : props.items()) {
      if (k == "metadata" || !schema["properties"].contains(k)) schema["properties"][k] = v;
    }
  } else {
    schema = {
        {"description",
         t.kind + " as served by kube-testenv (fields are not enumerated for built-in kinds)."},
        {"type", "object"},
        {"properties", props},
        {"x-kubernetes-preserve-unknown-fields", true}};
  }
  schema["x-kubernetes-group-version-kind"] = nlohmann::json::array({gvkExtension(t)});
  return schema;
}

nlohmann::json listSchema(const ResourceType& t) {
  return {{"description", t.listKind + " is a list of " + t.kind},
          {"type", "object"},
          {"required", {"items"}},
          {"properties",
           {{"apiVersion", {{"type", "string"}}},
            {"kind", {{"type", "string"}}},
            {"items", {{"type", "array"}, {"items", schemaRef(schemaName(t))}}},
            {"metadata",
             {{"allOf", nlohmann::json::array({schemaRef(std::string(kMeta) + "ListMeta")})}}}}},
          {"x-kubernetes-group-version-kind",
           nlohmann::json::array(
               {{{"group", t.group}, {"version", t.version}, {"kind", t.listKind}}})}};
}

}  // namespace

nlohmann::json version(const std::string& gitVersion) {
  static const std::regex kRe("v([0-9]+)\\.([0-9]+)\\..*");
  std::smatch m;
  std::string major = "1", minor = "32";
  if (std::regex_match(gitVersion, m, kRe)) {
    major = m[1];
    minor = m[2];
  }
  return {{"major", major},           {"minor", minor},
          {"gitVersion", gitVersion}, {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},  {"buildDate", "2026-01-01T00:00:00Z"},
          {"goVersion", "go1.23.5"},  {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

nlohmann::json apiVersions(const std::string& serverAddress) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", serverAddress}}}}};
}

nlohmann::json resourceList(const Registry& registry, const std::string& group,
                            const std::string& version) {
  nlohmann::json resources = nlohmann::json::array();
  for (const auto& t : registry.groupVersion(group, version)) {
    resources.push_back(resourceEntry(*t));
    for (const auto& s : t->subresources) resources.push_back(subresourceEntry(*t, s));
  }
  nlohmann::json doc = {{"kind", "APIResourceList"},
                        {"groupVersion", group.empty() ? version : group + "/" + version},
                        {"resources", resources}};
  if (!group.empty()) doc["apiVersion"] = "v1";
  return doc;
}

nlohmann::json group(const Registry& registry, const std::string& name) {
  for (const auto& g : registry.groups()) {
    if (g.name != name) continue;
    nlohmann::json versions = nlohmann::json::array();
    for (const auto& v : g.versions) versions.push_back(groupVersionEntry(g.name, v));
    return {{"kind", "APIGroup"},
            {"apiVersion", "v1"},
            {"name", g.name},
            {"versions", versions},
            {"preferredVersion", groupVersionEntry(g.name, g.versions.front())}};
  }
  return nullptr;
}

nlohmann::json groupList(const Registry& registry) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : registry.groups()) {
    nlohmann::json entry = group(registry, g.name);
    entry.erase("kind");
    entry.erase("apiVersion");
    groups.push_back(std::move(entry));
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

nlohmann::json aggregated(const Registry& registry, bool core) {
  auto versionEntry = [&](const std::string& g, const std::string& v) {
    nlohmann::json resources = nlohmann::json::array();
    for (const auto& t : registry.groupVersion(g, v)) {
      nlohmann::json r = {{"resource", t->resource},
                          {"responseKind", {{"group", ""}, {"version", ""}, {"kind", t->kind}}},
                          {"scope", t->namespaced ? "Namespaced" : "Cluster"},
                          {"singularResource", t->singular},
                          {"verbs", t->verbs}};
      if (!t->shortNames.empty()) r["shortNames"] = t->shortNames;
      if (!t->categories.empty()) r["categories"] = t->categories;
      if (!t->subresources.empty()) {
        nlohmann::json subs = nlohmann::json::array();
        for (const auto& s : t->subresources) {
          subs.push_back({{"subresource", s.name},
                          {"responseKind",
                           {{"group", s.group},
                            {"version", s.version},
                            {"kind", s.kind.empty() ? t->kind : s.kind}}},
                          {"verbs", s.verbs}});
        }
        r["subresources"] = subs;
      }
      resources.push_back(std::move(r));
    }
    return nlohmann::json{{"version", v}, {"resources", resources}, {"freshness", "Current"}};
  };
  nlohmann::json items = nlohmann::json::array();
  if (core) {
    items.push_back(
        {{"metadata", {{"creationTimestamp", nullptr}}}, {"versions", {versionEntry("", "v1")}}});
  } else {
    for (const auto& g : registry.groups()) {
      nlohmann::json versions = nlohmann::json::array();
      for (const auto& v : g.versions) versions.push_back(versionEntry(g.name, v));
      items.push_back({{"metadata", {{"name", g.name}, {"creationTimestamp", nullptr}}},
                       {"versions", versions}});
    }
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/v2"},
          {"metadata", nlohmann::json::object()},
          {"items", items}};
}

nlohmann::json openApiDocument(const Registry& registry, const std::string& group,
                               const std::string& version) {
  auto types = registry.groupVersion(group, version);
  if (types.empty()) return nullptr;
  nlohmann::json paths = nlohmann::json::object();
  nlohmann::json schemas = objectMetaSchemas();
  std::string prefix = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  for (const auto& tp : types) {
    const ResourceType& t = *tp;
    nlohmann::json objRef = schemaRef(schemaName(t));
    nlohmann::json listRef = schemaRef(schemaName(t) + "List");
    schemas[schemaName(t)] = kindSchema(t);
    if (t.stored) schemas[schemaName(t) + "List"] = listSchema(t);
    std::string base =
        t.namespaced ? prefix + "/namespaces/{namespace}/" + t.resource : prefix + "/" + t.resource;
    std::vector<std::string> patchTypes = {"application/json-patch+json",
                                           "application/merge-patch+json",
                                           "application/apply-patch+yaml"};
    // Built-in kinds do not advertise strategic merge patch here: kubectl then computes it from
    // its compiled-in types, which know the list merge keys this document does not describe.
    nlohmann::json collection = nlohmann::json::object();
    nlohmann::json item = nlohmann::json::object();
    if (t.supportsVerb("create")) {
      collection["post"] =
          operation(t, "post", "create a " + t.kind, writeParams(false), objRef,
                    std::vector<std::string>{"application/json", "application/yaml"});
    }
    if (t.supportsVerb("list")) {
      collection["get"] = operation(t, "list", "list or watch objects of kind " + t.kind,
                                    nlohmann::json::array(), listRef, std::nullopt);
    }
    if (t.supportsVerb("deletecollection")) {
      collection["delete"] = operation(t, "deletecollection", "delete collection of " + t.kind,
                                       nlohmann::json::array(),
                                       schemaRef(std::string(kMeta) + "Status"), std::nullopt);
    }
    if (t.supportsVerb("get")) {
      item["get"] = operation(t, "get", "read the specified " + t.kind, nlohmann::json::array(),
                              objRef, std::nullopt);
      item["put"] =
          operation(t, "put", "replace the specified " + t.kind, writeParams(false), objRef,
                    std::vector<std::string>{"application/json", "application/yaml"});
      item["patch"] = operation(t, "patch", "partially update the specified " + t.kind,
                                writeParams(true), objRef, patchTypes);
      item["delete"] = operation(t, "delete", "delete a " + t.kind, nlohmann::json::array(),
                                 schemaRef(std::string(kMeta) + "Status"), std::nullopt);
    }
    if (!collection.empty()) paths[base] = collection;
    if (!item.empty()) paths[base + "/{name}"] = item;
    for (const auto& s : t.subresources) {
      if (s.name != "status") continue;
      nlohmann::json sub = {
          {"get", operation(t, "get", "read status of the specified " + t.kind,
                            nlohmann::json::array(), objRef, std::nullopt)},
          {"put",
           operation(t, "put", "replace status of the specified " + t.kind, writeParams(false),
                     objRef, std::vector<std::string>{"application/json", "application/yaml"})},
          {"patch", operation(t, "patch", "partially update status of the specified " + t.kind,
                              writeParams(true), objRef, patchTypes)}};
      paths[base + "/{name}/status"] = sub;
    }
    if (t.namespaced && t.supportsVerb("list")) {
      paths[prefix + "/" + t.resource] = {
          {"get", operation(t, "list", "list or watch objects of kind " + t.kind,
                            nlohmann::json::array(), listRef, std::nullopt)}};
    }
  }
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.13"}}},
          {"paths", paths},
          {"components", {{"schemas", schemas}}}};
}

nlohmann::json openApiIndex(const Registry& registry) {
  nlohmann::json paths = nlohmann::json::object();
  auto add = [&](const std::string& key, const std::string& g, const std::string& v) {
    nlohmann::json doc = openApiDocument(registry, g, v);
    if (doc.is_null()) return;
    paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=" + hexSha512(doc.dump())}};
  };
  add("api/v1", "", "v1");
  for (const auto& g : registry.groups()) {
    for (const auto& v : g.versions) add("apis/" + g.name + "/" + v, g.name, v);
  }
  return {{"paths", paths}};
}

}  // namespace rio::testenv::discovery
