#include "controller/kube/client.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "controller/core/backoff.h"
#include "controller/core/base64.h"
#include "controller/core/logging.h"
#include "controller/core/token_bucket.h"

namespace rio::kube {

ObjectKey ObjectKey::of(const nlohmann::json& object) {
  ObjectKey key;
  if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
    key.ns = m->value("namespace", "");
    key.name = m->value("name", "");
  }
  return key;
}

// ---------------------------------------------------------------------------------------------
// Metrics

class ClientMetrics {
 public:
  explicit ClientMetrics(prometheus::Registry& registry)
      : requests_(prometheus::BuildCounter()
                      .Name("rest_client_requests_total")
                      .Help("Number of HTTP requests, partitioned by status code, method, and host.")
                      .Register(registry)),
        latency_(prometheus::BuildHistogram()
                     .Name("rest_client_request_duration_seconds")
                     .Help("Request latency in seconds. Broken down by verb, and host.")
                     .Register(registry)) {}

  void observe(const std::string& code, const std::string& method, const std::string& host,
               double seconds) {
    requests_.Add({{"code", code}, {"method", method}, {"host", host}}).Increment();
    latency_
        .Add({{"verb", method}, {"host", host}},
             prometheus::Histogram::BucketBoundaries{0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60})
        .Observe(seconds);
  }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

std::shared_ptr<ClientMetrics> makeClientMetrics(prometheus::Registry& registry) {
  return std::make_shared<ClientMetrics>(registry);
}

// ---------------------------------------------------------------------------------------------
// Conveniences on the interface

Expected<nlohmann::json> Client::listAll(const Resource& resource, std::string_view ns, ListOptions options) {
  nlohmann::json result;
  nlohmann::json items = nlohmann::json::array();
  for (int page = 0;; ++page) {
    auto list = this->list(resource, ns, options);
    if (!list) return fail(list.error());
    if (page == 0) result = *list;
    if (auto it = list->find("items"); it != list->end() && it->is_array()) {
      for (auto& item : *it) items.push_back(std::move(item));
    }
    std::string next;
    if (auto m = list->find("metadata"); m != list->end() && m->is_object()) {
      next = m->value("continue", "");
      result["metadata"]["resourceVersion"] = m->value("resourceVersion", "");
    }
    if (next.empty()) break;
    options.continueToken = next;
  }
  result["items"] = std::move(items);
  if (result.contains("metadata")) result["metadata"].erase("continue");
  return result;
}

Expected<nlohmann::json> Client::apply(const Resource& resource, const nlohmann::json& object,
                                       const std::string& fieldManager, bool force) {
  PatchOptions options;
  options.fieldManager = fieldManager;
  options.force = force;
  return patch(resource, ObjectKey::of(object), PatchType::kApply, object, options);
}

Expected<std::optional<nlohmann::json>> Client::getIfExists(const Resource& resource, const ObjectKey& key) {
  auto got = get(resource, key);
  if (got) return std::optional<nlohmann::json>(std::move(*got));
  if (got.error().isNotFound()) return std::optional<nlohmann::json>();
  return fail(got.error());
}

Expected<http::Response> Client::getRaw(std::string_view path) {
  return fail(Error::internal("get " + std::string(path) + ": raw requests are not supported by this client"));
}

void Client::getRawAsync(std::string_view path, std::chrono::milliseconds,
                         std::function<void(Expected<http::Response>)> done) {
  done(fail(Error::internal("get " + std::string(path) + ": raw requests are not supported by this client")));
}

// ---------------------------------------------------------------------------------------------
// The REST implementation

namespace {

std::string queryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    q += q.empty() ? '?' : '&';
    q += k;
    q += '=';
    q += http::urlEncode(v);
  }
  return q;
}

std::string_view contentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/json";
}

bool isIdempotent(const std::string& method) { return method == "GET" || method == "HEAD"; }

class WatchImpl;

