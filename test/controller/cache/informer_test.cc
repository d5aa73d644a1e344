#include "controller/cache/informer.h"

#include <catch2/catch.hpp>

#include "test/controller/cache/cache_fixture.h"

using namespace rio;
using namespace rio::cache;
using namespace std::chrono_literals;
using rio::testing::bookmarkLine;
using rio::testing::CacheFixture;
using rio::testing::configMap;
using rio::testing::contains;
using rio::testing::eventLine;
using rio::testing::listBody;
using rio::testing::statusBody;
using Json = nlohmann::json;
using Events = std::vector<std::string>;

namespace {

// An informer that has listed a@1, b@1, c@1 (rv 100) and is watching from 100.
struct Synced : CacheFixture {
  explicit Synced(std::shared_ptr<rio::testing::FakeExecutor> executor =
                      std::make_shared<rio::testing::FakeExecutor>(),
                  ServerHealthPtr health = nullptr)
      : CacheFixture(std::move(executor)) {
    options.watcher.health = std::move(health);
    transport->enqueue(
        200, listBody({configMap("a", "1"), configMap("b", "1"), configMap("c", "1")}, "100"));
    start();
    openStream();
    events.clear();
  }
};

constexpr const char* kGone =
    R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"The resourceVersion for the provided watch is too old.","reason":"Expired","code":410}})"
    "\n";

}  // namespace

TEST_CASE(
    "Informer: a paged initial list fills the store, then the watch starts from the list's "
    "resourceVersion",
    "[cache][informer]") {
  CacheFixture f;
  f.transport->enqueue(200, listBody({configMap("a", "1"), configMap("b", "2")}, "90", "page-2"));
  f.transport->enqueue(200, listBody({configMap("c", "3")}, "105"));
  f.start();

  auto lists = f.lists();
  REQUIRE(lists.size() == 2);
  CHECK(lists[0].target == "/api/v1/namespaces/demo/configmaps?limit=500");
  CHECK(lists[1].target == "/api/v1/namespaces/demo/configmaps?limit=500&continue=page-2");
  REQUIRE(f.watches().size() == 1);
  CHECK(contains(f.watches()[0].target, "resourceVersion=105"));
  CHECK(contains(f.watches()[0].target, "allowWatchBookmarks=true"));
  CHECK(f.informer->hasSynced());
  CHECK(f.informer->watcherState() == WatcherState::kWatching);
  CHECK(f.informer->store().size() == 3);
  CHECK(f.events == Events{"add (initial) a@1", "add (initial) b@2", "add (initial) c@3"});
}

TEST_CASE("Informer: hasSynced stays false until the last page has arrived", "[cache][informer]") {
  CacheFixture f;
  f.transport->enqueue(200, listBody({configMap("a", "1")}, "90", "page-2"));
  f.transport->enqueue(500, statusBody(500, "InternalError"));
  f.start();
  CHECK_FALSE(f.informer->hasSynced());
  CHECK(f.informer->store().size() == 0);  // nothing is published from a partial list
  CHECK(f.events.empty());
  // The failed page is retried with the same continue token after the backoff.
  f.transport->enqueue(200, listBody({configMap("b", "2")}, "95"));
  CHECK(f.runNextTimer() == 800ms);
  REQUIRE(f.lists().size() == 3);
  CHECK(contains(f.lists()[2].target, "continue=page-2"));
  CHECK(f.informer->hasSynced());
  CHECK(f.informer->store().size() == 2);
}

TEST_CASE("Informer: watch events update the store and reach handlers with old and new objects",
          "[cache][informer]") {
  Synced f;
  f.send(eventLine("ADDED", configMap("d", "101")));
  f.send(eventLine("MODIFIED", configMap("a", "102")));
  f.send(eventLine("DELETED", configMap("b", "103")));
  CHECK(f.events == Events{"add d@101", "update a@1->102", "delete b@103"});
  CHECK(f.informer->store().size() == 3);
  CHECK_FALSE(f.informer->get({"demo", "b"}));
  CHECK((*f.informer->get({"demo", "a"}))["data"]["k"] == "102");
  CHECK(f.informer->lastSyncResourceVersion() == "103");
}

TEST_CASE(
    "Informer: watch callbacks only hand events to the strand; the store changes when the strand "
    "runs",
    "[cache][informer]") {
  Synced f;
  f.transport->lastStream()->data(
      eventLine("ADDED", configMap("d", "101")));  // the I/O thread's part
  CHECK(f.events.empty());
  CHECK_FALSE(f.informer->get({"demo", "d"}));
  f.executor->runReady();  // the shared pool's part
  CHECK(f.events == Events{"add d@101"});
}

