// SIGTERM/SIGINT as an event on the I/O loop. The process-wide signal handler installed here is
// Asio's: it only writes the signal number to a self-pipe; the callback runs later on an I/O
// thread, where it is safe to log and to ask the manager to stop.
#pragma once

#include <functional>
#include <memory>

namespace rio {
class IoRuntime;
}

namespace rio::manager {

/// Watches SIGTERM and SIGINT while it lives (the default dispositions come back afterwards).
/// Thread-safety: construct and destroy from one non-I/O thread; the callback runs on an I/O
/// thread with the signal number and the count of signals seen so far (1 for the first).
class SignalWatcher {
 public:
  SignalWatcher(IoRuntime& io, std::function<void(int signal, int count)> onSignal);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  struct State;
  std::shared_ptr<State> state_;
  IoRuntime& io_;
};

}  // namespace rio::manager
