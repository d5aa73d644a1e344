// The REST client: every verb an operator needs, on top of one Transport. Adds authentication
// (bearer token source, basic auth), retries with jittered backoff for idempotent requests
// (429/5xx/connection reset, honouring Retry-After), an optional client-side QPS limit, a single
// re-read of the token after a 401, and rest_client_* metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/http/message.h"
#include "controller/kube/resource.h"
#include "controller/kube/rest_config.h"
#include "controller/kube/transport.h"
#include "controller/kube/watch.h"

namespace prometheus {
class Registry;
}

namespace rio::kube {

/// namespace/name; `ns` is empty for cluster-scoped objects.
struct ObjectKey {
  std::string ns;
  std::string name;
  std::string toString() const { return ns.empty() ? name : ns + "/" + name; }
  bool operator==(const ObjectKey&) const = default;
  auto operator<=>(const ObjectKey&) const = default;
  /// The key of an object's metadata.
  static ObjectKey of(const nlohmann::json& object);
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::int64_t limit = 0;  // 0 = no paging
  std::string continueToken;
  std::string resourceVersion;
  std::string resourceVersionMatch;  // "NotOlderThan" / "Exact"
  std::optional<int> timeoutSeconds;
};

struct WatchOptions {
  std::string resourceVersion;
  std::string labelSelector;
  std::string fieldSelector;
  bool allowBookmarks = true;
  std::optional<int> timeoutSeconds;
  /// Watch-list: the server streams the current objects first, then a BOOKMARK annotated
  /// `k8s.io/initial-events-end: "true"` (needs resourceVersionMatch=NotOlderThan).
  bool sendInitialEvents = false;
  /// Close the watch with a timeout error when nothing (not even a bookmark) arrives this long.
  std::chrono::milliseconds idleTimeout{0};
};

struct WriteOptions {
  std::string fieldManager;  // empty = the client's default
  bool dryRun = false;
};

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJson,            // application/json-patch+json (RFC 6902)
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  kApply,           // application/apply-patch+yaml (server-side apply; JSON is valid YAML)
};

struct PatchOptions {
  std::string fieldManager;  // required by the server for kApply; empty = the client's default
  bool force = false;        // kApply only: take fields owned by other managers
  bool dryRun = false;
  std::string subresource;   // e.g. "status"
  /// A success answers null instead of the object: the body is read (and an error's Status
  /// parsed) but not decoded, for callers that do not use the object.
  bool discardResult = false;
};

struct DeleteOptions {
  std::string propagationPolicy;  // "Foreground", "Background", "Orphan"; empty = server default
  std::optional<std::string> preconditionUid;
  std::optional<std::string> preconditionResourceVersion;
  std::optional<std::int64_t> gracePeriodSeconds;
};

/// Prometheus series of the client, declared once per registry and shared by every client in the
/// process: rest_client_requests_total{code,method,host} and
/// rest_client_request_duration_seconds{verb,host}.
class ClientMetrics;
std::shared_ptr<ClientMetrics> makeClientMetrics(prometheus::Registry& registry);

struct RetryPolicy {
  int maxRetries = 3;  // attempts after the first, for idempotent requests only
  std::chrono::milliseconds initialBackoff{200};
  std::chrono::milliseconds maxBackoff{5000};
  std::chrono::seconds maxRetryAfter{30};  // cap on a server's Retry-After
};

struct ClientOptions {
  std::shared_ptr<ClientMetrics> metrics;  // optional
  ClockPtr clock = systemClock();
  RetryPolicy retry;
  /// How the client waits between retries and for the rate limiter; tests record instead.
  std::function<void(std::chrono::nanoseconds)> sleep;
  std::string defaultFieldManager = "remote-istio-operator";
};

/// A client for one API server.
/// Thread-safety: every method may be called concurrently. Synchronous verbs block the calling
/// thread (never call them from an I/O thread); watch() returns at once.
/// Errors: API failures keep their Status (isNotFound(), isConflict() ...); transport, TLS,
/// timeout and decode failures are their own kinds. No exception escapes.
class Client {
 public:
  virtual ~Client() = default;

