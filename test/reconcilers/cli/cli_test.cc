// kubectl-remoteistio join, generate-kubeconfig and create-secret against kube-testenv (a hub and
// two remotes in-process, RBAC evaluated, real expiring tokens).
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "controller/core/base64.h"
#include "controller/core/yaml.h"
#include "reconcilers/cli/cli.h"
#include "reconcilers/desired/remote_secret.h"
#include "reconcilers/membership/credentials.h"
#include "reconcilers/resources.h"
#include "test/reconcilers/cli/cli_support.h"
#include "test/support/fake_clock.h"

using namespace rio;
using namespace std::chrono_literals;
using nlohmann::json;
using rio::testing::CliResult;
using rio::testing::OperatorEnv;
using rio::testing::runCli;
using rio::testing::TempDir;
namespace r = kube::resources;

namespace {

std::string secretValue(const json& secret, const std::string& key) {
  REQUIRE(secret["data"].contains(key));
  auto data = base64::decode(secret["data"][key].get<std::string>());
  REQUIRE(data);
  return *data;
}

}  // namespace

TEST_CASE(
    "cli: join creates the bootstrap Secret and the MeshMembership, and applying again updates "
    "them",
    "[cli]") {
  OperatorEnv env;
  TempDir dir;
  const auto hubFile = testing::kubeconfigFile(env, dir, "hub");
  const auto remoteFile = testing::kubeconfigFile(env, dir, "cn-beijing");

  CliResult first =
      runCli({"join", "cn-beijing", "--remote-kubeconfig", remoteFile, "--kubeconfig", hubFile});
  REQUIRE(first.code == 0);
  CHECK(first.out.find("secret/cn-beijing-bootstrap created") != std::string::npos);
  CHECK(first.out.find("meshmembership.istio.alibabacloud.com/cn-beijing created") !=
        std::string::npos);

  auto secret = env.hubClient()->get(r::kSecrets, {"istio-system", "cn-beijing-bootstrap"});
  REQUIRE(secret);
  // The reconciler reads it with the restricted loader: it must accept it and reach the remote.
  const std::string kubeconfig = secretValue(*secret, "kubeconfig");
  auto config = kube::restConfigFromUntrustedKubeconfig(kubeconfig, "test");
  REQUIRE(config);
  CHECK(config->server == env.remote("cn-beijing").url());
  CHECK(env.clientFor(*config)->list(r::kNamespaces, ""));

  auto mm = env.hubClient()->get(reconcilers::kMeshMemberships, {"istio-system", "cn-beijing"});
  REQUIRE(mm);
  CHECK((*mm)["spec"]["bootstrapSecretRef"] ==
        json({{"name", "cn-beijing-bootstrap"}, {"key", "kubeconfig"}}));
  CHECK((*mm)["spec"].value("network", json::object()).value("mode", "Flat") == "Flat");

  CliResult again = runCli({"join", "cn-beijing", "--remote-kubeconfig", remoteFile, "--kubeconfig",
                            hubFile, "--mode", "gateway"});
  REQUIRE(again.code == 0);
  CHECK(again.out.find("secret/cn-beijing-bootstrap configured") != std::string::npos);
  CHECK(again.out.find("meshmembership.istio.alibabacloud.com/cn-beijing configured") !=
        std::string::npos);
  mm = env.hubClient()->get(reconcilers::kMeshMemberships, {"istio-system", "cn-beijing"});
  REQUIRE(mm);
  CHECK((*mm)["spec"]["network"]["mode"] == "Gateway");
  auto secrets = env.hubClient()->list(r::kSecrets, "istio-system");
  REQUIRE(secrets);
  CHECK((*secrets)["items"].size() == 1);

  for (const auto& token : {env.remote("cn-beijing").adminToken(), env.hub().adminToken()}) {
    CHECK(first.out.find(token) == std::string::npos);
    CHECK(first.err.find(token) == std::string::npos);
    CHECK(again.out.find(token) == std::string::npos);
  }
}

