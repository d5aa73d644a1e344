#include "test/support/raw_tcp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace rio::testing {

RawConnection::~RawConnection() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

std::unique_ptr<RawConnection> RawConnection::connect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return nullptr;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<RawConnection>(fd, true);
}

std::string RawConnection::readUntil(std::string_view marker) {
  while (buffer_.find(marker) == std::string::npos) {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  auto pos = buffer_.find(marker);
  std::size_t end = pos == std::string::npos ? buffer_.size() : pos + marker.size();
  std::string out = buffer_.substr(0, end);
  buffer_.erase(0, end);
  return out;
}

std::string RawConnection::readAll() {
  std::string out = std::move(buffer_);
  buffer_.clear();
  char chunk[4096];
  for (;;) {
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    out.append(chunk, static_cast<std::size_t>(n));
  }
  return out;
}

void RawConnection::close() {
  if (fd_ < 0) return;
  if (owned_) {
    ::close(fd_);
    fd_ = -1;
  } else {
    ::shutdown(fd_, SHUT_RDWR);
  }
}

std::string RawConnection::readRequest() {
  for (;;) {
    auto end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t length = 0;
      std::string head = buffer_.substr(0, end);
      std::string lower = head;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto pos = lower.find("content-length:");
      if (pos != std::string::npos) length = std::stoul(head.substr(pos + 15));
      if (buffer_.size() >= end + 4 + length) {
        std::string request = buffer_.substr(0, end + 4 + length);
        buffer_.erase(0, end + 4 + length);
        return request;
      }
    }
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return {};
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool RawConnection::write(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void RawConnection::waitForClose() {
  char chunk[4096];
  while (::recv(fd_, chunk, sizeof chunk, 0) > 0) {
  }
}

RawTcpServer::RawTcpServer(std::function<void(RawConnection&)> fn) : fn_(std::move(fn)) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (listenFd_ < 0 || ::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listenFd_, 64) != 0) {
    throw std::runtime_error("RawTcpServer: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptThread_ = std::thread([this] { acceptLoop(); });
}

RawTcpServer::~RawTcpServer() {
  stopping_ = true;
  ::shutdown(listenFd_, SHUT_RDWR);
  acceptThread_.join();
  ::close(listenFd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  for (int fd : fds_) ::close(fd);
}

void RawTcpServer::acceptLoop() {
  while (!stopping_) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept(listenFd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++accepted_;
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    fds_.push_back(fd);
    threads_.emplace_back([this, fd] {
      RawConnection conn(fd);
      fn_(conn);
      ::shutdown(fd, SHUT_RDWR);
      // The fd stays open (and listed) until the server goes away, so a shutdown() from the
      // destructor never hits a reused descriptor.
    });
  }
}

}  // namespace rio::testing
