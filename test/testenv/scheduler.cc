#include "test/testenv/scheduler.h"

namespace rio::testenv {
namespace {

class IoRuntimeScheduler final : public Scheduler {
 public:
  explicit IoRuntimeScheduler(IoRuntime& io) : io_(io) {}
  TimerHandlePtr postAfter(std::chrono::milliseconds delay, std::function<void()> fn) override {
    return io_.postAfter(delay, std::move(fn));
  }

 private:
  IoRuntime& io_;
};

}  // namespace

SchedulerPtr makeIoRuntimeScheduler(IoRuntime& io) {
  return std::make_shared<IoRuntimeScheduler>(io);
}

}  // namespace rio::testenv
