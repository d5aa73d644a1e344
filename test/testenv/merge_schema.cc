#include "test/testenv/merge_schema.h"

#include <array>
#include <map>
#include <memory>
#include <utility>

namespace rio::testenv::schema {
namespace {

using nlohmann::json;

// Builds and owns the type graph. Only the facts merging needs are written down (list types and
// keys, atomic structs and maps, patch tags); everything else is untyped. Sources: the Go API
// types' +listType/+listMapKey/+structType/+mapType markers and patchStrategy/patchMergeKey tags
// in k8s.io/api 1.32.
class Tables {
 public:
  Tables() { build(); }

  const Type* untypedType() const { return untyped_; }

  struct KindEntry {
    const Type* root = nullptr;
    json zero = json::object();
  };

  const KindEntry* find(std::string_view group, std::string_view kind) const {
    auto it = kinds_.find(std::make_pair(std::string(group), std::string(kind)));
    return it == kinds_.end() ? nullptr : &it->second;
  }

  const Type* genericRoot() const { return genericRoot_; }

 private:
  Type* make(Type t) {
    types_.push_back(std::make_unique<Type>(std::move(t)));
    return types_.back().get();
  }

  const Type* structOf(std::vector<Field> fields) {
    Type t;
    t.kind = Kind::kMap;
    t.fields = std::move(fields);
    return make(std::move(t));
  }

  const Type* atomicStruct() {
    Type t;
    t.kind = Kind::kMap;
    t.atomic = true;
    return make(std::move(t));
  }

  const Type* mapOf(const Type* elem, bool atomic) {
    Type t;
    t.kind = Kind::kMap;
    t.elem = elem;
    t.atomic = atomic;
    return make(std::move(t));
  }

  const Type* setList() {
    Type t;
    t.kind = Kind::kList;
    t.listType = ListType::kSet;
    t.elem = scalar_;
    return make(std::move(t));
  }

  const Type* mapList(const Type* item, std::vector<std::string> keys,
                      json defaults = json::object()) {
    Type t;
    t.kind = Kind::kList;
    t.listType = ListType::kMap;
    t.elem = item;
    t.keys = std::move(keys);
    t.keyDefaults = std::move(defaults);
    return make(std::move(t));
  }

  static Field plain(std::string name, const Type* type) {
    return Field{std::move(name), type, "", ""};
  }
  static Field merge(std::string name, const Type* type, std::string key = "") {
    return Field{std::move(name), type, "merge", std::move(key)};
  }
  static Field tagged(std::string name, const Type* type, std::string strategy, std::string key) {
    return Field{std::move(name), type, std::move(strategy), std::move(key)};
  }

  // A top-level kind: apiVersion, kind, metadata and the given fields.
  const Type* root(std::vector<Field> fields) {
    fields.push_back(plain("apiVersion", scalar_));
    fields.push_back(plain("kind", scalar_));
    fields.push_back(plain("metadata", objectMeta_));
    return structOf(std::move(fields));
  }

  void add(std::string group, std::string kind, const Type* rootType, json zero = json::object()) {
    if (!zero.contains("metadata")) zero["metadata"] = {{"creationTimestamp", nullptr}};
    kinds_[{std::move(group), std::move(kind)}] = KindEntry{rootType, std::move(zero)};
  }

