// Kubernetes Events about objects, as client-go's record.EventRecorder writes them (core/v1
// Event with involvedObject, count, firstTimestamp/lastTimestamp, source), with its correlator:
//
// - rate limit per object: a token bucket per (source, object), burst 25, one more every 5
//   minutes (client-go's EventSourceObjectSpamFilter); events over it are dropped and counted;
// - aggregation: when 10 events with the same object, type and reason but different messages
//   arrive within 10 minutes, later ones become one event whose message starts with
//   "(combined from similar events): " (client-go's EventAggregator);
// - deduplication: an event identical to one already written (same object, type, reason,
//   message, source) is not created again: the existing Event gets count+1 and a new
//   lastTimestamp with a PATCH (client-go's eventLogger).
//
// Asynchronous: event() copies the strings into a bounded queue and returns at once, so a
// reconcile never waits for the API server; when the queue is full the event is dropped and
// counted. Writes run on one strand of the shared runtime::Executor; failed writes that are worth
// retrying are retried later on a timer, up to a limit.
//
// Secret hygiene: an Event is readable by anyone who can list events in the namespace. The
// recorder serialises nothing but the reference fields, the reason and the message it is given,
// so callers must never put secret data (tokens, keys, kubeconfigs, Secret contents) in a reason
// or message.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "controller/core/logging.h"
#include "controller/kube/client.h"
#include "controller/runtime/executor.h"

namespace prometheus {
class Registry;
}

namespace rio::events {

enum class EventType { kNormal, kWarning };
/// "Normal" or "Warning".
std::string_view toString(EventType type);

/// What an event is about (core/v1 ObjectReference).
struct ObjectReference {
  std::string apiVersion;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  std::string resourceVersion;
  std::string fieldPath;

  /// From an object's apiVersion, kind and metadata. `resource` supplies apiVersion and kind when
  /// the object lacks them (list items and cached objects may). Never throws.
  static ObjectReference of(const nlohmann::json& object, const kube::Resource& resource);
  /// The involvedObject JSON (empty fields omitted).
  nlohmann::json toJson() const;
};

/// Records events about objects. Implementations never block and never fail: problems are
/// counted and logged. Thread-safe.
class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  /// Records that `reason` (CamelCase, e.g. "RemoteSecretSynced") happened to `object`, with a
  /// human `message`. Reason is cut at 128 bytes, message at BroadcasterOptions::maxMessageBytes.
  /// Never pass secret data in reason or message.
  virtual void event(const ObjectReference& object, EventType type, std::string_view reason,
                     std::string_view message) = 0;
  /// event() for an object as read from the API or the cache.
  void event(const nlohmann::json& object, const kube::Resource& resource, EventType type,
             std::string_view reason, std::string_view message) {
    event(ObjectReference::of(object, resource), type, reason, message);
  }
};
using EventRecorderPtr = std::shared_ptr<EventRecorder>;

struct BroadcasterOptions {
  /// reportingInstance and source.host: the pod or host name.
  std::string instance;
  /// Events waiting to be written; more are dropped (client-go's queue holds 1000).
  std::size_t queueCapacity = 1000;
  /// Per (source, object) token bucket: client-go's 25 burst, one per 5 minutes.
  int burst = 25;
  double qps = 1.0 / 300.0;
  /// Objects and keys remembered for rate limits, aggregation and deduplication (LRU).
  std::size_t cacheSize = 4096;
  /// Distinct messages for one (object, type, reason) within similarInterval before they are
  /// combined into one event.
  std::size_t maxSimilarEvents = 10;
  std::chrono::seconds similarInterval{600};
  /// Messages longer than this are cut at a UTF-8 boundary (events.k8s.io's note limit).
  std::size_t maxMessageBytes = 1024;
  /// Attempts per event for retryable failures (transport, 429, 5xx), retryInterval apart.
  int maxAttempts = 12;
  std::chrono::milliseconds retryInterval{std::chrono::seconds(10)};
  /// Registry for event_recorder_events_total{result}; null for none.
  prometheus::Registry* registry = nullptr;
  log::Logger logger;
};

/// Counts of what happened to recorded events (also exported as metrics).
struct BroadcasterStats {
  std::uint64_t created = 0;
  std::uint64_t patched = 0;
  std::uint64_t droppedQueueFull = 0;
  std::uint64_t droppedRateLimited = 0;
  std::uint64_t failed = 0;
};

/// Writes the events of every recorder it made to one API server (client-go's
/// EventBroadcaster + EventSink). Thread-safety: every public method may be called from any
/// thread. Ownership: create() returns the owner's reference; recorders keep only a weak one
/// (events recorded after the broadcaster is gone are dropped).
class Broadcaster : public std::enable_shared_from_this<Broadcaster> {
 public:
  /// `client` writes the Events (blocking calls, made on a strand of `executor`).
  static std::shared_ptr<Broadcaster> create(kube::ClientPtr client, runtime::ExecutorPtr executor,
                                             BroadcasterOptions options);
  ~Broadcaster();

  /// A recorder whose events carry `component` as source.component and reportingComponent
  /// (controller-runtime's GetEventRecorderFor(name)).
  EventRecorderPtr recorderFor(const std::string& component);
  /// Stops writing: queued events and pending retries are dropped. Non-blocking, idempotent.
  void stop();

  /// Events queued or waiting for a retry.
  std::size_t pending() const;
  BroadcasterStats stats() const;

 private:
  struct Pending;
  struct Correlator;
  struct Metrics;
  class Recorder;
  Broadcaster(kube::ClientPtr client, runtime::ExecutorPtr executor, BroadcasterOptions options);
  void enqueue(Pending&& event);
  void process(Pending event);
  void write(nlohmann::json event, bool patch, int attempt);
  void count(std::uint64_t BroadcasterStats::*field, std::string_view label);

  const kube::ClientPtr client_;
  const runtime::SerialExecutorPtr strand_;
  const ClockPtr clock_;
  const BroadcasterOptions options_;
  const log::Logger logger_;
  std::unique_ptr<Correlator> correlator_;  // strand-only
  std::unique_ptr<Metrics> metrics_;

  mutable std::mutex mu_;  // guards everything below
  bool stopped_ = false;
  std::size_t queued_ = 0;
  BroadcasterStats stats_;
  std::vector<TimerHandlePtr> retries_;
};
using BroadcasterPtr = std::shared_ptr<Broadcaster>;

}  // namespace rio::events
