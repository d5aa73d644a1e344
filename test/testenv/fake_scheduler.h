// A Scheduler for tests: tasks run only when the test advances time or asks for due tasks, on the
// test's thread. Optionally moves a FakeClock along, so timestamps agree with timer time.
#pragma once

#include <map>
#include <mutex>

#include "test/support/fake_clock.h"
#include "test/testenv/scheduler.h"

namespace rio::testenv {

class FakeScheduler final : public Scheduler {
 public:
  explicit FakeScheduler(std::shared_ptr<testing::FakeClock> clock = nullptr)
      : clock_(std::move(clock)) {}

  TimerHandlePtr postAfter(std::chrono::milliseconds delay, std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    auto task = std::make_shared<Task>();
    task->fn = std::move(fn);
    tasks_.emplace(std::make_pair(now_ + delay, seq_++), task);
    return task;
  }

  /// Runs every task due at the current time (including ones they schedule with delay 0).
  /// Returns how many ran.
  std::size_t runDue() { return advance(std::chrono::milliseconds(0)); }

  /// Moves time forward by `d` (and the clock, if any), running tasks in due order.
  std::size_t advance(std::chrono::milliseconds d) {
    std::size_t ran = 0;
    std::chrono::milliseconds target;
    {
      std::lock_guard lock(mu_);
      target = now_ + d;
    }
    while (true) {
      std::shared_ptr<Task> task;
      {
        std::lock_guard lock(mu_);
        auto it = tasks_.begin();
        if (it == tasks_.end() || it->first.first > target) break;
        if (clock_ && it->first.first > now_) clock_->advance(it->first.first - now_);
        now_ = std::max(now_, it->first.first);
        task = it->second;
        tasks_.erase(it);
      }
      if (!task->cancelled) {
        task->fn();
        ++ran;
      }
    }
    std::lock_guard lock(mu_);
    if (clock_ && target > now_) clock_->advance(target - now_);
    now_ = target;
    return ran;
  }

  /// Tasks not yet run (cancelled ones included until their time passes).
  std::size_t pending() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [when, t] : tasks_) n += t->cancelled ? 0 : 1;
    return n;
  }

 private:
  struct Task final : TimerHandle {
    std::function<void()> fn;
    std::atomic<bool> cancelled{false};
    void cancel() override { cancelled = true; }
  };

  mutable std::mutex mu_;  // guards tasks_, now_, seq_
  std::shared_ptr<testing::FakeClock> clock_;
  std::chrono::milliseconds now_{0};
  std::uint64_t seq_ = 0;
  std::map<std::pair<std::chrono::milliseconds, std::uint64_t>, std::shared_ptr<Task>> tasks_;
};

}  // namespace rio::testenv
