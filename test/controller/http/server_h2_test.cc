// http::Server over HTTP/2, driven by curl (libcurl on nghttp2): an HTTP/2 client that is not
// ours, so both sides of the framing are not written by the same hand.
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "controller/core/io_runtime.h"
#include "controller/http/server.h"
#include "test/support/eventually.h"
#include "test/support/temp_dir.h"
#include "test/support/test_pki.h"

namespace http = rio::http;
using rio::IoRuntime;
using rio::testing::eventually;
using rio::testing::TempDir;
using rio::testing::testPki;
using namespace std::chrono_literals;

namespace {

struct CurlResult {
  int exitCode = -1;
  std::string out;  // stdout: bodies and -w output
};

// Runs curl with the test CA trusted; `args` are shell words (quoted by the caller).
CurlResult curl(const TempDir& dir, const std::string& args) {
  std::string ca = dir.write("ca.pem", testPki().ca.certPem);
  std::string cmd = "curl -sS --cacert " + ca + " " + args + " 2>&1";
  CurlResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

http::ServerOptions tlsOptions() {
  http::ServerOptions o;
  o.tls = http::ServerTlsConfig{testPki().server.certPem, testPki().server.keyPem, ""};
  return o;
}

// What the handler saw, for the assertions.
struct Seen {
  std::mutex mu;
  std::vector<http::ServerRequest> requests;
  void add(const http::ServerRequest& r) {
    std::lock_guard lock(mu);
    requests.push_back(r);
  }
};

std::string url(const http::Server& server, const std::string& path) {
  return "https://localhost:" + std::to_string(server.port()) + path;
}

}  // namespace

TEST_CASE("Server (HTTP/2): curl negotiates h2 and parallel requests share one connection",
          "[http][server][h2]") {
  IoRuntime io(2);
  Seen seen;
  http::Server server(io, tlsOptions(), [&](http::ServerRequest req, http::ExchangePtr ex) {
    seen.add(req);
    ex->respond(200, {{"Content-Type", "text/plain"}, {"X-Path", req.path}},
                "path=" + req.path + " q=" + req.param("n").value_or("") + "\n");
  });
  REQUIRE(server.start());
  TempDir dir;
  std::string args =
      "--http2 --parallel --parallel-max 10 -w '%{http_version} %{response_code}\\n'";
  for (int i = 0; i < 10; ++i)
    args += " '" + url(server, "/r/" + std::to_string(i) + "?n=" + std::to_string(i)) + "'";
  auto r = curl(dir, args);
  INFO(r.out);
  REQUIRE(r.exitCode == 0);
  for (int i = 0; i < 10; ++i) {
    auto n = std::to_string(i);
    CHECK(r.out.find("path=/r/" + n + " q=" + n + "\n") != std::string::npos);
  }
  std::size_t answers = 0;
  for (std::size_t pos = 0; (pos = r.out.find("2 200\n", pos)) != std::string::npos; ++pos)
    ++answers;
  CHECK(answers == 10);

  std::lock_guard lock(seen.mu);
  REQUIRE(seen.requests.size() == 10);
  std::set<std::string> connections;
  for (const auto& req : seen.requests) {
    CHECK(req.protocol == "HTTP/2.0");
    CHECK(req.method == "GET");
    CHECK(req.serverName == "localhost");
    CHECK(req.header("host") == std::string_view("localhost:" + std::to_string(server.port())));
    connections.insert(req.remoteAddress);
  }
  CHECK(connections.size() == 1);
}

TEST_CASE("Server (HTTP/2): request bodies arrive whole and an oversized one is flagged",
          "[http][server][h2]") {
  IoRuntime io(2);
  auto options = tlsOptions();
  options.maxBodyBytes = 3 * 1024 * 1024;
  http::Server server(io, options, [](http::ServerRequest req, http::ExchangePtr ex) {
    if (req.bodyTooLarge) {
      ex->respond(413, {}, "too large\n");
      return;
    }
    ex->respond(201, {},
                req.method + " " + std::to_string(req.body.size()) + " " +
                    std::string(req.header("content-type").value_or("")) + "\n");
  });
  REQUIRE(server.start());
  TempDir dir;
  // Larger than the stream's flow-control window (1 MiB): WINDOW_UPDATEs must flow.
  auto two = dir.write("two", std::string(2 * 1024 * 1024, 'x'));
  auto r = curl(dir, "--http2 -X PUT -H 'Content-Type: application/json' --data-binary @" + two +
                         " -w '%{http_version} %{response_code}\\n' '" + url(server, "/b") + "'");
  INFO(r.out);
  CHECK(r.exitCode == 0);
  CHECK(r.out == "PUT 2097152 application/json\n2 201\n");

  auto big = dir.write("big", std::string(3 * 1024 * 1024 + 1, 'y'));
  r = curl(dir, "--http2 --data-binary @" + big + " -w '%{http_version} %{response_code}\\n' '" +
                    url(server, "/b") + "'");
  INFO(r.out);
  CHECK(r.out.find("2 413") != std::string::npos);
}

TEST_CASE("Server (HTTP/2): a stream is written in order and ends with finish()",
          "[http][server][h2]") {
  IoRuntime io(2);
  http::Server server(io, tlsOptions(), [](http::ServerRequest, http::ExchangePtr ex) {
    ex->startStream(200, {{"Content-Type", "application/json"}, {"Transfer-Encoding", "chunked"}});
    std::thread([ex] {
      for (int i = 0; i < 200; ++i) {
        ex->write("{\"n\":" + std::to_string(i) + "}\n");
        if (i % 50 == 0) std::this_thread::sleep_for(10ms);
      }
      ex->finish();
    }).detach();
  });
  REQUIRE(server.start());
  TempDir dir;
  auto r = curl(dir, "--http2 -D - '" + url(server, "/watch") + "'");
  INFO(r.out);
  REQUIRE(r.exitCode == 0);
  CHECK(r.out.rfind("HTTP/2 200", 0) == 0);
  CHECK(r.out.find("transfer-encoding") == std::string::npos);  // not an HTTP/2 header
  std::size_t last = 0;
  for (int i = 0; i < 200; ++i) {
    auto pos = r.out.find("{\"n\":" + std::to_string(i) + "}\n");
    REQUIRE(pos != std::string::npos);
    CHECK(pos >= last);
    last = pos;
  }
}

TEST_CASE("Server (HTTP/2): a client that goes away mid-stream closes the exchange once",
          "[http][server][h2]") {
  IoRuntime io(2);
  std::promise<http::ExchangePtr> streaming;
  std::atomic<int> closedCalls{0};
  http::Server server(io, tlsOptions(), [&](http::ServerRequest, http::ExchangePtr ex) {
    ex->startStream(200, {});
    ex->write("first\n");
    ex->onClosed([&closedCalls] { ++closedCalls; });
    streaming.set_value(ex);
  });
  REQUIRE(server.start());
  TempDir dir;
  // curl gives up after a second (exit 28) and closes the connection.
  auto r = curl(dir, "--http2 --max-time 1 '" + url(server, "/watch") + "'");
  CHECK(r.exitCode == 28);
  CHECK(r.out.find("first") != std::string::npos);
  auto ex = streaming.get_future().get();
  REQUIRE(eventually([&] { return ex->closed(); }));
  REQUIRE(eventually([&] { return closedCalls == 1; }));
  CHECK(eventually([&] { return server.openConnections() == 0; }));
  ex->write("nobody listens");  // ignored, no crash
  std::promise<void> late;
  ex->onClosed([&late] { late.set_value(); });  // already closed: runs at once
  CHECK(late.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(closedCalls == 1);
}

TEST_CASE("Server (HTTP/2): a dropped exchange resets only its stream; the connection serves on",
          "[http][server][h2]") {
  IoRuntime io(2);
  Seen seen;
  http::Server server(io, tlsOptions(), [&](http::ServerRequest req, http::ExchangePtr ex) {
    seen.add(req);
    if (req.path == "/drop-stream") {
      ex->startStream(200, {});
      ex->write("partial\n");
      // Then the exchange is dropped unfinished, a little later: curl discards the data of a
      // stream reset in the same read as that data.
      std::thread([ex]() mutable {
        std::this_thread::sleep_for(300ms);
        ex.reset();
      }).detach();
    } else if (req.path == "/drop") {
      // dropped unanswered: a 500
    } else {
      std::this_thread::sleep_for(200ms);  // still open when the others break
      ex->respond(200, {}, "ok\n");
    }
  });
  REQUIRE(server.start());
  TempDir dir;
  auto r = curl(dir, "--http2 --parallel -w '%{url} %{response_code}\\n' '" + url(server, "/ok") +
                         "' '" + url(server, "/drop-stream") + "' '" + url(server, "/drop") + "'");
  INFO(r.out);
  CHECK(r.exitCode == 92);  // the reset stream is an error (CURLE_HTTP2_STREAM)
  CHECK(r.out.find("/ok 200") != std::string::npos);
  CHECK(r.out.find("ok\n") != std::string::npos);
  CHECK(r.out.find("/drop-stream 200") != std::string::npos);
  CHECK(r.out.find("partial\n") != std::string::npos);  // what was written, then the reset
  CHECK(r.out.find("INTERNAL_ERROR") != std::string::npos);
  CHECK(r.out.find("/drop 500") != std::string::npos);
  CHECK(r.out.find("the request handler dropped the request") != std::string::npos);
  std::lock_guard lock(seen.mu);
  std::set<std::string> connections;
  for (const auto& req : seen.requests) connections.insert(req.remoteAddress);
  CHECK(seen.requests.size() == 3);
  CHECK(connections.size() == 1);
}

TEST_CASE("Server (HTTP/2): abort() drops the connection with every stream on it, as on HTTP/1.1",
          "[http][server][h2]") {
  IoRuntime io(2);
  std::promise<http::ExchangePtr> watching;
  std::atomic<int> watchClosed{0};
  http::Server server(io, tlsOptions(), [&](http::ServerRequest req, http::ExchangePtr ex) {
    if (req.path == "/watch") {
      ex->startStream(200, {});
      ex->write("first\n");
      ex->onClosed([&watchClosed] { ++watchClosed; });
      watching.set_value(ex);
    } else if (req.path == "/abort") {
      std::this_thread::sleep_for(300ms);  // the watch is open by now
      ex->abort();
    } else {
      ex->respond(200, {}, "ok\n");
    }
  });
  REQUIRE(server.start());
  TempDir dir;
  auto r = curl(dir, "--http2 --parallel --max-time 20 -w '%{url} %{response_code}\\n' '" +
                         url(server, "/watch") + "' '" + url(server, "/abort") + "'");
  INFO(r.out);
  CHECK(r.exitCode != 0);
  CHECK(r.exitCode != 28);  // broken at once, not timed out
  auto ex = watching.get_future().get();
  CHECK(ex->closed());
  CHECK(eventually([&] { return watchClosed == 1; }));
  CHECK(eventually([&] { return server.openConnections() == 0; }));
  r = curl(dir, "--http2 '" + url(server, "/again") + "'");
  CHECK(r.out == "ok\n");
}

TEST_CASE("Server (HTTP/2): HEAD answers carry no body", "[http][server][h2]") {
  IoRuntime io(1);
  http::Server server(io, tlsOptions(), [](http::ServerRequest, http::ExchangePtr ex) {
    ex->respond(200, {{"Content-Type", "text/plain"}}, "body that HEAD must not carry\n");
  });
  REQUIRE(server.start());
  TempDir dir;
  auto r = curl(dir, "--http2 -I '" + url(server, "/x") + "'");
  INFO(r.out);
  CHECK(r.exitCode == 0);
  CHECK(r.out.rfind("HTTP/2 200", 0) == 0);
  CHECK(r.out.find("content-length: 30") != std::string::npos);
  CHECK(r.out.find("must not carry") == std::string::npos);
}

TEST_CASE("Server (HTTP/2): stop() ends open streams and the client sees the break",
          "[http][server][h2]") {
  IoRuntime io(2);
  std::promise<http::ExchangePtr> streaming;
  http::Server server(io, tlsOptions(), [&](http::ServerRequest, http::ExchangePtr ex) {
    ex->startStream(200, {});
    ex->write("first\n");
    streaming.set_value(ex);
  });
  REQUIRE(server.start());
  TempDir dir;
  auto client = std::async(std::launch::async, [&] {
    return curl(dir, "--http2 --max-time 20 '" + url(server, "/watch") + "'");
  });
  auto ex = streaming.get_future().get();
  server.stop();
  CHECK(ex->closed());
  CHECK(server.openConnections() == 0);
  auto r = client.get();
  INFO(r.out);
  CHECK(r.exitCode != 0);
  CHECK(r.exitCode != 28);  // broken at once, not timed out
  CHECK(r.out.find("not closed cleanly") != std::string::npos);
}

TEST_CASE("Server (HTTP/2): with http2 off, or for a client without it, HTTP/1.1 is spoken",
          "[http][server][h2]") {
  IoRuntime io(1);
  Seen seen;
  auto handler = [&](http::ServerRequest req, http::ExchangePtr ex) {
    seen.add(req);
    ex->respond(200, {}, "ok\n");
  };
  auto options = tlsOptions();
  options.http2 = false;
  http::Server http1Only(io, options, handler);
  http::Server both(io, tlsOptions(), handler);
  REQUIRE(http1Only.start());
  REQUIRE(both.start());
  TempDir dir;
  auto r = curl(dir, "--http2 -w '%{http_version}\\n' '" + url(http1Only, "/a") + "'");
  CHECK(r.out == "ok\n1.1\n");
  r = curl(dir, "--http1.1 -w '%{http_version}\\n' '" + url(both, "/b") + "'");
  CHECK(r.out == "ok\n1.1\n");
  std::lock_guard lock(seen.mu);
  REQUIRE(seen.requests.size() == 2);
  CHECK(seen.requests[0].protocol == "HTTP/1.1");
  CHECK(seen.requests[1].protocol == "HTTP/1.1");
}
