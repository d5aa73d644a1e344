#include "reconcilers/cluster_registry.h"

#include <atomic>
#include <set>

#include <catch2/catch.hpp>

#include "reconcilers/desired/labels.h"
#include "test/support/eventually.h"
#include "test/support/operator_env.h"

using namespace rio;
using namespace rio::reconcilers;
using rio::testing::eventually;
using nlohmann::json;

namespace {

json ownedConfigMap(const std::string& name) {
  desired::Owner owner{"RemoteIstio", "istio-system", "cn-beijing", "cn-beijing"};
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", desired::objectMeta(owner, name, "istio-system")},
          {"data", {{"k", "v"}}}};
}

}  // namespace

TEST_CASE("ClusterRegistry: informers on owned kinds sync and report only the operator's objects", "[registry]") {
  testing::OperatorEnv env;
  ClusterRegistryOptions options;
  options.io = &env.io();
  options.executor = env.executor();
  ClusterRegistry registry(options);
  std::mutex mu;
  std::set<std::string> seen;
  registry.addChangeHandler([&](const std::string& cluster, const cache::ObjectPtr& obj, bool initial) {
    std::lock_guard lock(mu);
    seen.insert(std::string(initial ? "initial " : "") + cluster + ":" + (*obj)["kind"].get<std::string>() + ":" +
                (*obj)["metadata"]["name"].get<std::string>());
  });
  auto remote = env.remoteClient("cn-beijing");
  REQUIRE(remote->create(kube::resources::kNamespaces, {{"metadata", {{"name", "istio-system"}}}}));

  auto rc = registry.connect("cn-beijing", env.remote("cn-beijing").restConfig());
  REQUIRE(rc);
  REQUIRE(eventually([&] { return (*rc)->synced(); }));
  CHECK((*rc)->namespaces()->get({"", "istio-system"}) != nullptr);

  REQUIRE(remote->create(kube::resources::kConfigMaps, ownedConfigMap("ours")));
  json foreign = {{"metadata", {{"name", "theirs"}, {"namespace", "istio-system"}}}, {"data", {{"k", "v"}}}};
  REQUIRE(remote->create(kube::resources::kConfigMaps, foreign));
  auto cms = (*rc)->informer(kube::resources::kConfigMaps);
  REQUIRE(cms);
  REQUIRE(eventually([&] { return cms->get({"istio-system", "ours"}) != nullptr; }));
  CHECK(cms->get({"istio-system", "theirs"}) == nullptr);  // label-selected: not ours, not cached
  REQUIRE(eventually([&] {
    std::lock_guard lock(mu);
    return seen.count("cn-beijing:ConfigMap:ours") == 1;
  }));
  std::lock_guard lock(mu);
  CHECK(seen.count("cn-beijing:ConfigMap:theirs") == 0);
  // What was there before the connection came in its first list; what came later is a change.
  CHECK(seen.count("initial cn-beijing:Namespace:istio-system") == 1);
  CHECK(seen.count("cn-beijing:Namespace:istio-system") == 0);
}

TEST_CASE("ClusterRegistry: a new token is used in place, a new identity rebuilds the connection", "[registry]") {
  testing::OperatorEnv env;
  ClusterRegistryOptions options;
  options.io = &env.io();
  options.executor = env.executor();
  ClusterRegistry registry(options);
  auto config = env.remote("cn-hangzhou").restConfig();
  auto first = registry.connect("cn-hangzhou", config);
  REQUIRE(first);

  // Same server and CA, another token: same connection, requests carry the new token.
  auto bad = config;
  bad.token = std::make_shared<kube::StaticTokenSource>("not-a-valid-token");
  auto same = registry.connect("cn-hangzhou", bad);
  REQUIRE(same);
  CHECK(same->get() == first->get());
  auto denied = (*same)->client()->getPath("/api/v1/namespaces");
  REQUIRE_FALSE(denied);
  CHECK(denied.error().isUnauthorized());
  REQUIRE(registry.connect("cn-hangzhou", config));
  CHECK((*same)->client()->getPath("/api/v1/namespaces"));

  // Another CA (another cluster behind the name): a new connection.
  auto other = env.remote("cn-beijing").restConfig();
  auto rebuilt = registry.connect("cn-hangzhou", other);
  REQUIRE(rebuilt);
  CHECK(rebuilt->get() != first->get());
  CHECK(registry.find("cn-hangzhou") == *rebuilt);
  registry.disconnect("cn-hangzhou");
  CHECK(registry.find("cn-hangzhou") == nullptr);
}
