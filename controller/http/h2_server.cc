// HTTP/2 for http::Server (RFC 9113) on nghttp2: a TLS connection whose ALPN chose "h2" carries
// many requests at once, each a stream with its own Exchange. nghttp2 does the framing, HPACK,
// flow control and the protocol's checks; this file moves bytes between it and the socket and
// maps streams to the Exchange contract of server.h.
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "controller/http/h2_fields.h"
#include "controller/http/server_core.h"

namespace rio::http::detail {

namespace {

using namespace rio::net;  // NOLINT(google-build-using-namespace): Asio aliases of asio_stream.h

// Flow-control windows we grant the client for request bodies: one stream may send up to 1 MiB
// before we read it, the connection 16 MiB (the defaults, 64 KiB, throttle large applies).
constexpr std::int32_t kStreamWindow = 1 << 20;
constexpr std::int32_t kConnectionWindow = 16 << 20;
// Output gathered from nghttp2 into one socket write.
constexpr std::size_t kWriteBatch = 64 * 1024;

class H2Connection;

// The handler's side of one stream: posts every call onto the connection's strand.
class H2Exchange final : public Exchange, public std::enable_shared_from_this<H2Exchange> {
 public:
  H2Exchange(std::shared_ptr<H2Connection> connection, std::int32_t id)
      : connection_(std::move(connection)), id_(id) {}
  ~H2Exchange() override;

  void respond(int status, Headers headers, std::string body) override;
  void startStream(int status, Headers headers) override;
  void write(std::string chunk) override;
  void finish() override;
  void abort() override;
  bool closed() const override { return closed_.load(); }
  void onClosed(std::function<void()> fn) override;

  void markClosed() { closed_ = true; }

 private:
  friend class H2Connection;
  std::shared_ptr<H2Connection> connection_;
  const std::int32_t id_;
  std::atomic<bool> started_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> closed_{false};
};

// One request and its answer.
struct H2Stream {
  // The request, as its frames arrive.
  std::string method;
  std::string path;
  std::string authority;
  Headers headers;
  std::size_t headerBytes = 0;
  bool headersTooLarge = false;
  std::string body;
  bool bodyTooLarge = false;
  bool dispatched = false;

  // The answer.
  bool answered = false;          // response headers submitted
  bool streaming = false;         // startStream(): the body comes in write()s
  bool eof = false;               // nothing follows what is in `out`
  bool complete = false;          // the last byte of the answer went to nghttp2
  bool resetWhenDrained = false;  // send what is queued, then reset (the handler dropped it)
  std::deque<std::string> out;
  std::size_t outOffset = 0;  // into out.front()
  std::size_t queued = 0;     // bytes in `out`
  std::weak_ptr<H2Exchange> exchange;
  std::vector<std::function<void()>> onClosed;
};

std::string_view view(const uint8_t* data, std::size_t length) {
  return {reinterpret_cast<const char*>(data), length};
}

class H2Connection final : public Connection, public std::enable_shared_from_this<H2Connection> {
 public:
  H2Connection(std::shared_ptr<ServerCore> core, AnyStream stream, ConnectionInfo info)
      : core_(std::move(core)),
        stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        info_(std::move(info)) {}

  ~H2Connection() override {
    if (session_ != nullptr) nghttp2_session_del(session_);
    core_->remove(this);
  }

  tcp::socket::executor_type executor() override { return stream_.get_executor(); }

  /// Sends our SETTINGS and starts reading the client's preface.
  void start() {
    if (!createSession()) {
      log::root().warn("HTTP/2 session setup failed", {{"remote", info_.remote}});
      close();
      return;
    }
    arm(core_->options.readTimeout);  // the client's preface and first request
    read();
    flush();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    stream_.close();
    auto streams = std::move(streams_);
    streams_.clear();
    core_->remove(this);
    for (auto& [id, st] : streams) endStream(st);
  }

  // The Exchange operations, posted onto the strand by H2Exchange.
  void exRespond(std::int32_t id, int status, Headers headers, std::string body) {
    H2Stream* st = find(id);
    if (st == nullptr || st->answered) return;
    const bool bodyless = status < 200 || status == 204 || status == 304;
    std::string length = std::to_string(body.size());
    bool withBody = !bodyless && st->method != "HEAD";
    if (withBody && !body.empty()) {
      st->queued = body.size();
      st->out.push_back(std::move(body));
    }
    st->eof = true;
    submitResponse(id, *st, status, headers, bodyless ? nullptr : &length, withBody);
  }

