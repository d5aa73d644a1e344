#include "api/meta/cidr.h"

#include <arpa/inet.h>

#include <algorithm>

namespace rio::meta {
namespace {

bool parseDecimal(std::string_view s, int max, int& out) {
  if (s.empty() || s.size() > 3) return false;
  if (s.size() > 1 && s[0] == '0') return false;  // no leading zeros
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

bool parseIPv4(std::string_view s, std::array<uint8_t, 16>& out) {
  for (int i = 0; i < 4; ++i) {
    const size_t dot = s.find('.');
    const bool last = i == 3;
    if (last != (dot == std::string_view::npos)) return false;
    int octet = 0;
    if (!parseDecimal(last ? s : s.substr(0, dot), 255, octet)) return false;
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(octet);
    if (!last) s.remove_prefix(dot + 1);
  }
  return true;
}

// True when the first `bits` bits of a and b are equal.
bool samePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  for (int i = 0; i < bits / 8; ++i) {
    if (a[static_cast<size_t>(i)] != b[static_cast<size_t>(i)]) return false;
  }
  if (bits % 8 != 0) {
    const auto mask = static_cast<uint8_t>(0xFF << (8 - bits % 8));
    const auto i = static_cast<size_t>(bits / 8);
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view addr = text.substr(0, slash);
  const std::string_view prefix = text.substr(slash + 1);
  Cidr c;
  if (addr.find(':') == std::string_view::npos) {
    c.v4_ = true;
    if (!parseIPv4(addr, c.bytes_) || !parseDecimal(prefix, 32, c.prefix_)) return std::nullopt;
  } else {
    c.v4_ = false;
    if (addr.find('%') != std::string_view::npos) return std::nullopt;  // no zones in a CIDR
    std::string buf(addr);
    if (inet_pton(AF_INET6, buf.c_str(), c.bytes_.data()) != 1) return std::nullopt;
    if (!parseDecimal(prefix, 128, c.prefix_)) return std::nullopt;
  }
  // Clear host bits so equal networks compare equal.
  const int total = c.v4_ ? 32 : 128;
  for (int bit = c.prefix_; bit < total; ++bit) {
    c.bytes_[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  return c;
}

std::string Cidr::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (v4_) {
    inet_ntop(AF_INET, bytes_.data(), buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf);
  }
  return std::string(buf) + "/" + std::to_string(prefix_);
}

bool Cidr::overlaps(const Cidr& other) const {
  if (v4_ != other.v4_) return false;
  return samePrefix(bytes_, other.bytes_, std::min(prefix_, other.prefix_));
}

bool Cidr::contains(const Cidr& other) const {
  if (v4_ != other.v4_ || other.prefix_ < prefix_) return false;
  return samePrefix(bytes_, other.bytes_, prefix_);
}

}  // namespace rio::meta