TEST_CASE(
    "Informer: a bookmark moves the resourceVersion without an event, and a reconnect resumes from "
    "it",
    "[cache][informer]") {
  Synced f;
  f.send(bookmarkLine("250"));
  CHECK(f.events.empty());
  CHECK(f.informer->lastSyncResourceVersion() == "250");
  f.breakStream();
  CHECK(f.informer->watcher().backingOff());
  f.runNextTimer();
  REQUIRE(f.watches().size() == 2);
  CHECK(contains(f.watches()[1].target, "rio-reachability-probe"));  // is the server back?
  f.openStream()->close();                                           // yes
  f.executor->runReady();
  REQUIRE(f.watches().size() == 3);
  CHECK(contains(f.watches()[2].target, "resourceVersion=250"));
  CHECK(f.lists().size() == 1);  // no relist for a disconnect
}

TEST_CASE(
    "Informer: a server that ends the watch normally is watched again at once from the last "
    "resourceVersion",
    "[cache][informer]") {
  Synced f;
  f.send(eventLine("ADDED", configMap("d", "101")));
  f.transport->lastStream()->close();
  f.executor->runReady();
  REQUIRE(f.watches().size() == 2);
  CHECK(contains(f.watches()[1].target, "resourceVersion=101"));
  CHECK_FALSE(f.informer->watcher().backingOff());
}

TEST_CASE(
    "Informer: 410 Gone mid-stream relists, and objects deleted while disconnected are deleted "
    "from the store",
    "[cache][informer]") {
  Synced f;
  auto before = f.informer->store().snapshot();
  // While we were away: b was deleted, a modified, c untouched, e created.
  f.transport->enqueue(
      200, listBody({configMap("a", "7"), configMap("c", "1"), configMap("e", "8")}, "300"));
  f.send(kGone);

  REQUIRE(f.lists().size() == 2);
  CHECK(f.events == Events{"delete b@1", "update a@1->7", "add e@8"});
  CHECK_FALSE(f.informer->get({"demo", "b"}));
  CHECK(f.informer->store().size() == 3);
  REQUIRE(f.watches().size() == 2);
  CHECK(contains(f.watches()[1].target, "resourceVersion=300"));
  // A reader that held the old snapshot still sees the old content.
  CHECK(before->size() == 3);
  CHECK(before->count({"demo", "b"}) == 1);
}

TEST_CASE("Informer: an expired continue token restarts the list from the first page",
          "[cache][informer]") {
  CacheFixture f;
  f.transport->enqueue(200, listBody({configMap("a", "1")}, "90", "page-2"));
  f.transport->enqueue(410,
                       statusBody(410, "Expired", "The provided continue parameter is too old"));
  f.transport->enqueue(200, listBody({configMap("b", "2")}, "120"));
  f.start();
  auto lists = f.lists();
  REQUIRE(lists.size() == 3);
  CHECK_FALSE(contains(lists[2].target, "continue="));
  CHECK(f.informer->hasSynced());
  CHECK(f.informer->store().size() == 1);  // a was only on the abandoned list
  CHECK(f.events == Events{"add (initial) b@2"});
}

TEST_CASE(
    "Informer: failures the server answers back off 0.8 s doubling to 30 s, and honour Retry-After",
    "[cache][informer][backoff]") {
  CacheFixture f;
  for (int i = 0; i < 8; ++i) f.transport->enqueue(503, statusBody(503, "ServiceUnavailable"));
  f.start();
  std::vector<std::chrono::milliseconds> delays;
  delays.reserve(7);
  for (int i = 0; i < 7; ++i) delays.push_back(f.runNextTimer());
  CHECK(delays == std::vector<std::chrono::milliseconds>{800ms, 1600ms, 3200ms, 6400ms, 12800ms,
                                                         25600ms, 30000ms});
  CHECK(f.informer->watcher().consecutiveFailures() == 8);
  CHECK_FALSE(f.informer->hasSynced());

  // A 429 with Retry-After longer than the current backoff waits as long as the server asked.
  CacheFixture g;
  g.transport->enqueue(
      http::Response{429, {{"Retry-After", "7"}}, statusBody(429, "TooManyRequests")});
  g.start();
  CHECK(g.runNextTimer() == 7000ms);
}

