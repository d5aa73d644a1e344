#include "controller/kube/transport.h"

#include <sys/socket.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "controller/core/asio_stream.h"
#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "controller/kube/h2_connection.h"
#include "controller/pki/openssl_util.h"
#include "controller/pki/tls_context.h"

namespace rio::kube {

namespace {

using namespace rio::net;  // NOLINT(google-build-using-namespace): Asio aliases of asio_stream.h
namespace bhttp = beast::http;
using Executor = tcp::socket::executor_type;

bool isIpLiteral(std::string_view host) {
  ErrorCode ec;
  asio::ip::make_address(std::string(host), ec);
  return !ec;
}

// One HTTP/1.1 connection. Owned by one request at a time, or by the idle pool; its socket's
// executor is a strand that every operation on it runs on.
struct Connection {
  Connection(tcp::socket socket, asio::ssl::context* ssl)
      : stream(ssl ? AnyStream(std::move(socket), *ssl) : AnyStream(std::move(socket))) {}
  AnyStream stream;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idleSince;
};
using ConnectionPtr = std::unique_ptr<Connection>;

// A pooled connection the server closed (or that carries unexpected bytes) is not worth a
// request: peek without blocking.
bool looksAlive(Connection& c) {
  auto& socket = c.stream.socket();
  if (!socket.is_open() || c.buffer.size() != 0) return false;
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// The latest TLS session (a TLS 1.3 ticket) each server offered, for new connections to resume:
// they skip the certificate exchange and its checks, most of a handshake's cost on both sides.
// Shared by every transport of the process, since a remote cluster is reached by several clients
// (the membership's, the informers'), many connecting at once; the key digests everything a
// resumption would otherwise have checked (server, name, trust, identity), so only a transport
// with the same settings resumes another's session. Never destroyed: I/O threads may still store
// sessions while the process exits.
pki::ossl::ContentMemo<std::shared_ptr<SSL_SESSION>>& sessionCache() {
  static auto* const cache = new pki::ossl::ContentMemo<std::shared_ptr<SSL_SESSION>>();
  return *cache;
}

// Sessions go in and out of the cache as copies: OpenSSL marks the session of a connection freed
// without a close_notify as not resumable, and connections here end by closing their socket.
std::shared_ptr<SSL_SESSION> copyOf(SSL_SESSION* session) {
  SSL_SESSION* copy = session != nullptr ? SSL_SESSION_dup(session) : nullptr;
  if (copy == nullptr) return nullptr;
  return std::shared_ptr<SSL_SESSION>(copy, SSL_SESSION_free);
}

// Index of a connection's sessionCache() key in its SSL (for the new-session callback): the
// SSL_CTX is shared by transports to different servers, so the key travels with the connection.
// It points into the TransportCore, which outlives its connections.
int sessionKeyIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Objects shared by everyone who asks with the same key, held weakly: the last holder frees one,
// and the next ask makes a new one. Built under the lock, so one is never built twice.
template <class T>
class WeakCache {
 public:
  using Build = std::function<Expected<std::shared_ptr<T>>()>;

  Expected<std::shared_ptr<T>> get(const std::string& key, const Build& build) {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      if (auto held = it->second.lock()) return held;
    }
    auto made = build();
    if (!made) return made;
    entries_[key] = *made;
    if (entries_.size() >= sweepAt_) {
      std::erase_if(entries_, [](const auto& entry) { return entry.second.expired(); });
      sweepAt_ = std::max<std::size_t>(64, 2 * entries_.size());
    }
    return made;
  }

  std::size_t alive() {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count_if(
        entries_.begin(), entries_.end(), [](const auto& e) { return !e.second.expired(); }));
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<T>> entries_;
  std::size_t sweepAt_ = 64;
};

// Transports with the same trust and client identity share one client SSL_CTX: OpenSSL 3 takes
// a while to make one (and tens of KiB to keep it), and every member cluster has several
// clients (the join's, the informers'). Held weakly: the last transport using one frees it.
using TlsContexts = WeakCache<asio::ssl::context>;

// Never destroyed, like sessionCache().
TlsContexts& tlsContexts() {
  static auto* const contexts = new TlsContexts();
  return *contexts;
}

Expected<std::shared_ptr<asio::ssl::context>> buildClientContext(const TlsConfig& tls) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // Idle connections (every watch, most of the time) give back OpenSSL's read and write
  // buffers (about 34 KiB each) until their next record.
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  if (!tls.insecureSkipVerify) {
    if (tls.caPem.empty()) {
      ctx->set_default_verify_paths();
    } else if (auto r = pki::addTrustedCertificates(ctx->native_handle(), tls.caPem, false); !r) {
      return fail(r.error().wrap("certificate-authority-data"));
    }
    ctx->set_verify_mode(asio::ssl::verify_peer);
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none);
  }
  if (!tls.clientCertPem.empty()) {
    if (auto r =
            pki::useCertificateChain(ctx->native_handle(), tls.clientCertPem, tls.clientKeyPem);
        !r) {
      return fail(r.error().wrap("client certificate"));
    }
  }
  // Keep the sessions the server offers (TLS 1.3 tickets arrive after the handshake).
  SSL_CTX_set_session_cache_mode(ctx->native_handle(),
                                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx->native_handle(), [](SSL* ssl, SSL_SESSION* session) {
    auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, sessionKeyIndex()));
    auto copy = key != nullptr ? copyOf(session) : nullptr;
    if (copy) sessionCache().put(*key, std::move(copy));
    return 0;  // OpenSSL keeps its reference
  });
  return ctx;
}

