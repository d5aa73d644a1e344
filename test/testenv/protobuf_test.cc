// Decoding kubectl's protobuf request bodies, built here with a minimal encoder.
#include "test/testenv/protobuf.h"

#include <catch2/catch.hpp>

#include "test/testenv/testing/harness.h"

using namespace rio;
using namespace rio::testenv;

namespace {

std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string bytesField(int n, const std::string& b) {
  return varint((std::uint64_t(n) << 3) | 2) + varint(b.size()) + b;
}
std::string intField(int n, std::uint64_t v) { return varint(std::uint64_t(n) << 3) + varint(v); }

std::string envelope(const std::string& apiVersion, const std::string& kind,
                     const std::string& raw) {
  std::string typeMeta = bytesField(1, apiVersion) + bytesField(2, kind);
  return std::string("k8s\0", 4) + bytesField(1, typeMeta) + bytesField(2, raw) +
         bytesField(3, "") + bytesField(4, "");
}

// ObjectMeta as gogo writes it: every non-pointer field, empty or not.
std::string objectMeta(const std::string& name, const std::string& ns) {
  return bytesField(1, name) + bytesField(2, "") + bytesField(3, ns) + bytesField(4, "") +
         bytesField(5, "") + bytesField(6, "") + intField(7, 0) + bytesField(8, "") +
         bytesField(11, bytesField(1, "app") + bytesField(2, "x"));
}

}  // namespace

TEST_CASE("Protobuf: a TokenRequest decodes with zero values dropped", "[testenv][protobuf]") {
  std::string spec = bytesField(1, "api") + intField(4, 600);
  std::string raw = bytesField(1, objectMeta("bot", "demo")) + bytesField(2, spec) +
                    bytesField(3, bytesField(1, "") + bytesField(2, ""));
  auto j = decodeKubeProtobuf(envelope("authentication.k8s.io/v1", "TokenRequest", raw));
  REQUIRE(j);
  CHECK((*j)["apiVersion"] == "authentication.k8s.io/v1");
  CHECK((*j)["kind"] == "TokenRequest");
  CHECK((*j)["metadata"] ==
        nlohmann::json::parse(R"({"name":"bot","namespace":"demo","labels":{"app":"x"}})"));
  CHECK((*j)["spec"] == nlohmann::json::parse(R"({"audiences":["api"],"expirationSeconds":600})"));
}

TEST_CASE("Protobuf: Secret data bytes become base64 and pointer fields keep zero values",
          "[testenv][protobuf]") {
  std::string raw = bytesField(1, objectMeta("s", "demo")) +
                    bytesField(2, bytesField(1, "k") + bytesField(2, std::string("\x00\x01", 2))) +
                    bytesField(3, "Opaque") + intField(5, 0);
  auto j = decodeKubeProtobuf(envelope("v1", "Secret", raw));
  REQUIRE(j);
  CHECK((*j)["data"]["k"] == "AAE=");
  CHECK((*j)["type"] == "Opaque");
  CHECK((*j)["immutable"] == false);
}

TEST_CASE("Protobuf: unknown kinds and fields are refused, malformed bodies are errors",
          "[testenv][protobuf]") {
  CHECK(decodeKubeProtobuf(envelope("v1", "Pod", "")).error().kind() == ErrorKind::kInvalid);
  auto unknownField = decodeKubeProtobuf(envelope("v1", "ConfigMap", intField(99, 1)));
  REQUIRE_FALSE(unknownField);
  CHECK(unknownField.error().message() ==
        "kube-testenv does not decode protobuf field 99 of ConfigMap; send JSON instead");
  CHECK_FALSE(decodeKubeProtobuf("not protobuf"));
  CHECK_FALSE(decodeKubeProtobuf(std::string("k8s\0", 4) + "\x0a\xff\xff\xff\xff\x0f"));
  std::string truncated = bytesField(2, bytesField(3, "x"));
  truncated.pop_back();
  CHECK_FALSE(decodeKubeProtobuf(envelope("apps/v1", "Deployment", truncated)));
}

TEST_CASE("Protobuf: the API server accepts protobuf bodies as kubectl sends them",
          "[testenv][protobuf]") {
  rio::testenv::testing::Harness h;
  std::string raw = bytesField(1, objectMeta("from-proto", "")) +
                    bytesField(2, bytesField(1, "k") + bytesField(2, "v"));
  auto req = rio::testenv::testing::makeRequest(
      "POST", "/api/v1/namespaces/demo/configmaps", envelope("v1", "ConfigMap", raw),
      {{"Authorization", "Bearer admin-token"},
       {"Content-Type", "application/vnd.kubernetes.protobuf"},
       {"Accept", "application/vnd.kubernetes.protobuf,application/json"}});
  auto r = h.send(std::move(req));
  REQUIRE(r.status == 201);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body["data"]["k"] == "v");
  CHECK(r.body["metadata"]["namespace"] == "demo");
}
