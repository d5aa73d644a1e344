// kube::Transport over HTTP/2: one multiplexed connection per transport, as client-go has.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "controller/core/io_runtime.h"
#include "controller/http/server.h"
#include "controller/kube/transport.h"
#include "test/support/eventually.h"
#include "test/support/raw_tcp_server.h"
#include "test/support/test_pki.h"

namespace http = rio::http;
namespace kube = rio::kube;
using rio::Error;
using rio::ErrorKind;
using rio::IoRuntime;
using rio::testing::eventually;
using rio::testing::RawConnection;
using rio::testing::RawTcpServer;
using rio::testing::testPki;
using namespace std::chrono_literals;

namespace {

// A TLS server (HTTP/2 unless told otherwise) that remembers the requests it saw. Without a handler
// it answers "ok <path>".
class H2Server {
 public:
  explicit H2Server(IoRuntime& io, http::Handler handler = {}, bool http2 = true,
                    std::chrono::seconds keepAliveTimeout = 120s) {
    http::ServerOptions options;
    options.keepAliveTimeout = keepAliveTimeout;
    options.tls = http::ServerTlsConfig{testPki().server.certPem, testPki().server.keyPem, {}};
    options.http2 = http2;
    server_ = std::make_unique<http::Server>(
        io, options, [this, handler](http::ServerRequest req, http::ExchangePtr ex) {
          {
            std::lock_guard lock(mu_);
            requests_.push_back(req);
          }
          if (handler) {
            handler(std::move(req), std::move(ex));
          } else {
            ex->respond(200, {{"Content-Type", "text/plain"}}, "ok " + req.path);
          }
        });
    REQUIRE(server_->start());
  }

  http::Server& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }
  std::vector<http::ServerRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::set<std::string> remotes() const {
    std::set<std::string> out;
    for (const auto& r : requests()) out.insert(r.remoteAddress);
    return out;
  }
  std::set<std::string> protocols() const {
    std::set<std::string> out;
    for (const auto& r : requests()) out.insert(r.protocol);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<http::ServerRequest> requests_;
  std::unique_ptr<http::Server> server_;
};

kube::TransportPtr transportTo(IoRuntime& io, std::uint16_t port,
                               kube::TransportOptions options = {}) {
  auto ep = kube::Endpoint::parse("https://127.0.0.1:" + std::to_string(port));
  REQUIRE(ep);
  kube::TlsConfig tls;
  tls.caPem = testPki().ca.certPem;
  auto t = kube::makeTransport(io, *ep, tls, options);
  REQUIRE(t);
  return *t;
}

http::Request get(std::string target, std::chrono::milliseconds timeout = 10s) {
  http::Request r;
  r.target = std::move(target);
  r.timeout = timeout;
  return r;
}

// Collects what a stream delivers and checks the callback order contract.
struct StreamRecorder {
  std::mutex mu;
  int status = 0;
  int headerCalls = 0;
  int dataCallsBeforeHeaders = 0;
  int closeCalls = 0;
  std::string data;
  std::optional<Error> error;
  std::promise<void> closed;

