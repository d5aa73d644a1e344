// A manual Executor for tests: nothing runs until the test calls runReady() (on the test thread),
// and timers fire only when the FakeClock has been moved past them. Deterministic: no threads.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "controller/runtime/executor.h"
#include "test/support/fake_clock.h"

namespace rio::testing {

class FakeExecutor final : public runtime::Executor {
 public:
  explicit FakeExecutor(std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>())
      : fakeClock_(std::move(clock)), clock_(fakeClock_) {}

  void post(std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    ready_.push_back(std::move(fn));
  }

  TimerHandlePtr postAt(SteadyTime when, std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    auto id = nextId_++;
    timers_.emplace(std::make_pair(when, id), std::move(fn));
    return std::make_shared<Handle>(this->weakState(), when, id);
  }

  const ClockPtr& clock() const override { return clock_; }
  FakeClock& fakeClock() { return *fakeClock_; }

  /// Runs queued tasks and due timers, in order, until none is left. Returns how many ran.
  std::size_t runReady() {
    std::size_t ran = 0;
    for (;;) {
      std::function<void()> fn;
      {
        std::lock_guard lock(mu_);
        SteadyTime now = clock_->now();
        while (!timers_.empty() && timers_.begin()->first.first <= now) {
          ready_.push_back(std::move(timers_.begin()->second));
          timers_.erase(timers_.begin());
        }
        if (ready_.empty()) return ran;
        fn = std::move(ready_.front());
        ready_.pop_front();
      }
      fn();
      ++ran;
    }
  }

  /// Moves the clock forward in steps no larger than `step`, running what becomes due on the way
  /// (so a timer that re-arms itself fires as often as it would in real time).
  template <class Rep, class Period>
  std::size_t advance(std::chrono::duration<Rep, Period> d,
                      std::chrono::milliseconds step = std::chrono::milliseconds(10)) {
    std::size_t ran = runReady();
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(d);
    while (left.count() > 0) {
      auto s = std::min<std::chrono::nanoseconds>(left, step);
      fakeClock_->advance(s);
      left -= s;
      ran += runReady();
    }
    return ran;
  }

  /// When the earliest pending timer is due, if any.
  std::optional<SteadyTime> nextTimer() const {
    std::lock_guard lock(mu_);
    if (timers_.empty()) return std::nullopt;
    return timers_.begin()->first.first;
  }
  std::size_t pendingTimers() const {
    std::lock_guard lock(mu_);
    return timers_.size();
  }
  /// Drops every queued task and timer (breaks the executor <-> strand reference cycles at the
  /// end of a test, as ExecutorImpl::shutdown() does in production).
  void shutdown() {
    std::deque<std::function<void()>> ready;
    std::map<Key, std::function<void()>> timers;
    {
      std::lock_guard lock(mu_);
      ready.swap(ready_);
      timers.swap(timers_);
    }
  }

 private:
  using Key = std::pair<SteadyTime, std::uint64_t>;
  struct Shared {
    FakeExecutor* self;
  };

  class Handle final : public TimerHandle {
   public:
    Handle(std::weak_ptr<Shared> shared, SteadyTime when, std::uint64_t id)
        : shared_(std::move(shared)), key_(when, id) {}
    void cancel() override {
      if (auto s = shared_.lock()) s->self->cancel(key_);
    }

   private:
    std::weak_ptr<Shared> shared_;
    Key key_;
  };

  std::weak_ptr<Shared> weakState() { return shared_; }
  void cancel(const Key& key) {
    std::function<void()> dropped;
    {
      std::lock_guard lock(mu_);
      auto it = timers_.find(key);
      if (it == timers_.end()) return;
      dropped = std::move(it->second);
      timers_.erase(it);
    }
  }

  std::shared_ptr<FakeClock> fakeClock_;
  ClockPtr clock_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>(Shared{this});
  mutable std::mutex mu_;  // guards ready_, timers_, nextId_
  std::deque<std::function<void()>> ready_;
  std::map<Key, std::function<void()>> timers_;
  std::uint64_t nextId_ = 0;
};

}  // namespace rio::testing
