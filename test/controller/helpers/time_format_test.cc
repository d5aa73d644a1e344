#include "controller/helpers/time_format.h"

#include <catch2/catch.hpp>

using namespace rio;
using namespace std::chrono_literals;

TEST_CASE("Time format: MicroTime has six fractional digits and Time none, both in UTC",
          "[helpers]") {
  WallTime t =
      std::chrono::sys_days{std::chrono::year{2026} / 1 / 1} + 1h + 2min + 3s + 4567us + 890ns;
  CHECK(helpers::formatMicroTime(t) == "2026-01-01T01:02:03.004567Z");
  CHECK(helpers::formatTime(t) == "2026-01-01T01:02:03Z");
}

TEST_CASE("Time format: timestamps parse with Z, offsets and fractions, and round-trip",
          "[helpers]") {
  auto t = helpers::parseTimestamp("2026-01-01T00:00:00.000000Z");
  REQUIRE(t);
  CHECK(helpers::formatMicroTime(*t) == "2026-01-01T00:00:00.000000Z");
  CHECK(helpers::formatMicroTime(*helpers::parseTimestamp("2026-11-25T18:54:44Z")) ==
        "2026-11-25T18:54:44.000000Z");
  CHECK(helpers::formatTime(*helpers::parseTimestamp("2026-11-25T20:54:44+02:00")) ==
        "2026-11-25T18:54:44Z");
  CHECK(helpers::formatMicroTime(*helpers::parseTimestamp("2026-11-25T18:54:44.1234567Z")) ==
        "2026-11-25T18:54:44.123456Z");
}

TEST_CASE("Time format: malformed timestamps are decode errors quoting the input", "[helpers]") {
  for (const char* bad :
       {"", "2026-01-01", "2026-01-01 00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00",
        "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00Zx"}) {
    auto r = helpers::parseTimestamp(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::kDecode);
    CHECK_THAT(r.error().message(), Catch::Contains(std::string("\"") + bad + "\""));
  }
}
