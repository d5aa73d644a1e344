// ApiServer's simulated controllers: seeded namespaces/Service/nodes/RBAC, the namespace
// controller (default ServiceAccount, kube-root-ca.crt) and namespace lifecycle, garbage
// collection by ownerReferences, Deployment status, CRD establishment and cleanup. They write
// through the same path as requests (managedFields, events), with their own field managers.
#include "test/testenv/api_server_impl.h"
#include "test/testenv/ipv4.h"
#include "test/testenv/object_util.h"
#include "test/testenv/rbac_authorizer.h"

namespace rio::testenv {
namespace {

const char kControllerManager[] = "kube-controller-manager";
const char kApiServerManager[] = "kube-apiserver";

nlohmann::json condition(const std::string& type, const std::string& status,
                         const std::string& reason, const std::string& message,
                         const std::string& now, const nlohmann::json& previous,
                         bool withUpdateTime) {
  std::string transition = now;
  if (previous.is_array()) {
    for (const auto& c : previous) {
      if (c.is_object() && c.value("type", "") == type && c.value("status", "") == status) {
        transition = c.value("lastTransitionTime", now);
      }
    }
  }
  nlohmann::json c = {{"type", type},
                      {"status", status},
                      {"lastTransitionTime", transition},
                      {"reason", reason},
                      {"message", message}};
  if (withUpdateTime) c["lastUpdateTime"] = now;
  return c;
}

std::string templateHash(const nlohmann::json& tmpl) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : tmpl.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < 10; ++i) {
    out += kAlphabet[h % (sizeof kAlphabet - 1)];
    h /= (sizeof kAlphabet - 1);
  }
  return out;
}

nlohmann::json policyRule(std::vector<std::string> groups, std::vector<std::string> resources,
                          std::vector<std::string> verbs) {
  return {{"apiGroups", groups}, {"resources", resources}, {"verbs", verbs}};
}

nlohmann::json bootstrapMeta(const std::string& name) {
  return {{"name", name},
          {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}},
          {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}};
}

}  // namespace

ObjPtr ApiServer::Impl::systemWrite(const ResourceType& type, nlohmann::json object,
                                    const std::string& manager, const std::string& subresource) {
  Ctx sys;
  sys.manager = manager;
  sys.admin = true;
  sys.user.name = manager;
  std::string ns = type.namespaced ? metaString(object, "namespace") : "";
  std::string key = objectKey(ns, metaString(object, "name"));
  auto current = find(type.storageKey, key);
  if (!current) {
    auto next = finalizeWrite(sys, type, nullptr, std::move(object), "", false);
    if (!next) return nullptr;
    auto stored = put(type, key, toStorage(type, std::move(*next)), nullptr);
    afterWrite(type, nullptr, stored);
    return stored;
  }
  nlohmann::json curView = toView(type, *current);
  auto next = finalizeWrite(sys, type, &curView, std::move(object), subresource, false);
  if (!next) return nullptr;
  commitWrite(type, key, current, std::move(*next));
  return find(type.storageKey, key);
}

