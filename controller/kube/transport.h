// The HTTP(S) transport to one API server: TLS, connection reuse, deadlines and chunked streaming.
// The REST client (client.h) adds authentication, retries, rate limits and metrics on top.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/meta/error.h"
#include "controller/http/message.h"

namespace rio {
class IoRuntime;
}

namespace rio::kube {

/// TLS settings for talking to one server; built from a kubeconfig cluster + user.
/// Holds key material: never log it (describe() in rest_config.h prints a safe summary).
struct TlsConfig {
  std::string caPem;          // trusted CA bundle (PEM); empty = the system trust store
  std::string clientCertPem;  // client certificate chain (PEM), optional
  std::string clientKeyPem;   // its private key (PEM), optional
  std::string serverName;     // overrides the name used for SNI and verification (tls-server-name)
  bool insecureSkipVerify = false;  // kubeconfig insecure-skip-tls-verify; logged as a warning
};

/// Where a transport connects.
struct Endpoint {
  std::string scheme = "https";  // "https" or "http" (plain HTTP only for tests and loopback)
  std::string host;              // host name, IPv4 literal, or IPv6 literal without brackets
  std::uint16_t port = 443;
  std::string pathPrefix;        // e.g. "/k8s/clusters/c-1" for servers behind a proxy path

  /// Parses "https://host:port/prefix"; default port 443 (https) / 80 (http).
  static Expected<Endpoint> parse(std::string_view url);
  std::string hostPort() const;  // "host:port" ("[::1]:6443" for IPv6)
};

/// Receives a streaming response (watch). Callbacks run on an I/O thread, one at a time, in order:
/// onHeaders once, then onData zero or more times, then onClose exactly once.
struct StreamCallbacks {
  std::function<void(int status, const http::Headers& headers)> onHeaders;
  /// Body bytes as they arrive, de-chunked; boundaries are arbitrary (a JSON value may be split).
  std::function<void(std::string_view data)> onData;
  /// nullopt when the server ended the body normally; otherwise why the stream broke (transport,
  /// TLS, timeout, or cancelled when Stream::cancel() was called).
  std::function<void(const std::optional<Error>& error)> onClose;
};

/// An open streaming request.
class Stream {
 public:
  virtual ~Stream() = default;
  /// Closes the connection (over HTTP/2: resets the stream with RST_STREAM(CANCEL), the shared
  /// connection stays); onClose runs with a kCancelled error unless it already ran.
  /// Thread-safe, idempotent, never blocks.
  virtual void cancel() = 0;
};
using StreamPtr = std::shared_ptr<Stream>;

/// HTTP/1.1 or HTTP/2 (see TransportOptions::http2) to one API server.
/// Errors (never exceptions): kTransport (refused, reset, the server closed mid-response, a
/// malformed answer), kTls (handshake or verification failure; the message names the host and
/// OpenSSL's reason, e.g. "certificate verify failed: certificate has expired"), kTimeout,
/// kCancelled. Header values (Authorization!) never appear in an error message or a log line.
/// Thread-safety: all methods may be called concurrently from any thread.
/// Lifetime: destroy transports before their IoRuntime; open streams keep what they need alive.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Sends one request and waits for the full response, reusing an idle keep-alive connection
  /// (or the shared HTTP/2 connection) when one exists. When a reused connection fails before
  /// any byte of the answer arrived (the server closed it while idle), or the server never
  /// processed its HTTP/2 stream (refused, above a GOAWAY's last stream id, the connection broke
  /// first), the request is sent once more on a fresh connection.
  /// request.timeout covers connect, TLS, sending and the whole response (0 = no deadline).
  /// Blocks the calling thread; called from an I/O thread it fails with kInternal instead.
  /// Any HTTP status is a successful result; errors are transport/TLS/timeout only.
  virtual Expected<http::Response> roundTrip(const http::Request& request) = 0;
  /// Starts a streaming request on its own connection (a pooled idle one when available; it
  /// returns to the pool when the body ends normally), or as a stream of the shared HTTP/2
  /// connection, and returns at once; results arrive through the callbacks. request.timeout
  /// bounds connect, send and the response headers (over HTTP/2: per stream, as idleTimeout);
  /// request.idleTimeout then bounds each wait for body bytes (kTimeout). Non-200 answers are
  /// delivered the same way (the body of a Status arrives through onData). Exceptions thrown by
  /// callbacks are caught and logged. Never blocks; may be called from an I/O thread.
  virtual StreamPtr stream(const http::Request& request, StreamCallbacks callbacks) = 0;
  /// The endpoint this transport talks to (for metrics labels and messages).
  virtual const Endpoint& endpoint() const = 0;
  /// Drops idle pooled connections (e.g. after credentials changed), and the HTTP/2 connection
  /// when it has no open stream. Thread-safe.
  virtual void closeIdleConnections() = 0;
};
using TransportPtr = std::shared_ptr<Transport>;

struct TransportOptions {
  std::size_t maxIdleConnections = 4;  // kept per transport for reuse
  std::chrono::seconds idleConnectionTimeout{90};
  std::size_t maxResponseBytes = 256 * 1024 * 1024;  // a list of many objects can be large
  /// Offer HTTP/2 on https (ALPN "h2", then "http/1.1"), as client-go does. When the server
  /// selects h2, that connection becomes the transport's only one: every roundTrip and stream is
  /// a stream on it (dialled lazily; callers arriving while it is being dialled wait for it).
  /// A server that selects HTTP/1.1 (or nothing) gets the keep-alive pool above. Plain http is
  /// always HTTP/1.1. false: only "http/1.1" is offered.
  bool http2 = true;
  /// HTTP/2 liveness (client-go's ReadIdleTimeout and PingTimeout): while streams are open and
  /// nothing arrived for http2ReadIdleTimeout, a PING is sent; no answer within http2PingTimeout
  /// closes the connection and fails its streams (kTransport). 0 disables.
  std::chrono::milliseconds http2ReadIdleTimeout{std::chrono::seconds(30)};
  std::chrono::milliseconds http2PingTimeout{std::chrono::seconds(15)};
};

/// The production transport (Boost.Beast over Asio + OpenSSL). Verification is on unless
/// tls.insecureSkipVerify; SNI is sent for host names and not for IP literals.
/// Fails (kConfig/kTls) when the PEM material in `tls` does not parse.
Expected<TransportPtr> makeTransport(IoRuntime& io, Endpoint endpoint, TlsConfig tls,
                                     TransportOptions options = {});

/// makeTransport(), but transports asked for with the same runtime, endpoint, TLS settings and
/// options are one: clients of one server share its connection pool, as client-go's transport
/// cache does (a member cluster's join, membership and informer clients reuse each other's idle
/// connections instead of each handshaking its own). Authentication is per request (the REST
/// client's), so clients with different tokens share too. Held weakly: a later call after the
/// last holder let go makes a new one.
Expected<TransportPtr> sharedTransport(IoRuntime& io, Endpoint endpoint, TlsConfig tls,
                                       TransportOptions options = {});

/// TLS client contexts (SSL_CTX) alive in this process. Transports with the same trust, client
/// identity and verification share one, whatever server they talk to; the last one closed frees
/// it. For tests and diagnostics.
std::size_t tlsClientContextsAlive();

}  // namespace rio::kube
