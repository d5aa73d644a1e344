// controller_runtime_* metrics with controller-runtime's names, help texts, buckets and labels,
// so existing dashboards and alerts work. Every series of a controller exists (at zero) from the
// moment the controller is created.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace rio::runtime {

/// The `result` label values of controller_runtime_reconcile_total.
enum class ReconcileResultLabel { kSuccess, kError, kRequeue, kRequeueAfter };
/// "success", "error", "requeue", "requeue_after".
std::string_view toString(ReconcileResultLabel label);

class ControllerSeries;

/// The families, declared once per registry and shared by every controller of the process.
/// Thread-safety: thread-safe. Ownership: the registry must outlive this object and every
/// ControllerSeries made from it.
class ControllerMetrics {
 public:
  /// Registers the families in `registry` (registering twice returns the same families).
  explicit ControllerMetrics(prometheus::Registry& registry);
  /// The series of one controller, every label value created at zero now. `controller` must be
  /// bounded (a controller name).
  std::shared_ptr<ControllerSeries> forController(const std::string& controller);

 private:
  struct Families;
  std::shared_ptr<Families> families_;
};
using ControllerMetricsPtr = std::shared_ptr<ControllerMetrics>;

/// Makes the shared families for `registry`.
ControllerMetricsPtr makeControllerMetrics(prometheus::Registry& registry);

/// The series of one controller. Thread-safe.
class ControllerSeries {
 public:
  /// One finished reconcile: reconcile_total{result} and reconcile_time_seconds.
  void reconciled(ReconcileResultLabel result, double seconds);
  /// reconcile_errors_total (every error, terminal or not, and every panic).
  void error();
  /// terminal_reconcile_errors_total.
  void terminalError();
  /// reconcile_panics_total (an exception escaped the reconciler).
  void panic();
  /// active_workers + 1 (a reconcile started).
  void workerStarted();
  /// active_workers - 1.
  void workerFinished();
  /// max_concurrent_reconciles.
  void setMaxConcurrentReconciles(int n);

 private:
  friend class ControllerMetrics;
  ControllerSeries() = default;
  prometheus::Counter* total_[4] = {};
  prometheus::Counter* errors_ = nullptr;
  prometheus::Counter* terminalErrors_ = nullptr;
  prometheus::Counter* panics_ = nullptr;
  prometheus::Histogram* time_ = nullptr;
  prometheus::Gauge* activeWorkers_ = nullptr;
  prometheus::Gauge* maxConcurrent_ = nullptr;
};
using ControllerSeriesPtr = std::shared_ptr<ControllerSeries>;

}  // namespace rio::runtime