class ClientImpl final : public Client, public std::enable_shared_from_this<ClientImpl> {
 public:
  ClientImpl(TransportPtr transport, const RestConfig& config, ClientOptions options)
      : transport_(std::move(transport)),
        server_(config.server),
        host_(transport_->endpoint().hostPort()),
        token_(config.token),
        userAgent_(config.userAgent),
        timeout_(config.timeout),
        options_(std::move(options)),
        limiter_(config.qps, config.burst, options_.clock) {
    if (!config.username.empty() || !config.password.empty()) {
      basicAuth_ = "Basic " + base64::encode(config.username + ":" + config.password);
    }
    if (!options_.sleep) {
      options_.sleep = [](std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); };
    }
  }

  Expected<nlohmann::json> get(const Resource& resource, const ObjectKey& key) override {
    return call("GET", resource.path(key.ns, key.name), {}, {}, "get " + describe(resource, key));
  }

  Expected<nlohmann::json> list(const Resource& resource, std::string_view ns, const ListOptions& o) override {
    std::vector<std::pair<std::string, std::string>> params;
    if (!o.labelSelector.empty()) params.emplace_back("labelSelector", o.labelSelector);
    if (!o.fieldSelector.empty()) params.emplace_back("fieldSelector", o.fieldSelector);
    if (o.limit > 0) params.emplace_back("limit", std::to_string(o.limit));
    if (!o.continueToken.empty()) params.emplace_back("continue", o.continueToken);
    if (!o.resourceVersion.empty()) params.emplace_back("resourceVersion", o.resourceVersion);
    if (!o.resourceVersionMatch.empty()) params.emplace_back("resourceVersionMatch", o.resourceVersionMatch);
    if (o.timeoutSeconds) params.emplace_back("timeoutSeconds", std::to_string(*o.timeoutSeconds));
    std::string what = "list " + resource.qualifiedName();
    if (resource.namespaced && !ns.empty()) what += " in namespace " + std::string(ns);
    return call("GET", resource.path(ns) + queryString(params), {}, {}, what);
  }

  Expected<nlohmann::json> create(const Resource& resource, const nlohmann::json& object,
                                  const WriteOptions& o) override {
    ObjectKey key = ObjectKey::of(object);
    if (resource.namespaced && key.ns.empty()) {
      return fail(Error::invalid("create " + resource.qualifiedName() + " " + key.name +
                                 ": metadata.namespace is required"));
    }
    return call("POST", resource.path(key.ns) + writeQuery(o.fieldManager, o.dryRun), "application/json",
                object.dump(), "create " + describe(resource, key));
  }

  Expected<nlohmann::json> update(const Resource& resource, const nlohmann::json& object,
                                  const WriteOptions& o) override {
    ObjectKey key = ObjectKey::of(object);
    return call("PUT", resource.path(key.ns, key.name) + writeQuery(o.fieldManager, o.dryRun),
                "application/json", object.dump(), "update " + describe(resource, key));
  }

  Expected<nlohmann::json> updateStatus(const Resource& resource, const nlohmann::json& object,
                                        const WriteOptions& o) override {
    ObjectKey key = ObjectKey::of(object);
    return call("PUT", resource.path(key.ns, key.name, "status") + writeQuery(o.fieldManager, o.dryRun),
                "application/json", object.dump(), "update status of " + describe(resource, key));
  }

  Expected<nlohmann::json> patch(const Resource& resource, const ObjectKey& key, PatchType type,
                                 const nlohmann::json& body, const PatchOptions& o) override {
    std::string manager = o.fieldManager;
    if (manager.empty() && type == PatchType::kApply) manager = options_.defaultFieldManager;
    std::string target = resource.path(key.ns, key.name, o.subresource) + writeQuery(manager, o.dryRun);
    if (o.force && type == PatchType::kApply) target += (target.find('?') == std::string::npos ? "?" : "&") + std::string("force=true");
    std::string what = (type == PatchType::kApply ? "apply " : "patch ") + describe(resource, key);
    if (!o.subresource.empty()) what += " (" + o.subresource + ")";
    return call("PATCH", target, contentType(type), body.dump(), what, /*decodeResult=*/!o.discardResult);
  }

  Expected<nlohmann::json> remove(const Resource& resource, const ObjectKey& key, const DeleteOptions& o) override {
    nlohmann::json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
    if (!o.propagationPolicy.empty()) body["propagationPolicy"] = o.propagationPolicy;
    if (o.preconditionUid) body["preconditions"]["uid"] = *o.preconditionUid;
    if (o.preconditionResourceVersion) body["preconditions"]["resourceVersion"] = *o.preconditionResourceVersion;
    if (o.gracePeriodSeconds) body["gracePeriodSeconds"] = *o.gracePeriodSeconds;
    return call("DELETE", resource.path(key.ns, key.name), "application/json", body.dump(),
                "delete " + describe(resource, key));
  }

  Expected<nlohmann::json> createSubresource(const Resource& resource, const ObjectKey& key,
                                             std::string_view subresource, const nlohmann::json& body) override {
    return call("POST", resource.path(key.ns, key.name, subresource), "application/json", body.dump(),
                "create " + std::string(subresource) + " for " + describe(resource, key));
  }

  Expected<nlohmann::json> getPath(std::string_view path) override {
    return call("GET", std::string(path), {}, {}, "get " + std::string(path));
  }

  Expected<http::Response> getRaw(std::string_view path) override {
    std::string what = "get " + std::string(path);
    if (auto wait = limiter_.reserve(); wait.count() > 0) options_.sleep(wait);
    auto req = buildRequest("GET", std::string(path), {}, {});
    if (!req) return fail(req.error().wrap(what));
    auto started = std::chrono::steady_clock::now();
    auto resp = transport_->roundTrip(*req);
    auto took = std::chrono::steady_clock::now() - started;
    if (!resp) {
      record("<error>", "GET", took);
      return fail(resp.error().wrap(what));
    }
    record(std::to_string(resp->status), "GET", took);
    return resp;
  }

  void getRawAsync(std::string_view path, std::chrono::milliseconds timeout,
                   std::function<void(Expected<http::Response>)> done) override;

  WatchPtr watch(const Resource& resource, std::string_view ns, const WatchOptions& o,
                 WatchHandler handler) override;

  const std::string& server() const override { return server_; }

  // Adds authentication and common headers. Returns an error when the token cannot be read.
  Expected<http::Request> buildRequest(const std::string& method, const std::string& target,
                                       std::string_view contentType, std::string body) {
    http::Request req;
    req.method = method;
    req.target = target;  // the transport adds the endpoint's path prefix
    req.timeout = timeout_;
    req.headers.push_back({"Accept", "application/json"});
    req.headers.push_back({"User-Agent", userAgent_});
    if (!contentType.empty()) req.headers.push_back({"Content-Type", std::string(contentType)});
    if (token_) {
      auto token = token_->token();
      if (!token) return fail(token.error());
      if (!token->empty()) req.headers.push_back({"Authorization", "Bearer " + *token});
    } else if (!basicAuth_.empty()) {
      req.headers.push_back({"Authorization", basicAuth_});
    }
    req.body = std::move(body);
    return req;
  }

  void record(const std::string& code, const std::string& method, std::chrono::steady_clock::duration took) {
    if (options_.metrics) {
      options_.metrics->observe(code, method, host_, std::chrono::duration<double>(took).count());
    }
  }

  const std::string& host() const { return host_; }
  const TokenSourcePtr& tokenSource() const { return token_; }
  Transport& transport() { return *transport_; }

 private:
  static std::string describe(const Resource& resource, const ObjectKey& key) {
    return resource.kind + " " + key.toString();
  }

  static std::string writeQuery(const std::string& fieldManager, bool dryRun) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!fieldManager.empty()) params.emplace_back("fieldManager", fieldManager);
    if (dryRun) params.emplace_back("dryRun", "All");
    return queryString(params);
  }

  // One verb, with retries. `what` names the operation in error messages ("get Secret a/b").
  Expected<nlohmann::json> call(const std::string& method, const std::string& target,
                                std::string_view contentType, std::string body, const std::string& what,
                                bool decodeResult = true) {
    Backoff backoff({options_.retry.initialBackoff, options_.retry.maxBackoff, 2.0, 0.2, {}}, options_.clock);
    bool reauthenticated = false;
    for (int attempt = 0;; ++attempt) {
      if (auto wait = limiter_.reserve(); wait.count() > 0) options_.sleep(wait);
      auto req = buildRequest(method, target, contentType, body);
      if (!req) return fail(req.error().wrap(what));
      auto started = std::chrono::steady_clock::now();
      auto resp = transport_->roundTrip(*req);
      auto took = std::chrono::steady_clock::now() - started;

      std::optional<Error> error;
      if (!resp) {
        record("<error>", method, took);
        error = resp.error();
      } else {
        record(std::to_string(resp->status), method, took);
        if (resp->status >= 200 && resp->status < 300) {
          if (!decodeResult) return nlohmann::json();
          auto j = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
          // Never echo a success body into an error: it may hold Secret data.
          if (j.is_discarded()) return fail(Error::decode(what + ": the response is not valid JSON"));
          return j;
        }
        error = Error::fromHttp(resp->status, resp->body);
        if (auto ra = resp->header("Retry-After")) {
          try {
            error = error->withRetryAfter(std::chrono::seconds(std::stoi(std::string(*ra))));
          } catch (...) {
            // An HTTP-date Retry-After is rare from kube-apiserver; fall back to backoff.
          }
        }
        if (error->isUnauthorized() && !reauthenticated && token_ && token_->invalidate()) {
          reauthenticated = true;  // the token file may have rotated: read it again, once
          --attempt;
          continue;
        }
      }

      bool retryable = error->isTooManyRequests() ||
                       (isIdempotent(method) && (error->isRetryable()));
      if (!retryable || attempt >= options_.retry.maxRetries) return fail(error->wrap(what));
      auto delay = std::chrono::duration_cast<std::chrono::nanoseconds>(backoff.next());
      if (auto ra = error->retryAfter()) {
        delay = std::chrono::duration_cast<std::chrono::nanoseconds>(std::min(*ra, options_.retry.maxRetryAfter));
      }
      log::root().debug("retrying request",
                        {{"verb", method}, {"host", host_}, {"attempt", attempt + 1},
                         {"delay_ms", std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()},
                         {"reason", std::string(toString(error->kind()))},
                         {"code", error->code()}});
      options_.sleep(delay);
    }
  }

  TransportPtr transport_;
  std::string server_;
  std::string host_;
  TokenSourcePtr token_;
  std::string basicAuth_;
  std::string userAgent_;
  std::chrono::milliseconds timeout_;
  ClientOptions options_;
  TokenBucket limiter_;
};

