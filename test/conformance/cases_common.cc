#include "test/conformance/cases_common.h"

namespace rio::conformance {

void expectRecordedStatus(const Context& ctx, const Error& error, const std::string& file,
                          const Renames& renames) {
  if (!error.status())
    ctx.fail("expected the Status of " + file + ", got " + Context::describe(error));
  auto recorded = ctx.fixtures().response(file);
  if (!recorded) ctx.fail(recorded.error().message());
  auto diffs = diffStatus(*error.status(), *recorded, renames);
  if (!diffs.empty()) ctx.fail("differs from " + file + ": " + joinDiffs(diffs));
}

void expectRecordedObject(const Context& ctx, const json& got, const std::string& file,
                          const Renames& renames, const ObjectDiffOptions& options) {
  auto recorded = ctx.fixtures().response(file);
  if (!recorded) ctx.fail(recorded.error().message());
  auto diffs = diffObjects(got, *recorded, renames, options);
  if (!diffs.empty()) ctx.fail("differs from " + file + ": " + joinDiffs(diffs));
}

json recordedRequest(const Context& ctx, const std::string& file, const Renames& renames) {
  auto j = ctx.fixtures().request(file);
  if (!j) ctx.fail(j.error().message());
  return renames.apply(*j);
}

json recordedResponse(const Context& ctx, const std::string& file, const Renames& renames) {
  auto j = ctx.fixtures().response(file);
  if (!j) ctx.fail(j.error().message());
  return renames.apply(*j);
}

Renames inCaseNamespace(Context& ctx) { return Renames().name("demo", ctx.ns()); }

json configMap(const std::string& ns, const std::string& name, const json& data,
               const json& labels) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"data", data}};
  if (!labels.is_null()) cm["metadata"]["labels"] = labels;
  return cm;
}

std::string metaString(const json& obj, const std::string& field) {
  if (!obj.is_object() || !obj.contains("metadata")) return {};
  const auto& m = obj["metadata"];
  if (!m.is_object() || !m.contains(field) || !m[field].is_string()) return {};
  return m[field].get<std::string>();
}

std::int64_t generationOf(const json& obj) {
  if (!obj.contains("metadata") || !obj["metadata"].contains("generation")) return 0;
  const auto& g = obj["metadata"]["generation"];
  return g.is_number_integer() ? g.get<std::int64_t>() : 0;
}

std::uint64_t rvOf(const json& obj) {
  try {
    return std::stoull(metaString(obj, "resourceVersion"));
  } catch (...) {
    return 0;
  }
}

WidgetCrd installWidgetCrd(Context& ctx) {
  WidgetCrd w;
  w.group = "w" + ctx.suffix() + ".example.com";
  w.resource = {w.group, "v1", "widgets", "Widget", true};
  w.renames = Renames().name("demo", ctx.ns()).substring("example.com", w.group);
  json crd = recordedRequest(ctx, "crd-create.txt", Renames().substring("example.com", w.group));
  const auto& crds = kube::resources::kCustomResourceDefinitions;
  auto created = ctx.must(ctx.client().create(crds, crd), "create CRD widgets." + w.group);
  std::string name = metaString(created, "name");
  ctx.deleteLater(crds, {"", name});
  ctx.eventually(
      [&] {
        auto got = ctx.client().get(crds, {"", name});
        if (!got) return false;
        for (const auto& c : (*got)["status"].value("conditions", json::array())) {
          if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
        }
        return false;
      },
      "CRD " + name + " becomes Established");
  ctx.eventually([&] { return ctx.client().getPath("/apis/" + w.group + "/v1").has_value(); },
                 "/apis/" + w.group + "/v1 is served");
  // Discovery may list the resource a moment before its storage serves it.
  ctx.eventually([&] { return ctx.client().list(w.resource, ctx.ns()).has_value(); },
                 "widgets." + w.group + " can be listed");
  return w;
}

ServiceAccountToken serviceAccountWithToken(Context& ctx, const std::string& name) {
  ServiceAccountToken out;
  out.name = name;
  json sa = {{"apiVersion", "v1"},
             {"kind", "ServiceAccount"},
             {"metadata", {{"name", name}, {"namespace", ctx.ns()}}}};
  ctx.must(ctx.client().create(kube::resources::kServiceAccounts, sa), "create ServiceAccount");
  json tr = {{"apiVersion", "authentication.k8s.io/v1"},
             {"kind", "TokenRequest"},
             {"spec", {{"expirationSeconds", 3600}}}};
  out.tokenRequest = ctx.must(ctx.client().createSubresource(kube::resources::kServiceAccounts,
                                                             {ctx.ns(), name}, "token", tr),
                              "request a token for ServiceAccount " + name);
  out.token = out.tokenRequest["status"].value("token", "");
  ctx.require(!out.token.empty(), "the TokenRequest answer has no status.token");
  return out;
}

}  // namespace rio::conformance
