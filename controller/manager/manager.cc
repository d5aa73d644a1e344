#include "controller/manager/manager.h"

#include <unistd.h>

#include <cstdlib>
#include <future>
#include <thread>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "controller/http/server.h"
#include "controller/manager/bind_address.h"
#include "controller/manager/signals.h"

namespace rio::manager {
namespace {

using std::chrono::milliseconds;

ClientFactory defaultClientFactory(const kube::RestConfig& config) {
  return [config](IoRuntime& io, kube::ClientOptions options,
                  milliseconds timeout) -> Expected<kube::ClientPtr> {
    kube::RestConfig c = config;
    if (timeout.count() > 0 && (c.timeout.count() <= 0 || timeout < c.timeout)) c.timeout = timeout;
    return kube::makeClient(io, c, std::move(options));
  };
}

std::string hostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "unknown";
  return host;
}

}  // namespace

Expected<std::unique_ptr<Manager>> Manager::create(ManagerOptions options) {
  std::unique_ptr<Manager> m(new Manager(std::move(options)));
  if (auto ok = m->init(); !ok) return fail(ok.error());
  return m;
}

Manager::Manager(ManagerOptions options)
    : options_(std::move(options)), logger_(options_.logger.with({{"component", "manager"}})) {}

Expected<void> Manager::init() {
  auto metricsAddress = parseBindAddress(options_.metricsBindAddress);
  if (!metricsAddress) return fail(metricsAddress.error().wrap("metrics bind address"));
  auto healthAddress = parseBindAddress(options_.healthProbeBindAddress);
  if (!healthAddress) return fail(healthAddress.error().wrap("health probe bind address"));
  if (options_.maxConcurrentReconciles < 1) {
    return fail(Error::config("max concurrent reconciles must be at least 1, got " +
                              std::to_string(options_.maxConcurrentReconciles)));
  }

  io_ = std::make_unique<IoRuntime>(options_.ioThreads);
  registry_ = std::make_shared<prometheus::Registry>();
  if (options_.executor) {
    executor_ = options_.executor;
  } else {
    ownedExecutor_ = runtime::makeExecutor(std::max<std::size_t>(1, options_.workerThreads),
                                           options_.clock ? options_.clock : systemClock());
    executor_ = ownedExecutor_;
  }
  clock_ = executor_->clock();

  // Every family is declared here, once, so /metrics shows them from the start.
  clientMetrics_ = kube::makeClientMetrics(*registry_);
  controllerMetrics_ = runtime::makeControllerMetrics(*registry_);
  queueMetrics_ = workqueue::makeWorkQueueMetrics(*registry_);

  if (!options_.clientFactory) options_.clientFactory = defaultClientFactory(options_.restConfig);
  auto client = makeClient();
  if (!client) return fail(client.error().wrap("control-plane client"));
  client_ = *client;
  informers_ = std::make_unique<InformerFactory>(client_, executor_, options_.logger);

  std::string identity = options_.identity;
  if (options_.leaderElection && identity.empty()) identity = leader::defaultIdentity();

  events::BroadcasterOptions eventOptions;
  eventOptions.instance = identity.empty() ? hostName() : identity;
  eventOptions.registry = registry_.get();
  eventOptions.logger = options_.logger.with({{"component", "events"}});
  broadcaster_ = events::Broadcaster::create(client_, executor_, eventOptions);

  if (options_.leaderElection) {
    if (options_.leaderElectionNamespace.empty()) {
      return fail(Error::config(
          "leader election needs a namespace: set --leader-election-namespace when not running "
          "in a cluster"));
    }
    leader::LeaderElectionOptions lo;
    lo.name = options_.leaderElectionId;
    lo.identity = identity;
    lo.leaseDuration = options_.leaseDuration;
    lo.renewDeadline = options_.renewDeadline;
    lo.retryPeriod = options_.retryPeriod;
    lo.metrics = std::make_shared<leader::LeaderElectionMetrics>(*registry_);
    lo.logger = options_.logger.with({{"component", "leader-election"}});
    if (auto ok = leader::validate(lo); !ok) return fail(ok.error());
    // Its own client, as client-go users do: no retries (the elector retries every retryPeriod)
    // and requests that end well within the renew deadline.
    kube::ClientOptions co;
    co.metrics = clientMetrics_;
    co.clock = clock_;
    co.retry.maxRetries = 0;
    leaderIo_ = std::make_unique<IoRuntime>(1);
    auto leaseClient = options_.clientFactory(*leaderIo_, co, options_.renewDeadline / 2);
    if (!leaseClient) return fail(leaseClient.error().wrap("leader election client"));
    auto lock = std::make_shared<leader::LeaseLockImpl>(
        *leaseClient, options_.leaderElectionNamespace, options_.leaderElectionId);
    leader::LeaderCallbacks callbacks;
    callbacks.onStartedLeading = [this] {
      {
        std::lock_guard lock(mu_);
        leading_ = true;
      }
      cv_.notify_all();
    };
    callbacks.onLost = [this] {
      {
        std::lock_guard lock(mu_);
        lost_ = true;
        leading_ = false;
      }
      cv_.notify_all();
    };
    callbacks.onNewLeader = [this, identity](const std::string& holder) {
      if (holder != identity) logger_.info("new leader observed", {{"leader", holder}});
    };
    // A caller-supplied executor (tests, with their own clock) runs the elector too.
    runtime::ExecutorPtr electorExecutor = executor_;
    if (!options_.executor) {
      leaderExecutor_ = runtime::makeExecutor(2, clock_);  // the watchdog runs beside a call
      electorExecutor = leaderExecutor_;
    }
    auto elector =
        leader::LeaderElector::create(lock, electorExecutor, lo, std::move(callbacks));
    if (!elector) return fail(elector.error());
    elector_ = *elector;
  }

  healthz_.add("ping", [] { return std::optional<std::string>(); });
  readyz_.add("ping", [] { return std::optional<std::string>(); });
  readyz_.add("informers", [this]() -> std::optional<std::string> {
    if (ready_.load()) return std::nullopt;
    return std::string("caches have not synced (or the manager is shutting down)");
  });
  return {};
}