// One watch: decodes the stream and turns HTTP errors and in-stream ERROR events into onClose.
// Callbacks arrive serially from the transport; `mu_` only guards against stop() racing them.
class WatchImpl final : public Watch, public std::enable_shared_from_this<WatchImpl> {
 public:
  WatchImpl(std::shared_ptr<ClientImpl> client, std::string method, WatchHandler handler)
      : client_(std::move(client)), method_(std::move(method)), handler_(std::move(handler)) {}

  // The stream's callbacks hold the watch weakly: the owner's WatchPtr keeps it alive, and the
  // stream (held by the watch and by the transport) must not keep its watch alive in turn, or a
  // watch still open when the transport stops would never be freed.
  ~WatchImpl() override {
    if (stream_) stream_->cancel();
  }

  void start(http::Request request) {
    std::weak_ptr<WatchImpl> weak = weak_from_this();
    StreamCallbacks cb;
    cb.onHeaders = [weak](int status, const http::Headers&) {
      if (auto self = weak.lock()) self->status_ = status;
    };
    cb.onData = [weak](std::string_view data) {
      if (auto self = weak.lock()) self->onData(data);
    };
    cb.onClose = [weak](const std::optional<Error>& error) {
      if (auto self = weak.lock()) self->onStreamClosed(error);
    };
    started_ = std::chrono::steady_clock::now();
    auto stream = client_->transport().stream(request, std::move(cb));
    std::lock_guard lock(mu_);
    stream_ = std::move(stream);
    if (closed_) stream_->cancel();
  }

