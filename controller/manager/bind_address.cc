#include "controller/manager/bind_address.h"

#include <charconv>

namespace rio::manager {

Expected<std::optional<BindAddress>> parseBindAddress(std::string_view text) {
  if (text == "0") return std::optional<BindAddress>();
  auto bad = [&](std::string_view why) {
    return fail(Error::config("invalid bind address \"" + std::string(text) + "\": " +
                              std::string(why) + " (want \":8080\", \"127.0.0.1:8080\" or \"0\")"));
  };
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("an IPv6 host must be in brackets");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  BindAddress a;
  a.host = host.empty() ? "0.0.0.0" : std::string(host);
  a.port = static_cast<std::uint16_t>(value);
  return std::optional<BindAddress>(a);
}

}  // namespace rio::manager
