// Timers for kube-testenv (watch timeouts, bookmarks, injected latency, simulated controllers),
// behind an interface so unit tests run them by hand instead of sleeping.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "controller/core/io_runtime.h"

namespace rio::testenv {

/// Thread-safe. postAfter never runs `fn` synchronously inside the call (callers may hold locks).
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  /// Runs fn once after `delay` (0 = as soon as possible) unless the handle is cancelled first.
  virtual TimerHandlePtr postAfter(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
};
using SchedulerPtr = std::shared_ptr<Scheduler>;

/// The production scheduler: IoRuntime::postAfter. `io` must outlive the scheduler.
SchedulerPtr makeIoRuntimeScheduler(IoRuntime& io);

}  // namespace rio::testenv
