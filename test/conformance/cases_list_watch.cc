// Lists (label and field selectors, limit/continue) and watches (resume from a resourceVersion,
// selectors entering and leaving, bookmarks, timeoutSeconds, 410 Expired, watch-list with the
// LIST+WATCH fallback through the project's cache::Watcher).
#include <mutex>
#include <set>
#include <thread>

#include "controller/cache/watcher.h"
#include "controller/runtime/executor.h"
#include "test/conformance/cases_common.h"
#include "test/conformance/watch_recorder.h"

namespace rio::conformance {
namespace {

using namespace kube::resources;
using kube::WatchEventType;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::set<std::string> names(const json& list) {
  std::set<std::string> out;
  for (const auto& item : list["items"]) out.insert(metaString(item, "name"));
  return out;
}

std::string joinNames(const std::set<std::string>& s) {
  std::string out;
  for (const auto& n : s) out += (out.empty() ? "" : ",") + n;
  return "{" + out + "}";
}

void labelSelectorCase(Context& ctx) {
  auto& c = ctx.client();
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "ax", {}, {{"app", "x"}, {"tier", "a"}})),
           "create ax");
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "ay", {}, {{"app", "y"}})), "create ay");
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "none", {}, {{"other", "1"}})), "create none");
  const std::vector<std::pair<std::string, std::set<std::string>>> cases = {
      {"app=x", {"ax"}},
      {"app==x", {"ax"}},
      {"app!=x", {"ay", "none", "kube-root-ca.crt"}},
      {"app in (x,y)", {"ax", "ay"}},
      {"app notin (x)", {"ay", "none", "kube-root-ca.crt"}},
      {"tier", {"ax"}},
      {"!app", {"none", "kube-root-ca.crt"}},
      {"app=x,tier=a", {"ax"}},
      {"app=x,tier=b", {}},
      {"app,!tier", {"ay"}},
  };
  for (const auto& [selector, want] : cases) {
    json list =
        ctx.must(c.list(kConfigMaps, ctx.ns(), {.labelSelector = selector}), "list " + selector);
    auto got = names(list);
    // kube-root-ca.crt is published into every namespace by a controller; allow its absence.
    if (!want.count("kube-root-ca.crt")) got.erase("kube-root-ca.crt");
    auto expect = want;
    if (!got.count("kube-root-ca.crt")) expect.erase("kube-root-ca.crt");
    ctx.require(got == expect, "labelSelector " + selector + " selected " + joinNames(got) +
                                   ", want " + joinNames(expect));
  }
  Error e = ctx.mustFail(c.list(kConfigMaps, ctx.ns(), {.labelSelector = "app in (x"}),
                         "a malformed selector");
  ctx.require(e.isBadRequest(),
              "a malformed label selector must be 400, got " + Context::describe(e));
}

