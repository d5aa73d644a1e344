// Authentication and authorization: TokenRequest tokens that authenticate (and stop doing so
// when their account goes, their audience is wrong, or they expire), RBAC for a service account
// (403 until bound, resourceNames, cluster roles, escalation), SelfSubjectAccessReview, and
// client certificates.
#include "controller/kube/token_source.h"
#include "test/conformance/cases_common.h"
#include "test/testenv/cluster.h"

namespace rio::conformance {
namespace {

using namespace kube::resources;
using std::chrono::seconds;

/// The manager name kube-apiserver derives from our User-Agent for writes without fieldManager.
Renames asOurManager(Context& ctx) { return inCaseNamespace(ctx).name("curl", "rio-conformance"); }

json ssar(const std::string& verb, const std::string& resource, const std::string& ns,
          const std::string& name = {}, const std::string& group = {}) {
  json attrs = {{"verb", verb}, {"resource", resource}};
  if (!ns.empty()) attrs["namespace"] = ns;
  if (!name.empty()) attrs["name"] = name;
  if (!group.empty()) attrs["group"] = group;
  return {{"apiVersion", "authorization.k8s.io/v1"},
          {"kind", "SelfSubjectAccessReview"},
          {"spec", {{"resourceAttributes", attrs}}}};
}

bool allowed(Context& ctx, kube::Client& client, const json& review) {
  json got = ctx.must(client.create(kSelfSubjectAccessReviews, review), "SelfSubjectAccessReview");
  return got["status"].value("allowed", false);
}

json tokenRequest(std::int64_t seconds, const json& audiences = nullptr) {
  json tr = {{"apiVersion", "authentication.k8s.io/v1"},
             {"kind", "TokenRequest"},
             {"spec", {{"expirationSeconds", seconds}}}};
  if (!audiences.is_null()) tr["spec"]["audiences"] = audiences;
  return tr;
}

void tokenRequestCase(Context& ctx) {
  auto& c = ctx.client();
  json sa = recordedRequest(ctx, "sa-create.txt");
  sa["metadata"]["namespace"] = ctx.ns();
  ctx.must(c.create(kServiceAccounts, sa), "create ServiceAccount bot");
  json answer = ctx.must(c.createSubresource(kServiceAccounts, {ctx.ns(), "bot"}, "token",
                                             recordedRequest(ctx, "sa-token-request.txt")),
                         "TokenRequest");
  // audiences default to the server's own (its issuer), which differs per server.
  expectRecordedObject(ctx, answer, "sa-token-request.txt", asOurManager(ctx),
                       {{"/spec/audiences", "/status/expirationTimestamp"}, true});
  ctx.require(answer["spec"]["audiences"].is_array() && !answer["spec"]["audiences"].empty(),
              "spec.audiences defaults to the API server's audiences");
  std::string token = answer["status"].value("token", "");
  ctx.require(std::count(token.begin(), token.end(), '.') == 2, "the token is not a JWT");
  std::string exp = answer["status"].value("expirationTimestamp", "");
  ctx.require(exp.size() == 20 && exp.back() == 'Z', "expirationTimestamp is not RFC 3339: " + exp);

  auto client = ctx.target().clientWithToken(token);
  ctx.must(client->getPath("/api"), "discovery with the issued token");
  json review =
      ctx.must(client->create(kSelfSubjectAccessReviews,
                              recordedRequest(ctx, "ssar-create.txt", inCaseNamespace(ctx))),
               "SelfSubjectAccessReview with the issued token");
  ctx.require(review["status"].value("allowed", true) == false,
              "an unbound service account may list secrets");

  Error shortLived = ctx.mustFail(
      c.createSubresource(kServiceAccounts, {ctx.ns(), "bot"}, "token", tokenRequest(60)),
      "a 60 s token");
  ctx.require(shortLived.isInvalid() && shortLived.status()->causes.size() == 1 &&
                  shortLived.status()->causes[0].field == "spec.expirationSeconds",
              "expirationSeconds under 10 minutes must be 422 on spec.expirationSeconds, got " +
                  Context::describe(shortLived));

  json other =
      ctx.must(c.createSubresource(kServiceAccounts, {ctx.ns(), "bot"}, "token",
                                   tokenRequest(3600, json::array({"https://other.example.com"}))),
               "a token for another audience");
  ctx.require(other["spec"]["audiences"] == json::array({"https://other.example.com"}),
              "audiences not kept");
  Error wrongAudience = ctx.mustFail(
      ctx.target().clientWithToken(other["status"].value("token", ""))->getPath("/api"),
      "use a token for another audience");
  ctx.require(wrongAudience.isUnauthorized(),
              "a token for another audience must be 401, got " + Context::describe(wrongAudience));

  Error missing = ctx.mustFail(
      c.createSubresource(kServiceAccounts, {ctx.ns(), "ghost"}, "token", tokenRequest(3600)),
      "a token for a missing ServiceAccount");
  ctx.require(missing.isNotFound(),
              "a token for a missing account must be 404, got " + Context::describe(missing));

  // Tokens are bound to their ServiceAccount: deleting it revokes them.
  ctx.must(c.remove(kServiceAccounts, {ctx.ns(), "bot"}), "delete ServiceAccount bot");
  ctx.eventually(
      [&] {
        auto r = client->getPath("/api");
        return !r && r.error().isUnauthorized();
      },
      "the token of a deleted ServiceAccount is refused (401)");
}

void tokenExpiryCase(Context& ctx) {
  auto sa = serviceAccountWithToken(ctx, "bot");
  json shortToken = ctx.must(ctx.client().createSubresource(kServiceAccounts, {ctx.ns(), "bot"},
                                                            "token", tokenRequest(600)),
                             "a 10-minute token");
  auto client = ctx.target().clientWithToken(shortToken["status"].value("token", ""));
  ctx.must(client->getPath("/api"), "the fresh token authenticates");
  // go-jose allows a minute of clock skew past exp.
  OffsetClock* clock = ctx.target().clock();
  ctx.defer([clock] { clock->reset(); });
  clock->advance(seconds(600 + 61));
  Error e = ctx.mustFail(client->getPath("/api"), "the token after its expiry");
  ctx.require(e.isUnauthorized(), "an expired token must be 401, got " + Context::describe(e));
  ctx.must(ctx.target().clientWithToken(sa.token)->getPath("/api"),
           "the 1-hour token still authenticates");
}

void rbacCase(Context& ctx) {
  auto& c = ctx.client();
  auto sa = serviceAccountWithToken(ctx, "bot");
  auto bot = ctx.target().clientWithToken(sa.token);
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c1")), "create c1");
  ctx.must(c.create(kConfigMaps, configMap(ctx.ns(), "c2")), "create c2");
  Error denied = ctx.mustFail(bot->list(kConfigMaps, ctx.ns()), "list before any binding");
  ctx.require(denied.isForbidden(), "want 403, got " + Context::describe(denied));

  json role = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "Role"},
      {"metadata", {{"name", "reader"}, {"namespace", ctx.ns()}}},
      {"rules",
       {{{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get", "list", "watch"}}},
        {{"apiGroups", {""}},
         {"resources", {"secrets"}},
         {"verbs", {"get"}},
         {"resourceNames", {"only"}}}}}};
  ctx.must(c.create(kRoles, role), "create Role reader");
  json binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", {{"name", "reader"}, {"namespace", ctx.ns()}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "reader"}}},
      {"subjects", {{{"kind", "ServiceAccount"}, {"name", "bot"}, {"namespace", ctx.ns()}}}}};
  ctx.must(c.create(kRoleBindings, binding), "create RoleBinding reader");
  ctx.eventually([&] { return bot->list(kConfigMaps, ctx.ns()).has_value(); },
                 "list is allowed once bound");
  ctx.must(bot->get(kConfigMaps, {ctx.ns(), "c1"}), "get is allowed");
  Error create =
      ctx.mustFail(bot->create(kConfigMaps, configMap(ctx.ns(), "c3")), "create without the verb");
  ctx.require(create.isForbidden(), "create must stay 403, got " + Context::describe(create));
  Error elsewhere = ctx.mustFail(bot->list(kConfigMaps, "default"), "list in another namespace");
  ctx.require(elsewhere.isForbidden(), "a RoleBinding must not reach other namespaces");
  // resourceNames limit a rule to named objects.
  Error named =
      ctx.mustFail(bot->get(kSecrets, {ctx.ns(), "other"}), "get a secret not named in the rule");
  ctx.require(named.isForbidden(),
              "resourceNames must restrict get, got " + Context::describe(named));
  Error onlyMissing =
      ctx.mustFail(bot->get(kSecrets, {ctx.ns(), "only"}), "get the named (missing) secret");
  ctx.require(onlyMissing.isNotFound(),
              "the named secret is allowed, so a missing one is 404, got " +
                  Context::describe(onlyMissing));

