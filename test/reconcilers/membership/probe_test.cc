#include "reconcilers/membership/probe.h"

#include <catch2/catch.hpp>

#include "test/support/operator_env.h"

using namespace rio;
using namespace rio::reconcilers::membership;
using nlohmann::json;

TEST_CASE("Probe: the service CIDR of a testenv cluster is learned without changing anything", "[membership][probe]") {
  testing::OperatorEnv env;
  auto client = env.remoteClient("cn-beijing");
  auto before = env.remote("cn-beijing").api().list(kube::resources::kServices);
  auto cidr = discoverServiceCidr(*client, "default");
  REQUIRE(cidr);
  CHECK(*cidr == "172.16.4.0/22");
  CHECK(env.remote("cn-beijing").api().list(kube::resources::kServices).size() == before.size());
}

TEST_CASE("Probe: /version answers give reachability, version, latency and clock skew", "[membership][probe]") {
  using namespace std::chrono;
  const WallTime sent = sys_days{year{2026} / 11 / 25} + hours{10};
  http::Response ok{200, {{"Date", "Wed, 25 Nov 2026 10:00:07 GMT"}}, R"({"gitVersion":"v1.32.13"})"};
  auto o = interpretVersionAnswer(ok, sent, sent + milliseconds(40), milliseconds(40));
  CHECK(o.answered);
  CHECK(o.reachable);
  CHECK(o.version.gitVersion == "v1.32.13");
  CHECK(o.latency == milliseconds(40));
  REQUIRE(o.clockSkew);
  CHECK(*o.clockSkew == milliseconds(7480));  // 7 s + half the Date's resolution - half the round trip

  auto denied = interpretVersionAnswer(http::Response{401, {}, R"({"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"})"},
                                       sent, sent, milliseconds(1));
  CHECK(denied.answered);
  CHECK_FALSE(denied.reachable);
  CHECK(denied.reason == "Unauthorized");
  CHECK_FALSE(denied.clockSkew);

  auto dead = interpretVersionAnswer(fail(Error::timeout("no answer within 5s")), sent, sent, milliseconds(5000));
  CHECK_FALSE(dead.answered);
  CHECK(dead.reason == "Unreachable");
  CHECK(dead.message == "no answer within 5s");
}

TEST_CASE("Probe: nodes give ready workers, collapsed pod CIDRs and the most common locality", "[membership][probe]") {
  json list = json::parse(R"({"items":[
    {"metadata":{"name":"a","labels":{"topology.kubernetes.io/region":"cn-beijing","topology.kubernetes.io/zone":"cn-beijing-b"}},
     "spec":{"podCIDRs":["10.1.0.0/24"]},"status":{"conditions":[{"type":"Ready","status":"True"}]}},
    {"metadata":{"name":"b","labels":{"topology.kubernetes.io/region":"cn-beijing","topology.kubernetes.io/zone":"cn-beijing-b"}},
     "spec":{"podCIDR":"10.1.1.0/24"},"status":{"conditions":[{"type":"Ready","status":"True"}]}},
    {"metadata":{"name":"c","labels":{"failure-domain.beta.kubernetes.io/region":"cn-beijing","failure-domain.beta.kubernetes.io/zone":"cn-beijing-a"}},
     "spec":{"podCIDRs":["10.1.2.0/24"]},"status":{"conditions":[{"type":"Ready","status":"False"}]}},
    {"metadata":{"name":"cp","labels":{"node-role.kubernetes.io/control-plane":""}},
     "spec":{"podCIDRs":["10.1.3.0/24"]},"status":{"conditions":[{"type":"Ready","status":"True"}]}},
    {"metadata":{"name":"cordoned"},"spec":{"unschedulable":true},"status":{"conditions":[{"type":"Ready","status":"True"}]}}
  ]})");
  auto f = analyzeNodes(list);
  CHECK(f.nodes == 5);
  CHECK(f.readyWorkers == 2);
  CHECK(f.podCIDRs == std::vector<std::string>{"10.1.0.0/22"});
  CHECK(f.region == "cn-beijing");
  CHECK(f.zone == "cn-beijing-b");
  CHECK(analyzeNodes(json::object()).nodes == 0);
}

TEST_CASE("Probe: the allocator's refusal names the service CIDR", "[membership][probe]") {
  CHECK(serviceCidrFromMessage("Service \"x\" is invalid: spec.clusterIPs: Invalid value: [\"203.0.113.1\"]: failed to allocate IP "
                               "203.0.113.1: the provided IP (203.0.113.1) is not in the valid range. The range of valid IPs is "
                               "10.96.0.0/12") == std::optional<std::string>("10.96.0.0/12"));
  CHECK_FALSE(serviceCidrFromMessage("provided IP is already allocated"));
}
