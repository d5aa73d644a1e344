// Field ownership (metadata.managedFields) after create, update, patch and server-side apply,
// checked against exchanges recorded from kube-apiserver 1.32 and against its documented
// apply semantics.
#include <catch2/catch.hpp>

#include "test/testenv/merge.h"
#include "test/testenv/merge/recorded.h"

using nlohmann::json;
using rio::testenv::conflictStatus;
using rio::testenv::recordUpdate;
using rio::testenv::serverSideApply;
using rio::testenv::strategicMergePatch;
namespace recorded = rio::testenv::recorded;

namespace {

const json& managedFields(const json& obj) { return obj.at("metadata").at("managedFields"); }

// The entry of `manager` (and operation) in obj's managedFields; null when there is none.
json entryOf(const json& obj, const std::string& manager, const std::string& operation) {
  if (!obj["metadata"].contains("managedFields")) return nullptr;
  for (const auto& e : managedFields(obj)) {
    if (e["manager"] == manager && e["operation"] == operation) return e;
  }
  return nullptr;
}

json fieldsOf(const json& obj, const std::string& manager, const std::string& operation) {
  json e = entryOf(obj, manager, operation);
  return e.is_null() ? e : e["fieldsV1"];
}

const rio::WallTime kT0 = recorded::at("2026-11-25T18:54:38Z");
const rio::WallTime kT1 = recorded::at("2026-11-25T18:54:39Z");
const rio::WallTime kT2 = recorded::at("2026-11-25T18:54:40Z");

json configMap(json data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "c1"}, {"namespace", "demo"}, {"uid", "u1"}}},
          {"data", std::move(data)}};
}

json applyConfig(json data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "c1"}}},
          {"data", std::move(data)}};
}

// A ConfigMap created by `curl` with the given data.
json createdByCurl(json data) {
  return recordUpdate(nullptr, configMap(std::move(data)), "curl", "v1", "", kT0);
}

json mustApply(const json& live, const json& applied, const std::string& manager, rio::WallTime now,
               bool force = false) {
  auto out = serverSideApply(live, applied, manager, force, "v1", "", now);
  REQUIRE(out);
  REQUIRE(out->conflicts.empty());
  return out->object;
}

}  // namespace

// ---- the recorded ConfigMap history: create, merge patch, strategic patch, apply, force ----

TEST_CASE("recordUpdate: a created ConfigMap is owned by its creator exactly as recorded",
          "[testenv][merge][managedfields]") {
  const auto ex = recorded::load("cm-create.txt");
  const json stored = recorded::withoutManagedFields(ex.responseBody);
  const json out = recordUpdate(nullptr, stored, "curl", "v1", "", kT0);
  CHECK(managedFields(out) == managedFields(ex.responseBody));
  CHECK(recorded::withoutManagedFields(out) == stored);
}

TEST_CASE("recordUpdate: a merge patch adds the new key to the patcher's entry and moves its time",
          "[testenv][merge][managedfields]") {
  const json before = recorded::load("cm-create.txt").responseBody;
  const auto ex = recorded::load("cm-merge-patch.txt");
  json after = before;
  after.merge_patch(ex.requestBody);
  const json out = recordUpdate(before, after, "curl", "v1", "", kT1);
  CHECK(managedFields(out) == managedFields(ex.responseBody));
  CHECK(out["data"] == ex.responseBody["data"]);
}

TEST_CASE("recordUpdate: a strategic merge patch of labels is owned per label key",
          "[testenv][merge][managedfields]") {
  const json before = recorded::load("cm-merge-patch.txt").responseBody;
  const auto ex = recorded::load("cm-strategic-patch.txt");
  auto after = strategicMergePatch(before, ex.requestBody, "v1", "ConfigMap");
  REQUIRE(after);
  const json out = recordUpdate(before, *after, "curl", "v1", "", kT1);
  CHECK(managedFields(out) == managedFields(ex.responseBody));
  CHECK(out["metadata"]["labels"] == ex.responseBody["metadata"]["labels"]);
}

