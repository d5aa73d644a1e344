#include "test/testenv/defaults.h"

#include "test/testenv/object_util.h"

namespace rio::testenv {
namespace {

void setIfMissing(nlohmann::json& obj, const char* key, nlohmann::json value) {
  if (!obj.is_object()) return;
  if (!obj.contains(key) || obj[key].is_null()) obj[key] = std::move(value);
}

bool imageIsLatest(const std::string& image) {
  if (image.find('@') != std::string::npos) return false;
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return true;
  return image.substr(colon + 1) == "latest";
}

void defaultProbe(nlohmann::json& probe) {
  if (!probe.is_object()) return;
  setIfMissing(probe, "timeoutSeconds", 1);
  setIfMissing(probe, "periodSeconds", 10);
  setIfMissing(probe, "successThreshold", 1);
  setIfMissing(probe, "failureThreshold", 3);
  if (probe.contains("httpGet") && probe["httpGet"].is_object()) {
    setIfMissing(probe["httpGet"], "path", "/");
    setIfMissing(probe["httpGet"], "scheme", "HTTP");
  }
}

void defaultContainer(nlohmann::json& c) {
  if (!c.is_object()) return;
  setIfMissing(c, "resources", nlohmann::json::object());
  setIfMissing(c, "terminationMessagePath", "/dev/termination-log");
  setIfMissing(c, "terminationMessagePolicy", "File");
  if (!c.contains("imagePullPolicy")) {
    c["imagePullPolicy"] = imageIsLatest(stringAt(c, "image")) ? "Always" : "IfNotPresent";
  }
  if (c.contains("ports") && c["ports"].is_array()) {
    for (auto& p : c["ports"]) setIfMissing(p, "protocol", "TCP");
  }
  if (c.contains("env") && c["env"].is_array()) {
    for (auto& e : c["env"]) {
      if (e.is_object() && e.contains("valueFrom") && e["valueFrom"].is_object() &&
          e["valueFrom"].contains("fieldRef") && e["valueFrom"]["fieldRef"].is_object()) {
        setIfMissing(e["valueFrom"]["fieldRef"], "apiVersion", "v1");
      }
    }
  }
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    if (c.contains(probe)) defaultProbe(c[probe]);
  }
}

void defaultVolumes(nlohmann::json& spec) {
  if (!spec.contains("volumes") || !spec["volumes"].is_array()) return;
  for (auto& v : spec["volumes"]) {
    if (!v.is_object()) continue;
    for (const char* kind : {"secret", "configMap"}) {
      if (v.contains(kind) && v[kind].is_object()) setIfMissing(v[kind], "defaultMode", 420);
    }
    if (v.contains("projected") && v["projected"].is_object())
      setIfMissing(v["projected"], "defaultMode", 420);
  }
}

void defaultDeployment(nlohmann::json& obj) {
  if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = nlohmann::json::object();
  auto& spec = obj["spec"];
  setIfMissing(spec, "replicas", 1);
  if (!spec.contains("strategy") || !spec["strategy"].is_object())
    spec["strategy"] = nlohmann::json::object();
  auto& strategy = spec["strategy"];
  setIfMissing(strategy, "type", "RollingUpdate");
  if (strategy["type"] == "RollingUpdate") {
    if (!strategy.contains("rollingUpdate") || !strategy["rollingUpdate"].is_object()) {
      strategy["rollingUpdate"] = nlohmann::json::object();
    }
    setIfMissing(strategy["rollingUpdate"], "maxUnavailable", "25%");
    setIfMissing(strategy["rollingUpdate"], "maxSurge", "25%");
  }
  setIfMissing(spec, "revisionHistoryLimit", 10);
  setIfMissing(spec, "progressDeadlineSeconds", 600);
  if (!spec.contains("template") || !spec["template"].is_object())
    spec["template"] = nlohmann::json::object();
  auto& tmpl = spec["template"];
  if (!tmpl.contains("metadata") || !tmpl["metadata"].is_object())
    tmpl["metadata"] = nlohmann::json::object();
  if (!tmpl["metadata"].contains("creationTimestamp"))
    tmpl["metadata"]["creationTimestamp"] = nullptr;
  if (!tmpl.contains("spec") || !tmpl["spec"].is_object()) tmpl["spec"] = nlohmann::json::object();
  defaultPodSpec(tmpl["spec"]);
  if (!obj.contains("status")) obj["status"] = nlohmann::json::object();
}

void defaultService(nlohmann::json& obj) {
  if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = nlohmann::json::object();
  auto& spec = obj["spec"];
  setIfMissing(spec, "type", "ClusterIP");
  std::string type = stringAt(spec, "type");
  if (type != "ExternalName") {
    setIfMissing(spec, "sessionAffinity", "None");
    setIfMissing(spec, "internalTrafficPolicy", "Cluster");
  }
  if (type == "NodePort" || type == "LoadBalancer")
    setIfMissing(spec, "externalTrafficPolicy", "Cluster");
  if (type == "LoadBalancer") setIfMissing(spec, "allocateLoadBalancerNodePorts", true);
  if (spec.contains("ports") && spec["ports"].is_array()) {
    for (auto& p : spec["ports"]) {
      if (!p.is_object()) continue;
      setIfMissing(p, "protocol", "TCP");
      if (!p.contains("targetPort") && p.contains("port")) p["targetPort"] = p["port"];
    }
  }
}

void defaultWebhooks(nlohmann::json& obj, bool mutating) {
  if (!obj.contains("webhooks") || !obj["webhooks"].is_array()) return;
  for (auto& h : obj["webhooks"]) {
    if (!h.is_object()) continue;
    setIfMissing(h, "failurePolicy", "Fail");
    setIfMissing(h, "matchPolicy", "Equivalent");
    setIfMissing(h, "namespaceSelector", nlohmann::json::object());
    setIfMissing(h, "objectSelector", nlohmann::json::object());
    setIfMissing(h, "timeoutSeconds", 10);
    if (mutating) setIfMissing(h, "reinvocationPolicy", "Never");
    if (h.contains("clientConfig") && h["clientConfig"].is_object() &&
        h["clientConfig"].contains("service") && h["clientConfig"]["service"].is_object()) {
      setIfMissing(h["clientConfig"]["service"], "port", 443);
    }
    if (h.contains("rules") && h["rules"].is_array()) {
      for (auto& r : h["rules"]) setIfMissing(r, "scope", "*");
    }
  }
}

void defaultCrd(nlohmann::json& obj) {
  if (!obj.contains("spec") || !obj["spec"].is_object()) return;
  auto& spec = obj["spec"];
  if (spec.contains("names") && spec["names"].is_object()) {
    auto& names = spec["names"];
    std::string kind = stringAt(names, "kind");
    if (!kind.empty()) setIfMissing(names, "listKind", kind + "List");
    if (!names.contains("singular") && !kind.empty()) {
      std::string s = kind;
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      names["singular"] = s;
    }
  }
  setIfMissing(spec, "conversion", nlohmann::json{{"strategy", "None"}});
  setIfMissing(spec, "scope", "Namespaced");
}

void defaultBinding(nlohmann::json& obj) {
  if (!obj.contains("subjects") || !obj["subjects"].is_array()) return;
  for (auto& s : obj["subjects"]) {
    if (!s.is_object()) continue;
    std::string kind = stringAt(s, "kind");
    if (kind == "User" || kind == "Group") setIfMissing(s, "apiGroup", "rbac.authorization.k8s.io");
  }
}

}  // namespace

