#include "controller/kube/transport.h"

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "controller/http/server.h"
#include "test/support/eventually.h"
#include "test/support/raw_tcp_server.h"
#include "test/support/test_pki.h"

namespace http = rio::http;
namespace kube = rio::kube;
namespace pki = rio::pki;
using rio::Error;
using rio::ErrorKind;
using rio::IoRuntime;
using rio::testing::eventually;
using rio::testing::RawConnection;
using rio::testing::RawTcpServer;
using rio::testing::testPki;
using namespace std::chrono_literals;

namespace {

// An HTTP(S) server that answers "ok <path>" and remembers what it saw.
class RecordingServer {
 public:
  RecordingServer(IoRuntime& io, std::optional<http::ServerTlsConfig> tls,
                  http::Handler handler = {}) {
    http::ServerOptions options;
    options.tls = std::move(tls);
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
    auto started = server_->start();
    REQUIRE(started);
  }

  http::Server& server() { return *server_; }
  std::string url(const std::string& host = "127.0.0.1") const {
    return std::string(server_->url().rfind("https", 0) == 0 ? "https://" : "http://") + host +
           ":" + std::to_string(server_->port());
  }
  std::vector<http::ServerRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t distinctConnections() const {
    std::set<std::string> remotes;
    for (const auto& r : requests()) remotes.insert(r.remoteAddress);
    return remotes.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<http::ServerRequest> requests_;
  std::unique_ptr<http::Server> server_;
};

http::ServerTlsConfig serverTls(const pki::KeyedCertificate& cert, std::string clientCa = {}) {
  return {cert.certPem, cert.keyPem, std::move(clientCa)};
}

kube::TlsConfig trusting(const pki::KeyedCertificate& ca) {
  kube::TlsConfig tls;
  tls.caPem = ca.certPem;
  return tls;
}

kube::TlsConfig withClientCertificate(kube::TlsConfig tls, const pki::KeyedCertificate& cert) {
  tls.clientCertPem = cert.certPem;
  tls.clientKeyPem = cert.keyPem;
  return tls;
}

kube::TransportPtr transport(IoRuntime& io, const std::string& url, kube::TlsConfig tls = {},
                             kube::TransportOptions options = {}) {
  auto ep = kube::Endpoint::parse(url);
  REQUIRE(ep);
  auto t = kube::makeTransport(io, *ep, std::move(tls), options);
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
  std::string data;
  int dataCallsBeforeHeaders = 0;
  int closeCalls = 0;
  std::optional<Error> error;
  std::promise<void> closed;
  std::promise<void> gotHeaders;

  kube::StreamCallbacks callbacks() {
    kube::StreamCallbacks cb;
    cb.onHeaders = [this](int s, const http::Headers&) {
      std::lock_guard lock(mu);
      status = s;
      if (++headerCalls == 1) gotHeaders.set_value();
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
  bool waitClosed() { return closed.get_future().wait_for(10s) == std::future_status::ready; }
  std::string received() {
    std::lock_guard lock(mu);
    return data;
  }
};

}  // namespace

TEST_CASE("Transport: an HTTPS round trip trusts the cluster's own CA", "[kube][transport]") {
  IoRuntime io(1);
  RecordingServer server(io, serverTls(testPki().server));
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto t = transport(io, server.url(host), trusting(testPki().ca));
    http::Request req = get("/version");
    req.headers = {{"Accept", "application/json"}};
    auto res = t->roundTrip(req);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "ok /version");
    CHECK(res->header("content-type") == "text/plain");
  }
}

TEST_CASE("Transport: SNI is sent for host names and never for IP literals", "[kube][transport]") {
  IoRuntime io(1);
  RecordingServer server(io, serverTls(testPki().server));
  REQUIRE(transport(io, server.url("localhost"), trusting(testPki().ca))->roundTrip(get("/a")));
  REQUIRE(transport(io, server.url("127.0.0.1"), trusting(testPki().ca))->roundTrip(get("/b")));
  // tls-server-name: connect to the IP, verify and announce the name.
  auto named = trusting(testPki().ca);
  named.serverName = "localhost";
  REQUIRE(transport(io, server.url("127.0.0.1"), named)->roundTrip(get("/c")));

  auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].serverName == "localhost");
  CHECK(seen[1].serverName.empty());
  CHECK(seen[2].serverName == "localhost");
}

