// Patches: JSON merge (RFC 7386), JSON patch (RFC 6902, including a failing `test`), strategic
// merge with the built-in kinds' list keys, and server-side apply (managedFields per manager,
// 409 conflicts naming the owner, force, shared ownership, removal of dropped fields).
#include "test/conformance/cases_common.h"

namespace rio::conformance {
namespace {

using namespace kube::resources;
const kube::PatchOptions kCurl{.fieldManager = "curl"};

/// cm-create, cm-merge-patch and cm-strategic-patch replayed as "curl", each compared.
void replayConfigMapHistory(Context& ctx, bool strategic) {
  Renames r = inCaseNamespace(ctx);
  kube::ObjectKey key{ctx.ns(), "c1"};
  json cm = recordedRequest(ctx, "cm-create.txt", r);
  cm["metadata"]["namespace"] = ctx.ns();
  json created = ctx.must(ctx.client().create(kConfigMaps, cm, {"curl", false}), "create c1");
  expectRecordedObject(ctx, created, "cm-create.txt", r);
  json merged = ctx.must(ctx.client().patch(kConfigMaps, key, kube::PatchType::kMerge,
                                            recordedRequest(ctx, "cm-merge-patch.txt", r), kCurl),
                         "merge patch");
  expectRecordedObject(ctx, merged, "cm-merge-patch.txt", r);
  if (!strategic) return;
  json smp = ctx.must(ctx.client().patch(kConfigMaps, key, kube::PatchType::kStrategicMerge,
                                         recordedRequest(ctx, "cm-strategic-patch.txt", r), kCurl),
                      "strategic merge patch");
  expectRecordedObject(ctx, smp, "cm-strategic-patch.txt", r);
}

json deployment(const std::string& ns) {
  json d = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d1"},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app":"d1"}},
      "template":{"metadata":{"labels":{"app":"d1"}},
        "spec":{"containers":[{"name":"app","image":"nginx",
          "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}}})");
  d["metadata"]["namespace"] = ns;
  return d;
}

void mergePatchCase(Context& ctx) {
  replayConfigMapHistory(ctx, false);
  kube::ObjectKey key{ctx.ns(), "c1"};
  json removed = ctx.must(ctx.client().patch(kConfigMaps, key, kube::PatchType::kMerge,
                                             {{"data", {{"k2", nullptr}}},
                                              {"metadata", {{"annotations", {{"a", "b"}}}}}}),
                          "merge patch with a null");
  ctx.require(!removed["data"].contains("k2") && removed["data"].value("k", "") == "v",
              "null must delete data.k2 and keep data.k: " + removed["data"].dump());
  // Lists are replaced whole by a merge patch, even where strategic merge has a key.
  ctx.must(ctx.client().create(kDeployments, deployment(ctx.ns())), "create Deployment");
  json d = ctx.must(
      ctx.client().patch(
          kDeployments, {ctx.ns(), "d1"}, kube::PatchType::kMerge,
          json::parse(
              R"({"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}})")),
      "merge patch of the container list");
  const auto& containers = d["spec"]["template"]["spec"]["containers"];
  ctx.require(containers.size() == 1 && containers[0].value("name", "") == "side",
              "a merge patch must replace the container list: " + containers.dump());
  ctx.require(containers[0].value("imagePullPolicy", "") == "Always" &&
                  containers[0].value("terminationMessagePath", "") == "/dev/termination-log",
              "defaults must be applied to the patched result: " + containers[0].dump());
}

void jsonPatchCase(Context& ctx) {
  replayConfigMapHistory(ctx, false);
  kube::ObjectKey key{ctx.ns(), "c1"};
  json ops = json::array({{{"op", "test"}, {"path", "/data/k"}, {"value", "v"}},
                          {{"op", "add"}, {"path", "/data/k3"}, {"value", "v3"}},
                          {{"op", "replace"}, {"path", "/data/k"}, {"value", "w"}},
                          {{"op", "copy"}, {"from", "/data/k"}, {"path", "/data/k4"}},
                          {{"op", "move"}, {"from", "/data/k2"}, {"path", "/data/k5"}},
                          {{"op", "remove"}, {"path", "/data/k3"}},
                          {{"op", "add"}, {"path", "/metadata/labels/x~1y"}, {"value", "z"}}});
  json patched =
      ctx.must(ctx.client().patch(kConfigMaps, key, kube::PatchType::kJson, ops), "JSON patch");
  json wantData = {{"k", "w"}, {"k4", "w"}, {"k5", "v2"}};
  ctx.require(patched["data"] == wantData, "JSON patch result: " + patched["data"].dump());
  ctx.require(patched["metadata"]["labels"].value("x/y", "") == "z", "~1 must unescape to /");
  json before = ctx.must(ctx.client().get(kConfigMaps, key), "get");
  Error e =
      ctx.mustFail(ctx.client().patch(kConfigMaps, key, kube::PatchType::kJson,
                                      recordedRequest(ctx, "cm-json-patch-test-failed-422.txt")),
                   "JSON patch with a failing test");
  expectRecordedStatus(ctx, e, "cm-json-patch-test-failed-422.txt");
  json after = ctx.must(ctx.client().get(kConfigMaps, key), "get");
  ctx.require(after == before, "a failed test must leave the object unchanged (no partial patch)");
  // A guarded first finalizer: test that the resourceVersion is still the one read.
  json guarded = json::array(
      {{{"op", "test"},
        {"path", "/metadata/resourceVersion"},
        {"value", metaString(after, "resourceVersion")}},
       {{"op", "add"}, {"path", "/metadata/finalizers"}, {"value", {"example.com/x"}}}});
  json fin = ctx.must(ctx.client().patch(kConfigMaps, key, kube::PatchType::kJson, guarded),
                      "JSON patch guarded by resourceVersion");
  ctx.require(fin["metadata"]["finalizers"] == json::array({"example.com/x"}),
              "finalizer not added");
  ctx.must(ctx.client().patch(kConfigMaps, key, kube::PatchType::kJson,
                              json::array({{{"op", "remove"}, {"path", "/metadata/finalizers"}}})),
           "remove the finalizer");
}

void strategicCase(Context& ctx) {
  replayConfigMapHistory(ctx, true);
  auto& c = ctx.client();
  ctx.must(c.create(kDeployments, deployment(ctx.ns())), "create Deployment");
  kube::ObjectKey key{ctx.ns(), "d1"};
  // containers merge by name, env by name.
  json d = ctx.must(c.patch(kDeployments, key, kube::PatchType::kStrategicMerge,
                            json::parse(R"({"spec":{"template":{"spec":{"containers":[
                {"name":"app","env":[{"name":"B","value":"two"},{"name":"C","value":"3"}]},
                {"name":"side","image":"busybox"}]}}}})")),
                    "strategic patch of containers");
  const auto& containers = d["spec"]["template"]["spec"]["containers"];
  ctx.require(containers.size() == 2, "containers must merge by name: " + containers.dump());
  const json* app = nullptr;
  for (const auto& ct : containers)
    if (ct.value("name", "") == "app") app = &ct;
  ctx.require(app && app->value("image", "") == "nginx", "the existing container lost its image");
  json env = (*app)["env"];
  ctx.require(env.size() == 3, "env must merge by name: " + env.dump());
  std::map<std::string, std::string> values;
  for (const auto& e : env) values[e.value("name", "")] = e.value("value", "");
  ctx.require(values["A"] == "1" && values["B"] == "two" && values["C"] == "3",
              "env values: " + env.dump());
  // $patch: delete removes one element by its key.
  json del = ctx.must(
      c.patch(
          kDeployments, key, kube::PatchType::kStrategicMerge,
          json::parse(
              R"({"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}})")),
      "strategic $patch: delete");
  ctx.require(del["spec"]["template"]["spec"]["containers"].size() == 1,
              "$patch: delete left the container");
  // Service ports merge by port.
  json svc = recordedRequest(ctx, "service-create-defaults.txt");
  svc["metadata"]["namespace"] = ctx.ns();
  ctx.must(c.create(kServices, svc), "create Service");
  json s = ctx.must(
      c.patch(
          kServices, {ctx.ns(), "s1"}, kube::PatchType::kStrategicMerge,
          json::parse(
              R"({"spec":{"ports":[{"port":443,"name":"https"},{"port":80,"name":"http","targetPort":8080}]}})")),
      "strategic patch of Service ports");
  const auto& ports = s["spec"]["ports"];
  ctx.require(ports.size() == 2, "ports must merge by port: " + ports.dump());
  bool kept = false;
  for (const auto& p : ports)
    kept = kept || (p.value("port", 0) == 443 && p.value("targetPort", 0) == 9443 &&
                    p.value("name", "") == "https");
  ctx.require(kept, "port 443 must keep targetPort 9443 and gain its name: " + ports.dump());
  // Labels: maps merge, null deletes.
  json l = ctx.must(c.patch(kConfigMaps, {ctx.ns(), "c1"}, kube::PatchType::kStrategicMerge,
                            {{"metadata", {{"labels", {{"app", nullptr}}}}}}),
                    "strategic patch deleting a label");
  ctx.require(
      !l["metadata"]["labels"].contains("app") && l["metadata"]["labels"].value("tier", "") == "a",
      "labels after deleting app: " + l["metadata"]["labels"].dump());
}

