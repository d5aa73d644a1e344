// leader_election_master_status{name}: client-go's gauge, 1 while this process holds the lease.
#pragma once

#include <memory>
#include <string>

namespace prometheus {
class Registry;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace rio::leader {

/// The family, declared once per registry. Thread-safety: thread-safe. Ownership: the registry
/// must outlive this object and the gauges it hands out.
class LeaderElectionMetrics {
 public:
  /// Registers leader_election_master_status in `registry`.
  explicit LeaderElectionMetrics(prometheus::Registry& registry);
  /// The gauge of one lease (`name` is the leader election ID), created at 0 now.
  prometheus::Gauge& forName(const std::string& name);

 private:
  prometheus::Family<prometheus::Gauge>* family_;
};
using LeaderElectionMetricsPtr = std::shared_ptr<LeaderElectionMetrics>;

}  // namespace rio::leader
