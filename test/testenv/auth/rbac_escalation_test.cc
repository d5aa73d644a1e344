#include <catch2/catch.hpp>

#include "test/testenv/auth/rbac_fixtures.h"
#include "test/testenv/rbac_authorizer.h"

using namespace rio::testenv;
using namespace rio::testenv::testing;

namespace {

const char* const kBotGroups =
    R"(["system:serviceaccounts" "system:serviceaccounts:demo" "system:authenticated"])";

// demo:bot may manage Roles and RoleBindings in demo and read/write ConfigMaps there. Its verbs
// are spelled out: `*` would include `escalate` and `bind`.
RbacStore rbacAdminInDemo() {
  RbacStore store;
  store.add(role("demo", "rbac-admin",
                 json::array({rule({"rbac.authorization.k8s.io"}, {"roles", "rolebindings"},
                                   {"get", "list", "create", "update", "patch", "delete"}),
                              rule({""}, {"configmaps"}, {"get", "list", "update"})})));
  store.add(
      roleBinding("demo", "bot", "Role", "rbac-admin", json::array({saSubject("demo", "bot")})));
  return store;
}

}  // namespace

TEST_CASE("Escalation: a Role whose rules the writer holds may be created",
          "[testenv][rbac][escalation]") {
  RbacStore store = rbacAdminInDemo();
  auto authz = makeRbacAuthorizer(store.fn());
  json r = role("demo", "cm-get", json::array({rule({""}, {"configmaps"}, {"get", "list"})}));
  CHECK(checkEscalation(*authz, serviceAccount("demo", "bot"), r, store.fn()).empty());
  // Narrower grants (named objects) are covered by a broader one.
  json named = role("demo", "one", json::array({rule({""}, {"configmaps"}, {"update"}, {"c1"})}));
  CHECK(checkEscalation(*authz, serviceAccount("demo", "bot"), named, store.fn()).empty());
}

TEST_CASE(
    "Escalation: granting a permission the writer lacks is refused with the real server's message",
    "[testenv][rbac][escalation]") {
  RbacStore store = rbacAdminInDemo();
  auto authz = makeRbacAuthorizer(store.fn());
  json r = role("demo", "too-much",
                json::array({rule({""}, {"configmaps"}, {"get", "delete"}),
                             rule({""}, {"secrets"}, {"get", "list"})}));
  std::string msg = checkEscalation(*authz, serviceAccount("demo", "bot"), r, store.fn());
  CHECK(
      msg ==
      std::string(
          R"(roles.rbac.authorization.k8s.io "too-much" is forbidden: user "system:serviceaccount:demo:bot" (groups=)") +
          kBotGroups +
          ") is attempting to grant RBAC permissions not currently held:\n"
          R"({APIGroups:[""], Resources:["configmaps"], Verbs:["delete"]})"
          "\n"
          R"({APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]})");
}

