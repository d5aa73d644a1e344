// List (selectors, limit/continue, Table, metadata-only) and watch (resume, 410 Expired,
// bookmarks, timeouts, selector transitions, watch-list, client departure).
#include <catch2/catch.hpp>

#include "test/testenv/testing/harness.h"

using namespace rio;
using namespace rio::testenv;
using namespace rio::testenv::testing;

namespace {

const char kTableAccept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/"
    "json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

void cm(Harness& h, const std::string& name, const std::string& labels = "{}") {
  REQUIRE(h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":")" + name +
                                                           R"(","labels":)" + labels +
                                                           R"(},"data":{"a":"1"}})")
              .status == 201);
}

std::vector<std::string> names(const nlohmann::json& list) {
  std::vector<std::string> out;
  for (const auto& i : list["items"]) out.push_back(i["metadata"]["name"]);
  return out;
}

std::string rv(Harness& h) { return std::to_string(h.server->resourceVersion()); }

}  // namespace

TEST_CASE(
    "List: items carry no kind/apiVersion and the list has the cluster resourceVersion, as "
    "recorded",
    "[testenv][list]") {
  Harness h;
  cm(h, "c1");
  auto r = h.get("/api/v1/namespaces/demo/configmaps");
  REQUIRE(r.status == 200);
  CHECK(r.body["kind"] == "ConfigMapList");
  CHECK(r.body["apiVersion"] == "v1");
  CHECK(r.body["metadata"]["resourceVersion"] == rv(h));
  REQUIRE(r.body["items"].size() == 2);  // c1 and kube-root-ca.crt
  CHECK_FALSE(r.body["items"][0].contains("kind"));
  CHECK_FALSE(r.body["items"][0].contains("apiVersion"));
}

TEST_CASE("List: label selectors support =, ==, !=, in, notin, exists and !exists",
          "[testenv][list][selectors]") {
  Harness h;
  cm(h, "a", R"({"app":"x","tier":"web"})");
  cm(h, "b", R"({"app":"y"})");
  cm(h, "c", R"({"tier":"db"})");
  auto q = [&](const std::string& sel) {
    return names(
        h.get("/api/v1/namespaces/demo/configmaps?labelSelector=" + http::urlEncode(sel)).body);
  };
  using V = std::vector<std::string>;
  CHECK(q("app=x") == V{"a"});
  CHECK(q("app==y") == V{"b"});
  CHECK(q("app!=x") == V{"b", "c", "kube-root-ca.crt"});
  CHECK(q("app in (x,y)") == V{"a", "b"});
  CHECK(q("tier notin (web)") == V{"b", "c", "kube-root-ca.crt"});
  CHECK(q("tier") == V{"a", "c"});
  CHECK(q("!app") == V{"c", "kube-root-ca.crt"});
  CHECK(q("app,tier=web") == V{"a"});
  auto bad =
      h.get("/api/v1/namespaces/demo/configmaps?labelSelector=" + http::urlEncode("a in (x"));
  CHECK(bad.status == 400);
}

TEST_CASE("List: field selectors on metadata and kind-specific fields; unknown fields are 400",
          "[testenv][list][selectors]") {
  Harness h;
  REQUIRE(
      h.post(
           "/api/v1/namespaces/demo/secrets",
           R"({"metadata":{"name":"tls"},"type":"kubernetes.io/tls","data":{"tls.crt":"","tls.key":""}})")
          .status == 201);
  REQUIRE(h.post("/api/v1/namespaces/demo/secrets", R"({"metadata":{"name":"plain"}})").status ==
          201);
  auto byType = h.get("/api/v1/namespaces/demo/secrets?fieldSelector=" +
                      http::urlEncode("type=kubernetes.io/tls"));
  CHECK(names(byType.body) == std::vector<std::string>{"tls"});
  auto byName = h.get("/api/v1/secrets?fieldSelector=" +
                      http::urlEncode("metadata.name!=tls,metadata.namespace=demo"));
  CHECK(names(byName.body) == std::vector<std::string>{"plain"});
  REQUIRE(
      h.post(
           "/api/v1/namespaces/demo/pods",
           R"({"metadata":{"name":"p"},"spec":{"nodeName":"node-1","containers":[{"name":"c","image":"nginx:1.27"}]}})")
          .status == 201);
  auto onNode = h.get("/api/v1/pods?fieldSelector=" + http::urlEncode("spec.nodeName=node-1"));
  CHECK(names(onNode.body) == std::vector<std::string>{"p"});
  auto bad = h.get("/api/v1/namespaces/demo/configmaps?fieldSelector=spec.nope%3D1");
  CHECK(bad.status == 400);
  CHECK(bad.body["message"] == "field label not supported: spec.nope");
}

