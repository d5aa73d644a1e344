// Field paths and FieldsV1, the encoding of metadata.managedFields.
#include "test/testenv/fieldpath.h"

#include <catch2/catch.hpp>

using nlohmann::json;
using rio::testenv::fieldpath::FieldSet;
using rio::testenv::fieldpath::Path;
using rio::testenv::fieldpath::PathElement;

TEST_CASE("fieldpath: paths print as kube prints them in conflict messages",
          "[testenv][merge][fieldpath]") {
  const Path p = {PathElement::ofField("spec"), PathElement::ofField("ports"),
                  PathElement::ofKey({{"protocol", "TCP"}, {"port", 443}}),
                  PathElement::ofField("targetPort")};
  CHECK(rio::testenv::fieldpath::toString(p) ==
        ".spec.ports[port=443,protocol=\"TCP\"].targetPort");
  CHECK(PathElement::ofValue("a").toString() == "[=\"a\"]");
  CHECK(PathElement::ofIndex(3).toString() == "[3]");
  CHECK(p[2].toFieldsV1Key() == "k:{\"port\":443,\"protocol\":\"TCP\"}");
}

TEST_CASE("fieldpath: FieldsV1 from a real server decodes and encodes back unchanged",
          "[testenv][merge][fieldpath]") {
  const json fields = json::parse(R"({
    "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:finalizers": {".": {}, "v:\"x\"": {}}},
    "f:spec": {"f:ports": {".": {}, "k:{\"port\":443,\"protocol\":\"TCP\"}": {
      ".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}}, "f:selector": {}}})");
  auto set = FieldSet::fromFieldsV1(fields);
  REQUIRE(set);
  CHECK(set->toFieldsV1() == fields);
  CHECK(set->paths().size() == 10);
}

TEST_CASE("fieldpath: malformed FieldsV1 is rejected, not thrown", "[testenv][merge][fieldpath]") {
  CHECK_FALSE(FieldSet::fromFieldsV1(json::array()));
  CHECK_FALSE(FieldSet::fromFieldsV1({{"x:bad", json::object()}}));
  CHECK_FALSE(FieldSet::fromFieldsV1({{"k:{not json", json::object()}}));
  CHECK_FALSE(FieldSet::fromFieldsV1({{"f:a", 1}}));
  CHECK_FALSE(FieldSet::fromFieldsV1({{"i:x", json::object()}}));
}

TEST_CASE("fieldpath: set operations keep no empty levels", "[testenv][merge][fieldpath]") {
  FieldSet a;
  a.insert({PathElement::ofField("data"), PathElement::ofField("k")});
  a.insert({PathElement::ofField("data"), PathElement::ofField("k2")});
  FieldSet b;
  b.insert({PathElement::ofField("data"), PathElement::ofField("k")});
  b.insert({PathElement::ofField("data"), PathElement::ofField("k2")});
  CHECK(a.difference(b).empty());
  CHECK(a.difference(b).toFieldsV1() == json::object());
  CHECK(a.intersection(b) == a);
  FieldSet c;
  c.insert({PathElement::ofField("data")});
  CHECK(
      a.unionWith(c).toFieldsV1() ==
      json{{"f:data", {{".", json::object()}, {"f:k", json::object()}, {"f:k2", json::object()}}}});
}
