#include "controller/manager/informer_factory.h"

namespace rio::manager {

InformerFactory::InformerFactory(kube::ClientPtr client, runtime::ExecutorPtr executor,
                                 log::Logger logger)
    : client_(std::move(client)), executor_(std::move(executor)), logger_(std::move(logger)) {}

InformerFactory::~InformerFactory() { stop(); }

Expected<cache::InformerPtr> InformerFactory::informer(const InformerSpec& spec) {
  Key key{spec.resource.group,    spec.resource.version,
          spec.resource.resource, spec.resource.namespaced ? spec.ns : std::string(),
          spec.labelSelector,     spec.fieldSelector};
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    for (const auto& [name, fn] : spec.indexers) {
      if (!it->second.indexes.count(name)) {
        return fail(Error::invalid("the shared informer for " + spec.resource.qualifiedName() +
                                   " was created without the index \"" + name + "\""));
      }
    }
    return it->second.informer;
  }
  cache::InformerOptions options;
  options.watcher.resource = spec.resource;
  options.watcher.ns = std::get<3>(key);
  options.watcher.labelSelector = spec.labelSelector;
  options.watcher.fieldSelector = spec.fieldSelector;
  options.watcher.health = health_;
  options.watcher.logger = logger_;
  options.indexers = spec.indexers;
  auto informer = cache::Informer::create(client_, std::move(options), executor_);
  Entry entry{informer, {}};
  for (const auto& [name, fn] : spec.indexers) entry.indexes.insert(name);
  entries_.emplace(std::move(key), std::move(entry));
  if (started_) informer->start();
  return informer;
}

void InformerFactory::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  for (auto& [key, entry] : entries_) entry.informer->start();
}

void InformerFactory::stop() {
  std::lock_guard lock(mu_);
  for (auto& [key, entry] : entries_) entry.informer->stop();
}

bool InformerFactory::hasSynced() const {
  std::lock_guard lock(mu_);
  for (const auto& [key, entry] : entries_) {
    if (!entry.informer->hasSynced()) return false;
  }
  return true;
}

std::vector<cache::InformerPtr> InformerFactory::informers() const {
  std::lock_guard lock(mu_);
  std::vector<cache::InformerPtr> out;
  for (const auto& [key, entry] : entries_) out.push_back(entry.informer);
  return out;
}

}  // namespace rio::manager