TEST_CASE("List: limit and continue page through one snapshot with an opaque token",
          "[testenv][list]") {
  Harness h;
  for (const char* n : {"a", "b", "c", "d"}) cm(h, n);
  auto first = h.get("/api/v1/namespaces/demo/configmaps?limit=2");
  REQUIRE(first.status == 200);
  CHECK(names(first.body) == std::vector<std::string>{"a", "b"});
  std::string token = first.body["metadata"]["continue"];
  CHECK(first.body["metadata"]["remainingItemCount"] == 3);
  // Written between pages: the pages continue the first page's snapshot, as etcd serves them
  // (found by the conformance suite: testenv used to show the current state).
  cm(h, "bb");
  REQUIRE(h.del("/api/v1/namespaces/demo/configmaps/c").status == 200);
  REQUIRE(h.patch("/api/v1/namespaces/demo/configmaps/d", R"({"data":{"k":"new"}})",
                  "application/merge-patch+json")
              .status == 200);
  auto second =
      h.get("/api/v1/namespaces/demo/configmaps?limit=2&continue=" + http::urlEncode(token));
  CHECK(names(second.body) == std::vector<std::string>{"c", "d"});
  CHECK(second.body["items"][1]["data"] == nlohmann::json({{"a", "1"}}));  // d before its patch
  CHECK(second.body["metadata"]["resourceVersion"] == first.body["metadata"]["resourceVersion"]);
  auto third = h.get("/api/v1/namespaces/demo/configmaps?limit=2&continue=" +
                     http::urlEncode(second.body["metadata"]["continue"].get<std::string>()));
  CHECK(names(third.body) == std::vector<std::string>{"kube-root-ca.crt"});
  CHECK_FALSE(third.body["metadata"].contains("continue"));
  CHECK(h.get("/api/v1/namespaces/demo/configmaps?continue=garbage").status == 400);
}

TEST_CASE("List: Table output for ConfigMaps has the recorded columns", "[testenv][list][table]") {
  Harness h;
  REQUIRE(h.post("/api/v1/namespaces/demo/configmaps",
                 R"({"metadata":{"name":"c1"},"data":{"k":"z","k2":"v2"}})")
              .status == 201);
  h.world.clock->advance(std::chrono::seconds(3));
  auto r = h.call("GET", "/api/v1/namespaces/demo/configmaps?fieldSelector=metadata.name%3Dc1", {},
                  {}, "admin-token", {{"Accept", kTableAccept}});
  REQUIRE(r.status == 200);
  auto want = recordedJson("cm-list-table.txt");
  CHECK(r.body["kind"] == "Table");
  CHECK(r.body["apiVersion"] == "meta.k8s.io/v1");
  CHECK(r.body["columnDefinitions"] == want["columnDefinitions"]);
  REQUIRE(r.body["rows"].size() == 1);
  CHECK(r.body["rows"][0]["cells"] == nlohmann::json::array({"c1", 2, "3s"}));
  CHECK(r.body["rows"][0]["object"]["kind"] == "PartialObjectMetadata");
  CHECK(r.body["rows"][0]["object"]["metadata"]["name"] == "c1");
}

TEST_CASE("List: Table output for custom resources follows additionalPrinterColumns, as recorded",
          "[testenv][list][table][crd]") {
  Harness h;
  REQUIRE(h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                 recordedRequest("crd-create.txt"))
              .status == 201);
  h.world.scheduler->runDue();
  REQUIRE(h.post("/apis/example.com/v1/namespaces/demo/widgets", recordedRequest("cr-create.txt"))
              .status == 201);
  h.patch("/apis/example.com/v1/namespaces/demo/widgets/w1/status",
          recordedRequest("cr-status-patch.txt"), "application/merge-patch+json");
  h.patch("/apis/example.com/v1/namespaces/demo/widgets/w1", R"({"spec":{"size":4}})",
          "application/merge-patch+json");
  auto r = h.call("GET", "/apis/example.com/v1/namespaces/demo/widgets", {}, {}, "admin-token",
                  {{"Accept", kTableAccept}});
  REQUIRE(r.status == 200);
  auto want = recordedJson("cr-list-table.txt");
  CHECK(r.body["columnDefinitions"] == want["columnDefinitions"]);
  CHECK(r.body["rows"][0]["cells"] == want["rows"][0]["cells"]);
  auto single = h.call("GET", "/apis/example.com/v1/namespaces/demo/widgets/w1", {}, {},
                       "admin-token", {{"Accept", kTableAccept}});
  CHECK(single.body["rows"][0]["cells"] == want["rows"][0]["cells"]);
}

