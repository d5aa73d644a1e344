// ApiServer watches: resume from a resourceVersion within the bounded history (else one ERROR
// event with 410 Expired), initial events (rv unset/0, or sendInitialEvents with the
// initial-events-end BOOKMARK), label/field selectors with enter/leave semantics, bookmarks,
// timeoutSeconds, and clean teardown when the client leaves.
#include "test/testenv/api_server_impl.h"
#include "test/testenv/object_util.h"
#include "test/testenv/table.h"

namespace rio::testenv {
namespace {

std::optional<std::string> queryParam(const http::ServerRequest& r, const std::string& name) {
  auto it = r.query.find(name);
  if (it == r.query.end()) return std::nullopt;
  return it->second;
}

bool truthy(const std::optional<std::string>& v) {
  return v && (*v == "1" || *v == "true" || *v == "True");
}

}  // namespace

void ApiServer::Impl::sendEvent(Watcher& w, const char* type, const nlohmann::json& object) {
  nlohmann::json ev = {{"type", type}, {"object", object}};
  w.exchange->write(ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void ApiServer::Impl::sendBookmark(Watcher& w, bool initialEventsEnd) {
  nlohmann::json meta = {{"resourceVersion", std::to_string(rv)}, {"creationTimestamp", nullptr}};
  if (initialEventsEnd) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
  sendEvent(w, "BOOKMARK",
            {{"kind", w.type->kind}, {"apiVersion", w.type->apiVersion()}, {"metadata", meta}});
}

bool ApiServer::Impl::deliver(Watcher& w, const StoredEvent& event) {
  if (w.done || w.type->storageKey != event.storageKey) return false;
  const ResourceType& type = *w.type;
  auto matches = [&](const ObjPtr& obj) {
    if (!obj) return false;
    if (type.namespaced && !w.ns.empty() && metaString(*obj, "namespace") != w.ns) return false;
    if (!w.labels.matches(labelsOf(*obj))) return false;
    return w.fields.matches([&](const std::string& f) { return fieldValue(type, *obj, f); });
  };
  const char* kind = nullptr;
  switch (event.type) {
    case EventType::kAdded:
      if (matches(event.object)) kind = "ADDED";
      break;
    case EventType::kModified: {
      bool was = matches(event.previous), is = matches(event.object);
      if (was && is)
        kind = "MODIFIED";
      else if (is)
        kind = "ADDED";
      else if (was)
        kind = "DELETED";
      break;
    }
    case EventType::kDeleted:
      if (matches(event.previous) || matches(event.object)) kind = "DELETED";
      break;
  }
  if (!kind) return false;
  nlohmann::json view = toView(type, *event.object);
  switch (w.render) {
    case Watcher::Render::kObject:
      sendEvent(w, kind, view);
      break;
    case Watcher::Render::kPartialMetadata:
      sendEvent(w, kind, partialObjectMetadata(view));
      break;
    case Watcher::Render::kTable:
      sendEvent(w, kind, renderTable(type, {view}, metaString(view, "resourceVersion"), now()));
      break;
  }
  ++w.sent;
  if (faults.closeWatchesAfterEvents && w.sent >= *faults.closeWatchesAfterEvents) {
    auto it = watchers.find(w.id);
    if (it != watchers.end()) finishWatch(it->second);
  }
  return true;
}

void ApiServer::Impl::dispatch(const StoredEvent& event) {
  std::vector<WatcherPtr> targets;
  for (const auto& [id, w] : watchers) {
    if (!w->done && w->type->storageKey == event.storageKey) targets.push_back(w);
  }
  for (const auto& w : targets) deliver(*w, event);
}

void ApiServer::Impl::finishWatch(const WatcherPtr& watcher) {
  // `watcher` may refer to the map entry erased below: keep the watcher alive through a copy.
  WatcherPtr w = watcher;
  if (w->done) return;
  w->done = true;
  if (w->timeout) w->timeout->cancel();
  if (w->bookmarkTimer) w->bookmarkTimer->cancel();
  watchers.erase(w->id);
  w->exchange->finish();
}

void ApiServer::Impl::watcherGone(std::uint64_t id) {
  auto drop = [&] {
    auto it = watchers.find(id);
    if (it == watchers.end()) return;
    WatcherPtr w = it->second;
    w->done = true;
    if (w->timeout) w->timeout->cancel();
    if (w->bookmarkTimer) w->bookmarkTimer->cancel();
    watchers.erase(it);
  };
  if (lockedByThisThread(this)) {
    drop();  // the client left while we were writing to it
  } else {
    StoreLock lock(this);
    drop();
  }
}

void ApiServer::Impl::scheduleBookmark(const WatcherPtr& w) {
  if (!w->bookmarks || opts.bookmarkInterval.count() <= 0) return;
  std::uint64_t id = w->id;
  std::weak_ptr<Impl> weak = weak_from_this();
  w->bookmarkTimer = deps.scheduler->postAfter(opts.bookmarkInterval, [weak, id] {
    auto self = weak.lock();
    if (!self) return;
    StoreLock lock(self.get());
    auto it = self->watchers.find(id);
    if (it == self->watchers.end()) return;
    WatcherPtr w = it->second;
    self->sendBookmark(*w, false);
    self->scheduleBookmark(w);
  });
}

void ApiServer::Impl::doWatch(Ctx& ctx) {
  const ResourceTypePtr& type = ctx.type;
  if (ctx.req.method != "GET") return respondError(ctx.ex, errors::methodNotAllowed());
  auto labels = LabelSelector::parse(queryParam(ctx.req, "labelSelector").value_or(""));
  if (!labels) return respondError(ctx.ex, errors::badRequest(labels.error().message()));
  std::string fieldText = queryParam(ctx.req, "fieldSelector").value_or("");
  if (!ctx.info.name.empty())
    fieldText = "metadata.name=" + ctx.info.name + (fieldText.empty() ? "" : "," + fieldText);
  auto fields = FieldSelector::parse(fieldText);
  if (!fields) return respondError(ctx.ex, errors::badRequest(fields.error().message()));
  if (auto ok = checkFieldSelector(*type, *fields); !ok) return respondError(ctx.ex, ok.error());
  bool bookmarks = truthy(queryParam(ctx.req, "allowWatchBookmarks"));
  bool initialEvents = truthy(queryParam(ctx.req, "sendInitialEvents"));
  std::string rvParam = queryParam(ctx.req, "resourceVersion").value_or("");
  if (initialEvents && queryParam(ctx.req, "resourceVersionMatch").value_or("") != "NotOlderThan") {
    return respondError(
        ctx.ex,
        errors::invalid(
            "meta.k8s.io", "ListOptions", "",
            {FieldError::forbidden(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")}));
  }
  std::chrono::milliseconds timeout = opts.defaultWatchTimeout;
  if (auto t = queryParam(ctx.req, "timeoutSeconds"); t && !t->empty()) {
    try {
      long long secs = std::stoll(*t);
      if (secs > 0) timeout = std::chrono::seconds(secs);
    } catch (...) {
      return respondError(ctx.ex, errors::badRequest("invalid timeoutSeconds: " + *t));
    }
  }
  std::uint64_t fromRv = 0;
  bool fromState = initialEvents || rvParam.empty() || rvParam == "0";
  if (!fromState) {
    try {
      std::size_t used = 0;
      fromRv = std::stoull(rvParam, &used);
      if (used != rvParam.size()) throw std::invalid_argument(rvParam);
    } catch (...) {
      return respondError(ctx.ex, errors::badRequest("invalid resource version: " + rvParam));
    }
  }
  auto w = std::make_shared<Watcher>();
  w->type = type;
  w->ns = type->namespaced ? ctx.info.ns : "";
  w->labels = std::move(*labels);
  w->fields = std::move(*fields);
  w->bookmarks = bookmarks;
  w->exchange = ctx.ex;
  auto accept = ctx.req.header("Accept").value_or("");
  if (accept.find("as=Table") != std::string::npos)
    w->render = Watcher::Render::kTable;
  else if (accept.find("as=PartialObjectMetadata") != std::string::npos)
    w->render = Watcher::Render::kPartialMetadata;
  // The stream starts before the store is locked (starting it records the request); nothing is
  // written to it until the watcher is registered under the lock below.
  ctx.ex->startStream(
      200, {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache, private"}});
  {
    StoreLock lock(this);
    if (!fromState && fromRv < historyFloor) {
      lock.unlock();
      nlohmann::json status = {
          {"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", nlohmann::json::object()},
          {"status", "Failure"},
          {"message", "The resourceVersion for the provided watch is too old."},
          {"reason", "Expired"},
          {"code", 410}};
      ctx.ex->write(nlohmann::json({{"type", "ERROR"}, {"object", status}}).dump() + "\n");
      ctx.ex->finish();
      return;
    }
    w->id = nextWatcherId++;
    watchers[w->id] = w;
    if (fromState) {
      auto b = store.find(type->storageKey);
      if (b != store.end()) {
        std::vector<ObjPtr> current;
        for (const auto& [key, obj] : b->second) current.push_back(obj);
        for (const auto& obj : current) {
          if (w->done) break;
          deliver(*w, StoredEvent{rv, EventType::kAdded, type->storageKey, obj, nullptr});
        }
      }
      if (initialEvents && !w->done) sendBookmark(*w, true);
    } else {
      std::vector<StoredEvent> backlog;
      for (const auto& ev : history) {
        if (ev.rv > fromRv && ev.storageKey == type->storageKey) backlog.push_back(ev);
      }
      for (const auto& ev : backlog) {
        if (w->done) break;
        deliver(*w, ev);
      }
    }
    if (!w->done) {
      std::uint64_t id = w->id;
      std::weak_ptr<Impl> weak = weak_from_this();
      w->timeout = deps.scheduler->postAfter(timeout, [weak, id] {
        auto self = weak.lock();
        if (!self) return;
        StoreLock l(self.get());
        auto it = self->watchers.find(id);
        if (it == self->watchers.end()) return;
        WatcherPtr watcher = it->second;
        if (watcher->bookmarks) self->sendBookmark(*watcher, false);
        self->finishWatch(watcher);
      });
      scheduleBookmark(w);
    }
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  std::uint64_t id = w->id;
  ctx.ex->onClosed([weak, id] {
    if (auto self = weak.lock()) self->watcherGone(id);
  });
}

void ApiServer::Impl::expireHistory() {
  StoreLock lock(this);
  history.clear();
  historyFloor = rv;
}

void ApiServer::Impl::dropWatches() {
  StoreLock lock(this);
  std::vector<WatcherPtr> all;
  for (const auto& [id, w] : watchers) all.push_back(w);
  for (const auto& w : all) finishWatch(w);
}

void ApiServer::Impl::bookmarkAll() {
  StoreLock lock(this);
  std::vector<WatcherPtr> all;
  for (const auto& [id, w] : watchers) all.push_back(w);
  for (const auto& w : all) {
    if (w->bookmarks && !w->done) sendBookmark(*w, false);
  }
}

void ApiServer::expireWatchHistory() { impl_->expireHistory(); }
void ApiServer::dropAllWatches() { impl_->dropWatches(); }
void ApiServer::sendBookmarks() { impl_->bookmarkAll(); }

std::size_t ApiServer::activeWatches() const {
  StoreLock lock(impl_.get());
  return impl_->watchers.size();
}

}  // namespace rio::testenv
