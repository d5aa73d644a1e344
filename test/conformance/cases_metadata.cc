// Object metadata rules: uid, resourceVersion, generation, creationTimestamp, labels /
// annotations / ownerReferences (garbage collection), finalizers with deletionTimestamp, and
// namespace deletion.
#include <regex>

#include "test/conformance/cases_common.h"
#include "test/conformance/watch_recorder.h"

namespace rio::conformance {
namespace {

using namespace kube::resources;
using std::chrono::milliseconds;
using std::chrono::seconds;

void uidAndResourceVersionCase(Context& ctx) {
  auto& c = ctx.client();
  json cm = configMap(ctx.ns(), "c1", {{"k", "v"}});
  cm["metadata"]["uid"] = "00000000-0000-0000-0000-000000000001";
  json created = ctx.must(c.create(kConfigMaps, cm), "create");
  std::string uid = metaString(created, "uid");
  static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  ctx.require(std::regex_match(uid, uuid), "uid is not a lower-case UUID: " + uid);
  ctx.require(uid != "00000000-0000-0000-0000-000000000001", "the server kept a client-chosen uid");
  ctx.require(rvOf(created) > 0, "resourceVersion is not a positive integer: " +
                                     metaString(created, "resourceVersion"));

  json changed = created;
  changed["data"]["k"] = "w";
  json updated = ctx.must(c.update(kConfigMaps, changed), "update");
  ctx.require(metaString(updated, "uid") == uid, "uid changed on update");
  ctx.require(rvOf(updated) > rvOf(created), "resourceVersion did not increase on update");

  // A write that changes nothing is not a write: same resourceVersion, no event.
  json same = ctx.must(c.update(kConfigMaps, updated), "no-op update");
  ctx.require(metaString(same, "resourceVersion") == metaString(updated, "resourceVersion"),
              "a no-op update changed the resourceVersion");
  json samePatch = ctx.must(
      c.patch(kConfigMaps, {ctx.ns(), "c1"}, kube::PatchType::kMerge, {{"data", {{"k", "w"}}}}),
      "no-op merge patch");
  ctx.require(metaString(samePatch, "resourceVersion") == metaString(updated, "resourceVersion"),
              "a no-op patch changed the resourceVersion");

  // One counter across kinds: a write elsewhere moves it for everyone.
  json other =
      ctx.must(c.create(kSecrets, {{"apiVersion", "v1"},
                                   {"kind", "Secret"},
                                   {"metadata", {{"name", "s"}, {"namespace", ctx.ns()}}}}),
               "create a Secret");
  ctx.require(rvOf(other) > rvOf(updated),
              "a later write of another kind has a smaller resourceVersion");
  json list = ctx.must(c.list(kConfigMaps, ctx.ns()), "list");
  ctx.require(rvOf(list) >= rvOf(other), "the list's resourceVersion is older than the last write");

  // Stale resourceVersion on update: 409 (the errors case compares its Status).
  auto stale = c.update(kConfigMaps, created);
  ctx.require(!stale && stale.error().isConflict(),
              "an update with a stale resourceVersion must be 409");
  // Without a resourceVersion an update is unconditional.
  json unconditional = updated;
  unconditional["metadata"].erase("resourceVersion");
  unconditional["data"]["k"] = "x";
  ctx.must(c.update(kConfigMaps, unconditional), "update without resourceVersion");

  ctx.must(c.remove(kConfigMaps, {ctx.ns(), "c1"}), "delete");
  cm["metadata"].erase("uid");
  json again = ctx.must(c.create(kConfigMaps, cm), "re-create");
  ctx.require(metaString(again, "uid") != uid, "a re-created object got the old uid");
}

void generationCase(Context& ctx) {
  auto& c = ctx.client();
  json cm =
      ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c1", {{"k", "v"}})), "create ConfigMap");
  ctx.require(!cm["metadata"].contains("generation"), "a ConfigMap has no generation");

  json d = recordedRequest(ctx, "deployment-create-defaults.txt");
  d["metadata"]["namespace"] = ctx.ns();
  d["metadata"]["generation"] = 7;
  json created = ctx.must(c.create(kDeployments, d), "create Deployment");
  ctx.require(generationOf(created) == 1, "generation starts at 1 whatever the client sends");
  kube::ObjectKey key{ctx.ns(), "d1"};
  json labelled =
      ctx.must(c.patch(kDeployments, key, kube::PatchType::kMerge,
                       {{"metadata", {{"labels", {{"a", "b"}}}, {"annotations", {{"x", "y"}}}}}}),
               "label the Deployment");
  ctx.require(generationOf(labelled) == 1, "a metadata change bumped generation");
  json scaled =
      ctx.must(c.patch(kDeployments, key, kube::PatchType::kMerge, {{"spec", {{"replicas", 4}}}}),
               "change spec.replicas");
  ctx.require(generationOf(scaled) == 2, "a spec change must bump generation to 2");
  json noop =
      ctx.must(c.patch(kDeployments, key, kube::PatchType::kMerge, {{"spec", {{"replicas", 4}}}}),
               "the same spec again");
  ctx.require(generationOf(noop) == 2, "an unchanged spec bumped generation");
  json st = ctx.must(c.patch(kDeployments, key, kube::PatchType::kMerge,
                             {{"status", {{"observedGeneration", 2}, {"replicas", 0}}}},
                             {.subresource = "status"}),
                     "write status");
  ctx.require(generationOf(st) == 2, "a status write bumped generation");

  auto crd = installWidgetCrd(ctx);
  json widget = recordedRequest(ctx, "cr-create.txt", crd.renames);
  widget["metadata"]["namespace"] = ctx.ns();
  json w = ctx.must(c.create(crd.resource, widget), "create Widget");
  ctx.require(generationOf(w) == 1, "a custom resource starts at generation 1");
  json wl = ctx.must(c.patch(crd.resource, {ctx.ns(), "w1"}, kube::PatchType::kMerge,
                             {{"metadata", {{"labels", {{"a", "b"}}}}}}),
                     "label the Widget");
  ctx.require(generationOf(wl) == 1, "a metadata change bumped a custom resource's generation");
  json ws = ctx.must(
      c.patch(crd.resource, {ctx.ns(), "w1"}, kube::PatchType::kMerge, {{"spec", {{"size", 9}}}}),
      "change the Widget spec");
  ctx.require(generationOf(ws) == 2, "a custom resource's spec change must bump generation");
}

void creationTimestampCase(Context& ctx) {
  auto& c = ctx.client();
  json cm = configMap(ctx.ns(), "c1", {{"k", "v"}});
  cm["metadata"]["creationTimestamp"] = "2001-01-01T00:00:00Z";
  json created = ctx.must(c.create(kConfigMaps, cm), "create");
  std::string ts = metaString(created, "creationTimestamp");
  static const std::regex rfc3339("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z");
  ctx.require(std::regex_match(ts, rfc3339),
              "creationTimestamp is not RFC 3339 seconds in UTC: " + ts);
  ctx.require(ts != "2001-01-01T00:00:00Z", "the server kept a client-chosen creationTimestamp");
  json changed = created;
  changed["metadata"]["creationTimestamp"] = "2001-01-01T00:00:00Z";
  changed["data"]["k"] = "w";
  json updated = ctx.must(c.update(kConfigMaps, changed), "update with another creationTimestamp");
  ctx.require(metaString(updated, "creationTimestamp") == ts,
              "creationTimestamp changed on update");
  json later = ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c2")), "create a second object");
  ctx.require(metaString(later, "creationTimestamp") >= ts,
              "a later object has an earlier creationTimestamp");
}

void labelsOwnersCase(Context& ctx) {
  auto& c = ctx.client();
  json owner = ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "owner")), "create the owner");
  json dep = configMap(ctx.ns(), "dependent", json::object(),
                       {{"app.kubernetes.io/name", "x"}, {"tier", "a"}});
  dep["metadata"]["annotations"] = {{"example.com/note", "a long\nmulti-line value"}};
  dep["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                         {"kind", "ConfigMap"},
                                         {"name", "owner"},
                                         {"uid", metaString(owner, "uid")},
                                         {"controller", true},
                                         {"blockOwnerDeletion", true}}};
  json created = ctx.must(c.create(kConfigMaps, dep), "create the dependent");
  ctx.require(created["metadata"]["labels"] == dep["metadata"]["labels"], "labels not kept");
  ctx.require(created["metadata"]["annotations"] == dep["metadata"]["annotations"],
              "annotations not kept");
  ctx.require(created["metadata"]["ownerReferences"] == dep["metadata"]["ownerReferences"],
              "ownerReferences not kept: " + created["metadata"]["ownerReferences"].dump());

  json badLabel = configMap(ctx.ns(), "bad", json::object(), {{"tier", "not valid!"}});
  auto refused = c.create(kConfigMaps, badLabel);
  ctx.require(!refused && refused.error().isInvalid(), "an invalid label value must be 422");
  ctx.require(refused.error().status()->causes.size() == 1 &&
                  refused.error().status()->causes[0].field == "metadata.labels",
              "the cause must name metadata.labels");
  json twoControllers = configMap(ctx.ns(), "two");
  twoControllers["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                                    {"kind", "ConfigMap"},
                                                    {"name", "a"},
                                                    {"uid", "1"},
                                                    {"controller", true}},
                                                   {{"apiVersion", "v1"},
                                                    {"kind", "ConfigMap"},
                                                    {"name", "b"},
                                                    {"uid", "2"},
                                                    {"controller", true}}};
  auto refused2 = c.create(kConfigMaps, twoControllers);
  ctx.require(!refused2 && refused2.error().isInvalid(),
              "two controller ownerReferences must be 422");

  // The garbage collector deletes dependents whose owners are gone.
  ctx.must(c.remove(kConfigMaps, {ctx.ns(), "owner"}), "delete the owner");
  ctx.eventually(
      [&] {
        auto got = c.get(kConfigMaps, {ctx.ns(), "dependent"});
        return !got && got.error().isNotFound();
      },
      "the dependent is garbage-collected after its owner is deleted", seconds(60));
}

