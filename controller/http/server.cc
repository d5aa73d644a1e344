#include "controller/http/server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <future>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "controller/http/server_core.h"
#include "controller/pki/openssl_util.h"
#include "controller/pki/tls_context.h"

namespace rio::http {

namespace {

using namespace rio::net;  // NOLINT(google-build-using-namespace): Asio aliases of asio_stream.h
namespace bhttp = beast::http;
using detail::Connection;
using detail::kHeaderLimit;
using detail::kMaxQueuedBytes;
using detail::ServerCore;

// How long a closing connection keeps draining what the client still sends, so that the client
// reads our last response instead of a reset.
constexpr auto kLingerTimeout = std::chrono::seconds(2);

bool safeHeaderText(std::string_view s) {
  return s.find_first_of("\r\n") == std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

class ExchangeImpl;

// One accepted connection. Everything runs on the connection's strand (the socket's executor).
// A session reads a request, hands it to the handler, and while the exchange is open keeps a read
// of the next request header pending: that read notices a client that goes away (watch streams),
// and holds a pipelined request until the current one is answered.
class Session final : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ServerCore> core, tcp::socket socket, std::string remote)
      : core_(std::move(core)),
        stream_(core_->ssl ? AnyStream(std::move(socket), *core_->ssl)
                           : AnyStream(std::move(socket))),
        timer_(stream_.get_executor()),
        remote_(std::move(remote)) {}

  ~Session() { core_->remove(this); }

  tcp::socket::executor_type executor() override { return stream_.get_executor(); }

  void start() {
    if (closed_) return;  // the server stopped before the session got going
    if (auto* tls = stream_.tls()) {
      arm(core_->options.readTimeout);
      tls->async_handshake(asio::ssl::stream_base::server,
                           [self = shared_from_this()](ErrorCode ec) { self->onHandshake(ec); });
    } else {
      readHeader(core_->options.readTimeout);
    }
  }

  /// Closes at once; the active exchange (if any) sees closed() and its onClosed callbacks run.
  void close() override {
    if (closed_) return;
    closed_ = true;
    if (exchangeActive_) closedExchangeId_ = exchangeId_;
    disarm();
    stream_.close();
    auto callbacks = std::move(onClosed_);
    onClosed_.clear();
    markExchangeClosed();
    exchangeActive_ = false;
    pending_.clear();
    pendingBytes_ = 0;
    core_->remove(this);
    for (auto& fn : callbacks) {
      try {
        fn();
      } catch (...) {
      }
    }
  }

  // The Exchange operations, posted onto the strand by ExchangeImpl. `id` tells a stale exchange
  // (an earlier request on this connection) from the active one.
  void exRespond(std::uint64_t id, int status, Headers headers, std::string body);
  void exStartStream(std::uint64_t id, int status, Headers headers);
  void exWrite(std::uint64_t id, std::string chunk);
  void exFinish(std::uint64_t id);
  void exAbort(std::uint64_t id) {
    if (isActive(id)) close();
  }
  void exOnClosed(std::uint64_t id, std::function<void()> fn) {
    if (closed_) {
      if (id == closedExchangeId_) fn();
    } else if (isActive(id)) {
      onClosed_.push_back(std::move(fn));
    }
  }
  // The handler dropped its exchange without finishing it.
  void exDropped(std::uint64_t id) {
    if (!isActive(id)) return;
    if (streaming_) {
      // Nobody can finish this stream: send what was written, then end the connection without
      // the last chunk, so the client sees a truncated body (an error, as it should).
      keepAlive_ = false;
      completeExchange();
    } else {
      exRespond(id, 500, {{"Content-Type", "text/plain"}},
                "the request handler dropped the request\n");
    }
  }

 private:
  bool isActive(std::uint64_t id) const { return !closed_ && exchangeActive_ && id == exchangeId_; }

  void arm(std::chrono::steady_clock::duration d) {
    if (closed_) return;
    timer_.arm(d, [self = shared_from_this()] { self->close(); });
  }
  void disarm() { timer_.cancel(); }