// Everything a request needs from its transport; requests keep it alive while they run.
struct TransportCore {
  TransportCore(IoRuntime& runtime, Endpoint ep, TransportOptions opts)
      : io(runtime), endpoint(std::move(ep)), options(opts) {}

  IoRuntime& io;
  const Endpoint endpoint;
  const TransportOptions options;
  std::shared_ptr<asio::ssl::context> ssl;  // https only; shared, never changed once made
  std::string verifyName;                   // name checked against the certificate
  bool verifyNameIsIp = false;
  bool verify = true;

  std::string sessionKey;  // this transport's entry in sessionCache() (empty: none)

  std::mutex mu;  // guards idle and the HTTP/2 state below
  std::deque<ConnectionPtr> idle;

  // HTTP/2: the shared connection once a handshake selected "h2"; whether one is being dialled
  // (callers arriving meanwhile wait for it instead of dialling more); whether the last dial
  // found an HTTP/1.1-only server (then nobody waits). Waiters are called with the shared
  // connection, or null when there is none (dial failed, HTTP/1.1): they then dial their own.
  H2ConnectionPtr h2;
  bool h2Dialing = false;
  bool h2Refused = false;
  std::vector<std::function<void(const H2ConnectionPtr&)>> h2Waiters;

  bool mayUseH2() const { return ssl != nullptr && options.http2; }

  // Under mu.
  H2ConnectionPtr usableH2Locked() {
    if (h2 && !h2->usable()) h2.reset();
    return h2;
  }

  H2ConnectionPtr currentH2() {
    std::lock_guard lock(mu);
    return usableH2Locked();
  }

  H2Options h2Options() const {
    H2Options o;
    o.readIdleTimeout = options.http2ReadIdleTimeout;
    o.pingTimeout = options.http2PingTimeout;
    o.idleTimeout = options.idleConnectionTimeout;
    return o;
  }

  ConnectionPtr takeIdle() {
    std::deque<ConnectionPtr> stale;
    ConnectionPtr found;
    {
      std::lock_guard lock(mu);
      auto now = std::chrono::steady_clock::now();
      while (!idle.empty()) {
        ConnectionPtr c = std::move(idle.back());
        idle.pop_back();
        if (now - c->idleSince < options.idleConnectionTimeout && looksAlive(*c)) {
          found = std::move(c);
          break;
        }
        stale.push_back(std::move(c));
      }
    }
    return found;  // `stale` closes outside the lock
  }

  void putIdle(ConnectionPtr c) {
    c->idleSince = std::chrono::steady_clock::now();
    std::lock_guard lock(mu);
    if (idle.size() < options.maxIdleConnections) idle.push_back(std::move(c));
  }

  void closeIdle() {
    std::deque<ConnectionPtr> drop;
    std::lock_guard lock(mu);
    drop.swap(idle);
    if (h2) h2->closeIfIdle();
  }

  // The transport is gone: its HTTP/2 connection ends with its last stream.
  void retireH2() {
    std::lock_guard lock(mu);
    if (h2) h2->retire();
    h2.reset();
  }
};

