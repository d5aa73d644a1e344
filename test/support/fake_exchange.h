// An http::Exchange that records what a handler answered, for testing handlers (kube-testenv's API
// server) without sockets.
#pragma once

#include <condition_variable>
#include <mutex>

#include "controller/http/server.h"

namespace rio::testing {

class FakeExchange final : public http::Exchange {
 public:
  void respond(int status, http::Headers headers, std::string body) override {
    std::lock_guard lock(mu_);
    if (responded_ || closed_) return;
    responded_ = true;
    status_ = status;
    headers_ = std::move(headers);
    body_ = std::move(body);
    cv_.notify_all();
  }
  void startStream(int status, http::Headers headers) override {
    std::lock_guard lock(mu_);
    responded_ = true;
    streaming_ = true;
    status_ = status;
    headers_ = std::move(headers);
    cv_.notify_all();
  }
  void write(std::string chunk) override {
    std::lock_guard lock(mu_);
    if (closed_) return;
    body_ += chunk;
    cv_.notify_all();
  }
  void finish() override {
    std::lock_guard lock(mu_);
    finished_ = true;
    cv_.notify_all();
  }
  void abort() override { clientGone(); }
  bool closed() const override {
    std::lock_guard lock(mu_);
    return closed_;
  }
  void onClosed(std::function<void()> fn) override {
    bool now;
    {
      std::lock_guard lock(mu_);
      now = closed_;
      if (!now) onClosed_.push_back(std::move(fn));
    }
    if (now) fn();
  }
  /// Simulates the client going away.
  void clientGone() {
    std::vector<std::function<void()>> fns;
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
      fns.swap(onClosed_);
      cv_.notify_all();
    }
    for (auto& fn : fns) fn();
  }

  int status() const { std::lock_guard lock(mu_); return status_; }
  std::string body() const { std::lock_guard lock(mu_); return body_; }
  http::Headers headers() const { std::lock_guard lock(mu_); return headers_; }
  bool responded() const { std::lock_guard lock(mu_); return responded_; }
  bool streaming() const { std::lock_guard lock(mu_); return streaming_; }
  bool finished() const { std::lock_guard lock(mu_); return finished_; }
  /// Waits (up to `timeout`) until `pred(body)` holds; for streams written from other threads.
  template <class Pred>
  bool waitFor(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(body_); });
  }

 private:
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  int status_ = 0;
  http::Headers headers_;
  std::string body_;
  bool responded_ = false;
  bool streaming_ = false;
  bool finished_ = false;
  bool closed_ = false;
  std::vector<std::function<void()>> onClosed_;
};

}  // namespace rio::testing
