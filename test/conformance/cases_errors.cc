// Every recorded error shape, compared field by field with the recording: 404, 409
// AlreadyExists, 409 Conflict, 422 with causes, 400, 415, 413, 401, 403.
#include "test/conformance/cases_common.h"

namespace rio::conformance {
namespace {

using namespace kube::resources;

/// A raw request's answer as an Error (FAIL when it is not the expected code).
Error rawError(Context& ctx, const RawRequest& request, int wantCode) {
  auto resp = ctx.target().raw(request);
  if (!resp)
    ctx.fail(request.method + " " + request.target + ": " + Context::describe(resp.error()));
  if (resp->status != wantCode)
    ctx.fail(request.method + " " + request.target + " answered " + std::to_string(resp->status) +
             ", want " + std::to_string(wantCode) + ": " + resp->body.substr(0, 300));
  auto ct = resp->header("Content-Type");
  ctx.require(ct && ct->find("application/json") == 0,
              "the error body is not application/json: " + std::string(ct.value_or("(none)")));
  auto status = meta::Status::parse(resp->body);
  if (!status)
    ctx.fail("the " + std::to_string(wantCode) +
             " body is not a Status: " + resp->body.substr(0, 300));
  return Error::api(*status);
}

void notFoundCase(Context& ctx) {
  auto got = ctx.client().get(kConfigMaps, {ctx.ns(), "missing"});
  Error e = ctx.mustFail(got, "get a missing ConfigMap");
  ctx.require(e.isNotFound(), "want NotFound, got " + Context::describe(e));
  expectRecordedStatus(ctx, e, "cm-get-404.txt", inCaseNamespace(ctx));
  // Cluster-scoped and grouped resources name their group in details.
  auto crd = ctx.client().get(kCustomResourceDefinitions, {"", "nothings.example.com"});
  Error e2 = ctx.mustFail(crd, "get a missing CRD");
  ctx.require(
      e2.isNotFound() && e2.status()->detailsGroup == "apiextensions.k8s.io" &&
          e2.status()->detailsKind == "customresourcedefinitions" &&
          e2.status()->message ==
              "customresourcedefinitions.apiextensions.k8s.io \"nothings.example.com\" not found",
      "404 of a grouped resource: " + Context::describe(e2));
}

void alreadyExistsCase(Context& ctx) {
  json cm = recordedRequest(ctx, "cm-create-conflict-409.txt");
  cm["metadata"]["namespace"] = ctx.ns();
  ctx.must(ctx.client().create(kConfigMaps, cm), "first create");
  Error e = ctx.mustFail(ctx.client().create(kConfigMaps, cm), "second create");
  ctx.require(e.isAlreadyExists(), "want AlreadyExists, got " + Context::describe(e));
  expectRecordedStatus(ctx, e, "cm-create-conflict-409.txt", inCaseNamespace(ctx));
}

void staleConflictCase(Context& ctx) {
  ctx.must(ctx.client().create(kConfigMaps, configMap(ctx.ns(), "c1", {{"k", "v"}})), "create");
  ctx.must(ctx.client().patch(kConfigMaps, {ctx.ns(), "c1"}, kube::PatchType::kMerge,
                              {{"data", {{"k", "v2"}}}}),
           "a concurrent writer");
  json stale = recordedRequest(ctx, "cm-update-stale-409.txt");
  stale["metadata"]["namespace"] = ctx.ns();
  Error e = ctx.mustFail(ctx.client().update(kConfigMaps, stale), "update with resourceVersion 1");
  ctx.require(e.isConflict(), "want Conflict, got " + Context::describe(e));
  expectRecordedStatus(ctx, e, "cm-update-stale-409.txt", inCaseNamespace(ctx));
  // The same precondition through a patch carrying metadata.resourceVersion.
  Error p = ctx.mustFail(
      ctx.client().patch(kConfigMaps, {ctx.ns(), "c1"}, kube::PatchType::kMerge,
                         {{"metadata", {{"resourceVersion", "1"}}}, {"data", {{"k", "x"}}}}),
      "merge patch with a stale resourceVersion");
  expectRecordedStatus(ctx, p, "cm-update-stale-409.txt", inCaseNamespace(ctx));
  // And through a delete precondition.
  kube::DeleteOptions pre;
  pre.preconditionResourceVersion = "1";
  Error d = ctx.mustFail(ctx.client().remove(kConfigMaps, {ctx.ns(), "c1"}, pre),
                         "delete with a stale precondition");
  ctx.require(d.isConflict(),
              "a stale delete precondition must be 409, got " + Context::describe(d));
}

void invalidCase(Context& ctx) {
  json bad = recordedRequest(ctx, "cm-invalid-name-422.txt");
  bad["metadata"]["namespace"] = ctx.ns();
  Error e = ctx.mustFail(ctx.client().create(kConfigMaps, bad), "create ConfigMap Bad_Name");
  ctx.require(e.isInvalid(), "want Invalid, got " + Context::describe(e));
  expectRecordedStatus(ctx, e, "cm-invalid-name-422.txt", inCaseNamespace(ctx));

  auto crd = installWidgetCrd(ctx);
  json w = recordedRequest(ctx, "cr-create-invalid-422.txt", crd.renames);
  w["metadata"]["namespace"] = ctx.ns();
  Error e2 = ctx.mustFail(ctx.client().create(crd.resource, w), "create Widget with spec.size 0");
  expectRecordedStatus(ctx, e2, "cr-create-invalid-422.txt", crd.renames);
}

void malformedCase(Context& ctx) {
  auto r = RawRequest::send("POST", "/api/v1/namespaces/" + ctx.ns() + "/configmaps",
                            "application/json", R"({"apiVersion":"v1","kind":)");
  Error e = rawError(ctx, r, 400);
  expectRecordedStatus(ctx, e, "cm-malformed-400.txt");
}

void unsupportedMediaTypeCase(Context& ctx) {
  auto r = RawRequest::send("POST", "/api/v1/namespaces/" + ctx.ns() + "/configmaps", "text/plain",
                            "hello");
  Error e = rawError(ctx, r, 415);
  expectRecordedStatus(ctx, e, "cm-wrong-content-type-415.txt");
  // Custom resources have no strategic merge patch.
  auto crd = installWidgetCrd(ctx);
  json w = recordedRequest(ctx, "cr-create.txt", crd.renames);
  w["metadata"]["namespace"] = ctx.ns();
  ctx.must(ctx.client().create(crd.resource, w), "create Widget");
  Error s =
      ctx.mustFail(ctx.client().patch(crd.resource, {ctx.ns(), "w1"},
                                      kube::PatchType::kStrategicMerge, {{"spec", {{"size", 2}}}}),
                   "strategic merge patch of a custom resource");
  ctx.require(s.code() == 415 && s.reason() == "UnsupportedMediaType" &&
                  s.status()->message ==
                      "the body of the request was in an unknown format - accepted media types "
                      "include: application/json-patch+json, application/merge-patch+json, "
                      "application/apply-patch+yaml",
              "strategic patch of a CR: " + Context::describe(s));
}

void tooLargeCase(Context& ctx) {
  // kube-apiserver reads at most 3 MiB of a request body.
  std::string big =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":")" +
      std::string(3 * 1024 * 1024 + 1024, 'x') + "\"}}";
  auto r = RawRequest::send("POST", "/api/v1/namespaces/" + ctx.ns() + "/configmaps",
                            "application/json", big);
  Error e = rawError(ctx, r, 413);
  ctx.require(e.reason() == "RequestEntityTooLarge" &&
                  e.status()->message == "Request entity too large: limit is 3145728",
              "413: " + Context::describe(e));
  // Between 1 MiB and 3 MiB the body is read; a ConfigMap that large is invalid (422), not 400.
  json mid = configMap(ctx.ns(), "mid", {{"k", std::string(3 * 512 * 1024, 'x')}});
  Error v = ctx.mustFail(ctx.client().create(kConfigMaps, mid), "create a 1.5 MiB ConfigMap");
  ctx.require(v.isInvalid() && v.status()->causes.size() == 1 &&
                  v.status()->causes[0].reason == "FieldValueTooLong",
              "a 1.5 MiB ConfigMap must be 422 FieldValueTooLong, got " + Context::describe(v));
}

void unauthorizedCase(Context& ctx) {
  auto r = RawRequest::get("/api/v1/namespaces", RawAuth::bearer("not-a-token"));
  Error e = rawError(ctx, r, 401);
  expectRecordedStatus(ctx, e, "unauthenticated-401.txt");
  // Our client reports it as Unauthorized.
  auto got = ctx.target().clientWithToken("not-a-token")->list(kNamespaces, "");
  Error c = ctx.mustFail(got, "list namespaces with a bad token");
  ctx.require(c.isUnauthorized(),
              "the client must see 401 Unauthorized, got " + Context::describe(c));
}

void forbiddenCase(Context& ctx) {
  auto sa = serviceAccountWithToken(ctx, "bot");
  auto client = ctx.target().clientWithToken(sa.token);
  Error e = ctx.mustFail(client->list(kSecrets, ctx.ns()), "list secrets as the service account");
  ctx.require(e.isForbidden(), "want Forbidden, got " + Context::describe(e));
  expectRecordedStatus(ctx, e, "forbidden-403.txt", inCaseNamespace(ctx));
  // A named object and a cluster-scoped resource word it the same way.
  Error g = ctx.mustFail(client->get(kSecrets, {ctx.ns(), "x"}), "get a secret");
  std::string user = "system:serviceaccount:" + ctx.ns() + ":bot";
  ctx.require(
      g.status() &&
          g.status()->message ==
              "secrets \"x\" is forbidden: User \"" + user +
                  "\" cannot get resource \"secrets\" in API group \"\" in the namespace \"" +
                  ctx.ns() + "\"",
      "403 for a named get: " + Context::describe(g));
  Error n = ctx.mustFail(client->list(kNodes, ""), "list nodes");
  ctx.require(
      n.status() &&
          n.status()->message ==
              "nodes is forbidden: User \"" + user +
                  "\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
      "403 at cluster scope: " + Context::describe(n));
  Error d = ctx.mustFail(client->list(kDeployments, ctx.ns()), "list deployments");
  ctx.require(d.status() &&
                  d.status()->message.find("in API group \"apps\"") != std::string::npos &&
                  d.status()->detailsGroup == "apps" && d.status()->detailsKind == "deployments",
              "403 for a grouped resource: " + Context::describe(d));
}

}  // namespace

