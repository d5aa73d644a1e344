// Which RemoteIstios target which remote cluster, so events of a cluster that carry no owner (a
// namespace that appears, a connection that comes up) can be mapped back to reconcile requests.
// Filled by the reconciler as it resolves each object's cluster.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "controller/runtime/reconciler.h"

namespace rio::reconcilers::remoteistio {

/// Thread-safety: thread-safe (one mutex); the registry's informer strands read it.
class ClusterIndex {
 public:
  /// `request` targets `cluster` (and no other cluster any more).
  void set(const runtime::Request& request, const std::string& cluster) {
    std::lock_guard lock(mu_);
    removeLocked(request);
    byCluster_[cluster].insert(key(request));
    byRequest_[key(request)] = cluster;
  }
  /// `request` is gone.
  void remove(const runtime::Request& request) {
    std::lock_guard lock(mu_);
    removeLocked(request);
  }
  /// The requests targeting `cluster`.
  std::vector<runtime::Request> requestsFor(const std::string& cluster) const {
    std::lock_guard lock(mu_);
    std::vector<runtime::Request> out;
    auto it = byCluster_.find(cluster);
    if (it == byCluster_.end()) return out;
    for (const auto& [ns, name] : it->second) out.push_back({ns, name});
    return out;
  }

 private:
  using Key = std::pair<std::string, std::string>;
  static Key key(const runtime::Request& r) { return {r.ns, r.name}; }
  void removeLocked(const runtime::Request& request) {
    auto it = byRequest_.find(key(request));
    if (it == byRequest_.end()) return;
    auto c = byCluster_.find(it->second);
    if (c != byCluster_.end()) {
      c->second.erase(key(request));
      if (c->second.empty()) byCluster_.erase(c);
    }
    byRequest_.erase(it);
  }

  mutable std::mutex mu_;  // guards both maps
  std::map<std::string, std::set<Key>> byCluster_;
  std::map<Key, std::string> byRequest_;
};

}  // namespace rio::reconcilers::remoteistio
