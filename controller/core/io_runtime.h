// The Asio event loop shared by every network component of one process (REST transports, watch
// streams, the HTTP server, timers). Asio stays out of most headers: only .cc files that do I/O
// include <boost/asio.hpp> (through controller/core/asio.h), which keeps builds fast.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace rio {

/// Cancels a timer started with IoRuntime::postAfter. Cancelling after it fired is a no-op.
class TimerHandle {
 public:
  virtual ~TimerHandle() = default;
  virtual void cancel() = 0;
};
using TimerHandlePtr = std::shared_ptr<TimerHandle>;

/// Owns an io_context and the threads that run it.
/// Thread-safety: every method may be called from any thread. Callbacks run on the I/O threads
/// and must not block (no synchronous REST calls from inside them).
class IoRuntime {
 public:
  explicit IoRuntime(std::size_t threads = 1);
  ~IoRuntime();  // stop()
  IoRuntime(const IoRuntime&) = delete;
  IoRuntime& operator=(const IoRuntime&) = delete;

  /// The underlying context, for .cc files that do Asio I/O.
  boost::asio::io_context& context();
  /// Runs fn on an I/O thread as soon as possible.
  void post(std::function<void()> fn);
  /// Runs fn on an I/O thread after `delay` unless the returned handle is cancelled first.
  /// The handle may be dropped without cancelling (the timer still fires).
  TimerHandlePtr postAfter(std::chrono::milliseconds delay, std::function<void()> fn);
  /// True when called from one of this runtime's I/O threads.
  bool inIoThread() const;
  /// True once stop() ran: posted handlers no longer run. Components that wait for an I/O
  /// thread (Server::stop, Transport::roundTrip) check it instead of waiting forever.
  bool stopped() const;
  /// Stops the loop and joins its threads; pending handlers are dropped. Idempotent. Must not be
  /// called from an I/O thread.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rio
