// Shared informers for one API server: one informer per (resource, namespace, label selector,
// field selector), whoever asks for it, so two controllers watching Secrets cost one watch and
// one cache (controller-runtime's cache / client-go's SharedInformerFactory).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "api/meta/error.h"
#include "controller/cache/informer.h"
#include "controller/cache/server_health.h"
#include "controller/core/logging.h"
#include "controller/kube/client.h"
#include "controller/runtime/executor.h"

namespace rio::manager {

/// Which informer: the sharing key plus what the informer is created with.
struct InformerSpec {
  /// {resource, namespace, label selector, field selector, indexers}; all but the first optional.
  InformerSpec(kube::Resource resource, std::string ns = {}, std::string labelSelector = {},
               std::string fieldSelector = {}, cache::Indexers indexers = {})
      : resource(std::move(resource)),
        ns(std::move(ns)),
        labelSelector(std::move(labelSelector)),
        fieldSelector(std::move(fieldSelector)),
        indexers(std::move(indexers)) {}

  kube::Resource resource;
  std::string ns;  // empty: all namespaces (or a cluster-scoped resource)
  std::string labelSelector;
  std::string fieldSelector;
  /// Indexes the store keeps. They are fixed when the informer is created: a later spec for the
  /// same key may ask for a subset of them, not for new ones.
  cache::Indexers indexers;
};

/// Thread-safety: every method may be called from any thread (one mutex guards the map).
/// Ownership: the factory owns its informers; stop() ends their watches.
class InformerFactory {
 public:
  /// Informers use `client` and run on strands of `executor`; they share one ServerHealth.
  InformerFactory(kube::ClientPtr client, runtime::ExecutorPtr executor, log::Logger logger = {});
  ~InformerFactory();  // stop()
  InformerFactory(const InformerFactory&) = delete;
  InformerFactory& operator=(const InformerFactory&) = delete;

  /// The shared informer for `spec`, created on first use. Started at once when the factory has
  /// been started. Errors (kInvalid) when an existing informer lacks an index `spec` asks for.
  Expected<cache::InformerPtr> informer(const InformerSpec& spec);
  /// Starts every informer, and those created later. Idempotent.
  void start();
  /// Stops every informer (their stores keep their content). Idempotent.
  void stop();
  /// True when every informer created so far has synced.
  bool hasSynced() const;
  /// The informers created so far.
  std::vector<cache::InformerPtr> informers() const;
  /// The client the informers use.
  const kube::ClientPtr& client() const { return client_; }

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string,
                         std::string>;  // group, version, resource, ns, labels, fields
  struct Entry {
    cache::InformerPtr informer;
    std::set<std::string> indexes;
  };

  const kube::ClientPtr client_;
  const runtime::ExecutorPtr executor_;
  const log::Logger logger_;
  const cache::ServerHealthPtr health_ = std::make_shared<cache::ServerHealth>();

  mutable std::mutex mu_;  // guards entries_ and started_
  std::map<Key, Entry> entries_;
  bool started_ = false;
};

}  // namespace rio::manager
