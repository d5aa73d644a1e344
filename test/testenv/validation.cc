#include "test/testenv/validation.h"

#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>

#include "test/testenv/name_syntax.h"
#include "test/testenv/object_util.h"
#include "test/testenv/selectors.h"

namespace rio::testenv {
namespace {

// A schema's `pattern`, compiled once per process (std::regex compiles slowly, and every write of
// a custom resource is validated); null when it does not compile, which validation ignores.
std::shared_ptr<const std::regex> compiledPattern(const std::string& pattern) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const std::regex>> compiled;
  std::lock_guard lock(mu);
  auto it = compiled.find(pattern);
  if (it != compiled.end()) return it->second;
  std::shared_ptr<const std::regex> re;
  try {
    re = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
  }
  return compiled.emplace(pattern, re).first->second;
}

const char kSubdomainMsg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    "is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const char kLabelMsg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation "
    "is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const char kDns1035Msg[] =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used "
    "for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const char kQualifiedNameMsg[] =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const char kLabelValueMsg[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
    "regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const char kConfigKeyMsg[] =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', "
    " or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

const nlohmann::json& at(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string idx(const std::string& base, std::size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

void checkPodSpec(const nlohmann::json& spec, const std::string& path, FieldErrors& errs) {
  const auto& containers = at(spec, "containers");
  if (!containers.is_array() || containers.empty()) {
    errs.push_back(FieldError::required(path + ".containers"));
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const auto& c = containers[i];
    std::string p = idx(path + ".containers", i);
    std::string name = stringAt(c, "name");
    if (name.empty()) {
      errs.push_back(FieldError::required(p + ".name"));
    } else {
      for (const auto& m : checkName(name, NameRule::kLabel))
        errs.push_back(FieldError::invalid(p + ".name", name, m));
      if (!names.insert(name).second) errs.push_back(FieldError::duplicate(p + ".name", name));
    }
    if (stringAt(c, "image").empty()) errs.push_back(FieldError::required(p + ".image"));
    const auto& ports = at(c, "ports");
    if (ports.is_array()) {
      for (std::size_t j = 0; j < ports.size(); ++j) {
        const auto& port = at(ports[j], "containerPort");
        if (!port.is_number_integer() || port.get<long long>() < 1 ||
            port.get<long long>() > 65535) {
          errs.push_back(FieldError::invalid(idx(p + ".ports", j) + ".containerPort",
                                             port.is_null() ? nlohmann::json(0) : port,
                                             "must be between 1 and 65535, inclusive"));
        }
      }
    }
  }
}

void checkRules(const nlohmann::json& rules, FieldErrors& errs) {
  if (rules.is_null()) return;
  if (!rules.is_array()) {
    errs.push_back(FieldError::invalid("rules", rules, "must be a list"));
    return;
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    std::string p = idx("rules", i);
    const auto& verbs = at(r, "verbs");
    if (!verbs.is_array() || verbs.empty()) {
      errs.push_back(FieldError::required(p + ".verbs", "verbs must contain at least one value"));
    }
    bool hasResources = at(r, "resources").is_array() && !at(r, "resources").empty();
    bool hasNonResource = at(r, "nonResourceURLs").is_array() && !at(r, "nonResourceURLs").empty();
    if (hasResources && hasNonResource) {
      errs.push_back(FieldError::invalid(
          p + ".nonResourceURLs", at(r, "nonResourceURLs"),
          "rules cannot apply to both regular resources and non-resource URLs"));
    }
    if (hasResources && (!at(r, "apiGroups").is_array() || at(r, "apiGroups").empty())) {
      errs.push_back(FieldError::required(p + ".apiGroups",
                                          "resource rules must supply at least one api group"));
    }
  }
}

}  // namespace

NameRule nameRuleFor(const ResourceType& type) {
  if (type.custom) return NameRule::kSubdomain;
  if (type.resource == "namespaces") return NameRule::kLabel;
  if (type.resource == "services") return NameRule::kDns1035;
  if (type.group == "rbac.authorization.k8s.io") return NameRule::kPathSegment;
  return NameRule::kSubdomain;
}

std::vector<std::string> checkName(const std::string& name, NameRule rule) {
  std::vector<std::string> out;
  switch (rule) {
    case NameRule::kSubdomain:
      if (name.size() > 253) out.push_back("must be no more than 253 characters");
      if (!syntax::isDns1123Subdomain(name)) out.push_back(kSubdomainMsg);
      break;
    case NameRule::kLabel:
      if (name.size() > 63) out.push_back("must be no more than 63 characters");
      if (!syntax::isDns1123Label(name)) out.push_back(kLabelMsg);
      break;
    case NameRule::kDns1035:
      if (name.size() > 63) out.push_back("must be no more than 63 characters");
      if (!syntax::isDns1035Label(name)) out.push_back(kDns1035Msg);
      break;
    case NameRule::kPathSegment:
      if (name == "." || name == "..") out.push_back("may not be '" + name + "'");
      if (name.find('/') != std::string::npos) out.push_back("may not contain '/'");
      if (name.find('%') != std::string::npos) out.push_back("may not contain '%'");
      break;
  }
  return out;
}

std::vector<std::string> checkQualifiedName(const std::string& key) {
  std::vector<std::string> out;
  auto slash = key.find('/');
  std::string name = key;
  if (slash != std::string::npos) {
    std::string prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty()) {
      out.push_back("prefix part must be non-empty");
    } else {
      for (const auto& m : checkName(prefix, NameRule::kSubdomain))
        out.push_back("prefix part " + m);
    }
    if (name.find('/') != std::string::npos) {
      out.clear();
      out.push_back(
          "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
          "start and end "
          "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
          "for "
          "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
          "subdomain prefix and "
          "'/' (e.g. 'example.com/MyName')");
      return out;
    }
  }
  if (name.empty()) {
    out.push_back("name part must be non-empty");
  } else {
    if (name.size() > 63) out.push_back("name part must be no more than 63 characters");
    if (!syntax::isQualifiedNamePart(name)) out.push_back(kQualifiedNameMsg);
  }
  return out;
}

std::vector<std::string> checkLabelValue(const std::string& value) {
  std::vector<std::string> out;
  if (value.size() > 63) out.push_back("must be no more than 63 characters");
  if (!syntax::isLabelValueSyntax(value)) out.push_back(kLabelValueMsg);
  return out;
}

std::vector<std::string> checkConfigKey(const std::string& key) {
  std::vector<std::string> out;
  if (key.size() > 253) out.push_back("must be no more than 253 characters");
  if (!syntax::isConfigKeySyntax(key)) out.push_back(kConfigKeyMsg);
  if (key == "." || key == "..") out.push_back("must not be '" + key + "'");
  return out;
}

FieldErrors validateObjectMeta(const ResourceType& type, const nlohmann::json& obj) {
  FieldErrors errs;
  const auto& meta = metadataOf(obj);
  std::string name = stringAt(meta, "name");
  if (name.empty()) {
    errs.push_back(FieldError::required("metadata.name", "name or generateName is required"));
  } else {
    for (const auto& m : checkName(name, nameRuleFor(type)))
      errs.push_back(FieldError::invalid("metadata.name", name, m));
  }
  if (type.namespaced && stringAt(meta, "namespace").empty()) {
    errs.push_back(FieldError::required("metadata.namespace"));
  }
  if (auto it = meta.find("labels"); it != meta.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      for (const auto& m : checkQualifiedName(k))
        errs.push_back(FieldError::invalid("metadata.labels", k, m));
      if (v.is_string()) {
        for (const auto& m : checkLabelValue(v.get<std::string>())) {
          errs.push_back(FieldError::invalid("metadata.labels", v, m));
        }
      }
    }
  }
  if (auto it = meta.find("annotations"); it != meta.end() && it->is_object()) {
    std::size_t total = 0;
    for (const auto& [k, v] : it->items()) {
      for (const auto& m : checkQualifiedName(k))
        errs.push_back(FieldError::invalid("metadata.annotations", k, m));
      total += k.size() + (v.is_string() ? v.get_ref<const std::string&>().size() : 0);
    }
    if (total > 262144) {
      errs.push_back({FieldError::Type::kTooLong, "metadata.annotations", nullptr,
                      "must have at most 262144 bytes"});
    }
  }
  if (auto it = meta.find("ownerReferences"); it != meta.end() && it->is_array()) {
    int controllers = 0;
    for (const auto& ref : *it) {
      if (!ref.is_object()) continue;
      if (stringAt(ref, "apiVersion").empty()) {
        errs.push_back(FieldError::invalid("metadata.ownerReferences.apiVersion", "",
                                           "version must not be empty"));
      }
      if (stringAt(ref, "kind").empty()) {
        errs.push_back(
            FieldError::invalid("metadata.ownerReferences.kind", "", "kind must not be empty"));
      }
      if (stringAt(ref, "name").empty()) {
        errs.push_back(
            FieldError::invalid("metadata.ownerReferences.name", "", "name must not be empty"));
      }
      if (stringAt(ref, "uid").empty()) {
        errs.push_back(
            FieldError::invalid("metadata.ownerReferences.uid", "", "uid must not be empty"));
      }
      if (ref.value("controller", false)) ++controllers;
    }
    if (controllers > 1) {
      errs.push_back(FieldError::invalid("metadata.ownerReferences", *it,
                                         "Only one reference can have Controller set to true"));
    }
  }
  if (auto it = meta.find("finalizers"); it != meta.end() && it->is_array()) {
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& f = (*it)[i];
      if (!f.is_string()) continue;
      for (const auto& m : checkQualifiedName(f.get<std::string>())) {
        errs.push_back(FieldError::invalid(idx("metadata.finalizers", i), f, m));
      }
    }
  }
  return errs;
}