void applyConflictCase(Context& ctx) {
  replayConfigMapHistory(ctx, true);
  Renames r = inCaseNamespace(ctx);
  kube::ObjectKey key{ctx.ns(), "c1"};
  json config = recordedRequest(ctx, "cm-apply-conflict-409.txt", r);
  Error e = ctx.mustFail(
      ctx.client().patch(kConfigMaps, key, kube::PatchType::kApply, config, {.fieldManager = "op"}),
      "apply data.k as op");
  ctx.require(e.isConflict(), "want 409 Conflict, got " + Context::describe(e));
  expectRecordedStatus(ctx, e, "cm-apply-conflict-409.txt", r);
  json forced = ctx.must(ctx.client().patch(kConfigMaps, key, kube::PatchType::kApply,
                                            recordedRequest(ctx, "cm-apply-force.txt", r),
                                            {.fieldManager = "op", .force = true}),
                         "apply with force");
  expectRecordedObject(ctx, forced, "cm-apply-force.txt", r);
  json got = ctx.must(ctx.client().getPath("/api/v1/namespaces/" + ctx.ns() +
                                           "/configmaps/c1?showManagedFields=true"),
                      "get with managedFields");
  expectRecordedObject(ctx, got, "cm-get-with-managedfields.txt", r);
  // Now curl's update of data.k conflicts with nothing (updates never conflict) and takes it.
  json took = ctx.must(ctx.client().patch(kConfigMaps, key, kube::PatchType::kMerge,
                                          {{"data", {{"k", "u"}}}}, kCurl),
                       "update data.k as curl");
  auto sets = fieldSets(took);
  ctx.require(!sets.count("op/Apply/"),
              "op's only field was taken by an update: its managedFields entry must go: " +
                  took["metadata"]["managedFields"].dump());
}

