#include "controller/cache/watcher.h"

#include <algorithm>

namespace rio::cache {
namespace {

constexpr std::string_view kInitialEventsEnd = "k8s.io/initial-events-end";
// A watch the server ends normally sooner than this without any event is treated as a failure,
// so a misbehaving proxy cannot make the watcher spin.
constexpr auto kMinHealthyWatch = std::chrono::seconds(1);
// The reachability probe: a watch selecting an object that does not exist, ended by the server
// after a second. Authorised wherever the informer's own watch is.
constexpr std::string_view kProbeName = "rio-reachability-probe-0f8c2b7e";

// The server did not answer at all: nothing reached it, retrying costs it nothing.
bool serverDidNotAnswer(const Error& error) {
  return error.kind() == ErrorKind::kTransport || error.kind() == ErrorKind::kTimeout;
}

long long millis(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

std::string_view toString(WatcherState state) {
  switch (state) {
    case WatcherState::kEmpty:
      return "Empty";
    case WatcherState::kInitListing:
      return "InitListing";
    case WatcherState::kInitWatching:
      return "InitWatching";
    case WatcherState::kInitListed:
      return "InitListed";
    case WatcherState::kWatching:
      return "Watching";
    case WatcherState::kStopped:
      return "Stopped";
  }
  return "Unknown";
}

std::shared_ptr<Watcher> Watcher::create(kube::ClientPtr client, WatcherOptions options,
                                         runtime::SerialExecutorPtr strand, Sink sink) {
  return std::shared_ptr<Watcher>(
      new Watcher(std::move(client), std::move(options), std::move(strand), std::move(sink)));
}

Watcher::Watcher(kube::ClientPtr client, WatcherOptions options, runtime::SerialExecutorPtr strand,
                 Sink sink)
    : client_(std::move(client)),
      options_(std::move(options)),
      strand_(std::move(strand)),
      sink_(std::move(sink)),
      random_(options_.random ? options_.random : defaultRandom()),
      logger_(options_.logger.with({{"resource", options_.resource.qualifiedName()}})),
      health_(options_.health ? options_.health : std::make_shared<ServerHealth>()),
      useWatchList_(options_.useWatchList),
      backoff_(options_.backoff, strand_->clock(), random_) {}

Watcher::~Watcher() {
  health_->leave(this);
  // Only reached when no task of this watcher is running; the watch's callbacks hold weak refs.
  if (watch_) watch_->stop();
  if (retryTimer_) retryTimer_->cancel();
  if (initialEventsTimer_) initialEventsTimer_->cancel();
}

void Watcher::start() {
  if (stopped_ || started_.exchange(true)) return;
  postStep();
}

void Watcher::stop() {
  if (stopped_.exchange(true)) return;
  strand_->post([self = shared_from_this()] {
    self->stopWatch();
    if (self->retryTimer_) self->retryTimer_->cancel();
    if (self->initialEventsTimer_) self->initialEventsTimer_->cancel();
    self->backingOff_ = false;
    self->health_->leave(self.get());
    self->setState(WatcherState::kStopped);
  });
}

std::string Watcher::resourceVersion() const {
  std::lock_guard lock(rvMu_);
  return publicRv_;
}

void Watcher::setResourceVersion(std::string rv) {
  rv_ = std::move(rv);
  std::lock_guard lock(rvMu_);
  publicRv_ = rv_;
}

void Watcher::postStep() {
  std::weak_ptr<Watcher> weak = weak_from_this();
  strand_->post([weak] {
    if (auto self = weak.lock()) self->step();
  });
}

void Watcher::emit(WatcherEvent::Type type, ObjectPtr object) {
  if (stopped_) return;
  sink_(WatcherEvent{type, std::move(object)});
}

ObjectPtr Watcher::normalize(nlohmann::json&& object) const {
  if (object.is_object()) {
    if (options_.stripManagedFields) {
      if (auto m = object.find("metadata"); m != object.end() && m->is_object())
        m->erase("managedFields");
    }
    // LIST items carry no kind/apiVersion; add them so every cached object is self-describing.
    if (!object.contains("kind")) object["kind"] = options_.resource.kind;
    if (!object.contains("apiVersion")) object["apiVersion"] = options_.resource.apiVersion();
  }
  if (options_.transform) options_.transform(object);
  return std::make_shared<const nlohmann::json>(std::move(object));
}

void Watcher::madeProgress() {
  failures_ = 0;
  consecutiveGone_ = 0;
}

// ---------------------------------------------------------------------------------------------
// The state machine (strand only)

void Watcher::step() {
  if (stopped_) return;
  retryTimer_.reset();
  backingOff_ = false;
  const WatcherState state = state_.load();
  if (health_->suspect() && state != WatcherState::kInitListed && state != WatcherState::kStopped) {
    // The server was not answering: a LIST would block a pool worker on it, and a resumed watch
    // gives no sign of life on a quiet resource. A probe answers either way within a second.
    startProbe();
    return;
  }
  switch (state) {
    case WatcherState::kEmpty:
      beginInit();
      break;
    case WatcherState::kInitListing:
      listPage();
      break;
    case WatcherState::kInitWatching:
      startWatch(/*initialEvents=*/true);
      break;
    case WatcherState::kInitListed:
      emit(WatcherEvent::Type::kInitDone);
      setState(WatcherState::kWatching);
      startWatch(/*initialEvents=*/false);
      break;
    case WatcherState::kWatching:
      startWatch(/*initialEvents=*/false);
      break;
    case WatcherState::kStopped:
      break;
  }
}

void Watcher::beginInit() {
  emit(WatcherEvent::Type::kInit);
  if (useWatchList_) {
    setState(WatcherState::kInitWatching);
    startWatch(/*initialEvents=*/true);
  } else {
    setState(WatcherState::kInitListing);
    continue_.clear();
    listPage();
  }
}

void Watcher::listPage() {
  kube::ListOptions o;
  o.labelSelector = options_.labelSelector;
  o.fieldSelector = options_.fieldSelector;
  o.limit = options_.pageSize;
  o.continueToken = continue_;
  auto page = client_->list(options_.resource, options_.ns, o);  // blocks this pool worker
  if (stopped_) return;
  if (page) health_->answered();
  if (!page) {
    noteOutcome(page.error());
    if (page.error().isGone() && !continue_.empty()) {
      // The continue token expired between pages: start the list over.
      logger_.info("list continue token expired, listing again");
      setState(WatcherState::kEmpty);
      postStep();
      return;
    }
    retryLater(page.error());
    return;
  }
  madeProgress();
  if (auto items = page->find("items"); items != page->end() && items->is_array()) {
    for (auto& item : *items) emit(WatcherEvent::Type::kInitApply, normalize(std::move(item)));
  }
  std::string next, rv;
  if (auto m = page->find("metadata"); m != page->end() && m->is_object()) {
    next = m->value("continue", "");
    rv = m->value("resourceVersion", "");
  }
  if (!next.empty()) {
    continue_ = std::move(next);
    postStep();  // the next page is a new task: other strands get the worker in between
    return;
  }
  continue_.clear();
  setResourceVersion(std::move(rv));
  setState(WatcherState::kInitListed);
  step();
}

void Watcher::startWatch(bool initialEvents) {
  stopWatch();
  kube::WatchOptions o;
  o.resourceVersion = initialEvents ? std::string() : rv_;
  o.labelSelector = options_.labelSelector;
  o.fieldSelector = options_.fieldSelector;
  o.allowBookmarks = true;
  o.sendInitialEvents = initialEvents;
  o.idleTimeout = options_.watchIdleTimeout;
  auto lo = static_cast<long long>(options_.watchTimeoutMin.count());
  auto hi = std::max(lo, static_cast<long long>(options_.watchTimeoutMax.count()));
  o.timeoutSeconds =
      static_cast<int>(lo + static_cast<long long>(random_() * static_cast<double>(hi - lo + 1)));
  if (*o.timeoutSeconds > hi) o.timeoutSeconds = static_cast<int>(hi);

  const std::uint64_t generation = ++watchGeneration_;
  watchEvents_ = 0;
  watchStartedAt_ = strand_->clock()->now();
  std::weak_ptr<Watcher> weak = weak_from_this();
  auto strand = strand_;
  kube::WatchHandler handler;
  // I/O thread: hand the event to the strand and return at once.
  handler.onEvent = [weak, strand, generation](kube::WatchEvent&& event) {
    strand->post([weak, generation, event = std::move(event)]() mutable {
      if (auto self = weak.lock()) self->onWatchEvent(generation, std::move(event));
    });
  };
  handler.onClose = [weak, strand, generation](const std::optional<Error>& error) {
    strand->post([weak, generation, error] {
      if (auto self = weak.lock()) self->onWatchClosed(generation, error);
    });
  };
  if (initialEvents) {
    initialEventsTimer_ = strand_->postAfter(options_.initialEventsTimeout, [weak, generation] {
      if (auto self = weak.lock()) self->onInitialEventsTimeout(generation);
    });
  }
  watch_ = client_->watch(options_.resource, options_.ns, o, std::move(handler));
}

void Watcher::startProbe() {
  stopWatch();
  kube::WatchOptions o;
  o.fieldSelector = "metadata.name=" + std::string(kProbeName);
  o.allowBookmarks = false;
  o.timeoutSeconds = 1;
  probing_ = true;
  probingPublic_ = true;
  const std::uint64_t generation = ++watchGeneration_;
  std::weak_ptr<Watcher> weak = weak_from_this();
  auto strand = strand_;
  kube::WatchHandler handler;
  handler.onEvent = [weak, strand, generation](kube::WatchEvent&&) {
    strand->post([weak, generation] {
      auto self = weak.lock();
      if (!self || self->stopped_ || generation != self->watchGeneration_) return;
      self->stopWatch();  // any event is an answer: no need to wait for the end
      self->onProbeClosed(std::nullopt);
    });
  };
  handler.onClose = [weak, strand, generation](const std::optional<Error>& error) {
    strand->post([weak, generation, error] {
      auto self = weak.lock();
      if (!self || self->stopped_ || generation != self->watchGeneration_) return;
      self->watch_.reset();
      self->onProbeClosed(error);
    });
  };
  logger_.debug("probing the server before listing");
  watch_ = client_->watch(options_.resource, options_.ns, o, std::move(handler));
}

void Watcher::onProbeClosed(const std::optional<Error>& error) {
  probing_ = false;
  probingPublic_ = false;
  if (!error || !serverDidNotAnswer(*error)) {
    health_->answered();
    logger_.info("the server answers again, listing");
    step();
    return;
  }
  noteOutcome(*error);
  retryLater(*error);
}

void Watcher::noteOutcome(const Error& error) {
  if (serverDidNotAnswer(error)) {
    health_->noAnswer();
  } else if (error.kind() == ErrorKind::kApi) {
    health_->answered();
  }
}

void Watcher::stopWatch() {
  probing_ = false;
  probingPublic_ = false;
  ++watchGeneration_;  // whatever the old watch still delivers is stale
  if (initialEventsTimer_) {
    initialEventsTimer_->cancel();
    initialEventsTimer_.reset();
  }
  if (auto w = std::move(watch_)) w->stop();
}

void Watcher::onWatchEvent(std::uint64_t generation, kube::WatchEvent&& event) {
  if (stopped_ || generation != watchGeneration_) return;
  ++watchEvents_;
  madeProgress();
  health_->answered();
  std::string rv = resourceVersionOf(event.object);
  using kube::WatchEventType;
  if (state_ == WatcherState::kInitWatching) {
    switch (event.type) {
      case WatchEventType::kAdded:
      case WatchEventType::kModified:
        emit(WatcherEvent::Type::kInitApply, normalize(std::move(event.object)));
        break;
      case WatchEventType::kDeleted:
        emit(WatcherEvent::Type::kInitDelete, normalize(std::move(event.object)));
        break;
      case WatchEventType::kBookmark: {
        const std::string* end = annotationOf(event.object, kInitialEventsEnd);
        if (end && *end == "true") {
          if (initialEventsTimer_) {
            initialEventsTimer_->cancel();
            initialEventsTimer_.reset();
          }
          setResourceVersion(std::move(rv));
          emit(WatcherEvent::Type::kInitDone);
          setState(WatcherState::kWatching);
        }
        break;
      }
      case WatchEventType::kError:
        break;  // the client turns ERROR events into onClose
    }
    return;
  }
  if (state_ != WatcherState::kWatching) return;
  if (!rv.empty()) setResourceVersion(std::move(rv));
  switch (event.type) {
    case WatchEventType::kAdded:
    case WatchEventType::kModified:
      emit(WatcherEvent::Type::kApply, normalize(std::move(event.object)));
      break;
    case WatchEventType::kDeleted:
      emit(WatcherEvent::Type::kDelete, normalize(std::move(event.object)));
      break;
    case WatchEventType::kBookmark:
    case WatchEventType::kError:
      break;
  }
}

void Watcher::onWatchClosed(std::uint64_t generation, const std::optional<Error>& error) {
  if (stopped_ || generation != watchGeneration_) return;
  watch_.reset();
  if (error) {
    noteOutcome(*error);
  } else {
    health_->answered();
  }
  const bool hadEvents = watchEvents_ > 0;
  const auto lived = strand_->clock()->now() - watchStartedAt_;

  if (state_ == WatcherState::kInitWatching) {
    if (initialEventsTimer_) {
      initialEventsTimer_->cancel();
      initialEventsTimer_.reset();
    }
    if (!error) {
      fallBackToList(
          "the server ended the watch-list request before the initial-events-end bookmark");
      return;
    }
    if (error->kind() == ErrorKind::kApi) {
      fallBackToList("the server answered the watch-list request with HTTP " +
                     std::to_string(error->code()) + " " + std::string(error->reason()));
      return;
    }
    setState(WatcherState::kEmpty);  // the partial initial state is thrown away
    retryLater(*error);
    return;
  }

  if (state_ != WatcherState::kWatching) return;
  if (!error) {
    if (hadEvents || lived >= kMinHealthyWatch) {
      logger_.debug("watch ended by the server, resuming", {{"resourceVersion", rv_}});
      postStep();
    } else {
      retryLater(Error::transport("the server ended the watch at once"));
    }
    return;
  }
  if (error->isGone()) {
    // Our resourceVersion is older than the server's history: relist. At once the first time;
    // a second 410 right after a fresh list goes through backoff.
    logger_.info("resourceVersion expired, listing again", {{"resourceVersion", rv_}});
    setState(WatcherState::kEmpty);
    if (consecutiveGone_++ == 0 || hadEvents) {
      postStep();
    } else {
      retryLater(*error);
    }
    return;
  }
  retryLater(*error);  // stays Watching: the next attempt resumes from rv_
}

void Watcher::onInitialEventsTimeout(std::uint64_t generation) {
  if (stopped_ || generation != watchGeneration_ || state_ != WatcherState::kInitWatching) return;
  initialEventsTimer_.reset();
  stopWatch();
  fallBackToList("the initial-events-end bookmark did not arrive in time");
}

void Watcher::fallBackToList(std::string_view why) {
  logger_.warn("watch-list unavailable, using list and watch", {{"why", std::string(why)}});
  useWatchList_ = false;
  setState(WatcherState::kEmpty);
  postStep();
}

void Watcher::retryLater(const Error& error) {
  ++failures_;
  std::chrono::nanoseconds delay = backoff_.next();
  const bool noAnswer = serverDidNotAnswer(error);
  std::weak_ptr<Watcher> weak = weak_from_this();
  auto strand = strand_;
  auto wake = [weak, strand] {
    // The server answered another informer: retry now instead of at the end of the backoff.
    strand->post([weak] {
      auto self = weak.lock();
      if (!self || self->stopped_ || !self->backingOff_) return;
      if (self->retryTimer_) self->retryTimer_->cancel();
      self->step();
    });
  };
  if (noAnswer && health_->proberOrWait(this, std::move(wake))) {
    double jitter = 0.8 + 0.4 * random_();
    auto cap = std::chrono::nanoseconds(static_cast<long long>(
        static_cast<double>(std::chrono::nanoseconds(options_.outageRetryInterval).count()) *
        jitter));
    delay = std::min(delay, cap);
  } else if (auto ra = error.retryAfter()) {
    delay = std::max<std::chrono::nanoseconds>(
        delay, std::min<std::chrono::nanoseconds>(*ra, options_.backoff.max));
  }
  logger_.warn("watcher failed, retrying", {{"state", std::string(toString(state_.load()))},
                                            {"kind", std::string(rio::toString(error.kind()))},
                                            {"code", error.code()},
                                            {"error", error.message()},
                                            {"attempt", failures_.load()},
                                            {"delay_ms", millis(delay)}});
  backingOff_ = true;
  retryTimer_ = strand_->postAfter(delay, [weak] {
    if (auto self = weak.lock()) self->step();
  });
}

}  // namespace rio::cache