void ApiServer::Impl::seed() {
  const auto& sim = opts.simulation;
  auto nsType = builtin("", "namespaces");
  if (sim.seedNamespaces) {
    for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
      systemWrite(*nsType, {{"metadata", {{"name", ns}}}}, kApiServerManager, "");
    }
    std::string firstIp = ipv4String(serviceBase + 1);
    systemWrite(
        *builtin("", "services"),
        {{"metadata",
          {{"name", "kubernetes"},
           {"namespace", "default"},
           {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
         {"spec",
          {{"clusterIP", firstIp},
           {"ports",
            {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", 6443}}}}}}},
        kApiServerManager, "");
    writeKubernetesEndpoints();
  }
  if (sim.nodes > 0) {
    auto podCidr = parseCidr(opts.podCidr);
    std::vector<std::string> zones = opts.zones;
    if (zones.empty()) zones = {opts.region + "-a", opts.region + "-b", opts.region + "-c"};
    std::string ts = formatTimestamp(now());
    for (int i = 1; i <= sim.nodes; ++i) {
      std::string name = sim.nodeNamePrefix + std::to_string(i);
      const std::string& zone = zones[static_cast<std::size_t>(i - 1) % zones.size()];
      nlohmann::json spec = nlohmann::json::object();
      if (podCidr) {
        int prefix = std::max(podCidr->prefix, 24);
        std::uint64_t slice = std::uint64_t(1) << (32 - prefix);
        std::uint64_t offset = static_cast<std::uint64_t>(i - 1) * slice;
        if (offset < podCidr->size()) {
          std::string cidr = ipv4String(podCidr->base + static_cast<std::uint32_t>(offset)) + "/" +
                             std::to_string(prefix);
          spec["podCIDR"] = cidr;
          spec["podCIDRs"] = {cidr};
        }
      }
      spec["providerID"] = "testenv://" + opts.clusterName + "/" + name;
      nlohmann::json conds = nlohmann::json::array();
      for (const auto& [type, reason, message] :
           std::vector<std::tuple<std::string, std::string, std::string>>{
               {"MemoryPressure", "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available"},
               {"DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
               {"PIDPressure", "KubeletHasSufficientPID",
                "kubelet has sufficient PID available"}}) {
        conds.push_back({{"type", type},
                         {"status", "False"},
                         {"lastHeartbeatTime", ts},
                         {"lastTransitionTime", ts},
                         {"reason", reason},
                         {"message", message}});
      }
      conds.push_back({{"type", "Ready"},
                       {"status", "True"},
                       {"lastHeartbeatTime", ts},
                       {"lastTransitionTime", ts},
                       {"reason", "KubeletReady"},
                       {"message", "kubelet is posting ready status"}});
      nlohmann::json node = {
          {"metadata",
           {{"name", name},
            {"labels",
             {{"kubernetes.io/hostname", name},
              {"kubernetes.io/os", "linux"},
              {"kubernetes.io/arch", "amd64"},
              {"beta.kubernetes.io/os", "linux"},
              {"beta.kubernetes.io/arch", "amd64"},
              {"topology.kubernetes.io/region", opts.region},
              {"topology.kubernetes.io/zone", zone},
              {"failure-domain.beta.kubernetes.io/region", opts.region},
              {"failure-domain.beta.kubernetes.io/zone", zone},
              {"node.kubernetes.io/instance-type", "testenv.standard"}}}}},
          {"spec", spec},
          {"status",
           {{"conditions", conds},
            {"addresses",
             {{{"type", "InternalIP"}, {"address", "172.16.0." + std::to_string(10 + i)}},
              {{"type", "Hostname"}, {"address", name}}}},
            {"capacity",
             {{"cpu", "4"},
              {"memory", "16265356Ki"},
              {"pods", "110"},
              {"ephemeral-storage", "102687672Ki"}}},
            {"allocatable",
             {{"cpu", "4"},
              {"memory", "16162956Ki"},
              {"pods", "110"},
              {"ephemeral-storage", "94636958627"}}},
            {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
            {"nodeInfo",
             {{"machineID", "testenv"},
              {"systemUUID", "testenv-" + name},
              {"bootID", "testenv"},
              {"kernelVersion", "6.1.0-testenv"},
              {"osImage", "Debian GNU/Linux 12 (bookworm)"},
              {"containerRuntimeVersion", "containerd://1.7.24"},
              {"kubeletVersion", opts.gitVersion},
              {"kubeProxyVersion", opts.gitVersion},
              {"operatingSystem", "linux"},
              {"architecture", "amd64"}}}}}};
      systemWrite(*builtin("", "nodes"), std::move(node), "kubelet", "");
    }
  }
  if (sim.seedRbac) {
    auto cr = builtin("rbac.authorization.k8s.io", "clusterroles");
    auto crb = builtin("rbac.authorization.k8s.io", "clusterrolebindings");
    auto role = [&](const std::string& name, nlohmann::json rules) {
      systemWrite(*cr, {{"metadata", bootstrapMeta(name)}, {"rules", std::move(rules)}},
                  kApiServerManager, "");
    };
    // cluster-admin, system:discovery, system:basic-user, system:public-info-viewer and their
    // bindings, exactly as the authorizer assumes them.
    for (auto& obj : bootstrapClusterRoles())
      systemWrite(*cr, std::move(obj), kApiServerManager, "");
    for (auto& obj : bootstrapClusterRoleBindings())
      systemWrite(*crb, std::move(obj), kApiServerManager, "");
    std::vector<std::string> readVerbs = {"get", "list", "watch"};
    std::vector<std::string> writeVerbs = {"create", "delete", "deletecollection", "patch",
                                           "update"};
    nlohmann::json view = {policyRule({""},
                                      {"configmaps", "endpoints", "persistentvolumeclaims", "pods",
                                       "replicationcontrollers", "serviceaccounts", "services",
                                       "events", "limitranges", "namespaces", "resourcequotas"},
                                      readVerbs),
                           policyRule({"apps"},
                                      {"daemonsets", "deployments", "deployments/scale",
                                       "replicasets", "statefulsets"},
                                      readVerbs),
                           policyRule({"discovery.k8s.io"}, {"endpointslices"}, readVerbs),
                           policyRule({"coordination.k8s.io"}, {"leases"}, readVerbs),
                           policyRule({"events.k8s.io"}, {"events"}, readVerbs)};
    role("view", view);
    nlohmann::json edit = view;
    edit.push_back(policyRule({""},
                              {"configmaps", "endpoints", "persistentvolumeclaims", "pods",
                               "replicationcontrollers", "secrets", "serviceaccounts", "services"},
                              writeVerbs));
    edit.push_back(policyRule({""}, {"secrets"}, readVerbs));
    edit.push_back(policyRule({""}, {"serviceaccounts/token"}, {"create"}));
    edit.push_back(policyRule(
        {"apps"}, {"daemonsets", "deployments", "deployments/scale", "replicasets", "statefulsets"},
        writeVerbs));
    edit.push_back(policyRule({"discovery.k8s.io"}, {"endpointslices"}, writeVerbs));
    edit.push_back(policyRule({"coordination.k8s.io"}, {"leases"}, writeVerbs));
    role("edit", edit);
    nlohmann::json admin = edit;
    admin.push_back(policyRule(
        {"rbac.authorization.k8s.io"}, {"roles", "rolebindings"},
        {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}));
    admin.push_back(
        policyRule({"authorization.k8s.io"}, {"localsubjectaccessreviews"}, {"create"}));
    role("admin", admin);
  }
}

void ApiServer::Impl::writeKubernetesEndpoints() {
  std::string address = opts.serverAddress;
  auto colon = address.rfind(':');
  int port = 6443;
  try {
    if (colon != std::string::npos) port = std::stoi(address.substr(colon + 1));
  } catch (...) {
  }
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (!parseIpv4(host) || host == "0.0.0.0") host = "127.0.0.1";
  systemWrite(*builtin("", "endpoints"),
              {{"metadata",
                {{"name", "kubernetes"},
                 {"namespace", "default"},
                 {"labels", {{"endpointslice.kubernetes.io/skip-mirror", "true"}}}}},
               {"subsets",
                {{{"addresses", {{{"ip", host}}}},
                  {"ports", {{{"name", "https"}, {"port", port}, {"protocol", "TCP"}}}}}}}},
              kApiServerManager, "");
}

void ApiServer::setServerAddress(const std::string& address) {
  StoreLock lock(impl_.get());
  impl_->opts.serverAddress = address;
  if (impl_->opts.simulation.seedNamespaces &&
      impl_->find("/namespaces", objectKey("", "default"))) {
    impl_->writeKubernetesEndpoints();
  }
}

void ApiServer::Impl::afterWrite(const ResourceType& type, const ObjPtr& before,
                                 const ObjPtr& after) {
  const std::string& g = type.group;
  const std::string& r = type.resource;
  if (g.empty() && r == "namespaces") {
    if (!before && opts.simulation.namespaceController)
      onNamespaceCreated(metaString(*after, "name"));
  } else if (g == "apps" && r == "deployments") {
    if (!opts.simulation.deployments || !metaString(*after, "deletionTimestamp").empty()) return;
    auto gen = metadataOf(*after).value("generation", nlohmann::json(0));
    auto oldGen =
        before ? metadataOf(*before).value("generation", nlohmann::json(0)) : nlohmann::json(-1);
    if (gen != oldGen) {
      scheduleDeployment(objectKey(metaString(*after, "namespace"), metaString(*after, "name")),
                         gen.is_number_integer() ? gen.get<std::int64_t>() : 0);
    }
  } else if (g == "apiextensions.k8s.io") {
    if (!metaString(*after, "deletionTimestamp").empty()) return;
    (void)registry.setCustomResource(*after);
    if (!before) {
      std::string name = metaString(*after, "name");
      post(std::chrono::milliseconds(0), [name](Impl& self) {
        StoreLock lock(&self);
        self.establishCrd(name);
      });
    }
  }
}

void ApiServer::Impl::afterRemove(const ResourceType& type, const nlohmann::json& removed) {
  const std::string& g = type.group;
  const std::string& r = type.resource;
  if (g.empty() && r == "services") releaseServiceAddresses(removed);
  if (g.empty() && r == "serviceaccounts" && deps.auth.tokens) {
    deps.auth.tokens->revokeServiceAccount(metaString(removed, "uid"));
  }
  if (g == "apiextensions.k8s.io") {
    std::string name = metaString(removed, "name");
    registry.removeCustomResource(name);
    terminatingCrds.erase(name);
    store.erase(Registry::crdStorageKey(removed));
    std::vector<WatcherPtr> gone;
    for (const auto& [id, w] : watchers) {
      if (w->type->crdName == name) gone.push_back(w);
    }
    for (const auto& w : gone) finishWatch(w);
  }
  if (g.empty() && r == "namespaces") terminatingNamespaces.erase(metaString(removed, "name"));
  if (opts.simulation.garbageCollector) scheduleGc();
  std::string ns = metaString(removed, "namespace");
  if (!ns.empty() && terminatingNamespaces.count(ns)) scheduleNamespaceCleanup(ns);
  if (type.custom && terminatingCrds.count(type.crdName)) scheduleCrdCleanup(type.crdName);
}

void ApiServer::Impl::onNamespaceCreated(const std::string& ns) {
  systemWrite(*builtin("", "serviceaccounts"),
              {{"metadata", {{"name", "default"}, {"namespace", ns}}}}, kControllerManager, "");
  systemWrite(
      *builtin("", "configmaps"),
      {{"metadata",
        {{"name", "kube-root-ca.crt"},
         {"namespace", ns},
         {"annotations",
          {{"kubernetes.io/description",
            "Contains a CA bundle that can be used to verify the kube-apiserver when using "
            "internal endpoints such as the internal service IP or kubernetes.default.svc. No "
            "other usage is guaranteed across distributions of Kubernetes clusters."}}}}},
       {"data", {{"ca.crt", opts.rootCaPem}}}},
      kControllerManager, "");
}

void ApiServer::Impl::scheduleNamespaceCleanup(const std::string& ns) {
  bool fresh = terminatingNamespaces.insert(ns).second;
  (void)fresh;
  post(std::chrono::milliseconds(0), [ns](Impl& self) {
    StoreLock lock(&self);
    self.cleanupNamespace(ns);
  });
}

void ApiServer::Impl::cleanupNamespace(const std::string& ns) {
  auto nsType = builtin("", "namespaces");
  auto nsObj = find(nsType->storageKey, objectKey("", ns));
  if (!nsObj || metaString(*nsObj, "deletionTimestamp").empty()) {
    terminatingNamespaces.erase(ns);
    return;
  }
  std::vector<std::pair<ResourceTypePtr, std::pair<std::string, ObjPtr>>> victims;
  bool remaining = false;
  for (const auto& [storageKey, bucket] : store) {
    auto type = typeForStorageKey(storageKey);
    if (!type || !type->namespaced) continue;
    for (auto it = bucket.lower_bound(ns + "/");
         it != bucket.end() && it->first.compare(0, ns.size() + 1, ns + "/") == 0; ++it) {
      remaining = true;
      if (metaString(*it->second, "deletionTimestamp").empty())
        victims.push_back({type, {it->first, it->second}});
    }
  }
  // Deleting content may re-enter scheduleNamespaceCleanup through afterRemove; that only posts
  // another (idempotent) pass.
  for (const auto& [type, entry] : victims) {
    auto cur = find(type->storageKey, entry.first);
    if (cur) deleteObject(*type, entry.first, cur, "Background");
  }
  if (remaining) {
    remaining = false;
    for (const auto& [storageKey, bucket] : store) {
      auto type = typeForStorageKey(storageKey);
      if (!type || !type->namespaced) continue;
      auto it = bucket.lower_bound(ns + "/");
      if (it != bucket.end() && it->first.compare(0, ns.size() + 1, ns + "/") == 0)
        remaining = true;
    }
  }
  if (remaining) return;  // objects with finalizers: finish when they go (afterRemove)
  nsObj = find(nsType->storageKey, objectKey("", ns));
  if (!nsObj) return;
  nlohmann::json last = *nsObj;
  if (last.contains("spec") && last["spec"].is_object())
    last["spec"]["finalizers"] = nlohmann::json::array();
  const auto& metaFinalizers = metadataOf(last).value("finalizers", nlohmann::json::array());
  if (metaFinalizers.is_array() && !metaFinalizers.empty()) {
    if (last != *nsObj) put(*nsType, objectKey("", ns), std::move(last), nsObj);
    return;
  }
  remove(*nsType, objectKey("", ns), std::make_shared<const nlohmann::json>(std::move(last)));
}

void ApiServer::Impl::scheduleCrdCleanup(const std::string& name) {
  terminatingCrds.insert(name);
  post(std::chrono::milliseconds(0), [name](Impl& self) {
    StoreLock lock(&self);
    self.cleanupCrd(name);
  });
}

void ApiServer::Impl::cleanupCrd(const std::string& name) {
  auto crdType = builtin("apiextensions.k8s.io", "customresourcedefinitions");
  std::string key = objectKey("", name);
  auto crd = find(crdType->storageKey, key);
  if (!crd || metaString(*crd, "deletionTimestamp").empty()) {
    terminatingCrds.erase(name);
    return;
  }
  std::string storageKey = Registry::crdStorageKey(*crd);
  ResourceTypePtr crType;
  for (const auto& t : registry.all()) {
    if (t->crdName == name) crType = t;
  }
  if (crType) {
    std::vector<std::pair<std::string, ObjPtr>> victims;
    auto b = store.find(storageKey);
    if (b != store.end()) {
      for (const auto& [k, obj] : b->second) {
        if (metaString(*obj, "deletionTimestamp").empty()) victims.push_back({k, obj});
      }
    }
    for (const auto& [k, obj] : victims) {
      auto cur = find(storageKey, k);
      if (cur) deleteObject(*crType, k, cur, "Background");
    }
    if (store.count(storageKey)) return;  // instances with finalizers remain
  }
  crd = find(crdType->storageKey, key);
  if (!crd) return;
  nlohmann::json next = *crd;
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& f : metadataOf(next).value("finalizers", nlohmann::json::array())) {
    if (f != "customresourcecleanup.apiextensions.k8s.io") kept.push_back(f);
  }
  if (kept.empty()) {
    next["metadata"].erase("finalizers");
    remove(*crdType, key, std::make_shared<const nlohmann::json>(std::move(next)));
  } else {
    next["metadata"]["finalizers"] = kept;
    put(*crdType, key, std::move(next), crd);
  }
}

void ApiServer::Impl::scheduleGc() {
  if (gcScheduled) return;
  gcScheduled = true;
  post(std::chrono::milliseconds(0), [](Impl& self) {
    StoreLock lock(&self);
    self.collectGarbage();
  });
}

void ApiServer::Impl::collectGarbage() {
  gcScheduled = false;
  std::vector<std::tuple<ResourceTypePtr, std::string, ObjPtr>> orphans;
  for (const auto& [storageKey, bucket] : store) {
    ResourceTypePtr type;
    for (const auto& [key, obj] : bucket) {
      const auto& meta = metadataOf(*obj);
      auto refs = meta.find("ownerReferences");
      if (refs == meta.end() || !refs->is_array() || refs->empty()) continue;
      if (!meta.value("deletionTimestamp", "").empty()) continue;
      bool ownerAlive = false;
      for (const auto& ref : *refs) {
        if (ref.is_object() && uids.count(ref.value("uid", ""))) ownerAlive = true;
      }
      if (ownerAlive) continue;
      if (!type) type = typeForStorageKey(storageKey);
      if (type) orphans.emplace_back(type, key, obj);
    }
  }
  for (const auto& [type, key, obj] : orphans) {
    auto cur = find(type->storageKey, key);
    if (cur == obj) deleteObject(*type, key, cur, "Background");
  }
}

void ApiServer::Impl::scheduleDeployment(const std::string& key, std::int64_t generation) {
  auto delay = opts.simulation.deploymentReadyDelay;
  if (delay.count() <= 0) {
    deploymentProgress(key, true);
    return;
  }
  deploymentProgress(key, false);
  post(delay, [key, generation](Impl& self) {
    StoreLock lock(&self);
    auto cur = self.find("apps/deployments", key);
    if (!cur) return;
    auto gen = metadataOf(*cur).value("generation", nlohmann::json(0));
    if (!gen.is_number_integer() || gen.get<std::int64_t>() != generation)
      return;  // a newer spec has its own timer
    self.deploymentProgress(key, true);
  });
}

void ApiServer::Impl::deploymentProgress(const std::string& key, bool done) {
  auto type = builtin("apps", "deployments");
  auto cur = find(type->storageKey, key);
  if (!cur || !metaString(*cur, "deletionTimestamp").empty()) return;
  nlohmann::json view = toView(*type, *cur);
  const auto& spec = view.value("spec", nlohmann::json::object());
  std::int64_t replicas =
      spec.is_object() && spec.contains("replicas") && spec["replicas"].is_number_integer()
          ? spec["replicas"].get<std::int64_t>()
          : 1;
  std::string ts = formatTimestamp(now());
  std::string name = metaString(view, "name");
  std::string rs =
      name + "-" +
      templateHash(spec.is_object() ? spec.value("template", nlohmann::json()) : nlohmann::json());
  nlohmann::json previous = view.contains("status") && view["status"].is_object()
                                ? view["status"].value("conditions", nlohmann::json::array())
                                : nlohmann::json::array();
  nlohmann::json status = {{"observedGeneration", metadataOf(view).value("generation", 1)}};
  if (done) {
    if (replicas > 0) {
      status["replicas"] = replicas;
      status["updatedReplicas"] = replicas;
      status["readyReplicas"] = replicas;
      status["availableReplicas"] = replicas;
    }
    status["conditions"] = {
        condition("Available", "True", "MinimumReplicasAvailable",
                  "Deployment has minimum availability.", ts, previous, true),
        condition("Progressing", "True", "NewReplicaSetAvailable",
                  "ReplicaSet \"" + rs + "\" has successfully progressed.", ts, previous, true)};
  } else {
    if (replicas > 0) {
      status["replicas"] = replicas;
      status["updatedReplicas"] = replicas;
      status["unavailableReplicas"] = replicas;
    }
    status["conditions"] = {
        condition("Available", "False", "MinimumReplicasUnavailable",
                  "Deployment does not have minimum availability.", ts, previous, true),
        condition("Progressing", "True", "ReplicaSetUpdated",
                  "ReplicaSet \"" + rs + "\" is progressing.", ts, previous, true)};
  }
  view["status"] = status;
  systemWrite(*type, std::move(view), kControllerManager, "status");
}

void ApiServer::Impl::establishCrd(const std::string& name) {
  auto type = builtin("apiextensions.k8s.io", "customresourcedefinitions");
  auto cur = find(type->storageKey, objectKey("", name));
  if (!cur || !metaString(*cur, "deletionTimestamp").empty()) return;
  nlohmann::json view = toView(*type, *cur);
  std::string ts = formatTimestamp(now());
  nlohmann::json names = view.contains("spec") && view["spec"].is_object()
                             ? view["spec"].value("names", nlohmann::json::object())
                             : nlohmann::json::object();
  nlohmann::json previous = view.contains("status") && view["status"].is_object()
                                ? view["status"].value("conditions", nlohmann::json::array())
                                : nlohmann::json::array();
  view["status"]["conditions"] = {
      condition("NamesAccepted", "True", "NoConflicts", "no conflicts found", ts, previous, false),
      condition("Established", "True", "InitialNamesAccepted",
                "the initial names have been accepted", ts, previous, false)};
  view["status"]["acceptedNames"] = names;
  systemWrite(*type, std::move(view), kApiServerManager, "status");
}

}  // namespace rio::testenv