  void build() {
    {
      Type t;
      t.kind = Kind::kUntyped;
      untyped_ = make(std::move(t));
    }
    {
      Type t;
      t.kind = Kind::kScalar;
      scalar_ = make(std::move(t));
    }
    const Type* U = untyped_;
    const Type* stringMap = mapOf(scalar_, /*atomic=*/false);
    const Type* atomicMap = mapOf(scalar_, /*atomic=*/true);
    const Type* labelSelector = atomicStruct();  // metav1.LabelSelector is +structType=atomic
    const Type* conditions = mapList(U, {"type"});

    objectMeta_ = structOf({
        plain("labels", stringMap),
        plain("annotations", stringMap),
        merge("finalizers", setList()),
        merge("ownerReferences", mapList(atomicStruct(), {"uid"}), "uid"),
        plain("managedFields", U),
    });
    genericRoot_ = root({});

    // core/v1 Pod and its template.
    const Type* container = structOf({
        merge("ports", mapList(U, {"containerPort", "protocol"}, {{"protocol", "TCP"}}),
              "containerPort"),
        merge("env", mapList(U, {"name"}), "name"),
        merge("volumeMounts", mapList(U, {"mountPath"}), "mountPath"),
        merge("volumeDevices", mapList(U, {"devicePath"}), "devicePath"),
        plain("resources", structOf({plain("limits", stringMap), plain("requests", stringMap),
                                     plain("claims", mapList(U, {"name"}))})),
    });
    const Type* containers = mapList(container, {"name"});
    const Type* podSpec = structOf({
        tagged("volumes", mapList(structOf({}), {"name"}), "merge,retainKeys", "name"),
        merge("initContainers", containers, "name"),
        merge("containers", containers, "name"),
        merge("ephemeralContainers", containers, "name"),
        merge("imagePullSecrets", mapList(U, {"name"}), "name"),
        plain("nodeSelector", atomicMap),
        merge("hostAliases", mapList(U, {"ip"}), "ip"),
        merge("topologySpreadConstraints", mapList(U, {"topologyKey", "whenUnsatisfiable"}),
              "topologyKey"),
        tagged("resourceClaims", mapList(U, {"name"}), "merge,retainKeys", "name"),
        merge("schedulingGates", mapList(U, {"name"}), "name"),
        plain("overhead", stringMap),
    });
    const Type* podTemplateSpec =
        structOf({plain("metadata", objectMeta_), plain("spec", podSpec)});
    const Type* podStatus = structOf({
        merge("conditions", conditions, "type"),
        merge("podIPs", mapList(U, {"ip"}), "ip"),
        merge("hostIPs", mapList(U, {"ip"}), "ip"),
    });
    const Type* conditionsStatus = structOf({merge("conditions", conditions, "type")});
    add("", "Pod", root({plain("spec", podSpec), plain("status", podStatus)}),
        {{"spec", {{"containers", nullptr}}}, {"status", json::object()}});
    add("", "PodTemplate", root({plain("template", podTemplateSpec)}),
        {{"template",
          {{"metadata", {{"creationTimestamp", nullptr}}}, {"spec", {{"containers", nullptr}}}}}});
    const json templateZero = {{"metadata", {{"creationTimestamp", nullptr}}},
                               {"spec", {{"containers", nullptr}}}};
    add("", "ReplicationController",
        root({plain("spec",
                    structOf({plain("selector", atomicMap), plain("template", podTemplateSpec)})),
              plain("status", conditionsStatus)}),
        {{"spec", json::object()}, {"status", {{"replicas", 0}}}});

    // apps/v1 and batch/v1 workloads.
    const Type* workloadSpec =
        structOf({plain("selector", labelSelector), plain("template", podTemplateSpec),
                  tagged("strategy", U, "retainKeys", "")});
    add("apps", "Deployment",
        root({plain("spec", workloadSpec), plain("status", conditionsStatus)}),
        {{"spec",
          {{"selector", nullptr}, {"template", templateZero}, {"strategy", json::object()}}},
         {"status", json::object()}});
    add("apps", "ReplicaSet",
        root({plain("spec", workloadSpec), plain("status", conditionsStatus)}),
        {{"spec", {{"selector", nullptr}, {"template", templateZero}}},
         {"status", {{"replicas", 0}}}});
    add("apps", "StatefulSet",
        root({plain("spec", workloadSpec), plain("status", conditionsStatus)}),
        {{"spec",
          {{"selector", nullptr},
           {"template", templateZero},
           {"serviceName", ""},
           {"updateStrategy", json::object()}}},
         {"status", {{"replicas", 0}, {"availableReplicas", 0}}}});
    add("apps", "DaemonSet", root({plain("spec", workloadSpec), plain("status", conditionsStatus)}),
        {{"spec",
          {{"selector", nullptr}, {"template", templateZero}, {"updateStrategy", json::object()}}},
         {"status",
          {{"currentNumberScheduled", 0},
           {"numberMisscheduled", 0},
           {"desiredNumberScheduled", 0},
           {"numberReady", 0}}}});
    const Type* jobSpec =
        structOf({plain("selector", labelSelector), plain("template", podTemplateSpec)});
    add("batch", "Job", root({plain("spec", jobSpec)}),
        {{"spec", {{"template", templateZero}}}, {"status", json::object()}});
    add("batch", "CronJob",
        root({plain("spec", structOf({plain("jobTemplate", structOf({plain("metadata", objectMeta_),
                                                                     plain("spec", jobSpec)}))}))}),
        {{"spec",
          {{"schedule", ""},
           {"jobTemplate",
            {{"metadata", {{"creationTimestamp", nullptr}}},
             {"spec", {{"template", templateZero}}}}}}},
         {"status", json::object()}});

    // core/v1 others.
    const Type* serviceSpec = structOf({
        merge("ports", mapList(U, {"port", "protocol"}, {{"protocol", "TCP"}}), "port"),
        plain("selector", atomicMap),
    });
    add("", "Service", root({plain("spec", serviceSpec), plain("status", conditionsStatus)}),
        {{"spec", json::object()}, {"status", {{"loadBalancer", json::object()}}}});
    add("", "ConfigMap", root({plain("data", stringMap), plain("binaryData", stringMap)}));
    add("", "Secret", root({plain("data", stringMap), plain("stringData", stringMap)}));
    add("", "ServiceAccount", root({merge("secrets", mapList(U, {"name"}), "name")}));
    add("", "Endpoints", root({}));
    add("", "Namespace", root({plain("status", conditionsStatus)}),
        {{"spec", json::object()}, {"status", json::object()}});
    add("", "Node",
        root({plain("spec", structOf({merge("podCIDRs", setList())})),
              plain("status",
                    structOf({merge("addresses", mapList(U, {"type"}), "type"),
                              merge("conditions", conditions, "type"), plain("capacity", stringMap),
                              plain("allocatable", stringMap)}))}),
        {{"spec", json::object()},
         {"status",
          {{"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 0}}}}},
           {"nodeInfo",
            {{"machineID", ""},
             {"systemUUID", ""},
             {"bootID", ""},
             {"kernelVersion", ""},
             {"osImage", ""},
             {"containerRuntimeVersion", ""},
             {"kubeletVersion", ""},
             {"kubeProxyVersion", ""},
             {"operatingSystem", ""},
             {"architecture", ""}}}}}});
    // core/v1 ObjectReference is +structType=atomic (event-create-eventsv1.txt: "f:regarding": {}).
    add("", "Event", root({plain("involvedObject", atomicStruct()), plain("related", atomicStruct())}),
        {{"involvedObject", json::object()},
         {"source", json::object()},
         {"firstTimestamp", nullptr},
         {"lastTimestamp", nullptr},
         {"eventTime", nullptr},
         {"reportingComponent", ""},
         {"reportingInstance", ""}});
    add("events.k8s.io", "Event",
        root({plain("regarding", atomicStruct()), plain("related", atomicStruct())}),
        {{"eventTime", nullptr},
         {"regarding", json::object()},
         {"deprecatedSource", json::object()},
         {"deprecatedFirstTimestamp", nullptr},
         {"deprecatedLastTimestamp", nullptr}});
    add("discovery.k8s.io", "EndpointSlice", root({}),
        {{"addressType", ""}, {"endpoints", nullptr}});
    add("coordination.k8s.io", "Lease", root({}), {{"spec", json::object()}});

    // RBAC: rules and subjects are atomic lists, roleRef an atomic struct.
    add("rbac.authorization.k8s.io", "Role", root({}), {{"rules", nullptr}});
    add("rbac.authorization.k8s.io", "ClusterRole", root({}), {{"rules", nullptr}});
    const json roleRefZero = {{"roleRef", {{"apiGroup", ""}, {"kind", ""}, {"name", ""}}}};
    add("rbac.authorization.k8s.io", "RoleBinding", root({plain("roleRef", atomicStruct())}),
        roleRefZero);
    add("rbac.authorization.k8s.io", "ClusterRoleBinding", root({plain("roleRef", atomicStruct())}),
        roleRefZero);

    // Admission webhooks.
    const Type* webhook = structOf({
        plain("namespaceSelector", labelSelector),
        plain("objectSelector", labelSelector),
        merge("matchConditions", mapList(U, {"name"}), "name"),
    });
    const Type* webhookConfig = root({merge("webhooks", mapList(webhook, {"name"}), "name")});
    add("admissionregistration.k8s.io", "MutatingWebhookConfiguration", webhookConfig);
    add("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", webhookConfig);

    // Requests answered in place: `spec` is a non-pointer struct, so it is never a new field
    // (sa-token-request.txt, ssar-create.txt: no "." under f:spec).
    add("authentication.k8s.io", "TokenRequest", root({}), {{"spec", json::object()}});
    add("authentication.k8s.io", "TokenReview", root({}), {{"spec", json::object()}});
    for (const char* review : {"SelfSubjectAccessReview", "SubjectAccessReview",
                               "LocalSubjectAccessReview", "SelfSubjectRulesReview"}) {
      add("authorization.k8s.io", review, root({}), {{"spec", json::object()}});
    }

    add("apiextensions.k8s.io", "CustomResourceDefinition",
        root({plain("status", conditionsStatus)}),
        {{"spec",
          {{"group", ""},
           {"names", {{"plural", ""}, {"kind", ""}}},
           {"scope", ""},
           {"versions", nullptr}}},
         {"status",
          {{"acceptedNames", {{"plural", ""}, {"kind", ""}}}, {"storedVersions", nullptr}}}});
  }

  std::vector<std::unique_ptr<Type>> types_;
  std::map<std::pair<std::string, std::string>, KindEntry> kinds_;
  const Type* untyped_ = nullptr;
  const Type* scalar_ = nullptr;
  const Type* objectMeta_ = nullptr;
  const Type* genericRoot_ = nullptr;
};

// The tables are immutable constants, built once on first use (thread-safe static init).
const Tables& tables() {
  static const Tables kTables;
  return kTables;
}

}  // namespace

const Field* Type::findField(std::string_view name) const {
  for (const auto& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const Type* untyped() { return tables().untypedType(); }

Child childOf(const Type* t, const std::string& key) {
  if (t != nullptr && t->kind == Kind::kMap) {
    if (const Field* f = t->findField(key)) return Child{f->type, true, f};
    if (t->elem != nullptr) return Child{t->elem, false, nullptr};
  }
  return Child{untyped(), true, nullptr};
}

const Type* itemOf(const Type* t) {
  if (t != nullptr && t->kind == Kind::kList && t->elem != nullptr) return t->elem;
  return untyped();
}

std::string_view groupOf(std::string_view apiVersion) {
  auto slash = apiVersion.find('/');
  return slash == std::string_view::npos ? std::string_view{} : apiVersion.substr(0, slash);
}

bool isBuiltinGroup(std::string_view group) {
  static constexpr std::array<std::string_view, 24> kGroups = {
      "",
      "admissionregistration.k8s.io",
      "apiextensions.k8s.io",
      "apiregistration.k8s.io",
      "apps",
      "authentication.k8s.io",
      "authorization.k8s.io",
      "autoscaling",
      "batch",
      "certificates.k8s.io",
      "coordination.k8s.io",
      "discovery.k8s.io",
      "events.k8s.io",
      "flowcontrol.apiserver.k8s.io",
      "internal.apiserver.k8s.io",
      "networking.k8s.io",
      "node.k8s.io",
      "policy",
      "rbac.authorization.k8s.io",
      "resource.k8s.io",
      "scheduling.k8s.io",
      "storage.k8s.io",
      "storagemigration.k8s.io",
      "extensions",
  };
  for (auto g : kGroups) {
    if (g == group) return true;
  }
  return false;
}

const Type* rootType(std::string_view apiVersion, std::string_view kind) {
  if (const auto* entry = tables().find(groupOf(apiVersion), kind)) return entry->root;
  return tables().genericRoot();
}

nlohmann::json zeroValue(std::string_view apiVersion, std::string_view kind) {
  if (const auto* entry = tables().find(groupOf(apiVersion), kind)) return entry->zero;
  return nlohmann::json::object();
}

}  // namespace rio::testenv::schema
