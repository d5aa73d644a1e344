// ApiServer: construction, the request pipeline (faults → authentication → injected errors →
// authorization → dispatch), discovery and the admin endpoint, accounting.
#include "test/testenv/api_server.h"

#include <algorithm>
#include <cctype>

#include "test/testenv/api_server_impl.h"
#include "test/testenv/discovery.h"
#include "test/testenv/ipv4.h"
#include "test/testenv/object_util.h"
#include "test/testenv/rbac_authorizer.h"

namespace rio::testenv {
namespace {

std::optional<std::string> queryParam(const http::ServerRequest& r, const std::string& name) {
  auto it = r.query.find(name);
  if (it == r.query.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path) {
    if (c == '/') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool truthy(const std::optional<std::string>& v) {
  return v && (*v == "1" || *v == "true" || *v == "True");
}

/// What accounting and the fault hooks know of a request before it is answered.
RequestRecord recordOf(const http::ServerRequest& request, const RequestInfo& info) {
  RequestRecord record;
  record.method = request.method;
  record.target = request.target;
  record.verb = info.verb;
  record.resource = info.accountingResource();
  return record;
}

bool isWriteVerb(const std::string& verb) {
  return verb == "create" || verb == "update" || verb == "patch" || verb == "delete" ||
         verb == "deletecollection";
}

/// Wraps the server's exchange to record the status code of the answer once.
class RecordingExchange final : public http::Exchange {
 public:
  /// `onAnswer` returns true when the answer is to be lost (the connection drops instead).
  RecordingExchange(http::ExchangePtr inner, std::function<bool(int)> onAnswer)
      : inner_(std::move(inner)), onAnswer_(std::move(onAnswer)) {}
  void respond(int status, http::Headers headers, std::string body) override {
    if (note(status)) {
      inner_->abort();
      return;
    }
    inner_->respond(status, std::move(headers), std::move(body));
  }
  void startStream(int status, http::Headers headers) override {
    note(status);
    inner_->startStream(status, std::move(headers));
  }
  void write(std::string chunk) override { inner_->write(std::move(chunk)); }
  void finish() override { inner_->finish(); }
  void abort() override { inner_->abort(); }
  bool closed() const override { return inner_->closed(); }
  void onClosed(std::function<void()> fn) override { inner_->onClosed(std::move(fn)); }

 private:
  bool note(int status) {
    std::function<bool(int)> fn;
    {
      std::lock_guard lock(mu_);
      if (!onAnswer_) return false;
      fn.swap(onAnswer_);
    }
    return fn(status);
  }
  http::ExchangePtr inner_;
  std::mutex mu_;  // guards onAnswer_
  std::function<bool(int)> onAnswer_;
};

/// Adds the `Date` header every answer of Go's net/http carries, from the server's clock (a test
/// that gives a cluster its own clock sees it in the header: clock skew).
class DatedExchange final : public http::Exchange {
 public:
  DatedExchange(http::ExchangePtr inner, ClockPtr clock)
      : inner_(std::move(inner)), clock_(std::move(clock)) {}
  void respond(int status, http::Headers headers, std::string body) override {
    inner_->respond(status, dated(std::move(headers)), std::move(body));
  }
  void startStream(int status, http::Headers headers) override {
    inner_->startStream(status, dated(std::move(headers)));
  }
  void write(std::string chunk) override { inner_->write(std::move(chunk)); }
  void finish() override { inner_->finish(); }
  void abort() override { inner_->abort(); }
  bool closed() const override { return inner_->closed(); }
  void onClosed(std::function<void()> fn) override { inner_->onClosed(std::move(fn)); }

 private:
  http::Headers dated(http::Headers headers) const {
    if (!http::findHeader(headers, "Date")) {
      headers.push_back({"Date", http::formatHttpDate(clock_->wallNow())});
    }
    return headers;
  }
  http::ExchangePtr inner_;
  ClockPtr clock_;
};

/// Collects one synchronous answer for ApiServer::request().
class CollectingExchange final : public http::Exchange {
 public:
  void respond(int s, http::Headers, std::string b) override {
    std::lock_guard lock(mu_);
    if (done_) return;
    done_ = true;
    status = s;
    body = std::move(b);
  }
  void startStream(int s, http::Headers) override {
    std::lock_guard lock(mu_);
    status = s;
  }
  void write(std::string chunk) override {
    std::lock_guard lock(mu_);
    body += chunk;
  }
  void finish() override {}
  void abort() override {}
  bool closed() const override { return false; }
  void onClosed(std::function<void()>) override {}
  int status = 0;
  std::string body;

 private:
  std::mutex mu_;
  bool done_ = false;
};

}  // namespace

std::string RequestInfo::accountingResource() const {
  if (!resourceRequest) return {};
  std::string r = group.empty() ? resource : resource + "." + group;
  if (!subresource.empty()) r += "/" + subresource;
  return r;
}

RequestInfo parseRequestInfo(const http::ServerRequest& request) {
  RequestInfo info;
  info.path = request.path;
  info.verb = lower(request.method);
  auto parts = splitPath(request.path);
  if (parts.size() < 3 || (parts[0] != "api" && parts[0] != "apis")) return info;
  std::size_t i = 1;
  if (parts[0] == "apis") {
    if (parts.size() < 4) return info;
    info.group = parts[i++];
  }
  info.resourceRequest = true;
  info.version = parts[i++];
  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  std::string verb;
  if (!rest.empty() && rest[0] == "watch") {
    if (rest.size() < 2) {
      info.resourceRequest = false;
      return info;
    }
    verb = "watch";
    info.legacyWatchPath = true;
    rest.erase(rest.begin());
  } else {
    const std::string& m = request.method;
    verb = m == "POST"                   ? "create"
           : (m == "GET" || m == "HEAD") ? "get"
           : m == "PUT"                  ? "update"
           : m == "PATCH"                ? "patch"
           : m == "DELETE"               ? "delete"
                                         : "";
  }
  if (!rest.empty() && rest[0] == "namespaces") {
    if (rest.size() > 1) {
      info.ns = rest[1];
      if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
        rest.erase(rest.begin(), rest.begin() + 2);
      }
    }
  }
  if (rest.size() >= 3) info.subresource = rest[2];
  if (rest.size() >= 2) info.name = rest[1];
  if (!rest.empty()) info.resource = rest[0];
  info.rbacName = info.name;
  if (info.name.empty() && verb == "get") {
    verb = truthy(queryParam(request, "watch")) ? "watch" : "list";
  } else if (!info.name.empty() && verb == "get" && truthy(queryParam(request, "watch"))) {
    verb = "watch";
  }
  if ((verb == "list" || verb == "watch") && info.name.empty()) {
    if (auto fs = queryParam(request, "fieldSelector")) {
      auto sel = FieldSelector::parse(*fs);
      if (sel) {
        if (auto n = sel->requiredValue("metadata.name")) info.rbacName = *n;
      }
    }
  }
  if (info.name.empty() && verb == "delete") verb = "deletecollection";
  info.verb = verb;
  return info;
}

// ---------------------------------------------------------------- statistics and faults

std::uint64_t RequestStats::count(const std::string& verb, const std::string& resource,
                                  int code) const {
  std::uint64_t n = 0;
  for (const auto& [key, c] : counts) {
    const auto& [v, r, k] = key;
    if (!verb.empty() && v != verb) continue;
    if (!resource.empty() && r != resource) continue;
    if (code != 0 && k != code) continue;
    n += c;
  }
  return n;
}

nlohmann::json RequestStats::toJson() const {
  nlohmann::json reqs = nlohmann::json::array();
  for (const auto& [key, c] : counts) {
    const auto& [v, r, k] = key;
    reqs.push_back({{"verb", v}, {"resource", r}, {"code", k}, {"count", c}});
  }
  return {{"total", total}, {"writes", writes}, {"requests", reqs}};
}

nlohmann::json FaultConfig::toJson() const {
  nlohmann::json errs = nlohmann::json::array();
  for (const auto& e : errors) {
    errs.push_back({{"code", e.code},
                    {"rate", e.rate},
                    {"verb", e.verb},
                    {"resource", e.resource},
                    {"retryAfterSeconds", e.retryAfterSeconds}});
  }
  nlohmann::json j = {{"blackhole", blackhole}, {"latencyMs", latency.count()}, {"errors", errs}};
  j["closeWatchesAfterEvents"] =
      closeWatchesAfterEvents ? nlohmann::json(*closeWatchesAfterEvents) : nlohmann::json();
  return j;
}

Expected<FaultConfig> FaultConfig::fromJson(const nlohmann::json& j) {
  if (!j.is_object()) return fail(Error::invalid("faults must be a JSON object"));
  FaultConfig f;
  try {
    f.blackhole = j.value("blackhole", false);
    f.latency = std::chrono::milliseconds(j.value("latencyMs", 0));
    if (f.latency.count() < 0) return fail(Error::invalid("latencyMs must not be negative"));
    if (j.contains("errors") && !j["errors"].is_null()) {
      for (const auto& e : j.at("errors")) {
        ErrorRule r;
        r.code = e.value("code", 503);
        r.rate = e.value("rate", 1.0);
        r.verb = e.value("verb", "");
        r.resource = e.value("resource", "");
        r.retryAfterSeconds = e.value("retryAfterSeconds", 1);
        if (r.code != 409 && r.code != 429 && r.code != 500 && r.code != 503) {
          return fail(Error::invalid("error code must be 409, 429, 500 or 503"));
        }
        if (r.rate < 0 || r.rate > 1) return fail(Error::invalid("rate must be within [0, 1]"));
        f.errors.push_back(r);
      }
    }
    if (j.contains("closeWatchesAfterEvents") && !j["closeWatchesAfterEvents"].is_null()) {
      f.closeWatchesAfterEvents = j["closeWatchesAfterEvents"].get<std::size_t>();
    }
  } catch (const std::exception& e) {
    return fail(Error::invalid(std::string("bad faults: ") + e.what()));
  }
  return f;
}

// ---------------------------------------------------------------- construction

ApiServer::Impl::Impl(ApiServerOptions options, ApiServerDeps d)
    : opts(std::move(options)), deps(std::move(d)) {
  if (!deps.scheduler) throw std::invalid_argument("ApiServer needs a scheduler");
  if (!deps.clock) deps.clock = systemClock();
  // Whatever the caller did not replace is the real thing.
  auto& m = deps.merge;
  if (!m.strategicMergePatch) m.strategicMergePatch = &testenv::strategicMergePatch;
  if (!m.serverSideApply) m.serverSideApply = &testenv::serverSideApply;
  if (!m.recordUpdate) m.recordUpdate = &testenv::recordUpdate;
  if (!m.conflictStatus) m.conflictStatus = &testenv::conflictStatus;
  auto& a = deps.auth;
  if (!a.tokens) a.tokens = std::shared_ptr<TokenAuthority>(makeTokenAuthority(deps.clock));
  if (!a.authenticate) {
    std::shared_ptr<TokenAuthority> tokens = a.tokens;
    a.authenticate = [tokens](const http::ServerRequest& r) {
      return testenv::authenticate(r, *tokens);
    };
  }
  if (!a.makeAuthorizer) {
    a.makeAuthorizer = [](RbacObjectsFn objects,
                          RbacVersionFn version) -> std::shared_ptr<Authorizer> {
      return makeRbacAuthorizer(std::move(objects), std::move(version));
    };
  }
  if (!a.checkEscalation) {
    a.checkEscalation = [](Authorizer& authorizer, const UserInfo& user,
                           const nlohmann::json& object, const nlohmann::json* previous,
                           const RbacObjectsFn& objects) {
      return testenv::checkEscalation(authorizer, user, object, previous, objects);
    };
  }
  std::uint64_t seed = opts.randomSeed;
  if (seed == 0) seed = std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32);
  rng.seed(seed);
  auto cidr = parseCidr(opts.serviceCidr);
  if (!cidr) cidr = parseCidr("10.96.0.0/12");
  serviceBase = cidr->base;
  serviceSize = static_cast<std::uint32_t>(std::min<std::uint64_t>(cidr->size(), 1u << 24));
  allocatedIps.insert(
      serviceBase);  // the network address; the kubernetes Service takes the first host
}

ApiServer::ApiServer(ApiServerOptions options, ApiServerDeps deps)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(deps))) {
  std::weak_ptr<Impl> weak = impl_;
  RbacObjectsFn objects = [weak](const std::string& kind) -> RbacObjects {
    auto self = weak.lock();
    if (!self) return nullptr;
    return self->rbacObjects(kind);
  };
  RbacVersionFn version = [weak]() -> std::uint64_t {
    auto self = weak.lock();
    return self ? self->rbacVersion.load() : 0;
  };
  if (impl_->deps.auth.makeAuthorizer) {
    impl_->authorizer = impl_->deps.auth.makeAuthorizer(objects, version);
  }
  StoreLock lock(impl_.get());
  impl_->seed();
}

