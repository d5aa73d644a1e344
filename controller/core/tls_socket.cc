#include "controller/core/tls_socket.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>
#include <new>

namespace rio::net {
namespace {

using BioState = TlsSocket::BioState;

BioState& state(BIO* bio) { return *static_cast<BioState*>(BIO_get_data(bio)); }

// send() with MSG_NOSIGNAL: a peer that closed the connection is an error, never SIGPIPE (the
// socket BIO of OpenSSL uses write()).
int bioWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  BioState& st = state(bio);
  for (;;) {
    ssize_t n = ::send(st.fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    st.lastErrno = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
    return -1;
  }
}

int bioRead(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  BioState& st = state(bio);
  for (;;) {
    ssize_t n = ::recv(st.fd, data, static_cast<std::size_t>(size), 0);
    if (n > 0) return static_cast<int>(n);
    if (n == 0) {
      st.lastErrno = 0;  // end of stream
      return 0;
    }
    if (errno == EINTR) continue;
    st.lastErrno = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
    return -1;
  }
}

long bioCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

BIO_METHOD* socketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rio socket");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, bioWrite);
    BIO_meth_set_read(m, bioRead);
    BIO_meth_set_ctrl(m, bioCtrl);
    return m;
  }();
  return method;
}

ErrorCode truncated() { return asio::ssl::error::stream_truncated; }

}  // namespace

TlsSocket::TlsSocket(tcp::socket socket, asio::ssl::context& ctx)
    : socket_(std::move(socket)),
      bio_(std::make_unique<BioState>()),
      ssl_(SSL_new(ctx.native_handle())) {
  BIO_METHOD* method = socketMethod();
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (!ssl_ || bio == nullptr) {
    BIO_free(bio);
    throw std::bad_alloc();
  }
  BIO_set_data(bio, bio_.get());
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_.get(), bio, bio);  // the SSL owns the BIO
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
  SSL_set_read_ahead(ssl_.get(), 1);  // a record in one recv(), not its header and then its body
}

char* TlsSocket::stagingBuffer() {
  static thread_local char buffer[kStagingBytes];
  return buffer;
}

void TlsSocket::bind(handshake_type type) {
  if (bound_) return;
  bound_ = true;
  ErrorCode ignored;
  socket_.non_blocking(true, ignored);
  bio_->fd = socket_.native_handle();
  if (type == asio::ssl::stream_base::client) {
    SSL_set_connect_state(ssl_.get());
  } else {
    SSL_set_accept_state(ssl_.get());
  }
}

TlsSocket::Step TlsSocket::handshakeStep(handshake_type type) {
  bind(type);
  ERR_clear_error();
  bio_->lastErrno = 0;
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) return {};
  return failure(r);
}

TlsSocket::Step TlsSocket::readStep(void* data, std::size_t size) {
  ERR_clear_error();
  bio_->lastErrno = 0;
  std::size_t n = 0;
  int r = SSL_read_ex(ssl_.get(), data, size, &n);
  if (r == 1) return {Want::kNothing, {}, n};
  return failure(r);
}

TlsSocket::Step TlsSocket::writeStep(const void* data, std::size_t size) {
  ERR_clear_error();
  bio_->lastErrno = 0;
  std::size_t n = 0;
  int r = SSL_write_ex(ssl_.get(), data, size, &n);
  if (r == 1) return {Want::kNothing, {}, n};
  return failure(r);
}

TlsSocket::Step TlsSocket::failure(int result) {
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_WANT_READ:
      return {Want::kRead, {}, 0};
    case SSL_ERROR_WANT_WRITE:
      return {Want::kWrite, {}, 0};
    case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify
      return {Want::kNothing, asio::error::eof, 0};
    case SSL_ERROR_SYSCALL: {
      if (unsigned long e = ERR_get_error(); e != 0) {
        return {Want::kNothing, ErrorCode(static_cast<int>(e), asio::error::get_ssl_category()), 0};
      }
      if (bio_->lastErrno != 0) {
        return {Want::kNothing, ErrorCode(bio_->lastErrno, boost::system::system_category()), 0};
      }
      return {Want::kNothing, truncated(), 0};
    }
    default: {
      unsigned long e = ERR_get_error();
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        return {Want::kNothing, truncated(), 0};
      }
#endif
      if (e == 0) return {Want::kNothing, truncated(), 0};
      return {Want::kNothing, ErrorCode(static_cast<int>(e), asio::error::get_ssl_category()), 0};
    }
  }
}

}  // namespace rio::net