TEST_CASE("Transport: sequential requests reuse one keep-alive connection", "[kube][transport]") {
  IoRuntime io(2);
  RecordingServer server(io, serverTls(testPki().server));
  auto t = transport(io, server.url(), trusting(testPki().ca));
  for (int i = 0; i < 5; ++i) {
    auto res = t->roundTrip(get("/r" + std::to_string(i)));
    REQUIRE(res);
    CHECK(res->body == "ok /r" + std::to_string(i));
  }
  CHECK(server.distinctConnections() == 1);
  CHECK(server.server().openConnections() == 1);

  t->closeIdleConnections();
  CHECK(eventually([&] { return server.server().openConnections() == 0; }));
  REQUIRE(t->roundTrip(get("/after-close")));
  CHECK(server.distinctConnections() == 2);
}

TEST_CASE(
    "Transport: shared transports of one server with the same settings are one connection pool, "
    "other settings get their own",
    "[kube][transport]") {
  IoRuntime io(2);
  const auto& p = testPki();
  RecordingServer server(io, serverTls(p.server, p.ca.certPem));
  auto shared = [&](const std::string& url, kube::TlsConfig tls,
                    kube::TransportOptions options = {}) {
    auto ep = kube::Endpoint::parse(url);
    REQUIRE(ep);
    auto t = kube::sharedTransport(io, *ep, std::move(tls), options);
    REQUIRE(t);
    return *t;
  };
  auto a = shared(server.url(), trusting(p.ca));
  auto b = shared(server.url(), trusting(p.ca));
  CHECK(a == b);
  REQUIRE(a->roundTrip(get("/a")));
  REQUIRE(b->roundTrip(get("/b")));
  CHECK(server.distinctConnections() == 1);  // b reused a's idle connection

  auto identity = shared(server.url(), withClientCertificate(trusting(p.ca), p.client));
  auto otherName = shared(server.url("localhost"), trusting(p.ca));
  auto named = trusting(p.ca);
  named.serverName = "localhost";
  auto otherSni = shared(server.url(), named);
  CHECK(identity != a);
  CHECK(otherName != a);
  CHECK(otherSni != a);
  CHECK(otherSni != otherName);
  kube::TransportOptions small;
  small.maxIdleConnections = 1;
  CHECK(shared(server.url(), trusting(p.ca), small) != a);
  REQUIRE(identity->roundTrip(get("/c")));
  CHECK(server.distinctConnections() == 2);
  auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  REQUIRE(seen[2].peer);
  CHECK(seen[2].peer->commonName == "alice");

  // Held weakly: once every holder let go, the next ask makes a new one (and the old closed its
  // idle connection).
  std::weak_ptr<kube::Transport> gone = a;
  a.reset();
  CHECK_FALSE(gone.expired());  // b still holds it
  b.reset();
  CHECK(gone.expired());
  auto again = shared(server.url(), trusting(p.ca));
  REQUIRE(again->roundTrip(get("/d")));
  CHECK(server.distinctConnections() == 3);
}

TEST_CASE("Transport: a pooled connection the server closed is replaced without an error",
          "[kube][transport]") {
  IoRuntime io(1);
  SECTION("the server closed it while it was idle") {
    RawTcpServer server([](RawConnection& c) {
      c.readRequest();
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      // ...and closes right away, without announcing it.
    });
    auto t = transport(io, server.url());
    REQUIRE(t->roundTrip(get("/1")));
    REQUIRE(eventually([&] { return server.connections() == 1; }));
    auto second = t->roundTrip(get("/2"));
    REQUIRE(second);
    CHECK(second->body == "ok");
    CHECK(server.connections() == 2);
  }
  SECTION("the server closed it on receiving the next request") {
    RawTcpServer server([](RawConnection& c) {
      c.readRequest();
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      c.readRequest();  // the second request on this connection is dropped unanswered
    });
    auto t = transport(io, server.url());
    REQUIRE(t->roundTrip(get("/1")));
    auto second = t->roundTrip(get("/2"));
    REQUIRE(second);
    CHECK(second->status == 200);
    CHECK(server.connections() == 2);
  }
}