Manager::~Manager() {
  bool ran;
  {
    std::lock_guard lock(mu_);
    ran = runCalled_;
  }
  if (ran) {
    shutdown(kExitOk);  // no-op when run() already shut down
  } else {
    if (broadcaster_) broadcaster_->stop();
    if (informers_) informers_->stop();
  }
  servers_.clear();
  elector_.reset();
  informers_.reset();
  broadcaster_.reset();
  if (leaderExecutor_) leaderExecutor_->shutdown();
  if (ownedExecutor_) ownedExecutor_->shutdown();
  if (leaderIo_) leaderIo_->stop();
  if (io_) io_->stop();
}

Expected<kube::ClientPtr> Manager::makeClient(milliseconds timeout) const {
  kube::ClientOptions co;
  co.metrics = clientMetrics_;
  co.clock = clock_;
  return options_.clientFactory(*io_, co, timeout);
}

runtime::ControllerOptions Manager::controllerOptions() const {
  runtime::ControllerOptions o;
  o.maxConcurrentReconciles = options_.maxConcurrentReconciles;
  o.metrics = controllerMetrics_;
  o.queueMetrics = queueMetrics_;
  o.logger = options_.logger;
  return o;
}

void Manager::add(const runtime::ControllerPtr& controller) {
  if (!controller) return;
  bool startNow;
  {
    std::lock_guard lock(mu_);
    if (shutDown_) return;
    controllers_.push_back(controller);
    startNow = leaderWorkStarted_;
  }
  if (startNow) controller->start();
}

void Manager::add(const Runnable& runnable) {
  bool startNow;
  std::size_t index;
  {
    std::lock_guard lock(mu_);
    if (shutDown_) return;
    index = runnables_.size();
    runnables_.push_back(runnable);
    startNow = runnable.needLeaderElection ? leaderWorkStarted_ : earlyWorkStarted_;
    if (startNow) startedRunnables_.push_back(index);
  }
  if (startNow && runnable.start) runnable.start();
}

events::EventRecorderPtr Manager::eventRecorderFor(const std::string& component) {
  return broadcaster_->recorderFor(component);
}

void Manager::addHealthzCheck(const std::string& name, HealthCheck check) {
  healthz_.add(name, std::move(check));
}

void Manager::addReadyzCheck(const std::string& name, HealthCheck check) {
  readyz_.add(name, std::move(check));
}

void Manager::notify() { cv_.notify_all(); }