  /// Ends the watch before it started (the request could not be built).
  void failNow(const Error& error) { finish(error); }

  void stop() override {
    StreamPtr stream;
    {
      std::lock_guard lock(mu_);
      stream = stream_;
    }
    if (stream) stream->cancel();  // onStreamClosed delivers kCancelled
    else finish(Error::cancelled("watch stopped"));
  }

 private:
  void onData(std::string_view data) {
    if (status_ != 200) {
      if (errorBody_.size() < 64 * 1024) errorBody_.append(data);
      return;
    }
    auto events = decoder_.feed(data);
    if (!events) {
      finish(events.error().wrap("watch"));
      cancelStream();
      return;
    }
    for (auto& event : *events) {
      if (isClosed()) return;
      if (event.type == WatchEventType::kError) {
        auto status = meta::Status::fromJson(event.object);
        finish(status ? Error::api(*status) : Error::decode("watch ERROR event without a Status"));
        cancelStream();
        return;
      }
      if (handler_.onEvent) handler_.onEvent(std::move(event));
    }
  }

  void onStreamClosed(const std::optional<Error>& error) {
    if (!recorded_) {
      recorded_ = true;
      client_->record(error && status_ == 0 ? "<error>" : std::to_string(status_), method_,
                      std::chrono::steady_clock::now() - started_);
    }
    if (status_ != 0 && status_ != 200) {
      Error e = Error::fromHttp(status_, errorBody_);
      if (e.isUnauthorized() && client_->tokenSource()) client_->tokenSource()->invalidate();
      finish(e);
      return;
    }
    if (error) {
      finish(*error);
    } else if (decoder_.hasPartial()) {
      finish(Error::transport("watch stream ended in the middle of an event"));
    } else {
      finish(std::nullopt);
    }
  }

