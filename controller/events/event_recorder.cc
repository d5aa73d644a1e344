#include "controller/events/event_recorder.h"

#include <algorithm>
#include <cstdio>
#include <list>
#include <set>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "controller/core/token_bucket.h"
#include "controller/helpers/time_format.h"

namespace rio::events {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxReasonBytes = 128;
constexpr std::string_view kCombinedPrefix = "(combined from similar events): ";
constexpr char kSep = '\x1f';

std::string capUtf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

std::string str(const Json& m, const char* key) {
  auto it = m.find(key);
  return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A small least-recently-used map: client-go bounds its correlator caches the same way.
template <class V>
class Lru {
 public:
  explicit Lru(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}
  V* get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  V& put(const std::string& key, V value) {
    if (V* existing = get(key)) {
      *existing = std::move(value);
      return *existing;
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return order_.front().second;
  }

 private:
  std::size_t capacity_;
  std::list<std::pair<std::string, V>> order_;
  std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
};

}  // namespace

std::string_view toString(EventType type) {
  return type == EventType::kWarning ? "Warning" : "Normal";
}

ObjectReference ObjectReference::of(const Json& object, const kube::Resource& resource) {
  ObjectReference r;
  if (!object.is_object()) return r;
  r.apiVersion = str(object, "apiVersion");
  r.kind = str(object, "kind");
  if (r.apiVersion.empty()) r.apiVersion = resource.apiVersion();
  if (r.kind.empty()) r.kind = resource.kind;
  if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
    r.ns = str(*m, "namespace");
    r.name = str(*m, "name");
    r.uid = str(*m, "uid");
    r.resourceVersion = str(*m, "resourceVersion");
  }
  return r;
}

Json ObjectReference::toJson() const {
  Json j = Json::object();
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
  };
  put("apiVersion", apiVersion);
  put("kind", kind);
  put("namespace", ns);
  put("name", name);
  put("uid", uid);
  put("resourceVersion", resourceVersion);
  put("fieldPath", fieldPath);
  return j;
}

// ---------------------------------------------------------------------------------------------

struct Broadcaster::Pending {
  ObjectReference ref;
  EventType type = EventType::kNormal;
  std::string reason;
  std::string message;
  std::string component;
  WallTime wall;
  SteadyTime steady;
};

struct Broadcaster::Correlator {
  struct Seen {
    std::string name;
    std::string ns;
    std::int64_t count = 0;
    std::string firstTimestamp;
  };
  struct Aggregate {
    std::set<std::string> messages;
    SteadyTime last{};
  };
  explicit Correlator(std::size_t size) : buckets(size), aggregates(size), seen(size) {}
  Lru<std::shared_ptr<TokenBucket>> buckets;
  Lru<Aggregate> aggregates;
  Lru<Seen> seen;
  std::int64_t lastNanos = 0;
};

struct Broadcaster::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : family(prometheus::BuildCounter()
                   .Name("event_recorder_events_total")
                   .Help("Events recorded, by what became of them: created, patched (a repeat "
                         "counted on an existing Event), dropped_queue_full, "
                         "dropped_rate_limited, failed.")
                   .Register(registry)) {
    for (const char* r :
         {"created", "patched", "dropped_queue_full", "dropped_rate_limited", "failed"}) {
      family.Add({{"result", r}});
    }
  }
  prometheus::Family<prometheus::Counter>& family;
};

class Broadcaster::Recorder final : public EventRecorder {
 public:
  Recorder(std::weak_ptr<Broadcaster> owner, std::string component)
      : owner_(std::move(owner)), component_(std::move(component)) {}

  using EventRecorder::event;
  void event(const ObjectReference& object, EventType type, std::string_view reason,
             std::string_view message) override {
    auto owner = owner_.lock();
    if (!owner) return;
    Pending p;
    p.ref = object;
    p.type = type;
    p.reason = capUtf8(reason, kMaxReasonBytes);
    p.message = capUtf8(message, owner->options_.maxMessageBytes);
    p.component = component_;
    p.wall = owner->clock_->wallNow();
    p.steady = owner->clock_->now();
    owner->enqueue(std::move(p));
  }