TEST_CASE("Escalation: namespace rights do not cover a ClusterRole or rights in another namespace",
          "[testenv][rbac][escalation]") {
  RbacStore store = rbacAdminInDemo();
  store.add(clusterRole("crb-writer", json::array({rule({"rbac.authorization.k8s.io"},
                                                        {"clusterroles"}, {"create"})})));
  store.add(clusterRoleBinding("bot-crb", "crb-writer", json::array({saSubject("demo", "bot")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");

  json cr = clusterRole("cm-get", json::array({rule({""}, {"configmaps"}, {"get"})}));
  CHECK(checkEscalation(*authz, bot, cr, store.fn())
            .find(R"(is attempting to grant RBAC permissions not currently held:)"
                  "\n"
                  R"({APIGroups:[""], Resources:["configmaps"], Verbs:["get"]})") !=
        std::string::npos);
  json elsewhere = role("prod", "cm-get", json::array({rule({""}, {"configmaps"}, {"get"})}));
  CHECK_FALSE(checkEscalation(*authz, bot, elsewhere, store.fn()).empty());
}

TEST_CASE(
    "Escalation: wildcards, */subresource, resourceNames and URL prefixes in the writer's rules",
    "[testenv][rbac][escalation]") {
  RbacStore store;
  store.add(clusterRole(
      "writer",
      json::array({rule({"rbac.authorization.k8s.io"}, {"clusterroles"}, {"create"}),
                   rule({"apps"}, {"*"}, {"get"}), rule({"example.com"}, {"*/status"}, {"*"}),
                   rule({""}, {"secrets"}, {"get"}, {"cacerts"}), urlRule({"/logs/*"}, {"get"})})));
  store.add(clusterRoleBinding("w", "writer", json::array({userSubject("w")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto w = user("w");
  auto grants = [&](json r) {
    return checkEscalation(*authz, w, clusterRole("x", json::array({r})), store.fn()).empty();
  };

  CHECK(grants(rule({"apps"}, {"deployments", "deployments/status"}, {"get"})));
  CHECK_FALSE(grants(rule({"apps"}, {"deployments"}, {"list"})));
  CHECK(grants(rule({"example.com"}, {"widgets/status"}, {"patch", "update"})));
  CHECK_FALSE(grants(rule({"example.com"}, {"widgets"}, {"patch"})));
  CHECK(grants(rule({""}, {"secrets"}, {"get"}, {"cacerts"})));
  CHECK_FALSE(grants(rule({""}, {"secrets"}, {"get"})));
  CHECK_FALSE(grants(rule({""}, {"secrets"}, {"get"}, {"cacerts", "other"})));
  CHECK(grants(urlRule({"/logs/a", "/logs/b/*"}, {"get"})));
  CHECK_FALSE(grants(urlRule({"/logs"}, {"get"})));
  CHECK(grants(rule({"apps"}, {"*"}, {"get"})));
}

TEST_CASE("Escalation: the escalate verb lets a writer grant what it does not hold",
          "[testenv][rbac][escalation]") {
  RbacStore store = rbacAdminInDemo();
  store.add(role(
      "demo", "escalate-one",
      json::array({rule({"rbac.authorization.k8s.io"}, {"roles"}, {"escalate"}, {"special"})})));
  store.add(
      roleBinding("demo", "esc", "Role", "escalate-one", json::array({saSubject("demo", "bot")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");
  json special = role("demo", "special", json::array({rule({""}, {"secrets"}, {"*"})}));

  // A create names no object in its request, so an escalate grant limited to names does not apply.
  CHECK_FALSE(checkEscalation(*authz, bot, special, store.fn()).empty());
  json stored = role("demo", "special", json::array());
  CHECK(checkEscalation(*authz, bot, special, &stored, store.fn()).empty());

  store.add(role("demo", "escalate-all",
                 json::array({rule({"rbac.authorization.k8s.io"}, {"roles"}, {"escalate"})})));
  store.add(roleBinding("demo", "esc-all", "Role", "escalate-all",
                        json::array({saSubject("demo", "bot")})));
  CHECK(checkEscalation(*authz, bot, special, store.fn()).empty());
}

TEST_CASE("Escalation: binding a role needs its permissions or the bind verb",
          "[testenv][rbac][escalation]") {
  RbacStore store = rbacAdminInDemo();
  store.add(clusterRole("secret-admin", json::array({rule({""}, {"secrets"}, {"*"})})));
  store.add(clusterRole("cm-reader", json::array({rule({""}, {"configmaps"}, {"get", "list"})})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");

  json ok = roleBinding("demo", "rb-ok", "ClusterRole", "cm-reader",
                        json::array({saSubject("demo", "worker")}));
  CHECK(checkEscalation(*authz, bot, ok, store.fn()).empty());

  json bad = roleBinding("demo", "rb-bad", "ClusterRole", "secret-admin",
                         json::array({saSubject("demo", "worker")}));
  CHECK(
      checkEscalation(*authz, bot, bad, store.fn()) ==
      std::string(
          R"(rolebindings.rbac.authorization.k8s.io "rb-bad" is forbidden: user "system:serviceaccount:demo:bot" (groups=)") +
          kBotGroups +
          ") is attempting to grant RBAC permissions not currently held:\n"
          R"({APIGroups:[""], Resources:["secrets"], Verbs:["*"]})");

  // `bind` on that ClusterRole (by name) in this namespace is enough.
  store.add(role("demo", "binder",
                 json::array({rule({"rbac.authorization.k8s.io"}, {"clusterroles"}, {"bind"},
                                   {"secret-admin"})})));
  store.add(
      roleBinding("demo", "binder", "Role", "binder", json::array({saSubject("demo", "bot")})));
  CHECK(checkEscalation(*authz, bot, bad, store.fn()).empty());
  // ...but not for a ClusterRoleBinding, which is checked at the cluster scope.
  json crb = clusterRoleBinding("crb", "secret-admin", json::array({saSubject("demo", "worker")}));
  CHECK_FALSE(checkEscalation(*authz, bot, crb, store.fn()).empty());
}

TEST_CASE("Escalation: a binding to a missing role is forbidden with the registry's not-found text",
          "[testenv][rbac][escalation]") {
  RbacStore store = rbacAdminInDemo();
  auto authz = makeRbacAuthorizer(store.fn());
  json rb = roleBinding("demo", "rb", "Role", "nope", json::array({saSubject("demo", "worker")}));
  CHECK(
      checkEscalation(*authz, serviceAccount("demo", "bot"), rb, store.fn()) ==
      R"(rolebindings.rbac.authorization.k8s.io "rb" is forbidden: roles.rbac.authorization.k8s.io "nope" not found)");
}

TEST_CASE("Escalation: an aggregationRule needs cluster-admin rights, on create and when removed",
          "[testenv][rbac][escalation][aggregation]") {
  RbacStore store;
  // Every ordinary verb on everything, but neither `escalate` nor the non-resource URLs.
  store.add(clusterRole(
      "almost-admin",
      json::array(
          {rule({"*"}, {"*"}, {"get", "list", "watch", "create", "update", "patch", "delete"})})));
  store.add(clusterRoleBinding("a", "almost-admin", json::array({userSubject("almost")})));
  store.add(clusterRoleBinding("full", "cluster-admin", json::array({userSubject("root")})));
  auto authz = makeRbacAuthorizer(store.fn());
  json agg = aggregatedClusterRole("agg", json::array({{{"matchLabels", {{"a", "b"}}}}}));

  CHECK(
      checkEscalation(*authz, user("almost"), agg, store.fn()) ==
      R"(clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule)");
  CHECK(checkEscalation(*authz, user("root"), agg, store.fn()).empty());

  json plain = clusterRole("agg", json::array());
  CHECK_FALSE(checkEscalation(*authz, user("almost"), plain, &agg, store.fn()).empty());
}

TEST_CASE("Escalation: system:masters may grant and bind anything", "[testenv][rbac][escalation]") {
  RbacStore store;
  auto authz = makeRbacAuthorizer(store.fn());
  auto admin = user("kube-admin", {"system:masters", "system:authenticated"});
  CHECK(checkEscalation(*authz, admin, clusterRole("all", json::array({rule({"*"}, {"*"}, {"*"})})),
                        store.fn())
            .empty());
  CHECK(checkEscalation(*authz, admin,
                        clusterRoleBinding("b", "cluster-admin", json::array({userSubject("x")})),
                        store.fn())
            .empty());
}

TEST_CASE("Escalation: an update that only touches finalizers or owner references is not checked",
          "[testenv][rbac][escalation]") {
  RbacStore store = rbacAdminInDemo();
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");
  json stored = role("demo", "big", json::array({rule({""}, {"secrets"}, {"*"})}));
  stored["metadata"]["resourceVersion"] = "7";
  json updated = stored;
  updated["metadata"]["finalizers"] = {"example.com/cleanup"};
  updated["metadata"]["ownerReferences"] =
      json::array({{{"kind", "X"}, {"name", "x"}, {"uid", "1"}}});
  CHECK(isOnlyMutatingGcFields(stored, updated));
  CHECK(checkEscalation(*authz, bot, updated, &stored, store.fn()).empty());

  updated["metadata"]["labels"] = {{"k", "v"}};
  CHECK_FALSE(isOnlyMutatingGcFields(stored, updated));
  CHECK_FALSE(checkEscalation(*authz, bot, updated, &stored, store.fn()).empty());
}

TEST_CASE("Escalation: objects that are not RBAC objects pass", "[testenv][rbac][escalation]") {
  RbacStore store;
  auto authz = makeRbacAuthorizer(store.fn());
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "c"}, {"namespace", "demo"}}}};
  CHECK(checkEscalation(*authz, serviceAccount("demo", "bot"), cm, store.fn()).empty());
}

TEST_CASE("Escalation: a * verb on roles includes escalate and bind, as on a real cluster",
          "[testenv][rbac][escalation]") {
  RbacStore store;
  store.add(
      role("demo", "rbac-star", json::array({rule({"rbac.authorization.k8s.io"}, {"*"}, {"*"})})));
  store.add(
      roleBinding("demo", "star", "Role", "rbac-star", json::array({saSubject("demo", "bot")})));
  auto authz = makeRbacAuthorizer(store.fn());
  auto bot = serviceAccount("demo", "bot");
  store.add(clusterRole("secret-admin", json::array({rule({""}, {"secrets"}, {"*"})})));
  CHECK(checkEscalation(*authz, bot,
                        role("demo", "r", json::array({rule({""}, {"secrets"}, {"*"})})),
                        store.fn())
            .empty());
  CHECK(checkEscalation(*authz, bot,
                        roleBinding("demo", "rb", "ClusterRole", "secret-admin",
                                    json::array({saSubject("demo", "x")})),
                        store.fn())
            .empty());
}