  bool isClosed() {
    std::lock_guard lock(mu_);
    return closed_;
  }

  void cancelStream() {
    StreamPtr stream;
    {
      std::lock_guard lock(mu_);
      stream = stream_;
    }
    if (stream) stream->cancel();
  }

  void finish(const std::optional<Error>& error) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    if (handler_.onClose) handler_.onClose(error);
  }

  std::shared_ptr<ClientImpl> client_;
  std::string method_;
  WatchHandler handler_;
  WatchDecoder decoder_;
  int status_ = 0;
  std::string errorBody_;
  bool recorded_ = false;
  std::chrono::steady_clock::time_point started_;
  std::mutex mu_;  // guards stream_ and closed_
  StreamPtr stream_;
  bool closed_ = false;
};

// One asynchronous raw GET over the transport's streaming call: collects the body and reports
// once. Callbacks arrive serially from the transport, so no lock is needed for the fields.
class RawGet final : public std::enable_shared_from_this<RawGet> {
 public:
  static constexpr std::size_t kMaxBody = 4 * 1024 * 1024;

  RawGet(std::shared_ptr<ClientImpl> client, std::string what,
         std::function<void(Expected<http::Response>)> done)
      : client_(std::move(client)), what_(std::move(what)), done_(std::move(done)) {}

