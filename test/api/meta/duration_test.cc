#include "api/meta/duration.h"

#include <catch2/catch.hpp>

using namespace std::chrono;
namespace meta = rio::meta;

TEST_CASE("Duration: parses Go duration strings", "[api][duration]") {
  CHECK(*meta::parseDuration("24h") == hours{24});
  CHECK(*meta::parseDuration("10m") == minutes{10});
  CHECK(*meta::parseDuration("1h30m") == minutes{90});
  CHECK(*meta::parseDuration("1.5s") == milliseconds{1500});
  CHECK(*meta::parseDuration("250ms") == milliseconds{250});
  CHECK(*meta::parseDuration("3us") == microseconds{3});
  CHECK(*meta::parseDuration("3\xC2\xB5s") == microseconds{3});
  CHECK(*meta::parseDuration("7ns") == nanoseconds{7});
  CHECK(*meta::parseDuration("0") == nanoseconds{0});
  CHECK(*meta::parseDuration("-1m") == minutes{-1});
  CHECK(*meta::parseDuration(".5h") == minutes{30});
  CHECK(*meta::parseDuration("2562047h") == hours{2562047});
}

TEST_CASE("Duration: rejects what time.ParseDuration rejects", "[api][duration]") {
  for (const char* bad :
       {"", "h", "10", "10x", "1d", "1h 30m", "--1h", "1.h.5", "9999999999h", "+", "."}) {
    INFO(bad);
    auto d = meta::parseDuration(bad);
    REQUIRE_FALSE(d);
    CHECK(d.error().kind() == rio::ErrorKind::kDecode);
  }
}

TEST_CASE("Duration: formats like Go's Duration.String", "[api][duration]") {
  CHECK(meta::formatDuration(hours{24}) == "24h0m0s");
  CHECK(meta::formatDuration(minutes{10}) == "10m0s");
  CHECK(meta::formatDuration(milliseconds{1500}) == "1.5s");
  CHECK(meta::formatDuration(milliseconds{35}) == "35ms");
  CHECK(meta::formatDuration(microseconds{12500}) == "12.5ms");
  CHECK(meta::formatDuration(nanoseconds{12500}) == "12.5\xC2\xB5s");
  CHECK(meta::formatDuration(nanoseconds{7}) == "7ns");
  CHECK(meta::formatDuration(nanoseconds{0}) == "0s");
  CHECK(meta::formatDuration(-minutes{1}) == "-1m0s");
  // What formatDuration writes, parseDuration reads back.
  for (auto d : {nanoseconds{hours{7} + milliseconds{1}}, nanoseconds{123456789}, nanoseconds{1}}) {
    CHECK(*meta::parseDuration(meta::formatDuration(d)) == d);
  }
}

TEST_CASE("Duration: short form uses the largest whole unit", "[api][duration]") {
  CHECK(meta::formatDurationShort(hours{168}) == "168h");
  CHECK(meta::formatDurationShort(minutes{10}) == "10m");
  CHECK(meta::formatDurationShort(seconds{90}) == "90s");
  CHECK(meta::formatDurationShort(seconds{0}) == "0s");
}