void fieldSelectorCase(Context& ctx) {
  auto& c = ctx.client();
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c1")), "create c1");
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c2")), "create c2");
  json l1 = ctx.must(c.list(kConfigMaps, ctx.ns(), {.fieldSelector = "metadata.name=c1"}),
                     "metadata.name=c1");
  ctx.require(names(l1) == std::set<std::string>{"c1"},
              "metadata.name=c1 selected " + joinNames(names(l1)));
  json l2 = ctx.must(c.list(kConfigMaps, ctx.ns(), {.fieldSelector = "metadata.name!=c1"}),
                     "metadata.name!=c1");
  ctx.require(names(l2).count("c2") && !names(l2).count("c1"),
              "metadata.name!=c1 selected " + joinNames(names(l2)));
  json l3 = ctx.must(c.list(kConfigMaps, "", {.fieldSelector = "metadata.namespace=" + ctx.ns()}),
                     "metadata.namespace across namespaces");
  ctx.require(names(l3).count("c1") && names(l3).count("c2"),
              "metadata.namespace selected " + joinNames(names(l3)));
  for (const auto& item : l3["items"])
    ctx.require(metaString(item, "namespace") == ctx.ns(),
                "an object of another namespace was selected");

  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "tls"}, {"namespace", ctx.ns()}}},
                 {"type", "kubernetes.io/tls"},
                 {"data", {{"tls.crt", ""}, {"tls.key", ""}}}};
  ctx.must(c.create(kSecrets, secret), "create a TLS secret");
  ctx.must(c.create(kSecrets, {{"apiVersion", "v1"},
                               {"kind", "Secret"},
                               {"metadata", {{"name", "plain"}, {"namespace", ctx.ns()}}}}),
           "create an Opaque secret");
  json s = ctx.must(c.list(kSecrets, ctx.ns(), {.fieldSelector = "type=kubernetes.io/tls"}),
                    "secrets type=kubernetes.io/tls");
  ctx.require(names(s) == std::set<std::string>{"tls"},
              "type=kubernetes.io/tls selected " + joinNames(names(s)));

  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", "e1"}, {"namespace", ctx.ns()}}},
             {"involvedObject", {{"kind", "ConfigMap"}, {"name", "c1"}, {"namespace", ctx.ns()}}},
             {"reason", "R"},
             {"message", "m"},
             {"type", "Normal"}};
  ctx.must(c.create(kEvents, ev), "create an Event");
  json e =
      ctx.must(c.list(kEvents, ctx.ns(),
                      {.fieldSelector = "involvedObject.name=c1,involvedObject.kind=ConfigMap"}),
               "events by involvedObject");
  ctx.require(names(e) == std::set<std::string>{"e1"},
              "involvedObject selector selected " + joinNames(names(e)));

  Error bad = ctx.mustFail(c.list(kConfigMaps, ctx.ns(), {.fieldSelector = "data.k=v"}),
                           "an unsupported field");
  ctx.require(
      bad.isBadRequest() && bad.status()->message == "field label not supported: data.k",
      "an unsupported field selector must be 400 \"field label not supported: data.k\", got " +
          Context::describe(bad));
}

void limitContinueCase(Context& ctx) {
  auto& c = ctx.client();
  for (int i = 0; i < 5; ++i)
    ctx.must(
        c.create(kConfigMaps, configMap(ctx.ns(), "p" + std::to_string(i), {}, {{"page", "yes"}})),
        "create");
  json first = ctx.must(c.list(kConfigMaps, ctx.ns(), {.labelSelector = "page=yes", .limit = 2}),
                        "first page");
  ctx.require(first["items"].size() == 2,
              "limit=2 returned " + std::to_string(first["items"].size()));
  std::string token = first["metadata"].value("continue", "");
  ctx.require(!token.empty(), "a truncated page must carry metadata.continue");
  ctx.require(!first["metadata"].contains("remainingItemCount"),
              "remainingItemCount is not sent with a label selector");
  for (const auto& item : first["items"])
    ctx.require(!item.contains("kind") && !item.contains("apiVersion"),
                "list items of built-in kinds carry no kind/apiVersion (as recorded)");
  std::set<std::string> seen = names(first);
  std::string listRv = metaString(first, "resourceVersion");
  // A write between pages does not show: pages continue the first page's list.
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "p9", {}, {{"page", "yes"}})),
           "write between pages");
  int pages = 1;
  while (!token.empty()) {
    json page = ctx.must(c.list(kConfigMaps, ctx.ns(),
                                {.labelSelector = "page=yes", .limit = 2, .continueToken = token}),
                         "next page");
    ++pages;
    ctx.require(metaString(page, "resourceVersion") == listRv,
                "a continued page has resourceVersion " + metaString(page, "resourceVersion") +
                    ", the first " + listRv);
    for (const auto& n : names(page)) {
      ctx.require(!seen.count(n), "object " + n + " returned twice across pages");
      seen.insert(n);
    }
    token = page["metadata"].value("continue", "");
    ctx.require(pages < 10, "paging does not end");
  }
  ctx.require(pages == 3 && seen.size() == 5, "paging returned " + std::to_string(seen.size()) +
                                                  " objects in " + std::to_string(pages) +
                                                  " pages, want 5 in 3 (" + joinNames(seen) + ")");
  // Without a selector remainingItemCount counts what is left. The namespace's kube-root-ca.crt
  // is published by a controller: let it arrive first so the count does not move in between.
  for (int i = 0; i < 100 && !c.get(kConfigMaps, {ctx.ns(), "kube-root-ca.crt"}); ++i)
    std::this_thread::sleep_for(milliseconds(100));
  json unfiltered =
      ctx.must(c.list(kConfigMaps, ctx.ns(), {.limit = 1}), "limit=1 without selector");
  json all = ctx.must(c.list(kConfigMaps, ctx.ns()), "unpaged list");
  ctx.require(unfiltered["metadata"].value("remainingItemCount", -1) ==
                  static_cast<int>(all["items"].size()) - 1,
              "remainingItemCount " + unfiltered["metadata"].dump() + " with " +
                  std::to_string(all["items"].size()) + " objects");
  json listed = ctx.must(
      c.listAll(kConfigMaps, ctx.ns(), {.labelSelector = "page=yes", .limit = 2}), "listAll");
  ctx.require(listed["items"].size() == 6,
              "listAll found " + std::to_string(listed["items"].size()) + " of 6");
  Error bad = ctx.mustFail(c.list(kConfigMaps, ctx.ns(), {.limit = 2, .continueToken = "garbage"}),
                           "a bad continue token");
  ctx.require(bad.isBadRequest(),
              "a malformed continue token must be 400, got " + Context::describe(bad));
}

