#include "controller/http/server.h"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "controller/core/io_runtime.h"
#include "controller/kube/transport.h"
#include "test/support/eventually.h"
#include "test/support/raw_tcp_server.h"
#include "test/support/test_pki.h"

namespace http = rio::http;
namespace kube = rio::kube;
using rio::ErrorKind;
using rio::IoRuntime;
using rio::testing::eventually;
using rio::testing::RawConnection;
using rio::testing::testPki;
using namespace std::chrono_literals;

namespace {

kube::TransportPtr plainClient(IoRuntime& io, const http::Server& server) {
  auto ep = kube::Endpoint::parse(server.url());
  REQUIRE(ep);
  auto t = kube::makeTransport(io, *ep, {});
  REQUIRE(t);
  return *t;
}

http::Request get(std::string target) {
  http::Request r;
  r.target = std::move(target);
  r.timeout = 10s;
  return r;
}

}  // namespace

TEST_CASE("Server: a handler sees the decoded path, query parameters, headers and body",
          "[http][server]") {
  IoRuntime io(1);
  std::promise<http::ServerRequest> seen;
  http::Server server(io, {}, [&](http::ServerRequest req, http::ExchangePtr ex) {
    seen.set_value(req);
    ex->respond(201, {{"Content-Type", "application/json"}, {"X-Reply", "yes"}}, R"({"ok":true})");
  });
  REQUIRE(server.start());
  CHECK(server.url() == "http://127.0.0.1:" + std::to_string(server.port()));

  auto client = plainClient(io, server);
  http::Request req = get("/api/v1/namespaces/a%20b/configmaps?labelSelector=" +
                          http::urlEncode("app=x,tier in (a)") + "&watch=1&watch=2&fieldSelector=");
  req.method = "POST";
  req.headers = {{"Content-Type", "application/json"}, {"X-Trace", "t1"}};
  req.body = R"({"kind":"ConfigMap"})";
  auto res = client->roundTrip(req);
  REQUIRE(res);
  CHECK(res->status == 201);
  CHECK(res->header("x-reply") == "yes");
  CHECK(res->body == R"({"ok":true})");

  auto r = seen.get_future().get();
  CHECK(r.method == "POST");
  CHECK(r.path == "/api/v1/namespaces/a b/configmaps");
  CHECK(r.param("labelSelector") == "app=x,tier in (a)");
  CHECK(r.param("watch") == "1");  // the first of repeated parameters
  CHECK(r.query.count("watch") == 2);
  CHECK(r.param("fieldSelector") == "");
  CHECK_FALSE(r.param("limit"));
  CHECK(r.header("x-trace") == "t1");
  CHECK(r.body == R"({"kind":"ConfigMap"})");
  CHECK_FALSE(r.bodyTooLarge);
  CHECK_FALSE(r.peer);
  CHECK(r.serverName.empty());
  CHECK(r.remoteAddress.rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("Server: pipelined requests on one connection are answered in order", "[http][server]") {
  IoRuntime io(2);
  http::Server server(io, {}, [](http::ServerRequest req, http::ExchangePtr ex) {
    ex->respond(200, {}, "path=" + req.path);
  });
  REQUIRE(server.start());
  auto conn = RawConnection::connect(server.port());
  REQUIRE(conn);
  conn->write(
      "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string all = conn->readAll();  // the server closes after the third answer
  auto one = all.find("path=/one");
  auto two = all.find("path=/two");
  auto three = all.find("path=/three");
  REQUIRE(one != std::string::npos);
  REQUIRE(two != std::string::npos);
  REQUIRE(three != std::string::npos);
  CHECK(one < two);
  CHECK(two < three);
  CHECK(all.find("Connection: close") != std::string::npos);
}

TEST_CASE("Server: an exchange kept by the handler is answered later from another thread",
          "[http][server]") {
  IoRuntime io(1);
  std::mutex mu;
  std::vector<http::ExchangePtr> parked;
  http::Server server(io, {}, [&](http::ServerRequest, http::ExchangePtr ex) {
    std::lock_guard lock(mu);
    parked.push_back(std::move(ex));
  });
  REQUIRE(server.start());
  auto client = plainClient(io, server);
  auto pending = std::async(std::launch::async, [&] { return client->roundTrip(get("/slow")); });
  REQUIRE(eventually([&] {
    std::lock_guard lock(mu);
    return parked.size() == 1;
  }));
  std::thread([&] {
    std::lock_guard lock(mu);
    parked[0]->respond(200, {}, "late");
    parked[0]->respond(500, {}, "ignored: already answered");
  }).join();
  auto res = pending.get();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "late");
}

TEST_CASE("Server: a chunked stream is written in order and ends with finish()", "[http][server]") {
  IoRuntime io(2);
  http::Server server(io, {}, [](http::ServerRequest, http::ExchangePtr ex) {
    ex->startStream(200, {{"Content-Type", "application/json"}});
    std::thread([ex] {
      for (int i = 0; i < 50; ++i) ex->write("{\"n\":" + std::to_string(i) + "}\n");
      ex->finish();
    }).detach();
  });
  REQUIRE(server.start());
  auto conn = RawConnection::connect(server.port());
  REQUIRE(conn);
  conn->write("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string raw = conn->readUntil("\r\n0\r\n\r\n");
  CHECK(raw.find("Transfer-Encoding: chunked") != std::string::npos);
  std::size_t last = 0;
  for (int i = 0; i < 50; ++i) {
    auto pos = raw.find("{\"n\":" + std::to_string(i) + "}\n");
    REQUIRE(pos != std::string::npos);
    CHECK(pos >= last);
    last = pos;
  }
}

TEST_CASE("Server: a client that goes away mid-stream closes the exchange and frees the connection",
          "[http][server]") {
  IoRuntime io(1);
  std::promise<http::ExchangePtr> streaming;
  std::atomic<int> closedCalls{0};
  http::Server server(io, {}, [&](http::ServerRequest, http::ExchangePtr ex) {
    ex->startStream(200, {});
    ex->write("first\n");
    ex->onClosed([&closedCalls] { ++closedCalls; });
    streaming.set_value(ex);
  });
  REQUIRE(server.start());
  auto conn = RawConnection::connect(server.port());
  REQUIRE(conn);
  conn->write("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(conn->readUntil("first\n").find("first") != std::string::npos);
  auto ex = streaming.get_future().get();
  CHECK_FALSE(ex->closed());
  CHECK(server.openConnections() == 1);

  conn->close();
  REQUIRE(eventually([&] { return ex->closed(); }));
  REQUIRE(eventually([&] { return closedCalls == 1; }));
  CHECK(server.openConnections() == 0);
  ex->write("nobody listens");  // ignored, no crash
  std::promise<void> late;
  ex->onClosed([&late] { late.set_value(); });  // already closed: runs at once
  CHECK(late.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(closedCalls == 1);
}

TEST_CASE("Server: a body over the limit is flagged, not read, and the client gets the answer",
          "[http][server]") {
  IoRuntime io(1);
  http::ServerOptions options;
  options.maxBodyBytes = 1024;
  std::promise<http::ServerRequest> seen;
  http::Server server(io, options, [&](http::ServerRequest req, http::ExchangePtr ex) {
    bool tooLarge = req.bodyTooLarge;
    seen.set_value(std::move(req));
    ex->respond(tooLarge ? 413 : 200, {}, tooLarge ? "too large" : "ok");
  });
  REQUIRE(server.start());
  auto client = plainClient(io, server);

  SECTION("with a Content-Length") {
    http::Request req = get("/upload");
    req.method = "PUT";
    req.body = std::string(4096, 'x');
    auto res = client->roundTrip(req);
    REQUIRE(res);
    CHECK(res->status == 413);
    auto r = seen.get_future().get();
    CHECK(r.bodyTooLarge);
    CHECK(r.body.empty());
  }
  SECTION("chunked") {
    auto conn = RawConnection::connect(server.port());
    REQUIRE(conn);
    std::string chunk(800, 'y');
    conn->write("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    conn->write("320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
    std::string answer = conn->readAll();
    CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(seen.get_future().get().bodyTooLarge);
  }
  SECTION("a body at the limit is served") {
    http::Request req = get("/upload");
    req.method = "PUT";
    req.body = std::string(1024, 'x');
    auto res = client->roundTrip(req);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(seen.get_future().get().body.size() == 1024);
  }
}

TEST_CASE("Server: with the default 3 MiB limit a 2 MiB body is served and a 3 MiB + 1 one flagged",
          "[http][server]") {
  // Beast's own default request body limit is 1 MiB; bodies between that and ours must pass.
  IoRuntime io(1);
  std::mutex mu;
  std::vector<std::pair<bool, std::size_t>> seen;  // (tooLarge, body size)
  http::Server server(io, {}, [&](http::ServerRequest req, http::ExchangePtr ex) {
    bool tooLarge = req.bodyTooLarge;
    {
      std::lock_guard lock(mu);
      seen.emplace_back(tooLarge, req.body.size());
    }
    ex->respond(tooLarge ? 413 : 200, {}, "");
  });
  REQUIRE(server.start());
  auto client = plainClient(io, server);
  http::Request req = get("/upload");
  req.method = "POST";
  req.body = std::string(2 * 1024 * 1024, 'x');
  auto ok = client->roundTrip(req);
  REQUIRE(ok);
  CHECK(ok->status == 200);
  req.body = std::string(3 * 1024 * 1024 + 1, 'x');
  auto big = client->roundTrip(req);
  REQUIRE(big);
  CHECK(big->status == 413);
  std::lock_guard lock(mu);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == std::make_pair(false, std::size_t{2 * 1024 * 1024}));
  CHECK(seen[1].first);
}

TEST_CASE("Server: a malformed request is answered 400 and the connection closed",
          "[http][server]") {
  IoRuntime io(1);
  std::atomic<int> calls{0};
  http::Server server(io, {}, [&](http::ServerRequest, http::ExchangePtr ex) {
    ++calls;
    ex->respond(200, {}, "");
  });
  REQUIRE(server.start());
  auto conn = RawConnection::connect(server.port());
  REQUIRE(conn);
  conn->write("THIS IS NOT HTTP\r\n\r\n");
  CHECK(conn->readAll().rfind("HTTP/1.1 400", 0) == 0);
  CHECK(calls == 0);
}

TEST_CASE("Server: a stream whose exchange is dropped sends what was written, then ends truncated",
          "[http][server]") {
  IoRuntime io(1);
  http::Server server(io, {}, [](http::ServerRequest, http::ExchangePtr ex) {
    ex->startStream(200, {});
    ex->write("partial");
  });
  REQUIRE(server.start());
  auto conn = RawConnection::connect(server.port());
  REQUIRE(conn);
  conn->write("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string all = conn->readAll();
  CHECK(all.find("7\r\npartial\r\n") != std::string::npos);
  CHECK(all.find("\r\n0\r\n\r\n") == std::string::npos);  // no last chunk
}

TEST_CASE("Server: HEAD gets the headers without a body, and a dropped exchange gets a 500",
          "[http][server]") {
  IoRuntime io(1);
  http::Server server(io, {}, [](http::ServerRequest req, http::ExchangePtr ex) {
    if (req.path == "/dropped") return;  // the handler forgets to answer
    ex->respond(200, {{"Content-Type", "text/plain"}}, "hello");
  });
  REQUIRE(server.start());
  auto conn = RawConnection::connect(server.port());
  REQUIRE(conn);
  conn->write("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = conn->readUntil("\r\n\r\n");
  CHECK(head.find("Content-Length: 5") != std::string::npos);
  conn->write("GET /dropped HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string dropped = conn->readUntil("dropped the request\n");
  CHECK(dropped.rfind("HTTP/1.1 500", 0) == 0);  // nothing of a HEAD body came before it
}

TEST_CASE("Server: stop() ends open streams and start() serves again on the same port",
          "[http][server]") {
  IoRuntime io(2);
  std::promise<http::ExchangePtr> streaming;
  std::atomic<bool> first{true};
  http::Server server(io, {}, [&](http::ServerRequest, http::ExchangePtr ex) {
    if (first.exchange(false)) {
      ex->startStream(200, {});
      streaming.set_value(ex);
    } else {
      ex->respond(200, {}, "back");
    }
  });
  REQUIRE(server.start());
  const auto port = server.port();
  auto conn = RawConnection::connect(port);
  REQUIRE(conn);
  conn->write("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
  auto ex = streaming.get_future().get();
  std::promise<void> closed;
  ex->onClosed([&closed] { closed.set_value(); });

  server.stop();
  CHECK_FALSE(server.running());
  CHECK(ex->closed());
  CHECK(closed.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(server.openConnections() == 0);
  conn->readAll();  // the client sees the end of the connection
  CHECK_FALSE(RawConnection::connect(port));
  server.stop();  // idempotent

  REQUIRE(server.start());
  CHECK(server.port() == port);
  auto res = plainClient(io, server)->roundTrip(get("/again"));
  REQUIRE(res);
  CHECK(res->body == "back");
}

TEST_CASE("Server: unusable TLS material or a taken port fail start() with an error",
          "[http][server]") {
  IoRuntime io(1);
  http::ServerOptions bad;
  bad.tls = http::ServerTlsConfig{testPki().server.certPem, testPki().client.keyPem, ""};
  http::Server mismatched(io, bad, [](http::ServerRequest, http::ExchangePtr) {});
  auto r = mismatched.start();
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::kConfig);
  CHECK_FALSE(mismatched.running());

  http::Server first(io, {}, [](http::ServerRequest, http::ExchangePtr) {});
  REQUIRE(first.start());
  http::ServerOptions same;
  same.port = first.port();
  http::Server second(io, same, [](http::ServerRequest, http::ExchangePtr) {});
  auto taken = second.start();
  REQUIRE_FALSE(taken);
  CHECK(taken.error().kind() == ErrorKind::kTransport);
}

TEST_CASE("Server: many servers share one runtime and idle connections stay cheap",
          "[http][server]") {
  IoRuntime io(2);
  std::vector<std::unique_ptr<http::Server>> servers;
  for (int i = 0; i < 50; ++i) {
    servers.push_back(std::make_unique<http::Server>(
        io, http::ServerOptions{}, [i](http::ServerRequest, http::ExchangePtr ex) {
          ex->respond(200, {}, std::to_string(i));
        }));
    REQUIRE(servers.back()->start());
  }
  for (int i = 0; i < 50; ++i) {
    auto res = plainClient(io, *servers[static_cast<std::size_t>(i)])->roundTrip(get("/"));
    REQUIRE(res);
    CHECK(res->body == std::to_string(i));
  }
  // Transports went away with their pooled connections: every server lets go of them.
  CHECK(eventually([&] {
    for (auto& s : servers) {
      if (s->openConnections() != 0) return false;
    }
    return true;
  }));
}