void defaultPodSpec(nlohmann::json& spec) {
  if (!spec.is_object()) return;
  for (const char* list : {"containers", "initContainers"}) {
    if (spec.contains(list) && spec[list].is_array()) {
      for (auto& c : spec[list]) defaultContainer(c);
    }
  }
  setIfMissing(spec, "restartPolicy", "Always");
  setIfMissing(spec, "terminationGracePeriodSeconds", 30);
  setIfMissing(spec, "dnsPolicy", "ClusterFirst");
  setIfMissing(spec, "securityContext", nlohmann::json::object());
  setIfMissing(spec, "schedulerName", "default-scheduler");
  defaultVolumes(spec);
}

void applySchemeDefaults(const ResourceType& type, nlohmann::json& obj) {
  if (!obj.is_object() || type.custom) return;
  const std::string& g = type.group;
  const std::string& r = type.resource;
  if (g.empty()) {
    if (r == "namespaces") {
      std::string name = metaString(obj, "name");
      if (!name.empty()) obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    } else if (r == "secrets") {
      setIfMissing(obj, "type", "Opaque");
    } else if (r == "services") {
      defaultService(obj);
    } else if (r == "pods") {
      if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = nlohmann::json::object();
      defaultPodSpec(obj["spec"]);
      setIfMissing(obj["spec"], "enableServiceLinks", true);
      setIfMissing(obj["spec"], "preemptionPolicy", "PreemptLowerPriority");
      setIfMissing(obj["spec"], "priority", 0);
    } else if (r == "endpoints") {
      if (obj.contains("subsets") && obj["subsets"].is_array()) {
        for (auto& s : obj["subsets"]) {
          if (s.is_object() && s.contains("ports") && s["ports"].is_array()) {
            for (auto& p : s["ports"]) setIfMissing(p, "protocol", "TCP");
          }
        }
      }
    }
  } else if (g == "apps" && r == "deployments") {
    defaultDeployment(obj);
  } else if (g == "admissionregistration.k8s.io") {
    defaultWebhooks(obj, r == "mutatingwebhookconfigurations");
  } else if (g == "apiextensions.k8s.io") {
    defaultCrd(obj);
  } else if (g == "rbac.authorization.k8s.io" &&
             (r == "rolebindings" || r == "clusterrolebindings")) {
    defaultBinding(obj);
  } else if (g == "discovery.k8s.io") {
    if (obj.contains("ports") && obj["ports"].is_array()) {
      for (auto& p : obj["ports"]) setIfMissing(p, "protocol", "TCP");
    }
  }
}

