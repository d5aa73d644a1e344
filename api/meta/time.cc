#include "api/meta/time.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace rio::meta {
namespace {

// Reads exactly `n` ASCII digits at `pos`; false if any is missing.
bool readDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

Error badTime(std::string_view text, std::string_view why) {
  // dump() with replacement keeps the message valid UTF-8 whatever the input bytes were.
  std::string quoted = nlohmann::json(std::string(text.substr(0, 64)))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return Error::decode("invalid RFC 3339 time " + quoted + ": " + std::string(why));
}

}  // namespace

Time toTime(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

std::string formatTime(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const Time secs = toTime(t);
  const sys_days day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

Expected<Time> parseTime(std::string_view s) {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 20) return fail(badTime(s, "too short"));
  if (!readDigits(s, 0, 4, y) || s[4] != '-' || !readDigits(s, 5, 2, mo) || s[7] != '-' ||
      !readDigits(s, 8, 2, d) || s[10] != 'T' || !readDigits(s, 11, 2, h) || s[13] != ':' ||
      !readDigits(s, 14, 2, mi) || s[16] != ':' || !readDigits(s, 17, 2, sec)) {
    return fail(badTime(s, "want YYYY-MM-DDTHH:MM:SSZ"));
  }
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return fail(badTime(s, "empty fraction"));
  }
  int offsetMinutes = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!readDigits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !readDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return fail(badTime(s, "bad zone offset"));
    }
    offsetMinutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return fail(badTime(s, "missing zone (Z or +HH:MM)"));
  }
  if (pos != s.size()) return fail(badTime(s, "trailing characters"));
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return fail(badTime(s, "no such date"));
  if (h > 23 || mi > 59 || sec > 59) return fail(badTime(s, "time of day out of range"));
  // The wall clock counts nanoseconds in 64 bits: 1677-09-21 to 2262-04-11. A time outside it
  // could not be compared with now() or formatted (found by test/fuzz/custom_resource).
  if (y < 1678 || y > 2261) return fail(badTime(s, "year outside 1678..2261"));
  return Time{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{sec} - minutes{offsetMinutes};
}

}  // namespace rio::meta
