// Clusters over real HTTPS on loopback: the project's own client against testenv, kubeconfig
// files, client certificates, restart (watches drop, port kept) and the state directory.
#include "test/testenv/cluster.h"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <set>

#include <catch2/catch.hpp>

#include "controller/kube/client.h"
#include "controller/kube/kubeconfig.h"
#include "test/support/eventually.h"
#include "test/support/temp_dir.h"
#include "test/testenv/ipv4.h"
#include "test/testenv/testenv.h"

using namespace rio;
using namespace rio::testenv;
using rio::testing::eventually;

namespace {

// The production transport under the REST client, for a RestConfig.
Expected<kube::ClientPtr> clientFor(IoRuntime& io, const kube::RestConfig& config) {
  auto endpoint = kube::Endpoint::parse(config.server);
  if (!endpoint) return fail(endpoint.error());
  auto transport = kube::makeTransport(io, *endpoint, config.tls);
  if (!transport) return fail(transport.error());
  return kube::makeClient(*transport, config);
}

kube::ClientPtr adminClient(IoRuntime& io, Cluster& c) {
  auto client = clientFor(io, c.restConfig());
  REQUIRE(client);
  return *client;
}

}  // namespace

TEST_CASE("Cluster: the project's client talks HTTPS to a testenv cluster with the admin token",
          "[testenv][cluster]") {
  IoRuntime io(1);
  rio::testing::TempDir dir;
  ClusterOptions o;
  o.name = "hub";
  o.kubeconfigDir = dir.path();
  auto cluster = Cluster::create(io, o);
  REQUIRE(cluster);
  REQUIRE((*cluster)->start());
  CHECK((*cluster)->port() != 0);
  CHECK((*cluster)->url() == "https://127.0.0.1:" + std::to_string((*cluster)->port()));
  auto client = adminClient(io, **cluster);
  auto version = client->getPath("/version");
  REQUIRE(version);
  CHECK((*version)["gitVersion"] == "v1.32.13");
  auto created = client->create(kube::resources::kConfigMaps,
                                {{"apiVersion", "v1"},
                                 {"kind", "ConfigMap"},
                                 {"metadata", {{"name", "c1"}, {"namespace", "default"}}}});
  REQUIRE(created);
  CHECK((*created)["metadata"]["uid"].is_string());
  auto api = client->getPath("/api");
  REQUIRE(api);
  CHECK((*api)["serverAddressByClientCIDRs"][0]["serverAddress"] ==
        "127.0.0.1:" + std::to_string((*cluster)->port()));

  // The kubeconfig file works with the project's own loader.
  auto loaded = kube::loadKubeconfigFiles({(*cluster)->kubeconfigPath()});
  REQUIRE(loaded);
  CHECK(loaded->currentContext == "hub");
  auto config = kube::restConfigFromKubeconfig(*loaded, "");
  REQUIRE(config);
  auto viaFile = clientFor(io, *config);
  REQUIRE(viaFile);
  CHECK((*viaFile)->get(kube::resources::kConfigMaps, {"default", "c1"}));

  // Wrong credentials are 401.
  kube::RestConfig bad = (*cluster)->restConfig();
  bad.token = std::make_shared<kube::StaticTokenSource>("nope");
  auto badClient = clientFor(io, bad);
  REQUIRE(badClient);
  auto denied = (*badClient)->getPath("/version");
  REQUIRE_FALSE(denied);
  CHECK(denied.error().isUnauthorized());
  (*cluster)->stop();
}

TEST_CASE("Cluster: client certificates signed by the cluster CA authenticate",
          "[testenv][cluster][auth]") {
  IoRuntime io(1);
  auto cluster = Cluster::create(io, ClusterOptions{});
  REQUIRE(cluster);
  REQUIRE((*cluster)->start());
  auto cert = (*cluster)->issueClientCertificate("ops", {"system:masters"});
  REQUIRE(cert);
  kube::RestConfig config = (*cluster)->restConfig();
  config.token = nullptr;
  config.tls.clientCertPem = cert->certPem;
  config.tls.clientKeyPem = cert->keyPem;
  auto client = clientFor(io, config);
  REQUIRE(client);
  auto review = (*client)->create(
      kube::Resource{"authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview",
                     false},
      {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}});
  REQUIRE(review);
  CHECK((*review)["status"]["userInfo"]["username"] == "ops");
}

TEST_CASE("Cluster: a restart drops watches and serves again on the same port",
          "[testenv][cluster]") {
  IoRuntime io(1);
  auto cluster = Cluster::create(io, ClusterOptions{});
  REQUIRE(cluster);
  Cluster& c = **cluster;
  REQUIRE(c.start());
  auto port = c.port();
  auto client = adminClient(io, c);
  std::mutex mu;
  std::vector<kube::WatchEvent> events;
  std::optional<std::optional<Error>> closed;
  kube::WatchOptions wo;
  wo.resourceVersion = std::to_string(c.api().resourceVersion());
  auto watch = client->watch(kube::resources::kConfigMaps, "default", wo,
                             {[&](kube::WatchEvent&& e) {
                                std::lock_guard lock(mu);
                                events.push_back(std::move(e));
                              },
                              [&](const std::optional<Error>& e) {
                                std::lock_guard lock(mu);
                                closed = e;
                              }});
  REQUIRE(eventually([&] { return c.api().activeWatches() == 1; }));
  REQUIRE(client->create(kube::resources::kConfigMaps,
                         {{"apiVersion", "v1"},
                          {"kind", "ConfigMap"},
                          {"metadata", {{"name", "w"}, {"namespace", "default"}}}}));
  REQUIRE(eventually([&] {
    std::lock_guard lock(mu);
    return events.size() == 1;
  }));
  REQUIRE(c.restart());
  CHECK(c.port() == port);
  REQUIRE(eventually([&] {
    std::lock_guard lock(mu);
    return closed.has_value();
  }));
  CHECK(c.api().activeWatches() == 0);
  CHECK(client->get(kube::resources::kConfigMaps, {"default", "w"}));
  watch->stop();
}