void applyOwnershipCase(Context& ctx) {
  auto& c = ctx.client();
  kube::ObjectKey key{ctx.ns(), "a1"};
  json config = configMap(ctx.ns(), "a1", {{"x", "1"}, {"y", "2"}}, {{"app", "a"}});
  json created = ctx.must(
      c.patch(kConfigMaps, key, kube::PatchType::kApply, config, {.fieldManager = "alpha"}),
      "apply creates the object");
  ctx.require(created["data"] == config["data"], "apply-created data: " + created["data"].dump());
  auto sets = fieldSets(created);
  ctx.require(sets.size() == 1 && sets.count("alpha/Apply/"), "one Apply entry for alpha expected");
  json same = ctx.must(
      c.patch(kConfigMaps, key, kube::PatchType::kApply, config, {.fieldManager = "alpha"}),
      "apply the same configuration again");
  ctx.require(metaString(same, "resourceVersion") == metaString(created, "resourceVersion"),
              "an unchanged apply must not write");
  // beta applies the same value of y: no conflict, shared ownership.
  json shared = ctx.must(
      c.patch(kConfigMaps, key, kube::PatchType::kApply,
              configMap(ctx.ns(), "a1", {{"y", "2"}, {"z", "3"}}), {.fieldManager = "beta"}),
      "beta applies y (same value) and z");
  ctx.require(fieldSets(shared).count("beta/Apply/"), "beta has no managedFields entry");
  // alpha drops y and x: x (alpha's alone) is removed, y (shared with beta) stays.
  json dropped = ctx.must(
      c.patch(kConfigMaps, key, kube::PatchType::kApply,
              configMap(ctx.ns(), "a1", json::object(), {{"app", "a"}}), {.fieldManager = "alpha"}),
      "alpha drops x and y");
  json wantData = {{"y", "2"}, {"z", "3"}};
  ctx.require(dropped["data"] == wantData,
              "after alpha dropped x and y: " + dropped["data"].dump());
  // A different value from beta for a field alpha owns is a conflict naming alpha.
  Error e =
      ctx.mustFail(c.patch(kConfigMaps, key, kube::PatchType::kApply,
                           configMap(ctx.ns(), "a1", {{"y", "2"}, {"z", "3"}}, {{"app", "b"}}),
                           {.fieldManager = "beta"}),
                   "beta changes alpha's label");
  ctx.require(
      e.isConflict() && e.status()->causes.size() == 1 &&
          e.status()->causes[0].reason == "FieldManagerConflict" &&
          e.status()->causes[0].field == ".metadata.labels.app" &&
          e.status()->causes[0].message == "conflict with \"alpha\"",
      "apply conflict: " + Context::describe(e) +
          (e.status() && !e.status()->causes.empty() ? " cause " + e.status()->causes[0].message
                                                     : ""));
  ctx.require(e.status()->message ==
                  "Apply failed with 1 conflict: conflict with \"alpha\": .metadata.labels.app",
              "apply conflict message: " + e.status()->message);
  // Apply must name the object it patches.
  Error mismatch = ctx.mustFail(c.patch(kConfigMaps, key, kube::PatchType::kApply,
                                        configMap(ctx.ns(), "other"), {.fieldManager = "alpha"}),
                                "apply with another name in the body");
  ctx.require(mismatch.code() == 400 || mismatch.code() == 422,
              "a body naming another object must be refused, got " + Context::describe(mismatch));
}

}  // namespace

void addPatchCases(Suite& suite) {
  suite.add(
      {"patch: JSON merge",
       "merge patch as recorded (managedFields too), null deletes, lists are replaced, defaults "
       "re-applied",
       Needs::kNothing, mergePatchCase});
  suite.add(
      {"patch: JSON patch",
       "add/replace/remove/copy/move/test with ~1 escapes; a failing test is the recorded 422 and "
       "changes nothing; a resourceVersion test guards a write",
       Needs::kNothing, jsonPatchCase});
  suite.add({"patch: strategic merge",
             "as recorded for labels; containers and env merge by name, Service ports by port, "
             "$patch: delete, null deletes a label",
             Needs::kNothing, strategicCase});
  suite.add({"apply: conflicts, force and managedFields",
             "applying a field another manager set is the recorded 409 naming it; force takes it; "
             "managedFields as recorded; an update takes a field from an applier",
             Needs::kNothing, applyConflictCase});
  suite.add({"apply: create, shared ownership and removal",
             "apply creates; re-applying is a no-op; equal values are shared; dropped fields owned "
             "alone are removed; a different value conflicts naming the owner",
             Needs::kNothing, applyOwnershipCase});
}

}  // namespace rio::conformance
