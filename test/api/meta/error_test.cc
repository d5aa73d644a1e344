#include "api/meta/error.h"

#include <catch2/catch.hpp>

using rio::Error;
using rio::ErrorKind;
namespace meta = rio::meta;

TEST_CASE("Status: a recorded 422 body decodes with its causes", "[api][status]") {
  // Body recorded from kube-apiserver 1.32 (reference/kube-apiserver-1.32/cm-invalid-name-422.txt).
  const std::string body = R"({
    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
    "message": "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value",
    "reason": "Invalid",
    "details": {"name": "Bad_Name", "kind": "ConfigMap",
                "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value", "field": "metadata.name"}]},
    "code": 422})";
  auto status = meta::Status::parse(body);
  REQUIRE(status);
  CHECK(status->code == 422);
  CHECK(status->reason == "Invalid");
  CHECK(status->detailsName == "Bad_Name");
  REQUIRE(status->causes.size() == 1);
  CHECK(status->causes[0].field == "metadata.name");

  Error e = Error::fromHttp(422, body);
  CHECK(e.kind() == ErrorKind::kApi);
  CHECK(e.isInvalid());
  CHECK_FALSE(e.isRetryable());
  CHECK(e.message() == "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value");
}

TEST_CASE("Status: toJson round-trips through parse", "[api][status]") {
  meta::Status s = meta::Status::failure(409, meta::reason::kConflict, "Apply failed with 1 conflict");
  s.causes.push_back({"FieldManagerConflict", "conflict with \"curl\" using v1", ".data.k"});
  auto back = meta::Status::parse(s.toJson().dump());
  REQUIRE(back);
  CHECK(*back == s);
}

TEST_CASE("Status: documents that are not a Status are refused", "[api][status]") {
  CHECK_FALSE(meta::Status::parse("not json"));
  CHECK_FALSE(meta::Status::parse(R"({"kind":"ConfigMap"})"));
  CHECK_FALSE(meta::Status::parse("[1,2]"));
}

TEST_CASE("Status: a code that is not an HTTP status or an absurd Retry-After counts as absent",
          "[api][status]") {
  auto parsed = [](const std::string& code, const std::string& retry) {
    return meta::Status::parse(R"({"kind":"Status","status":"Failure","code":)" + code +
                               R"(,"details":{"retryAfterSeconds":)" + retry + "}}");
  };
  auto normal = parsed("429", "3");
  REQUIRE(normal);
  CHECK(normal->code == 429);
  CHECK(normal->retryAfterSeconds == 3);
  // 2^32 + 404 once narrowed to 404; a negative delay would mean "retry at once, forever".
  for (const auto& [code, retry] : std::vector<std::pair<std::string, std::string>>{
           {"4294967700", "-1"}, {"844", "86401"}, {"-404", "99999999999"}}) {
    auto s = parsed(code, retry);
    REQUIRE(s);
    CHECK(s->code == 0);
    CHECK_FALSE(s->retryAfterSeconds);
  }
  // Error::fromHttp then uses the HTTP status of the answer.
  CHECK(rio::Error::fromHttp(503, R"({"kind":"Status","code":844})").code() == 503);
}

TEST_CASE("Error: a bare HTTP code without a Status body gets the server's usual reason", "[api][error]") {
  Error e = Error::fromHttp(503, "Service Unavailable");
  CHECK(e.isServerError());
  CHECK(e.isRetryable());
  CHECK(e.reason() == "ServiceUnavailable");
  CHECK(e.message() == "the server answered 503: Service Unavailable");

  Error notFound = Error::fromHttp(404, std::string("\x01\x02", 2));
  CHECK(notFound.isNotFound());
  CHECK(notFound.message() == "the server answered 404");
}

TEST_CASE("Error: classification separates API statuses from transport failures", "[api][error]") {
  CHECK(Error::fromHttp(409, R"({"kind":"Status","code":409,"reason":"AlreadyExists"})").isAlreadyExists());
  CHECK_FALSE(Error::fromHttp(409, R"({"kind":"Status","code":409,"reason":"AlreadyExists"})").isConflict());
  CHECK(Error::fromHttp(409, R"({"kind":"Status","code":409,"reason":"Conflict"})").isConflict());
  // A watch ERROR event carries 410 with reason Expired.
  CHECK(Error::api(meta::Status::failure(410, meta::reason::kExpired, "too old")).isGone());
  CHECK(Error::transport("connection reset").isRetryable());
  CHECK_FALSE(Error::tls("certificate verify failed").isRetryable());
  CHECK(Error::timeout("deadline").isTimeout());
  CHECK_FALSE(Error::transport("x").isNotFound());
  CHECK(Error::transport("x").code() == 0);
}

TEST_CASE("Error: wrap keeps kind and status and prefixes context", "[api][error]") {
  Error e = Error::fromHttp(404, R"({"kind":"Status","code":404,"reason":"NotFound","message":"secrets \"a\" not found"})");
  Error wrapped = e.wrap("read bootstrap Secret istio-system/a");
  CHECK(wrapped.isNotFound());
  CHECK(wrapped.message() == "read bootstrap Secret istio-system/a: secrets \"a\" not found");
}

TEST_CASE("Error: Retry-After comes from Status details or from the caller", "[api][error]") {
  Error fromDetails = Error::fromHttp(429, R"({"kind":"Status","code":429,"reason":"TooManyRequests","details":{"retryAfterSeconds":3}})");
  REQUIRE(fromDetails.retryAfter());
  CHECK(fromDetails.retryAfter()->count() == 3);
  Error header = Error::fromHttp(503, "").withRetryAfter(std::chrono::seconds(7));
  CHECK(header.retryAfter()->count() == 7);
  CHECK_FALSE(Error::fromHttp(500, "").retryAfter());
}
