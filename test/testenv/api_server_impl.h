// Internals of ApiServer shared by its .cc files (request pipeline, storage, watch, simulated
// controllers, admin/persistence). Not part of the public API.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

#include <tl/expected.hpp>

#include "test/testenv/api_errors.h"
#include "test/testenv/api_server.h"
#include "test/testenv/registry.h"
#include "test/testenv/selectors.h"

namespace rio::testenv {

template <class T>
using Result = tl::expected<T, ApiError>;
inline tl::unexpected<ApiError> reject(ApiError e) { return tl::unexpected(std::move(e)); }

using ObjPtr = std::shared_ptr<const nlohmann::json>;

enum class EventType { kAdded, kModified, kDeleted };
const char* eventTypeName(EventType t);

/// One change of the store, kept in the bounded history for watches.
struct StoredEvent {
  std::uint64_t rv = 0;
  EventType type = EventType::kAdded;
  std::string storageKey;
  ObjPtr object;    // the state after the change (DELETED: last state, with the deletion's RV)
  ObjPtr previous;  // the state before (null for ADDED)
};

/// What a request path means (k8s.io/apiserver RequestInfoFactory).
struct RequestInfo {
  bool resourceRequest = false;
  std::string path;
  std::string verb;  // RBAC verb; lower-case method for non-resource requests
  std::string group;
  std::string version;
  std::string ns;
  std::string resource;
  std::string name;  // from the path
  std::string subresource;
  std::string rbacName;  // name, or the metadata.name a list/watch field selector requires
  bool legacyWatchPath = false;

  /// "configmaps", "deployments.apps", "serviceaccounts/token" (accounting, error rules).
  std::string accountingResource() const;
};

RequestInfo parseRequestInfo(const http::ServerRequest& request);

/// One open watch stream. Guarded by Impl::mu.
struct Watcher {
  std::uint64_t id = 0;
  ResourceTypePtr type;
  std::string ns;
  LabelSelector labels;
  FieldSelector fields;
  bool bookmarks = false;
  enum class Render { kObject, kTable, kPartialMetadata } render = Render::kObject;
  http::ExchangePtr exchange;
  std::size_t sent = 0;
  TimerHandlePtr timeout;
  TimerHandlePtr bookmarkTimer;
  bool done = false;
};
using WatcherPtr = std::shared_ptr<Watcher>;

/// Per-request state after authentication.
struct Ctx {
  http::ServerRequest req;
  http::ExchangePtr ex;
  RequestInfo info;
  UserInfo user;
  bool admin = false;
  bool internal = false;  // ApiServer::request(): no faults, no accounting
  ResourceTypePtr type;
  std::string manager;  // field manager
  bool dryRun = false;
  std::vector<std::string> warnings;
};

struct ApiServer::Impl : std::enable_shared_from_this<ApiServer::Impl> {
  Impl(ApiServerOptions options, ApiServerDeps deps);

  ApiServerOptions opts;
  ApiServerDeps deps;
  std::shared_ptr<Authorizer> authorizer;
  /// Bumped by every write of a Role, ClusterRole or binding (and by a restore): the authorizer
  /// reuses the rules it resolved while this stays put. Written under `mu`, read without it.
  std::atomic<std::uint64_t> rbacVersion{0};
  void rbacChanged(const std::string& storageKey) {
    if (storageKey.rfind("rbac.authorization.k8s.io/", 0) != 0) return;
    ++rbacVersion;
    ++rbacKindVersions[storageKey];
  }

  mutable std::mutex mu;  // guards everything below
  /// Bumped by every write of its kind (by storage key): a RoleBinding written keeps the lists of
  /// ClusterRoles. A restore clears the map (versions then start again from zero, and rbacLists
  /// is cleared with it).
  std::map<std::string, std::uint64_t> rbacKindVersions;
  /// rbacObjects() by kind, with the rbacKindVersions entry it was made at.
  mutable std::map<std::string, std::pair<std::uint64_t, RbacObjects>> rbacLists;
  Registry registry;
  std::uint64_t rv = 0;
  std::map<std::string, std::map<std::string, ObjPtr>> store;  // storageKey -> "ns/name" -> object
  std::unordered_map<std::string, std::pair<std::string, std::string>>
      uids;  // uid -> (storageKey, key)
  std::deque<StoredEvent> history;
  std::uint64_t historyFloor = 0;  // every event with rv > historyFloor is in `history`
  std::map<std::uint64_t, WatcherPtr> watchers;
  std::uint64_t nextWatcherId = 1;
  std::mt19937_64 rng;
  FaultConfig faults;
  mutable std::mutex statsMu;  // guards stats (answers are recorded while mu may be held)
  RequestStats stats;
  std::map<std::uint64_t, http::ExchangePtr> blackholed;
  std::uint64_t nextBlackholeId = 1;
  std::set<std::uint32_t> allocatedIps;
  std::set<int> allocatedNodePorts;
  std::uint32_t serviceBase = 0;
  std::uint32_t serviceSize = 0;
  bool gcScheduled = false;
  std::set<std::string> terminatingNamespaces;  // cleanup pending
  std::set<std::string> terminatingCrds;

  // ---- pipeline (api_server.cc)
  void handle(http::ServerRequest request, http::ExchangePtr exchange, bool internal);
  void process(const std::shared_ptr<Ctx>& ctx);
  void dispatchResource(Ctx& ctx);
  void dispatchNonResource(Ctx& ctx);
  void dispatchAdmin(Ctx& ctx);
  void respondJson(Ctx& ctx, int code, const nlohmann::json& body, http::Headers extra = {});
  void respondError(const http::ExchangePtr& ex, const ApiError& error);
  WallTime now() const { return deps.clock->wallNow(); }

