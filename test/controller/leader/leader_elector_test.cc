#include "controller/leader/leader_elector.h"

#include <regex>

#include <prometheus/registry.h>
#include <catch2/catch.hpp>

#include "controller/helpers/time_format.h"
#include "test/controller/leader/fake_lease_server.h"
#include "test/controller/runtime/fake_executor.h"
#include "test/controller/runtime/metrics_text.h"
#include "test/support/fake_transport.h"

using namespace rio;
using namespace rio::leader;
using namespace std::chrono_literals;
using rio::testing::FakeExecutor;
using rio::testing::FakeLeaseServer;
using rio::testing::FakeTransport;
using Json = nlohmann::json;

namespace {

const std::regex kMicroTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");

// One candidate: its own client and transport, talking to the shared lease server.
struct Candidate {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  LeaderElectorPtr elector;
  int started = 0;
  int lost = 0;
  std::vector<std::string> leaders;

  Candidate(FakeLeaseServer& server, std::shared_ptr<FakeExecutor> executor, std::string identity,
            prometheus::Registry* registry = nullptr) {
    transport->setResponder(server.responder());
    kube::RestConfig config;
    config.server = "https://fake.example:6443";
    kube::ClientOptions co;
    co.clock = executor->clock();
    co.retry.maxRetries = 0;
    co.sleep = [](std::chrono::nanoseconds) {};
    auto client = kube::makeClient(transport, config, co);
    LeaderElectionOptions o;
    o.name = "rio-leader";
    o.identity = std::move(identity);
    o.random = [] { return 0.0; };  // candidate polls exactly every retry period
    if (registry) o.metrics = std::make_shared<LeaderElectionMetrics>(*registry);
    LeaderCallbacks cb;
    cb.onStartedLeading = [this] { ++started; };
    cb.onLost = [this] { ++lost; };
    cb.onNewLeader = [this](const std::string& id) { leaders.push_back(id); };
    auto e = LeaderElector::create(std::make_shared<LeaseLockImpl>(client, "demo", "rio-leader"),
                                   executor, o, cb);
    REQUIRE(e);
    elector = *e;
  }
  bool leading() const { return elector && elector->isLeader(); }
};

struct Fixture {
  std::shared_ptr<FakeExecutor> executor = std::make_shared<FakeExecutor>();
  FakeLeaseServer server;
  ~Fixture() { executor->shutdown(); }

  Json spec() const { return server.spec("demo", "rio-leader"); }
  /// Moves time in 10 ms steps, checking after each that at most one candidate leads.
  void advanceChecking(std::chrono::milliseconds d, const std::vector<Candidate*>& candidates) {
    for (auto left = d; left.count() > 0; left -= 10ms) {
      executor->advance(10ms);
      int leaders = 0;
      for (auto* c : candidates) leaders += c->leading() ? 1 : 0;
      REQUIRE(leaders <= 1);
    }
  }
};

}  // namespace

TEST_CASE("LeaderElector: a candidate creates a missing Lease with client-go's fields and leads",
          "[leader]") {
  Fixture f;
  prometheus::Registry registry;
  Candidate a(f.server, f.executor, "host-a_1", &registry);
  CHECK(testing::sampleValue(registry, R"(leader_election_master_status{name="rio-leader"})") == 0);
  a.elector->start();
  f.executor->runReady();

  REQUIRE(a.leading());
  CHECK(a.started == 1);
  auto post = a.transport->requests().at(1);
  CHECK(post.method == "POST");
  CHECK(post.target == "/apis/coordination.k8s.io/v1/namespaces/demo/leases");
  Json body = Json::parse(post.body);
  CHECK(body["apiVersion"] == "coordination.k8s.io/v1");
  CHECK(body["kind"] == "Lease");
  CHECK(body["metadata"]["name"] == "rio-leader");
  Json spec = f.spec();
  CHECK(spec["holderIdentity"] == "host-a_1");
  CHECK(spec["leaseDurationSeconds"] == 15);
  CHECK(spec["leaseTransitions"] == 0);
  CHECK(std::regex_match(spec["acquireTime"].get<std::string>(), kMicroTime));
  CHECK(spec["renewTime"] == spec["acquireTime"]);
  CHECK(spec["renewTime"] == helpers::formatMicroTime(f.executor->clock()->wallNow()));
  CHECK(testing::sampleValue(registry, R"(leader_election_master_status{name="rio-leader"})") == 1);
  CHECK(a.leaders == std::vector<std::string>{"host-a_1"});
}

