// CRUD on every built-in kind the product touches (and a custom resource): create (compared
// with the recorded answer, defaults included, where one exists), get, list, update, merge
// patch, delete, then 404.
#include "controller/core/base64.h"
#include "test/conformance/cases_common.h"

namespace rio::conformance {
namespace {

using namespace kube::resources;

/// The recorded manager name: recordings were made with curl, whose writes kube-apiserver
/// attributes to the "curl" manager; creating with that fieldManager makes managedFields
/// comparable.
kube::WriteOptions asCurl() { return {"curl", false}; }

struct RoundTrip {
  /// Changes the object for the update step; `check` then verifies the stored result.
  std::function<void(json&)> mutate;
  std::function<bool(const json&)> check;
  /// The object may linger after DELETE (namespaces finalize, pods terminate).
  bool deletionTakesTime = false;
};

/// get, list, update (mutate), merge patch of a label, delete, 404.
void roundTrip(Context& ctx, const kube::Resource& resource, const json& created,
               const RoundTrip& rt) {
  auto& client = ctx.client();
  kube::ObjectKey key = kube::ObjectKey::of(created);
  std::string what = resource.kind + " " + key.toString();
  json got = ctx.must(client.get(resource, key), "get " + what);
  // Controllers may have written since (a Deployment's status): same object, not older.
  ctx.require(metaString(got, "uid") == metaString(created, "uid") && rvOf(got) >= rvOf(created),
              "get " + what + " does not return the created object");

  json list = ctx.must(client.list(resource, resource.namespaced ? key.ns : ""),
                       "list " + resource.resource);
  ctx.require(list.value("kind", "") == resource.kind + "List",
              "list kind is " + list.value("kind", "") + ", want " + resource.kind + "List");
  ctx.require(!metaString(list, "resourceVersion").empty(), "the list has no resourceVersion");
  bool listed = false;
  for (const auto& item : list["items"])
    listed = listed || metaString(item, "uid") == metaString(created, "uid");
  ctx.require(listed, "list " + resource.resource + " does not contain " + what);

  if (rt.mutate) {
    json changed = got;
    rt.mutate(changed);
    json updated = ctx.must(client.update(resource, changed), "update " + what);
    ctx.require(metaString(updated, "resourceVersion") != metaString(got, "resourceVersion"),
                "update did not change the resourceVersion");
    json reread = ctx.must(client.get(resource, key), "get after update");
    ctx.require(rt.check(reread), "the update of " + what + " is not visible: " + reread.dump());
  }

  json patched = ctx.must(client.patch(resource, key, kube::PatchType::kMerge,
                                       {{"metadata", {{"labels", {{"conformance", "patched"}}}}}}),
                          "merge-patch a label on " + what);
  ctx.require(patched["metadata"]["labels"].value("conformance", "") == "patched",
              "the patched label is missing");

  kube::DeleteOptions del;
  if (resource.resource == "pods") del.gracePeriodSeconds = 0;
  json deleted = ctx.must(client.remove(resource, key, del), "delete " + what);
  ctx.require(deleted.value("kind", "") == "Status" || deleted.value("kind", "") == resource.kind,
              "DELETE answered kind " + deleted.value("kind", ""));
  ctx.eventually(
      [&] {
        auto after = client.get(resource, key);
        return !after && after.error().isNotFound();
      },
      what + " is gone (404) after DELETE",
      rt.deletionTakesTime ? std::chrono::seconds(120) : std::chrono::seconds(10));
}

/// Creates the recorded request of `fixture` (namespace demo -> the case namespace) as "curl"
/// and compares the answer with the recording.
json createRecorded(Context& ctx, const kube::Resource& resource, const std::string& fixture,
                    const Renames& renames, const ObjectDiffOptions& options = {}) {
  json obj = recordedRequest(ctx, fixture, renames);
  if (resource.namespaced) obj["metadata"]["namespace"] = ctx.ns();
  json created = ctx.must(ctx.client().create(resource, obj, asCurl()),
                          "create " + resource.kind + " from " + fixture);
  if (!resource.namespaced) ctx.deleteLater(resource, {"", metaString(created, "name")});
  expectRecordedObject(ctx, created, fixture, renames, options);
  return created;
}

void waitForDefaultServiceAccount(Context& ctx) {
  // The ServiceAccount admission plugin refuses pods until the namespace's `default` account
  // exists (the service-account controller creates it just after the namespace).
  ctx.eventually(
      [&] {
        return ctx.client().get(kServiceAccounts, {ctx.ns(), "default"}).has_value();
      },
      "ServiceAccount default exists in the new namespace");
}

void namespaceCase(Context& ctx) {
  std::string name = ctx.unique("conf-ns");
  Renames r = Renames().name("demo", name);
  json created = createRecorded(ctx, kNamespaces, "ns-create.txt", r);
  roundTrip(
      ctx, kNamespaces, created,
      {[](json& o) {
         o["metadata"]["annotations"] = {{"note", "updated"}};
       },
       [](const json& o) { return o["metadata"]["annotations"].value("note", "") == "updated"; },
       true});
}

void configMapCase(Context& ctx) {
  json created = createRecorded(ctx, kConfigMaps, "cm-create.txt", inCaseNamespace(ctx));
  roundTrip(ctx, kConfigMaps, created,
            {[](json& o) { o["data"]["k"] = "updated"; },
             [](const json& o) { return o["data"].value("k", "") == "updated"; }});
}

void secretCase(Context& ctx) {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "s1"}, {"namespace", ctx.ns()}}},
                 {"data", {{"a", base64::encode("alpha")}}},
                 {"stringData", {{"b", "beta"}}}};
  json created = ctx.must(ctx.client().create(kSecrets, secret), "create Secret");
  ctx.require(created.value("type", "") == "Opaque",
              "type defaults to Opaque, got " + created.value("type", ""));
  ctx.require(!created.contains("stringData"), "stringData is write-only but was returned");
  ctx.require(created["data"].value("b", "") == base64::encode("beta"),
              "stringData.b was not merged into data as base64: " + created["data"].dump());
  ctx.require(created["data"].value("a", "") == base64::encode("alpha"), "data.a changed");
  json bad = secret;
  bad["metadata"]["name"] = "s2";
  bad.erase("stringData");
  bad["data"]["a"] = "not base64!";
  auto refused = ctx.client().create(kSecrets, bad);
  ctx.require(!refused && refused.error().isBadRequest(),
              "a Secret with non-base64 data must be 400 BadRequest");
  roundTrip(ctx, kSecrets, created,
            {[](json& o) { o["data"]["a"] = base64::encode("updated"); },
             [](const json& o) { return o["data"].value("a", "") == base64::encode("updated"); }});
}