TEST_CASE("Transport: the deadline fires against a server that accepts and never answers",
          "[kube][transport]") {
  IoRuntime io(1);
  RawTcpServer server([](RawConnection& c) {
    c.readRequest();
    c.waitForClose();
  });
  auto t = transport(io, server.url());
  http::Request req = get("/hang", 200ms);
  req.headers = {{"Authorization", "Bearer SECRET-TOKEN-123"}};
  auto res = t->roundTrip(req);
  REQUIRE_FALSE(res);
  CHECK(res.error().kind() == ErrorKind::kTimeout);
  CHECK(res.error().isRetryable());
  CHECK_THAT(res.error().message(), Catch::Contains("127.0.0.1:" + std::to_string(server.port())));
  CHECK_THAT(res.error().message(), !Catch::Contains("SECRET-TOKEN-123"));
}

TEST_CASE("Transport: the deadline also bounds the TLS handshake", "[kube][transport]") {
  IoRuntime io(1);
  RawTcpServer server([](RawConnection& c) { c.waitForClose(); });  // TCP accepts, TLS never starts
  auto t =
      transport(io, "https://127.0.0.1:" + std::to_string(server.port()), trusting(testPki().ca));
  auto res = t->roundTrip(get("/", 200ms));
  REQUIRE_FALSE(res);
  CHECK(res.error().kind() == ErrorKind::kTimeout);
  CHECK_THAT(res.error().message(), Catch::Contains("in the TLS handshake"));
}

TEST_CASE("Transport: a wrong CA, a wrong host name and an expired certificate are refused",
          "[kube][transport]") {
  IoRuntime io(1);
  const auto& p = testPki();
  struct Case {
    const char* what;
    pki::KeyedCertificate serving;
    kube::TlsConfig tls;
    const char* reason;
  };
  std::vector<Case> cases = {
      {"wrong CA", p.server, trusting(p.otherCa), "unable to get local issuer certificate"},
      {"wrong host", p.wrongHostServer, trusting(p.ca), "mismatch"},
      {"expired", p.expiredServer, trusting(p.ca), "expired"},
  };
  for (auto& c : cases) {
    INFO(c.what);
    RecordingServer server(io, serverTls(c.serving));
    http::Request req = get("/");
    req.headers = {{"Authorization", "Bearer SECRET-TOKEN-123"}};
    auto res = transport(io, server.url(), c.tls)->roundTrip(req);
    REQUIRE_FALSE(res);
    CHECK(res.error().kind() == ErrorKind::kTls);
    CHECK_FALSE(res.error().isRetryable());
    CHECK_THAT(res.error().message(), Catch::Contains("certificate verify failed"));
    CHECK_THAT(res.error().message(), Catch::Contains(c.reason));
    CHECK_THAT(res.error().message(),
               Catch::Contains("127.0.0.1:" + std::to_string(server.server().port())));
    CHECK_THAT(res.error().message(), !Catch::Contains("SECRET-TOKEN-123"));
    CHECK(server.requests().empty());

    // The same server is accepted when verification is switched off.
    kube::TlsConfig insecure;
    insecure.insecureSkipVerify = true;
    auto ok = transport(io, server.url(), insecure)->roundTrip(get("/insecure"));
    REQUIRE(ok);
    CHECK(ok->status == 200);
  }
}

TEST_CASE("Transport: new connections resume the TLS session, keeping the client identity",
          "[kube][transport]") {
  IoRuntime io(1);
  const auto& p = testPki();
  RecordingServer server(io, serverTls(p.server, p.ca.certPem));
  const auto alice = withClientCertificate(trusting(p.ca), p.client);
  auto t = transport(io, server.url("localhost"), alice);
  REQUIRE(t->roundTrip(get("/first")));
  t->closeIdleConnections();
  CHECK(eventually([&] { return server.server().openConnections() == 0; }));
  REQUIRE(t->roundTrip(get("/second")));
  // Another transport with the same settings (another client of the same cluster) resumes too;
  // one with another identity, trust or server name never offers the session.
  REQUIRE(transport(io, server.url("localhost"), alice)->roundTrip(get("/same-settings")));
  REQUIRE(transport(io, server.url("localhost"), trusting(p.ca))->roundTrip(get("/no-cert")));
  REQUIRE(transport(io, server.url("127.0.0.1"), alice)->roundTrip(get("/by-address")));

  auto seen = server.requests();
  REQUIRE(seen.size() == 5);
  CHECK(server.distinctConnections() == 5);
  CHECK_FALSE(seen[0].tlsResumed);
  CHECK(seen[1].tlsResumed);
  REQUIRE(seen[1].peer);
  CHECK(seen[1].peer->commonName == "alice");
  CHECK(seen[1].serverName == "localhost");
  CHECK(seen[2].tlsResumed);
  CHECK_FALSE(seen[3].tlsResumed);
  CHECK_FALSE(seen[3].peer);
  CHECK_FALSE(seen[4].tlsResumed);
}

