#include "reconcilers/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace rio::reconcilers {
namespace {

const char* const kResults[] = {"created", "updated", "unchanged", "deleted", "error"};

}  // namespace

OperatorMetrics::OperatorMetrics(prometheus::Registry& registry)
    : reachable_(prometheus::BuildGauge()
                     .Name("remote_istio_cluster_reachable")
                     .Help("1 when the remote cluster's API server answered the last probe.")
                     .Register(registry)),
      expiry_(prometheus::BuildGauge()
                  .Name("remote_istio_credentials_expiry_timestamp_seconds")
                  .Help("When the credentials the operator holds for the remote cluster expire (Unix time).")
                  .Register(registry)),
      probe_(prometheus::BuildGauge()
                 .Name("remote_istio_cluster_probe_duration_seconds")
                 .Help("How long the last prerequisite probe of the remote cluster took.")
                 .Register(registry)),
      ready_(prometheus::BuildGauge()
                 .Name("remote_istio_ready")
                 .Help("1 when the RemoteIstio of the cluster is Ready.")
                 .Register(registry)),
      objects_(prometheus::BuildGauge()
                   .Name("remote_istio_remote_objects")
                   .Help("Objects the operator keeps in the remote cluster, by kind.")
                   .Register(registry)),
      applies_(prometheus::BuildCounter()
                   .Name("remote_istio_remote_apply_total")
                   .Help("Writes of desired objects to remote clusters, by kind and result.")
                   .Register(registry)) {}

void OperatorMetrics::ensureCluster(const std::string& cluster) {
  std::lock_guard lock(mu_);
  if (!known_.insert(cluster).second) return;
  reachable_.Add({{"cluster", cluster}});
  expiry_.Add({{"cluster", cluster}});
  probe_.Add({{"cluster", cluster}});
  ready_.Add({{"cluster", cluster}});
}

void OperatorMetrics::setReachable(const std::string& cluster, bool reachable) {
  ensureCluster(cluster);
  reachable_.Add({{"cluster", cluster}}).Set(reachable ? 1 : 0);
}

void OperatorMetrics::setCredentialsExpiry(const std::string& cluster, double unixSeconds) {
  ensureCluster(cluster);
  expiry_.Add({{"cluster", cluster}}).Set(unixSeconds);
}

void OperatorMetrics::observeProbe(const std::string& cluster, double seconds) {
  ensureCluster(cluster);
  probe_.Add({{"cluster", cluster}}).Set(seconds);
}

void OperatorMetrics::setReady(const std::string& cluster, bool ready) {
  ensureCluster(cluster);
  ready_.Add({{"cluster", cluster}}).Set(ready ? 1 : 0);
}

void OperatorMetrics::setRemoteObjects(const std::string& cluster, const std::string& kind, double count) {
  ensureCluster(cluster);
  objects_.Add({{"cluster", cluster}, {"kind", kind}}).Set(count);
}

void OperatorMetrics::countApply(const std::string& cluster, const std::string& kind, const std::string& result) {
  ensureCluster(cluster);
  {
    // Pre-create every result of this kind so rates start at zero (once per cluster and kind).
    std::lock_guard lock(mu_);
    if (appliedKinds_.insert({cluster, kind}).second) {
      for (const char* r : kResults)
        applies_.Add({{"cluster", cluster}, {"kind", kind}, {"result", r}});
    }
  }
  applies_.Add({{"cluster", cluster}, {"kind", kind}, {"result", result}}).Increment();
}

void OperatorMetrics::forgetCluster(const std::string& cluster) {
  std::lock_guard lock(mu_);
  if (!known_.erase(cluster)) return;
  appliedKinds_.erase(appliedKinds_.lower_bound({cluster, std::string()}),
                      appliedKinds_.lower_bound({cluster + '\0', std::string()}));
  auto drop = [&](auto& family) {
    // prometheus-cpp 1.0 removes a series by pointer; collect those of the cluster.
    for (const auto& mf : family.Collect()) {
      for (const auto& m : mf.metric) {
        std::map<std::string, std::string> labels;
        bool match = false;
        for (const auto& l : m.label) {
          labels[l.name] = l.value;
          if (l.name == "cluster" && l.value == cluster) match = true;
        }
        if (match) family.Remove(&family.Add(labels));
      }
    }
  };
  drop(reachable_);
  drop(expiry_);
  drop(probe_);
  drop(ready_);
  drop(objects_);
  drop(applies_);
}

}  // namespace rio::reconcilers
