// TLS over a TCP socket, with OpenSSL reading and writing the (non-blocking) socket itself and
// Asio only telling when the socket is ready. Include only from .cc files that do Asio I/O.
//
// Why not asio::ssl::stream: it keeps four 17 KiB buffers per connection for the connection's
// whole life (its own input and output buffers and an OpenSSL BIO pair), 68 KiB for each open
// watch, and the operator holds eleven watches per remote cluster. Here an idle connection keeps
// only OpenSSL's SSL, whose record buffers are released while empty (SSL_MODE_RELEASE_BUFFERS),
// and every byte is copied once less.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>

#include "controller/core/asio.h"

namespace rio::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

/// Satisfies Asio's AsyncReadStream/AsyncWriteStream. Errors are those of asio::ssl::stream:
/// OpenSSL failures in asio::error::get_ssl_category(), a close_notify from the peer as
/// asio::error::eof, a connection closed without one as asio::ssl::error::stream_truncated.
/// Not thread-safe: use it on one strand (the socket's executor). At most one handshake or read
/// and one write may be outstanding; handlers never run inside the initiating call.
class TlsSocket {
 public:
  using executor_type = tcp::socket::executor_type;
  using handshake_type = asio::ssl::stream_base::handshake_type;

  /// A TLS connection over `socket` (connected now or later, before the handshake), configured
  /// by `ctx`. Throws std::bad_alloc when OpenSSL cannot allocate.
  TlsSocket(tcp::socket socket, asio::ssl::context& ctx);
  TlsSocket(TlsSocket&&) noexcept = default;
  TlsSocket& operator=(TlsSocket&&) noexcept = default;
  ~TlsSocket() = default;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  tcp::socket& socket() noexcept { return socket_; }
  /// For settings before the handshake (SNI, host name checks) and inspection after it.
  SSL* native_handle() noexcept { return ssl_.get(); }

  template <class HandshakeHandler>
  auto async_handshake(handshake_type type, HandshakeHandler&& handler) {
    return asio::async_compose<HandshakeHandler, void(ErrorCode)>(
        Op<false, Handshake>{*this, Handshake{this, type}}, handler, socket_);
  }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    auto read = [this, buffers] {
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
           ++it) {
        asio::mutable_buffer b(*it);
        if (b.size() > 0) return readStep(b.data(), b.size());
      }
      return Step{};
    };
    return asio::async_compose<ReadHandler, void(ErrorCode, std::size_t)>(
        Op<true, decltype(read)>{*this, std::move(read)}, handler, socket_);
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    auto write = [this, buffers] {
      // One TLS record from several small buffers (an HTTP header and its body) is one write to
      // the socket, not one per buffer. A retry after kWrite copies the same bytes again.
      std::size_t total = asio::buffer_size(buffers);
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
           ++it) {
        asio::const_buffer b(*it);
        if (b.size() == 0) continue;
        if (b.size() == total) return writeStep(b.data(), b.size());
        break;
      }
      if (total == 0) return Step{};
      std::size_t n = asio::buffer_copy(asio::buffer(stagingBuffer(), kStagingBytes), buffers);
      return writeStep(stagingBuffer(), n);
    };
    return asio::async_compose<WriteHandler, void(ErrorCode, std::size_t)>(
        Op<true, decltype(write)>{*this, std::move(write)}, handler, socket_);
  }

 /// What the socket BIO needs (internal): the descriptor and the errno of its last failure.
  struct BioState {
    int fd = -1;
    int lastErrno = 0;
  };

 private:
  enum class Want { kNothing, kRead, kWrite };
  /// One non-blocking attempt: done (`ec`, `bytes`) or waiting for the socket.
  struct Step {
    Want want = Want::kNothing;
    ErrorCode ec;
    std::size_t bytes = 0;
  };
  struct Handshake {
    TlsSocket* self;
    handshake_type type;
    Step operator()() const { return self->handshakeStep(type); }
  };
  struct SslFree {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
  };

  static constexpr std::size_t kStagingBytes = 16 * 1024;  // one TLS record's plaintext
  static char* stagingBuffer();

  Step handshakeStep(handshake_type type);
  Step readStep(void* data, std::size_t size);
  Step writeStep(const void* data, std::size_t size);
  Step failure(int result);
  /// Before the first handshake step: points the BIO at the socket (opened since construction,
  /// now non-blocking) and tells OpenSSL its side.
  void bind(handshake_type type);

  /// Repeats `attempt` until it is done, waiting for readiness in between. A result that needed
  /// no wait is delivered through the executor.
  template <bool kWithBytes, class Attempt>
  struct Op {
    TlsSocket& s;
    Attempt attempt;
    bool waited = false;
    bool deferred = false;
    Step result{};

    template <class Self>
    void operator()(Self& self, ErrorCode waitError = {}) {
      if (deferred) return finish(self, result);
      if (waitError) return finish(self, Step{Want::kNothing, waitError, 0});
      Step step = attempt();
      if (step.want != Want::kNothing) {
        waited = true;
        s.socket_.async_wait(
            step.want == Want::kRead ? tcp::socket::wait_read : tcp::socket::wait_write,
            std::move(self));
        return;
      }
      if (waited) return finish(self, step);
      deferred = true;
      result = step;
      asio::post(s.socket_.get_executor(), std::move(self));
    }

    template <class Self>
    static void finish(Self& self, const Step& step) {
      if constexpr (kWithBytes) {
        self.complete(step.ec, step.bytes);
      } else {
        self.complete(step.ec);
      }
    }
  };

  tcp::socket socket_;
  std::unique_ptr<BioState> bio_;
  std::unique_ptr<SSL, SslFree> ssl_;
  bool bound_ = false;
};

}  // namespace rio::net
