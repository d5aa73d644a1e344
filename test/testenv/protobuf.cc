#include "test/testenv/protobuf.h"

#include <map>
#include <vector>

#include "controller/core/base64.h"
#include "test/testenv/object_util.h"

namespace rio::testenv {
namespace {

// Field kinds of the generated.proto messages (proto2, gogo-generated: non-pointer fields are
// always written, so zero values are dropped unless the Go field is a pointer: keepZero).
enum class K {
  kString,
  kInt,
  kBool,
  kBytes,
  kMsg,
  kMapString,
  kMapBytes,
  kMapMsg,
  kTime,
  kIntOrString,
  kQuantity
};

struct Msg;
struct Field {
  Field(int n, const char* nm, K k, bool rep = false, const Msg* m = nullptr, bool kz = false)
      : number(n), name(nm), kind(k), repeated(rep), msg(m), keepZero(kz) {}
  int number;
  const char* name;
  K kind;
  bool repeated;
  const Msg* msg;
  bool keepZero;
};
struct Msg {
  const char* name;
  std::vector<Field> fields;
  /// Unknown fields are skipped (status parts a client echoes back; the server ignores them).
  bool lenient = false;
};

Field str(int n, const char* name) { return {n, name, K::kString}; }
Field strs(int n, const char* name) { return {n, name, K::kString, true}; }
Field num(int n, const char* name, bool keepZero = false) {
  return {n, name, K::kInt, false, nullptr, keepZero};
}
Field flag(int n, const char* name, bool keepZero = false) {
  return {n, name, K::kBool, false, nullptr, keepZero};
}
Field msg(int n, const char* name, const Msg& m) { return {n, name, K::kMsg, false, &m}; }
Field msgs(int n, const char* name, const Msg& m) { return {n, name, K::kMsg, true, &m}; }
Field strMap(int n, const char* name) { return {n, name, K::kMapString}; }

// The schemas. Function-local statics: built on first use, in dependency order.
struct Schemas {
  Msg time{"Time", {}};
  Msg ownerRef{"OwnerReference",
               {str(1, "kind"), str(3, "name"), str(4, "uid"), str(5, "apiVersion"),
                flag(6, "controller", true), flag(7, "blockOwnerDeletion", true)}};
  Msg objectMeta{"ObjectMeta",
                 {str(1, "name"),
                  str(2, "generateName"),
                  str(3, "namespace"),
                  str(4, "selfLink"),
                  str(5, "uid"),
                  str(6, "resourceVersion"),
                  num(7, "generation"),
                  {8, "creationTimestamp", K::kTime},
                  {9, "deletionTimestamp", K::kTime},
                  num(10, "deletionGracePeriodSeconds", true),
                  strMap(11, "labels"),
                  strMap(12, "annotations"),
                  msgs(13, "ownerReferences", ownerRef),
                  strs(14, "finalizers")}};
  Msg selectorRequirement{"LabelSelectorRequirement",
                          {str(1, "key"), str(2, "operator"), strs(3, "values")}};
  Msg labelSelector{"LabelSelector",
                    {strMap(1, "matchLabels"), msgs(2, "matchExpressions", selectorRequirement)}};
  Msg objectReference{"ObjectReference",
                      {str(1, "kind"), str(2, "namespace"), str(3, "name"), str(4, "uid"),
                       str(5, "apiVersion"), str(6, "resourceVersion"), str(7, "fieldPath")}};
  Msg localObjectReference{"LocalObjectReference", {str(1, "name")}};
  // core/v1
  Msg namespaceSpec{"NamespaceSpec", {strs(1, "finalizers")}};
  Msg namespaceStatus{"NamespaceStatus", {str(1, "phase")}};
  Msg ns{"Namespace",
         {msg(1, "metadata", objectMeta), msg(2, "spec", namespaceSpec),
          msg(3, "status", namespaceStatus)}};
  Msg serviceAccount{"ServiceAccount",
                     {msg(1, "metadata", objectMeta), msgs(2, "secrets", objectReference),
                      msgs(3, "imagePullSecrets", localObjectReference),
                      flag(4, "automountServiceAccountToken", true)}};
  Msg configMap{"ConfigMap",
                {msg(1, "metadata", objectMeta),
                 strMap(2, "data"),
                 {3, "binaryData", K::kMapBytes},
                 flag(4, "immutable", true)}};
  Msg secret{"Secret",
             {msg(1, "metadata", objectMeta),
              {2, "data", K::kMapBytes},
              str(3, "type"),
              strMap(4, "stringData"),
              flag(5, "immutable", true)}};
  Msg servicePort{"ServicePort",
                  {str(1, "name"),
                   str(2, "protocol"),
                   num(3, "port"),
                   {4, "targetPort", K::kIntOrString},
                   num(5, "nodePort"),
                   str(6, "appProtocol")}};
  Msg serviceSpec{
      "ServiceSpec",
      {msgs(1, "ports", servicePort), strMap(2, "selector"), str(3, "clusterIP"), str(4, "type"),
       strs(5, "externalIPs"), str(7, "sessionAffinity"), str(8, "loadBalancerIP"),
       strs(9, "loadBalancerSourceRanges"), str(10, "externalName"),
       str(11, "externalTrafficPolicy"), num(12, "healthCheckNodePort"),
       flag(13, "publishNotReadyAddresses"), str(17, "ipFamilyPolicy"), strs(18, "clusterIPs"),
       strs(19, "ipFamilies"), flag(20, "allocateLoadBalancerNodePorts", true),
       str(21, "loadBalancerClass"), str(22, "internalTrafficPolicy")}};
  Msg loadBalancerStatus{"LoadBalancerStatus", {}, true};
  Msg serviceStatus{"ServiceStatus", {msg(1, "loadBalancer", loadBalancerStatus)}};
  Msg service{"Service",
              {msg(1, "metadata", objectMeta), msg(2, "spec", serviceSpec),
               msg(3, "status", serviceStatus)}};
  Msg containerPort{"ContainerPort",
                    {str(1, "name"), num(2, "hostPort"), num(3, "containerPort"),
                     str(4, "protocol"), str(5, "hostIP")}};
  Msg envVar{"EnvVar", {str(1, "name"), str(2, "value")}};
  Msg resources{"ResourceRequirements", {{1, "limits", K::kMapMsg}, {2, "requests", K::kMapMsg}}};
  Msg container{
      "Container",
      {str(1, "name"), str(2, "image"), strs(3, "command"), strs(4, "args"), str(5, "workingDir"),
       msgs(6, "ports", containerPort), msgs(7, "env", envVar), msg(8, "resources", resources),
       str(13, "terminationMessagePath"), str(14, "imagePullPolicy"), flag(16, "stdin"),
       flag(17, "stdinOnce"), flag(18, "tty"), str(20, "terminationMessagePolicy")}};
  Msg podSecurityContext{"PodSecurityContext", {}};
  Msg podSpec{"PodSpec",
              {msgs(2, "containers", container),
               str(3, "restartPolicy"),
               num(4, "terminationGracePeriodSeconds", true),
               str(6, "dnsPolicy"),
               strMap(7, "nodeSelector"),
               str(8, "serviceAccountName"),
               str(9, "serviceAccount"),
               str(10, "nodeName"),
               flag(11, "hostNetwork"),
               flag(12, "hostPID"),
               flag(13, "hostIPC"),
               msg(14, "securityContext", podSecurityContext),
               flag(21, "automountServiceAccountToken", true),
               flag(27, "shareProcessNamespace", true),
               str(29, "runtimeClassName"),
               flag(34, "setHostnameAsFQDN", true),
               flag(36, "hostUsers", true),
               msgs(15, "imagePullSecrets", localObjectReference),
               str(16, "hostname"),
               str(17, "subdomain"),
               str(19, "schedulerName"),
               msgs(20, "initContainers", container),
               str(24, "priorityClassName"),
               num(25, "priority", true),
               flag(30, "enableServiceLinks", true),
               str(31, "preemptionPolicy")}};
  Msg podTemplateSpec{"PodTemplateSpec", {msg(1, "metadata", objectMeta), msg(2, "spec", podSpec)}};
  // apps/v1
  Msg rollingUpdate{"RollingUpdateDeployment",
                    {{1, "maxUnavailable", K::kIntOrString}, {2, "maxSurge", K::kIntOrString}}};
  Msg strategy{"DeploymentStrategy", {str(1, "type"), msg(2, "rollingUpdate", rollingUpdate)}};
  Msg deploymentSpec{"DeploymentSpec",
                     {num(1, "replicas", true), msg(2, "selector", labelSelector),
                      msg(3, "template", podTemplateSpec), msg(4, "strategy", strategy),
                      num(5, "minReadySeconds"), num(6, "revisionHistoryLimit", true),
                      flag(7, "paused"), num(9, "progressDeadlineSeconds", true)}};
  Msg deploymentStatus{"DeploymentStatus", {}, true};
  Msg deployment{"Deployment",
                 {msg(1, "metadata", objectMeta), msg(2, "spec", deploymentSpec),
                  msg(3, "status", deploymentStatus)}};
  // rbac/v1
  Msg policyRule{"PolicyRule",
                 {strs(1, "verbs"), strs(2, "apiGroups"), strs(3, "resources"),
                  strs(4, "resourceNames"), strs(5, "nonResourceURLs")}};
  Msg aggregationRule{"AggregationRule", {msgs(1, "clusterRoleSelectors", labelSelector)}};
  Msg role{"Role", {msg(1, "metadata", objectMeta), msgs(2, "rules", policyRule)}};
  Msg clusterRole{"ClusterRole",
                  {msg(1, "metadata", objectMeta), msgs(2, "rules", policyRule),
                   msg(3, "aggregationRule", aggregationRule)}};
  Msg subject{"Subject", {str(1, "kind"), str(2, "apiGroup"), str(3, "name"), str(4, "namespace")}};
  Msg roleRef{"RoleRef", {str(1, "apiGroup"), str(2, "kind"), str(3, "name")}};
  Msg roleBinding{
      "RoleBinding",
      {msg(1, "metadata", objectMeta), msgs(2, "subjects", subject), msg(3, "roleRef", roleRef)}};
  // authentication/v1
  Msg boundObjectRef{"BoundObjectReference",
                     {str(1, "kind"), str(2, "apiVersion"), str(3, "name"), str(4, "uid")}};
  Msg tokenRequestSpec{"TokenRequestSpec",
                       {strs(1, "audiences"), msg(3, "boundObjectRef", boundObjectRef),
                        num(4, "expirationSeconds", true)}};
  Msg tokenRequestStatus{"TokenRequestStatus", {}, true};
  Msg tokenRequest{"TokenRequest",
                   {msg(1, "metadata", objectMeta), msg(2, "spec", tokenRequestSpec),
                    msg(3, "status", tokenRequestStatus)}};
  Msg selfSubjectReviewStatus{"SelfSubjectReviewStatus", {}, true};
  Msg selfSubjectReview{
      "SelfSubjectReview",
      {msg(1, "metadata", objectMeta), msg(2, "status", selfSubjectReviewStatus)}};
  // authorization/v1
  Msg resourceAttributes{"ResourceAttributes",
                         {str(1, "namespace"), str(2, "verb"), str(3, "group"), str(4, "version"),
                          str(5, "resource"), str(6, "subresource"), str(7, "name")}};
  Msg nonResourceAttributes{"NonResourceAttributes", {str(1, "path"), str(2, "verb")}};
  Msg reviewStatus{"SubjectAccessReviewStatus", {}, true};
  Msg ssarSpec{"SelfSubjectAccessReviewSpec",
               {msg(1, "resourceAttributes", resourceAttributes),
                msg(2, "nonResourceAttributes", nonResourceAttributes)}};
  Msg ssar{
      "SelfSubjectAccessReview",
      {msg(1, "metadata", objectMeta), msg(2, "spec", ssarSpec), msg(3, "status", reviewStatus)}};
  Msg sarSpec{"SubjectAccessReviewSpec",
              {msg(1, "resourceAttributes", resourceAttributes),
               msg(2, "nonResourceAttributes", nonResourceAttributes), str(3, "user"),
               strs(4, "groups"), str(6, "uid")}};
  Msg sar{
      "SubjectAccessReview",
      {msg(1, "metadata", objectMeta), msg(2, "spec", sarSpec), msg(3, "status", reviewStatus)}};
  Msg ssrrSpec{"SelfSubjectRulesReviewSpec", {str(1, "namespace")}};
  Msg rulesStatus{"SubjectRulesReviewStatus", {}, true};
  Msg ssrr{
      "SelfSubjectRulesReview",
      {msg(1, "metadata", objectMeta), msg(2, "spec", ssrrSpec), msg(3, "status", rulesStatus)}};