TEST_CASE("serverSideApply: applying a value another manager set is the recorded 409 Status",
          "[testenv][merge][apply]") {
  const json live = recorded::load("cm-strategic-patch.txt").responseBody;
  const auto ex = recorded::load("cm-apply-conflict-409.txt");
  REQUIRE(ex.status == 409);
  auto out = serverSideApply(live, ex.requestBody, "op", false, "v1", "", kT2);
  REQUIRE(out);
  REQUIRE(out->conflicts.size() == 1);
  CHECK(out->conflicts[0].manager == "curl");
  CHECK(out->conflicts[0].field == ".data.k");
  CHECK(out->object == live);  // nothing changes on conflict
  CHECK(conflictStatus(out->conflicts, "v1") == ex.responseBody);
}

TEST_CASE("serverSideApply: force takes the field over and gives the recorded managedFields",
          "[testenv][merge][apply]") {
  const json live = recorded::load("cm-strategic-patch.txt").responseBody;
  const auto ex = recorded::load("cm-apply-force.txt");
  auto out = serverSideApply(live, ex.requestBody, "op", true, "v1", "", kT2);
  REQUIRE(out);
  CHECK(out->conflicts.empty());
  CHECK(managedFields(out->object) == managedFields(ex.responseBody));
  CHECK(out->object["data"] == ex.responseBody["data"]);
  CHECK(out->object["metadata"]["labels"] == ex.responseBody["metadata"]["labels"]);
  // The object as the later GET shows it.
  const json got = recorded::load("cm-get-with-managedfields.txt").responseBody;
  CHECK(managedFields(out->object) == managedFields(got));
}

TEST_CASE("recordUpdate: a third manager's patch gets its own entry, as in the recorded watch",
          "[testenv][merge][managedfields]") {
  const json before = recorded::load("cm-apply-force.txt").responseBody;
  const auto watch = recorded::load("watch-stream.txt");
  REQUIRE(!watch.responseLines.empty());
  const json& modified = watch.responseLines[0]["object"];
  auto after = strategicMergePatch(before, {{"data", {{"w", "1"}}}}, "v1", "ConfigMap");
  REQUIRE(after);
  const json out =
      recordUpdate(before, *after, "kubectl-patch", "v1", "", recorded::at("2026-11-25T18:54:51Z"));
  CHECK(managedFields(out) == managedFields(modified));
  CHECK(out["data"] == modified["data"]);
}

// ---- the other recorded creates: defaults, "." markers, associative keys, atomic fields ----

TEST_CASE("recordUpdate: a created Deployment owns the defaulted fields as recorded",
          "[testenv][merge][managedfields]") {
  const auto ex = recorded::load("deployment-create-defaults.txt");
  const json out = recordUpdate(nullptr, recorded::withoutManagedFields(ex.responseBody), "curl",
                                "apps/v1", "", recorded::at("2026-11-25T18:54:43Z"));
  CHECK(managedFields(out) == managedFields(ex.responseBody));
}