std::string describeMs(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

// One request on one connection (with one retry on a fresh connection when a reused one turns
// out to be dead). Runs on the connection's strand. Either completes a promise (roundTrip) or
// drives StreamCallbacks (stream).
class Call : public std::enable_shared_from_this<Call> {
 public:
  enum class Mode { kRoundTrip, kStream };

  Call(std::shared_ptr<TransportCore> core, Executor ex, const http::Request& request, Mode mode)
      : core_(std::move(core)),
        ex_(std::move(ex)),
        timer_(ex_),
        mode_(mode),
        timeout_(request.timeout),
        idleTimeout_(request.idleTimeout),
        hostPort_(core_->endpoint.hostPort()) {
    const auto& ep = core_->endpoint;
    req_.version(11);
    req_.method_string(request.method);
    req_.target(ep.pathPrefix + request.target);
    bool defaultPort =
        (ep.scheme == "https" && ep.port == 443) || (ep.scheme == "http" && ep.port == 80);
    std::string host = ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host;
    req_.set(bhttp::field::host, defaultPort ? host : host + ":" + std::to_string(ep.port));
    for (const auto& h : request.headers) {
      if (beast::iequals(h.name, "Host") || beast::iequals(h.name, "Content-Length") ||
          beast::iequals(h.name, "Transfer-Encoding")) {
        continue;
      }
      // A header value with CR/LF would split the request; it is dropped, never echoed (it may
      // be a credential).
      if (h.value.find_first_of("\r\n") != std::string::npos ||
          h.name.find_first_of("\r\n: ") != std::string::npos) {
        continue;
      }
      req_.insert(h.name, h.value);
    }
    req_.body() = request.body;
    req_.prepare_payload();
  }

  std::future<Expected<http::Response>> future() { return promise_.get_future(); }
  void setCallbacks(StreamCallbacks cb) { callbacks_ = std::move(cb); }

  /// Runs on ex_. `pooled` may be null (connect a fresh one).
  void begin(ConnectionPtr pooled) {
    armTimer(timeout_);
    if (pooled) {
      conn_ = std::move(pooled);
      reused_ = true;
      send();
    } else {
      route();
    }
  }

  /// Runs on ex_.
  void cancel() {
    if (done_) return;
    cancelled_ = true;
    abortWith(Error::cancelled("request to " + core_->endpoint.hostPort() + " cancelled"));
  }

  Executor executor() const { return ex_; }

 private:
  const std::string& hostPort() const { return hostPort_; }

  // One timer serves the request deadline, then (streams) the idle timeout.
  void armTimer(std::chrono::milliseconds d) {
    timer_.cancel();
    if (d.count() > 0) timer_.arm(d, [self = shared_from_this()] { self->onDeadline(); });
  }
  void cancelTimer() { timer_.cancel(); }

  void onDeadline() {
    if (done_) return;
    timedOut_ = true;
    std::string what = phase_ == Phase::kBody
                           ? "no data from " + hostPort() + " for " + describeMs(idleTimeout_)
                           : "request to " + hostPort() + " timed out after " +
                                 describeMs(timeout_) + " while " + phaseName();
    abortWith(Error::timeout(what));
  }

  // Ends the call with `error` at once; pending operations complete later and find done_.
  void abortWith(Error error) {
    if (resolver_) resolver_->cancel();
    if (conn_) conn_->stream.close();
    if (auto h2 = h2_.lock()) {
      if (auto sink = sink_.lock()) h2->cancel(sink);
    }
    finish(std::move(error));
  }

  void connect() {
    phase_ = Phase::kConnect;
    conn_ = std::make_unique<Connection>(tcp::socket(ex_), core_->ssl.get());
    const auto& ep = core_->endpoint;
    ErrorCode ec;
    auto address = asio::ip::make_address(ep.host, ec);
    if (!ec) {
      tcp::endpoint target(address, ep.port);
      conn_->stream.socket().async_connect(
          target, [self = shared_from_this()](ErrorCode e) { self->onConnect(e); });
      return;
    }
    resolver_.emplace(ex_);
    resolver_->async_resolve(
        ep.host, std::to_string(ep.port),
        [self = shared_from_this()](ErrorCode e, tcp::resolver::results_type results) {
          if (self->done_) return;
          if (e) {
            self->finish(Error::transport("cannot resolve " + self->core_->endpoint.host + ": " +
                                          e.message()));
            return;
          }
          asio::async_connect(self->conn_->stream.socket(), results,
                              [self](ErrorCode e2, const tcp::endpoint&) { self->onConnect(e2); });
        });
  }

  void onConnect(ErrorCode ec) {
    if (done_) return;
    if (ec) {
      finish(Error::transport("cannot connect to " + hostPort() + ": " + ec.message()));
      return;
    }
    ErrorCode ignored;
    conn_->stream.socket().set_option(tcp::no_delay(true), ignored);
    auto* tls = conn_->stream.tls();
    if (tls == nullptr) {
      send();
      return;
    }
    phase_ = Phase::kTls;
    SSL* ssl = tls->native_handle();
    const std::string& name = core_->verifyName;
    // SNI carries host names only (RFC 6066); IP literals are never sent.
    if (!core_->verifyNameIsIp && !name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());
    if (core_->verify) {
      if (core_->verifyNameIsIp) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
      } else {
        SSL_set1_host(ssl, name.c_str());
      }
    }
    // ALPN: "h2" first when HTTP/2 is on; the server picks (only the offer differs between the
    // two, the rest of the TLS setup is shared).
    static constexpr unsigned char kH2AndHttp11[] = "\x02h2\x08http/1.1";
    static constexpr unsigned char kHttp11[] = "\x08http/1.1";
    if (core_->options.http2) {
      SSL_set_alpn_protos(ssl, kH2AndHttp11, sizeof kH2AndHttp11 - 1);
    } else {
      SSL_set_alpn_protos(ssl, kHttp11, sizeof kHttp11 - 1);
    }
    SSL_set_ex_data(ssl, sessionKeyIndex(), const_cast<std::string*>(&core_->sessionKey));
    if (auto known = sessionCache().get(core_->sessionKey)) {
      if (auto session = copyOf(known->get())) SSL_set_session(ssl, session.get());
    }
    tls->async_handshake(asio::ssl::stream_base::client,
                         [self = shared_from_this()](ErrorCode e) { self->onHandshake(e); });
  }

  void onHandshake(ErrorCode ec) {
    if (done_) return;
    if (ec) {
      finish(tlsFailure(ec));
      return;
    }
    if (core_->mayUseH2()) {
      const unsigned char* proto = nullptr;
      unsigned int length = 0;
      SSL_get0_alpn_selected(conn_->stream.tls()->native_handle(), &proto, &length);
      if (length == 2 && std::memcmp(proto, "h2", 2) == 0) {
        adoptH2();
        return;
      }
      endDial(nullptr, true);
    }
    send();
  }

  // --- HTTP/2 -----------------------------------------------------------------------------------

  // Without a pooled HTTP/1.1 connection: the transport's HTTP/2 connection when there is one;
  // else wait for the one being dialled; else dial (and, on https with http2, be the dialler).
  void route() {
    if (!core_->mayUseH2()) {
      connect();
      return;
    }
    H2ConnectionPtr h2;
    {
      std::lock_guard lock(core_->mu);
      h2 = core_->usableH2Locked();
      if (!h2) {
        if (core_->h2Dialing && !core_->h2Refused) {
          core_->h2Waiters.push_back([self = shared_from_this()](const H2ConnectionPtr& c) {
            asio::post(self->ex_, [self, c] { self->onDialed(c); });
          });
          return;
        }
        if (!core_->h2Dialing) {
          core_->h2Dialing = true;
          dialer_ = true;
        }
      }
    }
    if (h2) {
      attach(std::move(h2));
      return;
    }
    connect();
  }

  void onDialed(const H2ConnectionPtr& h2) {
    if (done_) return;
    if (h2 && h2->usable()) {
      attach(h2);
    } else {
      connect();  // HTTP/1.1 server or failed dial: on our own connection, as without HTTP/2
    }
  }

  // The dialler's handshake ended (or failed: conn null, refused nullopt): wake the waiters.
  void endDial(const H2ConnectionPtr& h2, std::optional<bool> refused) {
    if (!dialer_) return;
    dialer_ = false;
    std::vector<std::function<void(const H2ConnectionPtr&)>> waiters;
    {
      std::lock_guard lock(core_->mu);
      core_->h2Dialing = false;
      if (refused) core_->h2Refused = *refused;
      waiters.swap(core_->h2Waiters);
    }
    for (auto& wake : waiters) wake(h2);
  }

  // The server selected "h2": the connection becomes the transport's HTTP/2 connection (or, if
  // another one got there first, serves this request only and closes after it).
  void adoptH2() {
    AnyStream stream = std::move(conn_->stream);
    conn_.reset();
    // The connection keeps the core alive: its SSL points at core_->sessionKey (session tickets
    // may still arrive). No cycle outlives the transport: ~TransportImpl drops core_->h2.
    H2ConnectionPtr h2 =
        startH2Connection(std::move(stream), core_->h2Options(), hostPort(), core_);
    if (!h2) {
      finish(Error::internal("cannot start an HTTP/2 session with " + hostPort()));
      return;
    }
    H2ConnectionPtr shared;
    {
      std::lock_guard lock(core_->mu);
      if (!core_->usableH2Locked()) core_->h2 = h2;
      shared = core_->h2;
    }
    endDial(shared, false);
    attach(h2);
    if (shared != h2) h2->retire();  // after attach: the stream is queued before the retirement
  }

  // Receives the stream's events on the connection's strand and hands them to the call's.
  class H2Sink final : public H2StreamSink {
   public:
    explicit H2Sink(std::shared_ptr<Call> call) : call_(std::move(call)) {}
    void onHeaders(int status, http::Headers headers) override {
      asio::post(call_->ex_, [c = call_, status, h = std::move(headers)]() mutable {
        c->onH2Headers(status, std::move(h));
      });
    }
    void onData(std::string_view data) override {
      asio::post(call_->ex_, [c = call_, d = std::string(data)] { c->onH2Data(d); });
    }
    void onClose(const std::optional<Error>& error, bool unprocessed) override {
      asio::post(call_->ex_, [c = call_, error, unprocessed] { c->onH2Close(error, unprocessed); });
    }

   private:
    std::shared_ptr<Call> call_;
  };

  void attach(H2ConnectionPtr h2) {
    phase_ = Phase::kHeaders;
    h2_ = h2;
    auto sink = std::make_shared<H2Sink>(shared_from_this());
    sink_ = sink;
    H2Request r;
    r.method = std::string(req_.method_string());
    r.authority = std::string(req_[bhttp::field::host]);
    r.path = std::string(req_.target());
    for (const auto& f : req_)
      r.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    r.body = req_.body();  // a copy: a retry sends it again
    h2->submit(std::move(r), std::move(sink));
  }

  void onH2Headers(int status, http::Headers headers) {
    if (done_) return;
    if (mode_ == Mode::kRoundTrip) {
      h2Response_.status = status;
      h2Response_.headers = std::move(headers);
      return;
    }
    phase_ = Phase::kBody;
    invoke([&] {
      if (callbacks_.onHeaders) callbacks_.onHeaders(status, headers);
    });
    if (done_) return;  // cancelled from inside onHeaders
    armIdle();
  }

  void onH2Data(std::string_view data) {
    if (done_) return;
    if (mode_ == Mode::kRoundTrip) {
      if (h2Response_.body.size() + data.size() > core_->options.maxResponseBytes) {
        abortWith(Error::transport("the response from " + hostPort() + " exceeds " +
                                   std::to_string(core_->options.maxResponseBytes) + " bytes"));
        return;
      }
      h2Response_.body.append(data);
      return;
    }
    armIdle();
    invoke([&] {
      if (callbacks_.onData) callbacks_.onData(data);
    });
  }

  void onH2Close(const std::optional<Error>& error, bool unprocessed) {
    if (done_) return;
    if (error && unprocessed && mode_ == Mode::kRoundTrip && !h2Retried_ && !timedOut_ &&
        !cancelled_) {
      // The server never processed it: once more, on a fresh connection (the broken one is no
      // longer the transport's). Streams report the error; their watchers start over.
      h2Retried_ = true;
      sink_.reset();
      h2_.reset();
      h2Response_ = {};
      route();
      return;
    }
    if (!error && mode_ == Mode::kRoundTrip) {
      done_ = true;
      cancelTimer();
      sink_.reset();
      h2_.reset();
      promise_.set_value(std::move(h2Response_));
      return;
    }
    finish(error);
  }

  Error tlsFailure(ErrorCode ec) {
    std::string detail;
    if (auto* tls = conn_->stream.tls()) {
      long result = SSL_get_verify_result(tls->native_handle());
      if (result != X509_V_OK) {
        detail = std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
        if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH) {
          detail += " (the certificate is not valid for \"" + core_->verifyName + "\")";
        }
      }
    }
    if (detail.empty()) detail = ec.message();
    return Error::tls("TLS handshake with " + hostPort() + " failed: " + detail);
  }

  void send() {
    if (done_) return;
    phase_ = Phase::kSend;
    bhttp::async_write(conn_->stream, req_, [self = shared_from_this()](ErrorCode ec, std::size_t) {
      self->onSent(ec);
    });
  }

  void onSent(ErrorCode ec) {
    if (done_) return;
    if (ec) {
      failOrRetry(ec, false);
      return;
    }
    phase_ = Phase::kHeaders;
    if (mode_ == Mode::kRoundTrip) {
      parser_.emplace();
      parser_->body_limit(core_->options.maxResponseBytes);
      parser_->header_limit(256 * 1024);
      if (req_.method() == bhttp::verb::head) parser_->skip(true);  // Content-Length without a body
      bhttp::async_read(
          conn_->stream, conn_->buffer, *parser_,
          [self = shared_from_this()](ErrorCode e, std::size_t) { self->onResponse(e); });
    } else {
      streamParser_.emplace();
      // Not boost::none: Boost 1.74 compares a Content-Length against an empty optional as "over".
      streamParser_->body_limit(std::numeric_limits<std::uint64_t>::max());
      streamParser_->header_limit(256 * 1024);
      bhttp::async_read_header(
          conn_->stream, conn_->buffer, *streamParser_,
          [self = shared_from_this()](ErrorCode e, std::size_t) { self->onStreamHeaders(e); });
    }
  }

  // A reused connection that fails before any byte of the answer arrived was most likely closed
  // by the server while idle: the request is sent once more on a fresh connection.
  void failOrRetry(ErrorCode ec, bool gotResponseBytes) {
    if (reused_ && !gotResponseBytes && !timedOut_ && !cancelled_) {
      reused_ = false;
      conn_->stream.close();
      conn_.reset();
      parser_.reset();
      streamParser_.reset();
      connect();
      return;
    }
    finish(transportFailure(ec));
  }

  Error transportFailure(ErrorCode ec) {
    if (ec.category() == asio::error::get_ssl_category()) {
      return Error::tls("TLS error from " + hostPort() + ": " + ec.message());
    }
    if (ec == bhttp::error::end_of_stream) {
      return Error::transport("the server at " + hostPort() +
                              " closed the connection without answering");
    }
    if (ec == bhttp::error::partial_message || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::eof) {
      return Error::transport("the server at " + hostPort() +
                              " closed the connection mid-response");
    }
    if (ec == bhttp::error::body_limit) {
      return Error::transport("the response from " + hostPort() + " exceeds " +
                              std::to_string(core_->options.maxResponseBytes) + " bytes");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
      return Error::transport("malformed HTTP response from " + hostPort() + ": " + ec.message());
    }
    return Error::transport("request to " + hostPort() + " failed while " + phaseName() + ": " +
                            ec.message());
  }

  bool gotBytes(bool parserGotSome) const { return parserGotSome || conn_->buffer.size() != 0; }

  void onResponse(ErrorCode ec) {
    if (done_) return;
    if (ec) {
      failOrRetry(ec, gotBytes(parser_->got_some()));
      return;
    }
    auto msg = parser_->release();
    http::Response response;
    response.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg)
      response.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    response.body = std::move(msg.body());
    if (msg.keep_alive() && !msg.need_eof()) release();
    done_ = true;
    cancelTimer();
    promise_.set_value(std::move(response));
  }

  void onStreamHeaders(ErrorCode ec) {
    if (done_) return;
    if (ec) {
      failOrRetry(ec, gotBytes(streamParser_->got_some()));
      return;
    }
    phase_ = Phase::kBody;
    const auto& msg = streamParser_->get();
    http::Headers headers;
    for (const auto& f : msg)
      headers.push_back({std::string(f.name_string()), std::string(f.value())});
    int status = static_cast<int>(msg.result_int());
    invoke([&] {
      if (callbacks_.onHeaders) callbacks_.onHeaders(status, headers);
    });
    if (done_) return;  // cancelled from inside onHeaders
    armIdle();
    if (streamParser_->is_done()) {
      endStream();
      return;
    }
    readSome();
  }

  void armIdle() { armTimer(idleTimeout_); }

  void readSome() {
    if (!chunk_) chunk_ = std::make_unique<char[]>(kChunkSize);
    auto& body = streamParser_->get().body();
    body.data = chunk_.get();
    body.size = kChunkSize;
    bhttp::async_read_some(
        conn_->stream, conn_->buffer, *streamParser_,
        [self = shared_from_this()](ErrorCode ec, std::size_t) { self->onSome(ec); });
  }

  void onSome(ErrorCode ec) {
    if (done_) return;
    if (ec == bhttp::error::need_buffer) ec = {};
    std::size_t got = kChunkSize - streamParser_->get().body().size;
    if (got > 0) {
      armIdle();
      invoke([&] {
        if (callbacks_.onData) callbacks_.onData(std::string_view(chunk_.get(), got));
      });
      if (done_) return;
    }
    if (ec) {
      finish(transportFailure(ec));
      return;
    }
    if (streamParser_->is_done()) {
      endStream();
      return;
    }
    readSome();
  }

  void endStream() {
    if (streamParser_->get().keep_alive() && !streamParser_->get().need_eof()) release();
    finish(std::nullopt);
  }

  void release() {
    cancelTimer();
    if (!conn_) return;
    // A large answer (a LIST) grew the read buffer to its size; the connection's next use is
    // often a watch that sits idle for an hour, or nothing: do not keep it.
    if (conn_->buffer.size() == 0 && conn_->buffer.capacity() > kKeptReadBuffer) {
      conn_->buffer.shrink_to_fit();
    }
    core_->putIdle(std::move(conn_));
  }

  void finish(std::optional<Error> error) {
    if (done_) return;
    done_ = true;
    cancelTimer();
    endDial(nullptr, std::nullopt);
    sink_.reset();
    h2_.reset();
    if (mode_ == Mode::kRoundTrip) {
      if (error) promise_.set_value(fail(std::move(*error)));
      return;
    }
    auto onClose = std::move(callbacks_.onClose);
    callbacks_ = {};
    invoke([&] {
      if (onClose) onClose(error);
    });
  }

  template <class F>
  void invoke(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      log::root().error("stream callback threw", {{"host", hostPort()}, {"error", e.what()}});
    } catch (...) {
      log::root().error("stream callback threw", {{"host", hostPort()}});
    }
  }

  enum class Phase { kConnect, kTls, kSend, kHeaders, kBody };
  const char* phaseName() const {
    switch (phase_) {
      case Phase::kConnect:
        return "connecting";
      case Phase::kTls:
        return "in the TLS handshake";
      case Phase::kSend:
        return "sending the request";
      case Phase::kHeaders:
        return "waiting for the response";
      case Phase::kBody:
        return "reading the response";
    }
    return "talking to the server";
  }

  // Watch events are small; a larger one takes more reads. Every open watch holds one chunk.
  static constexpr std::size_t kChunkSize = 4 * 1024;
  static constexpr std::size_t kKeptReadBuffer = 8 * 1024;

  std::shared_ptr<TransportCore> core_;
  Executor ex_;
  DeadlineTimer timer_;
  const Mode mode_;
  const std::chrono::milliseconds timeout_;
  const std::chrono::milliseconds idleTimeout_;
  bhttp::request<bhttp::string_body> req_;
  ConnectionPtr conn_;
  std::optional<tcp::resolver> resolver_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> streamParser_;
  std::unique_ptr<char[]> chunk_;
  std::promise<Expected<http::Response>> promise_;
  StreamCallbacks callbacks_;
  const std::string hostPort_;
  Phase phase_ = Phase::kConnect;
  // The HTTP/2 connection this call is a stream of, and its stream (empty when not on HTTP/2).
  // Both weak: the connection owns its streams' sinks and a sink its call, so a call that held
  // them would make a cycle that outlives a connection whose I/O stopped with streams open.
  std::weak_ptr<H2Connection> h2_;
  std::weak_ptr<H2Sink> sink_;
  http::Response h2Response_;  // a roundTrip's answer as it arrives over HTTP/2
  bool dialer_ = false;        // this call dials the transport's HTTP/2 connection
  bool h2Retried_ = false;
  bool reused_ = false;
  bool done_ = false;
  bool timedOut_ = false;
  bool cancelled_ = false;
};