TEST_CASE(
    "Transport: transports with the same trust and identity share one TLS context, freed with "
    "the last of them",
    "[kube][transport]") {
  IoRuntime io(1);
  const auto& p = testPki();
  RecordingServer server(io, serverTls(p.server, p.ca.certPem));
  const auto alice = withClientCertificate(trusting(p.ca), p.client);
  const std::size_t before = kube::tlsClientContextsAlive();
  {
    auto a = transport(io, server.url("localhost"), alice);
    auto b = transport(io, server.url("127.0.0.1"), alice);  // another server, same settings
    CHECK(kube::tlsClientContextsAlive() == before + 1);
    auto c = transport(io, server.url("localhost"), trusting(p.ca));  // no client certificate
    CHECK(kube::tlsClientContextsAlive() == before + 2);
    REQUIRE(a->roundTrip(get("/a")));
    REQUIRE(b->roundTrip(get("/b")));
    REQUIRE(c->roundTrip(get("/c")));
    a.reset();
    CHECK(kube::tlsClientContextsAlive() == before + 2);
  }
  CHECK(eventually([&] { return kube::tlsClientContextsAlive() == before; }));
  auto seen = server.requests();
  REQUIRE(seen.size() == 3);
  REQUIRE(seen[1].peer);
  CHECK(seen[1].peer->commonName == "alice");
  CHECK_FALSE(seen[2].peer);
}

TEST_CASE("Transport: a client certificate authenticates as its CN and O", "[kube][transport]") {
  IoRuntime io(1);
  const auto& p = testPki();
  RecordingServer server(io, serverTls(p.server, p.ca.certPem));

  const auto alice = withClientCertificate(trusting(p.ca), p.client);
  REQUIRE(transport(io, server.url(), alice)->roundTrip(get("/as-alice")));
  // Without a certificate the request is still served (token users), just anonymous.
  REQUIRE(transport(io, server.url(), trusting(p.ca))->roundTrip(get("/anonymous")));

  auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  REQUIRE(seen[0].peer);
  CHECK(seen[0].peer->commonName == "alice");
  CHECK(seen[0].peer->organizations == std::vector<std::string>{"system:masters"});
  CHECK_FALSE(seen[1].peer);
}

TEST_CASE("Transport: a client certificate from another CA is refused at the handshake",
          "[kube][transport]") {
  IoRuntime io(1);
  const auto& p = testPki();
  RecordingServer server(io, serverTls(p.server, p.ca.certPem));
  const auto mallory = withClientCertificate(trusting(p.ca), p.otherCaClient);
  auto res = transport(io, server.url(), mallory)->roundTrip(get("/"));
  REQUIRE_FALSE(res);
  CHECK(res.error().kind() == ErrorKind::kTls);
  CHECK(server.requests().empty());
}

TEST_CASE("Transport: bad TLS material fails makeTransport with a config error that quotes no key",
          "[kube][transport]") {
  IoRuntime io(1);
  auto ep = kube::Endpoint::parse("https://127.0.0.1:6443");
  REQUIRE(ep);
  kube::TlsConfig badCa;
  badCa.caPem = "not a certificate";
  CHECK(kube::makeTransport(io, *ep, badCa).error().kind() == ErrorKind::kConfig);

  kube::TlsConfig badKey;
  badKey.clientCertPem = testPki().client.certPem;
  badKey.clientKeyPem =
      "-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n";
  auto r = kube::makeTransport(io, *ep, badKey);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::kConfig);
  CHECK_THAT(r.error().message(), !Catch::Contains("SECRETKEYMATERIAL"));

  kube::TlsConfig halfPair;
  halfPair.clientCertPem = testPki().client.certPem;
  CHECK(kube::makeTransport(io, *ep, halfPair).error().kind() == ErrorKind::kConfig);
}

