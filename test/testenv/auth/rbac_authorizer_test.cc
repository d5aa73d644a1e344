#include "test/testenv/rbac_authorizer.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "test/testenv/auth/rbac_fixtures.h"

using namespace rio::testenv;
using namespace rio::testenv::testing;

namespace {

bool allowed(Authorizer& a, const UserInfo& u, const Attributes& attrs) {
  return a.authorize(u, attrs).allowed;
}

// The recorded kube-apiserver 1.32 answer for `GET /api/v1/namespaces/demo/secrets` as demo:bot.
std::string recordedForbiddenMessage() {
  std::ifstream in(std::string(RIO_SOURCE_DIR) +
                   "/test/fixtures/kube-apiserver-1.32/forbidden-403.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto body = text.find("\n{", text.find("--- response"));
  return nlohmann::json::parse(text.substr(body + 1)).at("message").get<std::string>();
}

}  // namespace

TEST_CASE("RBAC: a Role bound by a RoleBinding grants its rules in that namespace only",
          "[testenv][rbac]") {
  RbacStore store;
  store.add(role("demo", "cm-reader",
                 json::array({rule({""}, {"configmaps"}, {"get", "list", "watch"})})));
  store.add(
      roleBinding("demo", "bot-cm", "Role", "cm-reader", json::array({saSubject("demo", "bot")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");

  CHECK(allowed(*authz, bot, request("list", "", "configmaps", "demo")));
  CHECK(allowed(*authz, bot, request("get", "", "configmaps", "demo", "c1")));
  CHECK_FALSE(allowed(*authz, bot, request("create", "", "configmaps", "demo")));
  CHECK_FALSE(allowed(*authz, bot, request("list", "", "configmaps", "other")));
  CHECK_FALSE(allowed(*authz, bot, request("list", "", "configmaps", "")));  // all namespaces
  CHECK_FALSE(allowed(*authz, bot, request("list", "", "secrets", "demo")));
  CHECK_FALSE(
      allowed(*authz, serviceAccount("demo", "other"), request("list", "", "configmaps", "demo")));
}

TEST_CASE(
    "RBAC: a ClusterRole grants per namespace through a RoleBinding and everywhere through a "
    "ClusterRoleBinding",
    "[testenv][rbac]") {
  RbacStore store;
  store.add(
      clusterRole("lease-editor", json::array({rule({"coordination.k8s.io"}, {"leases"}, {"*"})})));
  store.add(clusterRole("node-reader", json::array({rule({""}, {"nodes"}, {"get", "list"})})));
  store.add(roleBinding("istio-system", "op-leases", "ClusterRole", "lease-editor",
                        json::array({saSubject("rio", "operator")})));
  store.add(
      clusterRoleBinding("op-nodes", "node-reader", json::array({saSubject("rio", "operator")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto op = serviceAccount("rio", "operator");

  CHECK(allowed(*authz, op,
                request("update", "coordination.k8s.io", "leases", "istio-system", "lock")));
  CHECK_FALSE(
      allowed(*authz, op, request("update", "coordination.k8s.io", "leases", "rio", "lock")));
  CHECK_FALSE(allowed(*authz, op, request("list", "coordination.k8s.io", "leases", "")));
  CHECK(allowed(*authz, op, request("list", "", "nodes", "")));
  CHECK(allowed(*authz, op, request("get", "", "nodes", "", "node-1")));
  CHECK_FALSE(allowed(*authz, op, request("delete", "", "nodes", "", "node-1")));
}

TEST_CASE("RBAC: Group and User subjects match the caller's groups and name", "[testenv][rbac]") {
  RbacStore store;
  store.add(clusterRole("pod-reader", json::array({rule({""}, {"pods"}, {"get", "list"})})));
  store.add(clusterRoleBinding("all-sas-in-demo", "pod-reader",
                               json::array({groupSubject("system:serviceaccounts:demo")})));
  store.add(clusterRoleBinding("alice", "pod-reader", json::array({userSubject("alice")})));
  store.add(roleBinding("ops", "ops-team", "ClusterRole", "pod-reader",
                        json::array({groupSubject("ops")})));
  auto authz = makeRbacAuthorizer(store.fn());

  CHECK(allowed(*authz, serviceAccount("demo", "anyone"),
                request("list", "", "pods", "kube-system")));
  CHECK_FALSE(allowed(*authz, serviceAccount("prod", "anyone"),
                      request("list", "", "pods", "kube-system")));
  CHECK(allowed(*authz, user("alice"), request("list", "", "pods", "")));
  CHECK_FALSE(allowed(*authz, user("alicia"), request("list", "", "pods", "")));
  CHECK(allowed(*authz, user("carol", {"ops", "system:authenticated"}),
                request("get", "", "pods", "ops", "p")));
  CHECK_FALSE(allowed(*authz, user("carol", {"ops", "system:authenticated"}),
                      request("get", "", "pods", "dev", "p")));
}

TEST_CASE(
    "RBAC: ServiceAccount subjects need a namespace in a ClusterRoleBinding and default to the "
    "RoleBinding's",
    "[testenv][rbac]") {
  RbacStore store;
  store.add(clusterRole("secret-reader", json::array({rule({""}, {"secrets"}, {"get"})})));
  store.add(clusterRoleBinding("no-ns", "secret-reader", json::array({saSubject("", "bot")})));
  store.add(roleBinding("demo", "implicit-ns", "ClusterRole", "secret-reader",
                        json::array({saSubject("", "bot")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");

  CHECK(allowed(*authz, bot, request("get", "", "secrets", "demo", "s")));
  CHECK_FALSE(allowed(*authz, bot, request("get", "", "secrets", "prod", "s")));
  CHECK_FALSE(
      allowed(*authz, serviceAccount("prod", "bot"), request("get", "", "secrets", "demo", "s")));
  // A user who merely carries the same name is not the service account.
  CHECK_FALSE(allowed(*authz, user("bot"), request("get", "", "secrets", "demo", "s")));
}

TEST_CASE("RBAC: resourceNames allow named verbs but never list, watch, create or deletecollection",
          "[testenv][rbac]") {
  RbacStore store;
  store.add(role(
      "istio-system", "one-secret",
      json::array({rule({""}, {"secrets"},
                        {"get", "list", "watch", "create", "update", "delete", "deletecollection"},
                        {"cacerts"})})));
  store.add(roleBinding("istio-system", "b", "Role", "one-secret",
                        json::array({saSubject("rio", "op")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto op = serviceAccount("rio", "op");

  CHECK(allowed(*authz, op, request("get", "", "secrets", "istio-system", "cacerts")));
  CHECK(allowed(*authz, op, request("update", "", "secrets", "istio-system", "cacerts")));
  CHECK(allowed(*authz, op, request("delete", "", "secrets", "istio-system", "cacerts")));
  CHECK_FALSE(allowed(*authz, op, request("get", "", "secrets", "istio-system", "other")));
  CHECK_FALSE(allowed(*authz, op, request("list", "", "secrets", "istio-system")));
  CHECK_FALSE(allowed(*authz, op, request("watch", "", "secrets", "istio-system")));
  CHECK_FALSE(allowed(*authz, op, request("create", "", "secrets", "istio-system")));
  CHECK_FALSE(allowed(*authz, op, request("deletecollection", "", "secrets", "istio-system")));
  // A list narrowed to one object by a metadata.name field selector carries that name.
  CHECK(allowed(*authz, op, request("list", "", "secrets", "istio-system", "cacerts")));
}

TEST_CASE("RBAC: subresources need their own grant: resource/subresource, */subresource or *",
          "[testenv][rbac]") {
  RbacStore store;
  store.add(
      clusterRole("tokens", json::array({rule({""}, {"serviceaccounts/token"}, {"create"})})));
  store.add(
      clusterRole("deploy", json::array({rule({"apps"}, {"deployments"}, {"get", "update"})})));
  store.add(
      clusterRole("status", json::array({rule({"apps"}, {"deployments/status"}, {"update"})})));
  store.add(
      clusterRole("any-status", json::array({rule({"example.com"}, {"*/status"}, {"patch"})})));
  store.add(clusterRole("everything", json::array({rule({"policy"}, {"*"}, {"get"})})));
  json subjects = json::array({saSubject("rio", "op")});
  for (const char* r : {"tokens", "deploy", "status", "any-status", "everything"}) {
    store.add(clusterRoleBinding(std::string("b-") + r, r, subjects));
  }
  auto authz = makeRbacAuthorizer(store.fn());
  auto op = serviceAccount("rio", "op");

  CHECK(allowed(*authz, op, request("create", "", "serviceaccounts", "demo", "bot", "token")));
  CHECK_FALSE(allowed(*authz, op, request("create", "", "serviceaccounts", "demo")));
  CHECK_FALSE(allowed(*authz, op, request("get", "", "serviceaccounts", "demo", "bot")));

  CHECK(allowed(*authz, op, request("update", "apps", "deployments", "demo", "d")));
  CHECK(allowed(*authz, op, request("update", "apps", "deployments", "demo", "d", "status")));
  CHECK_FALSE(allowed(*authz, op, request("get", "apps", "deployments", "demo", "d", "status")));
  CHECK_FALSE(allowed(*authz, op, request("update", "apps", "deployments", "demo", "d", "scale")));

  CHECK(allowed(*authz, op, request("patch", "example.com", "widgets", "demo", "w", "status")));
  CHECK_FALSE(allowed(*authz, op, request("patch", "example.com", "widgets", "demo", "w")));

  CHECK(
      allowed(*authz, op, request("get", "policy", "poddisruptionbudgets", "demo", "p", "status")));
}

TEST_CASE("RBAC: API groups must match unless the rule says *", "[testenv][rbac]") {
  RbacStore store;
  store.add(clusterRole("core-deploy", json::array({rule({""}, {"deployments"}, {"get"})})));
  store.add(clusterRole("any-group-leases", json::array({rule({"*"}, {"leases"}, {"*"})})));
  store.add(clusterRoleBinding("b1", "core-deploy", json::array({userSubject("u")})));
  store.add(clusterRoleBinding("b2", "any-group-leases", json::array({userSubject("u")})));
  auto authz = makeRbacAuthorizer(store.fn());

  CHECK_FALSE(allowed(*authz, user("u"), request("get", "apps", "deployments", "demo", "d")));
  CHECK(allowed(*authz, user("u"), request("get", "", "deployments", "demo", "d")));
  CHECK(allowed(*authz, user("u"),
                request("deletecollection", "coordination.k8s.io", "leases", "demo")));
  CHECK(allowed(*authz, user("u"), request("watch", "anything.io", "leases", "")));
}

TEST_CASE("RBAC: nonResourceURLs match exactly or by a trailing * prefix", "[testenv][rbac]") {
  RbacStore store;
  store.add(clusterRole("metrics",
                        json::array({urlRule({"/metrics"}, {"get"}), urlRule({"/logs/*"}, {"get"}),
                                     urlRule({"/debug*"}, {"*"})})));
  store.add(clusterRoleBinding("b", "metrics", json::array({userSubject("scraper")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto scraper = user("scraper");

  CHECK(allowed(*authz, scraper, pathRequest("get", "/metrics")));
  CHECK_FALSE(allowed(*authz, scraper, pathRequest("post", "/metrics")));
  CHECK_FALSE(allowed(*authz, scraper, pathRequest("get", "/metrics/extra")));
  CHECK(allowed(*authz, scraper, pathRequest("get", "/logs/kube-apiserver.log")));
  CHECK_FALSE(allowed(*authz, scraper, pathRequest("get", "/logs")));
  CHECK(allowed(*authz, scraper, pathRequest("put", "/debug/pprof/heap")));
  CHECK(allowed(*authz, scraper, pathRequest("get", "/debugging")));
  // A resource rule never grants a path, nor a path rule a resource.
  CHECK_FALSE(allowed(*authz, scraper, request("get", "", "metrics", "")));
}

TEST_CASE("RBAC: every authenticated caller may discover the API and review its own access",
          "[testenv][rbac][bootstrap]") {
  RbacStore store;  // a fresh cluster: only the bootstrap policy
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");

  for (const char* path : {"/version", "/api", "/api/v1", "/apis", "/apis/apps/v1", "/healthz",
                           "/readyz", "/livez", "/openapi/v3", "/openapi/v3/apis/apps/v1"}) {
    INFO(path);
    CHECK(allowed(*authz, bot, pathRequest("get", path)));
  }
  CHECK_FALSE(allowed(*authz, bot, pathRequest("get", "/metrics")));
  CHECK_FALSE(allowed(*authz, bot, pathRequest("post", "/api")));
  CHECK(allowed(*authz, bot,
                request("create", "authorization.k8s.io", "selfsubjectaccessreviews", "")));
  CHECK(allowed(*authz, bot,
                request("create", "authorization.k8s.io", "selfsubjectrulesreviews", "")));
  CHECK(allowed(*authz, bot, request("create", "authentication.k8s.io", "selfsubjectreviews", "")));
  CHECK_FALSE(
      allowed(*authz, bot, request("create", "authorization.k8s.io", "subjectaccessreviews", "")));
  CHECK_FALSE(allowed(*authz, bot, request("list", "", "namespaces", "")));
  // Not authenticated (no system:authenticated group): no discovery either.
  CHECK_FALSE(allowed(*authz, user("stranger", {}), pathRequest("get", "/apis")));
}

TEST_CASE("RBAC: system:masters bypasses RBAC entirely", "[testenv][rbac]") {
  RbacStore store;
  auto authz = makeRbacAuthorizer(store.fn());
  auto admin = user("admin", {"system:masters", "system:authenticated"});
  CHECK(admin.isAdmin());
  CHECK(allowed(*authz, admin, request("deletecollection", "", "secrets", "kube-system")));
  CHECK(allowed(*authz, admin, request("impersonate", "", "users", "", "someone")));
  CHECK(allowed(*authz, admin, pathRequest("get", "/metrics")));
  CHECK_FALSE(user("admin").isAdmin());
}

TEST_CASE(
    "RBAC: an aggregated ClusterRole grants the union of the ClusterRoles its selectors match, "
    "live",
    "[testenv][rbac][aggregation]") {
  RbacStore store;
  store.add(aggregatedClusterRole(
      "istio-reader", json::array({{{"matchLabels", {{"rio.io/aggregate-to-reader", "true"}}}}})));
  store.add(clusterRole("cm-read", json::array({rule({""}, {"configmaps"}, {"get"})}),
                        {{"rio.io/aggregate-to-reader", "true"}}));
  store.add(clusterRole("svc-read", json::array({rule({""}, {"services"}, {"get"})}),
                        {{"rio.io/aggregate-to-reader", "true"}}));
  store.add(clusterRole("unlabeled", json::array({rule({""}, {"secrets"}, {"get"})})));
  store.add(clusterRoleBinding("b", "istio-reader", json::array({userSubject("u")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto u = user("u");

  CHECK(allowed(*authz, u, request("get", "", "configmaps", "demo", "c")));
  CHECK(allowed(*authz, u, request("get", "", "services", "demo", "s")));
  CHECK_FALSE(allowed(*authz, u, request("get", "", "secrets", "demo", "s")));

  // A ClusterRole labelled later is aggregated without any restart.
  store.add(clusterRole("ep-read", json::array({rule({""}, {"endpoints"}, {"get"})}),
                        {{"rio.io/aggregate-to-reader", "true"}}));
  CHECK(allowed(*authz, u, request("get", "", "endpoints", "demo", "e")));

  // Rules written directly into an aggregated role are what the controller overwrites: ignored.
  store.objects[0]["rules"] = json::array({rule({""}, {"secrets"}, {"list"})});
  CHECK_FALSE(allowed(*authz, u, request("list", "", "secrets", "demo")));
}

TEST_CASE("RBAC: aggregation follows matchExpressions, nests, and survives selector cycles",
          "[testenv][rbac][aggregation]") {
  RbacStore store;
  store.add(aggregatedClusterRole(
      "outer",
      json::array(
          {{{"matchExpressions",
             json::array({{{"key", "tier"}, {"operator", "In"}, {"values", {"a", "b"}}}})}}})));
  store.add(aggregatedClusterRole("inner", json::array({{{"matchLabels", {{"inner", "yes"}}}}}),
                                  {{"tier", "a"}}));
  store.add(clusterRole("leaf", json::array({rule({"apps"}, {"deployments"}, {"list"})}),
                        {{"inner", "yes"}}));
  store.add(clusterRole("tier-c", json::array({rule({""}, {"pods"}, {"list"})}), {{"tier", "c"}}));
  // A cycle: each selects the other.
  store.add(aggregatedClusterRole("loop-a", json::array({{{"matchLabels", {{"loop", "b"}}}}}),
                                  {{"loop", "a"}}));
  store.add(aggregatedClusterRole("loop-b", json::array({{{"matchLabels", {{"loop", "a"}}}}}),
                                  {{"loop", "b"}}));
  store.add(clusterRoleBinding("b1", "outer", json::array({userSubject("u")})));
  store.add(clusterRoleBinding("b2", "loop-a", json::array({userSubject("u")})));
  auto authz = makeRbacAuthorizer(store.fn());

  CHECK(allowed(*authz, user("u"), request("list", "apps", "deployments", "demo")));
  CHECK_FALSE(allowed(*authz, user("u"), request("list", "", "pods", "demo")));
}

TEST_CASE("RBAC: a denial reads exactly like the recorded kube-apiserver 1.32 message",
          "[testenv][rbac][messages]") {
  RbacStore store;
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");
  Attributes listSecrets = request("list", "", "secrets", "demo");

  Decision d = authz->authorize(bot, listSecrets);
  REQUIRE_FALSE(d.allowed);
  CHECK(
      d.reason ==
      R"(User "system:serviceaccount:demo:bot" cannot list resource "secrets" in API group "" in the namespace "demo")");
  CHECK(forbiddenStatusMessage(listSecrets, d.reason) == recordedForbiddenMessage());
}

TEST_CASE("RBAC: denial messages for cluster scope, names, subresources and paths",
          "[testenv][rbac][messages]") {
  RbacStore store;
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");

  Attributes nodes = request("list", "", "nodes", "");
  CHECK(
      authz->authorize(bot, nodes).reason ==
      R"(User "system:serviceaccount:demo:bot" cannot list resource "nodes" in API group "" at the cluster scope)");
  CHECK(
      forbiddenStatusMessage(nodes, authz->authorize(bot, nodes).reason) ==
      R"(nodes is forbidden: User "system:serviceaccount:demo:bot" cannot list resource "nodes" in API group "" at the cluster scope)");

  Attributes getSecret = request("get", "", "secrets", "demo", "s1");
  std::string reason = authz->authorize(bot, getSecret).reason;
  CHECK(
      reason ==
      R"(User "system:serviceaccount:demo:bot" cannot get resource "secrets" in API group "" in the namespace "demo")");
  CHECK(forbiddenStatusMessage(getSecret, reason) == R"(secrets "s1" is forbidden: )" + reason);

  Attributes status = request("update", "apps", "deployments", "demo", "d", "status");
  reason = authz->authorize(bot, status).reason;
  CHECK(
      reason ==
      R"(User "system:serviceaccount:demo:bot" cannot update resource "deployments/status" in API group "apps" in the namespace "demo")");
  CHECK(forbiddenStatusMessage(status, reason) ==
        R"(deployments.apps "d" is forbidden: )" + reason);

  Attributes metrics = pathRequest("get", "/metrics");
  reason = authz->authorize(bot, metrics).reason;
  CHECK(reason == R"(User "system:serviceaccount:demo:bot" cannot get path "/metrics")");
  CHECK(forbiddenStatusMessage(metrics, reason) == "forbidden: " + reason);

  // The server escapes HTML metacharacters in the message.
  CHECK(forbiddenMessage(user("<b>&"), pathRequest("get", "/x")) ==
        R"(User "&lt;b&gt;&amp;" cannot get path "/x")");
}

TEST_CASE("RBAC: a binding to a missing role adds the RBAC resolution error to the denial",
          "[testenv][rbac][messages]") {
  RbacStore store;
  store.add(
      roleBinding("demo", "dangling", "Role", "gone", json::array({saSubject("demo", "bot")})));
  store.add(clusterRoleBinding("dangling-cr", "vanished", json::array({saSubject("demo", "bot")})));
  auto authz = makeRbacAuthorizer(store.fn());

  Decision d = authz->authorize(serviceAccount("demo", "bot"), request("list", "", "pods", "demo"));
  CHECK_FALSE(d.allowed);
  CHECK(
      d.reason ==
      R"(User "system:serviceaccount:demo:bot" cannot list resource "pods" in API group "" in the namespace "demo": RBAC: [clusterrole.rbac.authorization.k8s.io "vanished" not found, role.rbac.authorization.k8s.io "gone" not found])");

  // A RoleBinding's Role is looked up in the binding's own namespace.
  RbacStore other;
  other.add(role("prod", "reader", json::array({rule({""}, {"pods"}, {"list"})})));
  other.add(
      roleBinding("demo", "cross", "Role", "reader", json::array({saSubject("demo", "bot")})));
  auto authz2 = makeRbacAuthorizer(other.fn());
  d = authz2->authorize(serviceAccount("demo", "bot"), request("list", "", "pods", "demo"));
  CHECK_FALSE(d.allowed);
  CHECK(d.reason.ends_with(R"(: RBAC: role.rbac.authorization.k8s.io "reader" not found)"));
}

TEST_CASE("RBAC: bindings written after the authorizer was made take effect on the next request",
          "[testenv][rbac]") {
  RbacStore store;
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");
  CHECK_FALSE(allowed(*authz, bot, request("list", "", "pods", "demo")));
  store.add(role("demo", "pods", json::array({rule({""}, {"pods"}, {"list"})})));
  store.add(roleBinding("demo", "pods", "Role", "pods", json::array({saSubject("demo", "bot")})));
  CHECK(allowed(*authz, bot, request("list", "", "pods", "demo")));
  store.objects.pop_back();
  CHECK_FALSE(allowed(*authz, bot, request("list", "", "pods", "demo")));
}

TEST_CASE("RBAC: a stored bootstrap role replaces the built-in one", "[testenv][rbac][bootstrap]") {
  RbacStore store;
  store.add(clusterRole("system:discovery", json::array({urlRule({"/version"}, {"get"})})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");
  CHECK(allowed(*authz, bot, pathRequest("get", "/version")));
  CHECK_FALSE(allowed(*authz, bot, pathRequest("get", "/apis")));
  CHECK(bootstrapClusterRoles().size() == bootstrapClusterRoleBindings().size());
}

TEST_CASE("RBAC: rulesFor answers in the SelfSubjectRulesReview status shape",
          "[testenv][rbac][rules-review]") {
  RbacStore store;
  store.add(role("demo", "cm", json::array({rule({""}, {"configmaps"}, {"get"}, {"c1"})})));
  store.add(roleBinding("demo", "cm", "Role", "cm", json::array({saSubject("demo", "bot")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");

  json status = authz->rulesFor(bot, "demo");
  CHECK(status["incomplete"] == false);
  CHECK_FALSE(status.contains("evaluationError"));
  json expectedCm = {{"verbs", {"get"}},
                     {"apiGroups", {""}},
                     {"resources", {"configmaps"}},
                     {"resourceNames", {"c1"}}};
  json expectedSsar = {{"verbs", {"create"}},
                       {"apiGroups", {"authorization.k8s.io"}},
                       {"resources", {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}}};
  auto contains = [](const json& list, const json& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
  };
  CHECK(contains(status["resourceRules"], expectedCm));
  CHECK(contains(status["resourceRules"], expectedSsar));
  CHECK(contains(
      status["nonResourceRules"],
      json{{"verbs", {"get"}},
           {"nonResourceURLs", {"/healthz", "/livez", "/readyz", "/version", "/version/"}}}));
  // Other namespaces see only the cluster-wide rules.
  CHECK_FALSE(contains(authz->rulesFor(bot, "prod")["resourceRules"], expectedCm));

  store.add(roleBinding("demo", "dangling", "ClusterRole", "gone",
                        json::array({saSubject("demo", "bot")})));
  status = authz->rulesFor(bot, "demo");
  CHECK(status["incomplete"] == false);
  CHECK(status["evaluationError"] == R"(clusterrole.rbac.authorization.k8s.io "gone" not found)");
}

TEST_CASE("RBAC: the admin's rules review shows cluster-admin's wildcards",
          "[testenv][rbac][rules-review]") {
  RbacStore store;
  auto authz = makeRbacAuthorizer(store.fn());
  json status = authz->rulesFor(user("admin", {"system:masters", "system:authenticated"}), "demo");
  CHECK(status["resourceRules"][0] ==
        json{{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}});
  CHECK(status["nonResourceRules"][0] == json{{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}});
}

TEST_CASE("RBAC: with a version, the rules resolved for a user are reused until it changes",
          "[testenv][rbac]") {
  RbacStore store;
  store.add(role("demo", "cm-reader", json::array({rule({""}, {"configmaps"}, {"get"})})));
  auto authz = makeRbacAuthorizer(store.fn(), store.versionFn());
  auto bot = serviceAccount("demo", "bot");
  Attributes get = request("get", "", "configmaps", "demo", "cm");
  CHECK_FALSE(allowed(*authz, bot, get));

  // Written behind the version's back: the resolved rules stand.
  store.objects.push_back(
      roleBinding("demo", "bot-cm", "Role", "cm-reader", json::array({saSubject("demo", "bot")})));
  CHECK_FALSE(allowed(*authz, bot, get));
  // Another user, namespace or group set is resolved on its own.
  Attributes otherNs = get;
  otherNs.ns = "other";
  CHECK_FALSE(allowed(*authz, bot, otherNs));

  ++store.version;
  CHECK(allowed(*authz, bot, get));
  CHECK_FALSE(allowed(*authz, bot, otherNs));
}
