#include "reconcilers/desired/quantity.h"

#include <array>
#include <utility>

namespace rio::desired {
namespace {

// Values are held exactly in nano units; __int128 covers every quantity a container uses (and
// anything up to ~10^29 nano-units) without floating-point surprises.
using Int = __int128;

constexpr Int kNano = 1'000'000'000;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string toString(Int v) {
  if (v == 0) return "0";
  std::string out;
  while (v > 0) {
    out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return out;
}

Int pow10(int e) {
  Int v = 1;
  for (int i = 0; i < e; ++i) v *= 10;
  return v;
}

// Multiplies with an overflow check against a generous bound.
bool mulChecked(Int& v, Int by) {
  constexpr Int kLimit = Int(1) << 120;
  if (by != 0 && v > kLimit / by) return false;
  v *= by;
  return true;
}

constexpr std::array<std::pair<std::string_view, int>, 10> kDecimal = {{{"n", -9},
                                                                        {"u", -6},
                                                                        {"m", -3},
                                                                        {"", 0},
                                                                        {"k", 3},
                                                                        {"M", 6},
                                                                        {"G", 9},
                                                                        {"T", 12},
                                                                        {"P", 15},
                                                                        {"E", 18}}};
constexpr std::array<std::string_view, 7> kBinary = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

std::string decimalForm(Int nano) {
  // The largest suffix whose unit divides the value.
  for (auto it = kDecimal.rbegin(); it != kDecimal.rend(); ++it) {
    Int unit = pow10(it->second + 9);
    if (nano % unit == 0) return toString(nano / unit) + std::string(it->first);
  }
  return toString(nano) + "n";
}

}  // namespace

std::string canonicalQuantity(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  std::size_t i = 0;
  std::string_view intPart, fracPart;
  while (i < s.size() && isDigit(s[i])) ++i;
  intPart = s.substr(0, i);
  if (i < s.size() && s[i] == '.') {
    std::size_t start = ++i;
    while (i < s.size() && isDigit(s[i])) ++i;
    fracPart = s.substr(start, i - start);
  }
  if (intPart.empty() && fracPart.empty()) return std::string(text);
  const std::string_view suffix = s.substr(i);

  int decimalExp = 0;
  int binaryPower = -1;
  bool known = false;
  for (const auto& [name, exp] : kDecimal) {
    if (suffix == name) {
      decimalExp = exp;
      known = true;
    }
  }
  for (std::size_t k = 1; k < kBinary.size(); ++k) {
    if (suffix == kBinary[k]) {
      binaryPower = static_cast<int>(k);
      known = true;
    }
  }
  if (!known) return std::string(text);  // exponent forms and garbage: as written

  Int nano = 0;
  for (char c : intPart) {
    if (!mulChecked(nano, 10)) return std::string(text);
    nano += c - '0';
  }
  if (!mulChecked(nano, kNano)) return std::string(text);
  Int frac = 0;
  bool finer = false;  // digits below 1n: kube rounds up
  for (std::size_t k = 0; k < fracPart.size(); ++k) {
    if (k < 9) {
      frac = frac * 10 + (fracPart[k] - '0');
    } else if (fracPart[k] != '0') {
      finer = true;
    }
  }
  for (std::size_t k = fracPart.size(); k < 9; ++k) frac *= 10;
  nano += frac;

  if (binaryPower > 0) {
    for (int k = 0; k < binaryPower; ++k) {
      if (!mulChecked(nano, 1024)) return std::string(text);
    }
  } else if (decimalExp > 0) {
    if (!mulChecked(nano, pow10(decimalExp))) return std::string(text);
  } else if (decimalExp < 0) {
    Int unit = pow10(-decimalExp);
    if (nano % unit != 0) finer = true;
    nano /= unit;
  }
  if (finer) nano += 1;
  if (nano == 0) return "0";

  std::string out;
  if (binaryPower > 0 && nano >= 1024 * kNano && nano % kNano == 0) {
    Int bytes = nano / kNano;
    std::size_t k = 0;
    while (k + 1 < kBinary.size() && bytes % 1024 == 0) {
      bytes /= 1024;
      ++k;
    }
    out = toString(bytes) + std::string(kBinary[k]);
  } else {
    out = decimalForm(nano);
  }
  return negative ? "-" + out : out;
}

}  // namespace rio::desired
