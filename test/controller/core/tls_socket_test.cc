#include "controller/core/tls_socket.h"

#include <array>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "controller/pki/tls_context.h"
#include "test/support/test_pki.h"

namespace asio = boost::asio;
namespace pki = rio::pki;
using rio::net::ErrorCode;
using rio::net::TlsSocket;
using rio::testing::testPki;
using tcp = asio::ip::tcp;

namespace {

// A client and a server TlsSocket over one loopback connection, driven by one io_context.
struct TlsPair {
  asio::io_context io;
  asio::ssl::context serverCtx{asio::ssl::context::tls_server};
  asio::ssl::context clientCtx{asio::ssl::context::tls_client};
  std::optional<TlsSocket> client;
  std::optional<TlsSocket> server;

  explicit TlsPair(const std::string& trustedCaPem = testPki().ca.certPem) {
    REQUIRE(pki::useCertificateChain(serverCtx.native_handle(), testPki().server.certPem,
                                     testPki().server.keyPem));
    REQUIRE(pki::addTrustedCertificates(clientCtx.native_handle(), trustedCaPem, false));
    clientCtx.set_verify_mode(asio::ssl::verify_peer);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    tcp::socket a(io);
    tcp::socket b(io);
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
    client.emplace(std::move(a), clientCtx);
    server.emplace(std::move(b), serverCtx);
    SSL_set1_host(client->native_handle(), "localhost");
  }

  /// Both handshakes; returns {client error, server error}.
  std::pair<ErrorCode, ErrorCode> handshake() {
    std::optional<ErrorCode> c;
    std::optional<ErrorCode> s;
    client->async_handshake(asio::ssl::stream_base::client, [&](ErrorCode ec) { c = ec; });
    server->async_handshake(asio::ssl::stream_base::server, [&](ErrorCode ec) { s = ec; });
    CHECK_FALSE(c);  // never completed inside the initiating call
    CHECK_FALSE(s);
    io.run();
    io.restart();
    REQUIRE(c);
    REQUIRE(s);
    return {*c, *s};
  }
};

std::string pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i % 251);
  return s;
}

}  // namespace

TEST_CASE("TlsSocket: a megabyte each way at once, header and body gathered, arrives intact",
          "[core][tls]") {
  TlsPair p;
  auto [ce, se] = p.handshake();
  REQUIRE_FALSE(ce);
  REQUIRE_FALSE(se);
  CHECK(SSL_get_verify_result(p.client->native_handle()) == X509_V_OK);

  const std::string header = "POST / HTTP/1.1\r\n\r\n";
  const std::string body = pattern(1 << 20, 'a');
  const std::string reply = pattern((1 << 20) + 17, 'z');
  std::array<asio::const_buffer, 2> request{asio::buffer(header), asio::buffer(body)};

  std::string gotByServer(header.size() + body.size(), '\0');
  std::string gotByClient(reply.size(), '\0');
  int done = 0;
  // Each side has a read and a write outstanding on the same connection.
  asio::async_write(*p.client, request, [&](ErrorCode ec, std::size_t n) {
    CHECK_FALSE(ec);
    CHECK(n == header.size() + body.size());
    ++done;
  });
  asio::async_write(*p.server, asio::buffer(reply), [&](ErrorCode ec, std::size_t n) {
    CHECK_FALSE(ec);
    CHECK(n == reply.size());
    ++done;
  });
  asio::async_read(*p.server, asio::buffer(gotByServer), [&](ErrorCode ec, std::size_t) {
    CHECK_FALSE(ec);
    ++done;
  });
  asio::async_read(*p.client, asio::buffer(gotByClient), [&](ErrorCode ec, std::size_t) {
    CHECK_FALSE(ec);
    ++done;
  });
  p.io.run();
  CHECK(done == 4);
  CHECK(gotByServer == header + body);
  CHECK(gotByClient == reply);
}

TEST_CASE("TlsSocket: a read that OpenSSL can answer from its buffer still completes later",
          "[core][tls]") {
  TlsPair p;
  auto [ce, se] = p.handshake();
  REQUIRE_FALSE(ce);
  REQUIRE_FALSE(se);
  const std::string message = "0123456789abcdef";
  asio::async_write(*p.server, asio::buffer(message), [](ErrorCode ec, std::size_t) {
    CHECK_FALSE(ec);
  });
  std::array<char, 4> first{};
  std::string rest;
  bool initiating = false;  // outlives both handlers: the second runs after the first returned
  p.client->async_read_some(asio::buffer(first), [&](ErrorCode ec, std::size_t n) {
    REQUIRE_FALSE(ec);
    REQUIRE(n == 4);
    // The record is in OpenSSL's buffer now: this read needs no socket wait.
    initiating = true;
    auto tail = std::make_shared<std::array<char, 64>>();
    p.client->async_read_some(asio::buffer(*tail), [&, tail](ErrorCode e, std::size_t m) {
      CHECK_FALSE(initiating);
      CHECK_FALSE(e);
      rest.assign(tail->data(), m);
    });
    initiating = false;
  });
  p.io.run();
  CHECK(std::string(first.data(), 4) + rest == message);
}

TEST_CASE("TlsSocket: the peer's close_notify is eof, a bare TCP close is stream_truncated",
          "[core][tls]") {
  std::array<char, 16> buf{};
  SECTION("close_notify") {
    TlsPair p;
    REQUIRE_FALSE(p.handshake().first);
    CHECK(SSL_shutdown(p.server->native_handle()) >= 0);  // sends close_notify (non-blocking)
    std::optional<ErrorCode> got;
    p.client->async_read_some(asio::buffer(buf), [&](ErrorCode ec, std::size_t) { got = ec; });
    p.io.run();
    REQUIRE(got);
    CHECK(*got == asio::error::eof);
  }
  SECTION("TCP close") {
    TlsPair p;
    REQUIRE_FALSE(p.handshake().first);
    p.server->socket().close();
    std::optional<ErrorCode> got;
    p.client->async_read_some(asio::buffer(buf), [&](ErrorCode ec, std::size_t) { got = ec; });
    p.io.run();
    REQUIRE(got);
    CHECK(*got == ErrorCode(asio::ssl::error::stream_truncated));
  }
}

TEST_CASE("TlsSocket: an untrusted server fails the handshake with an OpenSSL error and the "
          "verify result",
          "[core][tls]") {
  TlsPair p(testPki().otherCa.certPem);
  auto [ce, se] = p.handshake();
  REQUIRE(ce);
  CHECK(ce.category() == asio::error::get_ssl_category());
  CHECK(SSL_get_verify_result(p.client->native_handle()) != X509_V_OK);
  CHECK(se);  // the server sees the client's alert
}

TEST_CASE("TlsSocket: closing the socket aborts a pending read", "[core][tls]") {
  TlsPair p;
  REQUIRE_FALSE(p.handshake().first);
  std::array<char, 16> buf{};
  std::optional<ErrorCode> got;
  p.client->async_read_some(asio::buffer(buf), [&](ErrorCode ec, std::size_t) { got = ec; });
  asio::post(p.io, [&] { p.client->socket().close(); });
  p.io.run();
  REQUIRE(got);
  CHECK(*got == asio::error::operation_aborted);
}