TEST_CASE("cli: join inlines the files a kubeconfig refers to and refuses exec users", "[cli]") {
  OperatorEnv env;
  TempDir dir;
  const auto hubFile = testing::kubeconfigFile(env, dir, "hub");
  auto& remote = env.remote("cn-hangzhou");
  dir.write("ca.pem", remote.caPem());
  dir.write("token", remote.adminToken() + "\n");
  const auto remoteFile = dir.write(
      "files.kubeconfig",
      "apiVersion: v1\nkind: Config\ncurrent-context: other\n"
      "clusters:\n- name: hz\n  cluster:\n    server: " +
          remote.url() +
          "\n    certificate-authority: ca.pem\n"
          "users:\n- name: admin\n  user:\n    tokenFile: token\n"
          "- name: plugin\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
          "      command: aws\n"
          "contexts:\n- name: hz\n  context:\n    cluster: hz\n    user: admin\n"
          "- name: other\n  context:\n    cluster: hz\n    user: plugin\n");

  CliResult refused =
      runCli({"join", "cn-hangzhou", "--remote-kubeconfig", remoteFile, "--kubeconfig", hubFile});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("exec") != std::string::npos);
  CHECK_FALSE(
      *env.hubClient()->getIfExists(r::kSecrets, {"istio-system", "cn-hangzhou-bootstrap"}));

  CliResult joined = runCli({"join", "cn-hangzhou", "--remote-kubeconfig", remoteFile,
                             "--remote-context", "hz", "--kubeconfig", hubFile});
  REQUIRE(joined.code == 0);
  auto secret = env.hubClient()->get(r::kSecrets, {"istio-system", "cn-hangzhou-bootstrap"});
  REQUIRE(secret);
  const std::string kubeconfig = secretValue(*secret, "kubeconfig");
  CHECK(kubeconfig.find("ca.pem") == std::string::npos);
  CHECK(kubeconfig.find("tokenFile") == std::string::npos);
  auto config = kube::restConfigFromUntrustedKubeconfig(kubeconfig, "test");
  REQUIRE(config);
  CHECK(env.clientFor(*config)->list(r::kNodes, ""));
}

TEST_CASE("cli: join --dry-run prints YAML or JSON that parses and creates nothing", "[cli]") {
  OperatorEnv env;
  TempDir dir;
  const auto remoteFile = testing::kubeconfigFile(env, dir, "cn-beijing");

  // No control-plane kubeconfig is needed: nothing is sent.
  CliResult yamlOut =
      runCli({"join", "cn-beijing", "--remote-kubeconfig", remoteFile, "--mode", "Flat",
              "--dry-run", "-o", "yaml", "--kubeconfig", dir.path() + "/absent"});
  REQUIRE(yamlOut.code == 0);
  auto docs = yaml::yamlToJsonAll(yamlOut.out);
  REQUIRE(docs);
  REQUIRE(docs->size() == 2);
  CHECK((*docs)[0]["kind"] == "Secret");
  CHECK((*docs)[0]["metadata"]["namespace"] == "istio-system");
  CHECK(kube::restConfigFromUntrustedKubeconfig(secretValue((*docs)[0], "kubeconfig"), "test"));
  CHECK((*docs)[1]["kind"] == "MeshMembership");
  CHECK((*docs)[1]["spec"]["network"]["mode"] == "Flat");
  CHECK((*docs)[1]["spec"]["bootstrapSecretRef"]["name"] == "cn-beijing-bootstrap");

  CliResult jsonOut = runCli({"join", "cn-beijing", "--remote-kubeconfig", remoteFile, "--dry-run",
                              "-o", "json", "-n", "mesh"});
  REQUIRE(jsonOut.code == 0);
  auto list = json::parse(jsonOut.out, nullptr, false);
  REQUIRE_FALSE(list.is_discarded());
  CHECK(list["kind"] == "List");
  CHECK(list["items"][1]["metadata"]["namespace"] == "mesh");

  CHECK_FALSE(*env.hubClient()->getIfExists(r::kSecrets, {"istio-system", "cn-beijing-bootstrap"}));
  CHECK_FALSE(
      *env.hubClient()->getIfExists(reconcilers::kMeshMemberships, {"istio-system", "cn-beijing"}));
}

