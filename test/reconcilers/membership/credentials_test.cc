#include "reconcilers/membership/credentials.h"

#include <catch2/catch.hpp>

#include "controller/core/base64.h"
#include "controller/kube/kubeconfig.h"

using namespace rio;
using namespace rio::reconcilers::membership;
using nlohmann::json;
using namespace std::chrono;

TEST_CASE("Credentials: the token kubeconfig is what istiod accepts and reads back through the restricted loader",
          "[membership][credentials]") {
  RemoteEndpoint ep{"https://10.0.0.1:6443", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "", false};
  std::string text = tokenKubeconfig("cn-a", ep, "tok-123");
  auto parsed = kube::parseKubeconfig(text, "", kube::KubeconfigTrust::kRestricted, "test");
  REQUIRE(parsed);
  CHECK(parsed->currentContext == "cn-a");
  CHECK(parsed->clusters.at("cn-a").server == ep.server);
  CHECK(parsed->clusters.at("cn-a").certificateAuthorityData == ep.caPem);
  CHECK(parsed->users.at("cn-a").token == "tok-123");
  CHECK_FALSE(parsed->users.at("cn-a").hasExec);
}

TEST_CASE("Credentials: token timing round-trips through the Secret's annotations and renews at 80 %",
          "[membership][credentials]") {
  const WallTime issued = sys_days{year{2026} / 11 / 25} + hours{10};
  TokenTiming t{issued, issued + hours{1}};
  json secret = {{"metadata", {{"name", "s"}, {"namespace", "istio-system"}}}};
  setTiming(secret, t);
  CHECK(secret["metadata"]["annotations"]["istio.alibabacloud.com/expires-at"] == "2026-11-25T11:00:00Z");
  auto back = timingOf(secret);
  REQUIRE(back);
  CHECK(back->issuedAt == t.issuedAt);
  CHECK(back->expiresAt == t.expiresAt);
  CHECK(back->renewAt(0.8) == issued + minutes{48});
  CHECK(back->lifetime() == hours{1});
  CHECK_FALSE(timingOf(json{{"metadata", {{"name", "s"}}}}));
}

TEST_CASE("Credentials: the operator's Secret is read with the restricted loader; problems name the Secret only",
          "[membership][credentials]") {
  RemoteEndpoint ep{"https://10.0.0.1:6443", "", "", true};
  json secret = {{"metadata", {{"name", "remote-istio-operator-cn-a"}, {"namespace", "istio-system"},
                               {"annotations", {{"istio.alibabacloud.com/mesh-namespace", "istio-system"}}}}},
                 {"data", {{"kubeconfig", base64::encode(tokenKubeconfig("cn-a", ep, "tok-456"))}}}};
  auto stored = readStoredCredentials(secret);
  REQUIRE(stored);
  CHECK(stored->token == "tok-456");
  CHECK(stored->endpoint == ep);
  CHECK(stored->meshNamespace == "istio-system");
  CHECK_FALSE(stored->timing);

  std::string exec = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://x}\nusers:\n"
                     "- name: u\n  user:\n    exec: {command: steal-tok-789, apiVersion: client.authentication.k8s.io/v1}\n"
                     "contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n";
  secret["data"]["kubeconfig"] = base64::encode(exec);
  auto refused = readStoredCredentials(secret);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("Secret istio-system/remote-istio-operator-cn-a") != std::string::npos);
  CHECK(refused.error().message().find("steal-tok-789") == std::string::npos);
}