FieldErrors validateBuiltin(const ResourceType& type, const nlohmann::json& obj,
                            const nlohmann::json& old) {
  FieldErrors errs;
  const std::string& r = type.resource;
  const auto& spec = at(obj, "spec");
  bool update = !old.is_null();
  if (type.group.empty() && (r == "configmaps" || r == "secrets")) {
    std::size_t total = 0;
    for (const char* field : {"data", "binaryData"}) {
      const auto& data = at(obj, field);
      if (!data.is_object()) continue;
      for (const auto& [k, v] : data.items()) {
        for (const auto& m : checkConfigKey(k))
          errs.push_back(FieldError::invalid(std::string(field) + "[" + k + "]", k, m));
        if (v.is_string()) total += v.get_ref<const std::string&>().size();
      }
    }
    if (r == "configmaps" && at(obj, "data").is_object() && at(obj, "binaryData").is_object()) {
      for (const auto& [k, v] : at(obj, "data").items()) {
        if (at(obj, "binaryData").contains(k)) {
          errs.push_back(
              FieldError::invalid("data[" + k + "]", k, "duplicate of key present in binaryData"));
        }
      }
    }
    if (total > 1024 * 1024) {
      errs.push_back({FieldError::Type::kTooLong, r == "secrets" ? "data" : "[]", nullptr,
                      "must have at most 1048576 bytes"});
    }
    if (update && at(old, "immutable").is_boolean() && at(old, "immutable").get<bool>()) {
      if (at(obj, "data") != at(old, "data") || at(obj, "binaryData") != at(old, "binaryData")) {
        errs.push_back(FieldError::forbidden("data", "field is immutable when `immutable` is set"));
      }
      if (!at(obj, "immutable").is_boolean() || !at(obj, "immutable").get<bool>()) {
        errs.push_back(
            FieldError::forbidden("immutable", "field is immutable when `immutable` is set"));
      }
    }
    if (r == "secrets" && update && stringAt(obj, "type") != stringAt(old, "type")) {
      errs.push_back(FieldError::invalid("type", stringAt(obj, "type"), "field is immutable"));
    }
  } else if (type.group.empty() && r == "services") {
    std::string svcType = stringAt(spec, "type");
    static const std::vector<std::string> kTypes = {"ClusterIP", "ExternalName", "LoadBalancer",
                                                    "NodePort"};
    if (std::find(kTypes.begin(), kTypes.end(), svcType) == kTypes.end()) {
      errs.push_back(FieldError::notSupported("spec.type", svcType, kTypes));
    }
    const auto& ports = at(spec, "ports");
    bool headless = stringAt(spec, "clusterIP") == "None";
    if (svcType != "ExternalName" && !headless && (!ports.is_array() || ports.empty())) {
      errs.push_back(FieldError::required("spec.ports"));
    }
    if (svcType == "ExternalName" && stringAt(spec, "externalName").empty()) {
      errs.push_back(FieldError::required("spec.externalName"));
    }
    if (ports.is_array()) {
      std::set<std::string> names;
      for (std::size_t i = 0; i < ports.size(); ++i) {
        const auto& p = ports[i];
        std::string path = idx("spec.ports", i);
        std::string name = stringAt(p, "name");
        if (ports.size() > 1 && name.empty()) errs.push_back(FieldError::required(path + ".name"));
        if (!name.empty()) {
          for (const auto& m : checkName(name, NameRule::kLabel))
            errs.push_back(FieldError::invalid(path + ".name", name, m));
          if (!names.insert(name).second)
            errs.push_back(FieldError::duplicate(path + ".name", name));
        }
        const auto& port = at(p, "port");
        if (!port.is_number_integer() || port.get<long long>() < 1 ||
            port.get<long long>() > 65535) {
          errs.push_back(FieldError::invalid(path + ".port",
                                             port.is_null() ? nlohmann::json(0) : port,
                                             "must be between 1 and 65535, inclusive"));
        }
        std::string proto = stringAt(p, "protocol");
        if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
          errs.push_back(
              FieldError::notSupported(path + ".protocol", proto, {"SCTP", "TCP", "UDP"}));
        }
      }
    }
    if (update && !stringAt(at(old, "spec"), "clusterIP").empty() &&
        stringAt(at(old, "spec"), "clusterIP") != "None" && !stringAt(spec, "clusterIP").empty() &&
        stringAt(spec, "clusterIP") != stringAt(at(old, "spec"), "clusterIP") &&
        svcType != "ExternalName") {
      errs.push_back(FieldError::invalid("spec.clusterIPs[0]", stringAt(spec, "clusterIP"),
                                         "may not change once set"));
    }
  } else if (type.group == "apps" && r == "deployments") {
    const auto& selector = at(spec, "selector");
    if (!selector.is_object() || selector.empty()) {
      errs.push_back(FieldError::required("spec.selector"));
    } else {
      auto sel = LabelSelector::fromJson(selector);
      if (!sel) {
        errs.push_back(FieldError::invalid("spec.selector", selector, sel.error().message()));
      } else if (sel->empty()) {
        errs.push_back(FieldError::invalid("spec.selector", selector,
                                           "empty selector is invalid for deployment"));
      } else {
        auto labels = labelsOf(at(spec, "template"));
        if (!sel->matches(labels)) {
          errs.push_back(FieldError::invalid("spec.template.metadata.labels",
                                             at(at(at(spec, "template"), "metadata"), "labels"),
                                             "`selector` does not match template `labels`"));
        }
      }
      if (update && at(at(old, "spec"), "selector") != selector) {
        errs.push_back(FieldError::invalid("spec.selector", selector, "field is immutable"));
      }
    }
    const auto& replicas = at(spec, "replicas");
    if (replicas.is_number_integer() && replicas.get<long long>() < 0) {
      errs.push_back(
          FieldError::invalid("spec.replicas", replicas, "must be greater than or equal to 0"));
    }
    checkPodSpec(at(at(spec, "template"), "spec"), "spec.template.spec", errs);
  } else if (type.group.empty() && r == "pods") {
    checkPodSpec(spec, "spec", errs);
  } else if (type.group == "rbac.authorization.k8s.io") {
    if (r == "roles" || r == "clusterroles") {
      checkRules(at(obj, "rules"), errs);
    } else {
      const auto& roleRef = at(obj, "roleRef");
      std::string kind = stringAt(roleRef, "kind");
      if (kind.empty()) {
        errs.push_back(FieldError::required("roleRef.kind"));
      } else if (kind != "ClusterRole" && !(r == "rolebindings" && kind == "Role")) {
        std::vector<std::string> supported = r == "rolebindings"
                                                 ? std::vector<std::string>{"ClusterRole", "Role"}
                                                 : std::vector<std::string>{"ClusterRole"};
        errs.push_back(FieldError::notSupported("roleRef.kind", kind, supported));
      }
      if (stringAt(roleRef, "name").empty()) errs.push_back(FieldError::required("roleRef.name"));
      if (stringAt(roleRef, "apiGroup") != "rbac.authorization.k8s.io") {
        errs.push_back(FieldError::notSupported("roleRef.apiGroup", stringAt(roleRef, "apiGroup"),
                                                {"rbac.authorization.k8s.io"}));
      }
      if (update && at(old, "roleRef") != roleRef) {
        errs.push_back(FieldError::invalid("roleRef", roleRef, "cannot change roleRef"));
      }
      const auto& subjects = at(obj, "subjects");
      if (subjects.is_array()) {
        for (std::size_t i = 0; i < subjects.size(); ++i) {
          const auto& s = subjects[i];
          std::string p = idx("subjects", i);
          std::string kind = stringAt(s, "kind");
          if (kind != "ServiceAccount" && kind != "User" && kind != "Group") {
            errs.push_back(
                FieldError::notSupported(p + ".kind", kind, {"Group", "ServiceAccount", "User"}));
          }
          if (stringAt(s, "name").empty()) errs.push_back(FieldError::required(p + ".name"));
          if (kind == "ServiceAccount" && r == "clusterrolebindings" &&
              stringAt(s, "namespace").empty()) {
            errs.push_back(FieldError::required(p + ".namespace"));
          }
        }
      }
    }
  } else if (type.group == "admissionregistration.k8s.io") {
    const auto& hooks = at(obj, "webhooks");
    if (hooks.is_array()) {
      std::set<std::string> names;
      for (std::size_t i = 0; i < hooks.size(); ++i) {
        const auto& h = hooks[i];
        std::string p = idx("webhooks", i);
        std::string name = stringAt(h, "name");
        if (name.empty()) {
          errs.push_back(FieldError::required(p + ".name"));
        } else {
          if (std::count(name.begin(), name.end(), '.') < 2) {
            errs.push_back(FieldError::invalid(
                p + ".name", name,
                "should be a domain with at least three segments separated by dots"));
          }
          if (!names.insert(name).second) errs.push_back(FieldError::duplicate(p + ".name", name));
        }
        const auto& cc = at(h, "clientConfig");
        bool hasUrl = at(cc, "url").is_string(), hasSvc = at(cc, "service").is_object();
        if (hasUrl == hasSvc) {
          errs.push_back(FieldError::required(p + ".clientConfig",
                                              "exactly one of url or service is required"));
        }
        std::string side = stringAt(h, "sideEffects");
        if (side.empty()) {
          errs.push_back(FieldError::required(p + ".sideEffects"));
        } else if (side != "None" && side != "NoneOnDryRun") {
          errs.push_back(
              FieldError::notSupported(p + ".sideEffects", side, {"None", "NoneOnDryRun"}));
        }
        if (!at(h, "admissionReviewVersions").is_array() ||
            at(h, "admissionReviewVersions").empty()) {
          errs.push_back(FieldError::required(p + ".admissionReviewVersions",
                                              "must specify one of v1, v1beta1"));
        }
      }
    }
  } else if (type.group == "coordination.k8s.io") {
    const auto& d = at(spec, "leaseDurationSeconds");
    if (d.is_number_integer() && d.get<long long>() <= 0) {
      errs.push_back(FieldError::invalid("spec.leaseDurationSeconds", d, "must be greater than 0"));
    }
  } else if (type.group == "discovery.k8s.io") {
    std::string at_ = stringAt(obj, "addressType");
    if (at_ != "IPv4" && at_ != "IPv6" && at_ != "FQDN") {
      errs.push_back(FieldError::notSupported("addressType", at_, {"FQDN", "IPv4", "IPv6"}));
    }
  } else if (type.group.empty() && r == "endpoints") {
    const auto& subsets = at(obj, "subsets");
    if (subsets.is_array()) {
      for (std::size_t i = 0; i < subsets.size(); ++i) {
        const auto& ports = at(subsets[i], "ports");
        if (!ports.is_array()) continue;
        for (std::size_t j = 0; j < ports.size(); ++j) {
          const auto& port = at(ports[j], "port");
          if (!port.is_number_integer() || port.get<long long>() < 1 ||
              port.get<long long>() > 65535) {
            errs.push_back(FieldError::invalid(idx(idx("subsets", i) + ".ports", j) + ".port",
                                               port.is_null() ? nlohmann::json(0) : port,
                                               "must be between 1 and 65535, inclusive"));
          }
        }
      }
    }
  }
  return errs;
}

