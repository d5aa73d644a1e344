#include "controller/runtime/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace rio::runtime {

std::string_view toString(ReconcileResultLabel label) {
  switch (label) {
    case ReconcileResultLabel::kSuccess:
      return "success";
    case ReconcileResultLabel::kError:
      return "error";
    case ReconcileResultLabel::kRequeue:
      return "requeue";
    case ReconcileResultLabel::kRequeueAfter:
      return "requeue_after";
  }
  return "error";
}

struct ControllerMetrics::Families {
  prometheus::Family<prometheus::Counter>& total;
  prometheus::Family<prometheus::Counter>& errors;
  prometheus::Family<prometheus::Counter>& terminalErrors;
  prometheus::Family<prometheus::Counter>& panics;
  prometheus::Family<prometheus::Histogram>& time;
  prometheus::Family<prometheus::Gauge>& activeWorkers;
  prometheus::Family<prometheus::Gauge>& maxConcurrent;
};

ControllerMetrics::ControllerMetrics(prometheus::Registry& registry)
    : families_(std::make_shared<Families>(Families{
          prometheus::BuildCounter()
              .Name("controller_runtime_reconcile_total")
              .Help("Total number of reconciliations per controller")
              .Register(registry),
          prometheus::BuildCounter()
              .Name("controller_runtime_reconcile_errors_total")
              .Help("Total number of reconciliation errors per controller")
              .Register(registry),
          prometheus::BuildCounter()
              .Name("controller_runtime_terminal_reconcile_errors_total")
              .Help("Total number of terminal reconciliation errors per controller")
              .Register(registry),
          prometheus::BuildCounter()
              .Name("controller_runtime_reconcile_panics_total")
              .Help("Total number of reconciliation panics per controller")
              .Register(registry),
          prometheus::BuildHistogram()
              .Name("controller_runtime_reconcile_time_seconds")
              .Help("Length of time per reconciliation per controller")
              .Register(registry),
          prometheus::BuildGauge()
              .Name("controller_runtime_active_workers")
              .Help("Number of currently used workers per controller")
              .Register(registry),
          prometheus::BuildGauge()
              .Name("controller_runtime_max_concurrent_reconciles")
              .Help("Maximum number of concurrent reconciles per controller")
              .Register(registry),
      })) {}

std::shared_ptr<ControllerSeries> ControllerMetrics::forController(const std::string& controller) {
  // controller-runtime's buckets for reconcile_time_seconds.
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,  0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6,
      0.7,   0.8,  0.9,   1.0,  1.25, 1.5,  1.75, 2.0,  2.5, 3.0,  3.5, 4.0,  4.5, 5,
      6,     7,    8,     9,    10,   15,   20,   25,   30,  40,   50,  60};
  auto s = std::shared_ptr<ControllerSeries>(new ControllerSeries());
  for (auto r : {ReconcileResultLabel::kSuccess, ReconcileResultLabel::kError,
                 ReconcileResultLabel::kRequeue, ReconcileResultLabel::kRequeueAfter}) {
    s->total_[static_cast<int>(r)] =
        &families_->total.Add({{"controller", controller}, {"result", std::string(toString(r))}});
  }
  prometheus::Labels labels{{"controller", controller}};
  s->errors_ = &families_->errors.Add(labels);
  s->terminalErrors_ = &families_->terminalErrors.Add(labels);
  s->panics_ = &families_->panics.Add(labels);
  s->time_ = &families_->time.Add(labels, kBuckets);
  s->activeWorkers_ = &families_->activeWorkers.Add(labels);
  s->maxConcurrent_ = &families_->maxConcurrent.Add(labels);
  return s;
}

ControllerMetricsPtr makeControllerMetrics(prometheus::Registry& registry) {
  return std::make_shared<ControllerMetrics>(registry);
}

void ControllerSeries::reconciled(ReconcileResultLabel result, double seconds) {
  total_[static_cast<int>(result)]->Increment();
  time_->Observe(seconds);
}
void ControllerSeries::error() { errors_->Increment(); }
void ControllerSeries::terminalError() { terminalErrors_->Increment(); }
void ControllerSeries::panic() { panics_->Increment(); }
void ControllerSeries::workerStarted() { activeWorkers_->Increment(); }
void ControllerSeries::workerFinished() { activeWorkers_->Decrement(); }
void ControllerSeries::setMaxConcurrentReconciles(int n) { maxConcurrent_->Set(n); }

}  // namespace rio::runtime
