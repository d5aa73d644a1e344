#include "test/testenv/cluster.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/rand.h>

#include "controller/kube/token_source.h"
#include "test/testenv/ipv4.h"
#include "test/testenv/token_authority.h"

namespace rio::testenv {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Expected<void> writeFile(const fs::path& path, const std::string& content, bool secret) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return fail(Error::config("cannot write " + tmp.string()));
    out << content;
    if (!out.flush()) return fail(Error::config("cannot write " + tmp.string()));
  }
  if (secret) ::chmod(tmp.c_str(), 0600);
  fs::rename(tmp, path, ec);
  if (ec) return fail(Error::config("cannot rename " + tmp.string() + ": " + ec.message()));
  return {};
}

std::string randomHex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  RAND_bytes(buf.data(), static_cast<int>(buf.size()));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : buf) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

}  // namespace

Cluster::Cluster(IoRuntime& io, ClusterOptions options) : io_(io), options_(std::move(options)) {}

Expected<std::unique_ptr<Cluster>> Cluster::create(IoRuntime& io, ClusterOptions options) {
  if (options.name.empty()) return fail(Error::config("a cluster needs a name"));
  std::unique_ptr<Cluster> c(new Cluster(io, std::move(options)));
  if (auto ok = c->init(); !ok) return fail(ok.error());
  return c;
}

Expected<void> Cluster::init() {
  if (!options_.clock) options_.clock = systemClock();
  const WallTime now = options_.clock->wallNow();
  fs::path state =
      options_.stateDir.empty() ? fs::path() : fs::path(options_.stateDir) / options_.name;
  bool loaded = false;
  std::string signingKey;
  if (!state.empty()) {
    auto caCert = readFile(state / "ca.crt"), caKey = readFile(state / "ca.key");
    auto cert = readFile(state / "server.crt"), key = readFile(state / "server.key");
    auto token = readFile(state / "admin-token"), sk = readFile(state / "token-signing.key");
    if (caCert && caKey && cert && key && token && sk) {
      ca_ = {*caCert, *caKey};
      serving_ = {*cert, *key};
      adminToken_ = *token;
      signingKey = *sk;
      loaded = true;
    }
  }
  if (!loaded) {
    pki::CertificateSpec caSpec;
    caSpec.commonName = "kube-testenv-" + options_.name + "-ca";
    caSpec.usages = {pki::Usage::kCertSign};
    caSpec.notBefore = now - std::chrono::minutes(5);
    caSpec.notAfter = now + std::chrono::hours(24 * 365 * 10);
    auto ca = pki::selfSigned(caSpec);
    if (!ca) return fail(ca.error().wrap("cluster " + options_.name + " CA"));
    ca_ = *ca;
    pki::CertificateSpec spec;
    spec.commonName = "kube-apiserver";
    spec.usages = {pki::Usage::kServerAuth};
    spec.dnsNames = {"localhost",
                     options_.name,
                     "kubernetes",
                     "kubernetes.default",
                     "kubernetes.default.svc",
                     "kubernetes.default.svc.cluster.local"};
    spec.ipAddresses = {"127.0.0.1", "::1"};
    if (options_.address != "127.0.0.1" && options_.address != "0.0.0.0" &&
        parseIpv4(options_.address)) {
      spec.ipAddresses.push_back(options_.address);
    }
    spec.notBefore = now - std::chrono::minutes(5);
    spec.notAfter = now + std::chrono::hours(24 * 365);
    auto serving = pki::issue(spec, ca_);
    if (!serving)
      return fail(serving.error().wrap("cluster " + options_.name + " serving certificate"));
    serving_ = *serving;
    adminToken_ = randomHex(32);
    signingKey = generateSigningKey();
    if (!state.empty()) {
      for (auto [file, content, secret] : std::vector<std::tuple<const char*, std::string, bool>>{
               {"ca.crt", ca_.certPem, false},
               {"ca.key", ca_.keyPem, true},
               {"server.crt", serving_.certPem, false},
               {"server.key", serving_.keyPem, true},
               {"admin-token", adminToken_, true},
               {"token-signing.key", signingKey, true}}) {
        if (auto ok = writeFile(state / file, content, secret); !ok) return fail(ok.error());
      }
    }
  }

  TokenAuthorityOptions tokenOptions;
  tokenOptions.signingKey = signingKey;
  std::shared_ptr<TokenAuthority> tokens = makeTokenAuthority(options_.clock, tokenOptions);
  UserInfo admin;
  admin.name = "kubernetes-admin";
  admin.groups = {"system:masters", "system:authenticated"};
  tokens->addStaticToken(adminToken_, admin);

  ApiServerOptions api = options_.apiServer;
  api.clusterName = options_.name;
  api.rootCaPem = ca_.certPem;
  api.serverAddress =
      options_.address + ":" + std::to_string(options_.port == 0 ? 6443 : options_.port);
  api.tokenAudiences = defaultTokenAudiences(tokenOptions);
  ApiServerDeps deps;
  deps.clock = options_.clock;
  deps.scheduler = makeIoRuntimeScheduler(io_);
  deps.auth.tokens = tokens;
  api_ = std::make_unique<ApiServer>(std::move(api), std::move(deps));
  if (!state.empty() && fs::exists(state / "objects.json")) {
    if (auto ok = api_->load((state / "objects.json").string()); !ok) return fail(ok.error());
  }

  http::ServerOptions serverOptions;
  serverOptions.address = options_.address;
  serverOptions.port = options_.port;
  serverOptions.tls = http::ServerTlsConfig{serving_.certPem, serving_.keyPem, ca_.certPem};
  server_ = std::make_unique<http::Server>(io_, serverOptions, api_->handler());
  return {};
}