FieldErrors validateCrd(const nlohmann::json& crd, const nlohmann::json& old) {
  FieldErrors errs;
  const auto& spec = at(crd, "spec");
  std::string group = stringAt(spec, "group");
  const auto& names = at(spec, "names");
  std::string plural = stringAt(names, "plural");
  std::string kind = stringAt(names, "kind");
  std::string name = metaString(crd, "name");
  if (group.empty()) {
    errs.push_back(FieldError::required("spec.group"));
  } else if (group.find('.') == std::string::npos) {
    errs.push_back(
        FieldError::invalid("spec.group", group, "should be a domain with at least one dot"));
  }
  if (plural.empty()) errs.push_back(FieldError::required("spec.names.plural"));
  if (kind.empty()) errs.push_back(FieldError::required("spec.names.kind"));
  if (!plural.empty() && !group.empty() && name != plural + "." + group) {
    errs.push_back(
        FieldError::invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));
  }
  std::string scope = stringAt(spec, "scope");
  if (scope != "Namespaced" && scope != "Cluster") {
    errs.push_back(FieldError::notSupported("spec.scope", scope, {"Cluster", "Namespaced"}));
  }
  const auto& versions = at(spec, "versions");
  if (!versions.is_array() || versions.empty()) {
    errs.push_back(FieldError::invalid("spec.versions",
                                       versions.is_null() ? nlohmann::json::array() : versions,
                                       "must have exactly one version marked as storage version"));
  } else {
    int storage = 0;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < versions.size(); ++i) {
      const auto& v = versions[i];
      std::string p = idx("spec.versions", i);
      std::string vname = stringAt(v, "name");
      if (vname.empty())
        errs.push_back(FieldError::required(p + ".name"));
      else if (!seen.insert(vname).second)
        errs.push_back(FieldError::duplicate(p + ".name", vname));
      if (at(v, "storage").is_boolean() && at(v, "storage").get<bool>()) ++storage;
      if (!at(at(v, "schema"), "openAPIV3Schema").is_object()) {
        errs.push_back(FieldError::required(p + ".schema.openAPIV3Schema", "schemas are required"));
      }
    }
    if (storage != 1) {
      errs.push_back(FieldError::invalid(
          "spec.versions", versions, "must have exactly one version marked as storage version"));
    }
  }
  if (!old.is_null()) {
    if (stringAt(at(old, "spec"), "scope") != scope) {
      errs.push_back(FieldError::invalid("spec.scope", scope, "field is immutable"));
    }
    if (stringAt(at(old, "spec"), "group") != group) {
      errs.push_back(FieldError::invalid("spec.group", group, "field is immutable"));
    }
  }
  return errs;
}

