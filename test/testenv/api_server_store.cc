// ApiServer storage: objects keyed by namespace/name per resource, one resourceVersion counter,
// the bounded event history, views (Event conversion), field selectors and Service address
// allocation. Every function here runs with Impl::mu held.
#include "test/testenv/api_server_impl.h"
#include "test/testenv/defaults.h"
#include "test/testenv/ipv4.h"
#include "test/testenv/json_path.h"
#include "test/testenv/object_util.h"

namespace rio::testenv {
namespace {

thread_local const ApiServer::Impl* tlsHeld = nullptr;

const nlohmann::json& at(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string scalarText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

}  // namespace

const char* eventTypeName(EventType t) {
  switch (t) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
  }
  return "ERROR";
}

bool lockedByThisThread(const ApiServer::Impl* impl) { return tlsHeld == impl; }

StoreLock::StoreLock(const ApiServer::Impl* impl) : impl_(impl) { lock(); }
StoreLock::~StoreLock() { unlock(); }
void StoreLock::lock() {
  if (locked_) return;
  impl_->mu.lock();
  previous_ = tlsHeld;
  tlsHeld = impl_;
  locked_ = true;
}
void StoreLock::unlock() {
  if (!locked_) return;
  tlsHeld = previous_;
  locked_ = false;
  impl_->mu.unlock();
}

ObjPtr ApiServer::Impl::find(const std::string& storageKey, const std::string& key) const {
  auto b = store.find(storageKey);
  if (b == store.end()) return nullptr;
  auto it = b->second.find(key);
  return it == b->second.end() ? nullptr : it->second;
}

ObjPtr ApiServer::Impl::put(const ResourceType& type, const std::string& key, nlohmann::json object,
                            const ObjPtr& previous) {
  ++rv;
  object["metadata"]["resourceVersion"] = std::to_string(rv);
  auto stored = std::make_shared<const nlohmann::json>(std::move(object));
  store[type.storageKey][key] = stored;
  rbacChanged(type.storageKey);
  std::string uid = metaString(*stored, "uid");
  if (!uid.empty()) uids[uid] = {type.storageKey, key};
  record(
      {rv, previous ? EventType::kModified : EventType::kAdded, type.storageKey, stored, previous});
  return stored;
}

nlohmann::json ApiServer::Impl::remove(const ResourceType& type, const std::string& key,
                                       const ObjPtr& previous) {
  ++rv;
  nlohmann::json last = *previous;
  last["metadata"]["resourceVersion"] = std::to_string(rv);
  auto b = store.find(type.storageKey);
  if (b != store.end()) {
    b->second.erase(key);
    if (b->second.empty()) store.erase(b);
  }
  rbacChanged(type.storageKey);
  uids.erase(metaString(last, "uid"));
  auto finalState = std::make_shared<const nlohmann::json>(last);
  record({rv, EventType::kDeleted, type.storageKey, finalState, previous});
  afterRemove(type, last);
  return last;
}

void ApiServer::Impl::record(StoredEvent event) {
  history.push_back(event);
  while (history.size() > std::max<std::size_t>(opts.watchHistory, 1)) {
    historyFloor = history.front().rv;
    history.pop_front();
  }
  dispatch(history.back());
}

nlohmann::json ApiServer::Impl::toView(const ResourceType& type,
                                       const nlohmann::json& stored) const {
  nlohmann::json v;
  if (type.group == "events.k8s.io") {
    v = eventToEventsV1(stored);
  } else if (type.group.empty() && type.resource == "events") {
    v = eventCoreView(stored);
  } else {
    v = stored;
  }
  v["apiVersion"] = type.apiVersion();
  v["kind"] = type.kind;
  return v;
}

nlohmann::json ApiServer::Impl::toStorage(const ResourceType& type, nlohmann::json view) const {
  if (type.group == "events.k8s.io") return eventFromEventsV1(view);
  return view;
}

ResourceTypePtr ApiServer::Impl::typeForStorageKey(const std::string& storageKey) const {
  for (const auto& t : registry.all()) {
    if (t->storageKey == storageKey) return t;
  }
  return nullptr;
}

ResourceTypePtr ApiServer::Impl::builtin(const std::string& group,
                                         const std::string& resource) const {
  return registry.findAnyVersion(group, resource);
}

RbacObjects ApiServer::Impl::rbacObjects(const std::string& kind) const {
  std::string resource;
  if (kind == "Role")
    resource = "roles";
  else if (kind == "ClusterRole")
    resource = "clusterroles";
  else if (kind == "RoleBinding")
    resource = "rolebindings";
  else if (kind == "ClusterRoleBinding")
    resource = "clusterrolebindings";
  else
    return nullptr;
  auto collect = [&]() -> RbacObjects {
    // The kind's version only moves under this lock, with the store.
    const std::string storageKey = "rbac.authorization.k8s.io/" + resource;
    const auto v = rbacKindVersions.find(storageKey);
    const std::uint64_t version = v == rbacKindVersions.end() ? 0 : v->second;
    auto& cached = rbacLists[kind];
    if (cached.second && cached.first == version) return cached.second;
    // What RBAC resolution reads, not the whole object (managedFields and annotations are most
    // of it, and a list is made again after each write of its kind).
    static constexpr const char* kFields[] = {"rules", "aggregationRule", "roleRef", "subjects"};
    std::vector<nlohmann::json> out;
    if (auto b = store.find(storageKey); b != store.end()) {
      out.reserve(b->second.size());
      for (const auto& [key, obj] : b->second) {
        nlohmann::json o = {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", kind}};
        nlohmann::json& md = o["metadata"] = nlohmann::json::object();
        if (auto m = obj->find("metadata"); m != obj->end() && m->is_object()) {
          for (const char* field : {"name", "namespace", "labels"}) {
            if (auto f = m->find(field); f != m->end()) md[field] = *f;
          }
        }
        for (const char* field : kFields) {
          if (auto f = obj->find(field); f != obj->end()) o[field] = *f;
        }
        out.push_back(std::move(o));
      }
    }
    cached = {version, std::make_shared<const std::vector<nlohmann::json>>(std::move(out))};
    return cached.second;
  };
  if (lockedByThisThread(this)) return collect();
  StoreLock lock(this);
  return collect();
}

bool ApiServer::Impl::namespaceActive(const std::string& ns) const {
  auto obj = find("/namespaces", objectKey("", ns));
  return obj && metaString(*obj, "deletionTimestamp").empty();
}

std::optional<std::string> ApiServer::Impl::fieldValue(const ResourceType& type,
                                                       const nlohmann::json& obj,
                                                       const std::string& field) const {
  if (field == "metadata.name") return metaString(obj, "name");
  if (field == "metadata.namespace") return metaString(obj, "namespace");
  const std::string& g = type.group;
  const std::string& r = type.resource;
  auto path = [&](std::initializer_list<const char*> keys) -> std::string {
    const nlohmann::json* cur = &obj;
    for (const char* k : keys) {
      cur = &at(*cur, k);
    }
    return scalarText(*cur);
  };
  if (g.empty() && r == "secrets" && field == "type") return stringAt(obj, "type");
  if (g.empty() && r == "namespaces" && field == "status.phase") return path({"status", "phase"});
  if (g.empty() && r == "nodes" && field == "spec.unschedulable") {
    const auto& u = at(at(obj, "spec"), "unschedulable");
    return u.is_boolean() && u.get<bool>() ? "true" : "false";
  }
  if (g.empty() && r == "services") {
    if (field == "spec.clusterIP") return path({"spec", "clusterIP"});
    if (field == "spec.type") return path({"spec", "type"});
  }
  if (g.empty() && r == "pods") {
    if (field == "spec.nodeName") return path({"spec", "nodeName"});
    if (field == "spec.restartPolicy") return path({"spec", "restartPolicy"});
    if (field == "spec.schedulerName") return path({"spec", "schedulerName"});
    if (field == "spec.serviceAccountName") return path({"spec", "serviceAccountName"});
    if (field == "spec.hostNetwork") {
      const auto& h = at(at(obj, "spec"), "hostNetwork");
      return h.is_boolean() && h.get<bool>() ? "true" : "false";
    }
    if (field == "status.phase") return path({"status", "phase"});
    if (field == "status.podIP") return path({"status", "podIP"});
    if (field == "status.nominatedNodeName") return path({"status", "nominatedNodeName"});
  }
  if (r == "events" && (g.empty() || g == "events.k8s.io")) {
    // `obj` is the stored (core/v1) form.
    static const std::vector<std::string> kRefFields = {
        "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"};
    for (const auto& f : kRefFields) {
      if (field == "involvedObject." + f || field == "regarding." + f)
        return scalarText(at(at(obj, "involvedObject"), f.c_str()));
    }
    if (field == "reason") return stringAt(obj, "reason");
    if (field == "type") return stringAt(obj, "type");
    if (field == "reportingComponent" || field == "reportingController")
      return stringAt(obj, "reportingComponent");
    if (field == "source" || field == "deprecatedSource.component")
      return path({"source", "component"});
  }
  if (type.custom) {
    for (const auto& sf : type.selectableFields) {
      std::string name = sf.size() > 1 && sf[0] == '.' ? sf.substr(1) : sf;
      if (name != field) continue;
      auto jp = JsonPath::parse(sf);
      if (!jp) return std::string();
      auto values = jp->evaluate(obj);
      return values.empty() ? std::string() : scalarText(values.front());
    }
  }
  return std::nullopt;
}

Result<void> ApiServer::Impl::checkFieldSelector(const ResourceType& type,
                                                 const FieldSelector& selector) const {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  for (const auto& r : selector.requirements()) {
    // Probe with an empty object: nullopt means the field is not supported for this kind.
    if (!fieldValue(type, kEmpty, r.field)) {
      if (type.custom) {
        std::string known = "\"metadata.name\", \"metadata.namespace\"";
        for (const auto& sf : type.selectableFields)
          known += ", \"" + (sf.size() > 1 && sf[0] == '.' ? sf.substr(1) : sf) + "\"";
        return reject(
            errors::badRequest("\"" + r.field + "\" is not a known field selector: only " + known));
      }
      return reject(errors::badRequest("field label not supported: " + r.field));
    }
  }
  return {};
}

Result<void> ApiServer::Impl::allocateServiceAddresses(nlohmann::json& svc,
                                                       const nlohmann::json* current,
                                                       bool dryRun) {
  auto& spec = svc["spec"];
  std::string type = stringAt(spec, "type");
  std::string name = metaString(svc, "name");
  if (type == "ExternalName") {
    spec.erase("clusterIP");
    spec.erase("clusterIPs");
    spec.erase("ipFamilies");
    spec.erase("ipFamilyPolicy");
    if (current) releaseServiceAddresses(*current);
    return {};
  }
  std::string curIp = current ? stringAt(at(*current, "spec"), "clusterIP") : "";
  std::string want = stringAt(spec, "clusterIP");
  if (want.empty()) want = curIp;
  if (dryRun && (want.empty() || want == "None" || want == curIp)) return {};
  if (want.empty()) {
    if (serviceSize <= 3) return reject(errors::internal("the service CIDR is too small"));
    for (int attempt = 0; attempt < 1000; ++attempt) {
      // The first host address is the kubernetes Service's, the last is the broadcast address.
      std::uint32_t ip = serviceBase + 2 + static_cast<std::uint32_t>(rng() % (serviceSize - 3));
      if (!allocatedIps.count(ip)) {
        allocatedIps.insert(ip);
        want = ipv4String(ip);
        break;
      }
    }
    if (want.empty()) {
      return reject(errors::internal("failed to allocate a serviceIP: range is full"));
    }
  } else if (want != "None" && want != curIp) {
    auto ip = parseIpv4(want);
    nlohmann::json list = nlohmann::json::array({want});
    if (!ip) {
      return reject(errors::invalid(
          "", "Service", name,
          {FieldError::invalid("spec.clusterIPs[0]", want,
                               "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")}));
    }
    if (*ip < serviceBase || *ip >= serviceBase + serviceSize) {
      return reject(errors::invalid(
          "", "Service", name,
          {FieldError::invalid("spec.clusterIPs", list,
                               "failed to allocate IP " + want + ": the provided IP (" + want +
                                   ") is not in the valid range. The range of valid IPs is " +
                                   opts.serviceCidr)}));
    }
    if (allocatedIps.count(*ip)) {
      return reject(errors::invalid(
          "", "Service", name,
          {FieldError::invalid(
              "spec.clusterIPs", list,
              "failed to allocate IP " + want + ": provided IP is already allocated")}));
    }
    if (dryRun) return {};
    allocatedIps.insert(*ip);
  }
  spec["clusterIP"] = want;
  spec["clusterIPs"] = nlohmann::json::array({want});
  if (!spec.contains("ipFamilies")) spec["ipFamilies"] = nlohmann::json::array({"IPv4"});
  if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
  if ((type == "NodePort" || type == "LoadBalancer") && spec.contains("ports") &&
      spec["ports"].is_array()) {
    for (auto& p : spec["ports"]) {
      if (p.contains("nodePort") && p["nodePort"].is_number_integer()) {
        allocatedNodePorts.insert(p["nodePort"].get<int>());
        continue;
      }
      for (int attempt = 0; attempt < 10000; ++attempt) {
        int port = 30000 + static_cast<int>(rng() % 2768);
        if (allocatedNodePorts.insert(port).second) {
          p["nodePort"] = port;
          break;
        }
      }
    }
  }
  return {};
}

void ApiServer::Impl::releaseServiceAddresses(const nlohmann::json& svc) {
  const auto& spec = at(svc, "spec");
  if (auto ip = parseIpv4(stringAt(spec, "clusterIP"))) allocatedIps.erase(*ip);
  const auto& ports = at(spec, "ports");
  if (ports.is_array()) {
    for (const auto& p : ports) {
      if (at(p, "nodePort").is_number_integer()) allocatedNodePorts.erase(p["nodePort"].get<int>());
    }
  }
}

void ApiServer::Impl::reindex() {
  uids.clear();
  allocatedIps.clear();
  allocatedNodePorts.clear();
  for (const auto& [storageKey, bucket] : store) {
    for (const auto& [key, obj] : bucket) {
      std::string uid = metaString(*obj, "uid");
      if (!uid.empty()) uids[uid] = {storageKey, key};
      if (storageKey == "/services") {
        if (auto ip = parseIpv4(stringAt(at(*obj, "spec"), "clusterIP"))) allocatedIps.insert(*ip);
        const auto& ports = at(at(*obj, "spec"), "ports");
        if (ports.is_array()) {
          for (const auto& p : ports) {
            if (at(p, "nodePort").is_number_integer())
              allocatedNodePorts.insert(p["nodePort"].get<int>());
          }
        }
      }
    }
  }
}

}  // namespace rio::testenv
