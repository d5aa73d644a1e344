#include "controller/runtime/controller.h"

#include <cstdio>
#include <exception>

namespace rio::runtime {
namespace {

double secondsSince(const ClockPtr& clock, SteadyTime start) {
  return std::chrono::duration<double>(clock->now() - start).count();
}

long long millis(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

std::shared_ptr<Controller> Controller::create(std::string name, ReconcilerPtr reconciler,
                                               ExecutorPtr executor, ControllerOptions options) {
  return std::shared_ptr<Controller>(new Controller(std::move(name), std::move(reconciler),
                                                    std::move(executor), std::move(options)));
}

Controller::Controller(std::string name, ReconcilerPtr reconciler, ExecutorPtr executor,
                       ControllerOptions options)
    : name_(std::move(name)),
      reconciler_(std::move(reconciler)),
      executor_(std::move(executor)),
      clock_(executor_->clock()),
      options_(std::move(options)),
      logger_(options_.logger.with({{"controller", name_}})),
      metrics_(options_.metrics ? options_.metrics->forController(name_) : nullptr),
      queue_([&] {
        Queue::Options q;
        q.executor = executor_;
        q.rateLimiter =
            workqueue::defaultRateLimiter<Request>(executor_->clock(), options_.rateLimiter);
        if (options_.queueMetrics) q.metrics = options_.queueMetrics->forQueue(name_);
        return Queue::create(std::move(q));
      }()) {
  if (metrics_) metrics_->setMaxConcurrentReconciles(std::max(1, options_.maxConcurrentReconciles));
}

Controller::~Controller() { stop(); }

SourceId Controller::watch(cache::InformerPtr informer, MapFunc map,
                           std::vector<Predicate> predicates, InitialPriority initialPriority) {
  std::lock_guard lock(mu_);
  SourceId id = nextSource_++;
  Source& s = sources_[id];
  s.informer = std::move(informer);
  s.map = std::move(map);
  s.predicates = std::move(predicates);
  s.initialPriority = initialPriority ? std::move(initialPriority) : lowPriority();
  if (started_ && !stopping_) registerLocked(s);
  return id;
}

void Controller::unwatch(SourceId id) {
  Source source;
  {
    std::lock_guard lock(mu_);
    auto it = sources_.find(id);
    if (it == sources_.end()) return;
    source = std::move(it->second);
    sources_.erase(it);
  }
  if (source.handler) source.informer->removeEventHandler(*source.handler);
}

void Controller::registerLocked(Source& source) {
  // The handler holds the queue, the mapping and the predicates, never the controller.
  auto queue = queue_;
  auto map = source.map;
  auto predicates = source.predicates;
  auto enqueue = [queue, map](const cache::ObjectPtr& object,
                              int priority = workqueue::kNormalPriority) {
    for (auto& request : map(object)) queue->add(request, priority);
  };
  cache::EventHandler h;
  h.onAdd = [predicates, enqueue, initialPriority = source.initialPriority](
                const cache::ObjectPtr& o, bool initial) {
    for (const auto& p : predicates) {
      if (!p.allowsCreate(o)) return;
    }
    enqueue(o, initial ? initialPriority(o) : workqueue::kNormalPriority);
  };
  h.onUpdate = [predicates, enqueue](const cache::ObjectPtr& oldObj,
                                     const cache::ObjectPtr& newObj) {
    for (const auto& p : predicates) {
      if (!p.allowsUpdate(oldObj, newObj)) return;
    }
    enqueue(oldObj);  // an owner label or reference may have moved: both owners hear of it
    enqueue(newObj);
  };
  h.onDelete = [predicates, enqueue](const cache::ObjectPtr& o) {
    for (const auto& p : predicates) {
      if (!p.allowsDelete(o)) return;
    }
    enqueue(o);
  };
  source.handler = source.informer->addEventHandler(std::move(h));
}

bool Controller::cachesSynced() const {
  std::lock_guard lock(mu_);
  for (const auto& [id, s] : sources_) {
    if (!s.informer->hasSynced()) return false;
  }
  return true;
}

void Controller::start() {
  std::lock_guard lock(mu_);
  if (stopping_ || started_.exchange(true)) return;
  for (auto& [id, s] : sources_) {
    if (!s.informer->hasSynced()) {
      logger_.warn("starting before the cache has synced", {{"informer", s.informer->name()}});
    }
    registerLocked(s);
  }
  int n = std::max(1, options_.maxConcurrentReconciles);
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { worker(); });
  logger_.info("controller started", {{"workers", n}});
}

void Controller::stop() {
  if (stopping_.exchange(true)) return;
  std::vector<std::pair<cache::InformerPtr, cache::HandlerId>> handlers;
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : sources_) {
      if (s.handler) handlers.emplace_back(s.informer, *s.handler);
      s.handler.reset();
    }
    for (const auto& token : running_) token->cancel();
    workers.swap(workers_);
  }
  for (auto& [informer, handler] : handlers) informer->removeEventHandler(handler);
  queue_->shutDown();
  for (auto& w : workers) w.join();
  if (started_) logger_.info("controller stopped");
}