TEST_CASE("recordUpdate: a created Service keys its ports by port and protocol as recorded",
          "[testenv][merge][managedfields]") {
  const auto ex = recorded::load("service-create-defaults.txt");
  // kube-apiserver allocates the cluster IPs after it records field ownership, so they are
  // nobody's: the engine records before allocating.
  json stored = recorded::withoutManagedFields(ex.responseBody);
  for (const char* allocated : {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"}) {
    stored["spec"].erase(allocated);
  }
  const json out =
      recordUpdate(nullptr, stored, "curl", "v1", "", recorded::at("2026-11-25T18:54:43Z"));
  CHECK(managedFields(out) == managedFields(ex.responseBody));
}

TEST_CASE("recordUpdate: Endpoints subsets and webhook rules are owned as atomic lists",
          "[testenv][merge][managedfields]") {
  const auto endpoints = recorded::load("endpoints-create.txt");
  CHECK(managedFields(recordUpdate(nullptr, recorded::withoutManagedFields(endpoints.responseBody),
                                   "curl", "v1", "", recorded::at("2026-11-25T18:54:43Z"))) ==
        managedFields(endpoints.responseBody));
  const auto mwc = recorded::load("mwc-create.txt");
  CHECK(managedFields(recordUpdate(nullptr, recorded::withoutManagedFields(mwc.responseBody),
                                   "curl", "admissionregistration.k8s.io/v1", "",
                                   recorded::at("2026-11-25T18:54:44Z"))) ==
        managedFields(mwc.responseBody));
}

TEST_CASE("recordUpdate: a custom resource's status subresource writes get their own entry",
          "[testenv][merge][managedfields]") {
  const auto create = recorded::load("cr-create.txt");
  const json created =
      recordUpdate(nullptr, recorded::withoutManagedFields(create.responseBody), "curl",
                   "example.com/v1", "", recorded::at("2026-11-25T18:54:48Z"));
  CHECK(managedFields(created) == managedFields(create.responseBody));

  const auto statusPatch = recorded::load("cr-status-patch.txt");
  json afterStatus = create.responseBody;
  afterStatus.merge_patch(statusPatch.requestBody);
  const json withStatus = recordUpdate(create.responseBody, afterStatus, "curl", "example.com/v1",
                                       "status", recorded::at("2026-11-25T18:54:49Z"));
  CHECK(managedFields(withStatus) == managedFields(statusPatch.responseBody));

  // The main endpoint ignores the status part of this patch (the engine resets it); the spec
  // change moves the main entry's time only.
  const auto mainPatch = recorded::load("cr-main-endpoint-ignores-status.txt");
  json afterMain = statusPatch.responseBody;
  afterMain["spec"] = mainPatch.requestBody["spec"];
  const json out = recordUpdate(statusPatch.responseBody, afterMain, "curl", "example.com/v1", "",
                                recorded::at("2026-11-25T18:54:49Z"));
  CHECK(managedFields(out) == managedFields(mainPatch.responseBody));
}

// ---- apply semantics ----

TEST_CASE("serverSideApply: applying the value another manager set shares ownership",
          "[testenv][merge][apply]") {
  const json live = createdByCurl({{"k", "v"}});
  const json out = mustApply(live, applyConfig({{"k", "v"}}), "op", kT1);
  CHECK(out["data"] == json{{"k", "v"}});
  CHECK(fieldsOf(out, "op", "Apply") == json{{"f:data", {{"f:k", json::object()}}}});
  CHECK(fieldsOf(out, "curl", "Update") ==
        json{{"f:data", {{".", json::object()}, {"f:k", json::object()}}}});
  // Nothing changed, so the new entry carries no time, as on a real server.
  CHECK_FALSE(entryOf(out, "op", "Apply").contains("time"));
}

TEST_CASE("serverSideApply: force moves ownership away from the previous owner",
          "[testenv][merge][apply]") {
  const json live = createdByCurl({{"k", "v"}, {"k2", "x"}});
  auto conflicted = serverSideApply(live, applyConfig({{"k", "z"}}), "op", false, "v1", "", kT1);
  REQUIRE(conflicted);
  REQUIRE(conflicted->conflicts.size() == 1);
  const json out = mustApply(live, applyConfig({{"k", "z"}}), "op", kT1, /*force=*/true);
  CHECK(out["data"] == json{{"k", "z"}, {"k2", "x"}});
  CHECK(fieldsOf(out, "curl", "Update") ==
        json{{"f:data", {{".", json::object()}, {"f:k2", json::object()}}}});
  CHECK(entryOf(out, "op", "Apply")["time"] == "2026-11-25T18:54:39Z");
  // Now curl changing the value takes it back without any conflict check (updates never conflict).
  json edited = out;
  edited["data"]["k"] = "back";
  const json back = recordUpdate(out, edited, "curl", "v1", "", kT2);
  CHECK(fieldsOf(back, "op", "Apply").is_null());
}

TEST_CASE("serverSideApply: a field the applier set before and omits now is removed",
          "[testenv][merge][apply]") {
  json live = mustApply(nullptr, applyConfig({{"a", "1"}, {"b", "2"}}), "op", kT0);
  CHECK(live["data"] == json{{"a", "1"}, {"b", "2"}});
  live = mustApply(live, applyConfig({{"a", "1"}}), "op", kT1);
  CHECK(live["data"] == json{{"a", "1"}});
  CHECK(fieldsOf(live, "op", "Apply") == json{{"f:data", {{"f:a", json::object()}}}});
}

TEST_CASE("serverSideApply: a field another manager owns survives the applier dropping its own",
          "[testenv][merge][apply]") {
  json live = mustApply(nullptr, applyConfig({{"a", "1"}}), "op", kT0);
  json edited = live;
  edited["data"]["b"] = "2";
  live = recordUpdate(live, edited, "kubectl-edit", "v1", "", kT1);
  json manifest = applyConfig(nullptr);
  manifest.erase("data");
  live = mustApply(live, manifest, "op", kT2);
  CHECK(live["data"] == json{{"b", "2"}});
  CHECK(entryOf(live, "op", "Apply").is_null());  // owns nothing any more
  CHECK(fieldsOf(live, "kubectl-edit", "Update") == json{{"f:data", {{"f:b", json::object()}}}});
}

TEST_CASE("serverSideApply: finalizers the applier owned go when omitted, another manager's stay",
          "[testenv][merge][apply]") {
  json manifest = applyConfig({{"a", "1"}});
  manifest["metadata"]["finalizers"] = {"example.com/applied"};
  json live = mustApply(nullptr, manifest, "op", kT0);
  live["metadata"]["uid"] = "u1";  // as the engine stores it
  CHECK(fieldsOf(live, "op", "Apply")["f:metadata"] ==
        json{{"f:finalizers", {{"v:\"example.com/applied\"", json::object()}}}});

  json withController = live;
  withController["metadata"]["finalizers"].push_back("example.com/controller");
  live = recordUpdate(live, withController, "controller", "v1", "", kT1);

  manifest["metadata"].erase("finalizers");
  live = mustApply(live, manifest, "op", kT2);
  CHECK(live["metadata"]["finalizers"] == json{"example.com/controller"});
  CHECK(live["metadata"]["uid"] == "u1");  // identity fields are untouched by pruning
}

TEST_CASE("serverSideApply: a conflict inside a list item names the item by its key",
          "[testenv][merge][apply]") {
  const json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "d1"}, {"namespace", "demo"}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "d1"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "d1"}}}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx:1"}}}}}}}}}}};
  auto created = serverSideApply(nullptr, deployment, "op", false, "apps/v1", "", kT0);
  REQUIRE(created);
  const json& fields = fieldsOf(created->object, "op", "Apply");
  CHECK(fields["f:spec"]["f:template"]["f:spec"]["f:containers"] ==
        json{{"k:{\"name\":\"c\"}",
              {{".", json::object()}, {"f:image", json::object()}, {"f:name", json::object()}}}});
  CHECK(fields["f:spec"]["f:selector"] == json::object());  // LabelSelector is atomic

  json edited = created->object;
  edited["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2";
  edited["spec"]["replicas"] = 3;
  const json live = recordUpdate(created->object, edited, "kubectl-edit", "apps/v1", "", kT1);

  json next = deployment;
  next["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:3";
  next["spec"]["replicas"] = 2;
  auto out = serverSideApply(live, next, "op", false, "apps/v1", "", kT2);
  REQUIRE(out);
  REQUIRE(out->conflicts.size() == 2);
  CHECK(out->conflicts[0].field == ".spec.replicas");
  CHECK(out->conflicts[1].field == ".spec.template.spec.containers[name=\"c\"].image");
  const json status = conflictStatus(out->conflicts, "apps/v1");
  CHECK(status["code"] == 409);
  CHECK(status["message"] ==
        "Apply failed with 2 conflicts: conflicts with \"kubectl-edit\" using apps/v1:\n"
        "- .spec.replicas\n"
        "- .spec.template.spec.containers[name=\"c\"].image");
  CHECK(status["details"]["causes"][1] ==
        json{{"reason", "FieldManagerConflict"},
             {"message", "conflict with \"kubectl-edit\" using apps/v1"},
             {"field", ".spec.template.spec.containers[name=\"c\"].image"}});
}

TEST_CASE("serverSideApply: a conflict with another applier names it without an apiVersion",
          "[testenv][merge][apply]") {
  json live = mustApply(nullptr, applyConfig({{"k", "v"}}), "first", kT0);
  auto out = serverSideApply(live, applyConfig({{"k", "w"}}), "second", false, "v1", "", kT1);
  REQUIRE(out);
  REQUIRE(out->conflicts.size() == 1);
  CHECK(conflictStatus(out->conflicts, "v1")["message"] ==
        "Apply failed with 1 conflict: conflict with \"first\": .data.k");
}

TEST_CASE("serverSideApply: associative lists merge by key and keep other managers' items",
          "[testenv][merge][apply]") {
  json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", "s1"}}},
              {"spec", {{"ports", {{{"port", 443}, {"targetPort", 9443}}}}}}};
  json live = serverSideApply(nullptr, svc, "a", false, "v1", "", kT0)->object;
  CHECK(fieldsOf(live, "a", "Apply")["f:spec"]["f:ports"].contains(
      "k:{\"port\":443,\"protocol\":\"TCP\"}"));
  json other = svc;
  other["spec"]["ports"] = {{{"port", 80}, {"protocol", "TCP"}}};
  live = serverSideApply(live, other, "b", false, "v1", "", kT1)->object;
  CHECK(live["spec"]["ports"].size() == 2);
  // a drops its port: only b's stays.
  svc["spec"]["ports"] = json::array();
  live = serverSideApply(live, svc, "a", false, "v1", "", kT2)->object;
  CHECK(live["spec"]["ports"] == json{{{"port", 80}, {"protocol", "TCP"}}});
}

