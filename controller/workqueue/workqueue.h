// The controller workqueue, with client-go's semantics:
//  - dedupe: a key added many times before a worker takes it is processed once;
//  - a key is never handed to two workers at once: a key added while it is being processed is
//    queued again only when done() is called for it;
//  - delayed adds (addAfter) on the injected clock, keeping the earliest time when a key is
//    delayed twice; rate-limited adds (addRateLimited) through a RateLimiter; forget();
//  - shutDown() stops accepting keys (queued keys are still handed out until the queue is
//    empty, then get() returns nullopt); shutDownWithDrain() also waits until every key handed
//    out has been done();
//  - priorities, as controller-runtime's priority queue: get() hands out the highest priority
//    first, in the order added within one priority; adding a queued or delayed key with a higher
//    priority raises it (never lowers it). Controllers give the objects of an informer's initial
//    list kLowPriority, so after a start or a failover a change made meanwhile is not queued
//    behind every object that only needs a look;
//  - workqueue_* metrics with controller-runtime's names.
//
// Threading: one mutex guards the queue; get() blocks on a condition variable. Delays use one
// armed timer on the shared runtime::Executor (the earliest deadline), not a thread per queue.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "controller/runtime/executor.h"
#include "controller/workqueue/metrics.h"
#include "controller/workqueue/rate_limiter.h"

namespace rio::workqueue {

/// What add() and its siblings use unless told otherwise.
inline constexpr int kNormalPriority = 0;
/// controller-runtime's handler.LowPriority: objects that only need a routine look.
inline constexpr int kLowPriority = -100;

template <class T, class Hash = std::hash<T>>
struct WorkQueueOptions {
  /// Required: runs delayed adds and the periodic unfinished-work gauges; its clock is the
  /// queue's clock for delays and metrics.
  runtime::ExecutorPtr executor;
  /// Null: defaultRateLimiter<T>(executor->clock()) (5 ms .. 60 s per item, 10 qps / burst 100).
  RateLimiterPtr<T, Hash> rateLimiter;
  /// Null: no metrics. Otherwise from WorkQueueMetrics::forQueue(name).
  QueueMetricsPtr metrics;
  /// How often unfinished_work_seconds / longest_running_processor_seconds are refreshed.
  std::chrono::milliseconds metricsUpdatePeriod{500};
};

/// Thread-safety: every method may be called from any thread (get() blocks; do not call it from
/// an I/O thread). Ownership: created with create(); timers hold only weak references, so the
/// queue may be destroyed with timers pending.
template <class T, class Hash = std::hash<T>>
class WorkQueue : public std::enable_shared_from_this<WorkQueue<T, Hash>> {
 public:
  using Options = WorkQueueOptions<T, Hash>;

  /// Creates a queue. `options.executor` must be set.
  static std::shared_ptr<WorkQueue> create(Options options) {
    auto q = std::shared_ptr<WorkQueue>(new WorkQueue(std::move(options)));
    if (q->metrics_) q->scheduleMetricsUpdate();
    return q;
  }

  ~WorkQueue() {
    if (timer_) timer_->cancel();
    if (metricsTimer_) metricsTimer_->cancel();
  }

  /// Marks `item` as needing processing at `priority`. When it is already queued only a higher
  /// priority changes anything (dedupe); when it is being processed it is queued again once
  /// done() is called, at the highest priority asked for meanwhile. No-op after shutdown.
  void add(const T& item, int priority = kNormalPriority) {
    std::lock_guard lock(mu_);
    addLocked(item, priority);
  }

  /// Moves `item` up to `priority` if it is already queued below it (or waiting to be queued
  /// again after its current processing); otherwise does nothing: an item that is not queued is
  /// not added, and a delayed one (a backoff, say) keeps its time. Returns true when raised.
  bool raise(const T& item, int priority) {
    std::lock_guard lock(mu_);
    if (shuttingDown_) return false;
    auto it = dirty_.find(item);
    return it != dirty_.end() && raiseLocked(it, priority);
  }

  /// add() once `delay` has passed on the clock; with delay <= 0, add() now. When `item` is
  /// already waiting, the earlier of the two times and the higher of the two priorities win.
  void addAfter(const T& item, std::chrono::nanoseconds delay, int priority = kNormalPriority) {
    std::lock_guard lock(mu_);
    if (shuttingDown_) return;
    if (delay.count() <= 0) {
      addLocked(item, priority);
      return;
    }
    SteadyTime when = clock_->now() + std::chrono::duration_cast<SteadyTime::duration>(delay);
    auto it = waiting_.find(item);
    if (it != waiting_.end()) {
      it->second.priority = std::max(it->second.priority, priority);
      if (it->second.when <= when) return;
      it->second.when = when;
    } else {
      waiting_.emplace(item, Waiting{when, priority});
    }
    heap_.push(Delayed{when, seq_++, item});
    armLocked(when);
  }