class StreamHandle final : public Stream {
 public:
  explicit StreamHandle(std::weak_ptr<Call> call, Executor ex)
      : call_(std::move(call)), ex_(std::move(ex)) {}
  void cancel() override {
    asio::post(ex_, [call = call_] {
      if (auto c = call.lock()) c->cancel();
    });
  }

 private:
  std::weak_ptr<Call> call_;
  Executor ex_;
};

class TransportImpl final : public Transport {
 public:
  explicit TransportImpl(std::shared_ptr<TransportCore> core) : core_(std::move(core)) {}
  ~TransportImpl() override {
    core_->closeIdle();
    core_->retireH2();
  }

  Expected<http::Response> roundTrip(const http::Request& request) override {
    if (core_->io.inIoThread()) {
      return fail(Error::internal(
          "Transport::roundTrip called on an I/O thread (it would block the loop)"));
    }
    if (core_->io.stopped()) return fail(Error::cancelled("the I/O runtime is stopped"));
    auto [call, pooled] = prepare(request, Call::Mode::kRoundTrip);
    auto result = call->future();
    asio::post(call->executor(),
               [call = call, c = std::move(pooled)]() mutable { call->begin(std::move(c)); });
    // The call's own deadline answers in time; this bound only matters if the I/O runtime stops
    // underneath us and the call never runs.
    for (;;) {
      if (result.wait_for(std::chrono::milliseconds(200)) == std::future_status::ready) {
        try {
          return result.get();
        } catch (
            const std::future_error&) {  // the call was destroyed unfinished (runtime torn down)
          return fail(Error::cancelled("the I/O runtime stopped during a request to " +
                                       core_->endpoint.hostPort()));
        }
      }
      if (core_->io.stopped())
        return fail(Error::cancelled("the I/O runtime stopped during a request to " +
                                     core_->endpoint.hostPort()));
    }
  }

