#include "api/meta/duration.h"

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

namespace rio::meta {
namespace {

Error badDuration(std::string_view text, std::string_view why) {
  std::string quoted = nlohmann::json(std::string(text.substr(0, 64)))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return Error::decode("invalid duration " + quoted + ": " + std::string(why));
}

constexpr std::array<std::pair<std::string_view, int64_t>, 8> kUnits = {{
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1'000},  // U+03BC Greek small letter mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
}};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Expected<std::chrono::nanoseconds> parseDuration(std::string_view s) {
  const std::string_view orig = s;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds{0};
  if (s.empty()) return fail(badDuration(orig, "empty"));
  // Accumulated in 128 bits; the result must fit int64 nanoseconds (Go allows -2^63 exactly).
  __int128 total = 0;
  const __int128 limit = static_cast<__int128>(std::numeric_limits<int64_t>::max()) + (neg ? 1 : 0);
  while (!s.empty()) {
    if (!isDigit(s[0]) && s[0] != '.') return fail(badDuration(orig, "expected a number"));
    __int128 whole = 0;
    size_t i = 0;
    bool digits = false;
    for (; i < s.size() && isDigit(s[i]); ++i) {
      whole = whole * 10 + (s[i] - '0');
      if (whole > limit) return fail(badDuration(orig, "out of range"));
      digits = true;
    }
    __int128 frac = 0;
    __int128 scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      for (; i < s.size() && isDigit(s[i]); ++i) {
        digits = true;
        if (scale <
            static_cast<__int128>(1'000'000'000'000'000'000LL)) {  // keep 18 digits, like Go
          frac = frac * 10 + (s[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!digits) return fail(badDuration(orig, "expected a number"));
    size_t u = i;
    while (u < s.size() && !isDigit(s[u]) && s[u] != '.') ++u;
    const std::string_view unitText = s.substr(i, u - i);
    if (unitText.empty()) return fail(badDuration(orig, "missing unit"));
    int64_t unit = 0;
    for (const auto& [name, nanos] : kUnits) {
      if (name == unitText) unit = nanos;
    }
    if (unit == 0) return fail(badDuration(orig, "unknown unit"));
    total += whole * unit + frac * unit / scale;
    if (total > limit) return fail(badDuration(orig, "out of range"));
    s.remove_prefix(u);
  }
  const auto value = static_cast<int64_t>(neg ? -total : total);
  return std::chrono::nanoseconds{value};
}

std::string formatDuration(std::chrono::nanoseconds d) {
  // A transcription of Go's time.Duration.format, building the string from the right.
  uint64_t u = static_cast<uint64_t>(d.count());
  const bool neg = d.count() < 0;
  if (neg) u = 0 - u;
  std::string out;  // reversed
  auto fmtFrac = [&out](uint64_t v, int prec) {
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      const auto digit = static_cast<char>(v % 10);
      print = print || digit != 0;
      if (print) out.push_back(static_cast<char>('0' + digit));
      v /= 10;
    }
    if (print) out.push_back('.');
    return v;
  };
  auto fmtInt = [&out](uint64_t v) {
    if (v == 0) {
      out.push_back('0');
      return;
    }
    while (v > 0) {
      out.push_back(static_cast<char>('0' + v % 10));
      v /= 10;
    }
  };
  if (u < 1'000'000'000ULL) {
    int prec = 0;
    out.push_back('s');
    if (u == 0) return "0s";
    if (u < 1'000ULL) {
      out.push_back('n');
    } else if (u < 1'000'000ULL) {
      prec = 3;
      out.append("\xB5\xC2");  // "µ", reversed bytes
    } else {
      prec = 6;
      out.push_back('m');
    }
    u = fmtFrac(u, prec);
    fmtInt(u);
  } else {
    out.push_back('s');
    u = fmtFrac(u, 9);
    fmtInt(u % 60);
    u /= 60;
    if (u > 0) {
      out.push_back('m');
      fmtInt(u % 60);
      u /= 60;
      if (u > 0) {
        out.push_back('h');
        fmtInt(u);
      }
    }
  }
  if (neg) out.push_back('-');
  return {out.rbegin(), out.rend()};
}

std::string formatDurationShort(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  if (d.count() == 0) return "0s";
  if (d % hours{1} == nanoseconds{0}) return std::to_string(d / hours{1}) + "h";
  if (d % minutes{1} == nanoseconds{0}) return std::to_string(d / minutes{1}) + "m";
  if (d % seconds{1} == nanoseconds{0}) return std::to_string(d / seconds{1}) + "s";
  return formatDuration(d);
}

}  // namespace rio::meta