constexpr const char* kTableAccept =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/"
    "json;as=Table;v=v1beta1;g=meta.k8s.io,"
    "application/json";

json tableOf(Context& ctx, const std::string& path) {
  auto r = RawRequest::get(path);
  r.accept = kTableAccept;
  auto resp = ctx.target().raw(r);
  ctx.require(resp && resp->status == 200, "GET " + path + " as Table failed");
  auto j = json::parse(resp->body, nullptr, false);
  ctx.require(!j.is_discarded() && j.value("kind", "") == "Table",
              "GET " + path + " did not answer a Table");
  return j;
}

/// Columns exactly as recorded; cells as recorded except the Age column (time-dependent); every
/// row carries its object as PartialObjectMetadata (what kubectl get needs for names).
void expectTable(Context& ctx, const json& got, const std::string& fixture) {
  json want = recordedResponse(ctx, fixture);
  auto diffs = diffObjects(got["columnDefinitions"], want["columnDefinitions"]);
  if (!diffs.empty()) ctx.fail("columns differ from " + fixture + ": " + joinDiffs(diffs));
  ctx.require(got["rows"].size() == want["rows"].size(),
              "rows: got " + std::to_string(got["rows"].size()) + ", recorded " +
                  std::to_string(want["rows"].size()));
  for (std::size_t i = 0; i < got["rows"].size(); ++i) {
    json cells = got["rows"][i]["cells"], wantCells = want["rows"][i]["cells"];
    for (std::size_t c = 0; c < want["columnDefinitions"].size() && c < cells.size(); ++c) {
      if (want["columnDefinitions"][c].value("name", "") == "Age") cells[c] = wantCells[c];
    }
    ctx.require(cells == wantCells,
                "row cells " + got["rows"][i]["cells"].dump() + ", recorded " + wantCells.dump());
    ctx.require(got["rows"][i]["object"].value("kind", "") == "PartialObjectMetadata",
                "a row's object is not PartialObjectMetadata");
  }
}

void tableCase(Context& ctx) {
  auto& c = ctx.client();
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c1", {{"k", "z"}, {"k2", "v2"}})),
           "create c1");
  // Only c1: the namespace's kube-root-ca.crt is not part of the recording.
  json cms = tableOf(
      ctx, "/api/v1/namespaces/" + ctx.ns() + "/configmaps?fieldSelector=metadata.name%3Dc1");
  expectTable(ctx, cms, "cm-list-table.txt");
  auto crd = installWidgetCrd(ctx);
  json w = recordedRequest(ctx, "cr-create.txt", crd.renames);
  w["metadata"]["namespace"] = ctx.ns();
  w["spec"]["size"] = 4;
  ctx.must(c.create(crd.resource, w), "create w1");
  ctx.must(
      c.patch(crd.resource, {ctx.ns(), "w1"}, kube::PatchType::kMerge,
              recordedRequest(ctx, "cr-status-patch.txt", crd.renames), {.subresource = "status"}),
      "set w1's status");
  json widgets = tableOf(ctx, "/apis/" + crd.group + "/v1/namespaces/" + ctx.ns() + "/widgets");
  expectTable(ctx, widgets, "cr-list-table.txt");
}