Cluster::~Cluster() { stop(); }

Expected<void> Cluster::start() {
  if (server_->running()) return {};
  if (auto ok = server_->start(); !ok) return fail(ok.error().wrap("cluster " + options_.name));
  port_ = server_->port();
  api_->setServerAddress(options_.address + ":" + std::to_string(port_));
  if (!options_.kubeconfigDir.empty()) {
    if (auto ok = writeFile(fs::path(kubeconfigPath()), kubeconfig(), true); !ok)
      return fail(ok.error());
  }
  return {};
}

void Cluster::stop() {
  if (!server_) return;
  bool wasRunning = server_->running();
  server_->stop();
  api_->dropAllWatches();
  api_->releaseBlackholed();
  if (wasRunning) (void)saveState();
}

Expected<void> Cluster::restart() {
  stop();
  return start();
}

bool Cluster::running() const { return server_ && server_->running(); }

std::uint16_t Cluster::port() const { return port_; }

std::string Cluster::url() const {
  return "https://" + options_.address + ":" + std::to_string(port_);
}

std::string Cluster::kubeconfig() const {
  return kube::renderKubeconfig(
      kube::singleClusterKubeconfig(options_.name, url(), ca_.certPem, adminToken_));
}

std::string Cluster::kubeconfigPath() const {
  if (options_.kubeconfigDir.empty()) return {};
  return (fs::path(options_.kubeconfigDir) / (options_.name + ".kubeconfig")).string();
}

kube::RestConfig Cluster::restConfig() const {
  kube::RestConfig config;
  config.server = url();
  config.tls.caPem = ca_.certPem;
  config.token = std::make_shared<kube::StaticTokenSource>(adminToken_);
  config.origin = "kube-testenv cluster " + options_.name;
  return config;
}

Expected<pki::KeyedCertificate> Cluster::issueClientCertificate(
    const std::string& user, const std::vector<std::string>& groups) const {
  const WallTime now = options_.clock->wallNow();
  pki::CertificateSpec spec;
  spec.commonName = user;
  spec.organizations = groups;
  spec.usages = {pki::Usage::kClientAuth};
  spec.notBefore = now - std::chrono::minutes(5);
  spec.notAfter = now + std::chrono::hours(24 * 30);
  return pki::issue(spec, ca_);
}

Expected<void> Cluster::saveState() const {
  if (options_.stateDir.empty()) return {};
  fs::path dir = fs::path(options_.stateDir) / options_.name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  return api_->save((dir / "objects.json").string());
}

}  // namespace rio::testenv
