// One HTTP/2 client connection (libnghttp2 over an already handshaken TLS stream) that carries
// every request and watch of a transport as streams. Internal to controller/kube: transport.cc
// decides per TLS handshake (ALPN "h2") whether a connection becomes one of these. Include only
// from .cc files that do Asio I/O.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/meta/error.h"
#include "controller/core/asio_stream.h"
#include "controller/http/message.h"

namespace rio::kube {

/// One request as HTTP/2 sends it. `headers` are the caller's; connection-specific ones
/// (Connection, Keep-Alive, Transfer-Encoding, Upgrade, Host, TE, Proxy-Connection) and any with
/// CR/LF are dropped, names are lower-cased.
struct H2Request {
  std::string method;
  std::string authority;  // "host:port" as HTTP/1.1's Host header would carry it
  std::string path;       // path prefix + target
  http::Headers headers;
  std::string body;
};

/// Receives one stream's response. Called on the connection's strand, in order: onHeaders at most
/// once, onData zero or more times (only after onHeaders), onClose exactly once. Must not block and
/// must not call back into the connection synchronously (post instead).
class H2StreamSink {
 public:
  virtual ~H2StreamSink() = default;
  virtual void onHeaders(int status, http::Headers headers) = 0;
  virtual void onData(std::string_view data) = 0;
  /// nullopt when the response ended normally. `unprocessed`: the server never processed the
  /// request (refused, above a GOAWAY's last stream id, or the connection died before any byte of
  /// its answer), so it may be sent again on another connection.
  virtual void onClose(const std::optional<Error>& error, bool unprocessed) = 0;
};
using H2StreamSinkPtr = std::shared_ptr<H2StreamSink>;

struct H2Options {
  /// Liveness (client-go's ReadIdleTimeout / PingTimeout): with streams open and nothing received
  /// for readIdleTimeout a PING is sent; no answer within pingTimeout closes the connection.
  /// 0 disables.
  std::chrono::milliseconds readIdleTimeout{std::chrono::seconds(30)};
  std::chrono::milliseconds pingTimeout{std::chrono::seconds(15)};
  /// A connection without streams for this long is closed (GOAWAY). 0 = never.
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(90)};
  std::size_t maxHeaderBytes = 256 * 1024;
};

/// The connection. Thread-safety: every method may be called from any thread; all work (every
/// nghttp2 call) runs on executor(), the strand of the socket. Lifetime: kept alive by its own
/// pending I/O while open; closes itself when broken, after GOAWAY once its streams ended, when
/// idle, or when retired and idle.
class H2Connection {
 public:
  virtual ~H2Connection() = default;
  /// False once the connection broke, closed, got a GOAWAY or was retired: new requests belong on
  /// another connection.
  virtual bool usable() const = 0;
  virtual net::AnyStream::executor_type executor() = 0;
  /// Opens a stream for `request` (queued by nghttp2 beyond the server's
  /// SETTINGS_MAX_CONCURRENT_STREAMS). On a connection that is no longer usable the sink gets
  /// onClose(kTransport, unprocessed=true).
  virtual void submit(H2Request request, H2StreamSinkPtr sink) = 0;
  /// Resets the sink's stream with RST_STREAM(CANCEL); its onClose still runs (the caller ignores
  /// it). Does nothing when the stream already closed.
  virtual void cancel(H2StreamSinkPtr sink) = 0;
  /// Closes the connection (GOAWAY) when it has no open stream; otherwise does nothing.
  virtual void closeIfIdle() = 0;
  /// Takes no new streams and closes once the open ones ended.
  virtual void retire() = 0;
};
using H2ConnectionPtr = std::shared_ptr<H2Connection>;

/// Starts HTTP/2 (client preface, SETTINGS with a 4 MiB stream window and a 16 MiB connection
/// window) on `stream`, whose TLS handshake selected "h2". `hostPort` names the server in errors.
/// `owner` is kept alive as long as the connection: what the TLS layer's callbacks point into
/// (the session cache key). Null when the connection cannot be set up (out of memory).
H2ConnectionPtr startH2Connection(net::AnyStream stream, H2Options options, std::string hostPort,
                                  std::shared_ptr<const void> owner);

}  // namespace rio::kube