namespace {

bool preservesUnknown(const nlohmann::json& schema) {
  return schema.is_object() && schema.value("x-kubernetes-preserve-unknown-fields", false);
}

void pruneNode(const nlohmann::json& schema, nlohmann::json& value, const std::string& path,
               bool root, PruneResult& result) {
  if (!schema.is_object()) return;
  if (value.is_object()) {
    const auto& props = at(schema, "properties");
    const auto& additional = at(schema, "additionalProperties");
    // Defaults for missing properties.
    if (props.is_object()) {
      for (const auto& [k, sub] : props.items()) {
        if (!value.contains(k) && sub.is_object() && sub.contains("default"))
          value[k] = sub["default"];
      }
    }
    std::vector<std::string> drop;
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string& k = it.key();
      if (root && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
      const nlohmann::json* sub = nullptr;
      if (props.is_object() && props.contains(k)) {
        sub = &props[k];
      } else if (additional.is_object()) {
        sub = &additional;
      } else if (additional.is_boolean() && additional.get<bool>()) {
        continue;
      } else if (!preservesUnknown(schema)) {
        drop.push_back(k);
        continue;
      } else {
        continue;
      }
      if (it->is_null() && !(sub->is_object() && sub->value("nullable", false))) {
        if (sub->is_object() && sub->contains("default")) {
          *it = (*sub)["default"];
        } else {
          drop.push_back(k);
          continue;
        }
      }
      pruneNode(*sub, *it, path.empty() ? k : path + "." + k, false, result);
    }
    for (const auto& k : drop) {
      result.unknownFields.push_back(path.empty() ? k : path + "." + k);
      value.erase(k);
    }
  } else if (value.is_array()) {
    const auto& items = at(schema, "items");
    if (items.is_object()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        pruneNode(items, value[i], path + "[" + std::to_string(i) + "]", false, result);
      }
    }
  }
}

