#include "controller/runtime/controller.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include <prometheus/registry.h>
#include <catch2/catch.hpp>

#include "controller/runtime/builder.h"
#include "test/controller/cache/cache_fixture.h"
#include "test/controller/runtime/metrics_text.h"
#include "test/support/eventually.h"

using namespace rio;
using namespace rio::runtime;
using namespace std::chrono_literals;
using rio::testing::configMap;
using rio::testing::eventLine;
using rio::testing::eventually;
using rio::testing::FakeExecutor;
using rio::testing::FakeStream;
using rio::testing::FakeTransport;
using rio::testing::listBody;
using rio::testing::sampleValue;
using Json = nlohmann::json;

namespace {

// Log lines written while it lives.
class LogCapture {
 public:
  LogCapture() {
    log::setStderrEnabled(false);
    id_ = log::addSink([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() {
    log::removeSink(id_);
    log::setStderrEnabled(true);
  }
  std::vector<Json> find(const std::string& msg) {
    std::lock_guard lock(mu_);
    std::vector<Json> out;
    for (const auto& l : lines_) {
      auto j = Json::parse(l, nullptr, false);
      if (!j.is_discarded() && j.value("msg", "") == msg) out.push_back(j);
    }
    return out;
  }

 private:
  int id_;
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// A reconciler whose behaviour each test scripts; records every call.
class FakeReconciler final : public Reconciler {
 public:
  using Behaviour =
      std::function<ReconcileOutcome(const ReconcileContext&, const Request&, int call)>;
  struct Call {
    Request request;
    std::string reconcileId;
    Json logFields;
  };

  explicit FakeReconciler(Behaviour b = nullptr) : behaviour_(std::move(b)) {}

  ReconcileOutcome reconcile(const ReconcileContext& ctx, const Request& request) override {
    int n;
    {
      std::lock_guard lock(mu_);
      Json fields = Json::object();
      for (const auto& f : ctx.logger().fields()) fields[f.key] = f.value;
      calls_.push_back({request, ctx.reconcileId(), fields});
      n = static_cast<int>(calls_.size());
      auto& in = inside_[request.toString()];
      if (++in > 1) overlap_ = true;
      cv_.notify_all();
    }
    ReconcileOutcome out = Result{};
    struct Leave {
      FakeReconciler* self;
      std::string key;
      ~Leave() {
        std::lock_guard lock(self->mu_);
        --self->inside_[key];
      }
    } leave{this, request.toString()};
    if (behaviour_) out = behaviour_(ctx, request, n);
    return out;
  }

  std::vector<Call> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return calls_.size();
  }
  std::size_t count(const std::string& key) {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& c : calls_) n += c.request.toString() == key;
    return n;
  }
  bool waitFor(std::size_t n, std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return calls_.size() >= n; });
  }
  bool overlapped() {
    std::lock_guard lock(mu_);
    return overlap_;
  }

 private:
  Behaviour behaviour_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  std::map<std::string, int> inside_;
  bool overlap_ = false;
};

// One fake API server (a "cluster") that informers can be made on.
struct FakeCluster {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  kube::ClientPtr client;
  explicit FakeCluster(const ClockPtr& clock) {
    kube::RestConfig config;
    config.server = "https://fake.example:6443";
    kube::ClientOptions o;
    o.clock = clock;
    o.retry.maxRetries = 0;
    o.sleep = [](std::chrono::nanoseconds) {};
    client = kube::makeClient(transport, config, o);
  }
};

struct Watched {
  cache::InformerPtr informer;
  std::shared_ptr<FakeStream> stream;
};

struct Fixture {
  std::shared_ptr<FakeExecutor> executor = std::make_shared<FakeExecutor>();
  prometheus::Registry registry;
  ControllerOptions options;
  std::vector<std::unique_ptr<FakeCluster>> clusters;
  std::vector<cache::InformerPtr> informers;
  std::shared_ptr<FakeReconciler> reconciler;
  ControllerPtr controller;

