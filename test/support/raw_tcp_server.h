// A deliberately primitive HTTP-ish server over blocking POSIX sockets, for the failures a real
// server does not produce on demand: accept and never answer, close mid-response, close a
// keep-alive connection after a request. One thread per connection; loopback only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rio::testing {

/// One accepted connection, handed to the server's function on its own thread.
class RawConnection {
 public:
  /// Wraps `fd`; closes it on destruction only when `owned`.
  explicit RawConnection(int fd, bool owned = false) : fd_(fd), owned_(owned) {}
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// A client connection to 127.0.0.1:port (null when refused), with a 10 s receive timeout so
  /// a test fails instead of hanging.
  static std::unique_ptr<RawConnection> connect(std::uint16_t port);
  /// Reads one request (headers and a Content-Length body). Empty when the peer closed.
  std::string readRequest();
  /// Writes all of `data`; false when the peer is gone.
  bool write(std::string_view data);
  /// Blocks until the peer closes (or the server shuts down).
  void waitForClose();
  /// Reads until `marker` was seen (returns everything read so far, marker included) or the
  /// peer closed (returns what arrived).
  std::string readUntil(std::string_view marker);
  /// Reads until the peer closes.
  std::string readAll();
  /// Closes the connection (a client that goes away).
  void close();
  int fd() const { return fd_; }

 private:
  int fd_;
  bool owned_;
  std::string buffer_;
};

class RawTcpServer {
 public:
  /// `fn` runs once per accepted connection; the connection is closed when it returns.
  explicit RawTcpServer(std::function<void(RawConnection&)> fn);
  /// Unblocks every connection (shutdown) and joins the threads.
  ~RawTcpServer();
  RawTcpServer(const RawTcpServer&) = delete;
  RawTcpServer& operator=(const RawTcpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// Connections accepted so far.
  int connections() const { return accepted_.load(); }

 private:
  void acceptLoop();

  std::function<void(RawConnection&)> fn_;
  int listenFd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;  // guards fds_ and threads_
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptThread_;
};

}  // namespace rio::testing