  StreamPtr stream(const http::Request& request, StreamCallbacks callbacks) override {
    auto [call, pooled] = prepare(request, Call::Mode::kStream);
    call->setCallbacks(std::move(callbacks));
    auto handle = std::make_shared<StreamHandle>(call, call->executor());
    asio::post(call->executor(),
               [call = call, c = std::move(pooled)]() mutable { call->begin(std::move(c)); });
    return handle;
  }

  const Endpoint& endpoint() const override { return core_->endpoint; }
  void closeIdleConnections() override { core_->closeIdle(); }

 private:
  std::pair<std::shared_ptr<Call>, ConnectionPtr> prepare(const http::Request& request,
                                                          Call::Mode mode) {
    // The shared HTTP/2 connection first; its strand saves the call's events a hop.
    H2ConnectionPtr h2 = core_->mayUseH2() ? core_->currentH2() : nullptr;
    ConnectionPtr pooled = h2 ? nullptr : core_->takeIdle();
    Executor ex = h2       ? h2->executor()
                  : pooled ? pooled->stream.get_executor()
                           : Executor(asio::make_strand(core_->io.context()));
    auto call = std::make_shared<Call>(core_, ex, request, mode);
    return {std::move(call), std::move(pooled)};
  }

  std::shared_ptr<TransportCore> core_;
};

