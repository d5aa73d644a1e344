#include "controller/kube/h2_connection.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "controller/http/h2_fields.h"

namespace rio::kube {

namespace {

using namespace rio::net;  // NOLINT(google-build-using-namespace): Asio aliases of asio_stream.h
using Clock = std::chrono::steady_clock;

constexpr std::int32_t kStreamWindow = 4 * 1024 * 1024;
constexpr std::int32_t kConnectionWindow = 16 * 1024 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kWriteBatch = 64 * 1024;

std::string describeMs(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

class H2ConnectionImpl final : public H2Connection,
                               public std::enable_shared_from_this<H2ConnectionImpl> {
 public:
  H2ConnectionImpl(AnyStream stream, H2Options options, std::string hostPort,
                   std::shared_ptr<const void> owner)
      : owner_(std::move(owner)),
        stream_(std::move(stream)),
        ex_(stream_.get_executor()),
        timer_(ex_),
        options_(options),
        hostPort_(std::move(hostPort)) {}

  ~H2ConnectionImpl() override {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }

  // Runs on ex_ (the caller's handshake completed there).
  bool init() {
    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) return false;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &onFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &onDataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &onStreamClose);
    nghttp2_option* opt = nullptr;
    nghttp2_option_new(&opt);
    nghttp2_option_set_max_send_header_block_length(opt, options_.maxHeaderBytes);
    int rv = nghttp2_session_client_new2(&session_, cbs, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) return false;
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kStreamWindow)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         static_cast<std::uint32_t>(options_.maxHeaderBytes)},
    };
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0)
      return false;
    if (nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow) !=
        0)
      return false;
    lastRecv_ = idleSince_ = Clock::now();
    readBuf_ = std::make_unique<char[]>(kReadChunk);
    read();
    flush();
    rearm();
    return true;
  }

  bool usable() const override { return usable_.load(); }
  AnyStream::executor_type executor() override { return ex_; }

  void submit(H2Request request, H2StreamSinkPtr sink) override {
    asio::post(ex_,
               [self = shared_from_this(), r = std::move(request), s = std::move(sink)]() mutable {
                 self->doSubmit(std::move(r), std::move(s));
               });
  }

  void cancel(H2StreamSinkPtr sink) override {
    asio::post(ex_, [self = shared_from_this(), s = std::move(sink)] {
      if (self->dead_) return;
      for (auto& [id, st] : self->streams_) {
        if (st.sink == s) {
          nghttp2_submit_rst_stream(self->session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
          self->flush();
          return;
        }
      }
    });
  }

  void closeIfIdle() override {
    asio::post(ex_, [self = shared_from_this()] {
      if (!self->dead_ && self->streams_.empty()) self->goAway();
    });
  }

  void retire() override {
    usable_ = false;
    asio::post(ex_, [self = shared_from_this()] {
      self->retired_ = true;
      if (!self->dead_ && self->streams_.empty()) self->goAway();
    });
  }

 private:
  struct StreamState {
    H2StreamSinkPtr sink;
    std::string body;  // request body still to send from `sent`
    std::size_t sent = 0;
    int status = 0;
    http::Headers headers;
    std::size_t headerBytes = 0;
    bool gotResponse = false;  // a HEADERS frame of the answer began
    bool headersDelivered = false;
    bool remoteEnded = false;
  };

  static H2ConnectionImpl* self(void* user) { return static_cast<H2ConnectionImpl*>(user); }

  StreamState* find(std::int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : &it->second;
  }

  void doSubmit(H2Request request, H2StreamSinkPtr sink) {
    if (dead_ || goAwayReceived_ || retired_ || goingAway_) {
      sink->onClose(Error::transport("the HTTP/2 connection to " + hostPort_ + " is closing"),
                    true);
      return;
    }
    http::h2::Fields fields;
    fields.reserve(request.headers.size() + 5);
    fields.emplace_back(":method", request.method);
    fields.emplace_back(":scheme", "https");
    fields.emplace_back(":authority", request.authority);
    fields.emplace_back(":path", request.path.empty() ? "/" : request.path);
    http::h2::appendHeaders(request.headers, fields);
    const bool hasBody = !request.body.empty();
    if (hasBody || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      fields.emplace_back("content-length", std::to_string(request.body.size()));
    }
    std::vector<nghttp2_nv> nva = http::h2::nameValues(fields);
    nghttp2_data_provider provider{};
    provider.read_callback = &readBody;
    // nghttp2 copies the header fields; the body is read from the stream's state as it is sent.
    std::int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                             hasBody ? &provider : nullptr, nullptr);
    if (id < 0) {
      // Stream ids ran out (or memory): this connection takes no more requests.
      usable_ = false;
      sink->onClose(Error::transport("cannot open an HTTP/2 stream to " + hostPort_ + ": " +
                                     nghttp2_strerror(id)),
                    true);
      if (streams_.empty()) goAway();
      return;
    }
    if (streams_.empty()) {
      // Liveness counts from when streams are open, not from the idle time before.
      lastRecv_ = Clock::now();
    }
    auto& st = streams_[id];
    st.sink = std::move(sink);
    st.body = std::move(request.body);
    if (streams_.size() == 1) rearm();
    flush();
  }

  static ssize_t readBody(nghttp2_session*, std::int32_t id, std::uint8_t* buf, std::size_t length,
                          std::uint32_t* flags, nghttp2_data_source*, void* user) {
    auto* st = self(user)->find(id);
    if (st == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    std::size_t n = std::min(length, st->body.size() - st->sent);
    std::memcpy(buf, st->body.data() + st->sent, n);
    st->sent += n;
    if (st->sent == st->body.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      std::string().swap(st->body);
      st->sent = 0;
    }
    return static_cast<ssize_t>(n);
  }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (auto* st = self(user)->find(frame->hd.stream_id)) st->gotResponse = true;
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                      std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                      std::uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_RESPONSE) return 0;
    auto* st = self(user)->find(frame->hd.stream_id);
    if (st == nullptr) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    st->headerBytes += namelen + valuelen;
    if (st->headerBytes > self(user)->options_.maxHeaderBytes) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
    }
    if (n == ":status") {
      int status = 0;
      for (char c : v) status = status * 10 + (c - '0');
      st->status = status;
    } else if (!n.empty() && n.front() != ':') {
      st->headers.push_back({std::string(n), std::string(v)});
    }
    return 0;
  }

  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* c = self(user);
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
      case NGHTTP2_DATA: {
        auto* st = c->find(frame->hd.stream_id);
        if (st == nullptr) return 0;
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_RESPONSE &&
            !st->headersDelivered) {
          if (st->status >= 100 && st->status < 200) {  // informational: the answer follows
            st->headers.clear();
            st->headerBytes = 0;
          } else {
            st->headersDelivered = true;
            st->sink->onHeaders(st->status, std::move(st->headers));
            st->headers.clear();
          }
        }
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) st->remoteEnded = true;
        break;
      }
      case NGHTTP2_PING:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) != 0 && c->pingSentAt_) {
          c->pingSentAt_.reset();
          c->rearm();
        }
        break;
      case NGHTTP2_GOAWAY:
        c->goAwayReceived_ = true;
        c->lastStreamId_ = frame->goaway.last_stream_id;
        c->usable_ = false;
        break;
      default:
        break;
    }
    return 0;
  }

  static int onDataChunk(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                         std::size_t len, void* user) {
    auto* st = self(user)->find(id);
    if (st == nullptr || !st->headersDelivered) return 0;
    st->sink->onData(std::string_view(reinterpret_cast<const char*>(data), len));
    return 0;
  }

  static int onStreamClose(nghttp2_session*, std::int32_t id, std::uint32_t code, void* user) {
    auto* c = self(user);
    auto it = c->streams_.find(id);
    if (it == c->streams_.end()) return 0;
    StreamState st = std::move(it->second);
    c->streams_.erase(it);
    if (c->streams_.empty()) {
      c->idleSince_ = Clock::now();
      c->pingSentAt_.reset();
    }
    if (st.remoteEnded && st.headersDelivered && code == NGHTTP2_NO_ERROR) {
      st.sink->onClose(std::nullopt, false);
    } else if (code == NGHTTP2_REFUSED_STREAM && !st.gotResponse) {
      st.sink->onClose(
          Error::transport("the server at " + c->hostPort_ + " refused the HTTP/2 stream"), true);
    } else {
      std::string why =
          code == NGHTTP2_NO_ERROR
              ? "ended the HTTP/2 stream without a complete response"
              : std::string("reset the HTTP/2 stream: ") + nghttp2_http2_strerror(code);
      st.sink->onClose(Error::transport("the server at " + c->hostPort_ + " " + why), false);
    }
    c->afterStreamClosed_ = true;
    return 0;
  }

  void read() {
    stream_.async_read_some(
        asio::buffer(readBuf_.get(), kReadChunk),
        [self = shared_from_this()](ErrorCode ec, std::size_t n) { self->onRead(ec, n); });
  }

  void onRead(ErrorCode ec, std::size_t n) {
    if (dead_) return;
    if (n > 0) {
      lastRecv_ = Clock::now();
      ssize_t rv =
          nghttp2_session_mem_recv(session_, reinterpret_cast<std::uint8_t*>(readBuf_.get()), n);
      if (rv < 0) {
        fail(Error::transport("HTTP/2 protocol error from " + hostPort_ + ": " +
                              nghttp2_strerror(static_cast<int>(rv))));
        return;
      }
      if (dead_) return;
    }
    if (ec) {
      fail(readFailure(ec));
      return;
    }
    flush();
    if (dead_) return;
    read();
  }

  Error readFailure(ErrorCode ec) {
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::connection_reset) {
      return Error::transport("the server at " + hostPort_ + " closed the HTTP/2 connection");
    }
    if (ec.category() == asio::error::get_ssl_category()) {
      return Error::tls("TLS error from " + hostPort_ + ": " + ec.message());
    }
    return Error::transport("the HTTP/2 connection to " + hostPort_ + " failed: " + ec.message());
  }

  // Writes what nghttp2 has to send, one async_write at a time. Streams that closed since the
  // last call (received or sent RST_STREAM, END_STREAM) move the timer from liveness to idle,
  // and a retired or GOAWAY'd connection ends with its last stream.
  void flush() {
    if (dead_ || writing_) return;
    out_.clear();
    for (;;) {
      while (out_.size() < kWriteBatch) {
        const std::uint8_t* data = nullptr;
        ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) {
          fail(Error::transport("HTTP/2 error towards " + hostPort_ + ": " +
                                nghttp2_strerror(static_cast<int>(n))));
          return;
        }
        if (n == 0) break;
        out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      }
      if (!afterStreamClosed_) break;
      afterStreamClosed_ = false;
      if (!streams_.empty()) continue;
      if ((retired_ || goAwayReceived_) && !goingAway_) {
        startGoAway();  // its GOAWAY frame goes out with this batch
      } else {
        rearm();
      }
    }
    if (out_.empty()) {
      if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
        fail(Error::transport("the HTTP/2 connection to " + hostPort_ + " closed"));
      }
      return;
    }
    writing_ = true;
    asio::async_write(
        stream_, asio::buffer(out_), [self = shared_from_this()](ErrorCode ec, std::size_t) {
          self->writing_ = false;
          if (self->dead_) return;
          if (ec) {
            self->fail(
                Error::transport("cannot write to " + self->hostPort_ + ": " + ec.message()));
            return;
          }
          self->flush();
        });
  }

  // Graceful end: GOAWAY, then the socket closes once it is written (flush() sees that nghttp2
  // wants neither to read nor to write).
  void goAway() {
    startGoAway();
    flush();
  }

  void startGoAway() {
    usable_ = false;
    if (dead_ || goingAway_) return;
    goingAway_ = true;
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
  }

  // The connection is gone: every open stream ends with `error`.
  void fail(Error error) {
    if (dead_) return;
    dead_ = true;
    usable_ = false;
    timer_.cancel();
    stream_.close();
    auto streams = std::move(streams_);
    streams_.clear();
    for (auto& [id, st] : streams) {
      bool unprocessed = !st.gotResponse && (!goAwayReceived_ || id > lastStreamId_);
      st.sink->onClose(error, unprocessed);
    }
  }

  // One timer: while streams are open it watches liveness (PING after readIdleTimeout of silence,
  // then pingTimeout for the answer); without streams it closes the connection after idleTimeout.
  void rearm() {
    if (dead_) return;
    std::optional<Clock::time_point> due;
    if (streams_.empty()) {
      if (options_.idleTimeout.count() > 0) due = idleSince_ + options_.idleTimeout;
    } else if (pingSentAt_) {
      if (options_.pingTimeout.count() > 0) due = *pingSentAt_ + options_.pingTimeout;
    } else if (options_.readIdleTimeout.count() > 0) {
      due = lastRecv_ + options_.readIdleTimeout;
    }
    if (!due) {
      timer_.cancel();
      return;
    }
    auto wait = std::max<Clock::duration>(*due - Clock::now(), Clock::duration::zero());
    timer_.arm(wait, [self = shared_from_this()] { self->onTimer(); });
  }

  void onTimer() {
    if (dead_) return;
    auto now = Clock::now();
    if (streams_.empty()) {
      if (now - idleSince_ >= options_.idleTimeout) {
        goAway();
        return;
      }
    } else if (pingSentAt_) {
      if (now - *pingSentAt_ >= options_.pingTimeout) {
        fail(Error::transport("connection lost: no answer to HTTP/2 PING from " + hostPort_ +
                              " within " + describeMs(options_.pingTimeout)));
        return;
      }
    } else if (now - lastRecv_ >= options_.readIdleTimeout) {
      nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
      pingSentAt_ = now;
      flush();
    }
    rearm();
  }

  std::shared_ptr<const void> owner_;  // outlives stream_ (declared first)
  AnyStream stream_;
  AnyStream::executor_type ex_;
  DeadlineTimer timer_;
  const H2Options options_;
  const std::string hostPort_;
  nghttp2_session* session_ = nullptr;
  std::unique_ptr<char[]> readBuf_;
  std::string out_;  // the batch being written (one async_write in flight)
  std::map<std::int32_t, StreamState> streams_;
  std::atomic<bool> usable_{true};
  bool dead_ = false;
  bool writing_ = false;
  bool retired_ = false;
  bool goAwayReceived_ = false;
  bool goingAway_ = false;  // we sent GOAWAY: no new streams
  bool afterStreamClosed_ = false;
  std::int32_t lastStreamId_ = 0;
  Clock::time_point lastRecv_;
  Clock::time_point idleSince_;
  std::optional<Clock::time_point> pingSentAt_;
};

}  // namespace

H2ConnectionPtr startH2Connection(net::AnyStream stream, H2Options options, std::string hostPort,
                                  std::shared_ptr<const void> owner) {
  auto conn = std::make_shared<H2ConnectionImpl>(std::move(stream), options, std::move(hostPort),
                                                 std::move(owner));
  if (!conn->init()) return nullptr;
  return conn;
}

}  // namespace rio::kube