void watchResumeCase(Context& ctx) {
  auto& c = ctx.client();
  json before =
      ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "old")), "create an earlier object");
  std::string rv = metaString(before, "resourceVersion");
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c1", {{"k", "v"}})), "create");
  json modified = ctx.must(
      c.patch(kConfigMaps, {ctx.ns(), "c1"}, kube::PatchType::kMerge, {{"data", {{"k", "w"}}}}),
      "modify");
  ctx.must(c.remove(kConfigMaps, {ctx.ns(), "c1"}), "delete");

  auto w =
      WatchRecorder::start(c, kConfigMaps, ctx.ns(), {.resourceVersion = rv, .timeoutSeconds = 30});
  ctx.require(w->waitForCount(3, std::nullopt, seconds(10)), "3 events from resourceVersion " + rv);
  auto events = w->events();
  std::vector<WatchEventType> types;
  for (const auto& e : events)
    if (metaString(e.object, "name") == "c1") types.push_back(e.type);
  ctx.require(
      types == std::vector<WatchEventType>{WatchEventType::kAdded, WatchEventType::kModified,
                                           WatchEventType::kDeleted},
      "events after " + rv + " must be ADDED, MODIFIED, DELETED of c1");
  std::uint64_t last = 0;
  for (const auto& e : events) {
    ctx.require(
        e.object.value("kind", "") == "ConfigMap" && e.object.value("apiVersion", "") == "v1",
        "watch objects carry kind and apiVersion (as recorded)");
    ctx.require(rvOf(e.object) > last, "event resourceVersions must increase");
    last = rvOf(e.object);
  }
  ctx.require(events[1].object["data"].value("k", "") == "w", "MODIFIED carries the new state");
  ctx.require(events[2].object["data"].value("k", "") == "w", "DELETED carries the last state");
  w->stop();

  // From the MODIFIED version only the DELETE follows.
  auto w2 = WatchRecorder::start(c, kConfigMaps, ctx.ns(),
                                 {.resourceVersion = metaString(modified, "resourceVersion")});
  ctx.require(w2->waitForCount(1, std::nullopt, seconds(10)),
              "an event after the MODIFIED version");
  std::this_thread::sleep_for(milliseconds(300));
  auto e2 = w2->events();
  ctx.require(e2.size() == 1 && e2[0].type == WatchEventType::kDeleted,
              "from the MODIFIED version only DELETED must follow, got " +
                  std::to_string(e2.size()) + " events");
  w2->stop();

  // Without a resourceVersion the watch starts with the current objects as ADDED.
  auto w3 = WatchRecorder::start(c, kConfigMaps, ctx.ns(), {.allowBookmarks = false});
  ctx.require(w3->waitFor(
                  [](const auto& ev) {
                    for (const auto& e : ev)
                      if (metaString(e.object, "name") == "old")
                        return e.type == WatchEventType::kAdded;
                    return false;
                  },
                  seconds(10)),
              "a watch without resourceVersion must start with ADDED for existing objects");
  // A single-object watch (fieldSelector metadata.name, what kubectl wait does).
  auto w4 = WatchRecorder::start(c, kConfigMaps, ctx.ns(),
                                 {.resourceVersion = metaString(modified, "resourceVersion"),
                                  .fieldSelector = "metadata.name=old"});
  ctx.must(
      c.patch(kConfigMaps, {ctx.ns(), "old"}, kube::PatchType::kMerge, {{"data", {{"a", "b"}}}}),
      "modify old");
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "other")), "create other");
  ctx.require(w4->waitForCount(1, std::nullopt, seconds(10)),
              "the name-selected watch sees old's change");
  std::this_thread::sleep_for(milliseconds(300));
  for (const auto& e : w4->events())
    ctx.require(metaString(e.object, "name") == "old",
                "a metadata.name watch delivered " + metaString(e.object, "name"));
}

