// IP networks in CIDR notation ("10.0.0.0/8", "fd00::/48"): parsing, canonical form, overlap.
// Used to validate spec fields and by the membership reconciler to detect overlapping members.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rio::meta {

/// An IPv4 or IPv6 network. Value type; cheap to copy.
class Cidr {
 public:
  /// Parses "a.b.c.d/n" (n <= 32) or an IPv6 address with "/n" (n <= 128), as Go's
  /// net.ParseCIDR does: host bits may be set ("10.0.0.1/8" is the network 10.0.0.0/8), IPv4
  /// octets and the prefix length have no leading zeros. nullopt on anything else. Never throws.
  static std::optional<Cidr> parse(std::string_view text);

  /// True for IPv4, false for IPv6.
  bool isIPv4() const { return v4_; }
  /// The number of network bits ("/8" -> 8).
  int prefixLength() const { return prefix_; }
  /// Canonical text: the network address (host bits cleared) and the prefix, e.g. "10.0.0.0/8".
  std::string toString() const;
  /// True when the two networks share at least one address (same family only).
  bool overlaps(const Cidr& other) const;
  /// True when `other` lies entirely inside this network.
  bool contains(const Cidr& other) const;

  bool operator==(const Cidr&) const = default;

 private:
  bool v4_ = true;
  int prefix_ = 0;
  std::array<uint8_t, 16> bytes_{};  // network address; IPv4 uses the first 4 bytes
};

}  // namespace rio::meta
