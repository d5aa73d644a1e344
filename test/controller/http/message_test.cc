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

TEST_CASE("http: a request target splits into a decoded path and query as a server reads it",
          "[http]") {
  auto t = http::parseRequestTarget(
      "/api/v1/namespaces/a%2Db/pods/x+y?labelSelector=app%3Dweb+x&&watch&limit=5&limit=6");
  CHECK(t.path == "/api/v1/namespaces/a-b/pods/x+y");  // '+' is a space only in the query
  CHECK(t.query.size() == 4);
  CHECK(t.query.find("labelSelector")->second == "app=web x");
  CHECK(t.query.find("watch")->second.empty());
  CHECK(t.query.count("limit") == 2);
  CHECK(http::parseRequestTarget("/healthz").query.empty());
  CHECK(http::parseRequestTarget("").path.empty());
  CHECK(http::parseRequestTarget("/?").query.empty());
  CHECK(http::parseRequestTarget("/?=v").query.find("")->second == "v");
}

TEST_CASE("http: IMF-fixdate dates is written and read back, other forms are refused", "[http]") {
  using namespace std::chrono;
  const sys_seconds t = sys_days{year{1994} / November / 6} + hours{8} + minutes{49} + seconds{37};
  CHECK(rio::http::formatHttpDate(t + milliseconds(900)) == "Sun, 06 Nov 1994 08:49:37 GMT");
  auto parsed = rio::http::parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT");
  REQUIRE(parsed);
  CHECK(*parsed == t);
  CHECK(rio::http::formatHttpDate(sys_days{year{2026} / February / 28} + hours{23}) == "Sat, 28 Feb 2026 23:00:00 GMT");
  CHECK_FALSE(rio::http::parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"));  // RFC 850
  CHECK_FALSE(rio::http::parseHttpDate("Sun Nov  6 08:49:37 1994"));        // asctime
  CHECK_FALSE(rio::http::parseHttpDate("Sun, 31 Feb 1994 08:49:37 GMT"));  // no such day
  CHECK_FALSE(rio::http::parseHttpDate(""));
}