void serviceAccountCase(Context& ctx) {
  json created = createRecorded(ctx, kServiceAccounts, "sa-create.txt", inCaseNamespace(ctx));
  roundTrip(ctx, kServiceAccounts, created,
            {[](json& o) { o["automountServiceAccountToken"] = false; },
             [](const json& o) { return o.value("automountServiceAccountToken", true) == false; }});
}

void serviceCase(Context& ctx) {
  json created = createRecorded(ctx, kServices, "service-create-defaults.txt", inCaseNamespace(ctx),
                                {{"/spec/clusterIP", "/spec/clusterIPs"}});
  std::string ip = created["spec"].value("clusterIP", "");
  ctx.require(!ip.empty() && ip != "None", "no clusterIP was allocated");
  ctx.require(created["spec"]["clusterIPs"] == json::array({ip}), "clusterIPs != [clusterIP]");
  roundTrip(ctx, kServices, created,
            {[](json& o) {
               o["spec"]["ports"].push_back({{"name", "http"}, {"port", 80}, {"targetPort", 8080}});
               o["spec"]["ports"][0]["name"] = "https";
             },
             [ip](const json& o) {
               return o["spec"]["ports"].size() == 2 && o["spec"].value("clusterIP", "") == ip &&
                      o["spec"]["ports"][1].value("protocol", "") == "TCP";
             }});
}

