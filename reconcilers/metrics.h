// The operator's own Prometheus series (remote_istio_*), declared once at start-up on the
// manager's registry and shared by both controllers. Labels are bounded: cluster, kind, result —
// never object names or error strings. Series of a cluster are created at zero when the cluster
// first appears and removed when it leaves the mesh.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Gauge;
class Counter;
class Histogram;
}  // namespace prometheus

namespace rio::reconcilers {

/// Thread-safe.
class OperatorMetrics {
 public:
  explicit OperatorMetrics(prometheus::Registry& registry);

  /// remote_istio_cluster_reachable{cluster}: 1 when the last probe answered.
  void setReachable(const std::string& cluster, bool reachable);
  /// remote_istio_credentials_expiry_timestamp_seconds{cluster}: when the operator's credentials
  /// for the cluster expire (Unix seconds; 0 when none).
  void setCredentialsExpiry(const std::string& cluster, double unixSeconds);
  /// remote_istio_cluster_probe_duration_seconds{cluster}: how long the last probe took.
  void observeProbe(const std::string& cluster, double seconds);
  /// remote_istio_ready{cluster}: 1 when the RemoteIstio is Ready.
  void setReady(const std::string& cluster, bool ready);
  /// remote_istio_remote_objects{cluster,kind}: objects the operator keeps in the cluster.
  void setRemoteObjects(const std::string& cluster, const std::string& kind, double count);
  /// remote_istio_remote_apply_total{cluster,kind,result}: result is created, updated, unchanged,
  /// deleted or error.
  void countApply(const std::string& cluster, const std::string& kind, const std::string& result);
  /// Drops every series of `cluster` (it left the mesh).
  void forgetCluster(const std::string& cluster);

 private:
  void ensureCluster(const std::string& cluster);

  prometheus::Family<prometheus::Gauge>& reachable_;
  prometheus::Family<prometheus::Gauge>& expiry_;
  prometheus::Family<prometheus::Gauge>& probe_;
  prometheus::Family<prometheus::Gauge>& ready_;
  prometheus::Family<prometheus::Gauge>& objects_;
  prometheus::Family<prometheus::Counter>& applies_;
  std::mutex mu_;  // guards known_ and appliedKinds_
  std::set<std::string> known_;
  std::set<std::pair<std::string, std::string>> appliedKinds_;  // (cluster, kind) pre-created
};
using OperatorMetricsPtr = std::shared_ptr<OperatorMetrics>;

}  // namespace rio::reconcilers
