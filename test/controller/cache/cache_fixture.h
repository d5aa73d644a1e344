// A scripted API server for watcher and informer tests: a FakeTransport (list answers queued by
// the test, watch streams driven by hand) under a real REST client, and a FakeExecutor so every
// informer step runs on the test thread when the test says so.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/cache/informer.h"
#include "controller/kube/client.h"
#include "test/controller/runtime/fake_executor.h"
#include "test/support/fake_transport.h"

namespace rio::testing {

using Json = nlohmann::json;

inline Json configMap(const std::string& name, const std::string& rv, Json labels = Json::object(),
                      const std::string& ns = "demo") {
  return Json{{"metadata",
               {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}, {"labels", labels}}},
              {"data", {{"k", rv}}}};
}

inline std::string listBody(const std::vector<Json>& items, const std::string& rv,
                            const std::string& cont = "") {
  Json list{{"kind", "ConfigMapList"},
            {"apiVersion", "v1"},
            {"metadata", {{"resourceVersion", rv}}},
            {"items", items}};
  if (!cont.empty()) list["metadata"]["continue"] = cont;
  return list.dump();
}

inline std::string eventLine(const std::string& type, const Json& object) {
  return Json{{"type", type}, {"object", object}}.dump() + "\n";
}

inline std::string bookmarkLine(const std::string& rv, bool initialEventsEnd = false) {
  Json object{{"kind", "ConfigMap"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", rv}}}};
  if (initialEventsEnd) object["metadata"]["annotations"] = {{"k8s.io/initial-events-end", "true"}};
  return eventLine("BOOKMARK", object);
}

inline std::string statusBody(int code, const std::string& reason,
                              const std::string& message = "failed") {
  return Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", message}}
      .dump();
}

struct CacheFixture {
  std::shared_ptr<FakeExecutor> executor = std::make_shared<FakeExecutor>();
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  kube::ClientPtr client;
  cache::InformerOptions options;
  cache::InformerPtr informer;
  std::vector<std::string> events;  // "add x@1", "update x@1->2", "delete x@3"

  CacheFixture() : CacheFixture(std::make_shared<FakeExecutor>()) {}
  /// Several fixtures (servers) may share one executor and clock.
  explicit CacheFixture(std::shared_ptr<FakeExecutor> shared) : executor(std::move(shared)) {
    kube::RestConfig config;
    config.server = "https://fake.example:6443";
    kube::ClientOptions co;
    co.clock = executor->clock();
    co.retry.maxRetries = 0;  // the watcher's own retries are under test
    co.sleep = [](std::chrono::nanoseconds) {};
    client = kube::makeClient(transport, config, co);
    options.watcher.resource = kube::resources::kConfigMaps;
    options.watcher.ns = "demo";
    options.watcher.random = [] { return 0.5; };  // no jitter: delays are exact
  }
  ~CacheFixture() {
    if (informer) informer->stop();
    executor->runReady();
    informer.reset();
    executor->shutdown();
  }

  static std::string describe(const cache::ObjectPtr& o) {
    return (*o)["metadata"].value("name", "") + "@" + (*o)["metadata"].value("resourceVersion", "");
  }

  cache::EventHandler recorder() {
    cache::EventHandler h;
    h.onAdd = [this](const cache::ObjectPtr& o, bool initial) {
      events.push_back((initial ? "add (initial) " : "add ") + describe(o));
    };
    h.onUpdate = [this](const cache::ObjectPtr& a, const cache::ObjectPtr& b) {
      events.push_back("update " + describe(a) + "->" + cache::resourceVersionOf(*b));
    };
    h.onDelete = [this](const cache::ObjectPtr& o) { events.push_back("delete " + describe(o)); };
    return h;
  }

  /// Creates the informer with a recording handler and starts it; runs what is ready.
  void start() {
    informer = cache::Informer::create(client, options, executor);
    informer->addEventHandler(recorder());
    informer->start();
    executor->runReady();
  }

  std::vector<http::Request> lists() const { return filter(false); }
  std::vector<http::Request> watches() const { return filter(true); }

  /// The open watch stream, after the server sent 200 headers.
  std::shared_ptr<FakeStream> openStream() {
    auto s = transport->lastStream();
    if (s) s->headers(200);
    return s;
  }
  /// Server data on the current stream, then lets the informer process it.
  void send(const std::string& data) {
    transport->lastStream()->data(data);
    executor->runReady();
  }
  /// The server answers the current watch request with an HTTP error.
  void failStream(int code, const std::string& reason) {
    auto s = transport->lastStream();
    s->headers(code);
    s->data(statusBody(code, reason));
    s->close();
    executor->runReady();
  }
  /// The connection to the server breaks (refused, reset).
  void breakStream() {
    transport->lastStream()->close(Error::transport("connection refused"));
    executor->runReady();
  }
  /// Moves the clock to the next pending timer and runs it; returns how far the clock moved.
  std::chrono::milliseconds runNextTimer() {
    auto next = executor->nextTimer();
    if (!next) return std::chrono::milliseconds(-1);
    auto d = *next - executor->clock()->now();
    if (d.count() > 0) executor->fakeClock().advance(d);
    executor->runReady();
    return std::chrono::duration_cast<std::chrono::milliseconds>(d);
  }

 private:
  std::vector<http::Request> filter(bool watch) const {
    std::vector<http::Request> out;
    for (auto& r : transport->requests()) {
      bool isWatch = r.target.find("watch=1") != std::string::npos;
      if (isWatch == watch) out.push_back(r);
    }
    return out;
  }
};

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace rio::testing