  void onHandshake(ErrorCode ec) {
    if (closed_) return;
    disarm();
    if (ec) {
      log::root().debug("TLS handshake failed", {{"remote", remote_}, {"error", ec.message()}});
      linger();  // the alert is out; let the client read it rather than a reset
      return;
    }
    SSL* ssl = stream_.tls()->native_handle();
    if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) serverName_ = sni;
    tlsResumed_ = SSL_session_reused(ssl) == 1;
    X509* cert = SSL_get0_peer_certificate(ssl);
    if (cert != nullptr && SSL_get_verify_result(ssl) == X509_V_OK) {
      PeerCertificate peer;
      auto cn = pki::ossl::nameEntries(X509_get_subject_name(cert), NID_commonName);
      if (!cn.empty()) peer.commonName = cn.front();
      peer.organizations =
          pki::ossl::nameEntries(X509_get_subject_name(cert), NID_organizationName);
      peer_ = std::move(peer);
    }
    const unsigned char* alpn = nullptr;
    unsigned int alpnLength = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpnLength);
    if (std::string_view(reinterpret_cast<const char*>(alpn), alpnLength) == "h2") {
      // From here on an HTTP/2 connection serves this socket; this object only goes away.
      closed_ = true;
      detail::serveHttp2(core_, this, std::move(stream_),
                         {remote_, serverName_, tlsResumed_, std::move(peer_)});
      return;
    }
    readHeader(core_->options.readTimeout);
  }

  // Starts reading the next request header. `timeout` bounds the wait when no exchange is open.
  void readHeader(std::optional<std::chrono::steady_clock::duration> timeout) {
    header_.emplace();
    header_->header_limit(kHeaderLimit);
    // Beast's request parser refuses a Content-Length over 1 MiB while still reading the header
    // (a 400); the body limit is ours to apply, in processHeader(). Not boost::none: Boost 1.74
    // compares the length with the optional, and every length is greater than none.
    header_->body_limit(std::numeric_limits<std::uint64_t>::max());
    readingHeader_ = true;
    if (timeout) arm(*timeout);
    bhttp::async_read_header(
        stream_, buffer_, *header_,
        [self = shared_from_this()](ErrorCode ec, std::size_t) { self->onHeader(ec); });
  }

  void onHeader(ErrorCode ec) {
    readingHeader_ = false;
    if (closed_) return;
    if (lingering_) {
      if (ec) {
        close();
      } else {
        discard();
      }
      return;
    }
    if (ec) {
      bool parseError =
          ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
      if (parseError && !exchangeActive_ && !writing_) {
        disarm();
        keepAlive_ = false;
        enqueue(ec == bhttp::error::header_limit
                    ? "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: "
                      "0\r\nConnection: close\r\n\r\n"
                    : "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        closeAfterWrite_ = true;
        return;
      }
      close();
      return;
    }
    if (exchangeActive_ || writing_ || closeAfterWrite_) {
      nextHeaderReady_ = true;  // pipelined: served once the current answer is out
      return;
    }
    processHeader();
  }

  void processHeader() {
    disarm();
    nextHeaderReady_ = false;
    const auto limit = core_->options.maxBodyBytes;
    auto length = header_->content_length();
    if (length && *length > limit) {
      bool keepAlive = header_->get().keep_alive();
      dispatch(header_->release(), std::string(), true, keepAlive);
      return;
    }
    if (header_->is_done()) {
      bool keepAlive = header_->get().keep_alive();
      dispatch(header_->release(), std::string(), false, keepAlive);
      return;
    }
    try {
      body_.emplace(std::move(*header_));
    } catch (const std::exception&) {
      close();
      return;
    }
    body_->body_limit(limit);
    readingBody_ = true;
    auto expect = body_->get()[bhttp::field::expect];
    if (iequals(expect, "100-continue")) enqueue("HTTP/1.1 100 Continue\r\n\r\n");
    arm(core_->options.readTimeout);
    bhttp::async_read(stream_, buffer_, *body_,
                      [self = shared_from_this()](ErrorCode ec, std::size_t) { self->onBody(ec); });
  }

  void onBody(ErrorCode ec) {
    readingBody_ = false;
    if (closed_) return;
    disarm();
    if (ec == bhttp::error::body_limit) {
      auto msg = body_->release();
      dispatch(bhttp::request_header<>(std::move(msg.base())), std::string(), true, false);
      return;
    }
    if (ec) {
      close();
      return;
    }
    auto msg = body_->release();
    bool keepAlive = msg.keep_alive();
    std::string body = std::move(msg.body());
    dispatch(bhttp::request_header<>(std::move(msg.base())), std::move(body), false, keepAlive);
  }

  void dispatch(bhttp::request_header<> header, std::string body, bool tooLarge, bool keepAlive);

  void markExchangeClosed();

  void enqueue(std::string data) {
    if (closed_ || data.empty()) return;
    pendingBytes_ += data.size();
    pending_.push_back(std::move(data));
    if (pendingBytes_ > kMaxQueuedBytes) {
      log::root().warn("closing a connection whose client does not read", {{"remote", remote_}});
      close();
      return;
    }
    if (!writing_) flush();
  }

  void flush() {
    inflight_ = std::move(pending_);
    pending_.clear();
    pendingBytes_ = 0;
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(inflight_.size());
    for (const auto& s : inflight_) buffers.emplace_back(asio::buffer(s));
    writing_ = true;
    asio::async_write(stream_, buffers, [self = shared_from_this()](ErrorCode ec, std::size_t) {
      self->onWrite(ec);
    });
  }

  void onWrite(ErrorCode ec) {
    writing_ = false;
    inflight_.clear();
    if (closed_) return;
    if (ec) {
      close();
      return;
    }
    if (!pending_.empty()) {
      flush();
    } else if (closeAfterWrite_) {
      linger();
    } else if (!exchangeActive_) {
      afterExchange();
    }
  }

  // The exchange's answer is queued; decide what the connection does next.
  void completeExchange() {
    if (closed_) return;
    exchangeActive_ = false;
    onClosed_.clear();
    exchange_.reset();
    if (!keepAlive_) {
      closeAfterWrite_ = true;
      if (!writing_) linger();
      return;
    }
    if (!writing_) afterExchange();
  }

  // The answer is fully written and the connection stays: serve a pipelined request, or wait
  // for the next one.
  void afterExchange() {
    if (closed_ || readingBody_ || exchangeActive_) return;
    if (buffer_.size() == 0 && buffer_.capacity() > 16 * 1024) buffer_.shrink_to_fit();
    if (nextHeaderReady_) {
      processHeader();
    } else if (readingHeader_) {
      arm(core_->options.keepAliveTimeout);
    } else {
      readHeader(core_->options.keepAliveTimeout);
    }
  }

  // Half-closes and drains what the client still sends for a short while, so the client reads
  // our answer rather than a connection reset.
  void linger() {
    if (closed_ || lingering_) return;
    lingering_ = true;
    ErrorCode ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    arm(kLingerTimeout);
    if (!readingHeader_) discard();
  }

  void discard() {
    buffer_.consume(buffer_.size());
    readingHeader_ = true;  // a read is outstanding
    stream_.socket().async_read_some(buffer_.prepare(4096),
                                     [self = shared_from_this()](ErrorCode ec, std::size_t) {
                                       self->readingHeader_ = false;
                                       if (self->closed_) return;
                                       if (ec) {
                                         self->close();
                                       } else {
                                         self->discard();
                                       }
                                     });
  }

  std::string statusLine(int status) const {
    auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  }

  // Handler headers minus the framing ones we own. A handler's "Connection: close" is honoured.
  std::string headerBlock(const Headers& headers) {
    std::string out;
    for (const auto& h : headers) {
      if (h.name.empty() || !safeHeaderText(h.name) || !safeHeaderText(h.value)) continue;
      if (iequals(h.name, "Content-Length") || iequals(h.name, "Transfer-Encoding")) continue;
      if (iequals(h.name, "Connection")) {
        if (iequals(h.value, "close")) keepAlive_ = false;
        continue;
      }
      out += h.name;
      out += ": ";
      out += h.value;
      out += "\r\n";
    }
    return out;
  }

  std::string connectionHeader() const {
    if (!keepAlive_) return "Connection: close\r\n";
    return http10_ ? "Connection: keep-alive\r\n" : "";
  }

  friend class ExchangeImpl;

  std::shared_ptr<ServerCore> core_;
  AnyStream stream_;
  DeadlineTimer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_;
  const std::string remote_;
  std::string serverName_;
  bool tlsResumed_ = false;
  std::optional<PeerCertificate> peer_;

  bool closed_ = false;
  bool readingHeader_ = false;
  bool readingBody_ = false;
  bool nextHeaderReady_ = false;
  bool writing_ = false;
  bool closeAfterWrite_ = false;
  bool lingering_ = false;

  // The active exchange.
  std::uint64_t exchangeId_ = 0;
  std::uint64_t closedExchangeId_ = 0;  // the exchange that was active when the connection closed
  bool exchangeActive_ = false;
  bool streaming_ = false;
  bool chunked_ = true;
  bool keepAlive_ = true;
  bool http10_ = false;
  bool headRequest_ = false;
  std::weak_ptr<ExchangeImpl> exchange_;
  std::vector<std::function<void()>> onClosed_;

  std::vector<std::string> pending_;   // queued, not yet handed to async_write
  std::vector<std::string> inflight_;  // being written
  std::size_t pendingBytes_ = 0;
};