void addErrorCases(Suite& suite) {
  suite.add({"errors: 404 NotFound",
             "a missing object is 404 with the recorded Status (core and grouped)", Needs::kNothing,
             notFoundCase});
  suite.add({"errors: 409 AlreadyExists",
             "creating an existing name is 409 AlreadyExists as recorded", Needs::kNothing,
             alreadyExistsCase});
  suite.add({"errors: 409 Conflict on a stale resourceVersion",
             "PUT, PATCH and DELETE preconditions with a stale resourceVersion are 409 Conflict as "
             "recorded",
             Needs::kNothing, staleConflictCase});
  suite.add(
      {"errors: 422 Invalid with causes",
       "an invalid name and a CRD schema violation are 422 with the recorded message and causes",
       Needs::kNothing, invalidCase});
  suite.add({"errors: 400 malformed body", "truncated JSON is 400 BadRequest as recorded",
             Needs::kNothing, malformedCase});
  suite.add({"errors: 415 unsupported media type",
             "a text/plain body and a strategic merge patch of a custom resource are 415",
             Needs::kNothing, unsupportedMediaTypeCase});
  suite.add({"errors: 413 request entity too large",
             "a body over 3 MiB is 413 RequestEntityTooLarge", Needs::kNothing, tooLargeCase});
  suite.add({"errors: 401 Unauthorized", "an unknown bearer token is 401 as recorded",
             Needs::kNothing, unauthorizedCase});
  suite.add({"errors: 403 Forbidden",
             "a service account without RBAC gets 403 with the recorded wording (list, named get, "
             "cluster scope, API group)",
             Needs::kNothing, forbiddenCase});
}

}  // namespace rio::conformance
