#include "test/testenv/ipv4.h"

#include <arpa/inet.h>

namespace rio::testenv {

std::optional<Ipv4Cidr> parseCidr(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto ip = parseIpv4(text.substr(0, slash));
  if (!ip) return std::nullopt;
  int prefix = 0;
  try {
    std::size_t used = 0;
    prefix = std::stoi(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  if (prefix < 1 || prefix > 30) return std::nullopt;
  std::uint32_t mask = ~std::uint32_t(0) << (32 - prefix);
  return Ipv4Cidr{*ip & mask, prefix};
}

std::optional<std::uint32_t> parseIpv4(const std::string& text) {
  in_addr addr{};
  if (inet_pton(AF_INET, text.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string ipv4String(std::uint32_t ip) {
  in_addr addr{};
  addr.s_addr = htonl(ip);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr, buf, sizeof buf);
  return buf;
}

}  // namespace rio::testenv
