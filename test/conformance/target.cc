#include "test/conformance/target.h"

#include "controller/kube/kubeconfig.h"
#include "controller/kube/token_source.h"
#include "test/testenv/testenv.h"

namespace rio::conformance {

Target::~Target() {
  admin_.reset();
  adminTransport_.reset();
  plainTransport_.reset();
  if (env_) env_->stop();
}

Expected<std::unique_ptr<Target>> Target::inProcess(IoRuntime& io) {
  std::unique_ptr<Target> t(new Target(io));
  t->clock_ = std::make_shared<OffsetClock>();
  t->env_ = std::make_unique<testenv::Testenv>(io);
  auto options = testenv::Testenv::defaultsFor("conformance", 0);
  options.clock = t->clock_;
  auto cluster = t->env_->add(std::move(options));
  if (!cluster) return fail(cluster.error().wrap("start the in-process kube-testenv"));
  t->cluster_ = *cluster;
  t->config_ = t->cluster_->restConfig();
  t->description_ = "in-process kube-testenv at " + t->cluster_->url();
  if (auto ok = t->init(); !ok) return fail(ok.error());
  return t;
}

Expected<std::unique_ptr<Target>> Target::fromKubeconfig(IoRuntime& io, const std::string& path,
                                                         const std::string& context) {
  auto kubeconfig = kube::loadKubeconfigFiles({path});
  if (!kubeconfig) return fail(kubeconfig.error());
  auto config = kube::restConfigFromKubeconfig(*kubeconfig, context);
  if (!config) return fail(config.error());
  std::unique_ptr<Target> t(new Target(io));
  t->config_ = std::move(*config);
  t->description_ = "kubeconfig " + path + (context.empty() ? "" : " context " + context) + " (" +
                    t->config_.server + ")";
  if (auto ok = t->init(); !ok) return fail(ok.error());
  return t;
}

Expected<void> Target::init() {
  config_.userAgent = "rio-conformance";
  auto endpoint = kube::Endpoint::parse(config_.server);
  if (!endpoint) return fail(endpoint.error());
  auto adminTransport = kube::makeTransport(io_, *endpoint, config_.tls);
  if (!adminTransport) return fail(adminTransport.error());
  adminTransport_ = *adminTransport;
  kube::TlsConfig plain = config_.tls;
  plain.clientCertPem.clear();
  plain.clientKeyPem.clear();
  auto plainTransport = kube::makeTransport(io_, *endpoint, plain);
  if (!plainTransport) return fail(plainTransport.error());
  plainTransport_ = *plainTransport;
  kube::ClientOptions options;
  options.defaultFieldManager = "rio-conformance";
  admin_ = kube::makeClient(adminTransport_, config_, std::move(options));

  auto version = admin_->getPath("/version");
  if (!version) return fail(version.error().wrap("the server does not answer"));
  auto parsed = kube::ServerVersion::fromJson(*version);
  if (!parsed) return fail(parsed.error().wrap("/version"));
  version_ = *parsed;

  auto probe = raw(RawRequest::get("/_testenv/faults"));
  hasAdminEndpoint_ = probe && probe->status == 200;
  return {};
}

kube::ClientPtr Target::adminWith(kube::ClientOptions options) const {
  return kube::makeClient(adminTransport_, config_, std::move(options));
}

kube::ClientPtr Target::clientWithToken(const std::string& token) {
  kube::RestConfig c = config_;
  c.tls.clientCertPem.clear();
  c.tls.clientKeyPem.clear();
  c.username.clear();
  c.password.clear();
  c.token = std::make_shared<kube::StaticTokenSource>(token);
  kube::ClientOptions options;
  options.retry.maxRetries = 0;
  options.defaultFieldManager = "rio-conformance";
  return kube::makeClient(plainTransport_, c, std::move(options));
}

Expected<http::Response> Target::raw(const RawRequest& r) {
  http::Request req;
  req.method = r.method;
  req.target = r.target;
  req.timeout = std::chrono::seconds(30);
  if (!r.accept.empty()) req.headers.push_back({"Accept", r.accept});
  req.headers.push_back({"User-Agent", config_.userAgent});
  if (!r.contentType.empty()) req.headers.push_back({"Content-Type", r.contentType});
  req.body = r.body;
  kube::Transport* transport = plainTransport_.get();
  switch (r.auth.mode) {
    case RawAuth::Mode::kAdmin:
      transport = adminTransport_.get();
      if (config_.token) {
        auto token = config_.token->token();
        if (!token) return fail(token.error());
        if (!token->empty()) req.headers.push_back({"Authorization", "Bearer " + *token});
      }
      break;
    case RawAuth::Mode::kToken:
      req.headers.push_back({"Authorization", "Bearer " + r.auth.token});
      break;
    case RawAuth::Mode::kNone:
      break;
  }
  return transport->roundTrip(req);
}

Expected<nlohmann::json> Target::adminCall(const std::string& method, const std::string& path,
                                           const nlohmann::json& body) {
  RawRequest r;
  r.method = method;
  r.target = "/_testenv/" + path;
  if (!body.is_null()) {
    r.contentType = "application/json";
    r.body = body.dump();
  }
  auto resp = raw(r);
  if (!resp) return fail(resp.error().wrap(method + " " + r.target));
  if (resp->status < 200 || resp->status >= 300)
    return fail(Error::fromHttp(resp->status, resp->body).wrap(method + " " + r.target));
  auto j = nlohmann::json::parse(resp->body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

}  // namespace rio::conformance