  kube::StreamCallbacks callbacks() {
    kube::StreamCallbacks cb;
    cb.onHeaders = [this](int s, const http::Headers&) {
      std::lock_guard lock(mu);
      status = s;
      ++headerCalls;
    };
    cb.onData = [this](std::string_view d) {
      std::lock_guard lock(mu);
      if (headerCalls == 0) ++dataCallsBeforeHeaders;
      data.append(d);
    };
    cb.onClose = [this](const std::optional<Error>& e) {
      std::lock_guard lock(mu);
      error = e;
      if (++closeCalls == 1) closed.set_value();
    };
    return cb;
  }
  bool waitClosed(std::chrono::milliseconds limit = 10s) {
    return closed.get_future().wait_for(limit) == std::future_status::ready;
  }
  std::string received() {
    std::lock_guard lock(mu);
    return data;
  }
  int closes() {
    std::lock_guard lock(mu);
    return closeCalls;
  }
};

// Cancels a stream and waits for its onClose, so the recorder may go out of scope.
void cancelAndWait(const kube::StreamPtr& stream, StreamRecorder& rec) {
  stream->cancel();
  CHECK(eventually([&] { return rec.closes() == 1; }));
}

// Streams the server keeps open; touched from I/O threads.
struct OpenExchanges {
  std::mutex mu;
  std::vector<http::ExchangePtr> list;
  void add(http::ExchangePtr ex) {
    std::lock_guard lock(mu);
    list.push_back(std::move(ex));
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return list.size();
  }
  std::vector<http::ExchangePtr> all() {
    std::lock_guard lock(mu);
    return list;
  }
};

// A server handler: /watch starts a stream with one "event\n" and keeps it open in `open`;
// anything else is answered 200 with `answer`.
http::Handler watchesAndAnswers(OpenExchanges& open, std::string answer) {
  return [&open, answer](http::ServerRequest req, http::ExchangePtr ex) {
    if (req.path == "/watch") {
      ex->startStream(200, {});
      ex->write("event\n");
      open.add(std::move(ex));
    } else {
      ex->respond(200, {}, answer);
    }
  };
}

// A TCP proxy in front of a server that can stop forwarding (both ways) while keeping the
// connections open: a blackholed network path.
class BlackholeProxy {
 public:
  explicit BlackholeProxy(std::uint16_t target)
      : raw_([this, target](RawConnection& client) { pipe(client, target); }) {}
  std::uint16_t port() const { return raw_.port(); }
  void stopForwarding() { forwarding_ = false; }

 private:
  void pipe(RawConnection& client, std::uint16_t target) {
    auto upstream = RawConnection::connect(target);
    if (!upstream) return;
    pollfd fds[2] = {{client.fd(), POLLIN, 0}, {upstream->fd(), POLLIN, 0}};
    char buf[16 * 1024];
    for (;;) {
      if (::poll(fds, 2, 50) < 0) return;
      for (int i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        if (!forwarding_) continue;  // swallowed
        int to = i == 0 ? upstream->fd() : client.fd();
        for (ssize_t off = 0; off < n;) {
          ssize_t w = ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
          if (w <= 0) return;
          off += w;
        }
      }
    }
  }

  std::atomic<bool> forwarding_{true};
  RawTcpServer raw_;
};

}  // namespace

TEST_CASE("Transport over HTTP/2: 20 concurrent round trips and 10 open watches use one connection",
          "[kube][transport][h2]") {
  IoRuntime io(2);
  OpenExchanges watches;
  H2Server server(io, [&](http::ServerRequest req, http::ExchangePtr ex) {
    if (req.path == "/watch") {
      ex->startStream(200, {{"Content-Type", "application/json"}});
      ex->write("{\"type\":\"ADDED\"}\n");
      watches.add(std::move(ex));
    } else {
      ex->respond(200, {}, "ok " + req.path);
    }
  });
  auto t = transportTo(io, server.port());

  // Everything starts at once, before any connection exists: callers wait for the one being dialled
  // instead of dialling their own.
  std::vector<StreamRecorder> recs(10);
  std::vector<kube::StreamPtr> streams;
  for (auto& rec : recs) streams.push_back(t->stream(get("/watch"), rec.callbacks()));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      std::string path = "/r" + std::to_string(i);
      auto res = t->roundTrip(get(path));
      if (res && res->status == 200 && res->body == "ok " + path) ++ok;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 20);
  REQUIRE(eventually([&] { return watches.size() == 10; }));
  for (auto& rec : recs) {
    CHECK(eventually([&] { return rec.received() == "{\"type\":\"ADDED\"}\n"; }));
    CHECK(rec.closes() == 0);
  }

  CHECK(server.server().openConnections() == 1);
  CHECK(server.remotes().size() == 1);
  CHECK(server.protocols() == std::set<std::string>{"HTTP/2.0"});
  for (std::size_t i = 0; i < streams.size(); ++i) cancelAndWait(streams[i], recs[i]);
}

