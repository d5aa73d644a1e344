// workqueue_* metrics with client-go/controller-runtime's names, help texts, buckets and the
// `name` label, so existing dashboards work.
#pragma once

#include <memory>
#include <string>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace rio::workqueue {

class QueueMetrics;

/// The metric families, declared once per registry and shared by every queue of the process.
/// Thread-safety: thread-safe (prometheus-cpp families are). Ownership: the registry owns the
/// series and must outlive this object and every QueueMetrics made from it.
class WorkQueueMetrics {
 public:
  /// Registers the families in `registry` (registering twice returns the same families).
  explicit WorkQueueMetrics(prometheus::Registry& registry);
  /// The series of one queue, created (at zero) now. `name` must be bounded (a controller name,
  /// never an object name).
  std::shared_ptr<QueueMetrics> forQueue(const std::string& name);

 private:
  struct Families;
  std::shared_ptr<Families> families_;
};
using WorkQueueMetricsPtr = std::shared_ptr<WorkQueueMetrics>;

/// Makes the shared families for `registry`.
WorkQueueMetricsPtr makeWorkQueueMetrics(prometheus::Registry& registry);

/// The series of one queue. Thread-safe; all times in seconds.
class QueueMetrics {
 public:
  /// A key became dirty (adds_total, depth + 1).
  void added();
  /// A key was handed to a worker after waiting `queuedSeconds` (depth - 1, queue_duration).
  void gotten(double queuedSeconds);
  /// A worker finished a key after `workSeconds` (work_duration).
  void done(double workSeconds);
  /// One addRateLimited() (retries_total).
  void retried();
  /// Refreshes unfinished_work_seconds and longest_running_processor_seconds.
  void setUnfinished(double unfinishedSeconds, double longestSeconds);

 private:
  friend class WorkQueueMetrics;
  QueueMetrics() = default;
  prometheus::Gauge* depth_ = nullptr;
  prometheus::Counter* adds_ = nullptr;
  prometheus::Histogram* queueDuration_ = nullptr;
  prometheus::Histogram* workDuration_ = nullptr;
  prometheus::Counter* retries_ = nullptr;
  prometheus::Gauge* unfinished_ = nullptr;
  prometheus::Gauge* longest_ = nullptr;
};
using QueueMetricsPtr = std::shared_ptr<QueueMetrics>;

}  // namespace rio::workqueue