namespace {

// (events.k8s.io/v1 field, core/v1 field) pairs that only differ in name.
const std::vector<std::pair<const char*, const char*>> kEventRenames = {
    {"regarding", "involvedObject"},
    {"note", "message"},
    {"reportingController", "reportingComponent"},
    {"deprecatedSource", "source"},
    {"deprecatedFirstTimestamp", "firstTimestamp"},
    {"deprecatedLastTimestamp", "lastTimestamp"},
    {"deprecatedCount", "count"}};

}  // namespace

nlohmann::json eventFromEventsV1(const nlohmann::json& event) {
  nlohmann::json core = nlohmann::json::object();
  if (!event.is_object()) return core;
  for (const auto& [k, v] : event.items()) {
    bool renamed = false;
    for (const auto& [v1, c] : kEventRenames) {
      if (k == v1) {
        core[c] = v;
        renamed = true;
      }
    }
    if (!renamed) core[k] = v;
  }
  core["apiVersion"] = "v1";
  core["kind"] = "Event";
  return core;
}

nlohmann::json eventToEventsV1(const nlohmann::json& stored) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : stored.items()) {
    bool renamed = false;
    for (const auto& [v1, c] : kEventRenames) {
      if (k == c) {
        out[v1] = v;
        renamed = true;
      }
    }
    if (!renamed) out[k] = v;
  }
  out["apiVersion"] = "events.k8s.io/v1";
  out["kind"] = "Event";
  if (!out.contains("deprecatedSource")) out["deprecatedSource"] = nlohmann::json::object();
  if (!out.contains("deprecatedFirstTimestamp")) out["deprecatedFirstTimestamp"] = nullptr;
  if (!out.contains("deprecatedLastTimestamp")) out["deprecatedLastTimestamp"] = nullptr;
  if (!out.contains("eventTime")) out["eventTime"] = nullptr;
  if (out.contains("reportingInstance") && out["reportingInstance"] == "")
    out.erase("reportingInstance");
  if (out.contains("reportingController") && out["reportingController"] == "")
    out.erase("reportingController");
  if (out.contains("deprecatedCount") && out["deprecatedCount"] == 0) out.erase("deprecatedCount");
  return out;
}

nlohmann::json eventCoreView(const nlohmann::json& stored) {
  nlohmann::json out = stored;
  setIfMissing(out, "involvedObject", nlohmann::json::object());
  setIfMissing(out, "source", nlohmann::json::object());
  if (!out.contains("firstTimestamp")) out["firstTimestamp"] = nullptr;
  if (!out.contains("lastTimestamp")) out["lastTimestamp"] = nullptr;
  if (!out.contains("eventTime")) out["eventTime"] = nullptr;
  if (!out.contains("reportingComponent")) out["reportingComponent"] = "";
  if (!out.contains("reportingInstance")) out["reportingInstance"] = "";
  return out;
}

}  // namespace rio::testenv
