#include "reconcilers/cluster_registry.h"

#include "controller/cache/server_health.h"
#include "reconcilers/desired/labels.h"

namespace rio::reconcilers {
namespace {

namespace r = kube::resources;

std::string ownedSelector() { return std::string(desired::kManagedByLabel) + "=" + desired::kManagedByValue; }

}  // namespace

std::vector<kube::Resource> ownedNamespacedResources() {
  return {r::kServiceAccounts, r::kConfigMaps, r::kSecrets, r::kServices, r::kEndpoints,
          r::kDeployments,     r::kRoles,      r::kRoleBindings};
}

std::vector<kube::Resource> ownedClusterResources() { return {r::kMutatingWebhookConfigurations}; }

cache::InformerPtr RemoteCluster::informer(const kube::Resource& resource) const {
  auto it = owned_.find(resource.qualifiedName());
  return it == owned_.end() ? nullptr : it->second;
}

bool RemoteCluster::synced() const {
  if (!namespaces_->hasSynced()) return false;
  for (const auto& [_, inf] : owned_) {
    if (!inf->hasSynced()) return false;
  }
  return true;
}

std::string RemoteCluster::origin() const {
  std::lock_guard lock(mu_);
  return origin_;
}

bool RemoteCluster::sameIdentity(const kube::RestConfig& c) const {
  return c.server == config_.server && c.tls.caPem == config_.tls.caPem &&
         c.tls.clientCertPem == config_.tls.clientCertPem && c.tls.clientKeyPem == config_.tls.clientKeyPem &&
         c.tls.serverName == config_.tls.serverName && c.tls.insecureSkipVerify == config_.tls.insecureSkipVerify &&
         c.username == config_.username && c.password == config_.password &&
         (c.token != nullptr) == (token_ != nullptr);
}

void RemoteCluster::probeIfSuspect() {
  if (!health_->suspect() || probing_->exchange(true)) return;
  // The callback holds what it touches, never the RemoteCluster (it may be disconnected first).
  client_->getRawAsync("/version", probeTimeout_,
                       [health = health_, probing = probing_](Expected<http::Response> answer) {
                         if (answer) health->answered();
                         probing->store(false);
                       });
}

void RemoteCluster::stop() {
  for (auto& [_, inf] : owned_) inf->stop();
  if (namespaces_) namespaces_->stop();
}

ClusterRegistry::ClusterRegistry(ClusterRegistryOptions options) : options_(std::move(options)) {}

ClusterRegistry::~ClusterRegistry() {
  std::map<std::string, RemoteClusterPtr> all;
  {
    std::lock_guard lock(mu_);
    all.swap(clusters_);
  }
  for (auto& [_, c] : all) c->stop();
}

void ClusterRegistry::addChangeHandler(ChangeHandler handler) {
  std::lock_guard lock(mu_);
  handlers_.push_back(std::move(handler));
}

Expected<RemoteClusterPtr> ClusterRegistry::build(const std::string& cluster, const kube::RestConfig& config) {
  auto rc = std::shared_ptr<RemoteCluster>(new RemoteCluster());
  rc->name_ = cluster;
  rc->config_ = config;
  rc->origin_ = config.origin;
  kube::RestConfig clientConfig = config;
  clientConfig.timeout = options_.requestTimeout;
  if (config.token) {
    auto token = config.token->token();
    if (!token) return fail(token.error().wrap("credentials of cluster " + cluster));
    rc->token_ = std::make_shared<kube::RotatingTokenSource>(*token);
    clientConfig.token = rc->token_;
  }
  kube::ClientOptions clientOptions;
  clientOptions.metrics = options_.clientMetrics;
  clientOptions.clock = options_.clock;
  clientOptions.retry.maxRetries = options_.maxRetries;
  auto client = kube::makeClient(*options_.io, clientConfig, clientOptions);
  if (!client) return fail(client.error().wrap("connect to cluster " + cluster));
  rc->client_ = *client;
  rc->health_ = std::make_shared<cache::ServerHealth>();
  rc->probeTimeout_ = options_.requestTimeout;
  rc->connectedAt_ = options_.clock->now();

  std::vector<ChangeHandler> handlers;
  {
    std::lock_guard lock(mu_);
    handlers = handlers_;
  }
  auto logger = options_.logger.with({{"cluster", cluster}});
  auto makeInformer = [&](const kube::Resource& resource, const std::string& ns, const std::string& selector) {
    cache::InformerOptions o;
    o.watcher.resource = resource;
    o.watcher.ns = ns;
    o.watcher.labelSelector = selector;
    o.watcher.health = rc->health_;
    o.watcher.watchTimeoutMin = options_.watchTimeoutMin;
    o.watcher.watchTimeoutMax = options_.watchTimeoutMax;
    o.watcher.logger = logger;
    o.name = cluster + "/" + resource.qualifiedName();
    auto inf = cache::Informer::create(rc->client_, o, options_.executor);
    if (!handlers.empty()) {
      auto notify = [handlers, cluster](const cache::ObjectPtr& obj, bool initial) {
        for (const auto& h : handlers) h(cluster, obj, initial);
      };
      inf->addEventHandler({notify,
                            [notify](const cache::ObjectPtr&, const cache::ObjectPtr& now) { notify(now, false); },
                            [notify](const cache::ObjectPtr& gone) { notify(gone, false); }});
    }
    return inf;
  };
  for (const auto& res : ownedNamespacedResources()) {
    rc->owned_[res.qualifiedName()] = makeInformer(res, options_.meshNamespace, ownedSelector());
  }
  for (const auto& res : ownedClusterResources()) {
    rc->owned_[res.qualifiedName()] = makeInformer(res, "", ownedSelector());
  }
  rc->namespaces_ = makeInformer(r::kNamespaces, "", "");
  for (auto& [_, inf] : rc->owned_) inf->start();
  rc->namespaces_->start();
  return rc;
}

Expected<RemoteClusterPtr> ClusterRegistry::connect(const std::string& cluster, const kube::RestConfig& config) {
  RemoteClusterPtr existing = find(cluster);
  if (existing && existing->sameIdentity(config)) {
    if (existing->token_ && config.token) {
      auto token = config.token->token();
      if (!token) return fail(token.error().wrap("credentials of cluster " + cluster));
      existing->token_->set(*token);
    }
    std::lock_guard lock(existing->mu_);
    existing->origin_ = config.origin;
    return existing;
  }
  auto built = build(cluster, config);
  if (!built) return fail(built.error());
  RemoteClusterPtr old;
  {
    std::lock_guard lock(mu_);
    auto& slot = clusters_[cluster];
    old = slot;
    slot = *built;
  }
  if (old) {
    options_.logger.info("remote cluster connection replaced", {{"cluster", cluster}, {"origin", config.origin}});
    old->stop();
  }
  return *built;
}

RemoteClusterPtr ClusterRegistry::find(const std::string& cluster) const {
  std::lock_guard lock(mu_);
  auto it = clusters_.find(cluster);
  return it == clusters_.end() ? nullptr : it->second;
}

void ClusterRegistry::disconnect(const std::string& cluster) {
  RemoteClusterPtr old;
  {
    std::lock_guard lock(mu_);
    auto it = clusters_.find(cluster);
    if (it == clusters_.end()) return;
    old = it->second;
    clusters_.erase(it);
  }
  old->stop();
}

std::vector<std::string> ClusterRegistry::clusters() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, _] : clusters_) out.push_back(name);
  return out;
}

}  // namespace rio::reconcilers