void watchSelectorCase(Context& ctx) {
  auto& c = ctx.client();
  json list = ctx.must(c.list(kConfigMaps, ctx.ns()), "list");
  auto w = WatchRecorder::start(
      c, kConfigMaps, ctx.ns(),
      {.resourceVersion = metaString(list, "resourceVersion"), .labelSelector = "app=x"});
  kube::ObjectKey key{ctx.ns(), "c1"};
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c1", {}, {{"app", "x"}})), "create matching");
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c2", {}, {{"app", "y"}})),
           "create not matching");
  ctx.must(c.patch(kConfigMaps, key, kube::PatchType::kMerge,
                   {{"metadata", {{"labels", {{"app", "y"}}}}}}),
           "relabel away");
  ctx.must(c.patch(kConfigMaps, key, kube::PatchType::kMerge,
                   {{"metadata", {{"labels", {{"app", "x"}}}}}}),
           "relabel back");
  ctx.must(c.remove(kConfigMaps, key), "delete");
  ctx.require(w->waitForCount(4, std::nullopt, seconds(10)), "4 events for the selected object");
  std::this_thread::sleep_for(milliseconds(300));
  std::vector<WatchEventType> types;
  for (const auto& e : w->events()) {
    ctx.require(metaString(e.object, "name") == "c1",
                "the label-selected watch delivered " + metaString(e.object, "name"));
    types.push_back(e.type);
  }
  ctx.require(
      types == std::vector<WatchEventType>{WatchEventType::kAdded, WatchEventType::kDeleted,
                                           WatchEventType::kAdded, WatchEventType::kDeleted},
      "leaving the selector is DELETED and entering it ADDED (got " + std::to_string(types.size()) +
          " events)");
}