std::string typeName(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      return "object";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "integer";
    case nlohmann::json::value_t::number_float:
      return "number";
    default:
      return "null";
  }
}

std::string numberText(const nlohmann::json& n) {
  if (n.is_number_float()) {
    double d = n.get<double>();
    if (d == static_cast<double>(static_cast<long long>(d)))
      return std::to_string(static_cast<long long>(d));
  }
  return n.dump();
}

void validateNode(const nlohmann::json& schema, const nlohmann::json& value,
                  const std::string& path, FieldErrors& errs) {
  if (!schema.is_object()) return;
  std::string where = path.empty() ? "body" : path;
  std::string in = path + " in body";
  if (value.is_null()) {
    if (schema.value("nullable", false)) return;
  }
  bool intOrString = schema.value("x-kubernetes-int-or-string", false);
  std::string want = stringAt(schema, "type");
  if (intOrString) {
    if (!value.is_number_integer() && !value.is_string()) {
      errs.push_back(FieldError::typeInvalid(
          path, value, in + " must be of type integer-or-string: " + goQuote(typeName(value))));
      return;
    }
  } else if (!want.empty()) {
    std::string have = typeName(value);
    bool ok =
        have == want || (want == "number" && have == "integer") ||
        (want == "integer" && value.is_number_float() &&
         value.get<double>() == static_cast<double>(static_cast<long long>(value.get<double>())));
    if (!ok) {
      errs.push_back(FieldError::typeInvalid(
          path, value, in + " must be of type " + want + ": " + goQuote(have)));
      return;
    }
  }
  if (const auto& e = at(schema, "enum"); e.is_array() && !e.empty()) {
    if (std::find(e.begin(), e.end(), value) == e.end()) {
      std::vector<std::string> supported;
      for (const auto& v : e) supported.push_back(v.is_string() ? v.get<std::string>() : v.dump());
      errs.push_back(FieldError::notSupported(path, value, supported));
    }
  }
  if (value.is_number()) {
    double v = value.get<double>();
    if (const auto& m = at(schema, "minimum"); m.is_number()) {
      bool excl = schema.value("exclusiveMinimum", false);
      if (excl ? !(v > m.get<double>()) : !(v >= m.get<double>())) {
        errs.push_back(FieldError::invalid(
            path, value,
            in + " should be greater than " + (excl ? "" : "or equal to ") + numberText(m)));
      }
    }
    if (const auto& m = at(schema, "maximum"); m.is_number()) {
      bool excl = schema.value("exclusiveMaximum", false);
      if (excl ? !(v < m.get<double>()) : !(v <= m.get<double>())) {
        errs.push_back(FieldError::invalid(
            path, value,
            in + " should be less than " + (excl ? "" : "or equal to ") + numberText(m)));
      }
    }
    if (const auto& m = at(schema, "multipleOf"); m.is_number() && m.get<double>() != 0) {
      double q = v / m.get<double>();
      if (q != static_cast<double>(static_cast<long long>(q))) {
        errs.push_back(
            FieldError::invalid(path, value, in + " should be a multiple of " + numberText(m)));
      }
    }
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (const auto& m = at(schema, "maxLength");
        m.is_number_integer() && static_cast<long long>(s.size()) > m.get<long long>()) {
      errs.push_back(FieldError::tooLong(path, static_cast<std::size_t>(m.get<long long>())));
    }
    if (const auto& m = at(schema, "minLength");
        m.is_number_integer() && static_cast<long long>(s.size()) < m.get<long long>()) {
      errs.push_back(FieldError::invalid(
          path, value,
          in + " should be at least " + std::to_string(m.get<long long>()) + " chars long"));
    }
    if (const auto& p = at(schema, "pattern"); p.is_string()) {
      const auto re = compiledPattern(p.get_ref<const std::string&>());
      if (re && !std::regex_search(s, *re)) {
        errs.push_back(FieldError::invalid(path, value,
                                           in + " should match '" + p.get<std::string>() + "'"));
      }
    }
  }
  if (value.is_array()) {
    if (const auto& m = at(schema, "maxItems");
        m.is_number_integer() && static_cast<long long>(value.size()) > m.get<long long>()) {
      errs.push_back({FieldError::Type::kTooMany, path, nullptr,
                      std::to_string(value.size()) + ": must have at most " +
                          std::to_string(m.get<long long>()) + " items"});
    }
    if (const auto& m = at(schema, "minItems");
        m.is_number_integer() && static_cast<long long>(value.size()) < m.get<long long>()) {
      errs.push_back(FieldError::invalid(
          path, value,
          in + " should have at least " + std::to_string(m.get<long long>()) + " items"));
    }
    if (const auto& items = at(schema, "items"); items.is_object()) {
      for (std::size_t i = 0; i < value.size(); ++i)
        validateNode(items, value[i], path + "[" + std::to_string(i) + "]", errs);
    }
  }
  if (value.is_object()) {
    if (const auto& req = at(schema, "required"); req.is_array()) {
      for (const auto& k : req) {
        if (k.is_string() && !value.contains(k.get<std::string>())) {
          errs.push_back(FieldError::required(path.empty() ? k.get<std::string>()
                                                           : path + "." + k.get<std::string>()));
        }
      }
    }
    const auto& props = at(schema, "properties");
    const auto& additional = at(schema, "additionalProperties");
    for (const auto& [k, v] : value.items()) {
      if (path.empty() && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
      std::string child = path.empty() ? k : path + "." + k;
      if (props.is_object() && props.contains(k)) {
        validateNode(props[k], v, child, errs);
      } else if (additional.is_object()) {
        validateNode(additional, v, child, errs);
      }
    }
  }
  (void)where;
}

}  // namespace

PruneResult pruneAndDefault(const nlohmann::json& schema, nlohmann::json& obj) {
  PruneResult result;
  if (schema.is_object()) pruneNode(schema, obj, "", true, result);
  return result;
}

FieldErrors validateSchema(const nlohmann::json& schema, const nlohmann::json& obj) {
  FieldErrors errs;
  if (schema.is_object()) validateNode(schema, obj, "", errs);
  return errs;
}

}  // namespace rio::testenv