std::optional<std::uint16_t> parsePort(std::string_view text) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

Expected<Endpoint> Endpoint::parse(std::string_view url) {
  const std::string original(url);
  auto bad = [&](std::string_view why) {
    return fail(Error::config("invalid server URL \"" + original + "\": " + std::string(why)));
  };
  Endpoint ep;
  if (auto pos = url.find("://"); pos != std::string_view::npos) {
    std::string scheme(url.substr(0, pos));
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "https" && scheme != "http") return bad("scheme must be https or http");
    ep.scheme = scheme;
    url.remove_prefix(pos + 3);
  }
  ep.port = ep.scheme == "https" ? 443 : 80;
  auto slash = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
  if (!rest.empty() && rest.front() != '/') return bad("query and fragment are not supported");
  if (rest.find_first_of("?#") != std::string_view::npos)
    return bad("query and fragment are not supported");
  if (authority.empty()) return bad("missing host");
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    ep.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after the IPv6 literal");
      auto port = parsePort(after.substr(1));
      if (!port) return bad("invalid port");
      ep.port = *port;
    }
    ErrorCode ec;
    asio::ip::make_address_v6(ep.host, ec);
    if (ec) return bad("invalid IPv6 literal");
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      auto port = parsePort(authority.substr(colon + 1));
      if (!port) return bad("invalid port");
      ep.port = *port;
      authority = authority.substr(0, colon);
    }
    if (authority.empty() || authority.find(':') != std::string_view::npos)
      return bad("invalid host");
    ep.host = std::string(authority);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  ep.pathPrefix = std::string(rest);
  return ep;
}