  Fixture() {
    options.metrics = makeControllerMetrics(registry);
    options.queueMetrics = workqueue::makeWorkQueueMetrics(registry);
  }
  ~Fixture() {
    if (controller) controller->stop();
    for (auto& i : informers) i->stop();
    executor->runReady();
    controller.reset();
    informers.clear();
    executor->shutdown();
  }

  /// A synced informer of `resource` on a new fake cluster, listing `items`.
  Watched informer(const kube::Resource& resource, const std::vector<Json>& items,
                   const std::string& ns = "demo") {
    clusters.push_back(std::make_unique<FakeCluster>(executor->clock()));
    auto& c = *clusters.back();
    c.transport->enqueue(200, listBody(items, "100"));
    cache::InformerOptions o;
    o.watcher.resource = resource;
    o.watcher.ns = ns;
    auto inf = cache::Informer::create(c.client, o, executor);
    inf->start();
    executor->runReady();
    auto stream = c.transport->lastStream();
    stream->headers(200);
    informers.push_back(inf);
    return {inf, stream};
  }

  void send(const Watched& w, const std::string& data) {
    w.stream->data(data);
    executor->runReady();
  }

  ControllerPtr build(Builder& b, FakeReconciler::Behaviour behaviour = nullptr) {
    reconciler = std::make_shared<FakeReconciler>(std::move(behaviour));
    auto built = b.withOptions(options).build(reconciler);
    REQUIRE(built);
    controller = *built;
    return controller;
  }
  void start() {
    controller->start();
    executor->runReady();  // handler registration and the replay run on the informers' strands
  }
  /// Waits until the controller has nothing queued or in progress.
  bool idle() {
    return eventually(
        [&] { return controller->queue().len() == 0 && controller->queue().processing() == 0; });
  }
  double metric(const std::string& series) { return sampleValue(registry, series).value_or(-1); }
};

Json withGeneration(Json o, int generation) {
  o["metadata"]["generation"] = generation;
  return o;
}

// Holds the reconciles that wait() on it until it is opened.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void set(bool open) {
    {
      std::lock_guard lock(mu_);
      open_ = open;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

Json ownedBy(Json o, const std::string& kind, const std::string& name, bool controller = true) {
  o["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", "v1"},
                                                   {"kind", kind},
                                                   {"name", name},
                                                   {"uid", "u-" + name},
                                                   {"controller", controller}}});
  return o;
}

const kube::Resource& kPrimary = kube::resources::kConfigMaps;
const kube::Resource& kChild = kube::resources::kSecrets;

}  // namespace

TEST_CASE(
    "Controller: each primary object is reconciled with a logger carrying controller, namespace, "
    "name and reconcile_id",
    "[runtime][controller]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {configMap("a", "1"), configMap("b", "1")});
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b);
  f.start();
  REQUIRE(f.reconciler->waitFor(2));
  REQUIRE(f.idle());
  auto calls = f.reconciler->calls();
  CHECK(f.reconciler->count("demo/a") == 1);
  CHECK(f.reconciler->count("demo/b") == 1);
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (const auto& c : calls) {
    CHECK(c.logFields["controller"] == "widgets");
    CHECK(c.logFields["namespace"] == "demo");
    CHECK(c.logFields["name"] == c.request.name);
    CHECK(c.logFields["reconcile_id"] == c.reconcileId);
    CHECK(std::regex_match(c.reconcileId, uuid));
  }
  CHECK(calls[0].reconcileId != calls[1].reconcileId);
  CHECK(f.metric(R"(controller_runtime_reconcile_total{controller="widgets",result="success"})") ==
        2);
}