  Msg preconditions{"Preconditions", {str(1, "uid"), str(2, "resourceVersion")}};
  Msg deleteOptions{
      "DeleteOptions",
      {num(1, "gracePeriodSeconds", true), msg(2, "preconditions", preconditions),
       flag(3, "orphanDependents", true), str(4, "propagationPolicy"), strs(5, "dryRun")}};

  std::map<std::pair<std::string, std::string>, const Msg*> roots = {
      {{"v1", "DeleteOptions"}, &deleteOptions},
      {{"meta.k8s.io/v1", "DeleteOptions"}, &deleteOptions},
      {{"v1", "Namespace"}, &ns},
      {{"v1", "ServiceAccount"}, &serviceAccount},
      {{"v1", "ConfigMap"}, &configMap},
      {{"v1", "Secret"}, &secret},
      {{"v1", "Service"}, &service},
      {{"apps/v1", "Deployment"}, &deployment},
      {{"rbac.authorization.k8s.io/v1", "Role"}, &role},
      {{"rbac.authorization.k8s.io/v1", "ClusterRole"}, &clusterRole},
      {{"rbac.authorization.k8s.io/v1", "RoleBinding"}, &roleBinding},
      {{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding"}, &roleBinding},
      {{"authentication.k8s.io/v1", "TokenRequest"}, &tokenRequest},
      {{"authentication.k8s.io/v1", "SelfSubjectReview"}, &selfSubjectReview},
      {{"authorization.k8s.io/v1", "SelfSubjectAccessReview"}, &ssar},
      {{"authorization.k8s.io/v1", "SubjectAccessReview"}, &sar},
      {{"authorization.k8s.io/v1", "SelfSubjectRulesReview"}, &ssrr},
  };
};

const Schemas& schemas() {
  static const Schemas s;
  return s;
}

/// Reads protobuf wire format from a byte range.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }

  Expected<std::uint64_t> varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return fail(Error::decode("protobuf: truncated varint"));
      auto b = static_cast<unsigned char>(data_[pos_++]);
      v |= std::uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail(Error::decode("protobuf: varint too long"));
  }

