// Plain HTTP message types shared by the REST transport (client side, controller/kube) and the
// HTTP server (controller/http). No Beast types leak out of this header.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rio::http {

struct Header {
  std::string name;
  std::string value;
  bool operator==(const Header&) const = default;
};
using Headers = std::vector<Header>;

/// Case-insensitive header lookup; the first match wins.
std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name);

/// One client request. `target` is the path with its query string ("/api/v1/pods?limit=5").
struct Request {
  std::string method = "GET";
  std::string target;
  Headers headers;
  std::string body;
  /// Deadline for the whole exchange (connect, send, and the complete response). For streams:
  /// the deadline for connect, send and the response headers only.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  /// Streams only: close the stream with a timeout error when no byte arrives for this long
  /// (0 = never). Catches blackholed connections that keep the socket open.
  std::chrono::milliseconds idleTimeout{0};
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const { return findHeader(headers, name); }
};

/// An HTTP date (RFC 9110 IMF-fixdate, what the `Date` header carries):
/// "Sun, 06 Nov 1994 08:49:37 GMT". Sub-seconds are truncated.
std::string formatHttpDate(std::chrono::system_clock::time_point t);
/// Parses an IMF-fixdate; nullopt for anything else (the obsolete RFC 850 and asctime forms
/// included). Never throws.
std::optional<std::chrono::system_clock::time_point> parseHttpDate(std::string_view text);

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay as they are).
std::string urlEncode(std::string_view value);
/// Decodes %XX and '+' (as space). Invalid escapes are kept literally.
std::string urlDecode(std::string_view value);

/// A request target ("/api/v1/namespaces/a%2Fb/pods?labelSelector=app%3Dx&watch") as a server
/// reads it: the percent-decoded path, where '+' stays '+', and the decoded query parameters,
/// where '+' is a space. Empty parameters ("&&") are skipped. Never throws.
struct RequestTarget {
  std::string path;
  std::multimap<std::string, std::string> query;
};
RequestTarget parseRequestTarget(std::string_view target);

}  // namespace rio::http
