#include "controller/core/base64.h"

#include <catch2/catch.hpp>

namespace base64 = rio::base64;

TEST_CASE("base64: the RFC 4648 test vectors encode and decode", "[base64]") {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64::encode(plain) == encoded);
    auto decoded = base64::decode(encoded);
    REQUIRE(decoded);
    CHECK(*decoded == plain);
  }
}

TEST_CASE("base64: every byte value survives a round trip", "[base64]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    const std::string chunk = all.substr(0, len);
    auto back = base64::decode(base64::encode(chunk));
    REQUIRE(back);
    CHECK(*back == chunk);
  }
  CHECK(base64::encode("\xfb\xff") == "+/8=");
}

TEST_CASE("base64: line-wrapped input with spaces, tabs and CRLF decodes", "[base64]") {
  // How `base64` (76 columns) and hand-edited Secrets wrap data.
  auto decoded = base64::decode(" Zm9v\r\nYmFy\n\tZm9v YmE=\n");
  REQUIRE(decoded);
  CHECK(*decoded == "foobarfooba");
}

TEST_CASE("base64: invalid input is rejected without echoing it", "[base64]") {
  const std::vector<std::string> bad = {
      "secret-tok!n",  // '-' and '!' are not in the standard alphabet
      "c2VjcmV0_",     // URL-safe alphabet is not standard base64
      "Zg",            // missing padding
      "Zm9vY",         // truncated
      "Zg==Zg==",      // data after padding
      "Z===",          // padding too early
      "=Zg=",         "Zm9=v",
  };
  for (const auto& text : bad) {
    INFO(text);
    auto decoded = base64::decode(text);
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().kind() == rio::ErrorKind::kInvalid);
    CHECK(decoded.error().message().find("invalid base64") != std::string::npos);
    CHECK(decoded.error().message().find(text) == std::string::npos);
  }
}