void finalizersCase(Context& ctx) {
  auto& c = ctx.client();
  auto crd = installWidgetCrd(ctx);
  const auto& r = crd.resource;
  kube::ObjectKey key{ctx.ns(), "w1"};
  kube::PatchOptions curl{.fieldManager = "curl"};
  // The recorded sequence: create, status, a main-endpoint patch, add the finalizer, delete.
  json obj = recordedRequest(ctx, "cr-create.txt", crd.renames);
  obj["metadata"]["namespace"] = ctx.ns();
  ctx.must(c.create(r, obj, {"curl", false}), "create");
  ctx.must(c.patch(r, key, kube::PatchType::kMerge,
                   recordedRequest(ctx, "cr-status-patch.txt", crd.renames),
                   {.fieldManager = "curl", .subresource = "status"}),
           "status patch");
  ctx.must(c.patch(r, key, kube::PatchType::kMerge,
                   recordedRequest(ctx, "cr-main-endpoint-ignores-status.txt", crd.renames), curl),
           "main patch");
  json held = ctx.must(
      c.patch(r, key, kube::PatchType::kMerge,
              recordedRequest(ctx, "cr-delete-with-finalizer-setup.txt", crd.renames), curl),
      "add the finalizer");
  expectRecordedObject(ctx, held, "cr-delete-with-finalizer-setup.txt", crd.renames);

  auto watch = WatchRecorder::start(c, r, ctx.ns(),
                                    {.resourceVersion = metaString(held, "resourceVersion")});
  json deleting = ctx.must(c.remove(r, key), "delete");
  expectRecordedObject(ctx, deleting, "cr-delete-with-finalizer.txt", crd.renames,
                       {{"/metadata/deletionTimestamp"}, true});
  ctx.require(!metaString(deleting, "deletionTimestamp").empty(),
              "DELETE answered without deletionTimestamp");
  json still = ctx.must(c.get(r, key), "get while finalizing");
  ctx.require(metaString(still, "deletionTimestamp") == metaString(deleting, "deletionTimestamp"),
              "the object must stay, with its deletionTimestamp, while a finalizer is pending");
  ctx.require(watch->waitFor([](const auto& ev) { return !ev.empty(); }, seconds(10)) &&
                  watch->events()[0].type == kube::WatchEventType::kModified,
              "watchers must see the deletionTimestamp as MODIFIED");

  auto again = ctx.must(c.remove(r, key), "delete again");
  ctx.require(metaString(again, "deletionTimestamp") == metaString(deleting, "deletionTimestamp"),
              "a second DELETE moved deletionTimestamp");
  auto added =
      c.patch(r, key, kube::PatchType::kMerge,
              {{"metadata", {{"finalizers", {crd.group + "/hold", crd.group + "/more"}}}}});
  ctx.require(!added && (added.error().isInvalid() || added.error().isForbidden()),
              "a new finalizer on an object being deleted must be refused");

  ctx.must(c.patch(r, key, kube::PatchType::kJson,
                   json::array({{{"op", "remove"}, {"path", "/metadata/finalizers"}}})),
           "remove the finalizer");
  ctx.eventually(
      [&] {
        auto got = c.get(r, key);
        return !got && got.error().isNotFound();
      },
      "the object is gone once its last finalizer is removed");
  ctx.require(watch->waitFor(
                  [](const auto& ev) {
                    return !ev.empty() && ev.back().type == kube::WatchEventType::kDeleted;
                  },
                  seconds(10)),
              "watchers must see DELETED after the last finalizer went");
}

