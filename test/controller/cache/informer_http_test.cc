// The informer over real sockets: the production transport, REST client, IoRuntime and shared
// executor against a minimal in-process API server (one namespaced resource with list, watch,
// watch history, compaction, restart and blackholed streams). Real time, with short backoffs;
// every wait is for an observable outcome (eventually), never a fixed sleep.
#include <map>
#include <mutex>

#include <catch2/catch.hpp>

#include "controller/cache/informer.h"
#include "controller/core/io_runtime.h"
#include "controller/http/server.h"
#include "controller/kube/client.h"
#include "test/support/eventually.h"

using namespace rio;
using namespace rio::cache;
using namespace std::chrono_literals;
using rio::testing::eventually;
using Json = nlohmann::json;

namespace {

// ConfigMaps in namespace "demo", as far as an informer needs.
class MiniApiServer {
 public:
  explicit MiniApiServer(IoRuntime& io) : io_(io) {
    server_ = std::make_unique<http::Server>(io, http::ServerOptions{},
                                             [this](http::ServerRequest r, http::ExchangePtr ex) {
                                               handle(std::move(r), std::move(ex));
                                             });
    REQUIRE(server_->start());
  }
  ~MiniApiServer() { server_->stop(); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  void put(const std::string& name) {
    std::lock_guard lock(mu_);
    bool exists = objects_.count(name) != 0;
    Json obj{{"metadata",
              {{"name", name}, {"namespace", "demo"}, {"resourceVersion", std::to_string(++rv_)}}},
             {"data", {{"v", rv_}}}};
    objects_[name] = obj;
    recordLocked(exists ? "MODIFIED" : "ADDED", obj);
  }
  void remove(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = objects_.find(name);
    if (it == objects_.end()) return;
    Json obj = it->second;
    obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
    objects_.erase(it);
    recordLocked("DELETED", obj);
  }
  /// Forgets the watch history: watches from an older resourceVersion get 410 Gone.
  void compact() {
    std::lock_guard lock(mu_);
    history_.clear();
    oldest_ = rv_;
  }
  /// Existing watch streams stay open but receive nothing more (a blackholed connection).
  void silenceStreams() {
    std::lock_guard lock(mu_);
    for (auto& w : watchers_) w.silent = true;
  }
  void stop() { server_->stop(); }
  void start() { REQUIRE(server_->start()); }

  int lists() const {
    std::lock_guard lock(mu_);
    return lists_;
  }
  int watches() const {
    std::lock_guard lock(mu_);
    return watches_;
  }

 private:
  struct Watcher {
    http::ExchangePtr exchange;
    std::string nameFilter;
    bool silent = false;
  };

  static std::string line(const std::string& type, const Json& obj) {
    return Json{{"type", type}, {"object", obj}}.dump() + "\n";
  }

  void recordLocked(const std::string& type, const Json& obj) {
    history_.emplace_back(type, obj);
    for (auto& w : watchers_) {
      if (w.silent || w.exchange->closed()) continue;
      if (!w.nameFilter.empty() && obj["metadata"]["name"] != w.nameFilter) continue;
      w.exchange->write(line(type, obj));
    }
  }

  void handle(http::ServerRequest r, http::ExchangePtr ex) {
    if (r.path != "/api/v1/namespaces/demo/configmaps") {
      ex->respond(404, {}, R"({"kind":"Status","code":404,"reason":"NotFound"})");
      return;
    }
    std::lock_guard lock(mu_);
    if (!r.param("watch")) {
      ++lists_;
      Json items = Json::array();
      for (const auto& [name, obj] : objects_) items.push_back(obj);
      Json list{{"kind", "ConfigMapList"},
                {"apiVersion", "v1"},
                {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                {"items", items}};
      ex->respond(200, {{"Content-Type", "application/json"}}, list.dump());
      return;
    }
    ++watches_;
    Watcher w{ex, "", false};
    if (auto fs = r.param("fieldSelector"); fs && fs->rfind("metadata.name=", 0) == 0) {
      w.nameFilter = fs->substr(14);
    }
    ex->startStream(200, {{"Content-Type", "application/json"}});
    long long from = std::stoll(r.param("resourceVersion").value_or("0"));
    if (from < oldest_) {
      ex->write(line("ERROR", Json{{"kind", "Status"},
                                   {"apiVersion", "v1"},
                                   {"status", "Failure"},
                                   {"reason", "Expired"},
                                   {"code", 410},
                                   {"message", "too old resource version"}}));
      ex->finish();
      return;
    }
    for (const auto& [type, obj] : history_) {
      if (std::stoll(obj["metadata"]["resourceVersion"].get<std::string>()) <= from) continue;
      if (!w.nameFilter.empty() && obj["metadata"]["name"] != w.nameFilter) continue;
      ex->write(line(type, obj));
    }
    if (auto t = r.param("timeoutSeconds")) {
      io_.postAfter(std::chrono::seconds(std::stoi(*t)), [ex] { ex->finish(); });
    }
    watchers_.push_back(std::move(w));
  }

  IoRuntime& io_;
  std::unique_ptr<http::Server> server_;
  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, Json> objects_;
  std::vector<std::pair<std::string, Json>> history_;
  std::vector<Watcher> watchers_;
  long long rv_ = 100;
  long long oldest_ = 0;
  int lists_ = 0;
  int watches_ = 0;
};

struct HttpFixture {
  IoRuntime io{2};
  MiniApiServer api{io};
  std::shared_ptr<runtime::ExecutorImpl> executor = runtime::makeExecutor(2);
  InformerPtr informer;
  std::mutex mu;
  std::vector<std::string> events;

  void start(std::chrono::milliseconds idleTimeout = 0ms) {
    kube::RestConfig config;
    config.server = api.url();
    config.timeout = 2s;
    kube::ClientOptions co;
    co.retry.maxRetries = 0;
    auto endpoint = kube::Endpoint::parse(config.server);
    REQUIRE(endpoint);
    auto transport = kube::makeTransport(io, *endpoint, config.tls);
    REQUIRE(transport);
    auto client = kube::makeClient(*transport, config, co);
    InformerOptions o;
    o.watcher.resource = kube::resources::kConfigMaps;
    o.watcher.ns = "demo";
    o.watcher.backoff.initial = 50ms;
    o.watcher.backoff.max = 500ms;
    o.watcher.outageRetryInterval = 200ms;
    o.watcher.watchIdleTimeout = idleTimeout;
    informer = Informer::create(client, o, executor);
    EventHandler h;
    h.onAdd = [this](const ObjectPtr& obj, bool) {
      record("add " + (*obj)["metadata"]["name"].get<std::string>());
    };
    h.onUpdate = [this](const ObjectPtr&, const ObjectPtr& obj) {
      record("update " + (*obj)["metadata"]["name"].get<std::string>());
    };
    h.onDelete = [this](const ObjectPtr& obj) {
      record("delete " + (*obj)["metadata"]["name"].get<std::string>());
    };
    informer->addEventHandler(h);
    informer->start();
    REQUIRE(informer->waitForSync(10s));
  }
  ~HttpFixture() {
    if (informer) informer->stop();
    executor->shutdown();
    informer.reset();
  }
  void record(std::string e) {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
  }
  bool saw(const std::string& e) {
    std::lock_guard lock(mu);
    return std::find(events.begin(), events.end(), e) != events.end();
  }
};

}  // namespace

TEST_CASE("Informer over HTTP: lists, then follows creates, updates and deletes on the watch",
          "[cache][informer][http]") {
  HttpFixture f;
  f.api.put("a");
  f.start();
  CHECK(f.saw("add a"));
  REQUIRE(eventually([&] { return f.api.watches() == 1; }));
  f.api.put("b");
  f.api.put("a");
  f.api.remove("b");
  CHECK(eventually([&] { return f.saw("delete b"); }));
  CHECK(f.saw("add b"));
  CHECK(f.saw("update a"));
  CHECK(f.informer->store().size() == 1);
  CHECK(f.api.lists() == 1);
}

TEST_CASE(
    "Informer over HTTP: an API server restart mid-stream resumes from the last resourceVersion "
    "without a relist",
    "[cache][informer][http]") {
  HttpFixture f;
  f.api.put("a");
  f.start();
  REQUIRE(eventually([&] { return f.api.watches() == 1; }));
  f.api.stop();  // every connection drops
  f.api.put("b");
  f.api.remove("a");
  f.api.start();
  CHECK(eventually([&] { return f.saw("add b") && f.saw("delete a"); }));
  CHECK(f.api.lists() == 1);
  CHECK(f.informer->store().size() == 1);
  CHECK(f.informer->watcherState() == WatcherState::kWatching);
}

TEST_CASE(
    "Informer over HTTP: 410 from an expired history relists and drops objects deleted meanwhile",
    "[cache][informer][http]") {
  HttpFixture f;
  f.api.put("a");
  f.api.put("b");
  f.start();
  REQUIRE(eventually([&] { return f.api.watches() == 1; }));
  f.api.stop();
  f.api.remove("a");
  f.api.put("c");
  f.api.compact();  // the events above are gone from the history
  f.api.start();
  CHECK(eventually([&] { return f.saw("delete a") && f.saw("add c"); }));
  CHECK(f.api.lists() == 2);
  CHECK_FALSE(f.informer->get({"demo", "a"}));
  CHECK(f.informer->store().size() == 2);
}

TEST_CASE(
    "Informer over HTTP: a blackholed watch is detected by the idle timeout and resumed without a "
    "relist",
    "[cache][informer][http]") {
  HttpFixture f;
  f.start(/*idleTimeout=*/500ms);
  REQUIRE(eventually([&] { return f.api.watches() >= 1; }));
  f.api.silenceStreams();
  f.api.put("x");  // never reaches the silenced stream
  CHECK(eventually([&] { return f.saw("add x"); }));
  CHECK(f.api.watches() >= 2);
  CHECK(f.api.lists() == 1);
}