void endpointsCase(Context& ctx) {
  json created = createRecorded(ctx, kEndpoints, "endpoints-create.txt", inCaseNamespace(ctx));
  roundTrip(ctx, kEndpoints, created,
            {[](json& o) {
               o["subsets"][0]["addresses"].push_back({{"ip", "10.1.2.4"}});
             },
             [](const json& o) { return o["subsets"][0]["addresses"].size() == 2; }});
}

void endpointSliceCase(Context& ctx) {
  json slice = {{"apiVersion", "discovery.k8s.io/v1"},
                {"kind", "EndpointSlice"},
                {"metadata",
                 {{"name", "istiod-abc"},
                  {"namespace", ctx.ns()},
                  {"labels", {{"kubernetes.io/service-name", "istiod"}}}}},
                {"addressType", "IPv4"},
                {"endpoints", {{{"addresses", {"10.1.2.3"}}, {"conditions", {{"ready", true}}}}}},
                {"ports", {{{"name", "grpc-xds"}, {"port", 15010}, {"protocol", "TCP"}}}}};
  json created = ctx.must(ctx.client().create(kEndpointSlices, slice), "create EndpointSlice");
  json missing = slice;
  missing["metadata"]["name"] = "no-address-type";
  missing.erase("addressType");
  auto refused = ctx.client().create(kEndpointSlices, missing);
  ctx.require(!refused && refused.error().isInvalid(),
              "an EndpointSlice without addressType must be 422");
  roundTrip(ctx, kEndpointSlices, created,
            {[](json& o) {
               o["endpoints"].push_back({{"addresses", {"10.1.2.4"}}});
             },
             [](const json& o) { return o["endpoints"].size() == 2; }});
}

void nodeCase(Context& ctx) {
  json nodes = ctx.must(ctx.client().list(kNodes, ""), "list nodes");
  ctx.require(!nodes["items"].empty(), "the cluster has no nodes");
  const json& first = nodes["items"][0];
  std::string name = metaString(first, "name");
  json node = ctx.must(ctx.client().get(kNodes, {"", name}), "get node " + name);
  ctx.require(node["metadata"].contains("labels") &&
                  node["metadata"]["labels"].contains("kubernetes.io/hostname"),
              "node " + name + " has no kubernetes.io/hostname label");
  if (ctx.target().cluster()) {
    // testenv seeds nodes with pod CIDRs and topology labels, as the product reads them.
    ctx.require(!node["spec"].value("podCIDR", "").empty(), "seeded node without spec.podCIDR");
    ctx.require(node["metadata"]["labels"].contains("topology.kubernetes.io/region"),
                "seeded node without topology.kubernetes.io/region");
  }
  std::string label = "conformance.rio/" + ctx.suffix();
  kube::ClientPtr admin = ctx.clientPtr();
  ctx.defer([admin, name, label] {
    (void)admin->patch(kNodes, {"", name}, kube::PatchType::kMerge,
                       {{"metadata", {{"labels", {{label, nullptr}}}}}});
  });
  json labelled = ctx.must(ctx.client().patch(kNodes, {"", name}, kube::PatchType::kMerge,
                                              {{"metadata", {{"labels", {{label, "x"}}}}}}),
                           "label node " + name);
  ctx.require(labelled["metadata"]["labels"].value(label, "") == "x", "node label not set");
  json cleared = ctx.must(ctx.client().patch(kNodes, {"", name}, kube::PatchType::kMerge,
                                             {{"metadata", {{"labels", {{label, nullptr}}}}}}),
                          "remove the node label");
  ctx.require(!cleared["metadata"]["labels"].contains(label),
              "a null in a merge patch must remove the label");
}