  // ---- operations (api_server_ops.cc)
  void doGet(Ctx& ctx);
  void doList(Ctx& ctx);
  void doCreate(Ctx& ctx);
  void doUpdate(Ctx& ctx);
  void doPatch(Ctx& ctx);
  void doDelete(Ctx& ctx);
  void doDeleteCollection(Ctx& ctx);
  void doTokenRequest(Ctx& ctx);
  void doReview(Ctx& ctx);
  void doScale(Ctx& ctx);

  Result<nlohmann::json> decodeBody(Ctx& ctx, const ResourceType& type);
  /// Turns a candidate object (view form) into the object to store. Called with mu held.
  Result<nlohmann::json> finalizeWrite(Ctx& ctx, const ResourceType& type,
                                       const nlohmann::json* current, nlohmann::json next,
                                       const std::string& subresource, bool managedFieldsDone);
  /// Stores a finalized object (no-op when unchanged; removal when finalizers emptied during
  /// deletion). Called with mu held. Returns the stored (view) object.
  nlohmann::json commitWrite(const ResourceType& type, const std::string& key,
                             const ObjPtr& current, nlohmann::json next);
  /// RBAC privilege-escalation check for Role/ClusterRole/*Binding writes; empty = allowed.
  std::string escalationCheck(Ctx& ctx, const ResourceType& type, const nlohmann::json& object,
                              const nlohmann::json* previous);
  /// Deletes one object (finalizers → deletionTimestamp). mu held. Returns (removed, view object).
  std::pair<bool, nlohmann::json> deleteObject(const ResourceType& type, const std::string& key,
                                               const ObjPtr& current,
                                               const std::string& propagation);

  // ---- storage (api_server_store.cc); all with mu held
  ObjPtr find(const std::string& storageKey, const std::string& key) const;
  ObjPtr put(const ResourceType& type, const std::string& key, nlohmann::json object,
             const ObjPtr& previous);
  nlohmann::json remove(const ResourceType& type, const std::string& key, const ObjPtr& previous);
  void record(StoredEvent event);
  nlohmann::json toView(const ResourceType& type, const nlohmann::json& stored) const;
  nlohmann::json toStorage(const ResourceType& type, nlohmann::json view) const;
  /// Every stored object of an RBAC kind, with apiVersion and kind set; the same list again
  /// until an RBAC object changes (rbacVersion).
  RbacObjects rbacObjects(const std::string& kind) const;
  ResourceTypePtr typeForStorageKey(const std::string& storageKey) const;
  bool namespaceActive(const std::string& ns) const;
  std::optional<std::string> fieldValue(const ResourceType& type, const nlohmann::json& obj,
                                        const std::string& field) const;
  Result<void> checkFieldSelector(const ResourceType& type, const FieldSelector& selector) const;
  /// Allocates (or, with `dryRun`, only checks as kube's dry-run allocator does: a requested
  /// clusterIP must be valid, in range and free) the Service's addresses.
  Result<void> allocateServiceAddresses(nlohmann::json& service, const nlohmann::json* current,
                                        bool dryRun = false);
  void releaseServiceAddresses(const nlohmann::json& service);
  void reindex();

  // ---- watch (api_server_watch.cc)
  void doWatch(Ctx& ctx);
  void dispatch(const StoredEvent& event);
  bool deliver(Watcher& w, const StoredEvent& event);
  void sendEvent(Watcher& w, const char* type, const nlohmann::json& object);
  void sendBookmark(Watcher& w, bool initialEventsEnd);
  void finishWatch(const WatcherPtr& w);
  void scheduleBookmark(const WatcherPtr& w);
  void watcherGone(std::uint64_t id);
  void expireHistory();
  void dropWatches();
  void bookmarkAll();
  void releaseParked();

  // ---- simulated controllers (api_server_controllers.cc); mu held unless noted
  void seed();
  void writeKubernetesEndpoints();
  void afterWrite(const ResourceType& type, const ObjPtr& before, const ObjPtr& after);
  void afterRemove(const ResourceType& type, const nlohmann::json& removed);
  void onNamespaceCreated(const std::string& ns);
  void scheduleNamespaceCleanup(const std::string& ns);
  void cleanupNamespace(const std::string& ns);
  void scheduleCrdCleanup(const std::string& name);
  void cleanupCrd(const std::string& name);
  void scheduleGc();
  void collectGarbage();
  void deploymentProgress(const std::string& key, bool done);
  void scheduleDeployment(const std::string& key, std::int64_t generation);
  void establishCrd(const std::string& name);
  /// Writes `object` as `manager` through the internal write path (no auth); mu held.
  ObjPtr systemWrite(const ResourceType& type, nlohmann::json object, const std::string& manager,
                     const std::string& subresource);
  ResourceTypePtr builtin(const std::string& group, const std::string& resource) const;
  void post(std::chrono::milliseconds delay, std::function<void(Impl&)> fn);

  // ---- accounting / faults
  /// Counts a finished request; true when its answer is to be lost (opts.loseResponseIf).
  bool account(const RequestRecord& record);
  std::optional<ApiError> injectedError(const RequestInfo& info);
};

/// The "ns/name" key of an object.
inline std::string objectKey(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

/// True when the calling thread holds `impl`'s mutex (RBAC lookups from inside a locked section).
bool lockedByThisThread(const ApiServer::Impl* impl);
/// Locks impl->mu and marks the thread as holding it.
class StoreLock {
 public:
  explicit StoreLock(const ApiServer::Impl* impl);
  ~StoreLock();
  void unlock();
  void lock();

 private:
  const ApiServer::Impl* impl_;
  bool locked_ = false;
  const ApiServer::Impl* previous_ = nullptr;
};

}  // namespace rio::testenv