  void start(http::Request request) {
    auto self = shared_from_this();
    StreamCallbacks cb;
    cb.onHeaders = [self](int status, const http::Headers& headers) {
      self->response_.status = status;
      self->response_.headers = headers;
    };
    cb.onData = [self](std::string_view data) {
      if (self->response_.body.size() + data.size() > kMaxBody) {
        self->tooLarge_ = true;
        return;
      }
      self->response_.body.append(data);
    };
    cb.onClose = [self](const std::optional<Error>& error) { self->finish(error); };
    started_ = std::chrono::steady_clock::now();
    // The transport keeps an open stream alive until onClose; nothing here needs to cancel it.
    client_->transport().stream(request, std::move(cb));
  }

 private:
  void finish(const std::optional<Error>& error) {
    auto took = std::chrono::steady_clock::now() - started_;
    std::function<void(Expected<http::Response>)> done;
    done.swap(done_);
    if (!done) return;
    if (error && response_.status == 0) {
      client_->record("<error>", "GET", took);
      done(fail(error->wrap(what_)));
    } else if (error) {
      client_->record(std::to_string(response_.status), "GET", took);
      done(fail(error->wrap(what_ + ": reading the answer")));
    } else if (tooLarge_) {
      client_->record(std::to_string(response_.status), "GET", took);
      done(fail(Error::decode(what_ + ": the answer is larger than " + std::to_string(kMaxBody) + " bytes")));
    } else {
      client_->record(std::to_string(response_.status), "GET", took);
      done(std::move(response_));
    }
    client_.reset();
  }

  std::shared_ptr<ClientImpl> client_;
  std::string what_;
  std::function<void(Expected<http::Response>)> done_;
  http::Response response_;
  bool tooLarge_ = false;
  std::chrono::steady_clock::time_point started_;
};

void ClientImpl::getRawAsync(std::string_view path, std::chrono::milliseconds timeout,
                             std::function<void(Expected<http::Response>)> done) {
  std::string what = "get " + std::string(path);
  auto req = buildRequest("GET", std::string(path), {}, {});
  if (!req) {
    done(fail(req.error().wrap(what)));
    return;
  }
  if (timeout.count() > 0) req->timeout = timeout;
  req->idleTimeout = req->timeout;
  auto get = std::make_shared<RawGet>(shared_from_this(), std::move(what), std::move(done));
  get->start(std::move(*req));
}

WatchPtr ClientImpl::watch(const Resource& resource, std::string_view ns, const WatchOptions& o,
                           WatchHandler handler) {
  std::vector<std::pair<std::string, std::string>> params{{"watch", "1"}};
  if (!o.resourceVersion.empty()) params.emplace_back("resourceVersion", o.resourceVersion);
  if (!o.labelSelector.empty()) params.emplace_back("labelSelector", o.labelSelector);
  if (!o.fieldSelector.empty()) params.emplace_back("fieldSelector", o.fieldSelector);
  if (o.allowBookmarks) params.emplace_back("allowWatchBookmarks", "true");
  if (o.timeoutSeconds) params.emplace_back("timeoutSeconds", std::to_string(*o.timeoutSeconds));
  if (o.sendInitialEvents) {
    params.emplace_back("sendInitialEvents", "true");
    params.emplace_back("resourceVersionMatch", "NotOlderThan");
  }
  auto watch = std::make_shared<WatchImpl>(shared_from_this(), "WATCH", std::move(handler));
  auto req = buildRequest("GET", resource.path(ns) + queryString(params), {}, {});
  if (!req) {
    // The token could not be read: report it through onClose like any other failure.
    watch->failNow(req.error().wrap("watch " + resource.qualifiedName()));
    return watch;
  }
  req->timeout = timeout_;
  req->idleTimeout = o.idleTimeout;
  watch->start(std::move(*req));
  return watch;
}

}  // namespace

ClientPtr makeClient(TransportPtr transport, const RestConfig& config, ClientOptions options) {
  return std::make_shared<ClientImpl>(std::move(transport), config, std::move(options));
}

}  // namespace rio::kube