  void exStartStream(std::int32_t id, int status, Headers headers) {
    H2Stream* st = find(id);
    if (st == nullptr || st->answered) return;
    st->streaming = true;
    submitResponse(id, *st, status, headers, nullptr, st->method != "HEAD");
  }

  void exWrite(std::int32_t id, std::string chunk) {
    H2Stream* st = find(id);
    if (st == nullptr || !st->streaming || st->eof || chunk.empty() || st->method == "HEAD") {
      return;
    }
    st->queued += chunk.size();
    st->out.push_back(std::move(chunk));
    if (st->queued > kMaxQueuedBytes) {
      log::root().warn("resetting a stream whose client does not read", {{"remote", info_.remote}});
      reset(id);
      return;
    }
    resume(id);
  }

  void exFinish(std::int32_t id) {
    H2Stream* st = find(id);
    if (st == nullptr || !st->streaming || st->eof) return;
    st->eof = true;
    resume(id);
  }

  // As on HTTP/1.1 the connection drops (a lost answer, for fault injection): every stream on it
  // ends with it, and the client may send the request again on a new one.
  void exAbort(std::int32_t id) {
    if (find(id) != nullptr) close();
  }

  void exOnClosed(std::int32_t id, const H2Exchange& exchange, std::function<void()> fn) {
    if (H2Stream* st = find(id)) {
      st->onClosed.push_back(std::move(fn));
    } else if (exchange.closed()) {
      fn();  // it broke before the callback got here
    }
  }

  // The handler dropped its exchange without finishing it.
  void exDropped(std::int32_t id) {
    H2Stream* st = find(id);
    if (st == nullptr) return;
    if (!st->answered) {
      exRespond(id, 500, {{"Content-Type", "text/plain"}},
                "the request handler dropped the request\n");
    } else if (!st->eof) {
      // Nobody can finish this stream: send what was written, then reset it, so the client sees
      // a broken body (an error, as it should).
      st->resetWhenDrained = true;
      resume(id);
    }
  }