void namespaceDeletionCase(Context& ctx) {
  auto& c = ctx.client();
  std::string name = ctx.unique("conf-doomed");
  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  ctx.must(c.create(kNamespaces, ns, {"curl", false}), "create namespace " + name);
  ctx.deleteLater(kNamespaces, {"", name});
  ctx.must(c.create(kConfigMaps, configMap(name, "c1")), "create a ConfigMap in it");
  ctx.must(c.create(kSecrets, {{"apiVersion", "v1"},
                               {"kind", "Secret"},
                               {"metadata", {{"name", "s1"}, {"namespace", name}}}}),
           "create a Secret in it");
  json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "Role"},
               {"metadata", {{"name", "r"}, {"namespace", name}}},
               {"rules", json::array()}};
  ctx.must(c.create(kRoles, role), "create a Role in it");

  json deleting = ctx.must(c.remove(kNamespaces, {"", name}), "delete namespace " + name);
  expectRecordedObject(ctx, deleting, "ns-delete.txt", Renames().name("demo", name),
                       {{"/metadata/deletionTimestamp"}, true});
  auto refused = c.create(kConfigMaps, configMap(name, "late"));
  if (refused) {
    // The namespace may already be gone on a fast server: then the create is a 404.
    ctx.fail("creating in a terminating namespace succeeded");
  }
  ctx.require(refused.error().isForbidden() || refused.error().isNotFound(),
              "creating in a terminating namespace must be 403 Forbidden, got " +
                  Context::describe(refused.error()));
  if (refused.error().isForbidden()) {
    std::string want =
        "unable to create new content in namespace " + name + " because it is being terminated";
    ctx.require(refused.error().status()->message.find(want) != std::string::npos,
                "403 message: " + refused.error().status()->message);
  }
  ctx.eventually(
      [&] {
        auto got = c.get(kNamespaces, {"", name});
        return !got && got.error().isNotFound();
      },
      "namespace " + name + " is gone", seconds(120));
  for (const auto* res : {&kConfigMaps, &kSecrets, &kRoles}) {
    json left = ctx.must(c.list(*res, name), "list " + res->resource + " of the deleted namespace");
    ctx.require(left["items"].empty(), res->resource + " of the deleted namespace remain");
  }
}

}  // namespace

