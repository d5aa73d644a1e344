#include "controller/runtime/executor.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <queue>
#include <thread>
#include <vector>

#include "controller/core/logging.h"

namespace rio::runtime {
namespace {

void runGuarded(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    log::root().error("executor task threw", {{"error", e.what()}});
  } catch (...) {
    log::root().error("executor task threw", {{"error", "unknown exception"}});
  }
}

// The shared part of a timer: the heap holds one reference, the handle another.
struct TimerEntry {
  std::mutex mu;  // guards fn and done
  std::function<void()> fn;
  bool done = false;

  // Takes the function out unless cancelled or already taken.
  std::function<void()> take() {
    std::lock_guard lock(mu);
    if (done) return {};
    done = true;
    return std::move(fn);
  }
};

class TimerHandleImpl final : public TimerHandle {
 public:
  explicit TimerHandleImpl(std::weak_ptr<TimerEntry> entry) : entry_(std::move(entry)) {}
  void cancel() override {
    if (auto e = entry_.lock()) {
      std::function<void()> dropped;
      {
        std::lock_guard lock(e->mu);
        e->done = true;
        dropped = std::move(e->fn);
      }
      // `dropped` (and what it captured) is destroyed here, outside the entry's lock.
    }
  }

 private:
  std::weak_ptr<TimerEntry> entry_;
};

struct HeapItem {
  SteadyTime when;
  std::uint64_t seq;
  std::shared_ptr<TimerEntry> entry;
  bool operator>(const HeapItem& o) const { return when != o.when ? when > o.when : seq > o.seq; }
};

thread_local const SerialExecutor* tCurrentStrand = nullptr;

}  // namespace

struct ExecutorImpl::State {
  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  std::deque<std::function<void()>> ready;
  std::priority_queue<HeapItem, std::vector<HeapItem>, std::greater<>> timers;
  std::uint64_t seq = 0;
  bool stopping = false;
  std::vector<std::thread> threads;
  std::mutex joinMu;  // serialises shutdown()
};

ExecutorImpl::ExecutorImpl(std::size_t threads, ClockPtr clock)
    : state_(std::make_shared<State>()), clock_(std::move(clock)) {
  threads = std::max<std::size_t>(1, threads);
  for (std::size_t i = 0; i < threads; ++i) {
    state_->threads.emplace_back([state = state_, clock = clock_] {
      std::unique_lock lock(state->mu);
      while (!state->stopping) {
        SteadyTime now = clock->now();
        while (!state->timers.empty() && state->timers.top().when <= now) {
          auto entry = state->timers.top().entry;
          state->timers.pop();
          if (auto fn = entry->take()) state->ready.push_back(std::move(fn));
        }
        if (!state->ready.empty()) {
          auto fn = std::move(state->ready.front());
          state->ready.pop_front();
          if (!state->ready.empty()) state->cv.notify_one();
          lock.unlock();
          runGuarded(fn);
          fn = nullptr;  // release captures before taking the lock again
          lock.lock();
          continue;
        }
        if (state->timers.empty()) {
          state->cv.wait(lock);
        } else {
          auto wait = state->timers.top().when - now;
          state->cv.wait_for(lock,
                             std::max(wait, SteadyTime::duration(std::chrono::microseconds(50))));
        }
      }
    });
  }
}

ExecutorImpl::~ExecutorImpl() { shutdown(); }

void ExecutorImpl::post(std::function<void()> fn) {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopping) return;
    state_->ready.push_back(std::move(fn));
  }
  state_->cv.notify_one();
}

TimerHandlePtr ExecutorImpl::postAt(SteadyTime when, std::function<void()> fn) {
  auto entry = std::make_shared<TimerEntry>();
  entry->fn = std::move(fn);
  auto handle = std::make_shared<TimerHandleImpl>(entry);
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopping) return handle;
    state_->timers.push(HeapItem{when, state_->seq++, std::move(entry)});
  }
  // Every sleeper re-evaluates its deadline: the new timer may be the earliest.
  state_->cv.notify_all();
  return handle;
}

void ExecutorImpl::wake() { state_->cv.notify_all(); }

void ExecutorImpl::shutdown() {
  std::lock_guard join(state_->joinMu);
  std::deque<std::function<void()>> dropped;
  std::priority_queue<HeapItem, std::vector<HeapItem>, std::greater<>> droppedTimers;
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    dropped.swap(state_->ready);
    droppedTimers.swap(state_->timers);
  }
  state_->cv.notify_all();
  for (auto& t : state_->threads) {
    if (t.joinable()) t.join();
  }
  state_->threads.clear();
  // Dropped tasks are destroyed here, outside the lock (their captures may post again).
}

std::shared_ptr<ExecutorImpl> makeExecutor(std::size_t threads, ClockPtr clock) {
  return std::make_shared<ExecutorImpl>(threads, std::move(clock));
}

// ---------------------------------------------------------------------------------------------

std::shared_ptr<SerialExecutor> SerialExecutor::create(ExecutorPtr executor) {
  return std::shared_ptr<SerialExecutor>(new SerialExecutor(std::move(executor)));
}

void SerialExecutor::post(std::function<void()> fn) {
  bool schedule = false;
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(fn));
    if (!scheduled_) {
      scheduled_ = true;
      schedule = true;
    }
  }
  if (schedule) scheduleDrain();
}

void SerialExecutor::scheduleDrain() {
  struct Drain {
    std::shared_ptr<SerialExecutor> strand;
    bool ran = false;
    ~Drain() {
      if (!ran) strand->dropQueued();
    }
  };
  auto task = std::make_shared<Drain>();
  task->strand = shared_from_this();
  executor_->post([task] {
    task->ran = true;
    task->strand->drain();
  });
}

void SerialExecutor::dropQueued() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mu_);
    dropped.swap(tasks_);
    scheduled_ = false;
  }
  // `dropped` is destroyed here, outside the lock: a capture's destructor may post again.
}

TimerHandlePtr SerialExecutor::postAt(SteadyTime when, std::function<void()> fn) {
  std::weak_ptr<SerialExecutor> weak = weak_from_this();
  return executor_->postAt(when, [weak, fn = std::move(fn)]() mutable {
    if (auto self = weak.lock()) self->post(std::move(fn));
  });
}

TimerHandlePtr SerialExecutor::postAfter(std::chrono::nanoseconds delay, std::function<void()> fn) {
  return postAt(clock()->now() + std::chrono::duration_cast<SteadyTime::duration>(delay),
                std::move(fn));
}

bool SerialExecutor::runningInThisStrand() const { return tCurrentStrand == this; }

void SerialExecutor::drain() {
  const SerialExecutor* previous = tCurrentStrand;
  tCurrentStrand = this;
  for (int i = 0; i < kBatch; ++i) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mu_);
      if (tasks_.empty()) {
        scheduled_ = false;
        tCurrentStrand = previous;
        return;
      }
      fn = std::move(tasks_.front());
      tasks_.pop_front();
    }
    runGuarded(fn);
  }
  tCurrentStrand = previous;
  // More work is queued: yield the worker and continue behind other strands' tasks.
  scheduleDrain();
}

}  // namespace rio::runtime