void bookmarkCase(Context& ctx) {
  auto& c = ctx.client();
  json created = ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c1")), "create");
  json recordedBookmark;
  {
    std::string body = ctx.fixtures().responseBody("watch-stream.txt").value_or("");
    std::size_t pos = 0;
    while (pos < body.size()) {
      auto nl = body.find('\n', pos);
      auto line = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      auto ev = json::parse(line, nullptr, false);
      if (!ev.is_discarded() && ev.value("type", "") == "BOOKMARK") recordedBookmark = ev["object"];
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
  }
  ctx.require(recordedBookmark.is_object(), "watch-stream.txt has no BOOKMARK");
  bool admin = ctx.target().hasAdminEndpoint();
  auto w = WatchRecorder::start(c, kConfigMaps, ctx.ns(),
                                {.resourceVersion = metaString(created, "resourceVersion"),
                                 .allowBookmarks = true,
                                 .timeoutSeconds = admin ? 30 : 5});
  ctx.must(
      c.patch(kConfigMaps, {ctx.ns(), "c1"}, kube::PatchType::kMerge, {{"data", {{"k", "v"}}}}),
      "modify");
  ctx.require(w->waitForCount(1, WatchEventType::kModified, seconds(10)), "the MODIFIED event");
  if (admin) {
    // testenv sends bookmarks every minute; its admin endpoint sends one now.
    ctx.must(ctx.target().adminCall("POST", "watches/bookmark"), "POST /_testenv/watches/bookmark");
  }
  ctx.require(w->waitForCount(1, WatchEventType::kBookmark, seconds(15)),
              "a BOOKMARK on a watch that allowed them (kube-apiserver sends one before "
              "timeoutSeconds ends)");
  kube::WatchEvent bookmark;
  for (const auto& e : w->events())
    if (e.type == WatchEventType::kBookmark) bookmark = e;
  json shape = bookmark.object;
  ctx.require(rvOf(shape) >= rvOf(w->events()[0].object),
              "the bookmark's resourceVersion is older than the last event");
  shape["metadata"]["resourceVersion"] = recordedBookmark["metadata"]["resourceVersion"];
  ctx.require(shape == recordedBookmark, "BOOKMARK object " + bookmark.object.dump() +
                                             ", recorded " + recordedBookmark.dump());
  // Without allowWatchBookmarks none arrive.
  auto quiet = WatchRecorder::start(c, kConfigMaps, ctx.ns(),
                                    {.resourceVersion = metaString(created, "resourceVersion"),
                                     .allowBookmarks = false,
                                     .timeoutSeconds = 3});
  if (admin)
    ctx.must(ctx.target().adminCall("POST", "watches/bookmark"), "POST /_testenv/watches/bookmark");
  ctx.require(quiet->waitClosed(seconds(15)), "the 3 s watch ends");
  ctx.require(WatchRecorder::count(quiet->events(), WatchEventType::kBookmark) == 0,
              "bookmarks arrived on a watch that did not allow them");
}

void timeoutCase(Context& ctx) {
  json list = ctx.must(ctx.client().list(kConfigMaps, ctx.ns()), "list");
  auto started = std::chrono::steady_clock::now();
  auto w = WatchRecorder::start(ctx.client(), kConfigMaps, ctx.ns(),
                                {.resourceVersion = metaString(list, "resourceVersion"),
                                 .allowBookmarks = false,
                                 .timeoutSeconds = 2});
  ctx.require(w->waitClosed(seconds(15)), "a watch with timeoutSeconds=2 must end");
  auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
  ctx.require(!w->closeError(),
              "the server must end the watch normally, got " +
                  (w->closeError() ? Context::describe(*w->closeError()) : std::string()));
  ctx.require(took >= milliseconds(1500) && took <= seconds(10),
              "the watch ended after " + std::to_string(took.count()) + " ms, want about 2 s");
}

void goneCase(Context& ctx) {
  auto& c = ctx.client();
  json first = ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c1")), "create");
  std::string oldRv = metaString(first, "resourceVersion");
  bool testenv = ctx.target().hasAdminEndpoint();
  if (testenv) {
    ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c2")), "create another");
    ctx.must(ctx.target().adminCall("POST", "watches/expire"), "POST /_testenv/watches/expire");
  } else {
    oldRv = "1";  // long compacted on any cluster older than etcd's compaction interval
  }
  // The raw stream: 200, then one ERROR event with a 410 Expired Status.
  auto resp = ctx.target().raw(RawRequest::get("/api/v1/namespaces/" + ctx.ns() +
                                               "/configmaps?watch=1&resourceVersion=" + oldRv +
                                               "&timeoutSeconds=3"));
  ctx.require(resp.has_value(), "watch request failed");
  if (!testenv && resp->status == 200 && resp->body.find("\"ERROR\"") == std::string::npos)
    ctx.skip("resourceVersion 1 is not compacted yet on this cluster");
  ctx.require(resp->status == 200,
              "an expired watch answers 200 (the error is in the stream), got " +
                  std::to_string(resp->status));
  auto line = resp->body.substr(0, resp->body.find('\n'));
  auto ev = json::parse(line, nullptr, false);
  ctx.require(!ev.is_discarded() && ev.value("type", "") == "ERROR",
              "the first event is not ERROR: " + line);
  json recorded = ctx.fixtures().response("watch-expired-410.txt").value_or(json());
  auto status = meta::Status::fromJson(ev["object"]);
  ctx.require(
      status && status->code == 410 && status->reason == "Expired",
      "the ERROR object must be a Status with code 410, reason Expired: " + ev["object"].dump());
  if (testenv) {
    auto diffs = diffStatus(*status, recorded["object"]);
    ctx.require(diffs.empty(), "differs from watch-expired-410.txt: " + joinDiffs(diffs));
  }
  // Our client turns it into isGone() on close.
  auto w = WatchRecorder::start(c, kConfigMaps, ctx.ns(), {.resourceVersion = oldRv});
  ctx.require(w->waitClosed(seconds(10)), "the expired watch must end");
  auto err = w->closeError();
  ctx.require(err && err->isGone(),
              "the client must report the expired watch as Gone, got " +
                  (err ? Context::describe(*err) : std::string("a normal end")));
}

// Collects a cache::Watcher's view.
struct WatcherView {
  std::mutex mu;
  std::map<std::string, json> objects;
  std::map<std::string, json> building;
  bool synced = false;
  void onEvent(cache::WatcherEvent&& e) {
    std::lock_guard lock(mu);
    using T = cache::WatcherEvent::Type;
    switch (e.type) {
      case T::kInit:
        building.clear();
        break;
      case T::kInitApply:
        building[metaString(*e.object, "name")] = *e.object;
        break;
      case T::kInitDelete:
        building.erase(metaString(*e.object, "name"));
        break;
      case T::kInitDone:
        objects = building;
        synced = true;
        break;
      case T::kApply:
        objects[metaString(*e.object, "name")] = *e.object;
        break;
      case T::kDelete:
        objects.erase(metaString(*e.object, "name"));
        break;
    }
  }
  std::set<std::string> names() {
    std::lock_guard lock(mu);
    std::set<std::string> out;
    for (const auto& [n, o] : objects) out.insert(n);
    return out;
  }
};

std::shared_ptr<cache::Watcher> startWatcher(Context& ctx, runtime::ExecutorPtr executor,
                                             std::shared_ptr<WatcherView> view) {
  cache::WatcherOptions o;
  o.resource = kServiceAccounts;
  o.ns = ctx.ns();
  o.useWatchList = true;
  o.initialEventsTimeout = seconds(10);
  o.backoff = {milliseconds(100), milliseconds(500), 2.0, 0.2, seconds(120)};
  o.outageRetryInterval = milliseconds(200);
  auto watcher =
      cache::Watcher::create(ctx.clientPtr(), o, runtime::SerialExecutor::create(executor),
                             [view](cache::WatcherEvent&& e) { view->onEvent(std::move(e)); });
  watcher->start();
  return watcher;
}

void watchListCase(Context& ctx) {
  auto& c = ctx.client();
  for (const char* n : {"a", "b"}) {
    ctx.must(c.create(kServiceAccounts, {{"apiVersion", "v1"},
                                         {"kind", "ServiceAccount"},
                                         {"metadata", {{"name", n}, {"namespace", ctx.ns()}}}}),
             std::string("create ServiceAccount ") + n);
  }
  json list = ctx.must(c.list(kServiceAccounts, ctx.ns()), "list");
  std::set<std::string> want = names(list);

  // The raw protocol: initial ADDED events, then a BOOKMARK annotated initial-events-end — or,
  // on servers whose storage cannot stream (the recording), an ERROR the client falls back on.
  auto w = WatchRecorder::start(c, kServiceAccounts, ctx.ns(), {.sendInitialEvents = true});
  bool streamed = w->waitFor(
      [](const auto& ev) {
        for (const auto& e : ev)
          if (e.type == WatchEventType::kBookmark &&
              e.object["metadata"]
                      .value("annotations", json::object())
                      .value("k8s.io/initial-events-end", "") == "true")
            return true;
        return false;
      },
      seconds(10));
  if (streamed) {
    std::set<std::string> initial;
    for (const auto& e : w->events()) {
      if (e.type == WatchEventType::kBookmark) break;
      ctx.require(e.type == WatchEventType::kAdded, "initial events must be ADDED");
      initial.insert(metaString(e.object, "name"));
    }
    ctx.require(initial == want,
                "initial events " + joinNames(initial) + ", objects " + joinNames(want));
  } else {
    auto err = w->closeError();
    ctx.require(w->closed() && err && err->kind() == ErrorKind::kApi,
                "the watch-list request neither streamed nor failed with a Status");
  }
  // A watch-list request without resourceVersionMatch=NotOlderThan is invalid.
  auto bad = ctx.target().raw(RawRequest::get("/api/v1/namespaces/" + ctx.ns() +
                                              "/serviceaccounts?watch=1&sendInitialEvents=true"));
  ctx.require(bad && bad->status == 422,
              "sendInitialEvents without resourceVersionMatch must be 422");

  // The project's watcher gets the same content either way.
  auto executor = runtime::makeExecutor(2);
  auto view = std::make_shared<WatcherView>();
  auto watcher = startWatcher(ctx, executor, view);
  ctx.eventually(
      [&] { return watcher->state() == cache::WatcherState::kWatching && view->names() == want; },
      "the watch-list Watcher syncs " + joinNames(want));
  ctx.must(c.create(kServiceAccounts, {{"apiVersion", "v1"},
                                       {"kind", "ServiceAccount"},
                                       {"metadata", {{"name", "c"}, {"namespace", ctx.ns()}}}}),
           "create c");
  ctx.eventually([&] { return view->names().count("c") == 1; }, "the Watcher sees c");
  ctx.require(watcher->usingWatchList() == streamed,
              streamed ? "the Watcher fell back although the server streams"
                       : "the Watcher did not fall back");
  watcher->stop();

  if (ctx.target().hasAdminEndpoint()) {
    // Fallback: the watch-list request fails (as on the recorded server); LIST+WATCH takes over.
    ctx.must(ctx.target().adminCall("PUT", "faults",
                                    {{"errors",
                                      {{{"code", 500},
                                        {"rate", 1.0},
                                        {"verb", "watch"},
                                        {"resource", "serviceaccounts"}}}}}),
             "inject 500 on serviceaccount watches");
    kube::ClientPtr admin = ctx.clientPtr();
    Target* target = &ctx.target();
    ctx.defer([target] { (void)target->adminCall("PUT", "faults", json::object()); });
    auto view2 = std::make_shared<WatcherView>();
    auto fallback = startWatcher(ctx, executor, view2);
    ctx.eventually([&] { return !fallback->usingWatchList(); },
                   "the Watcher falls back to LIST+WATCH");
    ctx.must(ctx.target().adminCall("PUT", "faults", json::object()), "clear the faults");
    want.insert("c");
    ctx.eventually(
        [&] {
          return fallback->state() == cache::WatcherState::kWatching && view2->names() == want;
        },
        "the fallen-back Watcher syncs by LIST+WATCH");
    fallback->stop();
  }
  executor->shutdown();
}

}  // namespace