void Controller::worker() {
  while (auto got = queue_->getWithPriority()) {
    const auto& [request, priority] = *got;
    if (!stopping_) reconcileOne(request, priority);
    queue_->done(request);
  }
}

std::string Controller::newReconcileId() {
  std::uint64_t a, b;
  {
    std::lock_guard lock(mu_);
    a = rng_();
    b = rng_();
  }
  // A version-4 UUID layout: xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx.
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0x0fff),
                static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

void Controller::reconcileOne(const Request& request, int priority) {
  const std::string id = newReconcileId();
  const log::Logger logger =
      logger_.with({{"namespace", request.ns}, {"name", request.name}, {"reconcile_id", id}});
  auto token = std::make_shared<CancellationToken>();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    running_.insert(token);
  }
  const SteadyTime started = clock_->now();
  const auto timeout = options_.reconcileTimeout;
  const SteadyTime deadline = timeout.count() > 0 ? started + timeout : SteadyTime::max();
  TimerHandlePtr watchdog;
  if (timeout.count() > 0) {
    watchdog = executor_->postAt(deadline, [token, logger, timeout] {
      token->cancel();
      logger.warn("reconcile deadline exceeded, cancelling", {{"timeout_ms", millis(timeout)}});
    });
  }
  ReconcileContext ctx(logger, id, clock_, deadline, token);

  if (metrics_) metrics_->workerStarted();
  logger.debug("reconcile started");
  std::optional<ReconcileOutcome> outcome;
  bool panicked = false;
  try {
    outcome = reconciler_->reconcile(ctx, request);
  } catch (const std::exception& e) {
    panicked = true;
    outcome = retryable(Error::internal(std::string("reconciler threw: ") + e.what()));
  } catch (...) {
    panicked = true;
    outcome = retryable(Error::internal("reconciler threw a non-standard exception"));
  }
  const double seconds = secondsSince(clock_, started);
  if (metrics_) metrics_->workerFinished();
  if (watchdog) watchdog->cancel();
  {
    std::lock_guard lock(mu_);
    running_.erase(token);
  }
  if (timeout.count() > 0 && clock_->now() >= deadline) {
    logger.warn(
        "reconcile finished after its deadline",
        {{"duration_ms", static_cast<long long>(seconds * 1000)}, {"timeout_ms", millis(timeout)}});
  }

  ReconcileResultLabel label;
  if (!*outcome) {
    const ReconcileError& err = outcome->error();
    label = ReconcileResultLabel::kError;
    if (metrics_) {
      metrics_->error();
      if (panicked) metrics_->panic();
    }
    if (err.isTerminal()) {
      if (metrics_) metrics_->terminalError();
      queue_->forget(request);
      logger.error(
          "reconcile failed terminally, not retrying",
          {{"error", err.error().message()}, {"kind", std::string(toString(err.error().kind()))}});
    } else {
      queue_->addRateLimited(request, priority);
      logger.error(panicked ? "reconciler threw, retrying with backoff"
                            : "reconcile failed, retrying with backoff",
                   {{"error", err.error().message()},
                    {"kind", std::string(toString(err.error().kind()))},
                    {"requeues", queue_->numRequeues(request)}});
    }
  } else if ((*outcome)->requeueAfter.count() > 0) {
    label = ReconcileResultLabel::kRequeueAfter;
    queue_->forget(request);
    queue_->addAfter(request, (*outcome)->requeueAfter, priority);
    logger.debug("reconcile done, re-checking later",
                 {{"requeue_after_ms", millis((*outcome)->requeueAfter)}});
  } else if ((*outcome)->requeue) {
    label = ReconcileResultLabel::kRequeue;
    queue_->addRateLimited(request, priority);
    logger.debug("reconcile done, requeued with backoff");
  } else {
    label = ReconcileResultLabel::kSuccess;
    queue_->forget(request);
    logger.debug("reconcile done");
  }
  if (metrics_) metrics_->reconciled(label, seconds);
}

}  // namespace rio::runtime