TEST_CASE("Informer: the backoff starts over after a healthy period, not after a short recovery",
          "[cache][informer][backoff]") {
  Synced f;
  f.failStream(500, "InternalError");
  CHECK(f.runNextTimer() == 800ms);
  f.failStream(500, "InternalError");
  CHECK(f.runNextTimer() == 1600ms);
  f.openStream();
  f.send(eventLine("ADDED", configMap("d", "101")));
  f.executor->advance(60s, 1s);  // healthy, but not for long
  f.failStream(500, "InternalError");
  CHECK(f.runNextTimer() == 3200ms);
  f.openStream();
  f.executor->advance(121s, 1s);  // healthy for more than 120 s
  f.failStream(500, "InternalError");
  CHECK(f.runNextTimer() == 800ms);
}

TEST_CASE(
    "Informer: after a long outage the watch is back within 5 s of the server answering again",
    "[cache][informer][backoff]") {
  Synced f;
  f.send(eventLine("ADDED", configMap("d", "101")));
  f.breakStream();
  // Down for 5 minutes: every attempt is refused. Attempts stay a few seconds apart however long
  // the outage lasts, and none is a relist.
  auto& clock = f.executor->fakeClock();
  SteadyTime downSince = clock.now();
  SteadyTime last = downSince;
  std::chrono::nanoseconds longestGap{0};
  std::size_t seen = f.watches().size();
  while (clock.now() - downSince < 5min) {
    f.executor->advance(100ms, 100ms);
    if (f.watches().size() != seen) {
      seen = f.watches().size();
      longestGap = std::max<std::chrono::nanoseconds>(longestGap, clock.now() - last);
      last = clock.now();
      f.breakStream();
    }
  }
  CHECK(seen > 60);
  CHECK(longestGap <= 3s);
  CHECK(f.lists().size() == 1);

  // The server answers again: the next probe is answered (after its one second) and the watch
  // resumes where it was.
  SteadyTime up = clock.now();
  while (f.watches().size() == seen) f.executor->advance(100ms, 100ms);
  CHECK(contains(f.watches().back().target, "rio-reachability-probe"));
  f.openStream();
  f.executor->advance(1s, 100ms);
  f.transport->lastStream()->close();
  f.executor->runReady();
  REQUIRE(f.watches().size() == seen + 2);
  CHECK(clock.now() - up <= 5s);
  CHECK(contains(f.watches().back().target, "resourceVersion=101"));
  f.openStream();
  f.send(eventLine("ADDED", configMap("e", "102")));
  CHECK(f.informer->get({"demo", "e"}));
  CHECK_FALSE(f.informer->watcher().backingOff());
}

TEST_CASE("Informer: namespace, label and field selectors go into list and watch requests",
          "[cache][informer]") {
  CacheFixture f;
  f.options.watcher.labelSelector = "app=x";
  f.options.watcher.fieldSelector = "metadata.name=a";
  f.options.watcher.pageSize = 50;
  f.transport->enqueue(200, listBody({}, "1"));
  f.start();
  CHECK(f.lists().at(0).target ==
        "/api/v1/namespaces/demo/"
        "configmaps?labelSelector=app%3Dx&fieldSelector=metadata.name%3Da&limit=50");
  CHECK(contains(f.watches().at(0).target, "/api/v1/namespaces/demo/configmaps?watch=1"));
  CHECK(
      contains(f.watches().at(0).target, "labelSelector=app%3Dx&fieldSelector=metadata.name%3Da"));

  CacheFixture all;
  all.options.watcher.ns = "";
  all.transport->enqueue(200, listBody({}, "1"));
  all.start();
  CHECK(all.lists().at(0).target == "/api/v1/configmaps?limit=500");
}

TEST_CASE("Informer: managedFields are stripped and list items get kind and apiVersion",
          "[cache][informer]") {
  CacheFixture f;
  Json withFields = configMap("a", "1");
  withFields["metadata"]["managedFields"] =
      Json::array({{{"manager", "kubectl"}, {"operation", "Apply"}}});
  f.transport->enqueue(200, listBody({withFields}, "10"));
  f.start();
  auto a = f.informer->get({"demo", "a"});
  REQUIRE(a);
  CHECK_FALSE((*a)["metadata"].contains("managedFields"));
  CHECK((*a)["kind"] == "ConfigMap");
  CHECK((*a)["apiVersion"] == "v1");
}