void Manager::stop() {
  {
    std::lock_guard lock(mu_);
    stopRequested_ = true;
  }
  notify();
}

bool Manager::cachesSynced() const {
  if (!informers_->hasSynced()) return false;
  for (const auto& c : controllers_) {
    if (!c->cachesSynced()) return false;
  }
  return true;
}

Expected<void> Manager::startServers() {
  auto metrics = *parseBindAddress(options_.metricsBindAddress);
  auto health = *parseBindAddress(options_.healthProbeBindAddress);
  struct Plan {
    BindAddress address;
    bool metrics;
    bool health;
  };
  std::vector<Plan> plans;
  if (metrics && health && *metrics == *health && metrics->port != 0) {
    plans.push_back({*metrics, true, true});
  } else {
    if (metrics) plans.push_back({*metrics, true, false});
    if (health) plans.push_back({*health, false, true});
  }
  for (const auto& plan : plans) {
    http::ServerOptions so;
    so.address = plan.address.host;
    so.port = plan.address.port;
    so.maxBodyBytes = std::size_t{64} * 1024;
    so.readTimeout = std::chrono::seconds(10);
    bool serveMetrics = plan.metrics;
    bool serveHealth = plan.health;
    auto handler = [this, serveMetrics, serveHealth](const http::ServerRequest& req,
                                                     const http::ExchangePtr& ex) {
      const http::Headers text{{"Content-Type", "text/plain; charset=utf-8"},
                               {"X-Content-Type-Options", "nosniff"}};
      if (req.method != "GET") {
        ex->respond(405, {{"Allow", "GET"}, {"Content-Type", "text/plain; charset=utf-8"}},
                    "method not allowed\n");
        return;
      }
      if (serveMetrics && req.path == "/metrics") {
        prometheus::TextSerializer serializer;
        ex->respond(200, {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}},
                    serializer.Serialize(registry_->Collect()));
        return;
      }
      if (serveHealth) {
        bool verbose = req.query.count("verbose") > 0;
        for (auto [prefix, checks] :
             {std::pair<std::string_view, const HealthChecks*>{"/healthz", &healthz_},
              std::pair<std::string_view, const HealthChecks*>{"/readyz", &readyz_}}) {
          std::string_view path = req.path;
          if (path == prefix ||
              (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
               path[prefix.size()] == '/')) {
            auto answer = checks->evaluate(path.substr(prefix.size()), verbose);
            ex->respond(answer.status, text, std::move(answer.body));
            return;
          }
        }
      }
      ex->respond(404, text, "404 page not found\n");
    };
    auto server = std::make_unique<http::Server>(*io_, so, handler);
    if (auto ok = server->start(); !ok) {
      return fail(ok.error().wrap("listen on " + plan.address.host + ":" +
                                  std::to_string(plan.address.port)));
    }
    if (plan.metrics) metricsPort_ = server->port();
    if (plan.health) healthPort_ = server->port();
    logger_.info("serving",
                 {{"address", server->url()}, {"metrics", plan.metrics}, {"probes", plan.health}});
    std::lock_guard lock(mu_);
    servers_.push_back(std::move(server));
  }
  return {};
}

void Manager::startLeaderWork() {
  std::vector<runtime::ControllerPtr> controllers;
  std::vector<Runnable> runnables;
  {
    std::lock_guard lock(mu_);
    if (shutDown_) return;
    leaderWorkStarted_ = true;
    controllers = controllers_;
    for (std::size_t i = 0; i < runnables_.size(); ++i) {
      if (!runnables_[i].needLeaderElection) continue;
      startedRunnables_.push_back(i);
      runnables.push_back(runnables_[i]);
    }
  }
  for (auto& r : runnables) {
    if (r.start) r.start();
  }
  for (auto& c : controllers) c->start();
  logger_.info("controllers started", {{"controllers", controllers.size()}});
}