TEST_CASE("Cluster: a state directory keeps objects, the CA and issued tokens across processes",
          "[testenv][cluster][persistence]") {
  rio::testing::TempDir dir;
  std::string token, ca;
  std::uint64_t rv = 0;
  {
    IoRuntime io(1);
    ClusterOptions o;
    o.name = "beijing";
    o.stateDir = dir.path();
    auto cluster = Cluster::create(io, o);
    REQUIRE(cluster);
    REQUIRE((*cluster)->start());
    auto client = adminClient(io, **cluster);
    REQUIRE(client->create(kube::resources::kServiceAccounts,
                           {{"apiVersion", "v1"},
                            {"kind", "ServiceAccount"},
                            {"metadata", {{"name", "bot"}, {"namespace", "default"}}}}));
    auto issued =
        client->createSubresource(kube::resources::kServiceAccounts, {"default", "bot"}, "token",
                                  {{"apiVersion", "authentication.k8s.io/v1"},
                                   {"kind", "TokenRequest"},
                                   {"spec", {{"expirationSeconds", 3600}}}});
    REQUIRE(issued);
    token = (*issued)["status"]["token"];
    ca = (*cluster)->caPem();
    rv = (*cluster)->api().resourceVersion();
    (*cluster)->stop();
    io.stop();
  }
  IoRuntime io(1);
  ClusterOptions o;
  o.name = "beijing";
  o.stateDir = dir.path();
  auto cluster = Cluster::create(io, o);
  REQUIRE(cluster);
  REQUIRE((*cluster)->start());
  CHECK((*cluster)->caPem() == ca);
  CHECK((*cluster)->api().resourceVersion() >= rv);
  kube::RestConfig asBot = (*cluster)->restConfig();
  asBot.token = std::make_shared<kube::StaticTokenSource>(token);
  auto bot = clientFor(io, asBot);
  REQUIRE(bot);
  auto review =
      (*bot)->create(kube::Resource{"authentication.k8s.io", "v1", "selfsubjectreviews",
                                    "SelfSubjectReview", false},
                     {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}});
  REQUIRE(review);
  CHECK((*review)["status"]["userInfo"]["username"] == "system:serviceaccount:default:bot");
}

TEST_CASE("Testenv: defaultsFor gives 1,024 clusters pairwise disjoint pod and service CIDRs",
          "[testenv][cluster]") {
  std::vector<Ipv4Cidr> all;
  for (std::size_t i = 0; i < 1024; ++i) {
    auto o = Testenv::defaultsFor("c" + std::to_string(i), i);
    for (const auto& text : {o.apiServer.podCidr, o.apiServer.serviceCidr}) {
      auto cidr = parseCidr(text);
      REQUIRE(cidr);
      all.push_back(*cidr);
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.base < b.base; });
  for (std::size_t k = 1; k < all.size(); ++k) {
    INFO(ipv4String(all[k].base));
    CHECK(all[k - 1].base + all[k - 1].size() <= all[k].base);
  }
  CHECK(Testenv::defaultsFor("x", 0).apiServer.podCidr == "10.0.0.0/18");
  CHECK(Testenv::defaultsFor("x", 999).apiServer.serviceCidr == "172.31.156.0/22");
}

TEST_CASE(
    "Testenv: several clusters share one IoRuntime with distinct ports, CIDRs and kubeconfigs",
    "[testenv][cluster]") {
  IoRuntime io(2);
  rio::testing::TempDir dir;
  Testenv env(io);
  for (std::size_t i = 0; i < 3; ++i) {
    std::string name = std::vector<std::string>{"hub", "beijing", "hangzhou"}[i];
    ClusterOptions o = Testenv::defaultsFor(name, i);
    o.kubeconfigDir = dir.path();
    REQUIRE(env.add(o));
  }
  CHECK_FALSE(env.add(Testenv::defaultsFor("hub", 9)));
  CHECK_FALSE(env.add(Testenv::defaultsFor("Bad_Name", 9)));
  REQUIRE(env.clusters().size() == 3);
  std::set<std::uint16_t> ports;
  std::set<std::string> podCidrs;
  for (auto* c : env.clusters()) {
    ports.insert(c->port());
    auto client = adminClient(io, *c);
    auto nodes = client->list(kube::resources::kNodes, "");
    REQUIRE(nodes);
    podCidrs.insert((*nodes)["items"][0]["spec"]["podCIDR"].get<std::string>());
    CHECK(std::ifstream(c->kubeconfigPath()).good());
  }
  CHECK(ports.size() == 3);
  CHECK(podCidrs == std::set<std::string>{"10.0.0.0/24", "10.0.64.0/24", "10.0.128.0/24"});
  CHECK(env.find("beijing") != nullptr);
  env.stop();
  for (auto* c : env.clusters()) CHECK_FALSE(c->running());
}