ApiServer::~ApiServer() {
  impl_->dropWatches();
  impl_->releaseParked();
}

http::Handler ApiServer::handler() {
  return [this](http::ServerRequest request, http::ExchangePtr exchange) {
    handle(std::move(request), std::move(exchange));
  };
}

void ApiServer::handle(http::ServerRequest request, http::ExchangePtr exchange) {
  impl_->handle(std::move(request), std::move(exchange), false);
}

// ---------------------------------------------------------------- pipeline

void ApiServer::Impl::post(std::chrono::milliseconds delay, std::function<void(Impl&)> fn) {
  std::weak_ptr<Impl> weak = weak_from_this();
  deps.scheduler->postAfter(delay, [weak, fn = std::move(fn)] {
    auto self = weak.lock();
    if (!self) return;
    try {
      fn(*self);
    } catch (...) {
      // A simulated controller must never take the process down.
    }
  });
}

void ApiServer::Impl::respondError(const http::ExchangePtr& ex, const ApiError& error) {
  http::Headers headers = {{"Content-Type", "application/json"},
                           {"Cache-Control", "no-cache, private"}};
  for (const auto& h : error.headers) headers.push_back(h);
  ex->respond(error.code, std::move(headers),
              error.status.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void ApiServer::Impl::respondJson(Ctx& ctx, int code, const nlohmann::json& body,
                                  http::Headers extra) {
  http::Headers headers = {{"Content-Type", "application/json"},
                           {"Cache-Control", "no-cache, private"}};
  for (const auto& w : ctx.warnings) headers.push_back({"Warning", "299 - " + goQuote(w)});
  for (auto& h : extra) headers.push_back(std::move(h));
  ctx.ex->respond(code, std::move(headers),
                  body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool ApiServer::Impl::account(const RequestRecord& record) {
  {
    std::lock_guard lock(statsMu);
    ++stats.total;
    if (record.resource.size() && isWriteVerb(record.verb)) ++stats.writes;
    ++stats.counts[{record.verb, record.resource, record.code}];
  }
  if (opts.onRequest) opts.onRequest(record);
  return opts.loseResponseIf && opts.loseResponseIf(record);
}

std::optional<ApiError> ApiServer::Impl::injectedError(const RequestInfo& info) {
  StoreLock lock(this);
  std::string resource = info.accountingResource();
  for (const auto& rule : faults.errors) {
    if (!rule.verb.empty() && rule.verb != info.verb) continue;
    if (!rule.resource.empty() && rule.resource != resource) continue;
    double roll = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    if (roll >= rule.rate) continue;
    if (rule.code == 409) return errors::staleConflict(info.group, info.resource, info.name);
    if (rule.code == 429) return errors::tooManyRequests(rule.retryAfterSeconds);
    if (rule.code == 500) return errors::internal("injected fault");
    ApiError e = errors::serviceUnavailable("the server is currently unable to handle the request");
    e.headers = {{"Retry-After", std::to_string(rule.retryAfterSeconds)}};
    e.status["details"]["retryAfterSeconds"] = rule.retryAfterSeconds;
    return e;
  }
  return std::nullopt;
}

void ApiServer::Impl::handle(http::ServerRequest request, http::ExchangePtr exchange,
                             bool internal) {
  try {
    auto ctx = std::make_shared<Ctx>();
    ctx->info = parseRequestInfo(request);
    bool adminPath = request.path == "/_testenv" || request.path.rfind("/_testenv/", 0) == 0;
    if (!internal) {
      auto record = std::make_shared<RequestRecord>(recordOf(request, ctx->info));
      auto started = deps.clock->now();
      std::weak_ptr<Impl> weak = weak_from_this();
      std::weak_ptr<Ctx> weakCtx = ctx;
      exchange = std::make_shared<RecordingExchange>(
          std::move(exchange), [weak, weakCtx, record, started](int code) {
            auto self = weak.lock();
            if (!self) return false;
            record->code = code;
            if (auto c = weakCtx.lock()) record->user = c->user.name;
            record->latency = std::chrono::duration_cast<std::chrono::microseconds>(
                self->deps.clock->now() - started);
            return self->account(*record);
          });
    }
    exchange = std::make_shared<DatedExchange>(std::move(exchange), deps.clock);
    ctx->req = std::move(request);
    ctx->ex = exchange;
    if (internal) {
      ctx->user.name = "system:admin";
      ctx->user.groups = {"system:masters", "system:authenticated"};
      ctx->admin = true;
      ctx->internal = true;
      process(ctx);
      return;
    }
    FaultConfig f;
    {
      StoreLock lock(this);
      f = faults;
      if (!adminPath && f.blackhole) {
        std::uint64_t id = nextBlackholeId++;
        blackholed[id] = ctx->ex;
        lock.unlock();
        std::weak_ptr<Impl> weak = weak_from_this();
        ctx->ex->onClosed([weak, id] {
          auto self = weak.lock();
          if (!self) return;
          if (lockedByThisThread(self.get())) return;  // released by releaseBlackholed
          StoreLock l(self.get());
          self->blackholed.erase(id);
        });
        return;
      }
    }
    if (!adminPath && f.latency.count() > 0) {
      post(f.latency, [ctx](Impl& self) { self.process(ctx); });
      return;
    }
    process(ctx);
  } catch (const std::exception& e) {
    if (exchange) respondError(exchange, errors::internal(e.what()));
  } catch (...) {
    if (exchange) respondError(exchange, errors::internal("unexpected failure"));
  }
}

void ApiServer::Impl::process(const std::shared_ptr<Ctx>& ctxPtr) {
  Ctx& ctx = *ctxPtr;
  try {
    if (!ctx.admin) {
      std::optional<UserInfo> user;
      if (deps.auth.authenticate) user = deps.auth.authenticate(ctx.req);
      if (!user) {
        respondError(ctx.ex, errors::unauthorized());
        return;
      }
      ctx.user = *user;
      ctx.admin = std::find(user->groups.begin(), user->groups.end(), "system:masters") !=
                  user->groups.end();
    }
    bool adminPath = ctx.req.path == "/_testenv" || ctx.req.path.rfind("/_testenv/", 0) == 0;
    if (adminPath) {
      if (!ctx.admin) {
        respondError(ctx.ex,
                     errors::forbidden("", "", "",
                                       "User " + goQuote(ctx.user.name) + " cannot " +
                                           ctx.info.verb + " path " + goQuote(ctx.req.path)));
        return;
      }
      dispatchAdmin(ctx);
      return;
    }
    if (opts.dropIf && !ctx.internal) {
      RequestRecord record = recordOf(ctx.req, ctx.info);
      record.user = ctx.user.name;
      if (opts.dropIf(record)) {
        ctx.ex->abort();
        return;
      }
    }
    if (auto injected = ctx.internal ? std::nullopt : injectedError(ctx.info)) {
      respondError(ctx.ex, *injected);
      return;
    }
    if (!ctx.info.resourceRequest) {
      dispatchNonResource(ctx);
      return;
    }
    if (!ctx.admin && authorizer) {
      Attributes attrs;
      attrs.verb = ctx.info.verb;
      attrs.apiGroup = ctx.info.group;
      attrs.resource = ctx.info.resource;
      attrs.subresource = ctx.info.subresource;
      attrs.ns = ctx.info.ns;
      attrs.name = ctx.info.rbacName;
      attrs.resourceRequest = true;
      attrs.path = ctx.req.path;
      Decision d = authorizer->authorize(ctx.user, attrs);
      if (!d.allowed) {
        std::string msg = d.reason;
        if (msg.empty()) msg = forbiddenMessage(ctx.user, attrs);
        respondError(ctx.ex,
                     errors::forbidden(ctx.info.group, ctx.info.resource, ctx.info.rbacName, msg));
        return;
      }
    }
    dispatchResource(ctx);
  } catch (const std::exception& e) {
    respondError(ctx.ex, errors::internal(e.what()));
  } catch (...) {
    respondError(ctx.ex, errors::internal("unexpected failure"));
  }
}

void ApiServer::Impl::dispatchNonResource(Ctx& ctx) {
  const std::string& path = ctx.req.path;
  std::string trimmed =
      path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
  auto parts = splitPath(trimmed);
  if (ctx.req.method != "GET" && ctx.req.method != "HEAD") {
    respondError(ctx.ex, parts.empty() || trimmed == "/version" || parts[0] == "api" ||
                                 parts[0] == "apis" || parts[0] == "openapi"
                             ? errors::methodNotAllowed()
                             : errors::resourceNotFound());
    return;
  }
  auto accept = ctx.req.header("Accept").value_or("");
  bool aggregatedWanted = accept.find("as=APIGroupDiscoveryList") != std::string::npos &&
                          accept.find("g=apidiscovery.k8s.io") != std::string::npos &&
                          accept.find("v=v2") != std::string::npos;
  auto aggregatedAnswer = [&](bool core) {
    nlohmann::json doc;
    {
      StoreLock lock(this);
      doc = discovery::aggregated(registry, core);
    }
    ctx.ex->respond(
        200, {{"Content-Type", discovery::kAggregatedContentType}, {"Cache-Control", "public"}},
        doc.dump());
  };
  if (trimmed == "/version") {
    respondJson(ctx, 200, discovery::version(opts.gitVersion));
  } else if (trimmed == "/api") {
    if (aggregatedWanted) return aggregatedAnswer(true);
    respondJson(ctx, 200, discovery::apiVersions(opts.serverAddress));
  } else if (trimmed == "/apis") {
    if (aggregatedWanted) return aggregatedAnswer(false);
    StoreLock lock(this);
    auto doc = discovery::groupList(registry);
    lock.unlock();
    respondJson(ctx, 200, doc);
  } else if (parts.size() == 2 && parts[0] == "api") {
    if (parts[1] != "v1") return respondError(ctx.ex, errors::resourceNotFound());
    StoreLock lock(this);
    auto doc = discovery::resourceList(registry, "", "v1");
    lock.unlock();
    respondJson(ctx, 200, doc);
  } else if (parts.size() == 2 && parts[0] == "apis") {
    StoreLock lock(this);
    auto doc = discovery::group(registry, parts[1]);
    lock.unlock();
    if (doc.is_null()) return respondError(ctx.ex, errors::resourceNotFound());
    respondJson(ctx, 200, doc);
  } else if (parts.size() == 3 && parts[0] == "apis") {
    StoreLock lock(this);
    bool served = registry.servesGroupVersion(parts[1], parts[2]);
    auto doc = served ? discovery::resourceList(registry, parts[1], parts[2]) : nlohmann::json();
    lock.unlock();
    if (!served) return respondError(ctx.ex, errors::resourceNotFound());
    respondJson(ctx, 200, doc);
  } else if (trimmed == "/openapi/v3") {
    StoreLock lock(this);
    auto doc = discovery::openApiIndex(registry);
    lock.unlock();
    ctx.ex->respond(
        200,
        {{"Content-Type", "text/plain; charset=utf-8"}, {"Cache-Control", "no-cache, private"}},
        doc.dump());
  } else if (parts.size() >= 3 && parts[0] == "openapi" && parts[1] == "v3") {
    nlohmann::json doc;
    {
      StoreLock lock(this);
      if (parts.size() == 4 && parts[2] == "api")
        doc = discovery::openApiDocument(registry, "", parts[3]);
      if (parts.size() == 5 && parts[2] == "apis")
        doc = discovery::openApiDocument(registry, parts[3], parts[4]);
    }
    if (doc.is_null()) return respondError(ctx.ex, errors::resourceNotFound());
    bool hashed = ctx.req.query.count("hash") > 0;
    ctx.ex->respond(200,
                    {{"Content-Type", "application/json"},
                     {"Cache-Control", hashed ? "public, immutable" : "no-cache, private"}},
                    doc.dump());
  } else if (trimmed == "/healthz" || trimmed == "/livez" || trimmed == "/readyz") {
    ctx.ex->respond(200, {{"Content-Type", "text/plain; charset=utf-8"}}, "ok");
  } else {
    respondError(ctx.ex, errors::resourceNotFound());
  }
}

void ApiServer::Impl::dispatchResource(Ctx& ctx) {
  const RequestInfo& info = ctx.info;
  {
    StoreLock lock(this);
    ctx.type = registry.find(info.group, info.version, info.resource);
  }
  if (!ctx.type) return respondError(ctx.ex, errors::resourceNotFound());
  const ResourceType& type = *ctx.type;
  bool namespacesItself = type.group.empty() && type.resource == "namespaces";
  if (!type.namespaced && !info.ns.empty() && !namespacesItself)
    return respondError(ctx.ex, errors::resourceNotFound());
  if (!info.subresource.empty() && !type.hasSubresource(info.subresource)) {
    return respondError(ctx.ex, errors::resourceNotFound());
  }
  // Field manager and dry run for writes.
  if (auto fm = queryParam(ctx.req, "fieldManager"); fm && !fm->empty()) {
    ctx.manager = *fm;
  } else {
    std::string ua(ctx.req.header("User-Agent").value_or(""));
    ctx.manager = ua.substr(0, ua.find('/'));
    if (ctx.manager.empty()) ctx.manager = "unknown";
  }
  if (ctx.manager.size() > 128) {
    return respondError(ctx.ex, errors::invalid("", type.kind, info.name,
                                                {FieldError::tooLong("fieldManager", 128)}));
  }
  if (auto dry = queryParam(ctx.req, "dryRun")) {
    if (*dry != "All")
      return respondError(ctx.ex, errors::badRequest("Invalid dryRun value \"" + *dry + "\""));
    ctx.dryRun = true;
  }
  const std::string& m = ctx.req.method;
  bool named = !info.name.empty();
  if (!type.stored) {
    if (m == "POST" && !named) return doReview(ctx);
    return respondError(ctx.ex, errors::methodNotAllowed());
  }
  if (info.verb == "watch") return doWatch(ctx);
  if (info.subresource == "token") {
    if (m == "POST") return doTokenRequest(ctx);
    return respondError(ctx.ex, errors::methodNotAllowed());
  }
  if (info.subresource == "scale") return doScale(ctx);
  if (m == "GET" || m == "HEAD") return named ? doGet(ctx) : doList(ctx);
  if (m == "POST") return named ? respondError(ctx.ex, errors::methodNotAllowed()) : doCreate(ctx);
  if (m == "PUT") return named ? doUpdate(ctx) : respondError(ctx.ex, errors::methodNotAllowed());
  if (m == "PATCH") return named ? doPatch(ctx) : respondError(ctx.ex, errors::methodNotAllowed());
  if (m == "DELETE") {
    if (named) return doDelete(ctx);
    if (!type.supportsVerb("deletecollection"))
      return respondError(ctx.ex, errors::methodNotAllowed());
    return doDeleteCollection(ctx);
  }
  respondError(ctx.ex, errors::methodNotAllowed());
}

// ---------------------------------------------------------------- public API

ApiServer::Response ApiServer::request(const std::string& method, const std::string& target,
                                       const nlohmann::json& body, const std::string& contentType) {
  http::ServerRequest req;
  req.method = method;
  req.target = target;
  auto parsed = http::parseRequestTarget(target);
  req.path = std::move(parsed.path);
  req.query = std::move(parsed.query);
  req.headers = {{"Accept", "application/json"}, {"User-Agent", "kube-testenv"}};
  if (!body.is_null()) {
    req.headers.push_back({"Content-Type", contentType});
    req.body = body.is_string() ? body.get<std::string>() : body.dump();
  }
  auto ex = std::make_shared<CollectingExchange>();
  impl_->handle(std::move(req), ex, true);
  Response r;
  r.status = ex->status;
  r.body = nlohmann::json::parse(ex->body, nullptr, false);
  if (r.body.is_discarded()) r.body = nullptr;
  return r;
}

std::optional<nlohmann::json> ApiServer::get(const kube::Resource& resource, const std::string& ns,
                                             const std::string& name) const {
  StoreLock lock(impl_.get());
  auto type = impl_->registry.find(resource.group, resource.version, resource.resource);
  if (!type) return std::nullopt;
  auto obj = impl_->find(type->storageKey, objectKey(type->namespaced ? ns : "", name));
  if (!obj) return std::nullopt;
  return impl_->toView(*type, *obj);
}

std::vector<nlohmann::json> ApiServer::list(const kube::Resource& resource,
                                            const std::string& ns) const {
  StoreLock lock(impl_.get());
  std::vector<nlohmann::json> out;
  auto type = impl_->registry.find(resource.group, resource.version, resource.resource);
  if (!type) return out;
  auto b = impl_->store.find(type->storageKey);
  if (b == impl_->store.end()) return out;
  for (const auto& [key, obj] : b->second) {
    if (!ns.empty() && metaString(*obj, "namespace") != ns) continue;
    out.push_back(impl_->toView(*type, *obj));
  }
  return out;
}

std::uint64_t ApiServer::resourceVersion() const {
  StoreLock lock(impl_.get());
  return impl_->rv;
}

TokenAuthority& ApiServer::tokens() { return *impl_->deps.auth.tokens; }

void ApiServer::setFaults(FaultConfig faults) {
  StoreLock lock(impl_.get());
  impl_->faults = std::move(faults);
}
FaultConfig ApiServer::faults() const {
  StoreLock lock(impl_.get());
  return impl_->faults;
}
void ApiServer::setBlackhole(bool on) {
  StoreLock lock(impl_.get());
  impl_->faults.blackhole = on;
}
void ApiServer::setLatency(std::chrono::milliseconds latency) {
  StoreLock lock(impl_.get());
  impl_->faults.latency = latency;
}
void ApiServer::setErrorRules(std::vector<ErrorRule> rules) {
  StoreLock lock(impl_.get());
  impl_->faults.errors = std::move(rules);
}
void ApiServer::closeWatchesAfter(std::optional<std::size_t> events) {
  StoreLock lock(impl_.get());
  impl_->faults.closeWatchesAfterEvents = events;
}
void ApiServer::Impl::releaseParked() {
  std::vector<http::ExchangePtr> parked;
  {
    StoreLock lock(this);
    for (auto& [id, ex] : blackholed) parked.push_back(ex);
    blackholed.clear();
  }
  for (auto& ex : parked) ex->abort();
}

void ApiServer::releaseBlackholed() { impl_->releaseParked(); }

RequestStats ApiServer::stats() const {
  std::lock_guard lock(impl_->statsMu);
  return impl_->stats;
}
void ApiServer::resetStats() {
  std::lock_guard lock(impl_->statsMu);
  impl_->stats = RequestStats{};
}

void ApiServer::setDeploymentReadyDelay(std::chrono::milliseconds delay) {
  StoreLock lock(impl_.get());
  impl_->opts.simulation.deploymentReadyDelay = delay;
}

}  // namespace rio::testenv
