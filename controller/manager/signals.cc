#include "controller/manager/signals.h"

#include <csignal>
#include <future>

#include "controller/core/asio.h"
#include "controller/core/io_runtime.h"

namespace rio::manager {

struct SignalWatcher::State : std::enable_shared_from_this<SignalWatcher::State> {
  State(boost::asio::io_context& ctx, std::function<void(int, int)> fn)
      : signals(ctx, SIGTERM, SIGINT), onSignal(std::move(fn)) {}
  void arm() {
    signals.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int sig) {
      if (ec) return;  // cancelled
      ++self->count;
      self->onSignal(sig, self->count);
      self->arm();
    });
  }
  boost::asio::signal_set signals;
  std::function<void(int, int)> onSignal;
  int count = 0;  // I/O thread only
};

SignalWatcher::SignalWatcher(IoRuntime& io, std::function<void(int, int)> onSignal)
    : state_(std::make_shared<State>(io.context(), std::move(onSignal))), io_(io) {
  // The signal_set is used only on I/O threads after this point.
  if (io_.stopped()) return;
  std::promise<void> armed;
  io_.post([state = state_, &armed] {
    state->arm();
    armed.set_value();
  });
  armed.get_future().wait();
}

SignalWatcher::~SignalWatcher() {
  if (io_.stopped()) return;
  std::promise<void> done;
  io_.post([state = state_, &done] {
    boost::system::error_code ec;
    state->signals.clear(ec);  // restores the default dispositions
    state->signals.cancel(ec);
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace rio::manager