void podCase(Context& ctx) {
  waitForDefaultServiceAccount(ctx);
  json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "p1"}, {"namespace", ctx.ns()}}},
      {"spec", {{"containers", {{{"name", "c"}, {"image", "registry.k8s.io/pause:3.9"}}}}}}};
  json created = ctx.must(ctx.client().create(kPods, pod), "create Pod");
  const json& spec = created["spec"];
  ctx.require(spec.value("restartPolicy", "") == "Always" &&
                  spec.value("dnsPolicy", "") == "ClusterFirst" &&
                  spec.value("terminationGracePeriodSeconds", 0) == 30 &&
                  spec.value("schedulerName", "") == "default-scheduler",
              "pod spec defaults missing: " + spec.dump());
  ctx.require(spec["containers"][0].value("imagePullPolicy", "") == "IfNotPresent",
              "imagePullPolicy defaults to IfNotPresent for a tagged image");
  ctx.require(spec.value("serviceAccountName", "") == "default",
              "serviceAccountName defaults to default");
  ctx.require(created["status"].value("phase", "") == "Pending", "a new pod is Pending");
  roundTrip(
      ctx, kPods, created,
      {[](json& o) {
         o["metadata"]["annotations"] = {{"note", "updated"}};
       },
       [](const json& o) { return o["metadata"]["annotations"].value("note", "") == "updated"; },
       true});
}

void deploymentCase(Context& ctx) {
  json created =
      createRecorded(ctx, kDeployments, "deployment-create-defaults.txt", inCaseNamespace(ctx));
  ctx.require(generationOf(created) == 1, "generation of a new Deployment is 1");
  roundTrip(
      ctx, kDeployments, created,
      {[](json& o) {
         o["spec"]["replicas"] = 3;
         o.erase("status");
       },
       [](const json& o) { return o["spec"].value("replicas", 0) == 3 && generationOf(o) == 2; }});
}