TEST_CASE("List: built-in Tables print kubectl's columns", "[testenv][list][table]") {
  Harness h;
  REQUIRE(h.post("/apis/apps/v1/namespaces/demo/deployments",
                 recordedRequest("deployment-create-defaults.txt"))
              .status == 201);
  auto d = h.call("GET", "/apis/apps/v1/namespaces/demo/deployments", {}, {}, "admin-token",
                  {{"Accept", kTableAccept}});
  std::vector<std::string> cols;
  for (const auto& c : d.body["columnDefinitions"]) cols.push_back(c["name"]);
  CHECK(cols == std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available", "Age",
                                         "Containers", "Images", "Selector"});
  CHECK(d.body["rows"][0]["cells"][1] == "2/2");
  CHECK(d.body["rows"][0]["cells"][7] == "app=d1");
  auto svc = h.call("GET", "/api/v1/namespaces/default/services", {}, {}, "admin-token",
                    {{"Accept", kTableAccept}});
  CHECK(svc.body["rows"][0]["cells"][2] == "10.0.0.1");
  CHECK(svc.body["rows"][0]["cells"][4] == "443/TCP");
  auto nodes = h.call("GET", "/api/v1/nodes", {}, {}, "admin-token", {{"Accept", kTableAccept}});
  CHECK(nodes.body["rows"][0]["cells"][1] == "Ready");
}

TEST_CASE("List: metadata-only lists answer PartialObjectMetadataList", "[testenv][list]") {
  Harness h;
  cm(h, "c1");
  auto r = h.call(
      "GET", "/api/v1/namespaces/demo/configmaps", {}, {}, "admin-token",
      {{"Accept",
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"}});
  CHECK(r.body["kind"] == "PartialObjectMetadataList");
  CHECK(r.body["items"][0]["kind"] == "PartialObjectMetadata");
  CHECK_FALSE(r.body["items"][0].contains("data"));
}

// ---------------------------------------------------------------- watch

TEST_CASE("Watch: events after a resourceVersion arrive newline-framed as recorded",
          "[testenv][watch]") {
  Harness h;
  cm(h, "c1");
  std::string from = rv(h);
  auto w = h.watch(
      "/api/v1/namespaces/demo/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=" +
      from + "&timeoutSeconds=4");
  CHECK(w.status == 200);
  CHECK(w.header("Content-Type") == "application/json");
  h.patch("/api/v1/namespaces/demo/configmaps/c1", R"({"data":{"w":"1"}})",
          "application/merge-patch+json");
  h.del("/api/v1/namespaces/demo/configmaps/c1");
  h.world.scheduler->advance(std::chrono::seconds(4));
  CHECK(w.exchange->finished());
  std::string raw = w.exchange->body();
  CHECK(raw.back() == '\n');
  auto events = w.events();
  REQUIRE(events.size() == 3);
  CHECK(events[0]["type"] == "MODIFIED");
  CHECK(events[0]["object"]["kind"] == "ConfigMap");
  CHECK(events[0]["object"]["data"]["w"] == "1");
  CHECK(events[1]["type"] == "DELETED");
  CHECK(std::stoull(events[1]["object"]["metadata"]["resourceVersion"].get<std::string>()) >
        std::stoull(events[0]["object"]["metadata"]["resourceVersion"].get<std::string>()));
  // The recorded BOOKMARK shape: kind/apiVersion and metadata.resourceVersion only.
  auto want = nlohmann::json::parse(
      recordedBody("watch-stream.txt")
          .substr(recordedBody("watch-stream.txt").rfind("{\"type\": \"BOOKMARK\"")));
  CHECK(events[2]["type"] == "BOOKMARK");
  auto bookmark = events[2]["object"];
  bookmark["metadata"]["resourceVersion"] = want["object"]["metadata"]["resourceVersion"];
  CHECK(bookmark == want["object"]);
  CHECK(events[2]["object"]["metadata"]["resourceVersion"] ==
        events[1]["object"]["metadata"]["resourceVersion"]);
}

TEST_CASE(
    "Watch: a resourceVersion older than the history window gets one ERROR event with 410 Expired, "
    "as recorded",
    "[testenv][watch]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.watchHistory = 5;
  Harness h(o);
  for (const char* n : {"a", "b", "c", "d", "e", "f"}) cm(h, n);
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=2&timeoutSeconds=3");
  CHECK(w.status == 200);
  CHECK(w.exchange->finished());
  auto events = w.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0] == nlohmann::json::parse(recordedBody("watch-expired-410.txt")));
}

TEST_CASE("Watch: expireWatchHistory makes the next watch from an old resourceVersion get 410",
          "[testenv][watch][faults]") {
  Harness h;
  cm(h, "a");
  std::string from = rv(h);
  cm(h, "b");
  h.server->expireWatchHistory();
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" + from);
  REQUIRE(w.events().size() == 1);
  CHECK(w.events()[0]["object"]["code"] == 410);
  auto fresh = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" + rv(h));
  CHECK_FALSE(fresh.exchange->finished());
}

TEST_CASE("Watch: without a resourceVersion the current objects arrive as ADDED first",
          "[testenv][watch]") {
  Harness h;
  cm(h, "a");
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=true");
  auto events = w.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0]["type"] == "ADDED");
  CHECK(events[0]["object"]["metadata"]["name"] == "a");
  cm(h, "b");
  CHECK(w.events().size() == 3);
}