TEST_CASE(
    "Transport: a chunked stream whose chunks split JSON mid-token arrives complete and in order",
    "[kube][transport]") {
  IoRuntime io(2);
  const std::vector<std::string> pieces = {
      R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1)",
      R"(0"}}})"
      "\n"
      R"({"type":"MODIFIED","obj)",
      R"(ect":{"metadata":{"name":"a"}}})"
      "\n",
      R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}})"
      "\n"
      R"({"ty)",
      R"(pe":"DELETED","object":{"metadata":{"name":"a"}}})"
      "\n"};
  std::string expected;
  for (const auto& p : pieces) expected += p;

  RecordingServer server(io, serverTls(testPki().server),
                         [&pieces](http::ServerRequest, http::ExchangePtr ex) {
                           ex->startStream(200, {{"Content-Type", "application/json"}});
                           std::thread([ex, &pieces] {
                             for (const auto& p : pieces) ex->write(p);
                             ex->finish();
                           }).detach();
                         });
  auto t = transport(io, server.url(), trusting(testPki().ca));
  StreamRecorder rec;
  http::Request req = get("/api/v1/pods?watch=1");
  auto stream = t->stream(req, rec.callbacks());
  REQUIRE(rec.waitClosed());
  CHECK(rec.status == 200);
  CHECK(rec.headerCalls == 1);
  CHECK(rec.dataCallsBeforeHeaders == 0);
  CHECK(rec.closeCalls == 1);
  CHECK_FALSE(rec.error);
  CHECK(rec.received() == expected);

  // The finished stream's connection goes back to the pool.
  REQUIRE(t->roundTrip(get("/after")));
  CHECK(server.distinctConnections() == 1);
}

TEST_CASE("Transport: a non-streamed error answer to a stream request still delivers its body",
          "[kube][transport]") {
  IoRuntime io(1);
  const std::string status = R"({"kind":"Status","code":410,"reason":"Expired"})";
  RecordingServer server(io, std::nullopt, [&status](http::ServerRequest, http::ExchangePtr ex) {
    ex->respond(410, {{"Content-Type", "application/json"}}, status);
  });
  auto t = transport(io, server.url());
  StreamRecorder rec;
  auto stream = t->stream(get("/api/v1/pods?watch=1"), rec.callbacks());
  REQUIRE(rec.waitClosed());
  INFO((rec.error ? rec.error->message() : std::string("no error")));
  CHECK(rec.status == 410);
  CHECK(rec.received() == status);
  CHECK_FALSE(rec.error);
}

TEST_CASE("Transport: cancel() closes a stream with kCancelled exactly once", "[kube][transport]") {
  IoRuntime io(1);
  std::promise<http::ExchangePtr> serving;
  RecordingServer server(io, serverTls(testPki().server),
                         [&](http::ServerRequest, http::ExchangePtr ex) {
                           ex->startStream(200, {});
                           ex->write("{\"type\":\"ADDED\"}\n");
                           serving.set_value(ex);
                         });
  auto t = transport(io, server.url(), trusting(testPki().ca));
  StreamRecorder rec;
  auto stream = t->stream(get("/watch"), rec.callbacks());
  auto ex = serving.get_future().get();
  REQUIRE(eventually([&] { return !rec.received().empty(); }));

  stream->cancel();
  REQUIRE(rec.waitClosed());
  REQUIRE(rec.error);
  CHECK(rec.error->kind() == ErrorKind::kCancelled);
  stream->cancel();                                 // idempotent
  CHECK(eventually([&] { return ex->closed(); }));  // the server saw the client leave
  CHECK(rec.closeCalls == 1);
}

