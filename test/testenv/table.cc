#include "test/testenv/table.h"

#include <functional>

#include "test/testenv/json_path.h"
#include "test/testenv/object_util.h"

namespace rio::testenv {
namespace {

const char kNameDescription[] =
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is "
    "primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const char kAgeDescription[] =
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set "
    "this value. "
    "It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null "
    "for lists. "
    "More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

struct Column {
  std::string name;
  std::string type = "string";
  std::string format;
  std::string description;
  int priority = 0;
  std::function<nlohmann::json(const nlohmann::json& obj, WallTime now)> cell;
};

const nlohmann::json& at(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

long long intAt(const nlohmann::json& obj, const char* key) {
  const auto& v = at(obj, key);
  return v.is_number_integer() ? v.get<long long>() : 0;
}

std::string age(const std::string& ts, WallTime now) {
  auto t = parseTimestamp(ts);
  if (!t) return "<unknown>";
  return humanDuration(now - *t);
}

Column nameColumn() {
  return {"Name",
          "string",
          "name",
          kNameDescription,
          0,
          [](const nlohmann::json& o, WallTime) { return nlohmann::json(metaString(o, "name")); }};
}

Column ageColumn() {
  return {"Age", "string", "", kAgeDescription, 0, [](const nlohmann::json& o, WallTime now) {
            return nlohmann::json(age(metaString(o, "creationTimestamp"), now));
          }};
}

Column createdAtColumn() {
  return {"Created At", "date", "", kAgeDescription, 0, [](const nlohmann::json& o, WallTime) {
            return nlohmann::json(metaString(o, "creationTimestamp"));
          }};
}

Column col(std::string name, std::string description,
           std::function<nlohmann::json(const nlohmann::json&)> fn, int priority = 0,
           std::string type = "string") {
  return {std::move(name),
          std::move(type),
          "",
          std::move(description),
          priority,
          [fn = std::move(fn)](const nlohmann::json& o, WallTime) { return fn(o); }};
}

std::string joinStrings(const std::vector<std::string>& parts, const std::string& sep = ",") {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string selectorText(const nlohmann::json& sel) {
  if (!sel.is_object() || sel.empty()) return "<none>";
  std::vector<std::string> parts;
  for (const auto& [k, v] : sel.items())
    parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  return joinStrings(parts);
}

std::string labelSelectorText(const nlohmann::json& sel) {
  if (!sel.is_object()) return "<none>";
  std::vector<std::string> parts;
  for (const auto& [k, v] : at(sel, "matchLabels").items()) {
    parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  }
  const auto& exprs = at(sel, "matchExpressions");
  if (exprs.is_array()) {
    for (const auto& e : exprs) {
      std::string op = stringAt(e, "operator");
      std::string key = stringAt(e, "key");
      std::vector<std::string> vals;
      if (at(e, "values").is_array()) {
        for (const auto& v : e["values"])
          vals.push_back(v.is_string() ? v.get<std::string>() : v.dump());
      }
      if (op == "In")
        parts.push_back(key + " in (" + joinStrings(vals) + ")");
      else if (op == "NotIn")
        parts.push_back(key + " notin (" + joinStrings(vals) + ")");
      else if (op == "Exists")
        parts.push_back(key);
      else if (op == "DoesNotExist")
        parts.push_back("!" + key);
    }
  }
  return parts.empty() ? "<none>" : joinStrings(parts);
}

std::vector<Column> builtinColumns(const ResourceType& t) {
  const std::string& g = t.group;
  const std::string& r = t.resource;
  if (g.empty() && r == "configmaps") {
    return {nameColumn(),
            col("Data",
                "Data contains the configuration data. Each key must consist of alphanumeric "
                "characters, '-', '_' or "
                "'.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys "
                "stored in Data "
                "must not overlap with the keys in the BinaryData field, this is enforced during "
                "validation process.",
                [](const nlohmann::json& o) {
                  std::size_t n = 0;
                  if (at(o, "data").is_object()) n += o["data"].size();
                  if (at(o, "binaryData").is_object()) n += o["binaryData"].size();
                  return nlohmann::json(n);
                }),
            ageColumn()};
  }
  if (g.empty() && r == "secrets") {
    return {nameColumn(),
            col("Type", "Used to facilitate programmatic handling of secret data.",
                [](const nlohmann::json& o) { return nlohmann::json(stringAt(o, "type")); }),
            col("Data", "Contains the secret data.",
                [](const nlohmann::json& o) {
                  return nlohmann::json(at(o, "data").is_object() ? o["data"].size() : 0);
                }),
            ageColumn()};
  }
  if (g.empty() && r == "namespaces") {
    return {nameColumn(),
            col("Status", "The status of the namespace",
                [](const nlohmann::json& o) {
                  return nlohmann::json(stringAt(at(o, "status"), "phase"));
                }),
            ageColumn()};
  }
  if (g.empty() && r == "serviceaccounts") {
    return {
        nameColumn(),
        col("Secrets",
            "Secrets is a list of the secrets in the same namespace that pods running using this "
            "ServiceAccount are allowed to use.",
            [](const nlohmann::json& o) {
              return nlohmann::json(at(o, "secrets").is_array() ? o["secrets"].size() : 0);
            }),
        ageColumn()};
  }
  if (g.empty() && r == "services") {
    return {nameColumn(),
            col("Type", "type determines how the Service is exposed.",
                [](const nlohmann::json& o) {
                  return nlohmann::json(stringAt(at(o, "spec"), "type"));
                }),
            col("Cluster-IP", "clusterIP is the IP address of the service.",
                [](const nlohmann::json& o) {
                  std::string ip = stringAt(at(o, "spec"), "clusterIP");
                  return nlohmann::json(ip.empty() ? "<none>" : ip);
                }),
            col("External-IP",
                "List of IP addresses for which nodes in the cluster will also accept traffic.",
                [](const nlohmann::json& o) {
                  const auto& spec = at(o, "spec");
                  std::vector<std::string> ips;
                  const auto& ingress = at(at(at(o, "status"), "loadBalancer"), "ingress");
                  if (ingress.is_array()) {
                    for (const auto& i : ingress) {
                      std::string ip = stringAt(i, "ip");
                      if (ip.empty()) ip = stringAt(i, "hostname");
                      if (!ip.empty()) ips.push_back(ip);
                    }
                  }
                  if (at(spec, "externalIPs").is_array()) {
                    for (const auto& ip : spec["externalIPs"]) {
                      if (ip.is_string()) ips.push_back(ip.get<std::string>());
                    }
                  }
                  std::string type = stringAt(spec, "type");
                  if (type == "ExternalName") return nlohmann::json(stringAt(spec, "externalName"));
                  if (ips.empty())
                    return nlohmann::json(type == "LoadBalancer" ? "<pending>" : "<none>");
                  return nlohmann::json(joinStrings(ips));
                }),
            col("Port(s)", "The list of ports that are exposed by this service.",
                [](const nlohmann::json& o) {
                  std::vector<std::string> parts;
                  const auto& ports = at(at(o, "spec"), "ports");
                  if (ports.is_array()) {
                    for (const auto& p : ports) {
                      std::string s = std::to_string(intAt(p, "port"));
                      if (intAt(p, "nodePort") != 0)
                        s += ":" + std::to_string(intAt(p, "nodePort"));
                      parts.push_back(s + "/" + stringAt(p, "protocol"));
                    }
                  }
                  return nlohmann::json(parts.empty() ? "<none>" : joinStrings(parts));
                }),
            ageColumn(),
            col(
                "Selector",
                "Route service traffic to pods with label keys and values matching this selector.",
                [](const nlohmann::json& o) {
                  return nlohmann::json(selectorText(at(at(o, "spec"), "selector")));
                },
                1)};
  }
  if (g.empty() && r == "endpoints") {
    return {
        nameColumn(),
        col("Endpoints", "Endpoints of the service",
            [](const nlohmann::json& o) {
              std::vector<std::string> eps;
              const auto& subsets = at(o, "subsets");
              if (subsets.is_array()) {
                for (const auto& s : subsets) {
                  const auto& addrs = at(s, "addresses");
                  const auto& ports = at(s, "ports");
                  if (!addrs.is_array()) continue;
                  for (const auto& a : addrs) {
                    if (ports.is_array() && !ports.empty()) {
                      for (const auto& p : ports)
                        eps.push_back(stringAt(a, "ip") + ":" + std::to_string(intAt(p, "port")));
                    } else {
                      eps.push_back(stringAt(a, "ip"));
                    }
                  }
                }
              }
              if (eps.empty()) return nlohmann::json("<none>");
              std::string text;
              for (std::size_t i = 0; i < eps.size() && i < 3; ++i) text += (i ? "," : "") + eps[i];
              if (eps.size() > 3) text += " + " + std::to_string(eps.size() - 3) + " more...";
              return nlohmann::json(text);
            }),
        ageColumn()};
  }
  if (g == "discovery.k8s.io" && r == "endpointslices") {
    return {nameColumn(),
            col("AddressType", "The IP protocol for this slice",
                [](const nlohmann::json& o) { return nlohmann::json(stringAt(o, "addressType")); }),
            col("Ports", "The ports for this slice",
                [](const nlohmann::json& o) {
                  std::vector<std::string> parts;
                  if (at(o, "ports").is_array()) {
                    for (const auto& p : o["ports"])
                      parts.push_back(std::to_string(intAt(p, "port")));
                  }
                  return nlohmann::json(parts.empty() ? "<unset>" : joinStrings(parts));
                }),
            col("Endpoints", "Endpoints in this slice",
                [](const nlohmann::json& o) {
                  std::vector<std::string> parts;
                  if (at(o, "endpoints").is_array()) {
                    for (const auto& e : o["endpoints"]) {
                      if (!at(e, "addresses").is_array()) continue;
                      for (const auto& a : e["addresses"]) {
                        if (a.is_string()) parts.push_back(a.get<std::string>());
                      }
                    }
                  }
                  return nlohmann::json(parts.empty() ? "<unset>" : joinStrings(parts));
                }),
            ageColumn()};
  }
  if (g.empty() && r == "nodes") {
    return {
        nameColumn(),
        col("Status", "The status of the node",
            [](const nlohmann::json& o) {
              std::string status = "Unknown";
              const auto& conds = at(at(o, "status"), "conditions");
              if (conds.is_array()) {
                for (const auto& c : conds) {
                  if (stringAt(c, "type") == "Ready")
                    status = stringAt(c, "status") == "True" ? "Ready" : "NotReady";
                }
              }
              if (at(at(o, "spec"), "unschedulable").is_boolean() &&
                  o["spec"]["unschedulable"].get<bool>()) {
                status += ",SchedulingDisabled";
              }
              return nlohmann::json(status);
            }),
        col("Roles", "The roles of the node",
            [](const nlohmann::json& o) {
              std::vector<std::string> roles;
              for (const auto& [k, v] : labelsOf(o)) {
                const std::string prefix = "node-role.kubernetes.io/";
                if (k.rfind(prefix, 0) == 0 && k.size() > prefix.size())
                  roles.push_back(k.substr(prefix.size()));
              }
              return nlohmann::json(roles.empty() ? "<none>" : joinStrings(roles));
            }),
        ageColumn(),
        col("Version", "Kubelet Version reported by the node.",
            [](const nlohmann::json& o) {
              return nlohmann::json(stringAt(at(at(o, "status"), "nodeInfo"), "kubeletVersion"));
            }),
        col(
            "Internal-IP", "List of addresses reachable to the node.",
            [](const nlohmann::json& o) {
              const auto& addrs = at(at(o, "status"), "addresses");
              if (addrs.is_array()) {
                for (const auto& a : addrs) {
                  if (stringAt(a, "type") == "InternalIP")
                    return nlohmann::json(stringAt(a, "address"));
                }
              }
              return nlohmann::json("<none>");
            },
            1),
        col(
            "OS-Image", "OS Image reported by the node.",
            [](const nlohmann::json& o) {
              return nlohmann::json(stringAt(at(at(o, "status"), "nodeInfo"), "osImage"));
            },
            1)};
  }
  if (g.empty() && r == "pods") {
    return {nameColumn(),
            col("Ready", "The aggregate readiness state of this pod for accepting traffic.",
                [](const nlohmann::json& o) {
                  std::size_t total = at(at(o, "spec"), "containers").is_array()
                                          ? o["spec"]["containers"].size()
                                          : 0;
                  std::size_t ready = 0;
                  const auto& statuses = at(at(o, "status"), "containerStatuses");
                  if (statuses.is_array()) {
                    for (const auto& s : statuses) {
                      if (at(s, "ready").is_boolean() && s["ready"].get<bool>()) ++ready;
                    }
                  }
                  return nlohmann::json(std::to_string(ready) + "/" + std::to_string(total));
                }),
            col("Status", "The aggregate status of the containers in this pod.",
                [](const nlohmann::json& o) {
                  std::string reason = stringAt(at(o, "status"), "reason");
                  if (reason.empty()) reason = stringAt(at(o, "status"), "phase");
                  if (!metaString(o, "deletionTimestamp").empty()) reason = "Terminating";
                  return nlohmann::json(reason.empty() ? "Unknown" : reason);
                }),
            col(
                "Restarts", "The number of times the containers in this pod have been restarted.",
                [](const nlohmann::json& o) {
                  long long restarts = 0;
                  const auto& statuses = at(at(o, "status"), "containerStatuses");
                  if (statuses.is_array()) {
                    for (const auto& s : statuses) restarts += intAt(s, "restartCount");
                  }
                  return nlohmann::json(restarts);
                },
                0, "string"),
            ageColumn(),
            col(
                "IP", "IP address allocated to the pod. Routable at least within the cluster.",
                [](const nlohmann::json& o) {
                  std::string ip = stringAt(at(o, "status"), "podIP");
                  return nlohmann::json(ip.empty() ? "<none>" : ip);
                },
                1),
            col(
                "Node", "The node this pod is scheduled on.",
                [](const nlohmann::json& o) {
                  std::string n = stringAt(at(o, "spec"), "nodeName");
                  return nlohmann::json(n.empty() ? "<none>" : n);
                },
                1)};
  }
  if (g == "apps" && r == "deployments") {
    return {
        nameColumn(),
        col("Ready", "Number of the pod with ready state",
            [](const nlohmann::json& o) {
              return nlohmann::json(std::to_string(intAt(at(o, "status"), "readyReplicas")) + "/" +
                                    std::to_string(intAt(at(o, "spec"), "replicas")));
            }),
        col(
            "Up-to-date",
            "Total number of non-terminated pods targeted by this deployment that have the "
            "desired template spec.",
            [](const nlohmann::json& o) {
              return nlohmann::json(intAt(at(o, "status"), "updatedReplicas"));
            },
            0, "integer"),
        col(
            "Available",
            "Total number of available pods (ready for at least minReadySeconds) targeted by this "
            "deployment.",
            [](const nlohmann::json& o) {
              return nlohmann::json(intAt(at(o, "status"), "availableReplicas"));
            },
            0, "integer"),
        ageColumn(),
        col(
            "Containers", "Names of each container in the template.",
            [](const nlohmann::json& o) {
              std::vector<std::string> names;
              const auto& cs = at(at(at(at(o, "spec"), "template"), "spec"), "containers");
              if (cs.is_array()) {
                for (const auto& c : cs) names.push_back(stringAt(c, "name"));
              }
              return nlohmann::json(joinStrings(names));
            },
            1),
        col(
            "Images", "Images referenced by each container in the template.",
            [](const nlohmann::json& o) {
              std::vector<std::string> images;
              const auto& cs = at(at(at(at(o, "spec"), "template"), "spec"), "containers");
              if (cs.is_array()) {
                for (const auto& c : cs) images.push_back(stringAt(c, "image"));
              }
              return nlohmann::json(joinStrings(images));
            },
            1),
        col(
            "Selector",
            "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be "
            "the ones affected by this deployment.",
            [](const nlohmann::json& o) {
              return nlohmann::json(labelSelectorText(at(at(o, "spec"), "selector")));
            },
            1)};
  }
  if (r == "events" && (g.empty() || g == "events.k8s.io")) {
    bool v1 = g == "events.k8s.io";
    return {
        Column{"Last Seen", "string", "", "Time when this Event was last seen", 0,
               [v1](const nlohmann::json& o, WallTime now) {
                 // series.lastObservedTime, else lastTimestamp, else eventTime, else creation.
                 std::string ts = stringAt(at(o, "series"), "lastObservedTime");
                 if (ts.empty()) ts = stringAt(o, v1 ? "deprecatedLastTimestamp" : "lastTimestamp");
                 if (ts.empty()) ts = stringAt(o, "eventTime");
                 if (ts.empty()) ts = metaString(o, "creationTimestamp");
                 return nlohmann::json(age(ts, now));
               }},
        col("Type", "Type of this event (Normal, Warning), new types could be added in the future.",
            [](const nlohmann::json& o) { return nlohmann::json(stringAt(o, "type")); }),
        col("Reason", "Reason is why the action was taken. It is human-readable.",
            [](const nlohmann::json& o) { return nlohmann::json(stringAt(o, "reason")); }),
        col("Object", "The object that this event is about. Mapped to v1.Event.InvolvedObject.",
            [v1](const nlohmann::json& o) {
              const auto& ref = at(o, v1 ? "regarding" : "involvedObject");
              std::string kind = stringAt(ref, "kind");
              for (auto& c : kind)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
              return nlohmann::json(kind + "/" + stringAt(ref, "name"));
            }),
        col("Message", "A human-readable description of the status of this operation.",
            [v1](const nlohmann::json& o) {
              return nlohmann::json(stringAt(o, v1 ? "note" : "message"));
            })};
  }
  if (g == "coordination.k8s.io" && r == "leases") {
    return {nameColumn(),
            col("Holder", "The holder of the lease",
                [](const nlohmann::json& o) {
                  return nlohmann::json(stringAt(at(o, "spec"), "holderIdentity"));
                }),
            ageColumn()};
  }
  if (g == "rbac.authorization.k8s.io" && (r == "rolebindings" || r == "clusterrolebindings")) {
    auto subjects = [](const char* kind) {
      return [kind](const nlohmann::json& o) {
        std::vector<std::string> names;
        if (at(o, "subjects").is_array()) {
          for (const auto& s : o["subjects"]) {
            if (stringAt(s, "kind") != kind) continue;
            std::string n = stringAt(s, "name");
            if (std::string(kind) == "ServiceAccount") n = stringAt(s, "namespace") + "/" + n;
            names.push_back(n);
          }
        }
        return nlohmann::json(joinStrings(names, ", "));
      };
    };
    return {nameColumn(),
            col("Role", "Role",
                [](const nlohmann::json& o) {
                  return nlohmann::json(stringAt(at(o, "roleRef"), "kind") + "/" +
                                        stringAt(at(o, "roleRef"), "name"));
                }),
            ageColumn(),
            col("Users", "Users in the roleBinding", subjects("User"), 1),
            col("Groups", "Groups in the roleBinding", subjects("Group"), 1),
            col("ServiceAccounts", "ServiceAccounts in the roleBinding", subjects("ServiceAccount"),
                1)};
  }
  if (g == "admissionregistration.k8s.io") {
    return {nameColumn(),
            col(
                "Webhooks", "Webhooks indicates the number of webhooks in the configuration",
                [](const nlohmann::json& o) {
                  return nlohmann::json(at(o, "webhooks").is_array() ? o["webhooks"].size() : 0);
                },
                0, "integer"),
            ageColumn()};
  }
  return {nameColumn(), createdAtColumn()};
}

std::vector<Column> customColumns(const ResourceType& t) {
  std::vector<Column> cols = {nameColumn()};
  if (!t.printerColumns.is_array() || t.printerColumns.empty()) {
    cols.push_back(ageColumn());
    return cols;
  }
  for (const auto& pc : t.printerColumns) {
    if (!pc.is_object()) continue;
    std::string name = stringAt(pc, "name");
    std::string type = stringAt(pc, "type");
    std::string path = stringAt(pc, "jsonPath");
    std::string description = stringAt(pc, "description");
    if (description.empty())
      description = "Custom resource definition column (in JSONPath format): " + path;
    auto parsed = JsonPath::parse(path);
    std::shared_ptr<JsonPath> jp = parsed ? std::make_shared<JsonPath>(*parsed) : nullptr;
    Column c{name,
             type,
             stringAt(pc, "format"),
             description,
             at(pc, "priority").is_number_integer() ? pc["priority"].get<int>() : 0,
             [jp, type](const nlohmann::json& o, WallTime now) -> nlohmann::json {
               if (!jp) return nullptr;
               auto results = jp->evaluate(o);
               if (results.empty() || results.front().is_null()) return nullptr;
               const auto& v = results.front();
               if (type == "date") {
                 if (v.is_string()) return age(v.get<std::string>(), now);
                 return nullptr;
               }
               if (type == "string") {
                 if (v.is_string()) return v;
                 return v.dump();
               }
               return v;
             }};
    cols.push_back(std::move(c));
  }
  return cols;
}

}  // namespace

nlohmann::json partialObjectMetadata(const nlohmann::json& obj) {
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", metadataOf(obj)}};
}

nlohmann::json renderTable(const ResourceType& type, const std::vector<nlohmann::json>& objects,
                           const std::string& resourceVersion, WallTime now,
                           TableObjects includeObject, const nlohmann::json& listMeta) {
  std::vector<Column> cols = type.custom ? customColumns(type) : builtinColumns(type);
  nlohmann::json defs = nlohmann::json::array();
  for (const auto& c : cols) {
    defs.push_back({{"name", c.name},
                    {"type", c.type},
                    {"format", c.format},
                    {"description", c.description},
                    {"priority", c.priority}});
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& obj : objects) {
    nlohmann::json cells = nlohmann::json::array();
    for (const auto& c : cols) cells.push_back(c.cell(obj, now));
    nlohmann::json row = {{"cells", cells}};
    if (includeObject == TableObjects::kMetadata) row["object"] = partialObjectMetadata(obj);
    if (includeObject == TableObjects::kObject) row["object"] = obj;
    rows.push_back(std::move(row));
  }
  nlohmann::json meta = listMeta.is_object() ? listMeta : nlohmann::json::object();
  meta["resourceVersion"] = resourceVersion;
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", meta},
          {"columnDefinitions", defs},
          {"rows", rows}};
}

}  // namespace rio::testenv