TEST_CASE("Watch: sendInitialEvents streams the objects then a BOOKMARK marking the end",
          "[testenv][watch]") {
  Harness h;
  REQUIRE(
      h.post("/api/v1/namespaces/demo/serviceaccounts", recordedRequest("sa-create.txt")).status ==
      201);
  auto w = h.watch(
      "/api/v1/namespaces/demo/"
      "serviceaccounts?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&"
      "resourceVersionMatch=NotOlderThan&timeoutSeconds=3");
  auto events = w.events();
  REQUIRE(events.size() == 3);  // bot, default, bookmark
  CHECK(events[0]["type"] == "ADDED");
  CHECK(events[1]["type"] == "ADDED");
  CHECK(events[2]["type"] == "BOOKMARK");
  CHECK(events[2]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true");
  CHECK(events[2]["object"]["metadata"]["resourceVersion"] == rv(h));
  auto bad = h.watch("/api/v1/namespaces/demo/serviceaccounts?watch=1&sendInitialEvents=true");
  CHECK(bad.status == 422);
}

TEST_CASE("Watch: label selectors turn objects leaving into DELETED and entering into ADDED",
          "[testenv][watch][selectors]") {
  Harness h;
  cm(h, "c1", R"({"app":"x"})");
  auto w = h.watch(
      "/api/v1/namespaces/demo/configmaps?watch=1&labelSelector=app%3Dx&resourceVersion=" + rv(h));
  h.patch("/api/v1/namespaces/demo/configmaps/c1", R"({"data":{"b":"2"}})",
          "application/merge-patch+json");
  h.patch("/api/v1/namespaces/demo/configmaps/c1", R"({"metadata":{"labels":{"app":"y"}}})",
          "application/merge-patch+json");
  h.patch("/api/v1/namespaces/demo/configmaps/c1", R"({"data":{"c":"3"}})",
          "application/merge-patch+json");
  h.patch("/api/v1/namespaces/demo/configmaps/c1", R"({"metadata":{"labels":{"app":"x"}}})",
          "application/merge-patch+json");
  cm(h, "other", R"({"app":"z"})");
  auto events = w.events();
  REQUIRE(events.size() == 3);
  CHECK(events[0]["type"] == "MODIFIED");
  CHECK(events[1]["type"] == "DELETED");
  CHECK(events[1]["object"]["metadata"]["labels"]["app"] == "y");
  CHECK(events[2]["type"] == "ADDED");
}

TEST_CASE("Watch: a single object can be watched by name or by metadata.name field selector",
          "[testenv][watch]") {
  Harness h;
  cm(h, "a");
  cm(h, "b");
  auto w = h.watch(
      "/api/v1/namespaces/demo/"
      "configmaps?watch=1&fieldSelector=metadata.name%3Db&resourceVersion=" +
      rv(h));
  auto byPath = h.watch("/api/v1/watch/namespaces/demo/configmaps/b?resourceVersion=" + rv(h));
  h.patch("/api/v1/namespaces/demo/configmaps/a", R"({"data":{"x":"1"}})",
          "application/merge-patch+json");
  h.patch("/api/v1/namespaces/demo/configmaps/b", R"({"data":{"x":"1"}})",
          "application/merge-patch+json");
  REQUIRE(w.events().size() == 1);
  CHECK(w.events()[0]["object"]["metadata"]["name"] == "b");
  REQUIRE(byPath.events().size() == 1);
}

TEST_CASE("Watch: bookmarks arrive periodically and on request", "[testenv][watch]") {
  ApiServerOptions o = Harness::defaultOptions();
  o.bookmarkInterval = std::chrono::seconds(10);
  Harness h(o);
  auto w = h.watch(
      "/api/v1/namespaces/demo/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=" +
      rv(h));
  auto plain = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" + rv(h));
  h.world.scheduler->advance(std::chrono::seconds(10));
  REQUIRE(w.events().size() == 1);
  CHECK(w.events()[0]["type"] == "BOOKMARK");
  h.world.scheduler->advance(std::chrono::seconds(10));
  CHECK(w.events().size() == 2);
  h.server->sendBookmarks();
  CHECK(w.events().size() == 3);
  CHECK(plain.events().empty());
}

TEST_CASE("Watch: timeoutSeconds finishes the stream cleanly", "[testenv][watch]") {
  Harness h;
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&timeoutSeconds=2&resourceVersion=" +
                   rv(h));
  CHECK(h.server->activeWatches() == 1);
  h.world.scheduler->advance(std::chrono::seconds(1));
  CHECK_FALSE(w.exchange->finished());
  h.world.scheduler->advance(std::chrono::seconds(1));
  CHECK(w.exchange->finished());
  CHECK(h.server->activeWatches() == 0);
}