TEST_CASE("Transport over HTTP/2: bodies larger than the flow-control windows arrive whole",
          "[kube][transport][h2]") {
  IoRuntime io(2);
  std::string big(20 * 1024 * 1024,
                  '\0');  // above the 4 MiB stream and 16 MiB connection windows
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  H2Server server(io, [&big](http::ServerRequest req, http::ExchangePtr ex) {
    if (req.path == "/upload") {
      ex->respond(200, {},
                  std::to_string(req.body.size()) + ":" +
                      std::to_string(std::hash<std::string>()(req.body)));
    } else {
      ex->respond(200, {{"Content-Type", "application/json"}}, big);
    }
  });
  auto t = transportTo(io, server.port());

  auto res = t->roundTrip(get("/big", 30s));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body.size() == big.size());
  CHECK(res->body == big);

  // A request body larger than the server's initial window is sent whole too.
  http::Request upload = get("/upload");
  upload.method = "POST";
  upload.body = big.substr(0, 2 * 1024 * 1024);
  upload.headers = {{"Content-Type", "application/json"}};
  auto sent = t->roundTrip(upload);
  REQUIRE(sent);
  CHECK(sent->body == std::to_string(upload.body.size()) + ":" +
                          std::to_string(std::hash<std::string>()(upload.body)));

  // maxResponseBytes still holds over HTTP/2.
  kube::TransportOptions small;
  small.maxResponseBytes = 1024 * 1024;
  auto limited = transportTo(io, server.port(), small)->roundTrip(get("/big", 30s));
  REQUIRE_FALSE(limited);
  CHECK(limited.error().kind() == ErrorKind::kTransport);
  CHECK_THAT(limited.error().message(), Catch::Contains("exceeds"));
}

TEST_CASE("Transport over HTTP/2: a stream's chunks arrive complete and in order",
          "[kube][transport][h2]") {
  IoRuntime io(2);
  std::string expected;
  for (int i = 0; i < 2000; ++i) expected += "{\"n\":" + std::to_string(i) + "}\n";
  H2Server server(io, [](http::ServerRequest, http::ExchangePtr ex) {
    ex->startStream(200, {{"Content-Type", "application/json"}});
    std::thread([ex] {
      for (int i = 0; i < 2000; ++i) ex->write("{\"n\":" + std::to_string(i) + "}\n");
      ex->finish();
    }).detach();
  });
  auto t = transportTo(io, server.port());
  StreamRecorder rec;
  auto stream = t->stream(get("/watch"), rec.callbacks());
  REQUIRE(rec.waitClosed());
  CHECK(rec.status == 200);
  CHECK(rec.headerCalls == 1);
  CHECK(rec.dataCallsBeforeHeaders == 0);
  CHECK(rec.closeCalls == 1);
  CHECK_FALSE(rec.error);
  CHECK(rec.received() == expected);
  CHECK(server.protocols() == std::set<std::string>{"HTTP/2.0"});
}

TEST_CASE(
    "Transport over HTTP/2: cancel() ends one stream with kCancelled once, the server sees it "
    "closed, and the connection carries on",
    "[kube][transport][h2]") {
  IoRuntime io(2);
  OpenExchanges open;
  H2Server server(io, watchesAndAnswers(open, "ok"));
  auto t = transportTo(io, server.port());
  StreamRecorder cancelled, kept;
  auto s1 = t->stream(get("/watch"), cancelled.callbacks());
  auto s2 = t->stream(get("/watch"), kept.callbacks());
  REQUIRE(eventually([&] { return open.size() == 2; }));
  REQUIRE(eventually([&] { return cancelled.received() == "event\n"; }));

  s1->cancel();
  REQUIRE(cancelled.waitClosed());
  REQUIRE(cancelled.error);
  CHECK(cancelled.error->kind() == ErrorKind::kCancelled);
  s1->cancel();  // idempotent
  // The server saw exactly one of its two streams end.
  CHECK(eventually([&] {
    auto all = open.all();
    return static_cast<int>(all[0]->closed()) + static_cast<int>(all[1]->closed()) == 1;
  }));
  CHECK(cancelled.closes() == 1);

  // The other stream and the connection live on.
  REQUIRE(t->roundTrip(get("/after")));
  for (auto& ex : open.all()) ex->write("more\n");
  CHECK(eventually([&] { return kept.received() == "event\nmore\n"; }));
  CHECK(kept.closes() == 0);
  CHECK(server.server().openConnections() == 1);
  cancelAndWait(s2, kept);
}

