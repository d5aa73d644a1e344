// kubectl-remoteistio check against members joined by the MeshMembership controller (the
// membership harness: Manager, ClusterRegistry, setupMembershipController on kube-testenv).
#include <catch2/catch.hpp>

#include "reconcilers/desired/remote_secret.h"
#include "test/reconcilers/cli/cli_support.h"
#include "test/reconcilers/membership/membership_harness.h"

using namespace rio;
using namespace std::chrono_literals;
using nlohmann::json;
using rio::testing::CliResult;
using rio::testing::MembershipHarness;
using rio::testing::runCli;
using rio::testing::TempDir;

namespace {

/// The lines of one cluster's group in check's output.
std::string groupOf(const std::string& out, const std::string& cluster) {
  auto start = out.find("Cluster " + cluster + " ");
  if (start == std::string::npos) return {};
  auto end = out.find("\n\n", start);
  return out.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

/// Every token the operator and the test environment hold for these clusters.
std::vector<std::string> tokens(MembershipHarness& h, const std::vector<std::string>& clusters) {
  std::vector<std::string> out{h.env().hub().adminToken()};
  for (const auto& c : clusters) {
    out.push_back(h.env().remote(c).adminToken());
    if (auto creds = h.hubSecret(desired::operatorCredentialsSecretName(c))) {
      out.push_back(
          testing::tokenOf(*base64::decode((*creds)["data"]["kubeconfig"].get<std::string>())));
    }
    if (h.hubSecret(desired::remoteSecretName(c)))
      out.push_back(testing::tokenOf(h.remoteSecretKubeconfig(c)));
  }
  return out;
}

}  // namespace

TEST_CASE("cli: check passes on a healthy joined pair and prints no token", "[cli]") {
  MembershipHarness h;
  TempDir dir;
  const auto hubFile = testing::kubeconfigFile(h.env(), dir, "hub");
  CliResult first =
      runCli({"join", "cn-beijing", "--remote-kubeconfig",
              testing::kubeconfigFile(h.env(), dir, "cn-beijing"), "--kubeconfig", hubFile});
  REQUIRE(first.code == 0);
  // --wait follows the conditions until Ready.
  CliResult waited = runCli({"join", "cn-hangzhou", "--remote-kubeconfig",
                             testing::kubeconfigFile(h.env(), dir, "cn-hangzhou"), "--kubeconfig",
                             hubFile, "--wait=90s"});
  REQUIRE(waited.code == 0);
  CHECK(waited.out.find("  Ready=True (Reconciled)") != std::string::npos);
  CHECK(waited.out.find("istio-system/cn-hangzhou is Ready") != std::string::npos);
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True", "", 60s));
  REQUIRE(h.waitFor("cn-hangzhou", "Ready", "True", "", 60s));

  CliResult res = runCli({"check", "--kubeconfig", hubFile});
  CHECK(res.code == 0);
  CHECK(res.out.find("\u2717") == std::string::npos);
  CHECK(res.out.find("check passed") != std::string::npos);
  for (const std::string c : {"cn-beijing", "cn-hangzhou"}) {
    const std::string group = groupOf(res.out, c);
    INFO(c);
    CHECK(group.find("\u2713 operator credentials valid") != std::string::npos);
    CHECK(group.find("\u2713 remote API server " + h.env().remote(c).url() + " reachable") !=
          std::string::npos);
    CHECK(group.find("\u2713 Kubernetes v1.") != std::string::npos);
    CHECK(group.find("ready worker nodes") != std::string::npos);
    CHECK(group.find("\u2713 no CIDR overlap") != std::string::npos);
    CHECK(group.find("\u2713 Ready=True") != std::string::npos);
    CHECK(group.find("\u2713 PrerequisitesMet=True") != std::string::npos);
    CHECK(group.find("\u2713 istiod's remote secret istio-system/istio-remote-secret-" + c +
                     " present") != std::string::npos);
    CHECK(group.find("trust root not checked") != std::string::npos);
  }
  // One member only.
  CliResult one = runCli({"check", "cn-hangzhou", "--kubeconfig", hubFile});
  CHECK(one.code == 0);
  CHECK(one.out.find("Cluster cn-beijing") == std::string::npos);
  CHECK(runCli({"check", "cn-shanghai", "--kubeconfig", hubFile}).code == 1);

  for (const auto& token : tokens(h, {"cn-beijing", "cn-hangzhou"})) {
    REQUIRE(token.size() > 16);
    CHECK(waited.out.find(token) == std::string::npos);
    CHECK(res.out.find(token) == std::string::npos);
    CHECK(res.err.find(token) == std::string::npos);
  }
}

TEST_CASE("cli: check fails on overlapping CIDRs, naming both clusters", "[cli]") {
  MembershipHarness h;
  TempDir dir;
  const auto hubFile = testing::kubeconfigFile(h.env(), dir, "hub");
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True", "", 60s));
  h.join("cn-hangzhou", "  network:\n    podCIDRs: [10.0.0.0/16]\n");
  REQUIRE(h.waitFor("cn-hangzhou", "PrerequisitesMet", "False", "CIDROverlap"));

  CliResult res = runCli({"check", "--kubeconfig", hubFile});
  CHECK(res.code == 1);
  CHECK(res.out.find("check failed") != std::string::npos);
  const std::string hz = groupOf(res.out, "cn-hangzhou");
  CHECK(hz.find("\u2717 pod CIDR 10.0.0.0/16 of cluster cn-hangzhou overlaps pod CIDR 10.0.64.0/23 "
                "of cluster "
                "cn-beijing") != std::string::npos);
  CHECK(hz.find("\u2717 PrerequisitesMet=False (CIDROverlap)") != std::string::npos);
  const std::string bj = groupOf(res.out, "cn-beijing");
  CHECK(bj.find("\u2717 pod CIDR 10.0.64.0/23 of cluster cn-beijing overlaps pod CIDR 10.0.0.0/16 "
                "of cluster "
                "cn-hangzhou") != std::string::npos);
  for (const auto& token : tokens(h, {"cn-beijing", "cn-hangzhou"}))
    CHECK(res.out.find(token) == std::string::npos);
}

TEST_CASE("cli: check fails when a member's istiod remote secret is missing, naming that cluster",
          "[cli]") {
  MembershipHarness h;
  TempDir dir;
  const auto hubFile = testing::kubeconfigFile(h.env(), dir, "hub");
  h.join("cn-beijing");
  REQUIRE(h.waitFor("cn-beijing", "Ready", "True", "", 60s));
  // cn-hangzhou's bootstrap Secret never arrives: the operator can write nothing for it.
  h.env().createInHub(
      "apiVersion: istio.alibabacloud.com/v1beta1\nkind: MeshMembership\nmetadata:\n  name: "
      "cn-hangzhou\n"
      "  namespace: istio-system\nspec:\n  bootstrapSecretRef:\n    name: cn-hangzhou-bootstrap\n");
  REQUIRE(h.waitFor("cn-hangzhou", "Ready", "False", "BootstrapSecretNotFound"));

  CliResult res = runCli({"check", "--kubeconfig", hubFile});
  CHECK(res.code == 1);
  const std::string hz = groupOf(res.out, "cn-hangzhou");
  CHECK(
      hz.find(
          "\u2717 istiod's remote secret istio-system/istio-remote-secret-cn-hangzhou for cluster "
          "cn-hangzhou is missing") != std::string::npos);
  CHECK(hz.find("\u2717 no credentials for the remote") != std::string::npos);
  CHECK(hz.find("\u2717 Ready=False (BootstrapSecretNotFound)") != std::string::npos);
  const std::string bj = groupOf(res.out, "cn-beijing");
  CHECK(bj.find(
            "\u2713 istiod's remote secret istio-system/istio-remote-secret-cn-beijing present") !=
        std::string::npos);
  CHECK(bj.find("\u2717") == std::string::npos);
  CHECK(res.out.find("Summary: 2 cluster(s)") != std::string::npos);
}
