// Discovery: /version, /api, /apis, the group-version resource lists of everything the product
// touches, kind -> resource mapping through kube::Discovery, and the OpenAPI v3 documents
// kubectl reads.
#include <set>

#include "controller/kube/discovery.h"
#include "test/conformance/cases_common.h"

namespace rio::conformance {
namespace {

struct GroupVersionResources {
  std::string groupVersion;
  std::string fixture;
  std::vector<std::string> resources;
};

// The resources the operator, its CLI and the e2e suite use, per group-version.
const std::vector<GroupVersionResources>& productResources() {
  static const std::vector<GroupVersionResources> all = {
      {"v1",
       "discovery-api-v1.txt",
       {"namespaces", "nodes", "pods", "pods/status", "services", "endpoints", "configmaps",
        "secrets", "serviceaccounts", "serviceaccounts/token", "events"}},
      {"apps/v1", "discovery-apps_v1.txt", {"deployments", "deployments/status"}},
      {"coordination.k8s.io/v1", "discovery-coordination.k8s.io_v1.txt", {"leases"}},
      {"rbac.authorization.k8s.io/v1",
       "discovery-rbac.authorization.k8s.io_v1.txt",
       {"clusterroles", "clusterrolebindings", "roles", "rolebindings"}},
      {"admissionregistration.k8s.io/v1",
       "discovery-admissionregistration.k8s.io_v1.txt",
       {"mutatingwebhookconfigurations"}},
      {"apiextensions.k8s.io/v1",
       "discovery-apiextensions.k8s.io_v1.txt",
       {"customresourcedefinitions", "customresourcedefinitions/status"}},
      {"events.k8s.io/v1", "discovery-events.k8s.io_v1.txt", {"events"}},
      {"discovery.k8s.io/v1", "discovery-discovery.k8s.io_v1.txt", {"endpointslices"}},
      {"authentication.k8s.io/v1", "discovery-authentication.k8s.io_v1.txt", {"tokenreviews"}},
      {"authorization.k8s.io/v1",
       "discovery-authorization.k8s.io_v1.txt",
       {"selfsubjectaccessreviews", "subjectaccessreviews"}},
  };
  return all;
}

std::string gvPath(const std::string& gv) { return gv == "v1" ? "/api/v1" : "/apis/" + gv; }

const json* findResource(const json& list, const std::string& name) {
  if (!list.contains("resources") || !list["resources"].is_array()) return nullptr;
  for (const auto& r : list["resources"]) {
    if (r.value("name", "") == name) return &r;
  }
  return nullptr;
}

json withoutHash(json r) {
  r.erase("storageVersionHash");
  return r;
}

void checkGroupVersion(Context& ctx, const GroupVersionResources& gv) {
  json served =
      ctx.must(ctx.client().getPath(gvPath(gv.groupVersion)), "GET " + gvPath(gv.groupVersion));
  ctx.require(served.value("kind", "") == "APIResourceList",
              gvPath(gv.groupVersion) + " is not an APIResourceList");
  ctx.require(served.value("groupVersion", "") == gv.groupVersion,
              gvPath(gv.groupVersion) + " has groupVersion " + served.value("groupVersion", ""));
  json recorded = recordedResponse(ctx, gv.fixture);
  for (const auto& name : gv.resources) {
    const json* got = findResource(served, name);
    ctx.require(got != nullptr, gv.groupVersion + " does not list " + name);
    const json* want = findResource(recorded, name);
    ctx.require(want != nullptr, gv.fixture + " does not list " + name);
    if (ctx.target().recordedVersion()) {
      // storageVersionHash is an opaque hash of the storage version; everything else is API.
      auto diffs = diffObjects(withoutHash(*got), withoutHash(*want));
      if (!diffs.empty())
        ctx.fail(gv.groupVersion + " " + name + " differs from " + gv.fixture + ": " +
                 joinDiffs(diffs));
    } else {
      ctx.require(got->value("kind", "") == want->value("kind", "") &&
                      got->value("namespaced", false) == want->value("namespaced", false),
                  gv.groupVersion + " " + name + ": kind/namespaced differ from the recording");
    }
  }
}

void versionCase(Context& ctx) {
  kube::Discovery discovery(ctx.clientPtr());
  auto version = ctx.must(discovery.serverVersion(), "read /version");
  ctx.require(version.major == 1 && version.minor > 0, "unexpected version " + version.gitVersion);
  json raw = ctx.must(ctx.client().getPath("/version"), "GET /version");
  json recorded = recordedResponse(ctx, "version.txt");
  for (const auto& [key, value] : recorded.items()) {
    ctx.require(raw.contains(key) && raw[key].is_string(), "/version has no string field " + key);
  }
  ctx.require(raw.value("gitVersion", "").rfind("v" + raw.value("major", "") + ".", 0) == 0,
              "gitVersion " + raw.value("gitVersion", "") + " does not start with v<major>.");
  if (ctx.target().cluster()) {
    ctx.require(version.gitVersion == "v1.32.13",
                "testenv's default gitVersion is v1.32.13, got " + version.gitVersion);
  }
}

void coreCase(Context& ctx) {
  json api = ctx.must(ctx.client().getPath("/api"), "GET /api");
  json recorded = recordedResponse(ctx, "discovery-api-legacy.txt");
  ctx.require(api.value("kind", "") == "APIVersions", "/api is not APIVersions");
  ctx.require(api["versions"] == recorded["versions"], "/api versions: " + api["versions"].dump());
  const auto& cidrs = api.value("serverAddressByClientCIDRs", json::array());
  ctx.require(cidrs.size() == 1 && cidrs[0].value("clientCIDR", "") == "0.0.0.0/0" &&
                  !cidrs[0].value("serverAddress", "").empty(),
              "/api serverAddressByClientCIDRs: " + cidrs.dump());
  checkGroupVersion(ctx, productResources()[0]);
}

void groupsCase(Context& ctx) {
  json apis = ctx.must(ctx.client().getPath("/apis"), "GET /apis");
  ctx.require(apis.value("kind", "") == "APIGroupList", "/apis is not an APIGroupList");
  json recorded = recordedResponse(ctx, "discovery-apis-legacy.txt");
  auto findGroup = [](const json& list, const std::string& name) -> const json* {
    if (!list.contains("groups") || !list["groups"].is_array()) return nullptr;
    for (const auto& g : list["groups"]) {
      if (g.value("name", "") == name) return &g;
    }
    return nullptr;
  };
  for (std::size_t i = 1; i < productResources().size(); ++i) {
    const auto& gv = productResources()[i];
    std::string group = gv.groupVersion.substr(0, gv.groupVersion.find('/'));
    const json* got = findGroup(apis, group);
    ctx.require(got != nullptr, "/apis does not list group " + group);
    const json* want = findGroup(recorded, group);
    ctx.require(want != nullptr, "the recording does not list group " + group);
    ctx.require((*got)["preferredVersion"] == (*want)["preferredVersion"],
                group + " preferredVersion " + (*got)["preferredVersion"].dump() + ", recorded " +
                    (*want)["preferredVersion"].dump());
    bool listed = false;
    for (const auto& v : got->value("versions", json::array()))
      listed = listed || v.value("groupVersion", "") == gv.groupVersion;
    ctx.require(listed, group + " does not list version " + gv.groupVersion);
    checkGroupVersion(ctx, gv);
  }
}

void kindMappingCase(Context& ctx) {
  using namespace kube::resources;
  kube::Discovery discovery(ctx.clientPtr());
  for (const kube::Resource* want :
       {&kNamespaces, &kNodes, &kPods, &kServices, &kEndpoints, &kConfigMaps, &kSecrets,
        &kServiceAccounts, &kEvents, &kEventsV1, &kDeployments, &kEndpointSlices, &kLeases,
        &kClusterRoles, &kClusterRoleBindings, &kRoles, &kRoleBindings,
        &kMutatingWebhookConfigurations, &kCustomResourceDefinitions}) {
    auto got = ctx.must(discovery.resourceFor(want->apiVersion(), want->kind),
                        "resourceFor " + want->apiVersion() + " " + want->kind);
    ctx.require(got == *want && got.kind == want->kind && got.namespaced == want->namespaced,
                want->apiVersion() + " " + want->kind + " maps to " + got.resource +
                    (got.namespaced ? " (namespaced)" : " (cluster)"));
  }
  auto unknown = discovery.resourceFor("v1", "NoSuchKind");
  ctx.require(!unknown, "resourceFor v1 NoSuchKind succeeded");
  // A kind unknown until its CRD is installed: the miss refreshes the group-version once.
  std::string group = "w" + ctx.suffix() + ".example.com";
  ctx.require(!discovery.resourceFor(group + "/v1", "Widget"), "Widget served before its CRD");
  auto crd = installWidgetCrd(ctx);
  auto widget = ctx.must(discovery.resourceFor(crd.group + "/v1", "Widget"),
                         "resourceFor Widget after the CRD was installed");
  ctx.require(widget == crd.resource && widget.namespaced, "Widget maps to " + widget.resource);
  auto all = ctx.must(discovery.resources(crd.group + "/v1"), "resources of " + crd.group + "/v1");
  ctx.require(all.size() == 1, "the Widget group-version lists " + std::to_string(all.size()) +
                                   " resources (subresources must be excluded)");
  json served = ctx.must(ctx.client().getPath("/apis/" + crd.group + "/v1"), "GET the CRD group");
  expectRecordedObject(ctx, served, "discovery-example.com_v1.txt",
                       Renames().substring("example.com", crd.group),
                       {{"/resources/0/storageVersionHash"}, false});
}

void openapiCase(Context& ctx) {
  auto crd = installWidgetCrd(ctx);
  std::string key = "apis/" + crd.group + "/v1";
  json index;
  ctx.eventually(
      [&] {
        auto got = ctx.client().getPath("/openapi/v3");
        if (!got) return false;
        index = *got;
        return index.contains("paths") && index["paths"].contains(key);
      },
      "/openapi/v3 lists " + key);
  json recorded = recordedResponse(ctx, "openapi-v3-index.txt");
  for (const char* path : {"api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1",
                           "apis/apiextensions.k8s.io/v1", "apis/coordination.k8s.io/v1"}) {
    ctx.require(recorded["paths"].contains(path), std::string("recording lacks ") + path);
    ctx.require(index["paths"].contains(path) &&
                    index["paths"][path]
                            .value("serverRelativeURL", "")
                            .rfind(std::string("/openapi/v3/") + path + "?hash=", 0) == 0,
                std::string("/openapi/v3 ") + path + " has no serverRelativeURL with a hash");
  }
  std::string url = index["paths"][key].value("serverRelativeURL", "");
  json doc = ctx.must(ctx.client().getPath(url), "GET " + url);
  ctx.require(doc.value("openapi", "").rfind("3.", 0) == 0, "the document is not OpenAPI 3");
  bool found = false;
  json schemas = doc.contains("components") ? doc["components"].value("schemas", json::object())
                                            : json::object();
  for (const auto& [name, schema] : schemas.items()) {
    if (name.size() > 10 && name.substr(name.size() - 10) == ".v1.Widget") {
      found = true;
      ctx.require(schema["properties"]["spec"]["properties"]["size"].value("minimum", 0) == 1,
                  "the Widget schema lost spec.size minimum");
      ctx.require(schema.contains("x-kubernetes-group-version-kind"),
                  "the Widget schema has no x-kubernetes-group-version-kind (kubectl needs it)");
    }
  }
  ctx.require(found, "the CRD's OpenAPI document has no ...v1.Widget schema");
}

}  // namespace

void addDiscoveryCases(Suite& suite) {
  suite.add({"discovery: /version",
             "/version answers major, minor, gitVersion and the build fields", Needs::kNothing,
             versionCase});
  suite.add({"discovery: /api and /api/v1",
             "/api lists v1 and the server address; /api/v1 lists the core resources the product "
             "uses exactly as recorded",
             Needs::kNothing, coreCase});
  suite.add({"discovery: /apis and group versions",
             "/apis lists every group the product uses with the recorded preferred version; each "
             "/apis/<g>/<v> lists its resources as recorded",
             Needs::kNothing, groupsCase});
  suite.add({"discovery: kind to resource mapping",
             "kube::Discovery maps every product kind to its resource and scope, refuses unknown "
             "kinds, and finds a CRD's kind once installed",
             Needs::kNothing, kindMappingCase});
  suite.add({"discovery: OpenAPI v3",
             "/openapi/v3 indexes every group-version with hashed URLs; a CRD's document carries "
             "its schema (what kubectl apply validates against)",
             Needs::kNothing, openapiCase});
}

}  // namespace rio::conformance