json policyRule() {
  return {
      {{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get", "list", "watch"}}}};
}

void clusterRoleCase(Context& ctx) {
  json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "ClusterRole"},
               {"metadata", {{"name", ctx.unique("conf-reader")}}},
               {"rules", policyRule()}};
  json created = ctx.must(ctx.client().create(kClusterRoles, role), "create ClusterRole");
  ctx.deleteLater(kClusterRoles, {"", metaString(created, "name")});
  roundTrip(ctx, kClusterRoles, created,
            {[](json& o) { o["rules"][0]["verbs"].push_back("create"); },
             [](const json& o) { return o["rules"][0]["verbs"].size() == 4; }});
}

void bindingCase(Context& ctx, bool cluster) {
  const kube::Resource& roles = cluster ? kClusterRoles : kRoles;
  const kube::Resource& bindings = cluster ? kClusterRoleBindings : kRoleBindings;
  std::string roleName = cluster ? ctx.unique("conf-reader") : "reader";
  json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", roles.kind},
               {"metadata", {{"name", roleName}}},
               {"rules", policyRule()}};
  if (!cluster) role["metadata"]["namespace"] = ctx.ns();
  json createdRole = ctx.must(ctx.client().create(roles, role), "create " + roles.kind);
  if (cluster) ctx.deleteLater(roles, {"", roleName});
  json binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", bindings.kind},
      {"metadata", {{"name", cluster ? ctx.unique("conf-reader") : "reader"}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", roles.kind}, {"name", roleName}}},
      {"subjects", {{{"kind", "ServiceAccount"}, {"name", "bot"}, {"namespace", ctx.ns()}}}}};
  if (!cluster) binding["metadata"]["namespace"] = ctx.ns();
  json created = ctx.must(ctx.client().create(bindings, binding), "create " + bindings.kind);
  if (cluster) ctx.deleteLater(bindings, {"", metaString(created, "name")});
  // roleRef is immutable: a binding must be deleted and re-created to point elsewhere.
  json changed = created;
  changed["roleRef"]["name"] = "other";
  auto refused = ctx.client().update(bindings, changed);
  ctx.require(!refused && refused.error().isInvalid(),
              "changing roleRef must be 422 Invalid, got " +
                  (refused ? std::string("success") : Context::describe(refused.error())));
  ctx.require(refused.error().status()->causes.size() == 1 &&
                  refused.error().status()->causes[0].field == "roleRef",
              "the 422 cause must name roleRef");
  roundTrip(
      ctx, bindings, created,
      {[](json& o) {
         o["subjects"].push_back(
             {{"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", "alice"}});
       },
       [](const json& o) { return o["subjects"].size() == 2; }});
  if (!cluster) {
    roundTrip(ctx, roles, createdRole,
              {[](json& o) { o["rules"][0]["verbs"].push_back("create"); },
               [](const json& o) { return o["rules"][0]["verbs"].size() == 4; }});
  }
}

void webhookCase(Context& ctx) {
  std::string name = ctx.unique("demo-injector");
  Renames r = Renames().name("demo-injector", name).name("demo", ctx.ns());
  json created = createRecorded(ctx, kMutatingWebhookConfigurations, "mwc-create.txt", r);
  roundTrip(ctx, kMutatingWebhookConfigurations, created,
            // failurePolicy stays Ignore: on a shared cluster a failing webhook would block pods.
            {[](json& o) { o["webhooks"][0]["timeoutSeconds"] = 5; },
             [](const json& o) { return o["webhooks"][0].value("timeoutSeconds", 0) == 5; }});
}

void leaseCase(Context& ctx) {
  json created = createRecorded(ctx, kLeases, "lease-create.txt", inCaseNamespace(ctx));
  roundTrip(ctx, kLeases, created,
            {[](json& o) {
               o["spec"]["holderIdentity"] = "b_2";
               o["spec"]["leaseTransitions"] = 1;
             },
             [](const json& o) {
               return o["spec"].value("holderIdentity", "") == "b_2" &&
                      o["spec"].value("leaseTransitions", 0) == 1;
             }});
}

void coreEventCase(Context& ctx) {
  json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", "c1.abc"}, {"namespace", ctx.ns()}}},
      {"involvedObject",
       {{"kind", "ConfigMap"}, {"namespace", ctx.ns()}, {"name", "c1"}, {"apiVersion", "v1"}}},
      {"reason", "Joined"},
      {"message", "ok"},
      {"type", "Normal"},
      {"source", {{"component", "remote-istio-operator"}}},
      {"count", 1},
      {"firstTimestamp", "2026-01-01T00:00:00Z"},
      {"lastTimestamp", "2026-01-01T00:00:00Z"}};
  json created = ctx.must(ctx.client().create(kEvents, event), "create core/v1 Event");
  // The same object is served by events.k8s.io/v1 with the new field names.
  json v1 =
      ctx.must(ctx.client().get(kEventsV1, {ctx.ns(), "c1.abc"}), "get it as events.k8s.io/v1");
  ctx.require(v1["regarding"].value("name", "") == "c1" && v1.value("note", "") == "ok" &&
                  v1.value("reason", "") == "Joined" &&
                  v1["deprecatedSource"].value("component", "") == "remote-istio-operator" &&
                  v1.value("deprecatedCount", 0) == 1,
              "events.k8s.io/v1 view of a core Event: " + v1.dump());
  roundTrip(ctx, kEvents, created,
            {[](json& o) {
               o["count"] = 2;
               o["lastTimestamp"] = "2026-01-01T00:01:00Z";
             },
             [](const json& o) { return o.value("count", 0) == 2; }});
}

void eventsV1Case(Context& ctx) {
  json created = createRecorded(ctx, kEventsV1, "event-create-eventsv1.txt", inCaseNamespace(ctx));
  json core = ctx.must(ctx.client().get(kEvents, {ctx.ns(), "e1"}), "get it as core/v1");
  ctx.require(core["involvedObject"].value("name", "") == "c1" &&
                  core.value("message", "") == "ok" &&
                  core.value("reportingComponent", "") == "example.com/op",
              "core/v1 view of an events.k8s.io/v1 Event: " + core.dump());
  roundTrip(
      ctx, kEventsV1, created,
      {[](json& o) {
         o["series"] = {{"count", 2}, {"lastObservedTime", "2026-01-01T00:01:00.000000Z"}};
       },
       [](const json& o) { return o.contains("series") && o["series"].value("count", 0) == 2; }});
}