TEST_CASE("serverSideApply: kubectl takes over fields it client-side applied without conflicts",
          "[testenv][merge][apply]") {
  const std::string annotation = "kubectl.kubernetes.io/last-applied-configuration";
  json obj = configMap({{"k", "v"}});
  obj["metadata"]["annotations"][annotation] =
      R"({"apiVersion":"v1","data":{"k":"v"},"kind":"ConfigMap","metadata":{"name":"c1"}})";
  const json live = recordUpdate(nullptr, obj, "kubectl-client-side-apply", "v1", "", kT0);

  json manifest = applyConfig({{"k", "z"}});
  const json out = mustApply(live, manifest, "kubectl", kT1);
  CHECK(out["data"]["k"] == "z");
  CHECK(fieldsOf(out, "kubectl", "Apply") == json{{"f:data", {{"f:k", json::object()}}}});
  CHECK(out["metadata"]["annotations"][annotation] == manifest.dump() + "\n");

  // Any other manager still conflicts.
  auto other = serverSideApply(live, manifest, "op", false, "v1", "", kT1);
  REQUIRE(other);
  CHECK(other->conflicts.size() == 1);
}

TEST_CASE("serverSideApply: re-applying the same manifest changes nothing, not even the time",
          "[testenv][merge][apply]") {
  const json live = mustApply(nullptr, applyConfig({{"k", "v"}}), "op", kT0);
  const json again = mustApply(live, applyConfig({{"k", "v"}}), "op", kT2);
  CHECK(again == live);
}