TEST_CASE("Transport: a stream with no data for idleTimeout closes with kTimeout",
          "[kube][transport]") {
  IoRuntime io(1);
  std::vector<http::ExchangePtr> open;  // only touched on the single I/O thread
  RecordingServer server(io, std::nullopt, [&open](http::ServerRequest, http::ExchangePtr ex) {
    ex->startStream(200, {});
    ex->write("hello");  // ...and then silence, connection open (a blackholed watch)
    open.push_back(std::move(ex));
  });
  auto t = transport(io, server.url());
  StreamRecorder rec;
  http::Request req = get("/watch");
  req.idleTimeout = 200ms;
  auto stream = t->stream(req, rec.callbacks());
  REQUIRE(rec.waitClosed());
  REQUIRE(rec.error);
  INFO(rec.error->message());
  CHECK(rec.status == 200);
  CHECK(rec.received() == "hello");
  CHECK(rec.error->kind() == ErrorKind::kTimeout);
}

TEST_CASE(
    "Transport: server stop() ends open streams with an error and a restart is reachable again",
    "[kube][transport]") {
  IoRuntime io(2);
  std::mutex mu;
  std::vector<http::ExchangePtr> open;
  RecordingServer server(io, serverTls(testPki().server),
                         [&](http::ServerRequest req, http::ExchangePtr ex) {
                           if (req.path == "/watch") {
                             ex->startStream(200, {});
                             ex->write("event\n");
                             std::lock_guard lock(mu);
                             open.push_back(std::move(ex));
                           } else {
                             ex->respond(200, {}, "up");
                           }
                         });
  auto t = transport(io, server.url(), trusting(testPki().ca));
  StreamRecorder rec;
  auto stream = t->stream(get("/watch"), rec.callbacks());
  REQUIRE(eventually([&] { return rec.received() == "event\n"; }));
  const auto port = server.server().port();

  server.server().stop();
  REQUIRE(rec.waitClosed());
  REQUIRE(rec.error);
  CHECK(rec.error->kind() == ErrorKind::kTransport);
  auto down = t->roundTrip(get("/while-down"));
  REQUIRE_FALSE(down);
  CHECK(down.error().kind() == ErrorKind::kTransport);

  REQUIRE(server.server().start());
  CHECK(server.server().port() == port);
  auto up = t->roundTrip(get("/again"));
  REQUIRE(up);
  CHECK(up->body == "up");
}

TEST_CASE("Transport: the http scheme talks plain HTTP", "[kube][transport]") {
  IoRuntime io(1);
  RecordingServer server(io, std::nullopt);
  auto t = transport(io, server.url());
  CHECK(t->endpoint().scheme == "http");
  auto res = t->roundTrip(get("/plain"));
  REQUIRE(res);
  CHECK(res->body == "ok /plain");
}

TEST_CASE("Transport: a server that hangs up mid-response is a transport error",
          "[kube][transport]") {
  IoRuntime io(1);
  SECTION("round trip") {
    RawTcpServer server([](RawConnection& c) {
      c.readRequest();
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    });
    auto res = transport(io, server.url())->roundTrip(get("/"));
    REQUIRE_FALSE(res);
    CHECK(res.error().kind() == ErrorKind::kTransport);
    CHECK_THAT(res.error().message(), Catch::Contains("mid-response"));
  }
  SECTION("stream") {
    RawTcpServer server([](RawConnection& c) {
      c.readRequest();
      c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    });
    StreamRecorder rec;
    auto stream = transport(io, server.url())->stream(get("/watch"), rec.callbacks());
    REQUIRE(rec.waitClosed());
    CHECK(rec.received() == "hello");
    REQUIRE(rec.error);
    CHECK(rec.error->kind() == ErrorKind::kTransport);
  }
  SECTION("a refused connection") {
    std::uint16_t port;
    {
      RawTcpServer gone([](RawConnection&) {});
      port = gone.port();
    }
    auto res = transport(io, "http://127.0.0.1:" + std::to_string(port))->roundTrip(get("/"));
    REQUIRE_FALSE(res);
    CHECK(res.error().kind() == ErrorKind::kTransport);
  }
}

