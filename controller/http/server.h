// An HTTP/1.1 and HTTP/2 server (Boost.Beast; nghttp2 for HTTP/2 over TLS, chosen through ALPN),
// with optional TLS and optional client certificates. One implementation serves the operator's
// /metrics, /healthz and /readyz and every kube-testenv API server (including watch streams), so
// there is one HTTP stack in the project.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/meta/error.h"
#include "controller/http/message.h"

namespace rio {
class IoRuntime;
}

namespace rio::http {

struct ServerTlsConfig {
  std::string certPem;  // serving certificate chain
  std::string keyPem;   // its key
  /// When set, clients may present a certificate signed by this CA (verified; the request is
  /// still served without one). A certificate that fails verification ends the handshake.
  std::string clientCaPem;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = pick a free port; see Server::port()
  std::optional<ServerTlsConfig> tls;
  std::size_t maxBodyBytes = 3 * 1024 * 1024;  // kube-apiserver's limit is 3 MiB
  std::chrono::seconds readTimeout{30};        // to read one whole request
  std::chrono::seconds keepAliveTimeout{120};  // idle keep-alive connection
  /// Offer HTTP/2 through TLS ALPN, ahead of HTTP/1.1, as kube-apiserver does: a client that
  /// takes it sends every request and watch over one connection. Plain HTTP is HTTP/1.1 only.
  bool http2 = true;
  /// HTTP/2: the most streams (requests) one connection may have open at once.
  std::uint32_t maxConcurrentStreams = 1000;
};

/// The verified client certificate of a TLS connection.
struct PeerCertificate {
  std::string commonName;                  // user name in Kubernetes terms
  std::vector<std::string> organizations;  // groups
};

/// One request as the handler sees it.
struct ServerRequest {
  std::string method;
  std::string target;                             // raw path + query
  std::string path;                               // decoded path, without the query
  std::multimap<std::string, std::string> query;  // decoded parameters
  Headers headers;
  std::string body;
  /// The body was larger than ServerOptions::maxBodyBytes and was not read; `body` is empty.
  /// The handler is expected to answer 413.
  bool bodyTooLarge = false;
  std::optional<PeerCertificate> peer;
  std::string remoteAddress;  // "127.0.0.1:54321"
  /// The host name the client sent in TLS SNI; empty for plain HTTP and when none was sent
  /// (clients send none for IP literals).
  std::string serverName;
  /// The TLS handshake resumed an earlier session (no certificates exchanged).
  bool tlsResumed = false;
  /// "HTTP/1.1", "HTTP/1.0" or "HTTP/2.0".
  std::string protocol = "HTTP/1.1";

  std::optional<std::string_view> header(std::string_view name) const {
    return findHeader(headers, name);
  }
  /// First value of a query parameter.
  std::optional<std::string> param(const std::string& name) const;
};

/// The response side of one request. Thread-safe; may be kept and completed later from any
/// thread (latency injection, watches): every call is queued onto the connection's strand, in
/// the order the calling thread made them. Exactly one of respond() or startStream() is used;
/// calls that do not fit (a second respond(), write() before startStream(), anything after the
/// exchange closed) are ignored. The server owns framing: Content-Length, Transfer-Encoding and
/// Connection headers given by the handler are replaced (a "Connection: close" is honoured on
/// HTTP/1.1; HTTP/2 has no such header and keeps the connection).
class Exchange {
 public:
  virtual ~Exchange() = default;
  /// Sends a complete response (Content-Length framing). Ignored when already responded/closed.
  virtual void respond(int status, Headers headers, std::string body) = 0;
  /// Starts a streamed response (chunked on HTTP/1.1, DATA frames on HTTP/2); follow with
  /// write() and finish().
  virtual void startStream(int status, Headers headers) = 0;
  /// Queues one chunk (sent in order). Ignored after the exchange closed.
  virtual void write(std::string chunk) = 0;
  /// Ends the body; an HTTP/1.1 connection may then serve the next request.
  virtual void finish() = 0;
  /// Drops the connection without a proper end (fault injection, server stop); over HTTP/2
  /// every other stream of the connection ends with it, as when a real connection is lost.
  virtual void abort() = 0;
  /// True once the client went away (or reset the stream), abort() ran or the server stopped.
  virtual bool closed() const = 0;
  /// Called once when the exchange closes before it finished (the client went away, the
  /// connection dropped, the server stopped); runs on an I/O thread; called at once if already
  /// closed.
  virtual void onClosed(std::function<void()> fn) = 0;
};
using ExchangePtr = std::shared_ptr<Exchange>;

/// Called on an I/O thread for every request; must not block. It may answer at once or keep the
/// exchange and answer later. Requests of different connections run in parallel when the
/// IoRuntime has several threads, so the handler must be thread-safe. A handler that drops its
/// exchange unanswered gets a 500 sent for it (or, mid-stream, the connection ended).
/// Exceptions thrown by the handler are caught and answered with 500.
using Handler = std::function<void(ServerRequest request, ExchangePtr exchange)>;

/// Per connection: no thread, one read buffer, the TLS state, and the queued output. A client that
/// stops reading a stream is disconnected when 64 MiB are queued for it. An idle keep-alive
/// connection is closed after keepAliveTimeout, a request not read within readTimeout likewise.
/// Thread-safety: all methods may be called from any thread except an I/O thread for stop().
/// Lifetime: destroy the Server before its IoRuntime. Exchanges may outlive the Server.
class Server {
 public:
  Server(IoRuntime& io, ServerOptions options, Handler handler);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and listens. After a stop(), start() may be called again and binds the same port
  /// (SO_REUSEADDR), as a restarted API server would. Fails with kConfig for bad TLS material and
  /// kTransport when the address cannot be bound.
  Expected<void> start();
  /// Closes the listener and every open connection (streams see closed(), onClosed callbacks
  /// run) and waits until that is done, so the port can be bound again. Idempotent.
  void stop();
  bool running() const;
  /// Connections currently open (accepted and not yet closed). For leak checks in tests.
  std::size_t openConnections() const;
  /// The bound port (valid after the first successful start()).
  std::uint16_t port() const;
  /// "https://127.0.0.1:port" or "http://...".
  std::string url() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace rio::http