TEST_CASE("cli: join reports bad input with a clear message and a usage or failure exit code",
          "[cli]") {
  TempDir dir;
  const auto garbage = dir.write("garbage.kubeconfig", "clusters: [unclosed\n");

  CliResult missingFlag = runCli({"join", "cn-beijing"});
  CHECK(missingFlag.code == 2);
  CHECK(missingFlag.err.find("--remote-kubeconfig is required") != std::string::npos);

  CliResult badName = runCli({"join", "CN_Beijing", "--remote-kubeconfig", garbage});
  CHECK(badName.code == 2);
  CHECK(badName.err.find("DNS-1123") != std::string::npos);

  CliResult noName = runCli({"join", "--remote-kubeconfig", garbage});
  CHECK(noName.code == 2);
  CHECK(noName.err.find("NAME") != std::string::npos);

  CliResult unknownFlag = runCli({"join", "a", "--remote-kubeconfig", garbage, "--frobnicate"});
  CHECK(unknownFlag.code == 2);
  CHECK(unknownFlag.err.find("unknown flag --frobnicate") != std::string::npos);

  CliResult badMode = runCli({"join", "a", "--remote-kubeconfig", garbage, "--mode", "VPN"});
  CHECK(badMode.code == 2);
  CHECK(badMode.err.find("Flat or Gateway") != std::string::npos);

  CliResult badFile =
      runCli({"join", "a", "--remote-kubeconfig", garbage, "--dry-run", "-o", "yaml"});
  CHECK(badFile.code == 1);
  CHECK(badFile.err.find("garbage.kubeconfig") != std::string::npos);
  CHECK(badFile.out.empty());

  CliResult missingFile =
      runCli({"join", "a", "--remote-kubeconfig", dir.path() + "/nope", "--dry-run"});
  CHECK(missingFile.code == 1);
  CHECK(missingFile.err.find("nope") != std::string::npos);

  CliResult unknownCommand = runCli({"joni"});
  CHECK(unknownCommand.code == 2);
  CHECK(unknownCommand.err.find("unknown command \"joni\"") != std::string::npos);

  CHECK(runCli({"--help"}).code == 0);
  CHECK(runCli({"help", "check"}).out.find("check [NAME]") != std::string::npos);
  CHECK(cli::isCliInvocation("/bin/remote-istio-operator", {"join", "x"}));
  CHECK_FALSE(cli::isCliInvocation("/bin/remote-istio-operator", {"--help"}));
  CHECK(cli::isCliInvocation("kubectl-remoteistio", {}));
}

