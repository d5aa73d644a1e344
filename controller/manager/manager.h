// The Manager (controller-runtime's manager.Manager): owns what the controllers of one operator
// process share and runs them in order.
//
//   auto mgr = manager::Manager::create(options);                 // IoRuntime, executor, registry,
//   auto secrets = (*mgr)->informer({kube::resources::kSecrets}); // client, informers, HTTP server
//   auto ctrl = runtime::Builder("membership", (*mgr)->executor())
//                   .forInformer(*memberships).owns(*secrets)
//                   .withOptions((*mgr)->controllerOptions())
//                   .build(reconciler);
//   (*mgr)->add(*ctrl);
//   auto recorder = (*mgr)->eventRecorderFor("membership");
//   return (*mgr)->run();                                          // until SIGTERM or lost lease
//
// run() start order: HTTP server (/metrics, /healthz, /readyz) -> informers -> wait for their sync
// (/readyz turns ok) -> leader election (when enabled) -> controllers and leader runnables.
// Shutdown (stop(), SIGTERM/SIGINT, or lost leadership): /readyz fails, controllers stop and their
// in-flight reconciles are drained within gracefulShutdownTimeout, the lease is released, event
// writing stops, informers stop, the HTTP server stops. run() returns 0 after a requested stop,
// 1 when start-up failed, leadership was lost, or the drain missed its deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "controller/events/event_recorder.h"
#include "controller/kube/client.h"
#include "controller/kube/rest_config.h"
#include "controller/leader/leader_elector.h"
#include "controller/manager/health.h"
#include "controller/manager/informer_factory.h"
#include "controller/runtime/controller.h"
#include "controller/runtime/executor.h"
#include "controller/runtime/metrics.h"
#include "controller/workqueue/metrics.h"

namespace prometheus {
class Registry;
}
namespace rio::http {
class Server;
}

namespace rio::manager {

/// run()'s exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;

/// Makes a REST client for the manager: `options` carries the manager's metrics and clock;
/// `timeout` (when non-zero) is the per-request timeout the client must not exceed. Tests
/// replace it with clients over fake transports.
using ClientFactory = std::function<Expected<kube::ClientPtr>(
    IoRuntime& io, kube::ClientOptions options, std::chrono::milliseconds timeout)>;

/// Something started after the caches synced and stopped at shutdown (controller-runtime's
/// Runnable). start() and stop() must not block for long; stop() is called once, after start().
struct Runnable {
  std::string name;
  std::function<void()> start;
  std::function<void()> stop;
  /// Started only once this process leads (like controllers); otherwise right after the sync.
  bool needLeaderElection = true;
};

struct ManagerOptions {
  /// The control-plane cluster (from loadDefaultConfig). Used by the default client factory.
  kube::RestConfig restConfig;
  /// Null: production clients from restConfig.
  ClientFactory clientFactory;

  /// "host:port", ":port" (all interfaces) or "0" (disabled). Port 0 picks a free port.
  std::string metricsBindAddress = ":8080";
  std::string healthProbeBindAddress = ":8081";

  bool leaderElection = false;
  std::string leaderElectionNamespace;  // required with leaderElection
  std::string leaderElectionId = "remote-istio-operator";
  std::chrono::milliseconds leaseDuration{std::chrono::seconds(15)};
  std::chrono::milliseconds renewDeadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retryPeriod{std::chrono::seconds(2)};
  std::string identity;  // empty: leader::defaultIdentity()

  /// Workers per controller (controllerOptions()).
  int maxConcurrentReconciles = 1;
  /// How long shutdown waits for in-flight reconciles.
  std::chrono::milliseconds gracefulShutdownTimeout{std::chrono::seconds(30)};
  /// How long run() waits for the informers' first sync (on the manager's clock).
  std::chrono::milliseconds cacheSyncTimeout{std::chrono::minutes(2)};

  std::size_t ioThreads = 1;
  std::size_t workerThreads = 4;
  /// Null: an ExecutorImpl with workerThreads on `clock`. Injected (tests): its clock is used.
  runtime::ExecutorPtr executor;
  ClockPtr clock = systemClock();
  /// run() stops on SIGTERM/SIGINT (a second signal exits at once with code 1).
  bool handleSignals = false;
  log::Logger logger;
};

/// Thread-safety: every public method may be called from any thread. run() is called once, from
/// a non-I/O thread, and blocks. Lifetime: destroy the Manager after run() returned (the
/// destructor stops what is still running).
class Manager {
 public:
  /// Builds everything that does not need the network yet: IoRuntime, executor, registry with
  /// every metric family, the control-plane client, the event broadcaster and (when enabled) the
  /// leader elector. Errors (kConfig) for bad options: bind addresses, leader election settings,
  /// TLS material of the client.
  static Expected<std::unique_ptr<Manager>> create(ManagerOptions options);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  /// The I/O loop of the process (REST transports, watches, the HTTP server).
  IoRuntime& io() { return *io_; }
  /// The shared pool for informers, queues and deadlines.
  const runtime::ExecutorPtr& executor() const { return executor_; }
  /// The one metrics registry served at /metrics.
  prometheus::Registry& registry() { return *registry_; }
  /// The control-plane client (rest_client_* metrics on the registry).
  const kube::ClientPtr& client() const { return client_; }
  /// The rest_client_* metric families, for further clients (remote clusters) to share.
  const std::shared_ptr<kube::ClientMetrics>& clientMetrics() const { return clientMetrics_; }
  /// Makes another client through the client factory with the manager's metrics and clock (for
  /// remote clusters, pass a RestConfig-specific factory of your own instead).
  Expected<kube::ClientPtr> makeClient(std::chrono::milliseconds timeout = {}) const;
  /// The shared informers of the control-plane client.
  InformerFactory& informers() { return *informers_; }
  /// informers().informer(spec).
  Expected<cache::InformerPtr> informer(const InformerSpec& spec) {
    return informers_->informer(spec);
  }