TEST_CASE("serverSideApply: through the status subresource only status is applied",
          "[testenv][merge][apply]") {
  const json cr = {{"apiVersion", "example.com/v1"},
                   {"kind", "Widget"},
                   {"metadata", {{"name", "w1"}}},
                   {"spec", {{"size", 1}}}};
  const json live = serverSideApply(nullptr, cr, "op", false, "example.com/v1", "", kT0)->object;
  json statusApply = cr;
  statusApply["spec"]["size"] = 5;
  statusApply["status"] = {{"phase", "Ready"}};
  auto out = serverSideApply(live, statusApply, "ctl", false, "example.com/v1", "status", kT1);
  REQUIRE(out);
  CHECK(out->object["spec"]["size"] == 1);
  CHECK(out->object["status"]["phase"] == "Ready");
  json entry = entryOf(out->object, "ctl", "Apply");
  CHECK(entry["subresource"] == "status");
  CHECK(entry["fieldsV1"] == json{{"f:status", {{"f:phase", json::object()}}}});
}

TEST_CASE("serverSideApply: malformed configurations are Status errors, never exceptions",
          "[testenv][merge][apply]") {
  auto code = [](const json& live, const json& applied) {
    int result = 0;
    CHECK_NOTHROW([&] {
      auto out = serverSideApply(live, applied, "op", false, "v1", "", kT0);
      result = out ? 0 : out.error().code();
    }());
    return result;
  };
  CHECK(code(nullptr, json::array()) == 400);
  CHECK(code(nullptr, "text") == 400);
  json withManaged = applyConfig({{"k", "v"}});
  withManaged["metadata"]["managedFields"] = json::array();
  CHECK(code(nullptr, withManaged) == 400);
  json wrongVersion = applyConfig({{"k", "v"}});
  wrongVersion["apiVersion"] = "v2";
  CHECK(code(nullptr, wrongVersion) == 400);

  const json svcNoPort = {{"apiVersion", "v1"},
                          {"kind", "Service"},
                          {"metadata", {{"name", "s1"}}},
                          {"spec", {{"ports", {{{"targetPort", 1}}}}}}};
  auto out = serverSideApply(nullptr, svcNoPort, "op", false, "v1", "", kT0);
  REQUIRE_FALSE(out);
  CHECK(out.error().code() == 500);
  CHECK(out.error().message() ==
        "failed to create typed patch object (/v1, Kind=Service /s1): .spec.ports: element 0: "
        "associative list with keys has an element that omits key field \"port\" (and doesn't "
        "have default value)");

  const json duplicates = {{"apiVersion", "v1"},
                           {"kind", "Service"},
                           {"metadata", {{"name", "s1"}}},
                           {"spec", {{"ports", {{{"port", 1}}, {{"port", 1}}}}}}};
  CHECK(code(nullptr, duplicates) == 500);
  // Garbage where objects belong does not crash.
  CHECK(code(nullptr, {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", 5}}) == 500);
  CHECK(code(createdByCurl({{"k", "v"}}), {{"apiVersion", "v1"},
                                           {"kind", "ConfigMap"},
                                           {"metadata", {{"name", "c1"}}},
                                           {"data", json::array({1, 2})}}) == 0);
  json odd = configMap({{"k", "v"}});
  odd["metadata"] = 5;
  CHECK_NOTHROW(recordUpdate(nullptr, odd, "curl", "v1", "", kT0));
  CHECK_NOTHROW(recordUpdate(createdByCurl({{"k", "v"}}), odd, "curl", "v1", "", kT0));
}

// ---- updates ----

TEST_CASE("recordUpdate: an update that changes nothing leaves the entries and times alone",
          "[testenv][merge][managedfields]") {
  const json live = createdByCurl({{"k", "v"}});
  json same = live;
  same["metadata"]["resourceVersion"] = "42";
  CHECK(recordUpdate(live, same, "other", "v1", "", kT2) == same);
}

TEST_CASE("recordUpdate: managedFields sent as [] clear ownership and stop tracking",
          "[testenv][merge][managedfields]") {
  const json live = createdByCurl({{"k", "v"}});
  json cleared = live;
  cleared["metadata"]["managedFields"] = json::array();
  const json out = recordUpdate(live, cleared, "curl", "v1", "", kT1);
  CHECK_FALSE(out["metadata"].contains("managedFields"));
  json edited = out;
  edited["data"]["k"] = "w";
  CHECK_FALSE(
      recordUpdate(out, edited, "curl", "v1", "", kT2)["metadata"].contains("managedFields"));
}

TEST_CASE("recordUpdate: managedFields a request sets replace the stored ones (kubectl's upgrade)",
          "[testenv][merge][managedfields]") {
  const json live = createdByCurl({{"k", "v"}});
  json migrated = live;
  migrated["metadata"]["managedFields"] = {{{"manager", "kubectl"},
                                            {"operation", "Apply"},
                                            {"apiVersion", "v1"},
                                            {"time", "2026-11-25T18:54:38Z"},
                                            {"fieldsType", "FieldsV1"},
                                            {"fieldsV1", {{"f:data", {{"f:k", json::object()}}}}}}};
  const json out = recordUpdate(live, migrated, "kubectl", "v1", "", kT1);
  CHECK(managedFields(out) == migrated["metadata"]["managedFields"]);
  // ... which a status write cannot do.
  const json viaStatus = recordUpdate(live, migrated, "kubectl", "v1", "status", kT1);
  CHECK(managedFields(viaStatus) == managedFields(live));
}

TEST_CASE("recordUpdate: more than ten updaters fold the oldest into ancient-changes",
          "[testenv][merge][managedfields]") {
  json live = createdByCurl({{"k0", "v"}});
  for (int i = 1; i <= 11; ++i) {
    json edited = live;
    edited["data"]["k" + std::to_string(i)] = "v";
    live = recordUpdate(live, edited, "m" + std::to_string(i), "v1", "",
                        kT0 + std::chrono::seconds(i));
  }
  CHECK(managedFields(live).size() == 10);
  json bucket = entryOf(live, "ancient-changes", "Update");
  REQUIRE_FALSE(bucket.is_null());
  CHECK(bucket["fieldsV1"]["f:data"].contains("f:k0"));
  CHECK(bucket["fieldsV1"]["f:data"].contains("f:k1"));
  CHECK(entryOf(live, "curl", "Update").is_null());
}