// The handler's side of one request: posts every call onto the session's strand.
class ExchangeImpl final : public Exchange {
 public:
  ExchangeImpl(std::shared_ptr<Session> session, std::uint64_t id)
      : session_(std::move(session)), id_(id) {}

  ~ExchangeImpl() override {
    if (!finished_.load()) {
      asio::post(session_->executor(), [s = session_, id = id_] { s->exDropped(id); });
    }
  }

  void respond(int status, Headers headers, std::string body) override {
    if (started_.exchange(true)) return;
    finished_ = true;
    asio::post(session_->executor(), [s = session_, id = id_, status, h = std::move(headers),
                                      b = std::move(body)]() mutable {
      s->exRespond(id, status, std::move(h), std::move(b));
    });
  }
  void startStream(int status, Headers headers) override {
    if (started_.exchange(true)) return;
    asio::post(session_->executor(),
               [s = session_, id = id_, status, h = std::move(headers)]() mutable {
                 s->exStartStream(id, status, std::move(h));
               });
  }
  void write(std::string chunk) override {
    if (closed_.load()) return;
    asio::post(session_->executor(), [s = session_, id = id_, c = std::move(chunk)]() mutable {
      s->exWrite(id, std::move(c));
    });
  }
  void finish() override {
    if (finished_.exchange(true)) return;
    asio::post(session_->executor(), [s = session_, id = id_] { s->exFinish(id); });
  }
  void abort() override {
    finished_ = true;
    closed_ = true;
    asio::post(session_->executor(), [s = session_, id = id_] { s->exAbort(id); });
  }
  bool closed() const override { return closed_.load(); }
  void onClosed(std::function<void()> fn) override {
    if (!fn) return;
    asio::post(session_->executor(), [s = session_, id = id_, f = std::move(fn)]() mutable {
      s->exOnClosed(id, std::move(f));
    });
  }

