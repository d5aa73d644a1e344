// Several kube-testenv clusters in one process, sharing one IoRuntime: what `kube-testenv`, the
// e2e suite, `make demo` and the benchmarks start.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test/testenv/cluster.h"

namespace rio::testenv {

/// Thread-safety: add/stop/saveAll from one controlling thread; find/clusters from any thread
/// once the clusters are added.
class Testenv {
 public:
  /// `io` runs every cluster's server and timers; it must outlive the Testenv.
  explicit Testenv(IoRuntime& io) : io_(io) {}
  ~Testenv();  // stop()
  Testenv(const Testenv&) = delete;
  Testenv& operator=(const Testenv&) = delete;

  /// Options for the `index`-th cluster (0-based) of an environment: pod and service CIDRs that
  /// do not overlap for the first 1,024 clusters, so clusters can join one mesh (pods
  /// 10.<i/4>.<(i%4)*64>.0/18, services 172.<16+i/64>.<(i%64)*4>.0/22), 3 nodes in region
  /// cn-hangzhou.
  static ClusterOptions defaultsFor(const std::string& name, std::size_t index);

  /// Creates and starts a cluster. kConfig when the name is taken or invalid.
  Expected<Cluster*> add(ClusterOptions options);
  /// nullptr when there is no such cluster.
  Cluster* find(const std::string& name) const;
  std::vector<Cluster*> clusters() const;
  /// Stops every cluster (state saved where configured). Idempotent.
  void stop();
  /// Saves every cluster's objects into its state dir (no-op for those without one).
  Expected<void> saveAll() const;

 private:
  IoRuntime& io_;
  std::vector<std::unique_ptr<Cluster>> clusters_;
};

}  // namespace rio::testenv
