#include "controller/core/io_runtime.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>

#include "controller/core/asio.h"

namespace rio {

namespace asio = boost::asio;

namespace {

// A timer lives on its own strand: postAfter() arms it from the caller's thread before anyone
// else can see it, and every later touch (fire, cancel) is serialised by the strand.
class AsioTimerHandle final : public TimerHandle,
                              public std::enable_shared_from_this<AsioTimerHandle> {
 public:
  explicit AsioTimerHandle(asio::io_context& ctx)
      : strand_(asio::make_strand(ctx)), timer_(strand_) {}

  void arm(std::chrono::milliseconds delay, std::function<void()> fn) {
    timer_.expires_after(delay);
    timer_.async_wait(
        [self = shared_from_this(), fn = std::move(fn)](boost::system::error_code ec) {
          if (ec || self->cancelled_.load()) return;
          fn();
        });
  }

  void cancel() override {
    if (cancelled_.exchange(true)) return;
    // Cancelling releases the pending handler (and what it captured) now rather than at expiry.
    asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
  }

 private:
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

struct IoRuntime::State {
  asio::io_context ctx;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::mutex mu;  // guards threads and stop()
  std::atomic<bool> stopped{false};
};

IoRuntime::IoRuntime(std::size_t threads) : state_(std::make_unique<State>()) {
  state_->work.emplace(asio::make_work_guard(state_->ctx));
  threads = std::max<std::size_t>(threads, 1);
  state_->threads.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    state_->threads.emplace_back([ctx = &state_->ctx] {
      // A handler that throws is a bug; keep the loop alive for the others rather than
      // terminating the process from an I/O thread.
      for (;;) {
        try {
          ctx->run();
          return;
        } catch (...) {
        }
      }
    });
  }
}

IoRuntime::~IoRuntime() { stop(); }

asio::io_context& IoRuntime::context() { return state_->ctx; }

void IoRuntime::post(std::function<void()> fn) { asio::post(state_->ctx, std::move(fn)); }

TimerHandlePtr IoRuntime::postAfter(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto handle = std::make_shared<AsioTimerHandle>(state_->ctx);
  handle->arm(delay, std::move(fn));
  return handle;
}

bool IoRuntime::inIoThread() const { return state_->ctx.get_executor().running_in_this_thread(); }

bool IoRuntime::stopped() const { return state_->stopped.load(); }

void IoRuntime::stop() {
  std::lock_guard lock(state_->mu);
  if (state_->stopped.exchange(true)) return;
  state_->work.reset();
  state_->ctx.stop();
  const auto self = std::this_thread::get_id();
  for (auto& t : state_->threads) {
    if (t.get_id() == self) {
      t.detach();  // contract violation (stop() from an I/O thread): do not self-join
    } else if (t.joinable()) {
      t.join();
    }
  }
  state_->threads.clear();
}

}  // namespace rio