  // A ClusterRole bound cluster-wide to the namespace's service-account group.
  std::string cr = ctx.unique("conf-node-reader");
  ctx.must(
      c.create(kClusterRoles,
               {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                {"kind", "ClusterRole"},
                {"metadata", {{"name", cr}}},
                {"rules", {{{"apiGroups", {""}}, {"resources", {"nodes"}}, {"verbs", {"list"}}}}}}),
      "create ClusterRole");
  ctx.deleteLater(kClusterRoles, {"", cr});
  ctx.must(
      c.create(
          kClusterRoleBindings,
          {{"apiVersion", "rbac.authorization.k8s.io/v1"},
           {"kind", "ClusterRoleBinding"},
           {"metadata", {{"name", cr}}},
           {"roleRef",
            {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", cr}}},
           {"subjects",
            {{{"kind", "Group"},
              {"apiGroup", "rbac.authorization.k8s.io"},
              {"name", "system:serviceaccounts:" + ctx.ns()}}}}}),
      "create ClusterRoleBinding to the service-account group");
  ctx.deleteLater(kClusterRoleBindings, {"", cr});
  ctx.eventually([&] { return bot->list(kNodes, "").has_value(); },
                 "nodes can be listed through the group binding");

  // Escalation: the right to create Roles does not let one grant what one lacks.
  ctx.must(c.patch(kRoles, {ctx.ns(), "reader"}, kube::PatchType::kJson,
                   json::array({{{"op", "add"},
                                 {"path", "/rules/-"},
                                 {"value",
                                  {{"apiGroups", {"rbac.authorization.k8s.io"}},
                                   {"resources", {"roles"}},
                                   {"verbs", {"create"}}}}}})),
           "allow creating Roles");
  json greedy = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "Role"},
      {"metadata", {{"name", "greedy"}, {"namespace", ctx.ns()}}},
      {"rules", {{{"apiGroups", {""}}, {"resources", {"secrets"}}, {"verbs", {"list"}}}}}};
  json modest = greedy;
  modest["metadata"]["name"] = "modest";
  modest["rules"] = {{{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get"}}}};
  ctx.eventually([&] { return bot->create(kRoles, modest).has_value(); },
                 "a Role within the bot's rights can be created");
  Error escalate = ctx.mustFail(bot->create(kRoles, greedy), "create a Role granting more");
  ctx.require(
      escalate.isForbidden() &&
          escalate.status()->message.find(
              "is attempting to grant RBAC permissions not currently held") != std::string::npos,
      "escalation must be 403 naming it, got " + Context::describe(escalate));

  // Unbinding takes the rights away.
  ctx.must(c.remove(kRoleBindings, {ctx.ns(), "reader"}), "delete the RoleBinding");
  ctx.eventually(
      [&] {
        auto r = bot->list(kConfigMaps, ctx.ns());
        return !r && r.error().isForbidden();
      },
      "list is 403 again after the binding is deleted");
}

void selfSubjectAccessReviewCase(Context& ctx) {
  auto sa = serviceAccountWithToken(ctx, "bot");
  auto bot = ctx.target().clientWithToken(sa.token);
  json answer = ctx.must(bot->create(kSelfSubjectAccessReviews,
                                     recordedRequest(ctx, "ssar-create.txt", inCaseNamespace(ctx))),
                         "SSAR list secrets as bot");
  expectRecordedObject(ctx, answer, "ssar-create.txt", asOurManager(ctx));
  ctx.require(allowed(ctx, ctx.client(), ssar("list", "secrets", ctx.ns())),
              "the admin may list secrets");
  ctx.require(allowed(ctx, ctx.client(), ssar("delete", "nodes", "")),
              "the admin may delete nodes");
  ctx.require(!allowed(ctx, *bot, ssar("get", "configmaps", ctx.ns(), "c1")),
              "bot may get configmaps before binding");
  json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "Role"},
               {"metadata", {{"name", "r"}, {"namespace", ctx.ns()}}},
               {"rules",
                {{{"apiGroups", {"apps"}},
                  {"resources", {"deployments"}},
                  {"verbs", {"patch"}},
                  {"resourceNames", {"d1"}}}}}};
  ctx.must(ctx.client().create(kRoles, role), "create Role");
  ctx.must(
      ctx.client().create(
          kRoleBindings,
          {{"apiVersion", "rbac.authorization.k8s.io/v1"},
           {"kind", "RoleBinding"},
           {"metadata", {{"name", "r"}, {"namespace", ctx.ns()}}},
           {"roleRef",
            {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "r"}}},
           {"subjects", {{{"kind", "ServiceAccount"}, {"name", "bot"}, {"namespace", ctx.ns()}}}}}),
      "bind it");
  ctx.eventually(
      [&] { return allowed(ctx, *bot, ssar("patch", "deployments", ctx.ns(), "d1", "apps")); },
      "SSAR patch deployments/d1 becomes allowed");
  ctx.require(!allowed(ctx, *bot, ssar("patch", "deployments", ctx.ns(), "d2", "apps")),
              "d2 is not in resourceNames");
  ctx.require(!allowed(ctx, *bot, ssar("patch", "deployments", ctx.ns(), "d1", "")),
              "the core group is not apps");
  json nonResource = {{"apiVersion", "authorization.k8s.io/v1"},
                      {"kind", "SelfSubjectAccessReview"},
                      {"spec", {{"nonResourceAttributes", {{"path", "/api"}, {"verb", "get"}}}}}};
  ctx.require(allowed(ctx, *bot, nonResource),
              "every authenticated user may GET /api (system:discovery)");
}

void clientCertificateCase(Context& ctx) {
  auto* cluster = ctx.target().cluster();
  auto admin = ctx.must(cluster->issueClientCertificate("conformance-admin", {"system:masters"}),
                        "issue an admin certificate");
  auto user =
      ctx.must(cluster->issueClientCertificate("bob", {"developers"}), "issue bob's certificate");
  auto clientFor = [&](const pki::KeyedCertificate& cert) {
    kube::RestConfig cfg = ctx.target().config();
    cfg.token.reset();
    cfg.tls.clientCertPem = cert.certPem;
    cfg.tls.clientKeyPem = cert.keyPem;
    return ctx.must(kube::makeClient(ctx.target().io(), cfg), "client with a certificate");
  };
  ctx.must(clientFor(admin)->list(kNamespaces, ""),
           "list namespaces as a system:masters certificate");
  Error e = ctx.mustFail(clientFor(user)->list(kNamespaces, ""), "list namespaces as bob");
  ctx.require(e.isForbidden() && e.status()->message ==
                                     "namespaces is forbidden: User \"bob\" cannot list resource "
                                     "\"namespaces\" in API group \"\" at the cluster scope",
              "bob's 403: " + Context::describe(e));
}

}  // namespace

void addAuthCases(Suite& suite) {
  suite.add({"auth: TokenRequest tokens",
             "TokenRequest answers as recorded; the token authenticates; short expiry is 422; a "
             "token for "
             "another audience is 401; deleting the ServiceAccount revokes its tokens",
             Needs::kNothing, tokenRequestCase});
  suite.add({"auth: tokens expire",
             "a token is 401 once its expiry (plus a minute of leeway) passed", Needs::kInProcess,
             tokenExpiryCase});
  suite.add({"auth: RBAC for a service account",
             "403 until a RoleBinding grants the verb; namespace-bound; resourceNames; group-bound "
             "ClusterRole; no escalation through Role creation; unbinding revokes",
             Needs::kNothing, rbacCase});
  suite.add({"auth: SelfSubjectAccessReview",
             "answers as recorded; follows RBAC incl. resourceNames and groups; non-resource paths",
             Needs::kNothing, selfSubjectAccessReviewCase});
  suite.add({"auth: client certificates",
             "a certificate signed by the cluster CA authenticates as CN with groups O",
             Needs::kInProcess, clientCertificateCase});
}

}  // namespace rio::conformance
