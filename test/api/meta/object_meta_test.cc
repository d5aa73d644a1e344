#include "api/meta/object_meta.h"

#include <catch2/catch.hpp>

namespace meta = rio::meta;

TEST_CASE("ObjectMeta: round-trips a server's metadata, keeping fields it does not model",
          "[api][object_meta]") {
  // From reference/kube-apiserver-1.32/cr-delete-with-finalizer.txt.
  const auto j = nlohmann::json::parse(R"({
    "creationTimestamp": "2026-11-25T18:54:48Z",
    "deletionGracePeriodSeconds": 0,
    "deletionTimestamp": "2026-11-25T18:54:58Z",
    "finalizers": ["example.com/hold"],
    "generation": 3,
    "managedFields": [{"apiVersion": "example.com/v1", "fieldsType": "FieldsV1",
                       "fieldsV1": {"f:spec": {".": {}, "f:size": {}}}, "manager": "curl",
                       "operation": "Update", "time": "2026-11-25T18:54:57Z"}],
    "name": "w1", "namespace": "demo", "resourceVersion": "230",
    "uid": "1964432d-27b1-4340-8548-e9ce0ca1c20f",
    "labels": {"app": "x"}, "annotations": {"a": "b"},
    "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u1",
                         "controller": true, "extra": 1}]
  })");
  meta::ObjectMeta m;
  meta::FieldErrors errors;
  REQUIRE(meta::decodeInto(j, m, meta::FieldPath("metadata"), errors));
  CHECK(m.name == "w1");
  CHECK(m.namespace_ == "demo");
  CHECK(m.generation == 3);
  CHECK(m.isBeingDeleted());
  CHECK(m.hasFinalizer("example.com/hold"));
  CHECK(m.label("app") == "x");
  CHECK(m.annotation("a") == "b");
  CHECK_FALSE(m.annotation("missing"));
  REQUIRE(m.ownerReferences.size() == 1);
  CHECK(m.ownerReferences[0].controller == true);
  CHECK(meta::encode(m) == j);
}

TEST_CASE("ObjectMeta: finalizers are added once and removed", "[api][object_meta]") {
  meta::ObjectMeta m;
  CHECK(m.addFinalizer("istio.alibabacloud.com/remoteistio-cleanup"));
  CHECK_FALSE(m.addFinalizer("istio.alibabacloud.com/remoteistio-cleanup"));
  CHECK(m.finalizers.size() == 1);
  CHECK(m.removeFinalizer("istio.alibabacloud.com/remoteistio-cleanup"));
  CHECK_FALSE(m.removeFinalizer("istio.alibabacloud.com/remoteistio-cleanup"));
  CHECK_FALSE(meta::encode(m).contains("finalizers"));
}

TEST_CASE("ObjectMeta: a BOOKMARK's null creationTimestamp is absent, not an error",
          "[api][object_meta]") {
  const auto j = nlohmann::json::parse(R"({"resourceVersion": "12", "creationTimestamp": null})");
  meta::ObjectMeta m;
  meta::FieldErrors errors;
  CHECK(meta::decodeInto(j, m, meta::FieldPath("metadata"), errors));
  CHECK_FALSE(m.creationTimestamp);
  CHECK(m.resourceVersion == "12");
}

TEST_CASE("ObjectMeta: wrong types are errors with paths, never exceptions", "[api][object_meta]") {
  const auto j = nlohmann::json::parse(R"({"name": 5, "labels": {"a": 1}, "finalizers": "x",
      "generation": "2", "ownerReferences": [{"kind": "X"}]})");
  meta::ObjectMeta m;
  meta::FieldErrors errors;
  CHECK_FALSE(meta::decodeInto(j, m, meta::FieldPath("metadata"), errors));
  CHECK(errors.hasField("metadata.name"));
  CHECK(errors.hasField("metadata.labels[a]"));
  CHECK(errors.hasField("metadata.finalizers"));
  CHECK(errors.hasField("metadata.generation"));
  CHECK(errors.hasField("metadata.ownerReferences[0].uid"));
}