TEST_CASE("Transport: many concurrent round trips from several threads all succeed",
          "[kube][transport]") {
  IoRuntime io(2);
  RecordingServer server(io, serverTls(testPki().server));
  kube::TransportOptions options;
  options.maxIdleConnections = 3;
  auto t = transport(io, server.url(), trusting(testPki().ca), options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 8; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 25; ++i) {
        std::string path = "/t" + std::to_string(th) + "/" + std::to_string(i);
        auto res = t->roundTrip(get(path));
        if (res && res->body == "ok " + path) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 200);
  // Connections beyond the idle limit were closed, not leaked.
  CHECK(eventually([&] { return server.server().openConnections() <= 3; }));
}

TEST_CASE("Transport: roundTrip refuses to block an I/O thread", "[kube][transport]") {
  IoRuntime io(1);
  RecordingServer server(io, std::nullopt);
  auto t = transport(io, server.url());
  std::promise<rio::Expected<http::Response>> result;
  io.post([&] { result.set_value(t->roundTrip(get("/"))); });
  auto r = result.get_future().get();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::kInternal);
}

TEST_CASE("Transport: no header value reaches the logs", "[kube][transport]") {
  IoRuntime io(1);
  std::mutex mu;
  std::string logged;
  int sink = rio::log::addSink([&](std::string_view line) {
    std::lock_guard lock(mu);
    logged.append(line).append("\n");
  });
  auto previous = rio::log::level();
  rio::log::configure(rio::log::Level::kTrace);
  {
    RecordingServer server(io, serverTls(testPki().expiredServer));
    kube::TlsConfig insecure;
    insecure.insecureSkipVerify = true;
    http::Request req = get("/");
    req.headers = {{"Authorization", "Bearer SECRET-TOKEN-123"}};
    CHECK_FALSE(transport(io, server.url(), trusting(testPki().ca))->roundTrip(req));
    CHECK(transport(io, server.url(), insecure)->roundTrip(req));
  }
  rio::log::configure(previous);
  rio::log::removeSink(sink);
  std::lock_guard lock(mu);
  CHECK_THAT(logged, Catch::Contains("verification is disabled"));
  CHECK_THAT(logged, !Catch::Contains("SECRET-TOKEN-123"));
}

TEST_CASE("Transport: IPv6 loopback works when the machine has it", "[kube][transport]") {
  IoRuntime io(1);
  http::ServerOptions options;
  options.address = "::1";
  options.tls = serverTls(testPki().server);
  http::Server server(io, options, [](http::ServerRequest req, http::ExchangePtr ex) {
    ex->respond(200, {}, req.serverName.empty() ? "no-sni" : "sni");
  });
  if (!server.start()) {
    WARN("no IPv6 loopback here; skipped");
    return;
  }
  CHECK(server.url() == "https://[::1]:" + std::to_string(server.port()));
  auto res = transport(io, server.url(), trusting(testPki().ca))->roundTrip(get("/"));
  REQUIRE(res);
  CHECK(res->body == "no-sni");
}

TEST_CASE("Endpoint: server URLs parse as kubeconfigs write them", "[kube][transport]") {
  auto a = kube::Endpoint::parse("https://10.0.0.1:6443");
  REQUIRE(a);
  CHECK(a->scheme == "https");
  CHECK(a->host == "10.0.0.1");
  CHECK(a->port == 6443);
  CHECK(a->pathPrefix.empty());

  auto b = kube::Endpoint::parse("https://rancher.example.com/k8s/clusters/c-1/");
  REQUIRE(b);
  CHECK(b->port == 443);
  CHECK(b->pathPrefix == "/k8s/clusters/c-1");
  CHECK(b->hostPort() == "rancher.example.com:443");

  auto c = kube::Endpoint::parse("http://[::1]:8080");
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(c->port == 8080);
  CHECK(c->hostPort() == "[::1]:8080");

  auto d = kube::Endpoint::parse("HTTP://localhost");
  REQUIRE(d);
  CHECK(d->scheme == "http");
  CHECK(d->port == 80);

  auto bare = kube::Endpoint::parse("api.example.com:6443");
  REQUIRE(bare);
  CHECK(bare->scheme == "https");

  for (const char* bad :
       {"ftp://x", "https://", "https://host:0", "https://host:99999", "https://host:x",
        "https://[::1", "https://user@host", "https://host/?q=1", "https://[zz]:1"}) {
    INFO(bad);
    auto r = kube::Endpoint::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::kConfig);
  }
}
