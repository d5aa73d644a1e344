// Bearer tokens that may change while the process runs: kubelet rotates projected
// service-account tokens in place, and the operator re-mints the tokens it uses for remote clusters.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "api/meta/error.h"
#include "controller/core/clock.h"

namespace rio::kube {

/// Supplies the bearer token for each request. Thread-safe.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  /// The current token. Errors when a token file cannot be read.
  virtual Expected<std::string> token() = 0;
  /// Called after a 401: drop any cached value so the next token() reads it afresh. Returns true
  /// when a fresh read is possible (so a retry is worth it).
  virtual bool invalidate() = 0;
};
using TokenSourcePtr = std::shared_ptr<TokenSource>;

/// A fixed token (kubeconfig `token`).
class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
  Expected<std::string> token() override { return token_; }
  bool invalidate() override { return false; }

 private:
  const std::string token_;
};

/// A token replaced in memory by its owner (tokens the operator mints with TokenRequest).
class RotatingTokenSource final : public TokenSource {
 public:
  explicit RotatingTokenSource(std::string token) : token_(std::move(token)) {}
  Expected<std::string> token() override {
    std::lock_guard lock(mu_);
    return token_;
  }
  bool invalidate() override { return false; }
  void set(std::string token) {
    std::lock_guard lock(mu_);
    token_ = std::move(token);
  }

 private:
  std::mutex mu_;  // guards token_
  std::string token_;
};

/// A token read from a file (kubeconfig `tokenFile`, the in-cluster mount), re-read whenever the
/// file's modification time or size changes, and at most once a `maxAge` otherwise.
class FileTokenSource final : public TokenSource {
 public:
  explicit FileTokenSource(std::string path, ClockPtr clock = systemClock(),
                           std::chrono::seconds maxAge = std::chrono::seconds(60));
  Expected<std::string> token() override;
  bool invalidate() override;
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const ClockPtr clock_;
  const std::chrono::seconds maxAge_;
  std::mutex mu_;  // guards the cache below
  std::string cached_;
  long long mtimeNs_ = -1;
  long long size_ = -1;
  SteadyTime readAt_{};
};

}  // namespace rio::kube