void crdCase(Context& ctx) {
  std::string group = "w" + ctx.suffix() + ".example.com";
  Renames r = Renames().substring("example.com", group);
  // The CRD's status conditions carry transition times; the status is compared below.
  json created =
      createRecorded(ctx, kCustomResourceDefinitions, "crd-create.txt", r, {{"/status"}, true});
  std::string name = metaString(created, "name");
  json established;
  ctx.eventually(
      [&] {
        auto got = ctx.client().get(kCustomResourceDefinitions, {"", name});
        if (!got) return false;
        established = *got;
        for (const auto& c : established["status"].value("conditions", json::array()))
          if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
        return false;
      },
      "CRD " + name + " becomes Established");
  expectRecordedObject(
      ctx, established, "crd-get-established.txt", r,
      {{"/status/conditions/0/lastTransitionTime", "/status/conditions/1/lastTransitionTime"},
       false});
  roundTrip(ctx, kCustomResourceDefinitions, established,
            {[](json& o) { o["spec"]["names"]["shortNames"].push_back("wdg"); },
             [](const json& o) { return o["spec"]["names"]["shortNames"].size() == 2; }, true});
}

void customResourceCase(Context& ctx) {
  auto crd = installWidgetCrd(ctx);
  json obj = recordedRequest(ctx, "cr-create.txt", crd.renames);
  obj["metadata"]["namespace"] = ctx.ns();
  json created = ctx.must(ctx.client().create(crd.resource, obj, asCurl()), "create Widget");
  expectRecordedObject(ctx, created, "cr-create.txt", crd.renames);
  roundTrip(
      ctx, crd.resource, created,
      {[](json& o) { o["spec"]["size"] = 5; },
       [](const json& o) { return o["spec"].value("size", 0) == 5 && generationOf(o) == 2; }});
}

}  // namespace

void addCrudCases(Suite& suite) {
  auto add = [&](std::string kind, std::string what, void (*fn)(Context&)) {
    suite.add({"crud: " + kind, what, Needs::kNothing, fn});
  };
  add("Namespace",
      "create (as recorded: metadata.name label, kubernetes finalizer, Active), get, list, update, "
      "patch, delete until gone",
      namespaceCase);
  add("ConfigMap", "create as recorded, get, list, update, patch, delete, 404", configMapCase);
  add("Secret",
      "stringData is merged into data and never returned, type defaults to Opaque, bad base64 is "
      "400; CRUD",
      secretCase);
  add("ServiceAccount", "create as recorded; CRUD", serviceAccountCase);
  add("Service",
      "create with the recorded defaults (type, sessionAffinity, ipFamilies, ...), a clusterIP "
      "allocated and kept; CRUD",
      serviceCase);
  add("Endpoints", "create as recorded; CRUD", endpointsCase);
  add("EndpointSlice", "addressType is required (422); CRUD", endpointSliceCase);
  add("Node",
      "nodes are listed with hostname labels (testenv: pod CIDRs and region); labels added and "
      "removed by merge patch",
      nodeCase);
  add("Pod",
      "pod spec defaults (restartPolicy, dnsPolicy, grace period, pull policy, service account), "
      "Pending; CRUD",
      podCase);
  add("Deployment",
      "create with the recorded defaults (strategy, revisionHistoryLimit, pod template defaults); "
      "CRUD with generation",
      deploymentCase);
  add("ClusterRole", "CRUD", clusterRoleCase);
  add("ClusterRoleBinding", "roleRef is immutable (422 naming roleRef); CRUD",
      [](Context& c) { bindingCase(c, true); });
  add("Role and RoleBinding", "roleRef is immutable (422 naming roleRef); CRUD of both",
      [](Context& c) { bindingCase(c, false); });
  add("MutatingWebhookConfiguration",
      "create with the recorded defaults (matchPolicy, timeoutSeconds, reinvocationPolicy, ...); "
      "CRUD",
      webhookCase);
  add("Lease", "create as recorded (MicroTime kept); CRUD", leaseCase);
  add("Event (core/v1)",
      "a core Event is also served as events.k8s.io/v1 with the new field names; CRUD",
      coreEventCase);
  add("Event (events.k8s.io/v1)", "create as recorded, also served as core/v1; CRUD", eventsV1Case);
  add("CustomResourceDefinition",
      "create as recorded, Established with the recorded conditions and accepted names; CRUD",
      crdCase);
  add("custom resource",
      "create a Widget as recorded once its CRD is Established; CRUD with generation",
      customResourceCase);
}

}  // namespace rio::conformance