TEST_CASE(
    "Controller: a key is never reconciled by two workers at once, and a slow key does not hold up "
    "the others",
    "[runtime][controller]") {
  Fixture f;
  f.options.maxConcurrentReconciles = 4;
  auto primary = f.informer(kPrimary, {});
  Gate slow;
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [&](const ReconcileContext&, const Request& r, int) -> ReconcileOutcome {
    if (r.name == "slow") slow.wait();
    return Result{};
  });
  f.start();
  f.controller->enqueue({"demo", "slow"});
  REQUIRE(f.reconciler->waitFor(1));
  // While "slow" is held, it is re-added many times and other keys keep flowing.
  for (int i = 0; i < 50; ++i) {
    f.controller->enqueue({"demo", "slow"});
    f.controller->enqueue({"demo", "k" + std::to_string(i % 5)});
  }
  CHECK(eventually([&] { return f.reconciler->count() >= 6; }));
  CHECK(f.reconciler->count("demo/slow") == 1);
  slow.set(true);
  REQUIRE(f.idle());
  CHECK(f.reconciler->count("demo/slow") == 2);  // once more after done(), deduped
  CHECK_FALSE(f.reconciler->overlapped());
}

TEST_CASE(
    "Controller: on start, objects with a change no controller has reported on are reconciled "
    "before the ones that only need a look, and their retries keep that order",
    "[runtime][controller][priority]") {
  Fixture f;
  auto observed = [](Json o, int generation, int observedGeneration) {
    o["metadata"]["generation"] = generation;
    o["status"]["observedGeneration"] = observedGeneration;
    return o;
  };
  Json deleting = observed(configMap("e-deleting", "1"), 1, 1);
  deleting["metadata"]["deletionTimestamp"] = "2026-12-07T00:00:00Z";
  auto primary = f.informer(kPrimary, {observed(configMap("a-seen", "1"), 3, 3),
                                       observed(configMap("b-seen", "1"), 1, 1),
                                       observed(configMap("c-changed", "1"), 2, 1),
                                       withGeneration(configMap("d-new", "1"), 1), deleting});
  Gate gate;
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [&](const ReconcileContext&, const Request& r, int) -> ReconcileOutcome {
    if (r.name == "gate") gate.wait();
    // A failed first pass of a seen object comes back at its own (low) priority.
    if (r.name == "a-seen" && f.reconciler->count("demo/a-seen") == 1) {
      return retryable(Error::transport("try again"));
    }
    return Result{};
  });
  f.controller->enqueue({"demo", "gate"});  // holds the only worker while the replay queues
  f.start();
  gate.set(true);
  REQUIRE(f.reconciler->waitFor(6));
  REQUIRE(f.idle());
  // a-seen's retry is due while the worker is held again and a change arrives after it.
  gate.set(false);
  f.controller->enqueue({"demo", "gate"});
  REQUIRE(f.reconciler->waitFor(7));
  f.executor->advance(1s);
  CHECK(f.controller->queue().len() == 1);
  f.controller->enqueue({"demo", "z-change"});
  gate.set(true);
  REQUIRE(f.reconciler->waitFor(9));
  REQUIRE(f.idle());
  std::vector<std::string> order;
  for (const auto& c : f.reconciler->calls()) order.push_back(c.request.name);
  CHECK(order == std::vector<std::string>{"gate", "c-changed", "d-new", "e-deleting", "a-seen",
                                          "b-seen", "gate", "z-change", "a-seen"});
}

TEST_CASE("Controller: Result::after requeues the key when the clock reaches the delay",
          "[runtime][controller]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {configMap("a", "1")});
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [](const ReconcileContext&, const Request&, int call) -> ReconcileOutcome {
    return call == 1 ? Result::after(30s) : Result{};
  });
  f.start();
  REQUIRE(f.reconciler->waitFor(1));
  REQUIRE(eventually([&] { return f.controller->queue().delayed() == 1; }));
  f.executor->advance(29s, 1s);
  CHECK(f.reconciler->count() == 1);
  f.executor->advance(1s, 1s);
  REQUIRE(f.reconciler->waitFor(2));
  REQUIRE(f.idle());
  CHECK(f.metric(
            R"(controller_runtime_reconcile_total{controller="widgets",result="requeue_after"})") ==
        1);
  CHECK(f.metric(R"(controller_runtime_reconcile_total{controller="widgets",result="success"})") ==
        1);
}

