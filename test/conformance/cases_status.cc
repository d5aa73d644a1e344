// The status subresource: the main endpoint ignores status, /status ignores everything else,
// for a custom resource (compared with the recordings) and for a built-in kind (Deployment).
#include "test/conformance/cases_common.h"

namespace rio::conformance {
namespace {

using namespace kube::resources;

void customResourceStatusCase(Context& ctx) {
  auto& c = ctx.client();
  auto crd = installWidgetCrd(ctx);
  const auto& r = crd.resource;
  kube::ObjectKey key{ctx.ns(), "w1"};
  json obj = recordedRequest(ctx, "cr-create.txt", crd.renames);
  obj["metadata"]["namespace"] = ctx.ns();
  obj["status"] = {{"conditions", {{{"type", "Ready"}, {"status", "False"}}}}};
  json created = ctx.must(c.create(r, obj, {"curl", false}), "create with a status");
  ctx.require(!created.contains("status"),
              "status sent on create must be dropped: " + created.dump());

  json st = ctx.must(c.patch(r, key, kube::PatchType::kMerge,
                             recordedRequest(ctx, "cr-status-patch.txt", crd.renames),
                             {.fieldManager = "curl", .subresource = "status"}),
                     "status patch");
  expectRecordedObject(ctx, st, "cr-status-patch.txt", crd.renames);
  json main =
      ctx.must(c.patch(r, key, kube::PatchType::kMerge,
                       recordedRequest(ctx, "cr-main-endpoint-ignores-status.txt", crd.renames),
                       {.fieldManager = "curl"}),
               "main-endpoint patch with spec and status");
  expectRecordedObject(ctx, main, "cr-main-endpoint-ignores-status.txt", crd.renames);

  // /status ignores spec and metadata.
  json viaStatus = ctx.must(c.patch(r, key, kube::PatchType::kMerge,
                                    {{"spec", {{"size", 7}}},
                                     {"metadata", {{"labels", {{"sneaky", "yes"}}}}},
                                     {"status", {{"observedGeneration", 2}}}},
                                    {.subresource = "status"}),
                            "status patch with spec and labels");
  ctx.require(viaStatus["spec"].value("size", 0) == 4, "/status changed spec.size");
  ctx.require(!viaStatus["metadata"].value("labels", json::object()).contains("sneaky"),
              "/status changed labels");
  ctx.require(viaStatus["status"].value("observedGeneration", 0) == 2,
              "/status did not write status");
  ctx.require(generationOf(viaStatus) == 2, "a status write moved generation");

  // PUT to the main endpoint keeps the stored status; PUT to /status keeps the stored spec.
  json put = viaStatus;
  put["status"] = {{"observedGeneration", 99}};
  put["spec"]["size"] = 5;
  json updated = ctx.must(c.update(r, put), "update with a changed status");
  ctx.require(updated["status"].value("observedGeneration", 0) == 2 &&
                  updated["spec"].value("size", 0) == 5,
              "PUT to the main endpoint: " + updated.dump());
  json putStatus = updated;
  putStatus["status"] = {{"observedGeneration", 3}};
  putStatus["spec"]["size"] = 1;
  json statusUpdated = ctx.must(c.updateStatus(r, putStatus), "updateStatus with a changed spec");
  ctx.require(statusUpdated["status"].value("observedGeneration", 0) == 3 &&
                  statusUpdated["spec"].value("size", 0) == 5,
              "PUT to /status: " + statusUpdated.dump());
  // A missing object has a missing status too.
  Error e = ctx.mustFail(c.patch(r, {ctx.ns(), "nope"}, kube::PatchType::kMerge,
                                 {{"status", json::object()}}, {.subresource = "status"}),
                         "status patch of a missing object");
  ctx.require(e.isNotFound(),
              "status of a missing object must be 404, got " + Context::describe(e));
}

void deploymentStatusCase(Context& ctx) {
  auto& c = ctx.client();
  json d = recordedRequest(ctx, "deployment-create-defaults.txt");
  d["metadata"]["namespace"] = ctx.ns();
  d["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.k8s.io/pause:3.9";
  d["spec"]["replicas"] = 0;  // nothing needs to run
  ctx.must(c.create(kDeployments, d), "create Deployment");
  kube::ObjectKey key{ctx.ns(), "d1"};
  json main =
      ctx.must(c.patch(kDeployments, key, kube::PatchType::kMerge,
                       {{"spec", {{"paused", true}}}, {"status", {{"observedGeneration", 42}}}}),
               "main patch with status");
  ctx.require(main["spec"].value("paused", false) == true, "the spec change was not applied");
  ctx.require(main["status"].value("observedGeneration", 0) != 42,
              "the main endpoint wrote status");
  json st =
      ctx.must(c.patch(kDeployments, key, kube::PatchType::kMerge,
                       {{"spec", {{"replicas", 5}}}, {"status", {{"observedGeneration", 42}}}},
                       {.subresource = "status"}),
               "status patch with spec");
  ctx.require(st["spec"].value("replicas", -1) == 0, "/status changed spec.replicas");
  ctx.require(st["status"].value("observedGeneration", 0) == 42, "/status did not write status");
}

}  // namespace

void addStatusCases(Suite& suite) {
  suite.add(
      {"status: custom resource subresource",
       "status dropped on create; /status writes only status and the main endpoint only the rest "
       "(patch as recorded, PUT both ways); no generation bump",
       Needs::kNothing, customResourceStatusCase});
  suite.add({"status: Deployment subresource", "the same rules for a built-in kind",
             Needs::kNothing, deploymentStatusCase});
}

}  // namespace rio::conformance
