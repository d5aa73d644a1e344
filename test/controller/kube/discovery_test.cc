#include "controller/kube/discovery.h"

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "test/support/fake_transport.h"

using namespace rio;
using namespace rio::kube;

namespace {

// The body of a recorded exchange in reference/kube-apiserver-1.32/.
std::string recordedBody(const std::string& file) {
  std::ifstream in(std::string(RIO_SOURCE_DIR) + "/test/fixtures/kube-apiserver-1.32/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  auto pos = all.find("\n\n", all.find("--- response"));
  return pos == std::string::npos ? std::string() : all.substr(pos + 2);
}

}  // namespace

TEST_CASE("ServerVersion: parses gitVersion shapes from real distributions", "[kube][discovery]") {
  auto v = ServerVersion::fromJson(nlohmann::json::parse(recordedBody("version.txt")));
  REQUIRE(v);
  CHECK(v->major == 1);
  CHECK(v->minor == 32);
  CHECK(v->patch == 13);
  CHECK(v->atLeast(1, 10, 4));
  CHECK_FALSE(v->atLeast(1, 33, 0));

  auto eks = ServerVersion::fromJson({{"gitVersion", "v1.10.3-eks-abc"}});
  REQUIRE(eks);
  CHECK_FALSE(eks->atLeast(1, 10, 4));
  auto k3s = ServerVersion::fromJson({{"gitVersion", "v1.28.3+k3s1"}});
  REQUIRE(k3s);
  CHECK(k3s->patch == 3);
  auto gke = ServerVersion::fromJson({{"major", "1"}, {"minor", "27+"}, {"gitVersion", "weird"}});
  REQUIRE(gke);
  CHECK(gke->minor == 27);
  CHECK_FALSE(ServerVersion::fromJson({{"gitVersion", "x"}}));
}

TEST_CASE("Discovery: maps kinds to resources and scope from recorded documents", "[kube][discovery]") {
  auto transport = std::make_shared<testing::FakeTransport>();
  transport->setResponder([](const http::Request& r) -> Expected<http::Response> {
    if (r.target == "/apis/coordination.k8s.io/v1") return http::Response{200, {}, recordedBody("discovery-coordination.k8s.io_v1.txt")};
    if (r.target == "/api/v1") return http::Response{200, {}, recordedBody("discovery-api-v1.txt")};
    return http::Response{404, {}, R"({"kind":"Status","code":404,"reason":"NotFound"})"};
  });
  RestConfig config;
  config.server = "https://fake.example:6443";
  Discovery discovery(makeClient(transport, config));

  auto lease = discovery.resourceFor("coordination.k8s.io/v1", "Lease");
  REQUIRE(lease);
  CHECK(lease->resource == "leases");
  CHECK(lease->namespaced);
  auto ns = discovery.resourceFor("v1", "Namespace");
  REQUIRE(ns);
  CHECK_FALSE(ns->namespaced);
  auto sa = discovery.resourceFor("v1", "ServiceAccount");
  REQUIRE(sa);
  CHECK(sa->resource == "serviceaccounts");
  auto requestsBefore = transport->requests().size();
  REQUIRE(discovery.resourceFor("v1", "Secret"));
  CHECK(transport->requests().size() == requestsBefore);  // cached

  auto missing = discovery.resourceFor("example.com/v1", "Widget");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == "the server does not serve kind Widget in example.com/v1");
}
