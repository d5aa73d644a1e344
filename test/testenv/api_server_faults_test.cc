// Fault injection, request accounting, the admin endpoint, persistence and concurrent use.
#include <thread>

#include <catch2/catch.hpp>

#include "test/support/temp_dir.h"
#include "test/testenv/testing/harness.h"

using namespace rio;
using namespace rio::testenv;
using namespace rio::testenv::testing;

TEST_CASE("Faults: error rules answer 429 with Retry-After, 500 and 503 for matching requests only",
          "[testenv][faults]") {
  Harness h;
  h.server->setErrorRules({{429, 1.0, "list", "configmaps", 7}});
  auto limited = h.get("/api/v1/namespaces/demo/configmaps");
  CHECK(limited.status == 429);
  CHECK(limited.header("Retry-After") == "7");
  CHECK(limited.body["reason"] == "TooManyRequests");
  CHECK(limited.body["details"]["retryAfterSeconds"] == 7);
  CHECK(h.get("/api/v1/namespaces/demo/secrets").status == 200);
  CHECK(h.get("/api/v1/namespaces/demo/configmaps/kube-root-ca.crt").status == 200);
  h.server->setErrorRules({{500, 1.0, "", "", 1}});
  auto internal = h.get("/api/v1/namespaces/demo/secrets");
  CHECK(internal.status == 500);
  CHECK(internal.body["reason"] == "InternalError");
  h.server->setErrorRules({{503, 1.0, "create", "", 2}});
  auto unavailable = h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"x"}})");
  CHECK(unavailable.status == 503);
  CHECK(unavailable.header("Retry-After") == "2");
  h.server->setErrorRules({});
  CHECK(h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"x"}})").status == 201);
}

TEST_CASE("Faults: an error rate applies to about that fraction of requests", "[testenv][faults]") {
  Harness h;  // seeded: the dice are deterministic
  h.server->setErrorRules({{503, 0.3, "get", "", 1}});
  int failed = 0;
  for (int i = 0; i < 1000; ++i) failed += h.get("/api/v1/namespaces/demo").status == 503 ? 1 : 0;
  CHECK(failed > 220);
  CHECK(failed < 380);
}

TEST_CASE("Faults: latency delays the answer until the timer fires", "[testenv][faults]") {
  Harness h;
  h.server->setLatency(std::chrono::milliseconds(250));
  auto r = h.get("/api/v1/namespaces/demo");
  CHECK_FALSE(r.exchange->responded());
  h.world.scheduler->advance(std::chrono::milliseconds(249));
  CHECK_FALSE(r.exchange->responded());
  h.world.scheduler->advance(std::chrono::milliseconds(1));
  CHECK(r.exchange->status() == 200);
}

TEST_CASE("Faults: a blackhole accepts requests and never answers, the admin endpoint excepted",
          "[testenv][faults]") {
  Harness h;
  h.server->setBlackhole(true);
  auto r = h.get("/api/v1/namespaces/demo");
  h.world.scheduler->advance(std::chrono::hours(1));
  CHECK_FALSE(r.exchange->responded());
  auto admin = h.get("/_testenv/faults");
  REQUIRE(admin.status == 200);
  CHECK(admin.body["blackhole"] == true);
  auto off = h.call("PUT", "/_testenv/faults", R"({"blackhole":false})");
  CHECK(off.status == 200);
  CHECK(h.get("/api/v1/namespaces/demo").status == 200);
  h.server->releaseBlackholed();
  CHECK(r.exchange->closed());
}

TEST_CASE("Faults: the admin endpoint drives faults and watches and is for cluster admins only",
          "[testenv][faults][admin]") {
  Harness h;
  CHECK(h.call("GET", "/_testenv/faults", {}, {}, "alice-token").status == 403);
  auto set = h.call(
      "PUT", "/_testenv/faults",
      R"({"latencyMs":0,"errors":[{"code":429,"rate":1,"verb":"watch","retryAfterSeconds":3}],"closeWatchesAfterEvents":4})");
  REQUIRE(set.status == 200);
  CHECK(h.server->faults().closeWatchesAfterEvents == std::optional<std::size_t>(4));
  CHECK(h.server->faults().errors.size() == 1);
  CHECK(h.watch("/api/v1/namespaces/demo/configmaps?watch=1").status == 429);
  CHECK(h.call("PUT", "/_testenv/faults", R"({"errors":[{"code":404}]})").status == 400);
  h.call("PUT", "/_testenv/faults", R"({})");
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" +
                   std::to_string(h.server->resourceVersion()));
  CHECK(h.get("/_testenv/watches").body["active"] == 1);
  CHECK(h.post("/_testenv/watches/drop", "").status == 200);
  CHECK(w.exchange->finished());
  CHECK(h.post("/_testenv/watches/expire", "").status == 200);
  CHECK(h.call("PUT", "/_testenv/deployments/delay", R"({"ms":1000})").status == 200);
  CHECK(h.get("/_testenv/nope").status == 404);
}

