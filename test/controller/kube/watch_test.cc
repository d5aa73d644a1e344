#include "controller/kube/watch.h"

#include <catch2/catch.hpp>

#include "controller/kube/client.h"
#include "test/support/fake_transport.h"

using namespace rio;
using namespace rio::kube;
using rio::testing::FakeTransport;

namespace {

// Three events as kube-apiserver 1.32 framed them (reference/kube-apiserver-1.32/watch-stream.txt),
// with a brace and a quote inside string values to trip naive splitting.
const std::string kStream =
    R"({"type": "MODIFIED", "object": {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c1", "namespace": "demo", "resourceVersion": "225"}, "data": {"k": "z}{\"", "w": "1"}}})"
    "\n"
    R"({"type": "DELETED", "object": {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c1", "namespace": "demo", "resourceVersion": "226"}, "data": {"k": "z"}}})"
    "\n"
    R"({"type": "BOOKMARK", "object": {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": "226", "creationTimestamp": null}}})"
    "\n";

}  // namespace

TEST_CASE("WatchDecoder: events split at every possible byte boundary decode the same", "[kube][watch]") {
  for (std::size_t cut = 0; cut <= kStream.size(); ++cut) {
    WatchDecoder d;
    auto a = d.feed(std::string_view(kStream).substr(0, cut));
    REQUIRE(a);
    auto b = d.feed(std::string_view(kStream).substr(cut));
    REQUIRE(b);
    std::vector<WatchEvent> all = *a;
    all.insert(all.end(), b->begin(), b->end());
    REQUIRE(all.size() == 3);
    CHECK(all[0].type == WatchEventType::kModified);
    CHECK(all[0].object["data"]["k"] == "z}{\"");
    CHECK(all[1].type == WatchEventType::kDeleted);
    CHECK(all[2].type == WatchEventType::kBookmark);
    CHECK(all[2].object["metadata"]["resourceVersion"] == "226");
    CHECK_FALSE(d.hasPartial());
  }
}

TEST_CASE("WatchDecoder: byte-at-a-time feeding and events without newlines", "[kube][watch]") {
  std::string glued = R"({"type":"ADDED","object":{"metadata":{"name":"a"}}}{"type":"ADDED","object":{"metadata":{"name":"b"}}})";
  WatchDecoder d;
  std::vector<WatchEvent> all;
  for (char c : glued) {
    auto events = d.feed(std::string_view(&c, 1));
    REQUIRE(events);
    for (auto& e : *events) all.push_back(e);
  }
  REQUIRE(all.size() == 2);
  CHECK(all[1].object["metadata"]["name"] == "b");
}

TEST_CASE("WatchDecoder: malformed input is an error, not a crash", "[kube][watch]") {
  for (std::string bad : {"[1,2]\n", "garbage\n", R"({"type":"ADDED"})", R"({"type":"NOPE","object":{}})",
                          R"({"type":"ADDED","object":{]})", R"({"type":7,"object":{}})"}) {
    WatchDecoder d;
    auto events = d.feed(bad);
    CHECK_FALSE(events);
    CHECK(events.error().kind() == ErrorKind::kDecode);
    CHECK_FALSE(d.feed("{}"));  // stays failed
  }
}

TEST_CASE("WatchDecoder: a partial event is reported as pending", "[kube][watch]") {
  WatchDecoder d;
  REQUIRE(d.feed(R"({"type":"ADDED","obj)"));
  CHECK(d.hasPartial());
}

namespace {

struct WatchFixture {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  ClientPtr client;
  std::vector<WatchEvent> events;
  std::vector<std::optional<Error>> closes;
  WatchPtr watch;

  WatchFixture() {
    RestConfig config;
    config.server = "https://fake.example:6443";
    client = makeClient(transport, config);
  }
  void start(WatchOptions o = {}) {
    WatchHandler h;
    h.onEvent = [this](WatchEvent&& e) { events.push_back(std::move(e)); };
    h.onClose = [this](const std::optional<Error>& e) { closes.push_back(e); };
    watch = client->watch(resources::kConfigMaps, "demo", o, h);
  }
};

}  // namespace

TEST_CASE("Watch: options become query parameters", "[kube][watch]") {
  WatchFixture f;
  WatchOptions o;
  o.resourceVersion = "206";
  o.labelSelector = "app=x";
  o.timeoutSeconds = 300;
  f.start(o);
  CHECK(f.transport->requests().at(0).target ==
        "/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=206&labelSelector=app%3Dx&allowWatchBookmarks=true&timeoutSeconds=300");
}

TEST_CASE("Watch: events are delivered and a normal end closes without error", "[kube][watch]") {
  WatchFixture f;
  f.start();
  auto s = f.transport->lastStream();
  s->headers(200);
  s->data(kStream.substr(0, 50));
  s->data(kStream.substr(50));
  s->close();
  CHECK(f.events.size() == 3);
  REQUIRE(f.closes.size() == 1);
  CHECK_FALSE(f.closes[0].has_value());
}

TEST_CASE("Watch: an in-stream ERROR 410 closes the watch as Gone", "[kube][watch]") {
  WatchFixture f;
  f.start();
  auto s = f.transport->lastStream();
  s->headers(200);
  // Recorded: reference/kube-apiserver-1.32/watch-expired-410.txt
  s->data(R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"The resourceVersion for the provided watch is too old.","reason":"Expired","code":410}})" "\n");
  REQUIRE(f.closes.size() == 1);
  REQUIRE(f.closes[0]);
  CHECK(f.closes[0]->isGone());
  CHECK(s->closed());  // the client hung up
}

TEST_CASE("Watch: an HTTP error answer closes the watch with its Status", "[kube][watch]") {
  WatchFixture f;
  f.start();
  auto s = f.transport->lastStream();
  s->headers(403);
  s->data(R"({"kind":"Status","code":403,"reason":"Forbidden","message":"configmaps is forbidden"})");
  s->close();
  REQUIRE(f.closes.size() == 1);
  CHECK(f.closes[0]->isForbidden());
  CHECK(f.events.empty());
}

TEST_CASE("Watch: a stream cut in the middle of an event is a transport error", "[kube][watch]") {
  WatchFixture f;
  f.start();
  auto s = f.transport->lastStream();
  s->headers(200);
  s->data(kStream.substr(0, 30));
  s->close();
  REQUIRE(f.closes.size() == 1);
  CHECK(f.closes[0]->kind() == ErrorKind::kTransport);
}

TEST_CASE("Watch: stop() closes once with kCancelled", "[kube][watch]") {
  WatchFixture f;
  f.start();
  f.transport->lastStream()->headers(200);
  f.watch->stop();
  f.watch->stop();
  REQUIRE(f.closes.size() == 1);
  CHECK(f.closes[0]->kind() == ErrorKind::kCancelled);
}