TEST_CASE("LeaderElector: the leader renews every retry period with the resourceVersion it read",
          "[leader]") {
  Fixture f;
  Candidate a(f.server, f.executor, "a");
  a.elector->start();
  f.executor->runReady();
  Json first = f.spec();
  auto before = a.transport->requests().size();

  f.executor->advance(1990ms);
  CHECK(a.transport->requests().size() == before);  // nothing before the retry period
  f.executor->advance(10ms);
  auto requests = a.transport->requests();
  REQUIRE(requests.size() == before + 2);
  CHECK(requests[before].method == "GET");
  CHECK(requests[before + 1].method == "PUT");
  CHECK(Json::parse(requests[before + 1].body)["metadata"]["resourceVersion"] == "101");
  Json renewed = f.spec();
  CHECK(renewed["holderIdentity"] == "a");
  CHECK(renewed["acquireTime"] == first["acquireTime"]);
  CHECK(renewed["leaseTransitions"] == 0);
  CHECK(*helpers::parseTimestamp(renewed["renewTime"].get<std::string>()) ==
        *helpers::parseTimestamp(first["renewTime"].get<std::string>()) + 2s);
  f.executor->advance(60s);
  CHECK(a.leading());
  CHECK(a.lost == 0);
}

TEST_CASE("LeaderElector: leadership is lost when no renewal succeeds within the renew deadline",
          "[leader]") {
  Fixture f;
  prometheus::Registry registry;
  Candidate a(f.server, f.executor, "a", &registry);
  a.elector->start();
  f.executor->runReady();
  REQUIRE(a.leading());
  f.server.setDown(true);

  // The renew cycle starts 2 s after the last success and fails 10 s later: at 12 s.
  f.executor->advance(11990ms);
  CHECK(a.leading());
  CHECK(a.lost == 0);
  f.executor->advance(10ms);
  CHECK_FALSE(a.leading());
  CHECK(a.elector->state() == ElectorState::kLost);
  CHECK(a.lost == 1);
  CHECK(testing::sampleValue(registry, R"(leader_election_master_status{name="rio-leader"})") == 0);

  // Done for good: no more attempts, even when the server is back.
  f.server.setDown(false);
  auto requests = a.transport->requests().size();
  f.executor->advance(60s);
  CHECK(a.transport->requests().size() == requests);
  CHECK(a.lost == 1);
  CHECK_FALSE(a.leading());
}

TEST_CASE("LeaderElector: a renewal that succeeds before the deadline keeps the leadership",
          "[leader]") {
  Fixture f;
  Candidate a(f.server, f.executor, "a");
  a.elector->start();
  f.executor->runReady();
  f.server.setDown(true);
  f.executor->advance(9s);  // attempts at 2, 4, 6, 8 s failed
  f.server.setDown(false);
  f.executor->advance(1s);  // the attempt at 10 s succeeds
  f.executor->advance(30s);
  CHECK(a.leading());
  CHECK(a.lost == 0);
}