TEST_CASE("Transport over HTTP/2: a server stop mid-stream ends every stream with kTransport",
          "[kube][transport][h2]") {
  IoRuntime io(2);
  OpenExchanges open;
  H2Server server(io, watchesAndAnswers(open, "up"));
  auto t = transportTo(io, server.port());
  std::vector<StreamRecorder> recs(5);
  std::vector<kube::StreamPtr> streams;
  for (auto& rec : recs) streams.push_back(t->stream(get("/watch"), rec.callbacks()));
  for (auto& rec : recs) REQUIRE(eventually([&] { return rec.received() == "event\n"; }));

  server.server().stop();
  for (auto& rec : recs) {
    REQUIRE(rec.waitClosed());
    REQUIRE(rec.error);
    CHECK(rec.error->kind() == ErrorKind::kTransport);
    CHECK(rec.closes() == 1);
  }
  // The next request dials a new connection.
  REQUIRE(server.server().start());
  auto up = t->roundTrip(get("/again"));
  REQUIRE(up);
  CHECK(up->body == "up");
}

TEST_CASE("Transport over HTTP/2: a server without HTTP/2 is spoken to over HTTP/1.1",
          "[kube][transport][h2]") {
  IoRuntime io(2);
  H2Server server(io, {}, /*http2=*/false);
  auto t = transportTo(io, server.port());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (auto r = t->roundTrip(get("/v")); r && r->body == "ok /v") ++ok;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 4);
  CHECK(server.protocols() == std::set<std::string>{"HTTP/1.1"});
  // HTTP/1.1 keeps its pool: sequential requests reuse one idle connection.
  const auto before = server.remotes().size();
  REQUIRE(t->roundTrip(get("/a")));
  REQUIRE(t->roundTrip(get("/b")));
  CHECK(server.remotes().size() == before);
}

TEST_CASE("Transport over HTTP/2: a client with http2=false uses HTTP/1.1 against an h2 server",
          "[kube][transport][h2]") {
  IoRuntime io(2);
  OpenExchanges open;
  H2Server server(io, watchesAndAnswers(open, "ok"));
  kube::TransportOptions options;
  options.http2 = false;
  auto t = transportTo(io, server.port(), options);
  StreamRecorder a, b;
  auto sa = t->stream(get("/watch"), a.callbacks());
  auto sb = t->stream(get("/watch"), b.callbacks());
  REQUIRE(eventually([&] { return a.received() == "event\n" && b.received() == "event\n"; }));
  REQUIRE(t->roundTrip(get("/x")));
  CHECK(server.protocols() == std::set<std::string>{"HTTP/1.1"});
  // One connection per watch, as HTTP/1.1 needs, plus one for the round trip.
  CHECK(server.server().openConnections() == 3);
  cancelAndWait(sa, a);
  cancelAndWait(sb, b);
}

TEST_CASE("Transport over HTTP/2: idleTimeout fires per stream, not per connection",
          "[kube][transport][h2]") {
  IoRuntime io(2);
  OpenExchanges open;
  std::atomic<bool> stop{false};
  std::thread ticker;
  H2Server server(io, [&](http::ServerRequest req, http::ExchangePtr ex) {
    ex->startStream(200, {});
    ex->write("hello\n");
    if (req.path == "/busy") {
      ticker = std::thread([ex, &stop] {
        while (!stop) {
          ex->write("tick\n");
          std::this_thread::sleep_for(20ms);
        }
      });
    }
    open.add(std::move(ex));
  });
  auto t = transportTo(io, server.port());
  StreamRecorder busy, silent;
  http::Request busyReq = get("/busy");
  busyReq.idleTimeout = 300ms;
  auto s1 = t->stream(busyReq, busy.callbacks());
  REQUIRE(eventually([&] { return open.size() == 1; }));
  http::Request silentReq = get("/silent");
  silentReq.idleTimeout = 300ms;
  auto s2 = t->stream(silentReq, silent.callbacks());

  REQUIRE(silent.waitClosed());
  REQUIRE(silent.error);
  CHECK(silent.error->kind() == ErrorKind::kTimeout);
  CHECK(silent.received() == "hello\n");
  // The busy stream on the same connection keeps receiving.
  const auto size = busy.received().size();
  CHECK(eventually([&] { return busy.received().size() > size + 20; }));
  CHECK(busy.closes() == 0);
  CHECK(server.server().openConnections() == 1);
  stop = true;
  ticker.join();
  cancelAndWait(s1, busy);
}