  void markClosed() { closed_ = true; }

 private:
  std::shared_ptr<Session> session_;
  const std::uint64_t id_;
  std::atomic<bool> started_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> closed_{false};
};

void Session::markExchangeClosed() {
  if (auto ex = exchange_.lock()) ex->markClosed();
  exchange_.reset();
}

void Session::dispatch(bhttp::request_header<> header, std::string body, bool tooLarge,
                       bool keepAlive) {
  ServerRequest req;
  req.method = std::string(header.method_string());
  req.target = std::string(header.target());
  auto target = parseRequestTarget(header.target());
  req.path = std::move(target.path);
  req.query = std::move(target.query);
  req.headers.reserve(16);
  for (const auto& f : header)
    req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
  req.body = std::move(body);
  req.bodyTooLarge = tooLarge;
  req.peer = peer_;
  req.remoteAddress = remote_;
  req.serverName = serverName_;
  req.tlsResumed = tlsResumed_;
  req.protocol = header.version() < 11 ? "HTTP/1.0" : "HTTP/1.1";

  ++exchangeId_;
  exchangeActive_ = true;
  streaming_ = false;
  http10_ = header.version() < 11;
  chunked_ = !http10_;
  keepAlive_ = keepAlive && !tooLarge;
  headRequest_ = header.method() == bhttp::verb::head;
  body_.reset();
  header_.reset();
  auto exchange = std::make_shared<ExchangeImpl>(shared_from_this(), exchangeId_);
  exchange_ = exchange;

  // Keep a read pending while the handler works: it sees the client leave. An unread oversized
  // body is still on the wire, so in that case there is nothing to read until we close.
  if (!tooLarge) readHeader(std::nullopt);

  detail::callHandler(*core_, std::move(req), exchange);
}

