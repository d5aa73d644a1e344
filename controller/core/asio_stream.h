// A TCP connection that is either plain or TLS behind one Asio stream type, so the HTTP code of
// server.cc and transport.cc is written (and compiled) once for both. Include only from .cc files
// that do Asio I/O: it pulls in controller/core/asio.h.
#pragma once

#include <variant>

#include "controller/core/asio.h"
#include "controller/core/tls_socket.h"

namespace rio::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

/// Satisfies Asio's AsyncReadStream/AsyncWriteStream. Not thread-safe: use it on one strand (the
/// socket's executor). At most one read and one write may be outstanding, as with any socket.
class AnyStream {
 public:
  using executor_type = tcp::socket::executor_type;

  /// A plain TCP connection.
  explicit AnyStream(tcp::socket socket) : s_(std::in_place_type<tcp::socket>, std::move(socket)) {}
  /// A TLS connection over `socket`; the handshake is the caller's (tls()->async_handshake).
  AnyStream(tcp::socket socket, asio::ssl::context& ctx)
      : s_(std::in_place_type<TlsSocket>, std::move(socket), ctx) {}

  executor_type get_executor() noexcept { return socket().get_executor(); }

  /// The TLS layer, or null for a plain connection.
  TlsSocket* tls() noexcept { return std::get_if<TlsSocket>(&s_); }

  /// The TCP socket underneath (for close, shutdown, endpoints, options).
  tcp::socket& socket() noexcept {
    if (auto* t = tls()) return t->socket();
    return std::get<tcp::socket>(s_);
  }

  /// Closes the socket; pending operations complete with operation_aborted. Never throws.
  void close() noexcept {
    ErrorCode ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return asio::async_initiate<ReadHandler, void(ErrorCode, std::size_t)>(
        [this](auto h, const MutableBufferSequence& b) {
          if (auto* t = tls()) {
            t->async_read_some(b, std::move(h));
          } else {
            std::get<tcp::socket>(s_).async_read_some(b, std::move(h));
          }
        },
        handler, buffers);
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return asio::async_initiate<WriteHandler, void(ErrorCode, std::size_t)>(
        [this](auto h, const ConstBufferSequence& b) {
          if (auto* t = tls()) {
            t->async_write_some(b, std::move(h));
          } else {
            std::get<tcp::socket>(s_).async_write_some(b, std::move(h));
          }
        },
        handler, buffers);
  }

 private:
  std::variant<tcp::socket, TlsSocket> s_;
};

/// A steady_timer that is re-armed for successive deadlines (read, then idle, ...). An expiry
/// that was already queued when the timer was re-armed or cancelled is recognised by its
/// generation and ignored, which a plain cancel() cannot guarantee.
/// Not thread-safe: use it on the strand of its executor.
class DeadlineTimer {
 public:
  explicit DeadlineTimer(const tcp::socket::executor_type& ex) : timer_(ex) {}

  /// Calls `onExpiry` after `d` unless re-armed or cancelled first. `onExpiry` must keep the
  /// owner of this timer alive (capture its shared_ptr).
  template <class F>
  void arm(std::chrono::steady_clock::duration d, F onExpiry) {
    cancel();
    timer_.expires_after(d);
    timer_.async_wait([this, gen = generation_, f = std::move(onExpiry)](ErrorCode ec) mutable {
      if (!ec && gen == generation_) f();
    });
  }
  void cancel() {
    ++generation_;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  std::uint64_t generation_ = 0;
};

/// "127.0.0.1:8080" / "[::1]:8080".
inline std::string formatEndpoint(const tcp::endpoint& ep) {
  auto addr = ep.address().to_string();
  if (ep.address().is_v6()) addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

}  // namespace rio::net