TEST_CASE("Controller: a retryable error is retried with per-item backoff 5 ms, 10 ms, ...",
          "[runtime][controller]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {configMap("a", "1")});
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [](const ReconcileContext&, const Request&, int call) -> ReconcileOutcome {
    if (call <= 2) return retryable(Error::transport("remote cluster unreachable"));
    return Result{};
  });
  f.start();
  REQUIRE(f.reconciler->waitFor(1));
  REQUIRE(eventually([&] { return f.controller->queue().delayed() == 1; }));
  f.executor->advance(4ms, 1ms);
  CHECK(f.reconciler->count() == 1);
  f.executor->advance(1ms, 1ms);
  REQUIRE(f.reconciler->waitFor(2));
  REQUIRE(eventually([&] { return f.controller->queue().delayed() == 1; }));
  CHECK(f.controller->queue().numRequeues({"demo", "a"}) == 2);
  f.executor->advance(9ms, 1ms);
  CHECK(f.reconciler->count() == 2);
  f.executor->advance(1ms, 1ms);
  REQUIRE(f.reconciler->waitFor(3));
  REQUIRE(f.idle());
  CHECK(f.controller->queue().numRequeues({"demo", "a"}) == 0);  // success forgets the backoff
  CHECK(f.metric(R"(controller_runtime_reconcile_total{controller="widgets",result="error"})") ==
        2);
  CHECK(f.metric(R"(controller_runtime_reconcile_errors_total{controller="widgets"})") == 2);
  CHECK(f.metric(R"(workqueue_retries_total{name="widgets"})") == 2);
}

TEST_CASE("Controller: Result{requeue} goes through the backoff and counts as requeue",
          "[runtime][controller]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {configMap("a", "1")});
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [](const ReconcileContext&, const Request&, int call) -> ReconcileOutcome {
    return call == 1 ? Result::withBackoff() : Result{};
  });
  f.start();
  REQUIRE(f.reconciler->waitFor(1));
  REQUIRE(eventually([&] { return f.controller->queue().delayed() == 1; }));
  f.executor->advance(5ms, 1ms);
  REQUIRE(f.reconciler->waitFor(2));
  REQUIRE(f.idle());
  CHECK(f.metric(R"(controller_runtime_reconcile_total{controller="widgets",result="requeue"})") ==
        1);
}

TEST_CASE("Controller: a terminal error is not retried until the object changes",
          "[runtime][controller]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {configMap("a", "1")});
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [](const ReconcileContext&, const Request&, int call) -> ReconcileOutcome {
    if (call == 1) return terminal(Error::invalid("spec.x is required"));
    return Result{};
  });
  f.start();
  REQUIRE(f.reconciler->waitFor(1));
  REQUIRE(f.idle());
  f.executor->advance(10min, 1s);
  CHECK(f.reconciler->count() == 1);
  CHECK(f.controller->queue().delayed() == 0);
  CHECK(f.metric(R"(controller_runtime_terminal_reconcile_errors_total{controller="widgets"})") ==
        1);
  CHECK(f.metric(R"(controller_runtime_reconcile_errors_total{controller="widgets"})") == 1);
  CHECK(f.metric(R"(controller_runtime_reconcile_total{controller="widgets",result="error"})") ==
        1);
  // The user fixes the spec: the update event brings it back.
  f.send(primary, eventLine("MODIFIED", configMap("a", "2")));
  REQUIRE(f.reconciler->waitFor(2));
}