  /// Controller options with the manager's metrics, logger and maxConcurrentReconciles.
  runtime::ControllerOptions controllerOptions() const;
  /// Adds a controller (built, not started). Started by run() once the caches synced and this
  /// process leads; right away when that already happened.
  void add(const runtime::ControllerPtr& controller);
  /// Adds a runnable (see Runnable).
  void add(const Runnable& runnable);
  /// A recorder whose events name `component` as their source.
  events::EventRecorderPtr eventRecorderFor(const std::string& component);
  /// Extra checks at /healthz/<name> and /readyz/<name> (and in /healthz, /readyz).
  void addHealthzCheck(const std::string& name, HealthCheck check);
  void addReadyzCheck(const std::string& name, HealthCheck check);

  /// Runs until stop(), a signal (handleSignals) or lost leadership; see the file comment.
  /// Returns kExitOk or kExitFailure. A second call returns kExitFailure at once.
  int run();
  /// Asks run() to shut down and return. Non-blocking, idempotent; not async-signal-safe (signals
  /// go through handleSignals).
  void stop();

  /// True once the caches synced, until shutdown begins (what /readyz reports).
  bool ready() const { return ready_.load(); }
  /// True while this process leads (always true once started without leader election).
  bool leading() const { return leading_.load(); }
  /// The leader elector, or null without leader election.
  const leader::LeaderElectorPtr& elector() const { return elector_; }
  /// The bound ports once run() started its servers (0 before, or when disabled).
  std::uint16_t metricsPort() const { return metricsPort_.load(); }
  std::uint16_t healthPort() const { return healthPort_.load(); }
  const ManagerOptions& options() const { return options_; }

 private:
  explicit Manager(ManagerOptions options);
  Expected<void> init();
  Expected<void> startServers();
  void startLeaderWork();
  bool cachesSynced() const;
  int shutdown(int code);
  void notify();

  ManagerOptions options_;
  log::Logger logger_;
  std::unique_ptr<IoRuntime> io_;
  std::shared_ptr<prometheus::Registry> registry_;
  runtime::ExecutorPtr executor_;
  std::shared_ptr<runtime::ExecutorImpl> ownedExecutor_;  // set when the manager made it
  ClockPtr clock_;
  std::shared_ptr<kube::ClientMetrics> clientMetrics_;
  runtime::ControllerMetricsPtr controllerMetrics_;
  workqueue::WorkQueueMetricsPtr queueMetrics_;
  kube::ClientPtr client_;
  std::unique_ptr<InformerFactory> informers_;
  events::BroadcasterPtr broadcaster_;
  leader::LeaderElectorPtr elector_;
  // Leader election's own threads and I/O thread: renewals must not queue behind the work of
  // thousands of informers or TLS handshakes (a starved renewal loses the Lease).
  std::unique_ptr<IoRuntime> leaderIo_;
  std::shared_ptr<runtime::ExecutorImpl> leaderExecutor_;  // unset when options.executor is given
  HealthChecks healthz_{"healthz"};
  HealthChecks readyz_{"readyz"};
  std::vector<std::unique_ptr<http::Server>> servers_;

  std::atomic<bool> ready_{false};
  std::atomic<bool> leading_{false};
  std::atomic<std::uint16_t> metricsPort_{0};
  std::atomic<std::uint16_t> healthPort_{0};

  mutable std::mutex mu_;  // guards everything below; cv_ waits on it
  std::condition_variable cv_;
  bool runCalled_ = false;
  bool stopRequested_ = false;
  bool lost_ = false;
  bool leaderWorkStarted_ = false;
  bool earlyWorkStarted_ = false;  // runnables without leader election
  bool shutDown_ = false;
  std::vector<runtime::ControllerPtr> controllers_;
  std::vector<Runnable> runnables_;
  std::vector<std::size_t> startedRunnables_;  // indexes into runnables_
};

}  // namespace rio::manager
