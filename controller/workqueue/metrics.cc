#include "controller/workqueue/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace rio::workqueue {
namespace {

// controller-runtime's buckets: ExponentialBuckets(10e-9, 10, 12), 10 ns .. 1000 s.
prometheus::Histogram::BucketBoundaries durationBuckets() {
  prometheus::Histogram::BucketBoundaries b;
  double v = 10e-9;
  for (int i = 0; i < 12; ++i, v *= 10) b.push_back(v);
  return b;
}

}  // namespace

struct WorkQueueMetrics::Families {
  prometheus::Family<prometheus::Gauge>& depth;
  prometheus::Family<prometheus::Counter>& adds;
  prometheus::Family<prometheus::Histogram>& queueDuration;
  prometheus::Family<prometheus::Histogram>& workDuration;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Gauge>& unfinished;
  prometheus::Family<prometheus::Gauge>& longest;
};

WorkQueueMetrics::WorkQueueMetrics(prometheus::Registry& registry)
    : families_(std::make_shared<Families>(Families{
          prometheus::BuildGauge()
              .Name("workqueue_depth")
              .Help("Current depth of workqueue")
              .Register(registry),
          prometheus::BuildCounter()
              .Name("workqueue_adds_total")
              .Help("Total number of adds handled by workqueue")
              .Register(registry),
          prometheus::BuildHistogram()
              .Name("workqueue_queue_duration_seconds")
              .Help("How long in seconds an item stays in workqueue before being requested")
              .Register(registry),
          prometheus::BuildHistogram()
              .Name("workqueue_work_duration_seconds")
              .Help("How long in seconds processing an item from workqueue takes.")
              .Register(registry),
          prometheus::BuildCounter()
              .Name("workqueue_retries_total")
              .Help("Total number of retries handled by workqueue")
              .Register(registry),
          prometheus::BuildGauge()
              .Name("workqueue_unfinished_work_seconds")
              .Help(
                  "How many seconds of work has been done that is in progress and hasn't been "
                  "observed by work_duration. Large values indicate stuck threads. One can deduce "
                  "the number of stuck threads by observing the rate at which this increases.")
              .Register(registry),
          prometheus::BuildGauge()
              .Name("workqueue_longest_running_processor_seconds")
              .Help(
                  "How many seconds has the longest running processor for workqueue been running.")
              .Register(registry),
      })) {}

std::shared_ptr<QueueMetrics> WorkQueueMetrics::forQueue(const std::string& name) {
  prometheus::Labels labels{{"name", name}};
  auto m = std::shared_ptr<QueueMetrics>(new QueueMetrics());
  m->depth_ = &families_->depth.Add(labels);
  m->adds_ = &families_->adds.Add(labels);
  m->queueDuration_ = &families_->queueDuration.Add(labels, durationBuckets());
  m->workDuration_ = &families_->workDuration.Add(labels, durationBuckets());
  m->retries_ = &families_->retries.Add(labels);
  m->unfinished_ = &families_->unfinished.Add(labels);
  m->longest_ = &families_->longest.Add(labels);
  return m;
}

WorkQueueMetricsPtr makeWorkQueueMetrics(prometheus::Registry& registry) {
  return std::make_shared<WorkQueueMetrics>(registry);
}

void QueueMetrics::added() {
  adds_->Increment();
  depth_->Increment();
}

void QueueMetrics::gotten(double queuedSeconds) {
  depth_->Decrement();
  queueDuration_->Observe(queuedSeconds);
}

void QueueMetrics::done(double workSeconds) { workDuration_->Observe(workSeconds); }

void QueueMetrics::retried() { retries_->Increment(); }

void QueueMetrics::setUnfinished(double unfinishedSeconds, double longestSeconds) {
  unfinished_->Set(unfinishedSeconds);
  longest_->Set(longestSeconds);
}

}  // namespace rio::workqueue
