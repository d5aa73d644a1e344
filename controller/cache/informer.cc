#include "controller/cache/informer.h"

#include <exception>

namespace rio::cache {

std::shared_ptr<Informer> Informer::create(kube::ClientPtr client, InformerOptions options,
                                           runtime::ExecutorPtr executor) {
  auto strand = runtime::SerialExecutor::create(std::move(executor));
  WatcherOptions watcherOptions = options.watcher;
  auto informer = std::shared_ptr<Informer>(new Informer(std::move(options), strand));
  watcherOptions.logger = informer->logger_;
  std::weak_ptr<Informer> weak = informer;
  informer->watcher_ = Watcher::create(std::move(client), std::move(watcherOptions), strand,
                                       [weak](WatcherEvent&& event) {
                                         if (auto self = weak.lock())
                                           self->onWatcherEvent(std::move(event));
                                       });
  return informer;
}

Informer::Informer(InformerOptions options, runtime::SerialExecutorPtr strand)
    : name_(options.name.empty() ? options.watcher.resource.qualifiedName() : options.name),
      strand_(std::move(strand)),
      logger_(options.watcher.logger.with({{"informer", name_}})),
      store_(std::move(options.indexers)) {}

Informer::~Informer() { watcher_->stop(); }

void Informer::start() { watcher_->start(); }

void Informer::stop() { watcher_->stop(); }

bool Informer::waitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(syncMu_);
  return syncCv_.wait_for(lock, timeout, [&] { return synced_.load(); });
}

void Informer::markSynced() {
  if (synced_) return;
  {
    std::lock_guard lock(syncMu_);
    synced_ = true;
  }
  syncCv_.notify_all();
  logger_.info("informer synced", {{"objects", store_.size()}});
}

HandlerId Informer::addEventHandler(EventHandler handler) {
  auto entry = std::make_shared<HandlerEntry>(std::move(handler));
  HandlerId id;
  {
    std::lock_guard lock(handlersMu_);
    id = nextId_++;
    handlers_.emplace(id, entry);
  }
  // Register on the strand so the replay and later changes come in order, without duplicates.
  std::weak_ptr<Informer> weak = weak_from_this();
  strand_->post([weak, entry] {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard call(entry->callMu);
    if (entry->removed) return;
    entry->registered = true;
    if (!entry->handler.onAdd) return;
    for (const auto& object : self->store_.list()) {
      try {
        entry->handler.onAdd(object, /*initial=*/true);
      } catch (const std::exception& e) {
        self->logger_.error("event handler threw", {{"error", e.what()}});
      }
    }
  });
  return id;
}

void Informer::removeEventHandler(HandlerId id) {
  std::shared_ptr<HandlerEntry> entry;
  {
    std::lock_guard lock(handlersMu_);
    auto it = handlers_.find(id);
    if (it == handlers_.end()) return;
    entry = std::move(it->second);
    handlers_.erase(it);
  }
  std::lock_guard call(entry->callMu);  // waits for a call in progress
  entry->removed = true;
}

template <class Fn>
void Informer::dispatch(Fn&& fn) {
  std::vector<std::shared_ptr<HandlerEntry>> entries;
  {
    std::lock_guard lock(handlersMu_);
    entries.reserve(handlers_.size());
    for (const auto& [id, entry] : handlers_) entries.push_back(entry);
  }
  for (const auto& entry : entries) {
    std::lock_guard call(entry->callMu);
    if (entry->removed || !entry->registered) continue;
    try {
      fn(entry->handler);
    } catch (const std::exception& e) {
      logger_.error("event handler threw", {{"error", e.what()}});
    } catch (...) {
      logger_.error("event handler threw", {{"error", "unknown exception"}});
    }
  }
}

void Informer::onWatcherEvent(WatcherEvent&& event) {
  using Type = WatcherEvent::Type;
  switch (event.type) {
    case Type::kInit:
      buffer_.clear();
      break;
    case Type::kInitApply:
      buffer_[ObjectKey::of(*event.object)] = std::move(event.object);
      break;
    case Type::kInitDelete:
      buffer_.erase(ObjectKey::of(*event.object));
      break;
    case Type::kInitDone: {
      auto changes = store_.replace(std::move(buffer_));
      buffer_ = Snapshot();
      if (synced_ && !changes.deleted.empty()) {
        logger_.info("relist removed objects deleted while disconnected",
                     {{"count", changes.deleted.size()}});
      }
      for (const auto& obj : changes.deleted) {
        dispatch([&](EventHandler& h) {
          if (h.onDelete) h.onDelete(obj);
        });
      }
      for (const auto& change : changes.updated) {
        dispatch([&](EventHandler& h) {
          if (h.onUpdate) h.onUpdate(change.first, change.second);
        });
      }
      const bool initial = !synced_;
      for (const auto& obj : changes.added) {
        dispatch([&](EventHandler& h) {
          if (h.onAdd) h.onAdd(obj, initial);
        });
      }
      markSynced();
      break;
    }
    case Type::kApply: {
      ObjectPtr obj = std::move(event.object);
      ObjectPtr old = store_.upsert(obj);
      if (old) {
        dispatch([&](EventHandler& h) {
          if (h.onUpdate) h.onUpdate(old, obj);
        });
      } else {
        dispatch([&](EventHandler& h) {
          if (h.onAdd) h.onAdd(obj, /*initial=*/false);
        });
      }
      break;
    }
    case Type::kDelete: {
      ObjectPtr obj = std::move(event.object);
      store_.erase(ObjectKey::of(*obj));
      dispatch([&](EventHandler& h) {
        if (h.onDelete) h.onDelete(obj);
      });
      break;
    }
  }
}

}  // namespace rio::cache
