// A scripted Transport for unit tests of the REST client: answers round trips from a queue or a
// function, records every request, and lets the test drive streams by hand.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "controller/kube/transport.h"

namespace rio::testing {

class FakeStream final : public kube::Stream {
 public:
  explicit FakeStream(kube::StreamCallbacks cb) : cb_(std::move(cb)) {}
  void cancel() override { close(Error::cancelled("stream cancelled")); }

  void headers(int status) { cb_.onHeaders(status, {}); }
  void data(std::string_view bytes) {
    if (!closed_) cb_.onData(bytes);
  }
  void close(std::optional<Error> error = std::nullopt) {
    if (closed_) return;
    closed_ = true;
    cb_.onClose(error);
  }
  bool closed() const { return closed_; }

 private:
  kube::StreamCallbacks cb_;
  bool closed_ = false;
};

class FakeTransport final : public kube::Transport {
 public:
  using Responder = std::function<Expected<http::Response>(const http::Request&)>;

  FakeTransport() { endpoint_.host = "fake.example"; endpoint_.port = 6443; }

  /// Answers in order; when the queue is empty the responder (if any) answers, else 500.
  void enqueue(Expected<http::Response> response) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(response));
  }
  void enqueue(int status, std::string body, http::Headers headers = {}) {
    enqueue(http::Response{status, std::move(headers), std::move(body)});
  }
  void setResponder(Responder responder) {
    std::lock_guard lock(mu_);
    responder_ = std::move(responder);
  }

  Expected<http::Response> roundTrip(const http::Request& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (!queue_.empty()) {
      auto r = std::move(queue_.front());
      queue_.pop_front();
      return r;
    }
    if (responder_) return responder_(request);
    return http::Response{500, {}, "no scripted response"};
  }

  kube::StreamPtr stream(const http::Request& request, kube::StreamCallbacks callbacks) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    auto s = std::make_shared<FakeStream>(std::move(callbacks));
    streams_.push_back(s);
    return s;
  }

  const kube::Endpoint& endpoint() const override { return endpoint_; }
  void setPathPrefix(std::string prefix) { endpoint_.pathPrefix = std::move(prefix); }
  void closeIdleConnections() override {}

  std::vector<http::Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::shared_ptr<FakeStream> lastStream() const {
    std::lock_guard lock(mu_);
    return streams_.empty() ? nullptr : streams_.back();
  }

 private:
  mutable std::mutex mu_;  // guards everything below
  kube::Endpoint endpoint_;
  std::deque<Expected<http::Response>> queue_;
  Responder responder_;
  std::vector<http::Request> requests_;
  std::vector<std::shared_ptr<FakeStream>> streams_;
};

}  // namespace rio::testing
