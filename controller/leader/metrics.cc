#include "controller/leader/metrics.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace rio::leader {

LeaderElectionMetrics::LeaderElectionMetrics(prometheus::Registry& registry)
    : family_(&prometheus::BuildGauge()
                   .Name("leader_election_master_status")
                   .Help("Gauge of if the reporting system is master of the relevant lease, 0 "
                         "indicates backup, 1 indicates master. 'name' is the string used to "
                         "identify the lease. Please make sure to group by name.")
                   .Register(registry)) {}

prometheus::Gauge& LeaderElectionMetrics::forName(const std::string& name) {
  return family_->Add({{"name", name}});
}

}  // namespace rio::leader
