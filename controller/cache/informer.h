// The informer: a Watcher feeding a Store, plus event handlers and hasSynced. One per
// (cluster, resource, namespace, selectors). It owns no thread: its watcher, store updates and
// handler calls run on one strand of the shared runtime::Executor (see executor.h for why), so
// per-informer overhead is a strand, the store and the watch connection.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controller/cache/store.h"
#include "controller/cache/watcher.h"
#include "controller/runtime/executor.h"

namespace rio::cache {

/// Reactions to changes of the cached objects. Any of the three may be empty.
/// Called on the informer's strand, one at a time, in order; they must be quick (typically: map to
/// keys and add them to a workqueue) and must not call removeEventHandler() on the same informer.
struct EventHandler {
  /// A new object (from the watch, a relist, or the replay for a new handler). `initial` is
  /// true for the objects of the first list and of the replay (client-go's isInInitialList):
  /// objects that were there before, not ones that just appeared.
  std::function<void(const ObjectPtr& object, bool initial)> onAdd;
  /// A changed object: the cached version before and the new one.
  std::function<void(const ObjectPtr& oldObject, const ObjectPtr& newObject)> onUpdate;
  /// `object` is the last state known: from the DELETE event, or the cached copy when the object
  /// disappeared during a relist (deleted while the watch was down).
  std::function<void(const ObjectPtr& object)> onDelete;
};
using HandlerId = std::uint64_t;

struct InformerOptions {
  /// What to watch and how (resource, namespace, selectors, paging, watch-list, backoff,
  /// transform).
  WatcherOptions watcher;
  /// Extra indexes on the store (e.g. {"owner", indexByLabel("example.com/owner")}).
  Indexers indexers;
  /// For logs; default: the resource's qualified name.
  std::string name;
};

/// Thread-safety: every public method may be called from any thread. Reads go to the store and
/// never block on the watcher. Ownership: create() returns the only strong reference the informer
/// needs; its tasks hold weak references, and destroying it stops its watch.
class Informer : public std::enable_shared_from_this<Informer> {
 public:
  /// `client` is the cluster's REST client; `executor` the shared pool the informer's strand runs
  /// on.
  static std::shared_ptr<Informer> create(kube::ClientPtr client, InformerOptions options,
                                          runtime::ExecutorPtr executor);
  ~Informer();

  /// Starts listing and watching. Idempotent.
  void start();
  /// Stops watching and calling handlers. Non-blocking, idempotent. The store keeps its content.
  void stop();

  /// True once the first complete list (or watch-list initial state) is in the store.
  bool hasSynced() const { return synced_.load(); }
  /// Blocks the caller (never an I/O thread) until hasSynced() or `timeout` of real time.
  bool waitForSync(std::chrono::milliseconds timeout) const;

  /// Registers `handler`. It first receives onAdd for every object already cached (on the
  /// strand, before any later change), then every change. Returns an id for removeEventHandler.
  HandlerId addEventHandler(EventHandler handler);
  /// After this returns the handler is not running and will not be called again. Must not be
  /// called from inside a handler of this informer.
  void removeEventHandler(HandlerId id);

  /// The cached objects (get, list, byIndex, snapshot). Thread-safe reads.
  const Store& store() const { return store_; }
  /// store().get(key): the cached object, or null. Thread-safe, never blocks on the watcher.
  ObjectPtr get(const ObjectKey& key) const { return store_.get(key); }

  /// The watched resource (for owner mappings and logs).
  const kube::Resource& resource() const { return watcher_->options().resource; }
  /// The name used in logs.
  const std::string& name() const { return name_; }
  /// Where the watcher's state machine is (Watching when healthy).
  WatcherState watcherState() const { return watcher_->state(); }
  /// The resourceVersion of the latest list or watch event seen.
  std::string lastSyncResourceVersion() const { return watcher_->resourceVersion(); }
  /// The watcher, for its state and retry counters.
  const Watcher& watcher() const { return *watcher_; }

 private:
  struct HandlerEntry {
    explicit HandlerEntry(EventHandler h) : handler(std::move(h)) {}
    EventHandler handler;
    std::mutex callMu;        // held while the handler runs; removal takes it
    bool removed = false;     // guarded by callMu
    bool registered = false;  // strand-only: the replay has run, changes are delivered
  };

  Informer(InformerOptions options, runtime::SerialExecutorPtr strand);
  void onWatcherEvent(WatcherEvent&& event);
  void markSynced();
  template <class Fn>
  void dispatch(Fn&& fn);

  const std::string name_;
  const runtime::SerialExecutorPtr strand_;
  const log::Logger logger_;
  Store store_;
  WatcherPtr watcher_;

  // Strand-only: the objects of a (re)list in progress, swapped into the store at its end.
  Snapshot buffer_;

  std::mutex handlersMu_;  // guards handlers_ and nextId_
  std::map<HandlerId, std::shared_ptr<HandlerEntry>> handlers_;
  HandlerId nextId_ = 1;

  std::atomic<bool> synced_{false};
  mutable std::mutex syncMu_;  // with syncCv_, for waitForSync()
  mutable std::condition_variable syncCv_;
};
using InformerPtr = std::shared_ptr<Informer>;

}  // namespace rio::cache