TEST_CASE(
    "LeaderElector: another holder's lease is taken over once it expired, with "
    "leaseTransitions incremented",
    "[leader]") {
  Fixture f;
  f.server.put("demo", "rio-leader",
               {{"holderIdentity", "old"},
                {"leaseDurationSeconds", 15},
                {"acquireTime", "2026-01-01T00:00:00.000000Z"},
                {"renewTime", "2026-01-01T00:00:00.000000Z"},
                {"leaseTransitions", 3}});
  Candidate b(f.server, f.executor, "b");
  b.elector->start();
  f.executor->runReady();
  CHECK_FALSE(b.leading());
  CHECK(b.elector->observedLeader() == "old");
  CHECK(b.leaders == std::vector<std::string>{"old"});

  // Expiry counts from when b first saw the record (t=0), on b's clock: polls at 2, 4, ... 14 s
  // see it valid; b tries again the moment it expires, 15 s, not at the next poll (16 s).
  f.executor->advance(14990ms);
  CHECK_FALSE(b.leading());
  f.executor->advance(10ms);
  REQUIRE(b.leading());
  Json spec = f.spec();
  CHECK(spec["holderIdentity"] == "b");
  CHECK(spec["leaseTransitions"] == 4);
  CHECK(spec["acquireTime"] == helpers::formatMicroTime(f.executor->clock()->wallNow()));
  CHECK(b.leaders == std::vector<std::string>{"old", "b"});
}

TEST_CASE("LeaderElector: a holder that keeps renewing keeps the lease from a candidate",
          "[leader]") {
  Fixture f;
  auto renewBy = [&](int n) {
    f.server.put("demo", "rio-leader",
                 {{"holderIdentity", "other"},
                  {"leaseDurationSeconds", 15},
                  {"renewTime", "2026-01-01T00:00:0" + std::to_string(n) + ".000000Z"},
                  {"leaseTransitions", 0}});
  };
  renewBy(0);
  Candidate b(f.server, f.executor, "b");
  b.elector->start();
  for (int i = 1; i <= 9; ++i) {
    f.executor->advance(10s);
    renewBy(i);
    CHECK_FALSE(b.leading());
  }
  CHECK(f.spec()["holderIdentity"] == "other");
}

TEST_CASE(
    "LeaderElector: stop releases the lease and a waiting candidate leads within one retry "
    "period, never two leaders at once",
    "[leader]") {
  Fixture f;
  Candidate a(f.server, f.executor, "a");
  Candidate b(f.server, f.executor, "b");
  a.elector->start();
  f.executor->runReady();
  b.elector->start();
  f.executor->runReady();
  REQUIRE(a.leading());
  REQUIRE_FALSE(b.leading());
  f.advanceChecking(5s, {&a, &b});

  a.elector->stop();
  CHECK_FALSE(a.leading());
  Json released = f.spec();
  CHECK(released["holderIdentity"] == "");
  CHECK(released["leaseDurationSeconds"] == 1);
  CHECK(released["leaseTransitions"] == 0);
  CHECK(std::regex_match(released["renewTime"].get<std::string>(), kMicroTime));
  CHECK(a.lost == 0);  // a requested stop is not a loss

  f.advanceChecking(2s, {&a, &b});
  REQUIRE(b.leading());
  CHECK(f.spec()["holderIdentity"] == "b");
  CHECK(f.spec()["leaseTransitions"] == 1);
  f.advanceChecking(30s, {&a, &b});
  CHECK(b.leading());
}

TEST_CASE(
    "LeaderElector: when the leader dies without releasing, the other takes over after the "
    "lease duration, never two leaders at once",
    "[leader]") {
  Fixture f;
  Candidate a(f.server, f.executor, "a");
  Candidate b(f.server, f.executor, "b");
  a.elector->start();
  f.executor->runReady();
  b.elector->start();
  f.advanceChecking(3s, {&a, &b});  // a renewed at 2 s; b saw it
  a.elector.reset();                // killed: no release, no more renewals

  // b last saw a change at 2 s: valid until 17 s, and b takes it then, between two polls.
  f.advanceChecking(13990ms, {&a, &b});
  CHECK_FALSE(b.leading());
  f.advanceChecking(10ms, {&a, &b});
  CHECK(b.leading());
  CHECK(f.spec()["leaseTransitions"] == 1);
}

