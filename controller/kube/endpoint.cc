#include <charconv>

#include "controller/kube/transport.h"

namespace rio::kube {

Expected<Endpoint> Endpoint::parse(std::string_view url) {
  Endpoint ep;
  auto schemeEnd = url.find("://");
  if (schemeEnd == std::string_view::npos) {
    return fail(Error::config("server URL \"" + std::string(url) + "\" has no scheme (https://...)"));
  }
  ep.scheme = std::string(url.substr(0, schemeEnd));
  if (ep.scheme != "https" && ep.scheme != "http") {
    return fail(Error::config("server URL scheme \"" + ep.scheme + "\" is not http or https"));
  }
  std::string_view rest = url.substr(schemeEnd + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    ep.pathPrefix = std::string(rest.substr(slash));
    while (!ep.pathPrefix.empty() && ep.pathPrefix.back() == '/') ep.pathPrefix.pop_back();
  }
  if (authority.find('@') != std::string_view::npos) {
    return fail(Error::config("server URL must not carry user information"));
  }
  std::string_view portText;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(Error::config("server URL has an unterminated IPv6 literal"));
    ep.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return fail(Error::config("server URL has junk after the IPv6 literal"));
      portText = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return fail(Error::config("server URL \"" + std::string(url) + "\" has no host"));
  ep.port = ep.scheme == "https" ? 443 : 80;
  if (!portText.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), value);
    if (ec != std::errc() || ptr != portText.data() + portText.size() || value == 0 || value > 65535) {
      return fail(Error::config("server URL has an invalid port \"" + std::string(portText) + "\""));
    }
    ep.port = static_cast<std::uint16_t>(value);
  }
  return ep;
}

std::string Endpoint::hostPort() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace rio::kube
