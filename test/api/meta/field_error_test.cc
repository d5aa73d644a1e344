#include "api/meta/field_error.h"

#include <catch2/catch.hpp>

namespace meta = rio::meta;
using meta::FieldErrors;
using meta::FieldPath;

TEST_CASE("FieldPath: builds k8s-style paths", "[api][field_error]") {
  const FieldPath spec("spec");
  CHECK(spec.child("network").child("vpcCIDRs").index(1).str() == "spec.network.vpcCIDRs[1]");
  CHECK(FieldPath("metadata").child("labels").key("app").str() == "metadata.labels[app]");
  CHECK(FieldPath().child("spec").str() == "spec");
}

TEST_CASE("FieldErrors: summary lists every problem with its path", "[api][field_error]") {
  FieldErrors errors;
  errors.invalid(FieldPath("spec.sidecarInjector.replicaCount"), "must be >= 0");
  errors.required(FieldPath("spec.bootstrapSecretRef.name"));
  errors.notSupported(FieldPath("spec.network.mode"), "Mesh", {"Flat", "Gateway"});
  CHECK(errors.summary() ==
        "spec.sidecarInjector.replicaCount: must be >= 0; spec.bootstrapSecretRef.name: required value; "
        "spec.network.mode: unsupported value \"Mesh\": supported values: \"Flat\", \"Gateway\"");
  CHECK(errors.hasField("spec.network.mode"));
  CHECK_FALSE(errors.hasField("spec.network"));
}

TEST_CASE("FieldErrors: a long summary is cut and says how many were left out", "[api][field_error]") {
  FieldErrors errors;
  for (int i = 0; i < 100; ++i) errors.invalid(FieldPath("spec.f" + std::to_string(i)), "is wrong");
  const std::string s = errors.summary(120);
  CHECK(s.size() <= 120);
  CHECK(s.find("spec.f0: is wrong") == 0);
  CHECK(s.find(" more") != std::string::npos);
}

TEST_CASE("FieldErrors: untrusted values are quoted, escaped and shortened", "[api][field_error]") {
  CHECK(meta::quoteValue("a\"b\n") == "\"a\\\"b\\n\"");
  const std::string longValue(200, 'x');
  CHECK(meta::quoteValue(longValue).size() < 80);
  // Cutting never splits a UTF-8 sequence (which would make the JSON status write fail).
  std::string text;
  for (int i = 0; i < 40; ++i) text += "\xC3\xA4";  // ä
  const std::string cut = meta::truncateUtf8(text, 5);
  CHECK(cut == "\xC3\xA4\xC3\xA4");
  CHECK(meta::quoteValue(text).find("\\u") == std::string::npos);
}

TEST_CASE("FieldErrors: converts to the causes of a 422 Status", "[api][field_error]") {
  FieldErrors errors;
  errors.invalid(FieldPath("spec.size"), "must be >= 1");
  errors.duplicate(FieldPath("spec.items[1]"), "a");
  auto causes = errors.toStatusCauses();
  REQUIRE(causes.size() == 2);
  CHECK(causes[0].reason == "FieldValueInvalid");
  CHECK(causes[0].field == "spec.size");
  CHECK(causes[1].reason == "FieldValueDuplicate");
}

TEST_CASE("FieldErrors: under and notUnder split by path prefix, not by string prefix", "[api][field_error]") {
  FieldErrors errors;
  errors.invalid(FieldPath("status.phase"), "x");
  errors.invalid(FieldPath("statusLine"), "x");
  errors.invalid(FieldPath("status"), "x");
  errors.invalid(FieldPath("status[0]"), "x");
  CHECK(errors.under("status").size() == 3);
  CHECK(errors.notUnder("status").size() == 1);
}
