#include "controller/leader/lease_lock.h"

#include <catch2/catch.hpp>

#include "controller/helpers/time_format.h"
#include "test/controller/leader/fake_lease_server.h"
#include "test/support/fake_transport.h"

using namespace rio;
using namespace rio::leader;
using rio::testing::FakeLeaseServer;
using rio::testing::FakeTransport;
using Json = nlohmann::json;

namespace {

kube::ClientPtr clientFor(const std::shared_ptr<FakeTransport>& transport) {
  kube::RestConfig config;
  config.server = "https://fake.example:6443";
  kube::ClientOptions co;
  co.retry.maxRetries = 0;
  co.sleep = [](std::chrono::nanoseconds) {};
  return kube::makeClient(transport, config, co);
}

}  // namespace

TEST_CASE(
    "LeaseLock: the record reads and writes the Lease spec as the recorded API server "
    "answer has it",
    "[leader]") {
  // The spec of test/fixtures/kube-apiserver-1.32/lease-create.txt.
  Json spec = Json::parse(R"({"holderIdentity":"a_1","leaseDurationSeconds":15,
      "acquireTime":"2026-01-01T00:00:00.000000Z","renewTime":"2026-01-01T00:00:00.000000Z",
      "leaseTransitions":0})");
  auto record = LeaderElectionRecord::fromLeaseSpec(spec);
  CHECK(record.holderIdentity == "a_1");
  CHECK(record.leaseDurationSeconds == 15);
  CHECK(record.leaseTransitions == 0);
  REQUIRE(record.renewTime);
  CHECK(helpers::formatMicroTime(*record.renewTime) == "2026-01-01T00:00:00.000000Z");
  CHECK(record.toLeaseSpec() == spec);
}

TEST_CASE("LeaseLock: an update carries the resourceVersion read, so a stale writer gets 409",
          "[leader]") {
  FakeLeaseServer server;
  auto t1 = std::make_shared<FakeTransport>();
  auto t2 = std::make_shared<FakeTransport>();
  t1->setResponder(server.responder());
  t2->setResponder(server.responder());
  LeaseLockImpl one(clientFor(t1), "demo", "l");
  LeaseLockImpl two(clientFor(t2), "demo", "l");

  CHECK(one.get().error().isNotFound());
  LeaderElectionRecord r;
  r.holderIdentity = "one";
  r.leaseDurationSeconds = 15;
  REQUIRE(one.create(r));
  CHECK(two.create(r).error().isAlreadyExists());
  REQUIRE(two.get());
  r.holderIdentity = "two";
  REQUIRE(two.update(r));      // two read the latest version
  auto stale = one.update(r);  // one still holds the version it created
  REQUIRE_FALSE(stale);
  CHECK(stale.error().isConflict());
  CHECK(server.spec("demo", "l")["holderIdentity"] == "two");
}

TEST_CASE("LeaseLock: update before any read is refused without a request", "[leader]") {
  auto t = std::make_shared<FakeTransport>();
  LeaseLockImpl lock(clientFor(t), "demo", "l");
  auto r = lock.update({});
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::kInternal);
  CHECK(t->requests().empty());
}