TEST_CASE("Watch: a client going away ends the watch with nothing left behind",
          "[testenv][watch]") {
  Harness h;
  auto w = h.watch(
      "/api/v1/namespaces/demo/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=" +
      rv(h));
  CHECK(h.server->activeWatches() == 1);
  std::weak_ptr<rio::testing::FakeExchange> weak = w.exchange;
  w.exchange->clientGone();
  CHECK(h.server->activeWatches() == 0);
  cm(h, "after");
  w.exchange.reset();
  CHECK(weak.expired());                     // the server no longer holds the exchange
  CHECK(h.world.scheduler->pending() == 0);  // timeout and bookmark timers were cancelled
}

TEST_CASE("Watch: a client leaving while the server writes to it does not deadlock",
          "[testenv][watch]") {
  Harness h;
  // An exchange that reports the client gone from inside write(), as a socket error would.
  struct LeavingExchange final : http::Exchange {
    std::function<void()> onGone;
    bool gone = false;
    void respond(int, http::Headers, std::string) override {}
    void startStream(int, http::Headers) override {}
    void write(std::string) override {
      if (!gone && onGone) {
        gone = true;
        onGone();
      }
    }
    void finish() override {}
    void abort() override {}
    bool closed() const override { return gone; }
    void onClosed(std::function<void()> fn) override { onGone = std::move(fn); }
  };
  auto ex = std::make_shared<LeavingExchange>();
  h.server->handle(
      makeRequest("GET", "/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" + rv(h), "",
                  {{"Authorization", "Bearer admin-token"}}),
      ex);
  CHECK(h.server->activeWatches() == 1);
  cm(h, "x");
  CHECK(h.server->activeWatches() == 0);
}

TEST_CASE("Watch: closeWatchesAfter ends watches after N events and dropAllWatches ends them now",
          "[testenv][watch][faults]") {
  Harness h;
  h.server->closeWatchesAfter(2);
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" + rv(h));
  cm(h, "a");
  CHECK_FALSE(w.exchange->finished());
  cm(h, "b");
  CHECK(w.exchange->finished());
  CHECK(w.events().size() == 2);
  h.server->closeWatchesAfter(std::nullopt);
  auto w2 = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" + rv(h));
  auto w3 = h.watch("/api/v1/namespaces/demo/secrets?watch=1&resourceVersion=" + rv(h));
  h.server->dropAllWatches();
  CHECK(w2.exchange->finished());
  CHECK(w3.exchange->finished());
  CHECK(h.server->activeWatches() == 0);
}

TEST_CASE("Watch: Table watches carry rows", "[testenv][watch][table]") {
  Harness h;
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" + rv(h),
                   "admin-token", {{"Accept", kTableAccept}});
  cm(h, "t");
  auto events = w.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0]["object"]["kind"] == "Table");
  CHECK(events[0]["object"]["rows"][0]["cells"][0] == "t");
}

TEST_CASE("Watch: destroying the server finishes open watches and cancels timers",
          "[testenv][watch]") {
  auto h = std::make_unique<Harness>();
  auto w = h->watch("/api/v1/namespaces/demo/configmaps?watch=1&allowWatchBookmarks=true");
  auto scheduler = h->world.scheduler;
  h->server.reset();
  CHECK(w.exchange->finished());
  scheduler->advance(std::chrono::hours(2));  // nothing left to run against a dead server
}