TEST_CASE(
    "Controller: an exception in a reconcile is contained, counted as a panic and an error, and "
    "retried",
    "[runtime][controller]") {
  Fixture f;
  LogCapture logs;
  auto primary = f.informer(kPrimary, {configMap("a", "1"), configMap("b", "1")});
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [](const ReconcileContext&, const Request& r, int) -> ReconcileOutcome {
    static std::atomic<int> thrown{0};
    if (r.name == "a" && thrown++ == 0) throw std::runtime_error("nil map");
    return Result{};
  });
  f.start();
  REQUIRE(f.reconciler->waitFor(2));
  REQUIRE(eventually([&] { return f.controller->queue().delayed() == 1; }));
  f.executor->advance(5ms, 1ms);
  REQUIRE(f.reconciler->waitFor(3));
  REQUIRE(f.idle());
  CHECK(f.reconciler->count("demo/a") == 2);
  CHECK(f.reconciler->count("demo/b") == 1);
  CHECK(f.metric(R"(controller_runtime_reconcile_panics_total{controller="widgets"})") == 1);
  CHECK(f.metric(R"(controller_runtime_reconcile_errors_total{controller="widgets"})") == 1);
  CHECK(f.metric(R"(controller_runtime_reconcile_total{controller="widgets",result="error"})") ==
        1);
  CHECK(f.metric(R"(controller_runtime_reconcile_total{controller="widgets",result="success"})") ==
        2);
  auto lines = logs.find("reconciler threw, retrying with backoff");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["name"] == "a");
  CHECK(lines[0]["reconcile_id"].is_string());
}

TEST_CASE("Controller: a reconcile past its deadline sees cancelled() and the overrun is logged",
          "[runtime][controller]") {
  Fixture f;
  LogCapture logs;
  f.options.reconcileTimeout = 10s;
  auto primary = f.informer(kPrimary, {configMap("a", "1")});
  std::atomic<bool> sawCancel{false};
  std::atomic<long long> remainingAtStart{-1};
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [&](const ReconcileContext& ctx, const Request&, int call) -> ReconcileOutcome {
    if (call > 1) return Result{};
    remainingAtStart =
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx.remaining()).count();
    while (!ctx.cancelled())
      std::this_thread::sleep_for(1ms);  // a long task that checks its context
    sawCancel = true;
    return retryable(Error::timeout("gave up at the deadline"));
  });
  f.start();
  REQUIRE(eventually([&] { return remainingAtStart >= 0; }));
  CHECK(remainingAtStart == 10000);
  f.executor->advance(10s, 1s);
  REQUIRE(eventually([&] { return sawCancel.load(); }));
  REQUIRE(eventually([&] { return !logs.find("reconcile finished after its deadline").empty(); }));
  auto exceeded = logs.find("reconcile deadline exceeded, cancelling");
  REQUIRE(exceeded.size() == 1);
  CHECK(exceeded[0]["controller"] == "widgets");
  CHECK(exceeded[0]["name"] == "a");
}

TEST_CASE("Controller: stop cancels running reconciles, waits for them and takes no more work",
          "[runtime][controller]") {
  Fixture f;
  f.options.reconcileTimeout = 0ms;  // no deadline: only the stop can cancel
  auto primary = f.informer(kPrimary, {configMap("a", "1")});
  std::atomic<bool> returned{false};
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [&](const ReconcileContext& ctx, const Request&, int) -> ReconcileOutcome {
    while (!ctx.cancelled()) std::this_thread::sleep_for(1ms);
    returned = true;
    return Result{};
  });
  f.start();
  REQUIRE(f.reconciler->waitFor(1));
  f.controller->enqueue({"demo", "b"});
  f.controller->stop();
  CHECK(returned);
  CHECK(f.reconciler->count() == 1);  // b was dropped
  f.send(primary, eventLine("ADDED", configMap("c", "1")));
  CHECK(f.controller->queue().len() == 0);
}

