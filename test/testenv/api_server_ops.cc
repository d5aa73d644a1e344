// ApiServer verbs: get, list, create, update, patch (JSON/merge/strategic/apply), delete,
// deletecollection, TokenRequest, reviews and the scale subresource, with kube-apiserver's
// decoding, defaulting, validation, status-subresource rules and managedFields.
#include <algorithm>
#include <cctype>

#include "controller/core/base64.h"
#include "test/testenv/api_server_impl.h"
#include "test/testenv/defaults.h"
#include "test/testenv/object_util.h"
#include "test/testenv/protobuf.h"
#include "test/testenv/table.h"
#include "test/testenv/token_authority.h"
#include "test/testenv/validation.h"

namespace rio::testenv {
namespace {

std::optional<std::string> queryParam(const http::ServerRequest& r, const std::string& name) {
  auto it = r.query.find(name);
  if (it == r.query.end()) return std::nullopt;
  return it->second;
}

std::string mediaType(const http::ServerRequest& r) {
  std::string ct(r.header("Content-Type").value_or(""));
  ct = ct.substr(0, ct.find(';'));
  std::string out;
  for (char c : ct) {
    if (!std::isspace(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string summarize(const std::string& data) {
  if (data.empty()) return "<empty>";
  if (data[0] == '{') return data.size() > 30 ? data.substr(0, 30) + " ..." : data;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < data.size() && i < 30; ++i) {
    out += hex[(static_cast<unsigned char>(data[i]) >> 4) & 15];
    out += hex[static_cast<unsigned char>(data[i]) & 15];
  }
  if (data.size() > 30) out += " ...";
  return out;
}

/// Go's encoding/json wording for a syntax error at `pos`.
std::string goSyntaxError(const std::string& body, std::size_t pos) {
  std::size_t i = pos > 0 ? pos - 1 : 0;
  if (i >= body.size() || body.find_first_not_of(" \t\r\n", i) == std::string::npos)
    return "unexpected end of JSON input";
  char c = body[i];
  std::string shown = c == '\'' ? "\\'" : std::string(1, c);
  return "invalid character '" + shown + "' looking for beginning of value";
}

const char* goJsonType(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::boolean:
      return "bool";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::object:
      return "object";
    case nlohmann::json::value_t::null:
      return "null";
    default:
      return "number";
  }
}

/// Type errors a Go decoder reports for ObjectMeta and the simple built-in maps.
std::optional<std::string> typeError(const nlohmann::json& obj, const ResourceType& type) {
  auto err = [&](const nlohmann::json& v, const std::string& field, const std::string& goType) {
    return "json: cannot unmarshal " + std::string(goJsonType(v)) + " into Go struct field " +
           field + " of type " + goType;
  };
  if (obj.contains("metadata")) {
    const auto& meta = obj["metadata"];
    if (!meta.is_object() && !meta.is_null())
      return err(meta, type.kind + ".metadata", "v1.ObjectMeta");
    if (meta.is_object()) {
      for (const char* f : {"name", "namespace", "generateName", "resourceVersion", "uid",
                            "creationTimestamp", "deletionTimestamp"}) {
        if (meta.contains(f) && !meta[f].is_string() && !meta[f].is_null()) {
          return err(meta[f], std::string("ObjectMeta.metadata.") + f, "string");
        }
      }
      for (const char* f : {"labels", "annotations"}) {
        if (!meta.contains(f) || meta[f].is_null()) continue;
        if (!meta[f].is_object())
          return err(meta[f], std::string("ObjectMeta.metadata.") + f, "map[string]string");
        for (const auto& [k, v] : meta[f].items()) {
          if (!v.is_string()) return err(v, std::string("ObjectMeta.metadata.") + f, "string");
        }
      }
      if (meta.contains("finalizers") && !meta["finalizers"].is_null()) {
        if (!meta["finalizers"].is_array())
          return err(meta["finalizers"], "ObjectMeta.metadata.finalizers", "[]string");
        for (const auto& v : meta["finalizers"]) {
          if (!v.is_string()) return err(v, "ObjectMeta.metadata.finalizers", "string");
        }
      }
      if (meta.contains("ownerReferences") && !meta["ownerReferences"].is_null()) {
        if (!meta["ownerReferences"].is_array()) {
          return err(meta["ownerReferences"], "ObjectMeta.metadata.ownerReferences",
                     "[]v1.OwnerReference");
        }
        for (const auto& v : meta["ownerReferences"]) {
          if (!v.is_object())
            return err(v, "ObjectMeta.metadata.ownerReferences", "v1.OwnerReference");
        }
      }
      if (meta.contains("generation") && !meta["generation"].is_number_integer() &&
          !meta["generation"].is_null()) {
        return err(meta["generation"], "ObjectMeta.metadata.generation", "int64");
      }
    }
  }
  if (type.group.empty() && (type.resource == "configmaps" || type.resource == "secrets")) {
    for (const char* f : {"data", "stringData", "binaryData"}) {
      if (!obj.contains(f) || obj[f].is_null()) continue;
      if (!obj[f].is_object()) return err(obj[f], type.kind + "." + f, "map[string]string");
      for (const auto& [k, v] : obj[f].items()) {
        if (!v.is_string())
          return err(
              v, type.kind + "." + f,
              type.resource == "secrets" || std::string(f) == "binaryData" ? "[]uint8" : "string");
      }
    }
  }
  if (type.group == "apps" && type.resource == "deployments" && obj.contains("spec") &&
      obj["spec"].is_object()) {
    const auto& r = obj["spec"].value("replicas", nlohmann::json());
    if (!r.is_null() && !r.is_number_integer())
      return err(r, "DeploymentSpec.spec.replicas", "int32");
  }
  return std::nullopt;
}

/// Position of the first byte Go's base64 decoder rejects, if any.
std::optional<std::size_t> base64ErrorAt(const std::string& s) {
  auto valid = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  };
  std::size_t n = 0;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\r' || c == '\n') continue;
    if (c == '=') break;
    if (!valid(c)) return i;
    ++n;
  }
  std::size_t pad = 0;
  for (; i < s.size(); ++i) {
    if (s[i] == '\r' || s[i] == '\n') continue;
    if (s[i] != '=') return i;
    ++pad;
  }
  if ((n + pad) % 4 != 0 || pad > 2 || (pad > 0 && (n % 4) + pad != 4))
    return s.size() - (s.size() % 4 == 0 ? 4 : s.size() % 4);
  return std::nullopt;
}

ApiError apiErrorFrom(const Error& e) {
  if (e.status()) {
    nlohmann::json body = e.status()->toJson();
    return ApiError{e.status()->code ? e.status()->code : 500, body, {}};
  }
  if (e.kind() == ErrorKind::kInvalid || e.kind() == ErrorKind::kDecode)
    return errors::badRequest(e.message());
  return errors::internal(e.message());
}

bool acceptsTable(const http::ServerRequest& r) {
  auto accept = r.header("Accept").value_or("");
  return accept.find("as=Table") != std::string::npos;
}

bool acceptsPartial(const http::ServerRequest& r) {
  auto accept = r.header("Accept").value_or("");
  return accept.find("as=PartialObjectMetadata") != std::string::npos && !acceptsTable(r);
}

TableObjects includeObject(const http::ServerRequest& r) {
  auto v = queryParam(r, "includeObject");
  if (!v) return TableObjects::kMetadata;
  if (*v == "None") return TableObjects::kNone;
  if (*v == "Object") return TableObjects::kObject;
  return TableObjects::kMetadata;
}

std::string keyFor(const ResourceType& type, const std::string& ns, const std::string& name) {
  return objectKey(type.namespaced ? ns : "", name);
}

bool isRbac(const ResourceType& t) { return t.group == "rbac.authorization.k8s.io"; }

nlohmann::json withoutVolatile(nlohmann::json obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object()) {
    obj["metadata"].erase("managedFields");
    obj["metadata"].erase("resourceVersion");
  }
  return obj;
}

bool specChanged(const ResourceType& type, const nlohmann::json& before,
                 const nlohmann::json& after) {
  nlohmann::json a = before, b = after;
  for (auto* o : {&a, &b}) {
    o->erase("metadata");
    o->erase("apiVersion");
    o->erase("kind");
    if (type.hasStatus()) o->erase("status");
  }
  return a != b;
}

std::vector<std::string> finalizersOf(const nlohmann::json& obj) {
  std::vector<std::string> out;
  const auto& meta = metadataOf(obj);
  auto it = meta.find("finalizers");
  if (it == meta.end() || !it->is_array()) return out;
  for (const auto& f : *it) {
    if (f.is_string()) out.push_back(f.get<std::string>());
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- decoding

Result<nlohmann::json> ApiServer::Impl::decodeBody(Ctx& ctx, const ResourceType& type) {
  const auto& req = ctx.req;
  if (req.bodyTooLarge || req.body.size() > opts.maxBodyBytes)
    return reject(errors::requestEntityTooLarge(opts.maxBodyBytes));
  std::string ct = mediaType(req);
  nlohmann::json obj;
  auto unrecognized = [&](const std::string& detail) {
    return errors::badRequest("the object provided is unrecognized (must be of type " + type.kind +
                              "): couldn't get version/kind; json parse error: " + detail + " (" +
                              summarize(req.body) + ")");
  };
  if (ct == "application/json") {
    if (nestingDepth(req.body) > kMaxNesting) return reject(unrecognized("exceeded max depth"));
    try {
      obj = nlohmann::json::parse(req.body);
    } catch (const nlohmann::json::parse_error& e) {
      return reject(unrecognized(goSyntaxError(req.body, e.byte)));
    }
  } else if (ct == "application/yaml") {
    auto y = yamlToJson(req.body);
    if (!y)
      return reject(errors::badRequest("error converting YAML to JSON: " + y.error().message()));
    obj = std::move(*y);
  } else if (ct == kProtobufContentType) {
    auto p = decodeKubeProtobuf(req.body);
    if (!p) {
      if (p.error().kind() == ErrorKind::kInvalid) {
        ApiError e = errors::unsupportedMediaType({"application/json", "application/yaml"});
        e.status["message"] = e.message() + " (" + p.error().message() + ")";
        return reject(e);
      }
      return reject(errors::badRequest("the object provided is unrecognized (must be of type " +
                                       type.kind + "): " + p.error().message()));
    }
    obj = std::move(*p);
  } else {
    return reject(errors::unsupportedMediaType(
        {"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}));
  }
  if (!obj.is_object()) {
    return reject(unrecognized(
        std::string("json: cannot unmarshal ") + goJsonType(obj) +
        " into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
        "Kind string \"json:\\\"kind,omitempty\\\"\" }"));
  }
  for (const char* f : {"apiVersion", "kind"}) {
    if (obj.contains(f) && !obj[f].is_string()) {
      return reject(unrecognized(std::string("json: cannot unmarshal ") + goJsonType(obj[f]) +
                                 " into Go struct field ." + f + " of type string"));
    }
  }
  std::string kind = stringAt(obj, "kind");
  std::string apiVersion = stringAt(obj, "apiVersion");
  std::string version =
      apiVersion.substr(apiVersion.find('/') == std::string::npos ? 0 : apiVersion.find('/') + 1);
  if (!kind.empty() && kind != type.kind) {
    return reject(errors::badRequest(
        kind + " in version " + goQuote(version) + " cannot be handled as a " + type.kind +
        ": no kind " + goQuote(kind) + " is registered for version " + goQuote(apiVersion) +
        " in scheme \"pkg/api/legacyscheme/scheme.go:30\""));
  }
  if (!apiVersion.empty() && apiVersion != type.apiVersion()) {
    std::string group =
        apiVersion.find('/') == std::string::npos ? "" : apiVersion.substr(0, apiVersion.find('/'));
    bool sameGroup = group == type.group;
    StoreLock lock(this);
    bool served = sameGroup && registry.find(group, version, type.resource) != nullptr;
    if (!served) {
      return reject(errors::badRequest("the API version in the data (" + apiVersion +
                                       ") does not match the expected API version (" +
                                       type.apiVersion() + ")"));
    }
  }
  if (auto te = typeError(obj, type)) {
    return reject(errors::badRequest(type.kind + " in version " + goQuote(type.version) +
                                     " cannot be handled as a " + type.kind + ": " + *te));
  }
  if (type.group.empty() && type.resource == "secrets") {
    if (obj.contains("data") && obj["data"].is_object()) {
      for (const auto& [k, v] : obj["data"].items()) {
        if (auto pos = base64ErrorAt(v.get<std::string>())) {
          return reject(
              errors::badRequest("Secret in version \"v1\" cannot be handled as a Secret: illegal "
                                 "base64 data at input byte " +
                                 std::to_string(*pos)));
        }
      }
    }
    if (obj.contains("stringData") && obj["stringData"].is_object()) {
      if (!obj.contains("data") || !obj["data"].is_object()) obj["data"] = nlohmann::json::object();
      for (const auto& [k, v] : obj["stringData"].items())
        obj["data"][k] = base64::encode(v.get<std::string>());
      obj.erase("stringData");
    }
  }
  if (obj.contains("metadata") && obj["metadata"].is_null())
    obj["metadata"] = nlohmann::json::object();
  if (!obj.contains("metadata")) obj["metadata"] = nlohmann::json::object();
  return obj;
}

// ---------------------------------------------------------------- write path

std::string ApiServer::Impl::escalationCheck(Ctx& ctx, const ResourceType& type,
                                             const nlohmann::json& object,
                                             const nlohmann::json* previous) {
  if (ctx.admin || !isRbac(type) || !deps.auth.checkEscalation || !authorizer) return {};
  std::weak_ptr<Impl> weak = weak_from_this();
  RbacObjectsFn objects = [weak](const std::string& kind) -> RbacObjects {
    auto self = weak.lock();
    return self ? self->rbacObjects(kind) : nullptr;
  };
  return deps.auth.checkEscalation(*authorizer, ctx.user, object, previous, objects);
}

Result<nlohmann::json> ApiServer::Impl::finalizeWrite(Ctx& ctx, const ResourceType& type,
                                                      const nlohmann::json* current,
                                                      nlohmann::json next, const std::string& sub,
                                                      bool managedFieldsDone) {
  if (!next.is_object())
    return reject(errors::badRequest("the object provided is not a JSON object"));
  if (!next.contains("metadata") || !next["metadata"].is_object())
    next["metadata"] = nlohmann::json::object();
  if (auto te = typeError(next, type)) {
    return reject(errors::badRequest(type.kind + " in version " + goQuote(type.version) +
                                     " cannot be handled as a " + type.kind + ": " + *te));
  }
  next["apiVersion"] = type.apiVersion();
  next["kind"] = type.kind;
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const nlohmann::json& curMeta = current ? metadataOf(*current) : kEmpty;
  if (current) {
    next["metadata"]["name"] = curMeta.value("name", "");
    if (type.namespaced) next["metadata"]["namespace"] = curMeta.value("namespace", "");
  }
  if (!type.namespaced) next["metadata"].erase("namespace");

  applySchemeDefaults(type, next);
  if (type.custom && type.schema.is_object()) {
    auto pruned = pruneAndDefault(type.schema, next);
    if (!pruned.unknownFields.empty()) {
      std::string mode = queryParam(ctx.req, "fieldValidation").value_or("Warn");
      if (mode == "Strict") {
        std::string list;
        for (std::size_t i = 0; i < pruned.unknownFields.size(); ++i) {
          list +=
              (i ? ", " : "") + std::string("unknown field ") + goQuote(pruned.unknownFields[i]);
        }
        return reject(errors::badRequest(type.kind + " in version " + goQuote(type.version) + " cannot be handled as a " +
                                         type.kind + ": strict decoding error: " + list));
      }
      if (mode != "Ignore") {
        for (const auto& f : pruned.unknownFields)
          ctx.warnings.push_back("unknown field " + goQuote(f));
      }
    }
  }

  bool isNamespace = type.group.empty() && type.resource == "namespaces";
  if (current) {
    if (sub == "status" || sub == "finalize") {
      nlohmann::json merged = *current;
      if (sub == "status") {
        if (next.contains("status"))
          merged["status"] = next["status"];
        else
          merged.erase("status");
      } else {
        merged["spec"]["finalizers"] =
            next.contains("spec") && next["spec"].is_object()
                ? next["spec"].value("finalizers", nlohmann::json::array())
                : nlohmann::json::array();
      }
      if (next["metadata"].contains("managedFields"))
        merged["metadata"]["managedFields"] = next["metadata"]["managedFields"];
      else
        merged["metadata"].erase("managedFields");
      next = std::move(merged);
    } else {
      if (type.hasStatus()) {
        if (current->contains("status"))
          next["status"] = (*current)["status"];
        else
          next.erase("status");
      }
      if (isNamespace) {
        const auto& curSpec = current->value("spec", nlohmann::json::object());
        if (!next.contains("spec") || !next["spec"].is_object())
          next["spec"] = nlohmann::json::object();
        if (curSpec.is_object() && curSpec.contains("finalizers"))
          next["spec"]["finalizers"] = curSpec["finalizers"];
      }
    }
    auto& meta = next["metadata"];
    for (const char* k : {"uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation"}) {
      if (curMeta.contains(k))
        meta[k] = curMeta[k];
      else
        meta.erase(k);
    }
    if (!meta.contains("managedFields") && curMeta.contains("managedFields"))
      meta["managedFields"] = curMeta["managedFields"];
    meta.erase("selfLink");
    meta.erase("resourceVersion");
  } else {
    auto& meta = next["metadata"];
    for (const char* k :
         {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
          "generation", "selfLink", "resourceVersion"}) {
      meta.erase(k);
    }
    if (!managedFieldsDone) meta.erase("managedFields");
    if (type.custom && type.hasStatus()) next.erase("status");
  }

  if (!managedFieldsDone && deps.merge.recordUpdate) {
    next = deps.merge.recordUpdate(current ? *current : nlohmann::json(), next, ctx.manager,
                                   type.apiVersion(), sub, now());
    if (next.contains("metadata") && next["metadata"].contains("managedFields") &&
        (next["metadata"]["managedFields"].is_null() ||
         next["metadata"]["managedFields"].empty())) {
      next["metadata"].erase("managedFields");
    }
  }

  auto& meta = next["metadata"];
  const std::string& g = type.group;
  const std::string& r = type.resource;
  if (!current) {
    meta["uid"] = newUuid(rng);
    meta["creationTimestamp"] = formatTimestamp(now());
    if (type.tracksGeneration) meta["generation"] = 1;
    if (g.empty() && r == "namespaces") {
      if (!next.contains("spec") || !next["spec"].is_object())
        next["spec"] = nlohmann::json::object();
      next["spec"]["finalizers"] = nlohmann::json::array({"kubernetes"});
      next["status"] = {{"phase", "Active"}};
    } else if (g.empty() && r == "services") {
      next["status"] = {{"loadBalancer", nlohmann::json::object()}};
    } else if (g.empty() && r == "pods") {
      next["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
      if (!next["spec"].contains("serviceAccountName"))
        next["spec"]["serviceAccountName"] = "default";
      next["spec"]["serviceAccount"] = next["spec"]["serviceAccountName"];
    } else if (g == "apps" && r == "deployments") {
      next["status"] = nlohmann::json::object();
    } else if (g == "apiextensions.k8s.io") {
      std::string storage;
      if (next.contains("spec") && next["spec"].is_object() && next["spec"].contains("versions") &&
          next["spec"]["versions"].is_array()) {
        for (const auto& v : next["spec"]["versions"]) {
          if (v.is_object() && v.value("storage", false)) storage = v.value("name", "");
        }
      }
      next["status"] = {{"conditions", nullptr},
                        {"acceptedNames", {{"plural", ""}, {"kind", ""}}},
                        {"storedVersions", storage.empty() ? nlohmann::json::array()
                                                           : nlohmann::json::array({storage})}};
    }
  } else if (type.tracksGeneration) {
    std::int64_t gen = curMeta.contains("generation") && curMeta["generation"].is_number_integer()
                           ? curMeta["generation"].get<std::int64_t>()
                           : 0;
    if (specChanged(type, *current, next)) ++gen;
    if (gen > 0) meta["generation"] = gen;
  }

  // Validation.
  std::string name = meta.value("name", "");
  FieldErrors errs = validateObjectMeta(type, next);
  FieldErrors more;
  if (type.custom)
    more = validateSchema(type.schema, next);
  else if (g == "apiextensions.k8s.io")
    more = validateCrd(next, current ? *current : nlohmann::json());
  else
    more = validateBuiltin(type, next, current ? *current : nlohmann::json());
  errs.insert(errs.end(), more.begin(), more.end());
  if (current && !curMeta.value("deletionTimestamp", "").empty()) {
    auto before = finalizersOf(*current);
    std::vector<std::string> added;
    for (const auto& f : finalizersOf(next)) {
      if (std::find(before.begin(), before.end(), f) == before.end()) added.push_back(f);
    }
    if (!added.empty()) {
      std::string list = "[]string{";
      for (std::size_t i = 0; i < added.size(); ++i) list += (i ? ", " : "") + goQuote(added[i]);
      list += "}";
      errs.push_back(FieldError::forbidden(
          "metadata.finalizers",
          "no new finalizers can be added if the object is being deleted, found new finalizers " +
              list));
    }
  }
  if (!errs.empty()) return reject(errors::invalid(type.group, type.kind, name, errs));

  if (g.empty() && r == "services") {
    auto allocated = allocateServiceAddresses(next, current, ctx.dryRun);
    if (!allocated) return reject(allocated.error());
  }
  return next;
}

nlohmann::json ApiServer::Impl::commitWrite(const ResourceType& type, const std::string& key,
                                            const ObjPtr& current, nlohmann::json next) {
  nlohmann::json storage = toStorage(type, std::move(next));
  if (current) {
    if (withoutVolatile(storage) == withoutVolatile(*current)) {
      // kube-apiserver skips no-op updates: no new resourceVersion, no event.
      return toView(type, *current);
    }
    if (!metaString(*current, "deletionTimestamp").empty() && finalizersOf(storage).empty()) {
      auto updated = std::make_shared<const nlohmann::json>(std::move(storage));
      return toView(type, remove(type, key, updated));
    }
  }
  auto stored = put(type, key, std::move(storage), current);
  afterWrite(type, current, stored);
  return toView(type, *stored);
}

std::pair<bool, nlohmann::json> ApiServer::Impl::deleteObject(const ResourceType& type,
                                                              const std::string& key,
                                                              const ObjPtr& current,
                                                              const std::string& propagation) {
  const std::string& g = type.group;
  const std::string& r = type.resource;
  std::string uid = metaString(*current, "uid");
  bool deleting = !metaString(*current, "deletionTimestamp").empty();
  if (g.empty() && r == "namespaces") {
    if (deleting) return {false, toView(type, *current)};
    nlohmann::json next = *current;
    next["metadata"]["deletionTimestamp"] = formatTimestamp(now());
    next["status"]["phase"] = "Terminating";
    auto stored = put(type, key, std::move(next), current);
    scheduleNamespaceCleanup(metaString(*stored, "name"));
    return {false, toView(type, *stored)};
  }
  if (g == "apiextensions.k8s.io") {
    if (deleting) return {false, toView(type, *current)};
    nlohmann::json next = *current;
    next["metadata"]["deletionTimestamp"] = formatTimestamp(now());
    next["metadata"]["deletionGracePeriodSeconds"] = 0;
    auto fins = finalizersOf(next);
    if (std::find(fins.begin(), fins.end(), "customresourcecleanup.apiextensions.k8s.io") ==
        fins.end()) {
      next["metadata"]["finalizers"].push_back("customresourcecleanup.apiextensions.k8s.io");
    }
    if (next["metadata"].contains("generation"))
      next["metadata"]["generation"] = next["metadata"]["generation"].get<std::int64_t>() + 1;
    auto stored = put(type, key, std::move(next), current);
    scheduleCrdCleanup(metaString(*stored, "name"));
    return {false, toView(type, *stored)};
  }
  if (propagation == "Orphan" && !uid.empty()) {
    // Orphan: dependents lose their ownerReference to this object.
    std::vector<std::pair<ResourceTypePtr, ObjPtr>> dependents;
    for (const auto& [storageKey, bucket] : store) {
      for (const auto& [k, obj] : bucket) {
        const auto& refs = metadataOf(*obj).value("ownerReferences", nlohmann::json::array());
        if (!refs.is_array()) continue;
        for (const auto& ref : refs) {
          if (ref.is_object() && ref.value("uid", "") == uid) {
            if (auto t = typeForStorageKey(storageKey)) dependents.push_back({t, obj});
            break;
          }
        }
      }
    }
    for (const auto& [t, obj] : dependents) {
      nlohmann::json next = *obj;
      nlohmann::json kept = nlohmann::json::array();
      for (const auto& ref : next["metadata"]["ownerReferences"]) {
        if (!(ref.is_object() && ref.value("uid", "") == uid)) kept.push_back(ref);
      }
      if (kept.empty())
        next["metadata"].erase("ownerReferences");
      else
        next["metadata"]["ownerReferences"] = kept;
      put(*t, objectKey(metaString(*obj, "namespace"), metaString(*obj, "name")), std::move(next),
          obj);
    }
  }
  if (!finalizersOf(*current).empty()) {
    if (deleting) return {false, toView(type, *current)};
    nlohmann::json next = *current;
    next["metadata"]["deletionTimestamp"] = formatTimestamp(now());
    next["metadata"]["deletionGracePeriodSeconds"] = 0;
    if (next["metadata"].contains("generation") &&
        next["metadata"]["generation"].is_number_integer()) {
      next["metadata"]["generation"] = next["metadata"]["generation"].get<std::int64_t>() + 1;
    }
    auto stored = put(type, key, std::move(next), current);
    return {false, toView(type, *stored)};
  }
  return {true, toView(type, remove(type, key, current))};
}

// ---------------------------------------------------------------- verbs

void ApiServer::Impl::doGet(Ctx& ctx) {
  const ResourceType& type = *ctx.type;
  nlohmann::json view;
  {
    StoreLock lock(this);
    auto obj = find(type.storageKey, keyFor(type, ctx.info.ns, ctx.info.name));
    if (!obj)
      return respondError(ctx.ex, errors::notFound(type.group, type.resource, ctx.info.name));
    view = toView(type, *obj);
  }
  if (acceptsTable(ctx.req)) {
    return respondJson(ctx, 200,
                       renderTable(type, {view}, metaString(view, "resourceVersion"), now(),
                                   includeObject(ctx.req)));
  }
  if (acceptsPartial(ctx.req)) return respondJson(ctx, 200, partialObjectMetadata(view));
  respondJson(ctx, 200, view);
}

void ApiServer::Impl::doList(Ctx& ctx) {
  const ResourceType& type = *ctx.type;
  auto labels = LabelSelector::parse(queryParam(ctx.req, "labelSelector").value_or(""));
  if (!labels) return respondError(ctx.ex, errors::badRequest(labels.error().message()));
  auto fields = FieldSelector::parse(queryParam(ctx.req, "fieldSelector").value_or(""));
  if (!fields) return respondError(ctx.ex, errors::badRequest(fields.error().message()));
  if (auto ok = checkFieldSelector(type, *fields); !ok) return respondError(ctx.ex, ok.error());
  std::size_t limit = 0;
  if (auto l = queryParam(ctx.req, "limit"); l && !l->empty()) {
    try {
      long long v = std::stoll(*l);
      if (v < 0) throw std::invalid_argument("negative");
      limit = static_cast<std::size_t>(v);
    } catch (...) {
      return respondError(ctx.ex, errors::badRequest("invalid limit: " + *l));
    }
  }
  std::string start;
  std::uint64_t continueRv = 0;
  if (auto c = queryParam(ctx.req, "continue"); c && !c->empty()) {
    auto raw = base64::decode(*c);
    nlohmann::json token = raw ? nlohmann::json::parse(*raw, nullptr, false) : nlohmann::json();
    if (!token.is_object() || !token.contains("start") || !token["start"].is_string() ||
        !token.contains("rv") || !token["rv"].is_number_unsigned()) {
      return respondError(ctx.ex,
                          errors::badRequest("continue key is not valid: incorrect encoded start "
                                             "resourceVersion (version meta.k8s.io/v1)"));
    }
    start = token["start"].get<std::string>();
    continueRv = token["rv"].get<std::uint64_t>();
  }
  std::vector<nlohmann::json> items;
  nlohmann::json listMeta = nlohmann::json::object();
  {
    StoreLock lock(this);
    if (auto match = queryParam(ctx.req, "resourceVersionMatch"); match && *match == "Exact") {
      auto want = queryParam(ctx.req, "resourceVersion").value_or("");
      if (want != std::to_string(rv)) {
        return respondError(ctx.ex, errors::expired("too old resource version: " + want + " (" +
                                                    std::to_string(rv) + ")"));
      }
    }
    std::uint64_t listRv = continueRv ? continueRv : rv;
    if (continueRv && continueRv <= historyFloor && historyFloor > 0 && continueRv < rv) {
      // kube-apiserver keeps no snapshot older than its compaction window either.
      listRv = rv;
    }
    listMeta["resourceVersion"] = std::to_string(listRv);
    // A continued list reads the first page's snapshot (etcd serves it at that revision): undo
    // the newer changes recorded in the history.
    std::map<std::string, ObjPtr> snapshot;
    auto b = store.find(type.storageKey);
    if (listRv < rv) {
      if (b != store.end()) snapshot = b->second;
      for (auto h = history.rbegin(); h != history.rend() && h->rv > listRv; ++h) {
        if (h->storageKey != type.storageKey) continue;
        const nlohmann::json& o = *h->object;
        std::string key = objectKey(type.namespaced ? metaString(o, "namespace") : "", metaString(o, "name"));
        if (h->previous) {
          snapshot[key] = h->previous;
        } else {
          snapshot.erase(key);
        }
      }
    }
    const std::map<std::string, ObjPtr>* bucket =
        listRv < rv ? &snapshot : (b != store.end() ? &b->second : nullptr);
    if (bucket) {
      std::string prefix = type.namespaced && !ctx.info.ns.empty() ? ctx.info.ns + "/" : "";
      auto it = start.empty() ? bucket->lower_bound(prefix) : bucket->upper_bound(start);
      std::string lastKey;
      std::size_t remaining = 0;
      bool truncated = false;
      for (; it != bucket->end(); ++it) {
        if (!prefix.empty() && it->first.compare(0, prefix.size(), prefix) != 0) break;
        const nlohmann::json& obj = *it->second;
        bool match = labels->matches(labelsOf(obj)) && fields->matches([&](const std::string& f) {
          return fieldValue(type, obj, f);
        });
        if (truncated) {
          if (match) ++remaining;
          continue;
        }
        if (!match) continue;
        if (limit > 0 && items.size() == limit) {
          truncated = true;
          ++remaining;
          continue;
        }
        items.push_back(toView(type, obj));
        lastKey = it->first;
      }
      if (truncated) {
        nlohmann::json token = {{"v", "meta.k8s.io/v1"}, {"rv", listRv}, {"start", lastKey}};
        listMeta["continue"] = base64::encode(token.dump());
        if (labels->empty() && fields->empty()) listMeta["remainingItemCount"] = remaining;
      }
    }
  }
  if (acceptsTable(ctx.req)) {
    nlohmann::json meta = listMeta;
    meta.erase("resourceVersion");
    return respondJson(
        ctx, 200,
        renderTable(type, items, listMeta["resourceVersion"], now(), includeObject(ctx.req), meta));
  }
  nlohmann::json arr = nlohmann::json::array();
  bool partial = acceptsPartial(ctx.req);
  for (auto& v : items) {
    if (partial) {
      arr.push_back(partialObjectMetadata(v));
      continue;
    }
    if (!type.custom) {
      v.erase("apiVersion");
      v.erase("kind");
    }
    arr.push_back(std::move(v));
  }
  if (partial) {
    return respondJson(ctx, 200,
                       {{"kind", "PartialObjectMetadataList"},
                        {"apiVersion", "meta.k8s.io/v1"},
                        {"metadata", listMeta},
                        {"items", arr}});
  }
  respondJson(ctx, 200,
              {{"kind", type.listKind},
               {"apiVersion", type.apiVersion()},
               {"metadata", listMeta},
               {"items", arr}});
}

namespace {

Result<nlohmann::json> createLocked(ApiServer::Impl& s, Ctx& ctx, const ResourceType& type,
                                    nlohmann::json obj, bool managedFieldsDone, StoreLock& lock) {
  auto& meta = obj["metadata"];
  std::string name = meta.value("name", "");
  std::string generate = meta.value("generateName", "");
  std::string ns = type.namespaced ? meta.value("namespace", "") : "";
  if (name.empty() && !generate.empty()) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      std::string candidate = generate + randomNameSuffix(s.rng);
      if (!s.find(type.storageKey, objectKey(ns, candidate))) {
        name = candidate;
        break;
      }
    }
    meta["name"] = name;
  }
  if (type.namespaced && !ns.empty()) {
    auto nsObj = s.find("/namespaces", objectKey("", ns));
    if (!nsObj) return reject(errors::notFound("", "namespaces", ns));
    if (!metaString(*nsObj, "deletionTimestamp").empty()) {
      return reject(errors::forbidden(
          type.group, type.resource, name,
          "unable to create new content in namespace " + ns + " because it is being terminated"));
    }
  }
  std::string key = objectKey(ns, name);
  if (!name.empty() && s.find(type.storageKey, key))
    return reject(errors::alreadyExists(type.group, type.resource, name));
  auto next = s.finalizeWrite(ctx, type, nullptr, std::move(obj), "", managedFieldsDone);
  if (!next) return next;
  if (isRbac(type) && !ctx.admin) {
    lock.unlock();
    std::string denied = s.escalationCheck(ctx, type, *next, nullptr);
    lock.lock();
    if (!denied.empty())
      return reject(errors::forbiddenWithMessage(type.group, type.resource, name, denied));
    if (s.find(type.storageKey, key))
      return reject(errors::alreadyExists(type.group, type.resource, name));
  }
  if (ctx.dryRun) return next;
  auto stored = s.put(type, key, s.toStorage(type, std::move(*next)), nullptr);
  s.afterWrite(type, nullptr, stored);
  return s.toView(type, *stored);
}

/// Finishes an update of `current` to `next` (escalation check, dry run, commit).
Result<nlohmann::json> updateLocked(ApiServer::Impl& s, Ctx& ctx, const ResourceType& type,
                                    const std::string& key, const ObjPtr& current,
                                    nlohmann::json next, StoreLock& lock) {
  if (isRbac(type) && !ctx.admin) {
    nlohmann::json previous = s.toView(type, *current);
    lock.unlock();
    std::string denied = s.escalationCheck(ctx, type, next, &previous);
    lock.lock();
    if (!denied.empty())
      return reject(errors::forbiddenWithMessage(type.group, type.resource, ctx.info.name, denied));
    if (s.find(type.storageKey, key) != current) {
      return reject(errors::staleConflict(type.group, type.resource, ctx.info.name));
    }
  }
  if (ctx.dryRun) return next;
  return s.commitWrite(type, key, current, std::move(next));
}

}  // namespace

void ApiServer::Impl::doCreate(Ctx& ctx) {
  const ResourceType& type = *ctx.type;
  if (type.namespaced && ctx.info.ns.empty())
    return respondError(ctx.ex, errors::methodNotAllowed());
  auto body = decodeBody(ctx, type);
  if (!body) return respondError(ctx.ex, body.error());
  auto& meta = (*body)["metadata"];
  if (type.namespaced) {
    std::string bodyNs = meta.value("namespace", "");
    if (!bodyNs.empty() && bodyNs != ctx.info.ns) {
      return respondError(ctx.ex,
                          errors::badRequest("the namespace of the provided object does not match "
                                             "the namespace sent on the request"));
    }
    meta["namespace"] = ctx.info.ns;
  }
  if (!meta.value("resourceVersion", "").empty()) {
    return respondError(
        ctx.ex, errors::badRequest("resourceVersion should not be set on objects to be created"));
  }
  StoreLock lock(this);
  auto created = createLocked(*this, ctx, type, std::move(*body), false, lock);
  lock.unlock();
  if (!created) return respondError(ctx.ex, created.error());
  respondJson(ctx, 201, *created);
}

void ApiServer::Impl::doUpdate(Ctx& ctx) {
  const ResourceType& type = *ctx.type;
  auto body = decodeBody(ctx, type);
  if (!body) return respondError(ctx.ex, body.error());
  auto& meta = (*body)["metadata"];
  std::string bodyName = meta.value("name", "");
  if (bodyName.empty())
    meta["name"] = ctx.info.name;
  else if (bodyName != ctx.info.name) {
    return respondError(
        ctx.ex, errors::badRequest("the name of the object (" + bodyName +
                                   ") does not match the name on the URL (" + ctx.info.name + ")"));
  }
  if (type.namespaced) {
    std::string bodyNs = meta.value("namespace", "");
    if (!bodyNs.empty() && bodyNs != ctx.info.ns) {
      return respondError(ctx.ex,
                          errors::badRequest("the namespace of the provided object does not match "
                                             "the namespace sent on the request"));
    }
    meta["namespace"] = ctx.info.ns;
  }
  std::string key = keyFor(type, ctx.info.ns, ctx.info.name);
  StoreLock lock(this);
  auto current = find(type.storageKey, key);
  if (!current) {
    if (type.allowCreateOnUpdate && ctx.info.subresource.empty()) {
      meta.erase("resourceVersion");
      auto created = createLocked(*this, ctx, type, std::move(*body), false, lock);
      lock.unlock();
      if (!created) return respondError(ctx.ex, created.error());
      return respondJson(ctx, 201, *created);
    }
    lock.unlock();
    return respondError(ctx.ex, errors::notFound(type.group, type.resource, ctx.info.name));
  }
  std::string bodyRv = meta.value("resourceVersion", "");
  if (bodyRv.empty()) {
    if (!type.allowUnconditionalUpdate) {
      FieldError e = FieldError::invalid("metadata.resourceVersion", nullptr,
                                         "must be specified for an update");
      e.rawValue = "0x0";
      lock.unlock();
      return respondError(ctx.ex, errors::invalid(type.group, type.kind, ctx.info.name, {e}));
    }
  } else if (bodyRv != metaString(*current, "resourceVersion")) {
    lock.unlock();
    return respondError(ctx.ex, errors::staleConflict(type.group, type.resource, ctx.info.name));
  }
  nlohmann::json curView = toView(type, *current);
  auto next = finalizeWrite(ctx, type, &curView, std::move(*body), ctx.info.subresource, false);
  if (!next) {
    lock.unlock();
    return respondError(ctx.ex, next.error());
  }
  auto result = updateLocked(*this, ctx, type, key, current, std::move(*next), lock);
  lock.unlock();
  if (!result) return respondError(ctx.ex, result.error());
  respondJson(ctx, 200, *result);
}

void ApiServer::Impl::doPatch(Ctx& ctx) {
  const ResourceType& type = *ctx.type;
  const auto& req = ctx.req;
  std::string ct = mediaType(req);
  std::vector<std::string> accepted = {"application/json-patch+json",
                                       "application/merge-patch+json",
                                       "application/apply-patch+yaml"};
  if (!type.custom) accepted.push_back("application/strategic-merge-patch+json");
  if (std::find(accepted.begin(), accepted.end(), ct) == accepted.end()) {
    return respondError(ctx.ex, errors::unsupportedMediaType(accepted));
  }
  if (req.bodyTooLarge || req.body.size() > opts.maxBodyBytes) {
    return respondError(ctx.ex, errors::requestEntityTooLarge(opts.maxBodyBytes));
  }
  bool apply = ct == "application/apply-patch+yaml";
  bool force = queryParam(req, "force").value_or("") == "true";
  nlohmann::json patch;
  if (nestingDepth(req.body) > kMaxNesting)
    return respondError(ctx.ex, errors::badRequest("the patch is nested too deeply"));
  if (apply) {
    if (!queryParam(req, "fieldManager") || queryParam(req, "fieldManager")->empty()) {
      return respondError(
          ctx.ex,
          errors::badRequest("PATCH requests with apply patch type must specify a field manager"));
    }
    auto y = yamlToJson(req.body);
    if (!y)
      return respondError(ctx.ex,
                          errors::badRequest("error decoding YAML: " + y.error().message()));
    patch = std::move(*y);
    if (!patch.is_object())
      return respondError(ctx.ex,
                          errors::badRequest("the applied object must be a YAML or JSON object"));
    std::string kind = stringAt(patch, "kind");
    std::string apiVersion = stringAt(patch, "apiVersion");
    if (kind.empty() || apiVersion.empty()) {
      return respondError(ctx.ex,
                          errors::badRequest("invalid object: apiVersion and kind must be set"));
    }
    if (kind != type.kind || apiVersion != type.apiVersion()) {
      return respondError(
          ctx.ex, errors::badRequest("the apiVersion and kind of the applied object (" +
                                     apiVersion + ", " + kind + ") do not match the request (" +
                                     type.apiVersion() + ", " + type.kind + ")"));
    }
    if (auto te = typeError(patch, type)) {
      return respondError(ctx.ex,
                          errors::badRequest(type.kind + " in version " + goQuote(type.version) +
                                             " cannot be handled as a " + type.kind + ": " + *te));
    }
  } else {
    try {
      patch = nlohmann::json::parse(req.body);
    } catch (const nlohmann::json::parse_error& e) {
      return respondError(ctx.ex, errors::badRequest(goSyntaxError(req.body, e.byte)));
    }
    bool jsonPatch = ct == "application/json-patch+json";
    if (jsonPatch && !patch.is_array()) {
      return respondError(
          ctx.ex, errors::badRequest("json: cannot unmarshal " + std::string(goJsonType(patch)) +
                                     " into Go value of type jsonpatch.Patch"));
    }
    if (!jsonPatch && !patch.is_object()) {
      return respondError(
          ctx.ex, errors::badRequest("json: cannot unmarshal " + std::string(goJsonType(patch)) +
                                     " into Go value of type map[string]interface {}"));
    }
  }
  std::string key = keyFor(type, ctx.info.ns, ctx.info.name);
  const std::string& sub = ctx.info.subresource;
  StoreLock lock(this);
  auto current = find(type.storageKey, key);
  if (!current) {
    if (!apply || !sub.empty()) {
      lock.unlock();
      return respondError(ctx.ex, errors::notFound(type.group, type.resource, ctx.info.name));
    }
    auto& meta = patch["metadata"];
    if (!meta.is_object()) meta = nlohmann::json::object();
    if (meta.value("name", "").empty()) meta["name"] = ctx.info.name;
    if (meta.value("name", "") != ctx.info.name) {
      lock.unlock();
      return respondError(
          ctx.ex,
          errors::badRequest("the name of the object (" + meta.value("name", "") +
                             ") does not match the name on the URL (" + ctx.info.name + ")"));
    }
    if (type.namespaced) meta["namespace"] = ctx.info.ns;
    if (type.hasStatus()) patch.erase("status");
    auto outcome = deps.merge.serverSideApply(nlohmann::json(), patch, ctx.manager, force,
                                              type.apiVersion(), "", now());
    if (!outcome) {
      lock.unlock();
      return respondError(ctx.ex, apiErrorFrom(outcome.error()));
    }
    auto created = createLocked(*this, ctx, type, std::move(outcome->object), true, lock);
    lock.unlock();
    if (!created) return respondError(ctx.ex, created.error());
    return respondJson(ctx, 201, *created);
  }
  nlohmann::json curView = toView(type, *current);
  nlohmann::json patched;
  bool managedFieldsDone = false;
  if (ct == "application/json-patch+json") {
    try {
      // kube-apiserver's JSON patch (evanphx/json-patch) lets `test` with a null value pass on a
      // missing member (how a client asserts "absent", e.g. no finalizers yet); nlohmann throws.
      nlohmann::json ops = nlohmann::json::array();
      for (const auto& op : patch) {
        bool nullTest = op.is_object() && op.value("op", "") == "test" && op.contains("value") &&
                        op["value"].is_null() && op.value("path", "").rfind('/', 0) == 0;
        if (nullTest && !curView.contains(nlohmann::json::json_pointer(op.value("path", "")))) continue;
        ops.push_back(op);
      }
      patched = curView.patch(ops);
    } catch (const std::exception&) {
      lock.unlock();
      return respondError(ctx.ex, errors::genericUnprocessable());
    }
  } else if (ct == "application/merge-patch+json") {
    patched = curView;
    patched.merge_patch(patch);
  } else if (ct == "application/strategic-merge-patch+json") {
    auto r = deps.merge.strategicMergePatch(curView, patch, type.apiVersion(), type.kind);
    if (!r) {
      lock.unlock();
      return respondError(ctx.ex, apiErrorFrom(r.error()));
    }
    patched = std::move(*r);
  } else {
    std::string appliedRv = metaString(patch, "resourceVersion");
    if (!appliedRv.empty() && appliedRv != metaString(*current, "resourceVersion")) {
      lock.unlock();
      return respondError(ctx.ex, errors::staleConflict(type.group, type.resource, ctx.info.name));
    }
    // kube resets status on the main endpoint of a resource with a status subresource.
    if (sub.empty() && type.hasStatus()) patch.erase("status");
    auto outcome = deps.merge.serverSideApply(curView, patch, ctx.manager, force, type.apiVersion(),
                                              sub, now());
    if (!outcome) {
      lock.unlock();
      return respondError(ctx.ex, apiErrorFrom(outcome.error()));
    }
    if (!outcome->conflicts.empty() && !force) {
      nlohmann::json status = deps.merge.conflictStatus(outcome->conflicts, type.apiVersion());
      lock.unlock();
      return respondError(ctx.ex, ApiError{409, status, {}});
    }
    patched = std::move(outcome->object);
    managedFieldsDone = true;
  }
  if (!patched.is_object()) {
    lock.unlock();
    return respondError(ctx.ex, errors::badRequest("the patched object is not a JSON object"));
  }
  std::string patchedRv = metaString(patched, "resourceVersion");
  if (!managedFieldsDone && !patchedRv.empty() &&
      patchedRv != metaString(*current, "resourceVersion")) {
    lock.unlock();
    return respondError(ctx.ex, errors::staleConflict(type.group, type.resource, ctx.info.name));
  }
  std::string patchedName = metaString(patched, "name");
  if (patchedName != ctx.info.name) {
    lock.unlock();
    return respondError(
        ctx.ex, errors::badRequest("the name of the object (" + patchedName +
                                   ") does not match the name on the URL (" + ctx.info.name + ")"));
  }
  if (type.namespaced && metaString(patched, "namespace") != ctx.info.ns) {
    lock.unlock();
    return respondError(ctx.ex, errors::badRequest("the namespace of the provided object does not "
                                                   "match the namespace sent on the request"));
  }
  auto next = finalizeWrite(ctx, type, &curView, std::move(patched), sub, managedFieldsDone);
  if (!next) {
    lock.unlock();
    return respondError(ctx.ex, next.error());
  }
  auto result = updateLocked(*this, ctx, type, key, current, std::move(*next), lock);
  lock.unlock();
  if (!result) return respondError(ctx.ex, result.error());
  respondJson(ctx, 200, *result);
}

namespace {

struct DeleteOptions {
  std::string propagation = "Background";
  std::string uid;
  std::string resourceVersion;
};

Result<DeleteOptions> parseDeleteOptions(const Ctx& ctx) {
  DeleteOptions o;
  if (auto p = queryParam(ctx.req, "propagationPolicy")) o.propagation = *p;
  if (queryParam(ctx.req, "orphanDependents").value_or("") == "true") o.propagation = "Orphan";
  if (!ctx.req.body.empty()) {
    nlohmann::json body;
    if (mediaType(ctx.req) == kProtobufContentType) {
      auto p = decodeKubeProtobuf(ctx.req.body);
      body = p ? *p : nlohmann::json(nullptr);
    } else {
      body = nlohmann::json::parse(ctx.req.body, nullptr, false);
    }
    if (body.is_discarded() || !body.is_object())
      return reject(errors::badRequest("the body of the request must be DeleteOptions"));
    if (body.contains("propagationPolicy") && body["propagationPolicy"].is_string()) {
      o.propagation = body["propagationPolicy"].get<std::string>();
    }
    if (body.value("orphanDependents", false)) o.propagation = "Orphan";
    if (body.contains("preconditions") && body["preconditions"].is_object()) {
      o.uid = stringAt(body["preconditions"], "uid");
      o.resourceVersion = stringAt(body["preconditions"], "resourceVersion");
    }
  }
  if (o.propagation != "Background" && o.propagation != "Foreground" && o.propagation != "Orphan") {
    return reject(
        errors::invalid("", "DeleteOptions", "",
                        {FieldError::notSupported("propagationPolicy", o.propagation,
                                                  {"Background", "Foreground", "Orphan"})}));
  }
  return o;
}

}  // namespace

void ApiServer::Impl::doDelete(Ctx& ctx) {
  const ResourceType& type = *ctx.type;
  if (!ctx.info.subresource.empty()) return respondError(ctx.ex, errors::methodNotAllowed());
  auto options = parseDeleteOptions(ctx);
  if (!options) return respondError(ctx.ex, options.error());
  std::string key = keyFor(type, ctx.info.ns, ctx.info.name);
  StoreLock lock(this);
  auto current = find(type.storageKey, key);
  if (!current) {
    lock.unlock();
    return respondError(ctx.ex, errors::notFound(type.group, type.resource, ctx.info.name));
  }
  std::string uid = metaString(*current, "uid");
  if (!options->uid.empty() && options->uid != uid) {
    lock.unlock();
    return respondError(
        ctx.ex, errors::conflict(type.group, type.resource, ctx.info.name,
                                 "Precondition failed: UID in precondition: " + options->uid +
                                     ", UID in object meta: " + uid));
  }
  std::string curRv = metaString(*current, "resourceVersion");
  if (!options->resourceVersion.empty() && options->resourceVersion != curRv) {
    lock.unlock();
    return respondError(ctx.ex,
                        errors::conflict(type.group, type.resource, ctx.info.name,
                                         "Precondition failed: ResourceVersion in precondition: " +
                                             options->resourceVersion +
                                             ", ResourceVersion in object meta: " + curRv));
  }
  if (ctx.dryRun) {
    auto view = toView(type, *current);
    lock.unlock();
    return respondJson(ctx, 200, view);
  }
  auto [removed, view] = deleteObject(type, key, current, options->propagation);
  lock.unlock();
  if (removed && !type.returnDeletedObject) {
    nlohmann::json details = {{"name", ctx.info.name}, {"kind", type.resource}, {"uid", uid}};
    if (!type.group.empty()) details["group"] = type.group;
    return respondJson(ctx, 200,
                       {{"kind", "Status"},
                        {"apiVersion", "v1"},
                        {"metadata", nlohmann::json::object()},
                        {"status", "Success"},
                        {"details", details}});
  }
  respondJson(ctx, 200, view);
}

void ApiServer::Impl::doDeleteCollection(Ctx& ctx) {
  const ResourceType& type = *ctx.type;
  auto labels = LabelSelector::parse(queryParam(ctx.req, "labelSelector").value_or(""));
  if (!labels) return respondError(ctx.ex, errors::badRequest(labels.error().message()));
  auto fields = FieldSelector::parse(queryParam(ctx.req, "fieldSelector").value_or(""));
  if (!fields) return respondError(ctx.ex, errors::badRequest(fields.error().message()));
  if (auto ok = checkFieldSelector(type, *fields); !ok) return respondError(ctx.ex, ok.error());
  auto options = parseDeleteOptions(ctx);
  if (!options) return respondError(ctx.ex, options.error());
  nlohmann::json items = nlohmann::json::array();
  std::string listRv;
  {
    StoreLock lock(this);
    std::vector<std::pair<std::string, ObjPtr>> victims;
    auto b = store.find(type.storageKey);
    if (b != store.end()) {
      for (const auto& [key, obj] : b->second) {
        if (type.namespaced && !ctx.info.ns.empty() && metaString(*obj, "namespace") != ctx.info.ns)
          continue;
        if (!labels->matches(labelsOf(*obj))) continue;
        const auto& object = *obj;  // clang 14 cannot capture a structured binding
        if (!fields->matches([&](const std::string& f) { return fieldValue(type, object, f); }))
          continue;
        victims.push_back({key, obj});
      }
    }
    for (const auto& [key, obj] : victims) {
      if (ctx.dryRun) {
        items.push_back(toView(type, *obj));
        continue;
      }
      auto [removed, view] = deleteObject(type, key, obj, options->propagation);
      (void)removed;
      if (!type.custom) {
        view.erase("apiVersion");
        view.erase("kind");
      }
      items.push_back(std::move(view));
    }
    listRv = std::to_string(rv);
  }
  respondJson(ctx, 200,
              {{"kind", type.listKind},
               {"apiVersion", type.apiVersion()},
               {"metadata", {{"resourceVersion", listRv}}},
               {"items", items}});
}

void ApiServer::Impl::doTokenRequest(Ctx& ctx) {
  const auto& req = ctx.req;
  if (req.bodyTooLarge || req.body.size() > opts.maxBodyBytes) {
    return respondError(ctx.ex, errors::requestEntityTooLarge(opts.maxBodyBytes));
  }
  std::string ct = mediaType(req);
  nlohmann::json body;
  if (ct == "application/json") {
    body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded())
      return respondError(
          ctx.ex,
          errors::badRequest("the object provided is unrecognized (must be of type TokenRequest)"));
  } else if (ct == "application/yaml") {
    auto y = yamlToJson(req.body);
    if (!y)
      return respondError(
          ctx.ex, errors::badRequest("error converting YAML to JSON: " + y.error().message()));
    body = std::move(*y);
  } else if (ct == kProtobufContentType) {
    auto p = decodeKubeProtobuf(req.body);
    if (!p)
      return respondError(
          ctx.ex, errors::badRequest(
                      "the object provided is unrecognized (must be of type TokenRequest): " +
                      p.error().message()));
    body = std::move(*p);
  } else {
    return respondError(ctx.ex,
                        errors::unsupportedMediaType({"application/json", "application/yaml",
                                                      "application/vnd.kubernetes.protobuf"}));
  }
  if (!body.is_object()) body = nlohmann::json::object();
  nlohmann::json spec = body.value("spec", nlohmann::json::object());
  if (!spec.is_object()) spec = nlohmann::json::object();
  const std::string& name = ctx.info.name;
  auto expiration = tokenRequestExpiration(body);
  if (!expiration) return respondError(ctx.ex, apiErrorFrom(expiration.error()));
  std::int64_t seconds = expiration->count();
  std::vector<std::string> audiences;
  if (spec.contains("audiences") && spec["audiences"].is_array()) {
    for (const auto& a : spec["audiences"]) {
      if (a.is_string()) audiences.push_back(a.get<std::string>());
    }
  }
  if (audiences.empty()) audiences = opts.tokenAudiences;
  std::string uid;
  {
    StoreLock lock(this);
    auto sa = find("/serviceaccounts", objectKey(ctx.info.ns, name));
    if (!sa) return respondError(ctx.ex, errors::notFound("", "serviceaccounts", name));
    uid = metaString(*sa, "uid");
  }
  if (!deps.auth.tokens) return respondError(ctx.ex, errors::internal("no token authority"));
  auto issued =
      deps.auth.tokens->issue(ctx.info.ns, name, uid, std::chrono::seconds(seconds), audiences);
  WallTime t = now();
  nlohmann::json tracked = {{"apiVersion", "authentication.k8s.io/v1"},
                            {"kind", "TokenRequest"},
                            {"metadata", {{"name", name}, {"namespace", ctx.info.ns}}},
                            {"spec", body.value("spec", nlohmann::json::object())}};
  nlohmann::json meta = {
      {"name", name}, {"namespace", ctx.info.ns}, {"creationTimestamp", formatTimestamp(t)}};
  if (deps.merge.recordUpdate) {
    auto withFields = deps.merge.recordUpdate(nlohmann::json(), tracked, ctx.manager,
                                              "authentication.k8s.io/v1", "token", t);
    if (withFields.contains("metadata") && withFields["metadata"].contains("managedFields")) {
      meta["managedFields"] = withFields["metadata"]["managedFields"];
    }
  }
  nlohmann::json boundRef =
      spec.contains("boundObjectRef") ? spec["boundObjectRef"] : nlohmann::json();
  nlohmann::json resp = {
      {"kind", "TokenRequest"},
      {"apiVersion", "authentication.k8s.io/v1"},
      {"metadata", meta},
      {"spec",
       {{"audiences", audiences}, {"expirationSeconds", seconds}, {"boundObjectRef", boundRef}}},
      {"status",
       {{"token", issued.token}, {"expirationTimestamp", formatTimestamp(issued.expiresAt)}}}};
  respondJson(ctx, 201, resp);
}

void ApiServer::Impl::doReview(Ctx& ctx) {
  const ResourceType& type = *ctx.type;
  auto body = decodeBody(ctx, type);
  if (!body) return respondError(ctx.ex, body.error());
  nlohmann::json spec = body->value("spec", nlohmann::json::object());
  if (!spec.is_object()) spec = nlohmann::json::object();
  nlohmann::json status = nlohmann::json::object();
  auto attributesFrom = [](const nlohmann::json& s) {
    Attributes a;
    if (s.contains("resourceAttributes") && s["resourceAttributes"].is_object()) {
      const auto& r = s["resourceAttributes"];
      a.verb = stringAt(r, "verb");
      a.apiGroup = stringAt(r, "group");
      a.resource = stringAt(r, "resource");
      a.subresource = stringAt(r, "subresource");
      a.ns = stringAt(r, "namespace");
      a.name = stringAt(r, "name");
      a.resourceRequest = true;
    } else if (s.contains("nonResourceAttributes") && s["nonResourceAttributes"].is_object()) {
      const auto& n = s["nonResourceAttributes"];
      a.verb = stringAt(n, "verb");
      a.path = stringAt(n, "path");
      a.resourceRequest = false;
    }
    return a;
  };
  auto decide = [&](const UserInfo& user, bool admin, const Attributes& a) {
    if (admin) {
      status["allowed"] = true;
      return;
    }
    if (!authorizer) {
      status["allowed"] = true;
      return;
    }
    Decision d = authorizer->authorize(user, a);
    status["allowed"] = d.allowed;
    if (!d.allowed && !d.reason.empty() && d.reason.rfind("User ", 0) != 0)
      status["reason"] = d.reason;
  };
  const std::string& r = type.resource;
  if (r == "selfsubjectaccessreviews") {
    if (!spec.contains("resourceAttributes") && !spec.contains("nonResourceAttributes")) {
      return respondError(
          ctx.ex, errors::invalid(type.group, type.kind, "",
                                  {FieldError::invalid("spec.resourceAttributes", nullptr,
                                                       "exactly one of nonResourceAttributes or "
                                                       "resourceAttributes must be specified")}));
    }
    decide(ctx.user, ctx.admin, attributesFrom(spec));
  } else if (r == "subjectaccessreviews") {
    UserInfo u;
    u.name = stringAt(spec, "user");
    u.uid = stringAt(spec, "uid");
    if (spec.contains("groups") && spec["groups"].is_array()) {
      for (const auto& g : spec["groups"]) {
        if (g.is_string()) u.groups.push_back(g.get<std::string>());
      }
    }
    bool admin = std::find(u.groups.begin(), u.groups.end(), "system:masters") != u.groups.end();
    decide(u, admin, attributesFrom(spec));
  } else if (r == "selfsubjectrulesreviews") {
    std::string ns = stringAt(spec, "namespace");
    nlohmann::json rules = authorizer ? authorizer->rulesFor(ctx.user, ns) : nlohmann::json();
    if (ctx.admin && (rules.is_null() || rules.empty())) {
      rules = {{"resourceRules", {{{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}}}},
               {"nonResourceRules", {{{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}}}}};
    }
    if (rules.is_array()) rules = {{"resourceRules", rules}};
    if (!rules.is_object()) rules = nlohmann::json::object();
    if (!rules.contains("resourceRules")) rules["resourceRules"] = nlohmann::json::array();
    if (!rules.contains("nonResourceRules")) rules["nonResourceRules"] = nlohmann::json::array();
    if (!rules.contains("incomplete")) rules["incomplete"] = false;
    status = rules;
  } else if (r == "tokenreviews") {
    std::string token = stringAt(spec, "token");
    std::optional<UserInfo> u =
        deps.auth.tokens && !token.empty() ? deps.auth.tokens->authenticate(token) : std::nullopt;
    status["authenticated"] = u.has_value();
    if (u) {
      status["user"] = {{"username", u->name}, {"uid", u->uid}, {"groups", u->groups}};
      status["audiences"] =
          spec.contains("audiences") ? spec["audiences"] : nlohmann::json(opts.tokenAudiences);
    } else {
      status["user"] = nlohmann::json::object();
    }
  } else if (r == "selfsubjectreviews") {
    status["userInfo"] = {{"username", ctx.user.name}, {"groups", ctx.user.groups}};
    if (!ctx.user.uid.empty()) status["userInfo"]["uid"] = ctx.user.uid;
  }
  nlohmann::json meta = {{"creationTimestamp", nullptr}};
  if (deps.merge.recordUpdate && !spec.empty()) {
    nlohmann::json tracked = {{"apiVersion", type.apiVersion()},
                              {"kind", type.kind},
                              {"metadata", nlohmann::json::object()},
                              {"spec", spec}};
    auto withFields = deps.merge.recordUpdate(nlohmann::json(), tracked, ctx.manager,
                                              type.apiVersion(), "", now());
    if (withFields.contains("metadata") && withFields["metadata"].contains("managedFields")) {
      meta["managedFields"] = withFields["metadata"]["managedFields"];
    }
  }
  nlohmann::json resp = {{"kind", type.kind},
                         {"apiVersion", type.apiVersion()},
                         {"metadata", meta},
                         {"status", status}};
  if (!spec.empty()) resp["spec"] = spec;
  respondJson(ctx, 201, resp);
}

void ApiServer::Impl::doScale(Ctx& ctx) {
  const ResourceType& type = *ctx.type;
  std::string key = keyFor(type, ctx.info.ns, ctx.info.name);
  auto scaleOf = [&](const nlohmann::json& obj) {
    const auto& meta = metadataOf(obj);
    nlohmann::json m = {{"name", meta.value("name", "")},
                        {"uid", meta.value("uid", "")},
                        {"resourceVersion", meta.value("resourceVersion", "")},
                        {"creationTimestamp", meta.value("creationTimestamp", "")}};
    if (meta.contains("namespace")) m["namespace"] = meta["namespace"];
    const auto& spec = obj.value("spec", nlohmann::json::object());
    const auto& st = obj.value("status", nlohmann::json::object());
    std::string selector;
    if (spec.is_object() && spec.contains("selector") && spec["selector"].is_object()) {
      nlohmann::json matchLabels = spec["selector"].value("matchLabels", nlohmann::json::object());
      for (const auto& [k, v] : matchLabels.items()) {
        selector += (selector.empty() ? "" : ",") + k + "=" +
                    (v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    nlohmann::json status = {{"replicas", st.is_object() ? st.value("replicas", 0) : 0}};
    if (!selector.empty()) status["selector"] = selector;
    return nlohmann::json{
        {"kind", "Scale"},
        {"apiVersion", "autoscaling/v1"},
        {"metadata", m},
        {"spec", {{"replicas", spec.is_object() ? spec.value("replicas", 0) : 0}}},
        {"status", status}};
  };
  const std::string& m = ctx.req.method;
  StoreLock lock(this);
  auto current = find(type.storageKey, key);
  if (!current) {
    lock.unlock();
    return respondError(ctx.ex, errors::notFound(type.group, type.resource, ctx.info.name));
  }
  nlohmann::json scale = scaleOf(*current);
  if (m == "GET") {
    lock.unlock();
    return respondJson(ctx, 200, scale);
  }
  if (m != "PUT" && m != "PATCH") {
    lock.unlock();
    return respondError(ctx.ex, errors::methodNotAllowed());
  }
  nlohmann::json body = nlohmann::json::parse(ctx.req.body, nullptr, false);
  std::string ct = mediaType(ctx.req);
  if (body.is_discarded()) {
    lock.unlock();
    return respondError(ctx.ex, errors::badRequest("the body of the request is not valid JSON"));
  }
  nlohmann::json wanted = scale;
  try {
    if (m == "PUT")
      wanted = body;
    else if (ct == "application/json-patch+json")
      wanted = scale.patch(body);
    else
      wanted.merge_patch(body);
  } catch (const std::exception&) {
    lock.unlock();
    return respondError(ctx.ex, errors::genericUnprocessable());
  }
  nlohmann::json replicas;
  if (wanted.is_object() && wanted.contains("spec") && wanted["spec"].is_object()) {
    replicas = wanted["spec"].value("replicas", nlohmann::json());
  }
  if (!replicas.is_number_integer() || replicas.get<std::int64_t>() < 0) {
    lock.unlock();
    return respondError(
        ctx.ex, errors::invalid("autoscaling", "Scale", ctx.info.name,
                                {FieldError::invalid("spec.replicas", replicas,
                                                     "must be greater than or equal to 0")}));
  }
  nlohmann::json next = toView(type, *current);
  next["spec"]["replicas"] = replicas;
  nlohmann::json curView = toView(type, *current);
  auto finalized = finalizeWrite(ctx, type, &curView, std::move(next), "", false);
  if (!finalized) {
    lock.unlock();
    return respondError(ctx.ex, finalized.error());
  }
  auto result = ctx.dryRun ? *finalized : commitWrite(type, key, current, std::move(*finalized));
  lock.unlock();
  respondJson(ctx, 200, scaleOf(result));
}

}  // namespace rio::testenv