 private:
  bool createSession() {
    nghttp2_session_callbacks* callbacks = nullptr;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks,
                                                            &H2Connection::onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &H2Connection::onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &H2Connection::onData);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &H2Connection::onFrame);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &H2Connection::onStreamClose);
    int rv = nghttp2_session_server_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    if (rv != 0) return false;
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, core_->options.maxConcurrentStreams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kStreamWindow)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(kHeaderLimit)},
    };
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0) {
      return false;
    }
    return nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                                 kConnectionWindow) == 0;
  }

  H2Stream* find(std::int32_t id) {
    if (closed_) return nullptr;
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : &it->second;
  }

  void arm(std::chrono::steady_clock::duration d) {
    timer_.arm(d, [self = shared_from_this()] {
      // Idle (or no preface in time): say goodbye properly, then close once that is out.
      if (self->closed_) return;
      nghttp2_session_terminate_session(self->session_, NGHTTP2_NO_ERROR);
      self->flush();
    });
  }

  // --- reading --------------------------------------------------------------------------------

  void read() {
    stream_.async_read_some(
        asio::buffer(readBuffer_),
        [self = shared_from_this()](ErrorCode ec, std::size_t n) { self->onRead(ec, n); });
  }

  void onRead(ErrorCode ec, std::size_t n) {
    if (closed_) return;
    if (ec) {
      close();
      return;
    }
    auto rv = nghttp2_session_mem_recv(session_, readBuffer_.data(), n);
    if (rv < 0) {
      // A protocol violation: nghttp2 has queued a GOAWAY where it could; send it and stop.
      log::root().debug(
          "HTTP/2 protocol error",
          {{"remote", info_.remote}, {"error", nghttp2_strerror(static_cast<int>(rv))}});
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
      flush();
      return;
    }
    flush();
    if (!closed_) read();
  }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      self->streams_.try_emplace(frame->hd.stream_id);
      self->timer_.cancel();
    }
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;  // trailers: not used by any Kubernetes client
    }
    auto it = self->streams_.find(frame->hd.stream_id);
    if (it == self->streams_.end()) return 0;
    H2Stream& st = it->second;
    st.headerBytes += namelen + valuelen + 32;  // RFC 9113 §6.5.2's accounting
    if (st.headerBytes > kHeaderLimit) {
      st.headersTooLarge = true;
      return 0;
    }
    auto n = view(name, namelen);
    auto v = view(value, valuelen);
    if (n == ":method") {
      st.method = v;
    } else if (n == ":path") {
      st.path = v;
    } else if (n == ":authority") {
      st.authority = v;
    } else if (!n.empty() && n.front() != ':') {
      st.headers.push_back({std::string(n), std::string(v)});
    }
    return 0;
  }

  static int onData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                    void* user) {
    auto* self = static_cast<H2Connection*>(user);
    auto it = self->streams_.find(id);
    if (it == self->streams_.end()) return 0;
    H2Stream& st = it->second;
    if (st.bodyTooLarge) return 0;
    if (st.body.size() + len > self->core_->options.maxBodyBytes) {
      st.bodyTooLarge = true;
      std::string().swap(st.body);
      return 0;
    }
    st.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      self->dispatch(frame->hd.stream_id);
    }
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    auto it = self->streams_.find(id);
    if (it == self->streams_.end()) return 0;
    H2Stream st = std::move(it->second);
    self->streams_.erase(it);
    self->endStream(st);
    if (self->streams_.empty()) self->arm(self->core_->options.keepAliveTimeout);
    return 0;
  }

  // The stream is gone. When that was before its answer was complete (the client reset it, the
  // connection broke, abort()), its exchange is closed and its onClosed callbacks run.
  void endStream(H2Stream& st) {
    if (st.complete) return;
    if (auto ex = st.exchange.lock()) ex->markClosed();
    for (auto& fn : st.onClosed) {
      try {
        fn();
      } catch (...) {
      }
    }
  }

  void dispatch(std::int32_t id);

  // --- writing --------------------------------------------------------------------------------

  // Submits the response headers; the body (if any) comes from the stream's queue.
  // `contentLength` is set for complete answers.
  void submitResponse(std::int32_t id, H2Stream& st, int status, const Headers& headers,
                      const std::string* contentLength, bool withBody) {
    st.answered = true;
    h2::Fields fields;
    fields.reserve(headers.size() + 2);
    fields.emplace_back(":status", std::to_string(status));
    h2::appendHeaders(headers, fields);
    if (contentLength != nullptr) fields.emplace_back("content-length", *contentLength);
    std::vector<nghttp2_nv> nva = h2::nameValues(fields);

    nghttp2_data_provider provider{};
    provider.read_callback = &H2Connection::readBody;
    if (!withBody) {
      st.out.clear();
      st.queued = 0;
      st.eof = true;
      st.complete = true;
    }
    int rv = nghttp2_submit_response(session_, id, nva.data(), nva.size(),
                                     withBody ? &provider : nullptr);
    if (rv != 0) {
      log::root().debug("HTTP/2 response not sent",
                        {{"remote", info_.remote}, {"error", nghttp2_strerror(rv)}});
      reset(id);
      return;
    }
    flush();
  }

  // nghttp2 asks for the next piece of a stream's body.
  static ssize_t readBody(nghttp2_session*, int32_t id, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source*, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    auto it = self->streams_.find(id);
    if (it == self->streams_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    H2Stream& st = it->second;
    std::size_t n = 0;
    while (n < length && !st.out.empty()) {
      auto& front = st.out.front();
      std::size_t take = std::min(length - n, front.size() - st.outOffset);
      std::memcpy(buf + n, front.data() + st.outOffset, take);
      n += take;
      st.outOffset += take;
      if (st.outOffset == front.size()) {
        st.out.pop_front();
        st.outOffset = 0;
      }
    }
    st.queued -= n;
    if (st.out.empty() && st.eof) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      st.complete = true;
    } else if (n == 0) {
      // Nothing queued: resume() when the handler writes again, or (dropped) reset the stream.
      return st.resetWhenDrained ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : NGHTTP2_ERR_DEFERRED;
    }
    return static_cast<ssize_t>(n);
  }

  void resume(std::int32_t id) {
    // Fails harmlessly when the stream is not deferred (its data is already being sent).
    nghttp2_session_resume_data(session_, id);
    flush();
  }

  void reset(std::int32_t id) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
    flush();
  }

  // Hands what nghttp2 has to send to the socket, one write at a time.
  void flush() {
    if (closed_ || writing_) return;
    writeBuffer_.clear();
    while (writeBuffer_.size() < kWriteBatch) {
      const uint8_t* data = nullptr;
      auto n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        log::root().debug("HTTP/2 send failed", {{"remote", info_.remote},
                                                 {"error", nghttp2_strerror(static_cast<int>(n))}});
        close();
        return;
      }
      if (n == 0) break;
      writeBuffer_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (writeBuffer_.empty()) {
      if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
        close();  // GOAWAY exchanged and every stream done
      }
      return;
    }
    writing_ = true;
    asio::async_write(stream_, asio::buffer(writeBuffer_),
                      [self = shared_from_this()](ErrorCode ec, std::size_t) {
                        self->writing_ = false;
                        if (self->closed_) return;
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->flush();
                      });
  }

  friend class H2Exchange;

  std::shared_ptr<ServerCore> core_;
  AnyStream stream_;
  DeadlineTimer timer_;
  const ConnectionInfo info_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<std::int32_t, H2Stream> streams_;
  std::array<uint8_t, 16 * 1024> readBuffer_{};
  std::string writeBuffer_;
  bool writing_ = false;
  bool closed_ = false;
};