void Session::exRespond(std::uint64_t id, int status, Headers headers, std::string body) {
  if (!isActive(id) || streaming_) return;
  std::string out = statusLine(status);
  out += headerBlock(headers);
  const bool bodyless = status < 200 || status == 204 || status == 304;
  if (!bodyless) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += connectionHeader();
  out += "\r\n";
  if (!bodyless && !headRequest_) {
    if (body.size() > 16 * 1024) {
      enqueue(std::move(out));  // large bodies are not copied again
      enqueue(std::move(body));
      completeExchange();
      return;
    }
    out += body;
  }
  enqueue(std::move(out));
  completeExchange();
}

void Session::exStartStream(std::uint64_t id, int status, Headers headers) {
  if (!isActive(id) || streaming_) return;
  streaming_ = true;
  std::string out = statusLine(status);
  out += headerBlock(headers);
  if (chunked_) {
    out += "Transfer-Encoding: chunked\r\n";
  } else {
    keepAlive_ = false;  // HTTP/1.0: the body ends when the connection does
  }
  out += connectionHeader();
  out += "\r\n";
  enqueue(std::move(out));
}

void Session::exWrite(std::uint64_t id, std::string chunk) {
  if (!isActive(id) || !streaming_ || chunk.empty() || headRequest_) return;
  if (!chunked_) {
    enqueue(std::move(chunk));
    return;
  }
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  std::string framed;
  framed.reserve(chunk.size() + 16);
  framed += size;
  framed += chunk;
  framed += "\r\n";
  enqueue(std::move(framed));
}

void Session::exFinish(std::uint64_t id) {
  if (!isActive(id) || !streaming_) return;
  if (chunked_ && !headRequest_) enqueue("0\r\n\r\n");
  completeExchange();
}

// ALPN: "h2" when the server speaks HTTP/2 (`arg` non-null) and the client offers it, as
// kube-apiserver prefers it; otherwise "http/1.1" when offered. Offer lists are length-prefixed
// protocol names.
int selectProtocol(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                   unsigned int inlen, void* arg) {
  auto find = [&](std::string_view name) -> bool {
    for (unsigned int i = 0; i < inlen;) {
      unsigned int len = in[i];
      if (i + 1 + len > inlen) break;
      if (len == name.size() && std::memcmp(in + i + 1, name.data(), len) == 0) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return true;
      }
      i += 1 + len;
    }
    return false;
  };
  if (arg != nullptr && find("h2")) return SSL_TLSEXT_ERR_OK;
  if (find("http/1.1")) return SSL_TLSEXT_ERR_OK;
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

namespace detail {

void callHandler(const ServerCore& core, ServerRequest request, const ExchangePtr& exchange) {
  try {
    core.handler(std::move(request), exchange);
  } catch (const std::exception& e) {
    log::root().error("HTTP handler threw", {{"error", e.what()}});
    exchange->respond(500, {{"Content-Type", "text/plain"}}, "internal error\n");
  } catch (...) {
    exchange->respond(500, {{"Content-Type", "text/plain"}}, "internal error\n");
  }
}

}  // namespace detail

std::optional<std::string> ServerRequest::param(const std::string& name) const {
  auto it = query.lower_bound(name);
  if (it == query.end() || it->first != name) return std::nullopt;
  return it->second;
}

struct Server::State : ServerCore {
  using ServerCore::ServerCore;
  std::optional<Error> tlsError;  // bad TLS material, reported by start()
};

namespace {

void acceptLoop(std::shared_ptr<ServerCore> core, std::shared_ptr<tcp::acceptor> acceptor) {
  acceptor->async_accept(
      asio::make_strand(core->io.context()),
      asio::bind_executor(core->strand, [core, acceptor](ErrorCode ec, tcp::socket socket) {
        if (!acceptor->is_open()) return;
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          // Out of descriptors and the like: back off instead of spinning.
          log::root().warn("accept failed", {{"error", ec.message()}});
          auto timer =
              std::make_shared<asio::steady_timer>(core->strand, std::chrono::milliseconds(100));
          timer->async_wait([core, acceptor, timer](ErrorCode) {
            if (acceptor->is_open()) acceptLoop(core, acceptor);
          });
          return;
        }
        ErrorCode ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto remote = socket.remote_endpoint(ignored);
        auto session = std::make_shared<Session>(core, std::move(socket), formatEndpoint(remote));
        if (!core->add(session.get(), session, acceptor.get())) {
          asio::post(session->executor(), [session] { session->close(); });
          return;
        }
        asio::post(session->executor(), [session] { session->start(); });
        acceptLoop(core, acceptor);
      }));
}

}  // namespace