TEST_CASE("Informer: indexers follow watch changes", "[cache][informer]") {
  CacheFixture f;
  f.options.indexers = {{"owner", indexByLabel("example.com/owner")}};
  f.transport->enqueue(200, listBody({configMap("a", "1", {{"example.com/owner", "o1"}})}, "10"));
  f.start();
  f.openStream();
  CHECK(f.informer->store().byIndex("owner", "o1").size() == 1);
  f.send(eventLine("ADDED", configMap("b", "11", {{"example.com/owner", "o1"}})));
  f.send(eventLine("MODIFIED", configMap("a", "12", {{"example.com/owner", "o2"}})));
  CHECK(f.informer->store().byIndex("owner", "o1").size() == 1);
  CHECK(f.informer->store().byIndex("owner", "o2").size() == 1);
}

TEST_CASE(
    "Informer: a handler added after sync first gets the cached objects, and a removed one gets "
    "nothing more",
    "[cache][informer]") {
  Synced f;
  std::vector<std::string> late;
  EventHandler h;
  h.onAdd = [&](const ObjectPtr& o, bool initial) {
    late.push_back((initial ? "add (initial) " : "add ") + CacheFixture::describe(o));
  };
  h.onUpdate = [&](const ObjectPtr&, const ObjectPtr& o) {
    late.push_back("update " + CacheFixture::describe(o));
  };
  auto id = f.informer->addEventHandler(h);
  f.executor->runReady();
  f.send(eventLine("MODIFIED", configMap("a", "101")));
  CHECK(late == Events{"add (initial) a@1", "add (initial) b@1", "add (initial) c@1", "update a@101"});
  f.informer->removeEventHandler(id);
  f.send(eventLine("MODIFIED", configMap("a", "102")));
  CHECK(late.size() == 4);
  CHECK(f.events.size() == 2);  // the first handler still sees both changes
}

TEST_CASE("Informer: stop ends the watch and no handler runs afterwards", "[cache][informer]") {
  Synced f;
  auto stream = f.transport->lastStream();
  f.informer->stop();
  f.executor->runReady();
  CHECK(stream->closed());
  CHECK(f.informer->watcherState() == WatcherState::kStopped);
  stream->data(eventLine("ADDED", configMap("d", "101")));
  f.executor->advance(1min, 1s);
  CHECK(f.events.empty());
  CHECK(f.watches().size() == 1);
  CHECK(f.informer->store().size() == 3);  // the cache keeps what it had
}

TEST_CASE(
    "Informer: watch-list syncs from initial events and the initial-events-end bookmark, without a "
    "LIST",
    "[cache][informer][watchlist]") {
  CacheFixture f;
  f.options.watcher.useWatchList = true;
  f.start();
  REQUIRE(f.watches().size() == 1);
  CHECK(
      contains(f.watches()[0].target, "sendInitialEvents=true&resourceVersionMatch=NotOlderThan"));
  f.openStream();
  f.send(eventLine("ADDED", configMap("a", "5")));
  f.send(eventLine("ADDED", configMap("b", "6")));
  CHECK_FALSE(f.informer->hasSynced());
  CHECK(f.informer->store().size() == 0);
  f.send(bookmarkLine("50", /*initialEventsEnd=*/true));
  CHECK(f.informer->hasSynced());
  CHECK(f.informer->store().size() == 2);
  CHECK(f.events == Events{"add (initial) a@5", "add (initial) b@6"});
  CHECK(f.lists().empty());
  // The same stream goes on with changes.
  f.send(eventLine("DELETED", configMap("a", "51")));
  CHECK(f.informer->store().size() == 1);
  CHECK(f.informer->lastSyncResourceVersion() == "51");
}

TEST_CASE("Informer: watch-list answered with an error falls back to LIST and WATCH",
          "[cache][informer][watchlist]") {
  CacheFixture f;
  f.options.watcher.useWatchList = true;
  f.transport->enqueue(200, listBody({configMap("a", "1")}, "20"));
  f.start();
  f.failStream(422, "Invalid");  // an API server that refuses sendInitialEvents
  REQUIRE(f.lists().size() == 1);
  REQUIRE(f.watches().size() == 2);
  CHECK_FALSE(contains(f.watches()[1].target, "sendInitialEvents"));
  CHECK(contains(f.watches()[1].target, "resourceVersion=20"));
  CHECK(f.informer->hasSynced());
  CHECK_FALSE(f.informer->watcher().usingWatchList());
  // A later 410 relists with LIST, not watch-list.
  f.transport->enqueue(200, listBody({configMap("a", "2")}, "40"));
  f.openStream();
  f.send(kGone);
  CHECK(f.lists().size() == 2);
}

