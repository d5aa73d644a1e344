#include "controller/helpers/time_format.h"

#include <cctype>
#include <chrono>
#include <cstdio>

namespace rio::helpers {
namespace {

using std::chrono::floor;

struct Parts {
  int year, month, day, hour, minute, second;
  long micros;
};

Parts split(WallTime t) {
  auto us = floor<std::chrono::microseconds>(t);
  auto days = floor<std::chrono::days>(us);
  std::chrono::year_month_day ymd{days};
  std::chrono::hh_mm_ss hms{us - days};
  return Parts{static_cast<int>(ymd.year()),
               static_cast<int>(static_cast<unsigned>(ymd.month())),
               static_cast<int>(static_cast<unsigned>(ymd.day())),
               static_cast<int>(hms.hours().count()),
               static_cast<int>(hms.minutes().count()),
               static_cast<int>(hms.seconds().count()),
               static_cast<long>(hms.subseconds().count())};
}

int digits(std::string_view s, std::size_t pos, std::size_t n, bool& ok) {
  int v = 0;
  if (pos + n > s.size()) {
    ok = false;
    return 0;
  }
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      ok = false;
      return 0;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::string formatTime(WallTime t) {
  Parts p = split(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", p.year, p.month, p.day, p.hour,
                p.minute, p.second);
  return buf;
}

std::string formatMicroTime(WallTime t) {
  Parts p = split(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", p.year, p.month, p.day,
                p.hour, p.minute, p.second, p.micros);
  return buf;
}

Expected<WallTime> parseTimestamp(std::string_view s) {
  auto bad = [&] {
    return fail(Error::decode("invalid timestamp \"" + std::string(s.substr(0, 64)) +
                              "\": want RFC 3339 like 2026-01-01T00:00:00Z"));
  };
  bool ok = true;
  int year = digits(s, 0, 4, ok);
  int month = digits(s, 5, 2, ok);
  int day = digits(s, 8, 2, ok);
  int hour = digits(s, 11, 2, ok);
  int minute = digits(s, 14, 2, ok);
  int second = digits(s, 17, 2, ok);
  if (!ok || s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return bad();
  }
  std::size_t pos = 19;
  long micros = 0;
  if (s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    int scale = 100000;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (scale > 0) micros += static_cast<long>(s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
  }
  std::chrono::minutes offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    int oh = digits(s, pos + 1, 2, ok);
    int om = digits(s, pos + 4, 2, ok);
    if (!ok || pos + 6 > s.size() || s[pos + 3] != ':') return bad();
    offset = std::chrono::minutes(static_cast<long>(sign) * (oh * 60L + om));
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  std::chrono::year_month_day ymd{std::chrono::year{year},
                                  std::chrono::month{static_cast<unsigned>(month)},
                                  std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return bad();
  auto t = std::chrono::sys_days{ymd} + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second) + std::chrono::microseconds(micros) - offset;
  return std::chrono::time_point_cast<WallTime::duration>(t);
}

}  // namespace rio::helpers
