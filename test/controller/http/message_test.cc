#include "controller/http/message.h"

#include <catch2/catch.hpp>

namespace http = rio::http;

TEST_CASE("http: header lookup ignores case and the first match wins", "[http]") {
  http::Headers h{{"Content-Type", "application/json"}, {"X-A", "1"}, {"x-a", "2"}};
  CHECK(http::findHeader(h, "content-type") == "application/json");
  CHECK(http::findHeader(h, "X-a") == "1");
  CHECK_FALSE(http::findHeader(h, "Content-Length"));
}

TEST_CASE("http: query values survive an encode/decode round trip", "[http]") {
  std::string selector = "app in (a,b),tier!=front&x=y/z ü";
  std::string encoded = http::urlEncode(selector);
  CHECK(encoded.find_first_of(" ,&=/()!") == std::string::npos);
  CHECK(http::urlDecode(encoded) == selector);
  CHECK(http::urlEncode("Az09-._~") == "Az09-._~");
  CHECK(http::urlDecode("a+b%2Bc") == "a b+c");
  // Broken escapes stay as they were.
  CHECK(http::urlDecode("100%") == "100%");
  CHECK(http::urlDecode("%zz%4") == "%zz%4");
}
