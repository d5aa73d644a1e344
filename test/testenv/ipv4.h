// IPv4 addresses and CIDRs for the simulated cluster network (service cluster IPs, node pod CIDRs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rio::testenv {

struct Ipv4Cidr {
  std::uint32_t base = 0;  // network address, host order
  int prefix = 0;
  std::uint64_t size() const { return std::uint64_t(1) << (32 - prefix); }
};

/// "10.96.0.0/12" → network and prefix (host bits cleared); nullopt when malformed or /0, /31, /32.
std::optional<Ipv4Cidr> parseCidr(const std::string& text);
/// "10.96.0.1" → host-order address.
std::optional<std::uint32_t> parseIpv4(const std::string& text);
std::string ipv4String(std::uint32_t ip);

}  // namespace rio::testenv