 private:
  std::weak_ptr<Broadcaster> owner_;
  std::string component_;
};

std::shared_ptr<Broadcaster> Broadcaster::create(kube::ClientPtr client,
                                                 runtime::ExecutorPtr executor,
                                                 BroadcasterOptions options) {
  return std::shared_ptr<Broadcaster>(
      new Broadcaster(std::move(client), std::move(executor), std::move(options)));
}

Broadcaster::Broadcaster(kube::ClientPtr client, runtime::ExecutorPtr executor,
                         BroadcasterOptions options)
    : client_(std::move(client)),
      strand_(runtime::SerialExecutor::create(std::move(executor))),
      clock_(strand_->clock()),
      options_(std::move(options)),
      logger_(options_.logger),
      correlator_(std::make_unique<Correlator>(options_.cacheSize)) {
  if (options_.registry) metrics_ = std::make_unique<Metrics>(*options_.registry);
}

Broadcaster::~Broadcaster() { stop(); }

EventRecorderPtr Broadcaster::recorderFor(const std::string& component) {
  return std::make_shared<Recorder>(weak_from_this(), component);
}

void Broadcaster::stop() {
  std::vector<TimerHandlePtr> retries;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    retries.swap(retries_);
  }
  for (auto& r : retries) r->cancel();
}

std::size_t Broadcaster::pending() const {
  std::lock_guard lock(mu_);
  return queued_ + retries_.size();
}

BroadcasterStats Broadcaster::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Broadcaster::count(std::uint64_t BroadcasterStats::*field, std::string_view label) {
  {
    std::lock_guard lock(mu_);
    ++(stats_.*field);
  }
  if (metrics_) metrics_->family.Add({{"result", std::string(label)}}).Increment();
}

void Broadcaster::enqueue(Pending&& event) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    if (queued_ >= options_.queueCapacity) {
      ++stats_.droppedQueueFull;
    } else {
      ++queued_;
      std::weak_ptr<Broadcaster> weak = weak_from_this();
      strand_->post([weak, e = std::move(event)]() mutable {
        if (auto self = weak.lock()) self->process(std::move(e));
      });
      return;
    }
  }
  if (metrics_) metrics_->family.Add({{"result", "dropped_queue_full"}}).Increment();
  logger_.debug("event dropped: the queue is full", {{"reason", event.reason}});
}

