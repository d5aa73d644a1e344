// Internal to controller/http: what server.cc (HTTP/1.1, the listener) and h2_server.cc (HTTP/2)
// share. Include only from those .cc files: it pulls in Asio.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "controller/core/asio_stream.h"
#include "controller/http/server.h"

namespace rio::http::detail {

using Strand = net::asio::strand<net::asio::io_context::executor_type>;

// A client that stops reading while the handler keeps writing is cut off here rather than
// letting the queue grow without bound (kube-apiserver drops slow watchers the same way).
inline constexpr std::size_t kMaxQueuedBytes = 64 * 1024 * 1024;
// The largest request header block read (HTTP/1.1 header, or HTTP/2 header list).
inline constexpr std::size_t kHeaderLimit = 64 * 1024;

/// One accepted connection, HTTP/1.1 or HTTP/2; runs on its socket's strand.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual net::tcp::socket::executor_type executor() = 0;
  /// Closes at once: open exchanges see closed() and their onClosed callbacks run. On the strand.
  virtual void close() = 0;
};

/// State shared by the Server object, its acceptor and every connection. Connections keep it
/// alive.
struct ServerCore {
  ServerCore(IoRuntime& runtime, ServerOptions opts, Handler h)
      : io(runtime),
        options(std::move(opts)),
        handler(std::move(h)),
        strand(net::asio::make_strand(io.context())) {}

  IoRuntime& io;
  const ServerOptions options;
  const Handler handler;
  std::optional<net::asio::ssl::context> ssl;  // set once before the first start()
  Strand strand;                               // the acceptor's

  mutable std::mutex mu;  // guards everything below
  std::shared_ptr<net::tcp::acceptor> acceptor;
  std::uint16_t port = 0;
  bool running = false;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;

  /// Registers a connection accepted by `from`; false when that listener was stopped meanwhile.
  bool add(Connection* c, std::weak_ptr<Connection> w, const net::tcp::acceptor* from) {
    std::lock_guard lock(mu);
    if (!running || acceptor.get() != from) return false;
    connections.emplace(c, std::move(w));
    return true;
  }
  /// Replaces `from` by `to` (a connection that switched protocols); false when the server
  /// stopped meanwhile (then `to` is to be closed).
  bool replace(Connection* from, Connection* to, std::weak_ptr<Connection> w) {
    std::lock_guard lock(mu);
    connections.erase(from);
    if (!running) return false;
    connections.emplace(to, std::move(w));
    return true;
  }
  void remove(Connection* c) {
    std::lock_guard lock(mu);
    connections.erase(c);
  }
};

/// What a connection knows about its client, passed on to every request.
struct ConnectionInfo {
  std::string remote;      // "127.0.0.1:54321"
  std::string serverName;  // TLS SNI
  bool tlsResumed = false;
  std::optional<PeerCertificate> peer;
};

/// Hands one request to the server's handler; a handler that throws gets a 500 sent for it.
void callHandler(const ServerCore& core, ServerRequest request, const ExchangePtr& exchange);

/// Serves HTTP/2 on `stream`, a TLS connection whose handshake chose "h2" through ALPN. It takes
/// the place of `previous` (the connection that did the handshake) in the core's registry; when
/// the server stopped meanwhile the connection is closed at once. Call on the stream's strand.
void serveHttp2(std::shared_ptr<ServerCore> core, Connection* previous, net::AnyStream stream,
                ConnectionInfo info);

}  // namespace rio::http::detail