TEST_CASE(
    "cli: generate-kubeconfig gives istiod's reader a short-lived token that reads but cannot list "
    "Secrets",
    "[cli]") {
  auto clock = std::make_shared<testing::FakeClock>();
  clock->setWall(std::chrono::system_clock::now());
  testing::OperatorEnvOptions o;
  o.clock = clock;
  OperatorEnv env(o);
  TempDir dir;
  const auto remoteFile = testing::kubeconfigFile(env, dir, "cn-beijing");
  const std::string outFile = dir.path() + "/cn-beijing-reader.kubeconfig";

  CliResult res = runCli({"generate-kubeconfig", "cn-beijing", "--kubeconfig", remoteFile,
                          "--duration", "10m", "-o", outFile});
  REQUIRE(res.code == 0);
  CHECK(res.out.find("written to " + outFile) != std::string::npos);
  struct stat st {};
  REQUIRE(::stat(outFile.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  std::ifstream in(outFile);
  std::stringstream text;
  text << in.rdbuf();
  const std::string kubeconfig = text.str();
  const std::string token = testing::tokenOf(kubeconfig);
  CHECK(res.out.find(token) == std::string::npos);
  CHECK(res.err.find(token) == std::string::npos);
  auto config = kube::restConfigFromUntrustedKubeconfig(kubeconfig, "test");
  REQUIRE(config);
  CHECK(config->server == env.remote("cn-beijing").url());
  auto reader = env.clientFor(*config);
  CHECK(reader->list(r::kNamespaces, ""));
  CHECK(reader->list(r::kPods, ""));
  auto secrets = reader->list(r::kSecrets, "");
  REQUIRE_FALSE(secrets);
  CHECK(secrets.error().isForbidden());

  // The lifetime asked for is the one granted: valid just before, refused just after.
  clock->advance(9min);
  CHECK(reader->list(r::kNamespaces, ""));
  clock->advance(2min);
  auto expired = reader->list(r::kNamespaces, "");
  REQUIRE_FALSE(expired);
  CHECK(expired.error().isUnauthorized());

  // Running it again is fine (the RBAC is applied, not created) and prints to stdout without -o.
  CliResult again = runCli({"generate-kubeconfig", "cn-beijing", "--kubeconfig", remoteFile});
  REQUIRE(again.code == 0);
  CHECK(kube::restConfigFromUntrustedKubeconfig(again.out, "test"));
  CHECK(again.err.find("expires at") != std::string::npos);

  CliResult tooShort =
      runCli({"generate-kubeconfig", "cn-beijing", "--kubeconfig", remoteFile, "--duration", "1m"});
  CHECK(tooShort.code == 2);
  CHECK(tooShort.err.find("--duration") != std::string::npos);
}

TEST_CASE(
    "cli: create-secret writes the remote secret istiod reads, from generate-kubeconfig's output",
    "[cli]") {
  OperatorEnv env;
  TempDir dir;
  const auto hubFile = testing::kubeconfigFile(env, dir, "hub");
  const auto remoteFile = testing::kubeconfigFile(env, dir, "cn-beijing");
  const std::string readerFile = dir.path() + "/reader.kubeconfig";
  REQUIRE(
      runCli({"generate-kubeconfig", "cn-beijing", "--kubeconfig", remoteFile, "-o", readerFile})
          .code == 0);

  CliResult dry = runCli(
      {"create-secret", "cn-beijing", "--from-kubeconfig", readerFile, "--dry-run", "-o", "yaml"});
  REQUIRE(dry.code == 0);
  auto printed = yaml::yamlToJson(dry.out);
  REQUIRE(printed);
  CHECK((*printed)["metadata"]["name"] == "istio-remote-secret-cn-beijing");
  CHECK_FALSE(*env.hubClient()->getIfExists(r::kSecrets,
                                            {"istio-system", "istio-remote-secret-cn-beijing"}));

  CliResult res = runCli(
      {"create-secret", "cn-beijing", "--from-kubeconfig", readerFile, "--kubeconfig", hubFile});
  REQUIRE(res.code == 0);
  CHECK(res.out.find("secret/istio-remote-secret-cn-beijing created") != std::string::npos);
  auto secret =
      env.hubClient()->get(r::kSecrets, {"istio-system", "istio-remote-secret-cn-beijing"});
  REQUIRE(secret);
  // istio/istio pkg/kube/multicluster: the label selects it, the annotation names the cluster,
  // the data key is the cluster ID and holds a kubeconfig with inline credentials.
  CHECK((*secret)["metadata"]["labels"]["istio/multiCluster"] == "true");
  CHECK((*secret)["metadata"]["annotations"]["networking.istio.io/cluster"] == "cn-beijing");
  CHECK((*secret)["data"].size() == 1);
  const std::string kubeconfig = secretValue(*secret, "cn-beijing");
  auto config = kube::restConfigFromUntrustedKubeconfig(kubeconfig, "istiod");
  REQUIRE(config);
  CHECK(env.clientFor(*config)->list(r::kEndpoints, ""));
  CHECK(res.out.find(testing::tokenOf(kubeconfig)) == std::string::npos);

  CHECK(runCli({"create-secret", "cn-beijing", "--from-kubeconfig", readerFile, "--kubeconfig",
                hubFile})
            .out.find("configured") != std::string::npos);
  CliResult missing = runCli({"create-secret", "cn-beijing", "--kubeconfig", hubFile});
  CHECK(missing.code == 2);
  CHECK(missing.err.find("--from-kubeconfig is required") != std::string::npos);
}

TEST_CASE("cli: check warns when the operator's token is near its expiry and fails once it expired",
          "[cli]") {
  OperatorEnv env;
  TempDir dir;
  const auto hubFile = testing::kubeconfigFile(env, dir, "hub");
  const auto remoteFile = testing::kubeconfigFile(env, dir, "cn-beijing");
  REQUIRE(runCli({"join", "cn-beijing", "--remote-kubeconfig", remoteFile, "--kubeconfig", hubFile})
              .code == 0);
  // The credentials Secret as the operator writes it, with chosen timings (no controller runs).
  auto& remote = env.remote("cn-beijing");
  const std::string kubeconfig = reconcilers::membership::tokenKubeconfig(
      "cn-beijing", {remote.url(), remote.caPem(), "", false}, remote.adminToken());
  desired::Owner owner{"MeshMembership", "istio-system", "cn-beijing", "cn-beijing"};
  auto write = [&](std::chrono::minutes age, std::chrono::minutes left) {
    auto secret = desired::operatorCredentialsSecret(owner, "istio-system", kubeconfig).object;
    const auto now = std::chrono::system_clock::now();
    reconcilers::membership::setTiming(secret, {now - age, now + left});
    REQUIRE(env.hubClient()->apply(r::kSecrets, secret, "test", true));
  };

  write(50min, 10min);
  CliResult soon = runCli({"check", "--kubeconfig", hubFile});
  CHECK(soon.out.find("! operator credentials expire soon: ") != std::string::npos);
  CHECK(soon.out.find(" left of 1h0m") != std::string::npos);
  CHECK(soon.out.find("reachable with the operator's credentials") != std::string::npos);
  CHECK(soon.out.find(remote.adminToken()) == std::string::npos);

  write(61min, -1min);
  CliResult expired = runCli({"check", "--kubeconfig", hubFile});
  CHECK(expired.code == 1);
  CHECK(expired.out.find("\u2717 operator credentials Secret "
                         "istio-system/remote-istio-operator-cn-beijing expired") !=
        std::string::npos);
  // The bootstrap kubeconfig still reaches the remote.
  CHECK(expired.out.find("reachable with the bootstrap kubeconfig") != std::string::npos);
}