TEST_CASE("Controller: every controller_runtime series exists at zero before the first reconcile",
          "[runtime][controller][metrics]") {
  Fixture f;
  f.options.maxConcurrentReconciles = 3;
  auto primary = f.informer(kPrimary, {});
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b);
  for (const char* result : {"success", "error", "requeue", "requeue_after"}) {
    CHECK(f.metric(
              std::string(R"(controller_runtime_reconcile_total{controller="widgets",result=")") +
              result + "\"}") == 0);
  }
  CHECK(f.metric(R"(controller_runtime_reconcile_errors_total{controller="widgets"})") == 0);
  CHECK(f.metric(R"(controller_runtime_terminal_reconcile_errors_total{controller="widgets"})") ==
        0);
  CHECK(f.metric(R"(controller_runtime_reconcile_panics_total{controller="widgets"})") == 0);
  CHECK(f.metric(R"(controller_runtime_reconcile_time_seconds_count{controller="widgets"})") == 0);
  CHECK(f.metric(R"(controller_runtime_active_workers{controller="widgets"})") == 0);
  CHECK(f.metric(R"(controller_runtime_max_concurrent_reconciles{controller="widgets"})") == 3);
  CHECK(f.metric(R"(workqueue_depth{name="widgets"})") == 0);
  auto text = rio::testing::metricsText(f.registry);
  CHECK(text.find("# TYPE controller_runtime_reconcile_time_seconds histogram") !=
        std::string::npos);
}

TEST_CASE(
    "Controller: active_workers counts reconciles in progress and reconcile_time_seconds observes "
    "them",
    "[runtime][controller][metrics]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {configMap("a", "1")});
  std::atomic<bool> release{false};
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b, [&](const ReconcileContext&, const Request&, int) -> ReconcileOutcome {
    while (!release) std::this_thread::sleep_for(1ms);
    return Result{};
  });
  f.start();
  REQUIRE(f.reconciler->waitFor(1));
  CHECK(f.metric(R"(controller_runtime_active_workers{controller="widgets"})") == 1);
  f.executor->fakeClock().advance(2s);
  release = true;
  REQUIRE(f.idle());
  CHECK(eventually([&] {
    return f.metric(R"(controller_runtime_reconcile_time_seconds_count{controller="widgets"})") ==
           1;
  }));
  CHECK(f.metric(R"(controller_runtime_reconcile_time_seconds_sum{controller="widgets"})") ==
        Approx(2.0));
  CHECK(f.metric(R"(controller_runtime_active_workers{controller="widgets"})") == 0);
}

TEST_CASE("Controller: GenerationChanged skips status-only updates of the primary",
          "[runtime][controller][predicates]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {withGeneration(configMap("a", "1"), 1)});
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer, {predicates::generationChanged()});
  f.build(b);
  f.start();
  REQUIRE(f.reconciler->waitFor(1));
  REQUIRE(f.idle());
  f.send(primary, eventLine("MODIFIED", withGeneration(configMap("a", "2"), 1)));  // status only
  CHECK(f.controller->queue().len() == 0);
  CHECK(f.controller->queue().processing() == 0);
  CHECK(f.reconciler->count() == 1);
  f.send(primary, eventLine("MODIFIED", withGeneration(configMap("a", "3"), 2)));  // spec change
  REQUIRE(f.reconciler->waitFor(2));
}

TEST_CASE("Controller: Owns maps children to their owner by ownerReference or by owner labels",
          "[runtime][controller][builder]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {});
  auto byRef = f.informer(kChild, {});
  auto byLabel = f.informer(kube::resources::kDeployments, {}, "");  // e.g. in a remote cluster
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer)
      .owns(byRef.informer)
      .owns(byLabel.informer,
            OwnerMapping::byLabels("example.com/owner-name", "example.com/owner-namespace"));
  f.build(b);
  f.start();

  f.send(byRef, eventLine("ADDED", ownedBy(configMap("s1", "5"), "ConfigMap", "owner-1")));
  REQUIRE(f.reconciler->waitFor(1));
  CHECK(f.reconciler->calls()[0].request == Request{"demo", "owner-1"});

  // A reference that is not the controller, or to another kind, maps to nothing.
  f.send(byRef, eventLine("ADDED", ownedBy(configMap("s2", "6"), "ConfigMap", "owner-2",
                                           /*controller=*/false)));
  f.send(byRef, eventLine("ADDED", ownedBy(configMap("s3", "7"), "Service", "owner-3")));

  f.send(byLabel, eventLine("ADDED", configMap("d1", "8",
                                               {{"example.com/owner-name", "owner-4"},
                                                {"example.com/owner-namespace", "istio-system"}},
                                               "remote-ns")));
  REQUIRE(f.reconciler->waitFor(2));
  REQUIRE(f.idle());
  CHECK(f.reconciler->calls()[1].request == Request{"istio-system", "owner-4"});
  CHECK(f.reconciler->count() == 2);
}