std::string Endpoint::hostPort() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Expected<TransportPtr> makeTransport(IoRuntime& io, Endpoint endpoint, TlsConfig tls,
                                     TransportOptions options) {
  auto core = std::make_shared<TransportCore>(io, std::move(endpoint), options);
  if (core->endpoint.host.empty()) return fail(Error::config("the server URL has no host"));
  if (core->endpoint.scheme == "https") {
    core->verify = !tls.insecureSkipVerify;
    if (!core->verify) {
      log::root().warn("TLS certificate verification is disabled",
                       {{"host", core->endpoint.hostPort()}});
    }
    if (tls.clientCertPem.empty() != tls.clientKeyPem.empty()) {
      return fail(Error::config("a client certificate needs both the certificate and its key"));
    }
    try {
      const std::string key = pki::ossl::digestOf(
          {core->verify ? "verify" : "insecure", tls.caPem, tls.clientCertPem, tls.clientKeyPem});
      auto ctx = tlsContexts().get(key, [&] { return buildClientContext(tls); });
      if (!ctx) return fail(ctx.error());
      core->ssl = std::move(*ctx);
    } catch (const std::exception& e) {
      return fail(Error::config(std::string("TLS setup failed: ") + e.what()));
    }
    core->verifyName = tls.serverName.empty() ? core->endpoint.host : tls.serverName;
    core->verifyNameIsIp = isIpLiteral(core->verifyName);
    core->sessionKey =
        pki::ossl::digestOf({core->endpoint.hostPort(), core->verifyName,
                             core->verify ? "verify" : "insecure", tls.caPem, tls.clientCertPem});
  }
  return TransportPtr(std::make_shared<TransportImpl>(std::move(core)));
}

