#include "api/meta/quantity.h"

#include <cmath>

namespace rio::meta {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Reads `[+-]?(digits(.digits?)?|.digits)` at the front of s, advancing s; nullopt if absent.
std::optional<long double> readSignedNumber(std::string_view& s) {
  size_t i = 0;
  long double sign = 1;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    if (s[i] == '-') sign = -1;
    ++i;
  }
  long double v = 0;
  bool digits = false;
  for (; i < s.size() && isDigit(s[i]); ++i) {
    v = v * 10 + (s[i] - '0');
    digits = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    long double scale = 0.1L;
    for (; i < s.size() && isDigit(s[i]); ++i) {
      v += (s[i] - '0') * scale;
      scale /= 10;
      digits = true;
    }
  }
  if (!digits) return std::nullopt;
  s.remove_prefix(i);
  return sign * v;
}

}  // namespace

std::optional<long double> parseQuantity(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  auto number = readSignedNumber(s);
  if (!number) return std::nullopt;
  if (s.empty()) return number;
  struct Suffix {
    std::string_view text;
    long double factor;
  };
  static constexpr Suffix kSuffixes[] = {
      {"Ki", 1024.0L},
      {"Mi", 1048576.0L},
      {"Gi", 1073741824.0L},
      {"Ti", 1099511627776.0L},
      {"Pi", 1125899906842624.0L},
      {"Ei", 1152921504606846976.0L},
      {"n", 1e-9L},
      {"u", 1e-6L},
      {"m", 1e-3L},
      {"k", 1e3L},
      {"M", 1e6L},
      {"G", 1e9L},
      {"T", 1e12L},
      {"P", 1e15L},
      {"E", 1e18L},
  };
  for (const auto& suffix : kSuffixes) {
    if (s == suffix.text) return *number * suffix.factor;
  }
  if (s[0] == 'e' || s[0] == 'E') {
    s.remove_prefix(1);
    auto exponent = readSignedNumber(s);
    if (!exponent || !s.empty()) return std::nullopt;
    if (std::fabs(static_cast<double>(*exponent)) > 4096) return std::nullopt;
    return *number * std::pow(10.0L, *exponent);
  }
  return std::nullopt;
}

std::optional<long double> Quantity::value() const {
  if (raw.is_string()) return parseQuantity(raw.get_ref<const std::string&>());
  if (raw.is_number()) return raw.get<long double>();
  return std::nullopt;
}

std::string Quantity::toString() const {
  if (raw.is_string()) return raw.get<std::string>();
  return raw.dump();
}

}  // namespace rio::meta