TEST_CASE("Informer: watch-list that never sends the end bookmark falls back after the timeout",
          "[cache][informer][watchlist]") {
  CacheFixture f;
  f.options.watcher.useWatchList = true;
  f.options.watcher.initialEventsTimeout = 30s;
  f.transport->enqueue(200, listBody({configMap("a", "1")}, "20"));
  f.start();
  f.openStream();
  f.send(eventLine("ADDED", configMap("a", "1")));  // an old server: plain watch semantics
  f.executor->advance(30s, 1s);
  CHECK(f.transport->requests().size() == 3);  // watch-list, LIST, WATCH
  CHECK(f.informer->hasSynced());
  CHECK(f.events == Events{"add (initial) a@1"});
}

TEST_CASE(
    "Informer: once the server stops answering, a non-blocking probe precedes every blocking LIST",
    "[cache][informer][backoff]") {
  CacheFixture f;
  f.transport->enqueue(fail(Error::transport("connection refused")));
  f.start();
  CHECK(f.lists().size() == 1);
  CHECK(f.runNextTimer() <= 3s);
  // Not another LIST (which would hold a pool worker for the request timeout): a probe.
  CHECK(f.lists().size() == 1);
  REQUIRE(f.watches().size() == 1);
  CHECK(contains(f.watches()[0].target, "fieldSelector=metadata.name%3Drio-reachability-probe"));
  CHECK(contains(f.watches()[0].target, "timeoutSeconds=1"));
  CHECK(f.informer->watcher().probing());
  f.breakStream();  // still down
  CHECK(f.runNextTimer() <= 3s);
  CHECK(f.lists().size() == 1);
  CHECK(f.watches().size() == 2);
  // The server answers: the probe ends after its second and the LIST follows at once.
  f.transport->enqueue(200, listBody({configMap("a", "1")}, "10"));
  f.openStream()->close();
  f.executor->runReady();
  CHECK(f.lists().size() == 2);
  CHECK(f.informer->hasSynced());
  CHECK_FALSE(f.informer->watcher().probing());
}

TEST_CASE(
    "Informer: informers of one server share its health, so a sibling probes before its first LIST",
    "[cache][informer][backoff]") {
  CacheFixture f;
  f.options.watcher.health = std::make_shared<ServerHealth>();
  f.options.watcher.health->noAnswer();  // another informer of this cluster just saw it go away
  f.start();
  CHECK(f.lists().empty());
  REQUIRE(f.watches().size() == 1);
  CHECK(contains(f.watches()[0].target, "rio-reachability-probe"));
  // A probe answered with an HTTP error still proves the server is up.
  f.transport->enqueue(200, listBody({}, "10"));
  f.failStream(403, "Forbidden");
  CHECK(f.lists().size() == 1);
  CHECK_FALSE(f.options.watcher.health->suspect());
}

TEST_CASE(
    "Informer: during an outage one informer per server probes, the others wait and return as soon "
    "as it gets an answer",
    "[cache][informer][backoff]") {
  auto executor = std::make_shared<rio::testing::FakeExecutor>();
  auto health = std::make_shared<ServerHealth>();  // one server, two informers
  Synced prober(executor, health);
  Synced other(executor, health);
  prober.breakStream();  // the first to notice probes
  other.breakStream();
  auto& clock = executor->fakeClock();
  SteadyTime downSince = clock.now();
  std::size_t proberSeen = prober.watches().size(), otherSeen = other.watches().size();
  int proberAttempts = 0, otherAttempts = 0;
  while (clock.now() - downSince < 5min) {
    executor->advance(100ms, 100ms);
    if (prober.watches().size() != proberSeen) {
      proberSeen = prober.watches().size();
      ++proberAttempts;
      prober.breakStream();
    }
    if (other.watches().size() != otherSeen) {
      otherSeen = other.watches().size();
      ++otherAttempts;
      other.breakStream();
    }
  }
  CHECK(proberAttempts > 100);
  CHECK(otherAttempts < 20);  // its own backoff, up to 30 s between attempts

  // The server answers the prober's next probe: the other informer is back at once.
  SteadyTime up = clock.now();
  while (prober.watches().size() == proberSeen) executor->advance(100ms, 100ms);
  prober.openStream()->close();
  executor->runReady();
  CHECK(other.watches().size() == otherSeen + 1);
  CHECK(contains(other.watches().back().target, "resourceVersion=100"));
  CHECK(contains(prober.watches().back().target, "resourceVersion=100"));
  CHECK(clock.now() - up <= 5s);
  CHECK_FALSE(health->suspect());
}