std::size_t tlsClientContextsAlive() { return tlsContexts().alive(); }

namespace {

// The transports sharedTransport() handed out, by everything that makes one differ. Never
// destroyed, like sessionCache().
using SharedTransports = WeakCache<Transport>;

SharedTransports& sharedTransports() {
  static auto* const transports = new SharedTransports();
  return *transports;
}

}  // namespace

Expected<TransportPtr> sharedTransport(IoRuntime& io, Endpoint endpoint, TlsConfig tls,
                                       TransportOptions options) {
  char runtime[32];
  std::snprintf(runtime, sizeof runtime, "%p", static_cast<void*>(&io));
  const std::string key = pki::ossl::digestOf(
      {runtime, endpoint.scheme, endpoint.host, std::to_string(endpoint.port), endpoint.pathPrefix,
       tls.insecureSkipVerify ? "insecure" : "verify", tls.serverName, tls.caPem, tls.clientCertPem,
       tls.clientKeyPem, std::to_string(options.maxIdleConnections),
       std::to_string(options.idleConnectionTimeout.count()),
       std::to_string(options.maxResponseBytes), options.http2 ? "h2" : "http/1.1",
       std::to_string(options.http2ReadIdleTimeout.count()),
       std::to_string(options.http2PingTimeout.count())});
  return sharedTransports().get(
      key, [&] { return makeTransport(io, std::move(endpoint), std::move(tls), options); });
}

}  // namespace rio::kube
