#include "api/meta/time.h"

#include <catch2/catch.hpp>

using namespace std::chrono;
namespace meta = rio::meta;

TEST_CASE("Time: formats RFC 3339 in UTC with second precision and a Z", "[api][time]") {
  const sys_seconds t = sys_days{year{2026} / 11 / 25} + hours{18} + minutes{54} + seconds{44};
  CHECK(meta::formatTime(t) == "2026-11-25T18:54:44Z");
  CHECK(meta::formatTime(t + milliseconds{999}) == "2026-11-25T18:54:44Z");  // truncated
  CHECK(meta::formatTime(sys_days{year{1970} / 1 / 1}) == "1970-01-01T00:00:00Z");
}

TEST_CASE("Time: parses what the API server writes and round-trips it", "[api][time]") {
  // lastTransitionTime recorded in reference/kube-apiserver-1.32/crd-get-established.txt
  auto t = meta::parseTime("2026-11-25T18:54:44Z");
  REQUIRE(t);
  CHECK(meta::formatTime(*t) == "2026-11-25T18:54:44Z");
}

TEST_CASE("Time: accepts fractions and offsets as metav1.Time does, normalising to UTC",
          "[api][time]") {
  auto frac = meta::parseTime("2026-11-25T18:54:44.987654Z");
  REQUIRE(frac);
  CHECK(meta::formatTime(*frac) == "2026-11-25T18:54:44Z");
  auto offset = meta::parseTime("2026-11-26T02:54:44+08:00");
  REQUIRE(offset);
  CHECK(meta::formatTime(*offset) == "2026-11-25T18:54:44Z");
  auto negative = meta::parseTime("2026-11-25T13:54:44-05:00");
  REQUIRE(negative);
  CHECK(meta::formatTime(*negative) == "2026-11-25T18:54:44Z");
}

TEST_CASE("Time: rejects malformed timestamps with a decode error naming the input",
          "[api][time]") {
  for (const char* bad :
       {"", "2026-11-25", "2026-11-25 18:54:44Z", "2026-11-25T18:54:44", "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T18:60:00Z",
        "2026-11-25T18:54:60Z", "2026-11-25T18:54:44.Z", "2026-11-25T18:54:44+0800",
        "2026-11-25T18:54:44Zjunk", "2026-11-25t18:54:44z", "x026-11-25T18:54:44Z"}) {
    INFO(bad);
    auto t = meta::parseTime(bad);
    REQUIRE_FALSE(t);
    CHECK(t.error().kind() == rio::ErrorKind::kDecode);
  }
  CHECK(
      meta::parseTime("2026-13-01T00:00:00Z").error().message().find("\"2026-13-01T00:00:00Z\"") !=
      std::string::npos);
}

TEST_CASE("Time: years the wall clock cannot hold are refused, not wrapped around", "[api][time]") {
  // A status written with lastTransitionTime in year 5207 once overflowed when formatted.
  CHECK(meta::parseTime("1678-01-01T00:00:00Z"));
  CHECK(meta::parseTime("2261-12-31T23:59:59Z"));
  for (const char* far : {"1677-12-31T23:59:59Z", "2262-01-01T00:00:00Z", "5207-11-25T10:00:00Z",
                          "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    INFO(far);
    auto t = meta::parseTime(far);
    REQUIRE_FALSE(t);
    CHECK(t.error().message().find("year outside 1678..2261") != std::string::npos);
  }
}

TEST_CASE("Time: leap days are dates, February 29 of a common year is not", "[api][time]") {
  CHECK(meta::parseTime("2024-02-29T00:00:00Z"));
  CHECK_FALSE(meta::parseTime("2026-02-29T00:00:00Z"));
}