TEST_CASE(
    "LeaderElector: a takeover of an expired lease that fails is retried at the next poll, "
    "not in a busy loop",
    "[leader]") {
  Fixture f;
  f.server.put("demo", "rio-leader",
               {{"holderIdentity", "old"},
                {"leaseDurationSeconds", 15},
                {"renewTime", "2026-01-01T00:00:00.000000Z"},
                {"leaseTransitions", 0}});
  Candidate b(f.server, f.executor, "b");
  b.elector->start();
  f.executor->runReady();
  f.executor->advance(14s);
  const int before = f.server.requests();
  // Reads still work; the write at expiry (15 s) fails.
  auto responder = f.server.responder();
  b.transport->setResponder([responder](const http::Request& r) -> Expected<http::Response> {
    if (r.method == "PUT") return fail(Error::timeout("request timed out"));
    return responder(r);
  });
  f.executor->advance(1s);
  CHECK_FALSE(b.leading());
  CHECK(f.server.requests() - before == 1);  // the GET at 15 s; the PUT never reached it
  const int attempts = static_cast<int>(b.transport->requests().size());
  f.executor->advance(1990ms);
  CHECK(static_cast<int>(b.transport->requests().size()) == attempts);
  b.transport->setResponder(responder);
  f.executor->advance(10ms);  // the next poll, one retry period after the failed takeover
  CHECK(b.leading());
}

TEST_CASE(
    "LeaderElector: a leader cut off from the API server gives up before anyone else may "
    "take over",
    "[leader]") {
  Fixture f;
  Candidate a(f.server, f.executor, "a");
  Candidate b(f.server, f.executor, "b");
  a.elector->start();
  f.executor->runReady();
  b.elector->start();
  f.executor->runReady();
  REQUIRE(a.leading());
  a.transport->setResponder([](const http::Request&) -> Expected<http::Response> {
    return fail(Error::timeout("request timed out"));
  });
  // a: last success at 0, loses at 12 s. b: saw the record at 0, may take it at 15 s+.
  f.advanceChecking(12s, {&a, &b});
  CHECK(a.lost == 1);
  CHECK_FALSE(b.leading());
  f.advanceChecking(6s, {&a, &b});
  CHECK(b.leading());
}

TEST_CASE("LeaderElector: two candidates racing for a missing Lease: exactly one wins",
          "[leader]") {
  Fixture f;
  Candidate a(f.server, f.executor, "a");
  Candidate b(f.server, f.executor, "b");
  a.elector->start();
  b.elector->start();
  f.executor->runReady();
  CHECK(a.leading() != b.leading());
  f.advanceChecking(20s, {&a, &b});
  CHECK(a.leading() != b.leading());
  CHECK(f.server.spec("demo", "rio-leader")["leaseTransitions"] == 0);
}

TEST_CASE("LeaderElector: options are checked as client-go checks them", "[leader]") {
  LeaderElectionOptions o;
  o.name = "x";
  o.identity = "me";
  CHECK(validate(o));
  auto bad = [](LeaderElectionOptions o) { return validate(o).error().message(); };
  o.leaseDuration = 10s;
  CHECK_THAT(bad(o), Catch::Contains("must be greater than the renew deadline"));
  o.leaseDuration = 15s;
  o.retryPeriod = 9s;
  CHECK_THAT(bad(o), Catch::Contains("1.2 x the retry period"));
  o.retryPeriod = 2s;
  o.identity = "";
  CHECK_THAT(bad(o), Catch::Contains("identity"));
}

TEST_CASE("LeaderElector: the default identity is the host name, an underscore and a UUID",
          "[leader]") {
  std::string a = defaultIdentity();
  CHECK(std::regex_match(
      a, std::regex(R"(.+_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})")));
  CHECK(defaultIdentity() != a);
}