  Expected<std::string_view> bytes() {
    auto len = varint();
    if (!len) return fail(len.error());
    if (*len > data_.size() - pos_) return fail(Error::decode("protobuf: truncated field"));
    std::string_view out = data_.substr(pos_, *len);
    pos_ += *len;
    return out;
  }

  /// Skips a field of `wireType` (used for the envelope's fields we ignore).
  Expected<void> skip(int wireType) {
    switch (wireType) {
      case 0:
        if (auto v = varint(); !v) return fail(v.error());
        return {};
      case 1:
        if (data_.size() - pos_ < 8) return fail(Error::decode("protobuf: truncated fixed64"));
        pos_ += 8;
        return {};
      case 2:
        if (auto b = bytes(); !b) return fail(b.error());
        return {};
      case 5:
        if (data_.size() - pos_ < 4) return fail(Error::decode("protobuf: truncated fixed32"));
        pos_ += 4;
        return {};
      default:
        return fail(Error::decode("protobuf: unsupported wire type " + std::to_string(wireType)));
    }
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

constexpr int kMaxDepth = 40;

Expected<nlohmann::json> decodeMessage(std::string_view data, const Msg& m, int depth);

Expected<std::pair<std::string, std::string_view>> mapEntry(std::string_view data) {
  Reader r(data);
  std::string key;
  std::string_view value;
  while (!r.done()) {
    auto tag = r.varint();
    if (!tag) return fail(tag.error());
    int number = static_cast<int>(*tag >> 3);
    int wire = static_cast<int>(*tag & 7);
    if (wire != 2) return fail(Error::decode("protobuf: map entry field is not length-delimited"));
    auto b = r.bytes();
    if (!b) return fail(b.error());
    if (number == 1)
      key = std::string(*b);
    else if (number == 2)
      value = *b;
  }
  return std::make_pair(key, value);
}

Expected<nlohmann::json> decodeScalarMessage(std::string_view data, K kind) {
  Reader r(data);
  std::int64_t seconds = 0, intVal = 0, type = 0;
  std::string strVal;
  while (!r.done()) {
    auto tag = r.varint();
    if (!tag) return fail(tag.error());
    int number = static_cast<int>(*tag >> 3);
    int wire = static_cast<int>(*tag & 7);
    if (wire == 0) {
      auto v = r.varint();
      if (!v) return fail(v.error());
      if (kind == K::kTime && number == 1) seconds = static_cast<std::int64_t>(*v);
      if (kind == K::kIntOrString && number == 1) type = static_cast<std::int64_t>(*v);
      if (kind == K::kIntOrString && number == 2) intVal = static_cast<std::int32_t>(*v);
    } else if (wire == 2) {
      auto b = r.bytes();
      if (!b) return fail(b.error());
      if ((kind == K::kIntOrString && number == 3) || (kind == K::kQuantity && number == 1))
        strVal = std::string(*b);
    } else if (auto s = r.skip(wire); !s) {
      return fail(s.error());
    }
  }
  switch (kind) {
    case K::kTime:
      if (seconds == 0) return nlohmann::json();
      return nlohmann::json(formatTimestamp(
          std::chrono::system_clock::from_time_t(static_cast<std::time_t>(seconds))));
    case K::kIntOrString:
      return type == 1 ? nlohmann::json(strVal) : nlohmann::json(intVal);
    default:
      return nlohmann::json(strVal);
  }
}

Expected<nlohmann::json> decodeMessage(std::string_view data, const Msg& m, int depth) {
  if (depth > kMaxDepth) return fail(Error::decode("protobuf: nested too deeply"));
  nlohmann::json out = nlohmann::json::object();
  Reader r(data);
  while (!r.done()) {
    auto tag = r.varint();
    if (!tag) return fail(tag.error());
    int number = static_cast<int>(*tag >> 3);
    int wire = static_cast<int>(*tag & 7);
    const Field* f = nullptr;
    for (const auto& candidate : m.fields) {
      if (candidate.number == number) f = &candidate;
    }
    if (!f && m.lenient) {
      if (auto s = r.skip(wire); !s) return fail(s.error());
      continue;
    }
    if (!f) {
      return fail(Error::invalid("kube-testenv does not decode protobuf field " +
                                 std::to_string(number) + " of " + m.name + "; send JSON instead"));
    }
    nlohmann::json value;
    bool isZero = false;
    if (wire == 0) {
      auto v = r.varint();
      if (!v) return fail(v.error());
      if (f->kind == K::kBool) {
        value = *v != 0;
        isZero = *v == 0;
      } else if (f->kind == K::kInt) {
        value = static_cast<std::int64_t>(*v);
        isZero = *v == 0;
      } else {
        return fail(Error::decode(std::string("protobuf: unexpected varint for ") + m.name + "." +
                                  f->name));
      }
    } else if (wire == 2) {
      auto b = r.bytes();
      if (!b) return fail(b.error());
      switch (f->kind) {
        case K::kString:
          value = std::string(*b);
          isZero = b->empty();
          break;
        case K::kBytes:
          value = base64::encode(*b);
          break;
        case K::kMsg: {
          auto nested = decodeMessage(*b, *f->msg, depth + 1);
          if (!nested) return nested;
          value = std::move(*nested);
          break;
        }
        case K::kTime:
        case K::kIntOrString:
        case K::kQuantity: {
          auto scalar = decodeScalarMessage(*b, f->kind);
          if (!scalar) return scalar;
          value = std::move(*scalar);
          isZero = value.is_null();
          break;
        }
        case K::kMapString:
        case K::kMapBytes:
        case K::kMapMsg: {
          auto entry = mapEntry(*b);
          if (!entry) return fail(entry.error());
          nlohmann::json& map = out[f->name];
          if (!map.is_object()) map = nlohmann::json::object();
          if (f->kind == K::kMapString) {
            map[entry->first] = std::string(entry->second);
          } else if (f->kind == K::kMapBytes) {
            map[entry->first] = base64::encode(entry->second);
          } else {
            auto q = decodeScalarMessage(entry->second, K::kQuantity);
            if (!q) return q;
            map[entry->first] = *q;
          }
          continue;
        }
        default:
          return fail(Error::decode(std::string("protobuf: unexpected bytes for ") + m.name + "." +
                                    f->name));
      }
    } else {
      return fail(Error::decode(std::string("protobuf: unexpected wire type for ") + m.name + "." +
                                f->name));
    }
    if (f->repeated) {
      out[f->name].push_back(std::move(value));
    } else if (!isZero || f->keepZero) {
      out[f->name] = std::move(value);
    }
  }
  return out;
}

}  // namespace

Expected<nlohmann::json> decodeKubeProtobuf(std::string_view body) {
  try {
    static constexpr std::string_view kMagic("k8s\0", 4);
    if (body.substr(0, 4) != kMagic)
      return fail(Error::decode("protobuf: missing the k8s envelope"));
    Reader envelope(body.substr(4));
    std::string apiVersion, kind;
    std::string_view raw;
    while (!envelope.done()) {
      auto tag = envelope.varint();
      if (!tag) return fail(tag.error());
      int number = static_cast<int>(*tag >> 3);
      int wire = static_cast<int>(*tag & 7);
      if (wire != 2) {
        if (auto s = envelope.skip(wire); !s) return fail(s.error());
        continue;
      }
      auto b = envelope.bytes();
      if (!b) return fail(b.error());
      if (number == 1) {
        Reader typeMeta(*b);
        while (!typeMeta.done()) {
          auto t = typeMeta.varint();
          if (!t) return fail(t.error());
          auto v = typeMeta.bytes();
          if (!v) return fail(v.error());
          if ((*t >> 3) == 1) apiVersion = std::string(*v);
          if ((*t >> 3) == 2) kind = std::string(*v);
        }
      } else if (number == 2) {
        raw = *b;
      }
    }
    const auto& s = schemas();
    auto it = s.roots.find({apiVersion, kind});
    if (it == s.roots.end()) {
      return fail(Error::invalid("kube-testenv does not decode protobuf " + apiVersion + " " +
                                 kind + "; send JSON instead"));
    }
    auto obj = decodeMessage(raw, *it->second, 0);
    if (!obj) return obj;
    (*obj)["apiVersion"] = apiVersion;
    (*obj)["kind"] = kind;
    return obj;
  } catch (const std::exception& e) {
    return fail(Error::decode(std::string("protobuf: ") + e.what()));
  }
}

}  // namespace rio::testenv