TEST_CASE(
    "Transport over HTTP/2: a connection whose server stops answering is closed by the PING "
    "liveness check",
    "[kube][transport][h2]") {
  IoRuntime io(2);
  OpenExchanges open;
  H2Server server(io, [&](http::ServerRequest req, http::ExchangePtr ex) {
    ex->startStream(200, {});
    ex->write("event\n");
    open.add(std::move(ex));
  });
  BlackholeProxy proxy(server.port());
  kube::TransportOptions options;
  options.http2ReadIdleTimeout = 300ms;
  options.http2PingTimeout = 300ms;
  auto t = transportTo(io, proxy.port(), options);
  StreamRecorder rec;
  auto stream = t->stream(get("/watch"), rec.callbacks());  // no idleTimeout of its own
  REQUIRE(eventually([&] { return rec.received() == "event\n"; }));

  // While the path works, the PINGs are answered and the stream stays open.
  std::this_thread::sleep_for(1s);
  CHECK(rec.closes() == 0);

  proxy.stopForwarding();
  REQUIRE(rec.waitClosed(5s));
  REQUIRE(rec.error);
  CHECK(rec.error->kind() == ErrorKind::kTransport);
  CHECK_THAT(rec.error->message(), Catch::Contains("PING"));
}

TEST_CASE("Transport over HTTP/2: closeIdleConnections closes the idle connection only",
          "[kube][transport][h2]") {
  IoRuntime io(2);
  OpenExchanges open;
  H2Server server(io, watchesAndAnswers(open, "ok"));
  auto t = transportTo(io, server.port());
  StreamRecorder rec;
  auto stream = t->stream(get("/watch"), rec.callbacks());
  REQUIRE(eventually([&] { return rec.received() == "event\n"; }));
  t->closeIdleConnections();  // a stream is open: the connection stays
  REQUIRE(t->roundTrip(get("/a")));
  CHECK(server.remotes().size() == 1);

  stream->cancel();
  REQUIRE(rec.waitClosed());
  REQUIRE(eventually([&] { return open.all()[0]->closed(); }));
  t->closeIdleConnections();
  CHECK(eventually([&] { return server.server().openConnections() == 0; }));
  REQUIRE(t->roundTrip(get("/b")));
  CHECK(server.remotes().size() == 2);
}

TEST_CASE(
    "Transport over HTTP/2: after the server said GOAWAY to an idle connection the next request "
    "goes to a new one without an error",
    "[kube][transport][h2]") {
  IoRuntime io(2);
  H2Server server(io, {}, true, /*keepAliveTimeout=*/1s);
  auto t = transportTo(io, server.port());
  REQUIRE(t->roundTrip(get("/first")));
  // The server closes the idle connection with a GOAWAY.
  REQUIRE(eventually([&] { return server.server().openConnections() == 0; }));
  auto next = t->roundTrip(get("/next"));
  REQUIRE(next);
  CHECK(next->body == "ok /next");
  CHECK(server.remotes().size() == 2);
  CHECK(server.protocols() == std::set<std::string>{"HTTP/2.0"});
}

TEST_CASE(
    "Transport over HTTP/2: the connection closes after idleConnectionTimeout without streams, "
    "not while a watch is open",
    "[kube][transport][h2]") {
  IoRuntime io(2);
  OpenExchanges open;
  H2Server server(io, watchesAndAnswers(open, "ok"));
  kube::TransportOptions options;
  options.idleConnectionTimeout = 1s;
  auto t = transportTo(io, server.port(), options);
  StreamRecorder rec;
  auto stream = t->stream(get("/watch"), rec.callbacks());
  REQUIRE(eventually([&] { return rec.received() == "event\n"; }));
  std::this_thread::sleep_for(1500ms);
  CHECK(rec.closes() == 0);
  CHECK(server.server().openConnections() == 1);

  cancelAndWait(stream, rec);
  // No stream left: the client says GOAWAY and closes after the idle timeout.
  CHECK(eventually([&] { return server.server().openConnections() == 0; }, 5s));
  REQUIRE(t->roundTrip(get("/again")));
  CHECK(server.remotes().size() == 2);
}