void addMetadataCases(Suite& suite) {
  suite.add({"metadata: uid and resourceVersion",
             "uid is server-chosen, stable, new on re-create; resourceVersion grows with every "
             "write across kinds, not on a no-op; a stale one is 409",
             Needs::kNothing, uidAndResourceVersionCase});
  suite.add(
      {"metadata: generation",
       "generation starts at 1 and moves with spec changes only (not metadata, not status), for "
       "built-in and custom resources",
       Needs::kNothing, generationCase});
  suite.add({"metadata: creationTimestamp", "server-set RFC 3339, ignored from clients, immutable",
             Needs::kNothing, creationTimestampCase});
  suite.add(
      {"metadata: labels, annotations, ownerReferences",
       "kept as sent, invalid labels and two controllers are 422, dependents are garbage-collected "
       "after their owner",
       Needs::kNothing, labelsOwnersCase});
  suite.add(
      {"metadata: finalizers and deletionTimestamp",
       "DELETE with a finalizer answers the object with deletionTimestamp (as recorded), it stays "
       "until the finalizer is removed, no new finalizers, watchers see MODIFIED then DELETED",
       Needs::kNothing, finalizersCase});
  suite.add(
      {"metadata: namespace deletion",
       "DELETE answers the Terminating namespace (as recorded), new content is 403, the namespace "
       "and its objects go",
       Needs::kNothing, namespaceDeletionCase});
}

}  // namespace rio::conformance