TEST_CASE("Controller: Owns maps children to their owner by an owner annotation",
          "[runtime][controller][builder]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {});
  auto remote = f.informer(kube::resources::kServiceAccounts, {}, "");
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer)
      .owns(remote.informer, OwnerMapping::byAnnotation("example.com/owner"));
  f.build(b);
  f.start();
  Json child = configMap("sa", "3", Json::object(), "istio-system");
  child["metadata"]["annotations"] = {{"example.com/owner", "hub-ns/cluster-1"}};
  f.send(remote, eventLine("ADDED", child));
  REQUIRE(f.reconciler->waitFor(1));
  CHECK(f.reconciler->calls()[0].request == Request{"hub-ns", "cluster-1"});
}

TEST_CASE(
    "Controller: Watches maps any informer's objects through a function, and event filters apply "
    "to every source",
    "[runtime][controller][builder]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {});
  auto nodes = f.informer(kube::resources::kNodes, {}, "");
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer)
      .watches(nodes.informer,
               [](const cache::ObjectPtr&) {
                 return std::vector<Request>{{"demo", "all-1"}, {"demo", "all-2"}};
               })
      .withEventFilter(
          predicates::fromFunction([](const Json& o) { return !cache::labelOf(o, "skip"); }));
  f.build(b);
  f.start();
  f.send(nodes, eventLine("ADDED", configMap("n1", "1", Json::object(), "")));
  REQUIRE(f.reconciler->waitFor(2));
  REQUIRE(f.idle());
  f.send(nodes, eventLine("ADDED", configMap("n2", "2", {{"skip", "yes"}}, "")));
  f.send(primary, eventLine("ADDED", configMap("p", "3", {{"skip", "yes"}})));
  CHECK(f.controller->queue().len() == 0);
  CHECK(f.controller->queue().processing() == 0);
  CHECK(f.reconciler->count() == 2);
}

TEST_CASE(
    "Controller: a source added after start replays its objects, and an unwatched source queues "
    "nothing",
    "[runtime][controller]") {
  Fixture f;
  auto primary = f.informer(kPrimary, {});
  Builder b("widgets", f.executor);
  b.forInformer(primary.informer);
  f.build(b);
  f.start();
  // A remote cluster joins: its informer already holds two objects.
  auto remote = f.informer(
      kChild, {configMap("x", "1", {{"owner", "o1"}}), configMap("y", "1", {{"owner", "o2"}})});
  auto id = f.controller->watch(remote.informer, requestForOwnerLabels("owner", "owner-ns"));
  f.executor->runReady();
  REQUIRE(f.reconciler->waitFor(2));
  REQUIRE(f.idle());
  // The cluster leaves.
  f.controller->unwatch(id);
  f.send(remote, eventLine("ADDED", configMap("z", "2", {{"owner", "o3"}})));
  CHECK(f.controller->queue().len() == 0);
  CHECK(f.controller->queue().processing() == 0);
  CHECK(f.reconciler->count() == 2);
}

TEST_CASE("Builder: a controller needs a primary resource and a reconciler", "[runtime][builder]") {
  auto executor = std::make_shared<FakeExecutor>();
  Builder b("widgets", executor);
  auto built = b.build(nullptr);
  REQUIRE_FALSE(built);
  CHECK(built.error().kind() == ErrorKind::kInvalid);
  CHECK(built.error().message().find("primary") != std::string::npos);
  CHECK(built.error().message().find("reconciler") != std::string::npos);
  executor->shutdown();
}
