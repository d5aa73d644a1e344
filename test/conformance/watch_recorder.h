// Collects the events of one watch started through our client, so a case can wait for them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "controller/kube/client.h"

namespace rio::conformance {

/// Thread-safety: the watch callbacks run on an I/O thread; every method may be called from the
/// case's thread. Owned through a shared_ptr: the callbacks keep it alive.
class WatchRecorder : public std::enable_shared_from_this<WatchRecorder> {
 public:
  /// Starts the watch.
  static std::shared_ptr<WatchRecorder> start(kube::Client& client, const kube::Resource& resource,
                                              const std::string& ns,
                                              const kube::WatchOptions& options) {
    auto r = std::shared_ptr<WatchRecorder>(new WatchRecorder());
    std::weak_ptr<WatchRecorder> weak = r;
    kube::WatchHandler handler;
    handler.onEvent = [weak](kube::WatchEvent&& e) {
      if (auto self = weak.lock()) self->push(std::move(e));
    };
    handler.onClose = [weak](const std::optional<Error>& error) {
      if (auto self = weak.lock()) self->close(error);
    };
    r->watch_ = client.watch(resource, ns, options, std::move(handler));
    return r;
  }
  ~WatchRecorder() {
    if (watch_) watch_->stop();
  }

  /// Waits until `pred(events)` holds or the watch closed or `timeout` passed; returns pred's
  /// final value.
  bool waitFor(const std::function<bool(const std::vector<kube::WatchEvent>&)>& pred,
               std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return pred(events_) || closed_; });
    return pred(events_);
  }
  /// Waits for at least `n` events of `type` (any type when nullopt).
  bool waitForCount(std::size_t n, std::optional<kube::WatchEventType> type,
                    std::chrono::milliseconds timeout) {
    return waitFor([&](const auto& events) { return count(events, type) >= n; }, timeout);
  }
  /// Waits until the watch ended; true when it did within `timeout`.
  bool waitClosed(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return closed_; });
  }
  std::vector<kube::WatchEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  /// Why the watch ended (nullopt: normally, or still open).
  std::optional<Error> closeError() const {
    std::lock_guard lock(mu_);
    return closeError_;
  }
  void stop() {
    if (watch_) watch_->stop();
  }

  static std::size_t count(const std::vector<kube::WatchEvent>& events,
                           std::optional<kube::WatchEventType> type) {
    std::size_t n = 0;
    for (const auto& e : events) n += (!type || e.type == *type) ? 1 : 0;
    return n;
  }

 private:
  WatchRecorder() = default;
  void push(kube::WatchEvent&& e) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(std::move(e));
    }
    cv_.notify_all();
  }
  void close(const std::optional<Error>& error) {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      closeError_ = error;
    }
    cv_.notify_all();
  }

  kube::WatchPtr watch_;
  mutable std::mutex mu_;  // guards events_, closed_, closeError_
  std::condition_variable cv_;
  std::vector<kube::WatchEvent> events_;
  bool closed_ = false;
  std::optional<Error> closeError_;
};

}  // namespace rio::conformance