void Broadcaster::process(Pending e) {
  {
    std::lock_guard lock(mu_);
    --queued_;
    if (stopped_) return;
  }
  Correlator& c = *correlator_;
  const std::string host = options_.instance;
  const std::string object =
      e.ref.kind + kSep + e.ref.ns + kSep + e.ref.name + kSep + e.ref.uid + kSep + e.ref.apiVersion;
  const std::string source = e.component + kSep + host;

  // 1. Per-object spam filter.
  const std::string spamKey = source + kSep + object;
  std::shared_ptr<TokenBucket>* bucket = c.buckets.get(spamKey);
  if (!bucket) {
    bucket = &c.buckets.put(spamKey,
                            std::make_shared<TokenBucket>(options_.qps, options_.burst, clock_));
  }
  if (!(*bucket)->tryTake()) {
    count(&BroadcasterStats::droppedRateLimited, "dropped_rate_limited");
    logger_.debug("event dropped: rate limit for the object", {{"kind", e.ref.kind},
                                                               {"namespace", e.ref.ns},
                                                               {"name", e.ref.name},
                                                               {"reason", e.reason}});
    return;
  }

  // 2. Aggregation of similar events (same object, type, reason; different messages).
  const std::string aggKey =
      source + kSep + object + kSep + std::string(toString(e.type)) + kSep + e.reason;
  Correlator::Aggregate* agg = c.aggregates.get(aggKey);
  if (!agg) agg = &c.aggregates.put(aggKey, {});
  if (e.steady - agg->last > options_.similarInterval) agg->messages.clear();
  agg->messages.insert(e.message);
  agg->last = e.steady;
  std::string key = aggKey + kSep + e.message;
  std::string message = e.message;
  if (agg->messages.size() >= options_.maxSimilarEvents) {
    agg->messages.erase(agg->messages.begin());
    key = aggKey;
    message = capUtf8(std::string(kCombinedPrefix) + e.message, options_.maxMessageBytes);
  }

  // 3. Deduplication: a repeat counts on the Event already written.
  const std::string ns = e.ref.ns.empty() ? "default" : e.ref.ns;
  const std::string timestamp = helpers::formatTime(e.wall);
  Json event{{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"namespace", ns}}},
             {"involvedObject", e.ref.toJson()},
             {"reason", e.reason},
             {"message", message},
             {"type", toString(e.type)},
             {"lastTimestamp", timestamp},
             {"source", {{"component", e.component}}},
             {"reportingComponent", e.component},
             {"reportingInstance", host}};
  if (!host.empty()) event["source"]["host"] = host;

  if (Correlator::Seen* seen = c.seen.get(key)) {
    seen->count += 1;
    event["metadata"]["name"] = seen->name;
    event["count"] = seen->count;
    event["firstTimestamp"] = seen->firstTimestamp;
    write(std::move(event), /*patch=*/true, 1);
    return;
  }
  // client-go names events <object>.<unix nanos in hex>; kept strictly increasing here so two
  // events in the same nanosecond (or on a manual clock) never collide.
  std::int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(e.wall.time_since_epoch()).count();
  nanos = std::max(nanos, c.lastNanos + 1);
  c.lastNanos = nanos;
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
  std::string name = (e.ref.name.empty() ? std::string("event") : e.ref.name) + "." + hex;
  event["metadata"]["name"] = name;
  event["count"] = 1;
  event["firstTimestamp"] = timestamp;
  c.seen.put(key, {name, ns, 1, timestamp});
  write(std::move(event), /*patch=*/false, 1);
}

void Broadcaster::write(Json event, bool patch, int attempt) {
  const kube::ObjectKey objectKey{event["metadata"]["namespace"].get<std::string>(),
                                  event["metadata"]["name"].get<std::string>()};
  Expected<Json> result = fail(Error::internal("not sent"));
  bool patched = false;
  if (patch) {
    Json body{{"count", event["count"]},
              {"lastTimestamp", event["lastTimestamp"]},
              {"message", event["message"]}};
    result = client_->patch(kube::resources::kEvents, objectKey, kube::PatchType::kMerge, body);
    patched = static_cast<bool>(result);
  }
  // The Event may have been deleted (TTL, 1 h by default): create it again, keeping the count.
  if (!patch || (!result && result.error().isNotFound())) {
    result = client_->create(kube::resources::kEvents, event);
  }
  if (result) {
    if (patched) {
      count(&BroadcasterStats::patched, "patched");
    } else {
      count(&BroadcasterStats::created, "created");
    }
    return;
  }
  const Error& error = result.error();
  if (error.isAlreadyExists()) {
    // client-go treats this as done: the same event was written already.
    count(&BroadcasterStats::created, "created");
    return;
  }
  if (error.isRetryable() && attempt < options_.maxAttempts) {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    std::weak_ptr<Broadcaster> weak = weak_from_this();
    auto timer = strand_->postAfter(options_.retryInterval,
                                    [weak, event = std::move(event), patch, attempt]() mutable {
                                      auto self = weak.lock();
                                      if (!self) return;
                                      {
                                        std::lock_guard lock(self->mu_);
                                        if (self->stopped_) return;
                                        if (!self->retries_.empty())
                                          self->retries_.erase(self->retries_.begin());
                                      }
                                      self->write(std::move(event), patch, attempt + 1);
                                    });
    retries_.push_back(std::move(timer));
    return;
  }
  count(&BroadcasterStats::failed, "failed");
  logger_.warn("could not write event", {{"namespace", objectKey.ns},
                                         {"event", objectKey.name},
                                         {"reason", event.value("reason", "")},
                                         {"error", error.message()},
                                         {"attempts", attempt}});
}

}  // namespace rio::events