  virtual Expected<nlohmann::json> get(const Resource& resource, const ObjectKey& key) = 0;
  /// One page (use listAll() to follow `continue`). The answer is the List object.
  virtual Expected<nlohmann::json> list(const Resource& resource, std::string_view ns,
                                        const ListOptions& options = {}) = 0;
  /// Creates `object` in the namespace of its metadata.
  virtual Expected<nlohmann::json> create(const Resource& resource, const nlohmann::json& object,
                                          const WriteOptions& options = {}) = 0;
  /// PUT with the object's resourceVersion (optimistic concurrency: 409 when stale).
  virtual Expected<nlohmann::json> update(const Resource& resource, const nlohmann::json& object,
                                          const WriteOptions& options = {}) = 0;
  /// PUT to the status subresource.
  virtual Expected<nlohmann::json> updateStatus(const Resource& resource,
                                                const nlohmann::json& object,
                                                const WriteOptions& options = {}) = 0;
  virtual Expected<nlohmann::json> patch(const Resource& resource, const ObjectKey& key,
                                         PatchType type, const nlohmann::json& patch,
                                         const PatchOptions& options = {}) = 0;
  /// DELETE. The answer is the object (when finalizers keep it) or a Success Status.
  virtual Expected<nlohmann::json> remove(const Resource& resource, const ObjectKey& key,
                                          const DeleteOptions& options = {}) = 0;
  /// POST to a subresource, e.g. "token" on serviceaccounts (TokenRequest).
  virtual Expected<nlohmann::json> createSubresource(const Resource& resource,
                                                     const ObjectKey& key,
                                                     std::string_view subresource,
                                                     const nlohmann::json& body) = 0;
  /// GET of a raw path (discovery: "/version", "/api", "/apis/apps/v1").
  virtual Expected<nlohmann::json> getPath(std::string_view path) = 0;
  /// GET of a raw path with the whole answer: status, headers (e.g. `Date`, for clock skew) and
  /// body. Any HTTP status is a result; errors are transport, TLS, timeout, or a token that
  /// cannot be read. Sent once (no retries), authenticated like every other verb, counted in
  /// rest_client_* metrics. The body is the caller's to judge: never echo one that may hold
  /// secret data. The default implementation fails with kInternal (clients that cannot do it).
  virtual Expected<http::Response> getRaw(std::string_view path);
  /// getRaw() without blocking the caller: `done` runs exactly once, on an I/O thread, or on the
  /// calling thread before getRawAsync() returns when the request cannot even be built (the
  /// token cannot be read). `timeout` bounds connect, send and the response headers, and then
  /// each wait for body bytes (0: the client's per-request timeout). `done` must be quick (post
  /// work elsewhere). The default implementation calls `done` with a kInternal error.
  virtual void getRawAsync(std::string_view path, std::chrono::milliseconds timeout,
                           std::function<void(Expected<http::Response>)> done);
  /// Starts a watch; results arrive through `handler` (see watch.h) on an I/O thread. When the
  /// request cannot even be built (the token file is unreadable) onClose runs before watch()
  /// returns, on the calling thread.
  virtual WatchPtr watch(const Resource& resource, std::string_view ns,
                         const WatchOptions& options, WatchHandler handler) = 0;

  /// Server address, for logs and metrics.
  virtual const std::string& server() const = 0;

  // Conveniences built on the verbs above.

  /// Follows `continue` until the end; returns a List with every item and the last page's
  /// resourceVersion.
  Expected<nlohmann::json> listAll(const Resource& resource, std::string_view ns,
                                   ListOptions options = {});
  /// Server-side apply of a full object with `fieldManager`.
  Expected<nlohmann::json> apply(const Resource& resource, const nlohmann::json& object,
                                 const std::string& fieldManager, bool force = false);
  /// get() that maps NotFound to nullopt.
  Expected<std::optional<nlohmann::json>> getIfExists(const Resource& resource, const ObjectKey& key);
};
using ClientPtr = std::shared_ptr<Client>;

/// A client over an existing transport (tests use a fake transport).
ClientPtr makeClient(TransportPtr transport, const RestConfig& config, ClientOptions options = {});
/// A client with the production transport for `config` (TLS material is validated here).
Expected<ClientPtr> makeClient(IoRuntime& io, const RestConfig& config, ClientOptions options = {});

}  // namespace rio::kube