TEST_CASE(
    "Accounting: requests are counted by verb, resource and code, readable as a struct and as JSON",
    "[testenv][accounting]") {
  Harness h;
  h.server->resetStats();
  h.get("/api/v1/namespaces/demo/configmaps");
  h.get("/api/v1/namespaces/demo/configmaps/missing");
  h.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"a"}})");
  h.patch("/apis/apps/v1/namespaces/demo/deployments/none/status", "{}",
          "application/merge-patch+json");
  h.get("/version");
  auto stats = h.server->stats();
  CHECK(stats.total == 5);
  CHECK(stats.writes == 2);
  CHECK(stats.count("list", "configmaps") == 1);
  CHECK(stats.count("get", "configmaps", 404) == 1);
  CHECK(stats.count("create", "configmaps", 201) == 1);
  CHECK(stats.count("patch", "deployments.apps/status", 404) == 1);
  CHECK(stats.count("get") == 2);  // the 404 get and /version
  auto json = h.get("/_testenv/requests").body;
  CHECK(json["total"] == 5);  // the admin request is counted once it is answered
  CHECK(json["writes"] == 2);
  bool found = false;
  for (const auto& r : json["requests"]) {
    if (r["verb"] == "create" && r["resource"] == "configmaps" && r["code"] == 201)
      found = r["count"] == 1;
  }
  CHECK(found);
  h.call("DELETE", "/_testenv/requests");
  CHECK(h.server->stats().total == 1);  // the DELETE itself
}

TEST_CASE("Accounting: each answered request is reported once to onRequest",
          "[testenv][accounting]") {
  ApiServerOptions o = Harness::defaultOptions();
  std::vector<RequestRecord> records;
  std::mutex mu;
  o.onRequest = [&](const RequestRecord& r) {
    std::lock_guard lock(mu);
    records.push_back(r);
  };
  Harness h(o);
  records.clear();
  h.call("GET", "/api/v1/namespaces/demo/configmaps?limit=1", {}, {}, "alice-token");
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1");
  REQUIRE(records.size() == 2);
  CHECK(records[0].method == "GET");
  CHECK(records[0].target == "/api/v1/namespaces/demo/configmaps?limit=1");
  CHECK(records[0].user == "alice");
  CHECK(records[0].verb == "list");
  CHECK(records[0].code == 200);
  CHECK(records[1].verb == "watch");
}

TEST_CASE("Persistence: objects and the resourceVersion counter survive save and load",
          "[testenv][persistence]") {
  rio::testing::TempDir dir;
  std::string path = dir.path() + "/state.json";
  std::string uid;
  std::uint64_t rv = 0;
  {
    Harness h;
    REQUIRE(h.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                   recordedRequest("crd-create.txt"))
                .status == 201);
    h.world.scheduler->runDue();
    REQUIRE(h.post("/apis/example.com/v1/namespaces/demo/widgets", recordedRequest("cr-create.txt"))
                .status == 201);
    auto svc =
        h.post("/api/v1/namespaces/demo/services", recordedRequest("service-create-defaults.txt"));
    REQUIRE(svc.status == 201);
    uid = svc.body["metadata"]["uid"];
    rv = h.server->resourceVersion();
    REQUIRE(h.server->save(path));
  }
  Harness h2(Harness::defaultOptions(), false);
  REQUIRE(h2.server->load(path));
  CHECK(h2.server->resourceVersion() == rv);
  auto svc = h2.get("/api/v1/namespaces/demo/services/s1");
  REQUIRE(svc.status == 200);
  CHECK(svc.body["metadata"]["uid"] == uid);
  CHECK(h2.get("/apis/example.com/v1/namespaces/demo/widgets/w1").status == 200);
  auto next = h2.post("/api/v1/namespaces/demo/configmaps", R"({"metadata":{"name":"after"}})");
  CHECK(std::stoull(next.body["metadata"]["resourceVersion"].get<std::string>()) == rv + 1);
  // The restored cluster IP is still taken.
  auto dup = h2.post("/api/v1/namespaces/demo/services",
                     R"({"metadata":{"name":"s2"},"spec":{"clusterIP":")" +
                         svc.body["spec"]["clusterIP"].get<std::string>() +
                         R"(","ports":[{"port":80}]}})");
  CHECK(dup.status == 422);
  // Watches cannot resume from before the restart: history starts empty.
  auto w = h2.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=1");
  CHECK(w.events()[0]["object"]["code"] == 410);
  CHECK_FALSE(h2.server->load(dir.path() + "/missing.json"));
}

TEST_CASE("Concurrency: requests from several threads keep one consistent resourceVersion sequence",
          "[testenv][concurrency]") {
  Harness h;
  auto w = h.watch("/api/v1/namespaces/demo/configmaps?watch=1&resourceVersion=" +
                   std::to_string(h.server->resourceVersion()));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 50; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto ex = std::make_shared<rio::testing::FakeExchange>();
        h.server->handle(makeRequest("POST", "/api/v1/namespaces/demo/configmaps",
                                     R"({"metadata":{"name":")" + name + R"("}})",
                                     {{"Authorization", "Bearer admin-token"},
                                      {"Content-Type", "application/json"}}),
                         ex);
        auto ex2 = std::make_shared<rio::testing::FakeExchange>();
        h.server->handle(makeRequest("GET", "/api/v1/namespaces/demo/configmaps?limit=5", "",
                                     {{"Authorization", "Bearer admin-token"}}),
                         ex2);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto events = w.events();
  REQUIRE(events.size() == 200);
  std::uint64_t last = 0;
  for (const auto& e : events) {
    auto rv = std::stoull(e["object"]["metadata"]["resourceVersion"].get<std::string>());
    CHECK(rv > last);
    last = rv;
  }
  CHECK(h.get("/api/v1/namespaces/demo/configmaps").body["items"].size() == 201);
}
