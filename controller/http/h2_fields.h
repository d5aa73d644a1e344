// Header fields on HTTP/2, shared by the server (controller/http/h2_server.cc) and the client
// (controller/kube/h2_connection.cc): RFC 9113 section 8.2.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/http/message.h"

namespace rio::http::h2 {

using Fields = std::vector<std::pair<std::string, std::string>>;

/// Fields HTTP/1.1 uses for the connection or the framing, which an HTTP/2 message must not
/// carry (its framing and :authority stand for them); `lowerName` is lowercase.
inline bool isConnectionSpecific(std::string_view lowerName) {
  return lowerName == "connection" || lowerName == "keep-alive" ||
         lowerName == "proxy-connection" || lowerName == "transfer-encoding" ||
         lowerName == "upgrade" || lowerName == "content-length" || lowerName == "host" ||
         lowerName == "te";
}

/// Appends `headers` to `fields` with lowercase names, leaving out the connection-specific ones
/// and any that would be malformed on the wire (an empty name, CR, LF, ':' or a space in the name,
/// CR or LF in the value): those are dropped, never echoed, as a value may be a credential.
inline void appendHeaders(const Headers& headers, Fields& fields) {
  for (const auto& h : headers) {
    if (h.name.empty() || h.name.find_first_of("\r\n: ") != std::string::npos ||
        h.value.find_first_of("\r\n") != std::string::npos) {
      continue;
    }
    std::string name(h.name.size(), '\0');
    for (std::size_t i = 0; i < name.size(); ++i) {
      name[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(h.name[i])));
    }
    if (isConnectionSpecific(name)) continue;
    fields.emplace_back(std::move(name), h.value);
  }
}

/// nghttp2's view of `fields`, valid while they are unchanged (nghttp2 copies them on submit).
inline std::vector<nghttp2_nv> nameValues(Fields& fields) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (auto& [n, v] : fields) {
    nva.push_back({reinterpret_cast<std::uint8_t*>(n.data()), reinterpret_cast<std::uint8_t*>(v.data()),
                   n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nva;
}

}  // namespace rio::http::h2