  /// addAfter(item, rateLimiter.when(item), priority): the item's next retry, with backoff.
  /// Counts a retry.
  void addRateLimited(const T& item, int priority = kNormalPriority) {
    if (shuttingDown()) return;
    if (metrics_) metrics_->retried();
    addAfter(item, limiter_->when(item), priority);
  }

  /// Resets `item`'s backoff (call after it was processed successfully).
  void forget(const T& item) { limiter_->forget(item); }
  /// Rate-limited adds of `item` since it was last forgotten.
  int numRequeues(const T& item) const { return limiter_->numRequeues(item); }

  /// Blocks until an item is available and hands it out (the caller must call done(item)):
  /// the highest priority first, first come first served within one.
  /// Returns nullopt once the queue is shut down and empty.
  std::optional<T> get() {
    auto got = getWithPriority();
    if (!got) return std::nullopt;
    return std::move(got->first);
  }

  /// get(), with the priority the item was queued at (to requeue it at the same one).
  std::optional<std::pair<T, int>> getWithPriority() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queued_.empty() || shuttingDown_; });
    if (queued_.empty()) return std::nullopt;
    auto [item, priority] = popLocked();
    SteadyTime now = clock_->now();
    processing_.emplace(item, now);
    dirty_.erase(item);
    if (metrics_) {
      double queued = 0;
      if (auto it = addedAt_.find(item); it != addedAt_.end()) {
        queued = seconds(now - it->second);
        addedAt_.erase(it);
      }
      metrics_->gotten(queued);
    }
    return std::make_pair(std::move(item), priority);
  }

  /// Ends the processing of `item` (from get()). If it was added meanwhile, it is queued again.
  void done(const T& item) {
    std::lock_guard lock(mu_);
    auto it = processing_.find(item);
    if (it == processing_.end()) return;
    if (metrics_) metrics_->done(seconds(clock_->now() - it->second));
    processing_.erase(it);
    if (auto again = dirty_.find(item); again != dirty_.end()) {
      pushLocked(item, again->second);
    } else if (processing_.empty()) {
      drained_.notify_all();
    }
  }

  /// Items queued and not yet handed out (excludes items being processed and delayed items).
  std::size_t len() const {
    std::lock_guard lock(mu_);
    return queued_.size();
  }
  /// Items waiting for a delayed or rate-limited add.
  std::size_t delayed() const {
    std::lock_guard lock(mu_);
    return waiting_.size();
  }
  /// Items handed out by get() and not yet done().
  std::size_t processing() const {
    std::lock_guard lock(mu_);
    return processing_.size();
  }

  /// Stops accepting items and drops delayed ones; wakes every get(). Non-blocking, idempotent.
  void shutDown() {
    std::vector<TimerHandlePtr> timers;
    {
      std::lock_guard lock(mu_);
      shuttingDown_ = true;
      waiting_.clear();
      heap_ = {};
      timers = {std::move(timer_), std::move(metricsTimer_)};
      cv_.notify_all();
    }
    for (auto& t : timers) {
      if (t) t->cancel();
    }
  }

  /// shutDown(), then blocks until every item handed out has been done().
  void shutDownWithDrain() {
    shutDown();
    std::unique_lock lock(mu_);
    drained_.wait(lock, [&] { return processing_.empty(); });
  }

  /// True once shutDown() was called.
  bool shuttingDown() const {
    std::lock_guard lock(mu_);
    return shuttingDown_;
  }

  /// Refreshes the unfinished-work gauges now (also done every metricsUpdatePeriod).
  void updateUnfinishedWork() {
    if (!metrics_) return;
    double total = 0, longest = 0;
    {
      std::lock_guard lock(mu_);
      SteadyTime now = clock_->now();
      for (const auto& [item, started] : processing_) {
        double s = seconds(now - started);
        total += s;
        longest = std::max(longest, s);
      }
    }
    metrics_->setUnfinished(total, longest);
  }

 private:
  struct Delayed {
    SteadyTime when;
    std::uint64_t seq;
    T item;
    bool operator>(const Delayed& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  struct Waiting {
    SteadyTime when;
    int priority;
  };
  // An entry of a priority level; stale (skipped) once queued_ holds another seq for the item,
  // which is how raising a queued item's priority works without searching the old level.
  struct Entry {
    T item;
    std::uint64_t seq;
  };

  explicit WorkQueue(Options options)
      : executor_(std::move(options.executor)),
        clock_(executor_->clock()),
        limiter_(options.rateLimiter ? std::move(options.rateLimiter)
                                     : defaultRateLimiter<T, Hash>(clock_)),
        metrics_(std::move(options.metrics)),
        metricsPeriod_(options.metricsUpdatePeriod) {}

  static double seconds(SteadyTime::duration d) { return std::chrono::duration<double>(d).count(); }

  void addLocked(const T& item, int priority) {
    if (shuttingDown_) return;
    auto [it, inserted] = dirty_.try_emplace(item, priority);
    if (!inserted) {
      raiseLocked(it, priority);
      return;
    }
    if (metrics_) {
      metrics_->added();
      addedAt_.emplace(item, clock_->now());
    }
    if (processing_.count(item) != 0) return;  // queued again by done()
    pushLocked(item, priority);
  }

  // `dirty` is the item's entry in dirty_. A higher priority is kept for done() to requeue at,
  // or, when the item is queued, moves it up now (its old entry goes stale).
  bool raiseLocked(typename std::unordered_map<T, int, Hash>::iterator dirty, int priority) {
    if (priority <= dirty->second) return false;
    dirty->second = priority;
    if (processing_.count(dirty->first) == 0) pushLocked(dirty->first, priority);
    return true;
  }

  void pushLocked(const T& item, int priority) {
    std::uint64_t seq = seq_++;
    queued_[item] = seq;
    levels_[priority].push_back(Entry{item, seq});
    cv_.notify_one();
  }

  // The first live entry of the highest level; queued_ must not be empty.
  std::pair<T, int> popLocked() {
    for (auto level = levels_.begin(); level != levels_.end(); level = levels_.erase(level)) {
      auto& entries = level->second;
      while (!entries.empty()) {
        Entry e = std::move(entries.front());
        entries.pop_front();
        auto live = queued_.find(e.item);
        if (live == queued_.end() || live->second != e.seq) continue;  // moved up
        queued_.erase(live);
        int priority = level->first;
        if (entries.empty()) levels_.erase(level);
        return {std::move(e.item), priority};
      }
    }
    throw std::logic_error("workqueue: queued_ and levels_ disagree");
  }

  // Keeps one timer armed at the earliest delayed deadline.
  void armLocked(SteadyTime when) {
    if (timer_ && armedAt_ <= when) return;
    if (timer_) timer_->cancel();
    armedAt_ = when;
    std::weak_ptr<WorkQueue> weak = this->weak_from_this();
    timer_ = executor_->postAt(when, [weak] {
      if (auto self = weak.lock()) self->flushDue();
    });
  }

  void flushDue() {
    std::lock_guard lock(mu_);
    timer_.reset();
    if (shuttingDown_) return;
    SteadyTime now = clock_->now();
    while (!heap_.empty() && heap_.top().when <= now) {
      Delayed d = heap_.top();
      heap_.pop();
      auto it = waiting_.find(d.item);
      if (it == waiting_.end() || it->second.when != d.when) continue;  // superseded by an earlier add
      int priority = it->second.priority;
      waiting_.erase(it);
      addLocked(d.item, priority);
    }
    if (!heap_.empty()) armLocked(heap_.top().when);
  }

  void scheduleMetricsUpdate() {
    std::weak_ptr<WorkQueue> weak = this->weak_from_this();
    auto timer = executor_->postAfter(metricsPeriod_, [weak] {
      if (auto self = weak.lock()) {
        self->updateUnfinishedWork();
        if (!self->shuttingDown()) self->scheduleMetricsUpdate();
      }
    });
    std::lock_guard lock(mu_);
    if (shuttingDown_) {
      timer->cancel();
      return;
    }
    metricsTimer_ = std::move(timer);
  }

  const runtime::ExecutorPtr executor_;
  const ClockPtr clock_;
  const RateLimiterPtr<T, Hash> limiter_;  // thread-safe itself
  const QueueMetricsPtr metrics_;
  const std::chrono::milliseconds metricsPeriod_;

  mutable std::mutex mu_;            // guards everything below
  std::condition_variable cv_;       // an item was queued, or shutdown
  std::condition_variable drained_;  // processing_ became empty
  std::map<int, std::deque<Entry>, std::greater<>> levels_;  // by priority, highest first
  std::unordered_map<T, std::uint64_t, Hash> queued_;  // in levels_ -> seq of its live entry
  std::unordered_map<T, int, Hash> dirty_;  // queued or re-added while processing -> priority
  std::unordered_map<T, SteadyTime, Hash> processing_;  // handed out -> when
  std::unordered_map<T, SteadyTime, Hash> addedAt_;     // dirty -> when (metrics only)
  std::unordered_map<T, Waiting, Hash> waiting_;        // delayed -> earliest time, priority
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> heap_;
  std::uint64_t seq_ = 0;
  TimerHandlePtr timer_;  // armed at armedAt_ while heap_ is not empty
  SteadyTime armedAt_{};
  TimerHandlePtr metricsTimer_;
  bool shuttingDown_ = false;
};

}  // namespace rio::workqueue