void addListWatchCases(Suite& suite) {
  suite.add({"list: label selectors",
             "=, ==, !=, in, notin, exists, !exists and conjunctions; a malformed selector is 400",
             Needs::kNothing, labelSelectorCase});
  suite.add({"list: field selectors",
             "metadata.name, metadata.namespace, Secret type, Event involvedObject; an unsupported "
             "field is 400",
             Needs::kNothing, fieldSelectorCase});
  suite.add({"list: limit and continue",
             "pages of `limit` with continue tokens at the first page's resourceVersion, "
             "remainingItemCount, "
             "items without kind (as recorded), listAll, a bad token is 400",
             Needs::kNothing, limitContinueCase});
  suite.add(
      {"list: Table output (kubectl get)",
       "lists as meta.k8s.io/v1 Table with the recorded columns and cells: built-in columns for "
       "ConfigMaps, a CRD's additionalPrinterColumns for custom resources",
       Needs::kNothing, tableCase});
  suite.add({"watch: resume from a resourceVersion",
             "ADDED/MODIFIED/DELETED after the given version in order, current objects first "
             "without one, "
             "single-object watches",
             Needs::kNothing, watchResumeCase});
  suite.add({"watch: label selector enter and leave",
             "an object leaving a watch's selector is DELETED for it, entering is ADDED",
             Needs::kNothing, watchSelectorCase});
  suite.add({"watch: bookmarks",
             "BOOKMARK events as recorded (only resourceVersion), only when allowed",
             Needs::kNothing, bookmarkCase});
  suite.add({"watch: timeoutSeconds", "the server ends a watch normally after timeoutSeconds",
             Needs::kNothing, timeoutCase});
  suite.add(
      {"watch: 410 Expired",
       "a watch from a version older than the history is 200 with one ERROR event carrying a 410 "
       "Expired Status (as recorded); the client reports Gone",
       Needs::kNothing, goneCase});
  suite.add(
      {"watch: watch-list with fallback",
       "sendInitialEvents streams the objects then the initial-events-end BOOKMARK (or fails, as "
       "recorded); cache::Watcher syncs either way and falls back to LIST+WATCH when it fails",
       Needs::kNothing, watchListCase});
}

}  // namespace rio::conformance