int Manager::run() {
  {
    std::lock_guard lock(mu_);
    if (runCalled_) return kExitFailure;
    runCalled_ = true;
  }
  std::unique_ptr<SignalWatcher> signals;
  if (options_.handleSignals) {
    signals = std::make_unique<SignalWatcher>(*io_, [this](int signal, int count) {
      if (count > 1) {
        logger_.error("second signal: exiting at once", {{"signal", signal}});
        std::_Exit(kExitFailure);
      }
      logger_.info("signal received: shutting down", {{"signal", signal}});
      stop();
    });
  }

  logger_.info("starting manager",
               {{"server", client_->server()}, {"leader_election", options_.leaderElection}});
  if (auto ok = startServers(); !ok) {
    logger_.error("could not start the HTTP server", {{"error", ok.error().message()}});
    return shutdown(kExitFailure);
  }

  // Caches first (and runnables that do not need to lead), then wait for the first sync.
  informers_->start();
  std::vector<Runnable> early;
  {
    std::lock_guard lock(mu_);
    earlyWorkStarted_ = true;
    for (std::size_t i = 0; i < runnables_.size(); ++i) {
      if (runnables_[i].needLeaderElection) continue;
      startedRunnables_.push_back(i);
      early.push_back(runnables_[i]);
    }
  }
  for (auto& r : early) {
    if (r.start) r.start();
  }
  const SteadyTime syncDeadline =
      clock_->now() + std::chrono::duration_cast<SteadyTime::duration>(options_.cacheSyncTimeout);
  {
    std::unique_lock lock(mu_);
    for (;;) {
      if (stopRequested_) {
        lock.unlock();
        return shutdown(kExitOk);
      }
      if (cachesSynced()) break;
      if (clock_->now() >= syncDeadline) {
        lock.unlock();
        logger_.error("timed out waiting for the caches to sync",
                      {{"timeout_ms", options_.cacheSyncTimeout.count()}});
        return shutdown(kExitFailure);
      }
      // Informers have no sync callback: look again shortly (stop() wakes this at once).
      cv_.wait_for(lock, milliseconds(20));
    }
  }
  ready_ = true;
  logger_.info("caches synced");

  if (elector_) {
    elector_->start();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stopRequested_ || lost_ || leading_.load(); });
    if (stopRequested_ || lost_) {
      int code = lost_ ? kExitFailure : kExitOk;
      lock.unlock();
      return shutdown(code);
    }
  } else {
    leading_ = true;
  }
  startLeaderWork();

  int code;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stopRequested_ || lost_; });
    code = lost_ ? kExitFailure : kExitOk;
  }
  return shutdown(code);
}

int Manager::shutdown(int code) {
  std::vector<runtime::ControllerPtr> controllers;
  std::vector<Runnable> leaderRunnables;
  std::vector<Runnable> otherRunnables;
  bool lost;
  {
    std::lock_guard lock(mu_);
    if (shutDown_) return code;
    shutDown_ = true;
    lost = lost_;
    controllers = controllers_;
    for (std::size_t i : startedRunnables_) {
      (runnables_[i].needLeaderElection ? leaderRunnables : otherRunnables)
          .push_back(runnables_[i]);
    }
  }
  ready_ = false;
  logger_.info("shutting down", {{"leadership_lost", lost}});

  // 1. Controllers: no new reconciles; in-flight ones are cancelled and drained within the
  //    deadline. A reconcile that ignores cancellation is left behind (the process is exiting).
  auto drained = std::make_shared<std::promise<void>>();
  auto done = drained->get_future();
  std::thread drainer([controllers, leaderRunnables, drained] {
    for (const auto& c : controllers) c->stop();
    for (const auto& r : leaderRunnables) {
      if (r.stop) r.stop();
    }
    drained->set_value();
  });
  if (done.wait_for(options_.gracefulShutdownTimeout) == std::future_status::timeout) {
    logger_.error("reconciles did not finish within the graceful shutdown timeout",
                  {{"timeout_ms", options_.gracefulShutdownTimeout.count()}});
    drainer.detach();
    code = kExitFailure;
  } else {
    drainer.join();
  }

  // 2. The lease, so a successor leads at its next poll.
  if (elector_) elector_->stop();
  leading_ = false;
  // 3. Events, other runnables, caches, and last the HTTP server.
  broadcaster_->stop();
  for (const auto& r : otherRunnables) {
    if (r.stop) r.stop();
  }
  informers_->stop();
  std::vector<std::unique_ptr<http::Server>> servers;
  {
    std::lock_guard lock(mu_);
    servers.swap(servers_);
  }
  for (auto& s : servers) s->stop();
  logger_.info("manager stopped", {{"exit_code", code}});
  return code;
}

}  // namespace rio::manager