void H2Connection::dispatch(std::int32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.dispatched) return;
  H2Stream& st = it->second;
  st.dispatched = true;
  auto exchange = std::make_shared<H2Exchange>(shared_from_this(), id);
  st.exchange = exchange;
  if (st.headersTooLarge) {
    exchange->respond(431, {{"Content-Type", "text/plain"}}, "request header fields too large\n");
    return;
  }

  ServerRequest req;
  req.method = st.method;  // the stream keeps it: a HEAD answer has no body
  req.target = std::move(st.path);
  auto target = parseRequestTarget(req.target);
  req.path = std::move(target.path);
  req.query = std::move(target.query);
  req.headers = std::move(st.headers);
  if (!st.authority.empty() && !findHeader(req.headers, "host")) {
    req.headers.push_back({"host", std::move(st.authority)});
  }
  req.body = std::move(st.body);
  req.bodyTooLarge = st.bodyTooLarge;
  req.peer = info_.peer;
  req.remoteAddress = info_.remote;
  req.serverName = info_.serverName;
  req.tlsResumed = info_.tlsResumed;
  req.protocol = "HTTP/2.0";
  callHandler(*core_, std::move(req), exchange);
}

H2Exchange::~H2Exchange() {
  if (!finished_.load()) {
    asio::post(connection_->executor(), [c = connection_, id = id_] { c->exDropped(id); });
  }
}

void H2Exchange::respond(int status, Headers headers, std::string body) {
  if (started_.exchange(true)) return;
  finished_ = true;
  asio::post(connection_->executor(), [c = connection_, id = id_, status, h = std::move(headers),
                                       b = std::move(body)]() mutable {
    c->exRespond(id, status, std::move(h), std::move(b));
  });
}

void H2Exchange::startStream(int status, Headers headers) {
  if (started_.exchange(true)) return;
  asio::post(connection_->executor(),
             [c = connection_, id = id_, status, h = std::move(headers)]() mutable {
               c->exStartStream(id, status, std::move(h));
             });
}

void H2Exchange::write(std::string chunk) {
  if (closed_.load()) return;
  asio::post(connection_->executor(), [c = connection_, id = id_, s = std::move(chunk)]() mutable {
    c->exWrite(id, std::move(s));
  });
}

void H2Exchange::finish() {
  if (finished_.exchange(true)) return;
  asio::post(connection_->executor(), [c = connection_, id = id_] { c->exFinish(id); });
}

void H2Exchange::abort() {
  finished_ = true;
  closed_ = true;
  asio::post(connection_->executor(), [c = connection_, id = id_] { c->exAbort(id); });
}

void H2Exchange::onClosed(std::function<void()> fn) {
  if (!fn) return;
  if (closed_.load()) {
    asio::post(connection_->executor(), std::move(fn));
    return;
  }
  asio::post(connection_->executor(), [self = shared_from_this(), f = std::move(fn)]() mutable {
    self->connection_->exOnClosed(self->id_, *self, std::move(f));
  });
}

}  // namespace

void serveHttp2(std::shared_ptr<ServerCore> core, Connection* previous, AnyStream stream,
                ConnectionInfo info) {
  auto connection = std::make_shared<H2Connection>(core, std::move(stream), std::move(info));
  if (!core->replace(previous, connection.get(), connection)) {
    connection->close();
    return;
  }
  connection->start();
}

}  // namespace rio::http::detail