Server::Server(IoRuntime& io, ServerOptions options, Handler handler)
    : state_(std::make_shared<State>(io, std::move(options), std::move(handler))) {
  const auto& tls = state_->options.tls;
  if (!tls) return;
  try {
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    SSL_CTX_set_alpn_select_cb(ctx.native_handle(), selectProtocol,
                               state_->options.http2 ? state_.get() : nullptr);
    static constexpr unsigned char kSessionContext[] = "rio-http";
    SSL_CTX_set_session_id_context(ctx.native_handle(), kSessionContext,
                                   sizeof kSessionContext - 1);
    if (auto r = pki::useCertificateChain(ctx.native_handle(), tls->certPem, tls->keyPem); !r) {
      state_->tlsError = r.error().wrap("serving certificate");
      return;
    }
    if (!tls->clientCaPem.empty()) {
      if (auto r = pki::addTrustedCertificates(ctx.native_handle(), tls->clientCaPem, true); !r) {
        state_->tlsError = r.error().wrap("client CA");
        return;
      }
      // Ask for a certificate, verify it when given, but serve clients without one (they may
      // authenticate with a token instead), as kube-apiserver does.
      ctx.set_verify_mode(asio::ssl::verify_peer);
    }
    state_->ssl.emplace(std::move(ctx));
  } catch (const std::exception& e) {
    state_->tlsError = Error::config(std::string("TLS setup failed: ") + e.what());
  }
}

Server::~Server() { stop(); }

Expected<void> Server::start() {
  auto& core = *state_;
  if (core.tlsError) return fail(*core.tlsError);
  std::lock_guard lock(core.mu);
  if (core.running) return {};
  ErrorCode ec;
  auto address = asio::ip::make_address(core.options.address, ec);
  if (ec) return fail(Error::config("invalid listen address \"" + core.options.address + "\""));
  // After the first start, keep the port we were given so clients can reconnect to a restart.
  tcp::endpoint endpoint(address, core.port != 0 ? core.port : core.options.port);
  auto acceptor = std::make_shared<tcp::acceptor>(core.strand);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail(
        Error::transport("cannot listen on " + formatEndpoint(endpoint) + ": " + ec.message()));
  }
  core.port = acceptor->local_endpoint(ec).port();
  core.acceptor = acceptor;
  core.running = true;
  asio::post(core.strand, [state = std::shared_ptr<ServerCore>(state_), acceptor] {
    acceptLoop(state, acceptor);
  });
  return {};
}

void Server::stop() {
  auto& core = *state_;
  std::shared_ptr<tcp::acceptor> acceptor;
  std::vector<std::shared_ptr<Connection>> sessions;
  {
    std::lock_guard lock(core.mu);
    if (!core.running) return;
    core.running = false;
    acceptor = std::move(core.acceptor);
    for (auto& [ptr, weak] : core.connections) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  if (core.io.stopped()) {
    // No I/O thread runs any more: nothing can race with us.
    ErrorCode ignored;
    acceptor->close(ignored);
    for (auto& s : sessions) s->close();
    return;
  }
  std::vector<std::future<void>> done;
  auto closeAcceptor = std::make_shared<std::promise<void>>();
  done.push_back(closeAcceptor->get_future());
  asio::post(core.strand, [acceptor, closeAcceptor] {
    ErrorCode ignored;
    acceptor->close(ignored);
    closeAcceptor->set_value();
  });
  for (auto& s : sessions) {
    auto closed = std::make_shared<std::promise<void>>();
    done.push_back(closed->get_future());
    asio::post(s->executor(), [s, closed] {
      s->close();
      closed->set_value();
    });
  }
  if (core.io.inIoThread()) return;  // contract violation: do not deadlock waiting for ourselves
  for (auto& f : done) f.wait_for(std::chrono::seconds(10));
}

bool Server::running() const {
  std::lock_guard lock(state_->mu);
  return state_->running;
}

std::size_t Server::openConnections() const {
  std::lock_guard lock(state_->mu);
  return state_->connections.size();
}

std::uint16_t Server::port() const {
  std::lock_guard lock(state_->mu);
  return state_->port;
}

std::string Server::url() const {
  std::lock_guard lock(state_->mu);
  std::string host = state_->options.address;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(state_->options.tls ? "https://" : "http://") + host + ":" +
         std::to_string(state_->port);
}

}  // namespace rio::http
