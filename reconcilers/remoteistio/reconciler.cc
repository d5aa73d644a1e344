#include "reconcilers/remoteistio/reconciler.h"

#include <algorithm>
#include <set>

#include "api/meta/duration.h"
#include "controller/cache/server_health.h"
#include "controller/core/base64.h"
#include "controller/helpers/conditions.h"
#include "controller/helpers/finalizers.h"
#include "reconcilers/desired/discovery.h"
#include "reconcilers/desired/gateway.h"
#include "reconcilers/desired/injector.h"
#include "reconcilers/desired/membership_objects.h"
#include "reconcilers/desired/trust.h"
#include "reconcilers/remoteistio/control_plane.h"
#include "reconcilers/remoteistio/namespace_labels.h"
#include "reconcilers/remoteistio/remote_certs.h"
#include "reconcilers/remoteistio/remote_writer.h"
#include "reconcilers/remoteistio/spec_mapping.h"
#include "reconcilers/resources.h"

namespace rio::reconcilers::remoteistio {
namespace {

using nlohmann::json;
using runtime::Result;
using v1beta1::RemoteIstio;
using v1beta1::RemoteIstioStatus;
namespace r = kube::resources;
namespace reason = v1beta1::reason;
namespace condition = v1beta1::condition;
namespace phase = v1beta1::phase;
namespace component = v1beta1::component;

constexpr std::chrono::milliseconds kMinRequeue{1000};
constexpr std::chrono::milliseconds kCacheWait{500};
// How long a Ready RemoteIstio keeps its status while a new connection lists its caches.
constexpr std::chrono::seconds kFirstListGrace{60};
constexpr std::chrono::milliseconds kDeletionRetry{std::chrono::seconds(15)};

// Reasons that mean something is wrong (Warning events, phase Degraded), as opposed to waiting.
bool isFailureReason(std::string_view r) {
  for (auto f :
       {reason::kInvalidSpec, reason::kCredentialsNotFound, reason::kBootstrapCredentialsInvalid,
        reason::kUnreachable, reason::kUnauthorized, reason::kForbidden, reason::kApplyFailed,
        reason::kFieldConflict, reason::kPrerequisitesNotMet, reason::kRootCAInvalid,
        reason::kCleanupDeadlineExceeded}) {
    if (r == f) return true;
  }
  return false;
}

meta::Condition trueCondition(std::string_view type, std::string_view why, std::string message,
                              int64_t gen) {
  return meta::Condition::make(type, meta::ConditionStatus::kTrue, why, std::move(message), gen);
}
meta::Condition falseCondition(std::string_view type, std::string_view why, std::string message,
                               int64_t gen) {
  return meta::Condition::make(type, meta::ConditionStatus::kFalse, why, std::move(message), gen);
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string layoutName(desired::DiscoveryLayout layout) {
  return layout == desired::DiscoveryLayout::kIstiod ? "istiod" : "legacy";
}

std::string modeName(v1beta1::NetworkMode mode) { return std::string(meta::enumName(mode)); }

// Replica counts of a Deployment as its controller reports them for the current spec.
struct Replicas {
  int available = 0;
  bool current = false;  // status describes the current generation and every replica is updated
};

Replicas replicasOf(const json& deployment, int desiredReplicas) {
  Replicas out;
  const json status = deployment.value("status", json::object());
  const json meta = deployment.value("metadata", json::object());
  if (!status.is_object()) return out;
  out.available = status.value("availableReplicas", 0);
  int updated = status.value("updatedReplicas", 0);
  out.current =
      status.value("observedGeneration", int64_t{0}) >= meta.value("generation", int64_t{0}) &&
      (desiredReplicas == 0 || updated >= desiredReplicas);
  return out;
}

json keyObject(const std::string& name, const std::string& ns) {
  json meta = {{"name", name}};
  if (!ns.empty()) meta["namespace"] = ns;
  return {{"metadata", meta}};
}

// A status write that lost against a newer version of the object (409): that version is on its
// way to the cache, so run again with it rather than report an error. Soon, and without growing
// the item's backoff: a status-only change passes no predicate of the controller, so the new
// version arriving does not bring us back, and after a burst of conflicts (a cache lagging behind
// a control plane that restarted or expired its watch history) the backoff alone would leave the
// status stale for up to its cap.
runtime::ReconcileOutcome statusFailed(const Error& error) {
  if (error.isConflict()) return Result::after(kCacheWait);
  return runtime::retryable(error);
}

std::optional<WallTime> earliest(std::optional<WallTime> a, std::optional<WallTime> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// One component's outcome in a pass.
struct Component {
  bool enabled = true;
  bool ready = false;
  std::string reason;
  std::string message;
  std::optional<RemoteFailure> failure;  // the first one
  std::optional<int> desiredReplicas;
  std::optional<int> readyReplicas;

  void fail(const RemoteFailure& f) {
    if (!failure) failure = f;
  }
  void set(bool isReady, std::string_view why, std::string text) {
    ready = isReady;
    reason = std::string(why);
    message = std::move(text);
  }
  meta::Condition toCondition(std::string_view type, int64_t gen,
                              const std::string& disabled) const {
    if (!enabled) return trueCondition(type, reason::kDisabled, disabled, gen);
    if (failure) return falseCondition(type, failure->reason, failure->message, gen);
    return ready ? trueCondition(type, reason, message, gen)
                 : falseCondition(type, reason, message, gen);
  }
  v1beta1::ComponentStatus toStatus(std::string_view name) const {
    v1beta1::ComponentStatus s;
    s.name = std::string(name);
    s.ready = !enabled || (ready && !failure);
    s.desiredReplicas = desiredReplicas;
    s.readyReplicas = readyReplicas;
    if (!s.ready) s.message = failure ? failure->message : message;
    return s;
  }
};

}  // namespace

struct RemoteIstioReconciler::Pass {
  Pass(const runtime::ReconcileContext& c, const RemoteIstio& r, const Connection& cn,
       RemoteWriter& w, WallTime t, std::string meshNs, desired::Owner o, int64_t g)
      : ctx(c),
        ri(r),
        conn(cn),
        writer(w),
        now(t),
        ns(std::move(meshNs)),
        owner(std::move(o)),
        generation(g) {}

  const runtime::ReconcileContext& ctx;
  const RemoteIstio& ri;
  const Connection& conn;
  RemoteWriter& writer;
  WallTime now;
  std::string ns;  // the remote mesh namespace
  desired::Owner owner;
  int64_t generation = 0;

  std::set<std::string> keep;         // objectId()s of everything desired
  bool pruneSafe = true;              // false when a component could not compute its objects
  std::map<std::string, int> counts;  // desired objects per kind
  std::optional<WallTime> renewAt;
  desired::DiscoveryLayout layout = desired::DiscoveryLayout::kLegacy;
  std::string discoveryAddress;
  std::string version;

  Component injector, webhook, discovery, trust, gateway, namespaces;
  std::vector<std::string> labeledNamespaces;

  // The object after the apply (null when it is not `wanted` and was created: not decoded).
  std::optional<json> apply(const desired::Manifest& m, Component& c, bool wanted = false) {
    keep.insert(objectId(m.resource, m.object));
    ++counts[m.resource.kind];
    auto out = writer.apply(m, wanted);
    if (!out) {
      c.fail(out.error());
      return std::nullopt;
    }
    return std::move(*out);
  }
  const json* cached(const kube::Resource& resource, const std::string& name) {
    auto informer = conn.remote->informer(resource);
    if (!informer) return nullptr;
    holds.push_back(informer->get({ns, name}));
    return holds.back().get();
  }
  std::vector<cache::ObjectPtr> holds;  // keeps cached objects alive while referenced
};

RemoteIstioReconciler::RemoteIstioReconciler(RemoteIstioDeps deps,
                                             RemoteIstioControllerOptions options)
    : deps_(std::move(deps)),
      options_(std::move(options)),
      resolver_(*deps_.registry, deps_.memberships, deps_.credentialSecrets, deps_.hub,
                options_.meshNamespace, options_.deletionTimeout),
      hubPki_(deps_.hub, deps_.operatorSecrets, options_.meshNamespace, options_.lifetimes),
      remoteNamespace_(deps_.registry->meshNamespace()) {
  if (!deps_.clock) deps_.clock = options_.clock ? options_.clock : systemClock();
  startedAt_ = deps_.clock->now();
}

runtime::ReconcileOutcome RemoteIstioReconciler::reconcile(const runtime::ReconcileContext& ctx,
                                                           const runtime::Request& request) {
  auto live = deps_.remoteIstios->get({request.ns, request.name});
  if (!live) {
    deps_.index->remove(request);
    std::lock_guard lock(syncedMu_);
    synced_.erase(request.ns + "/" + request.name);
    return Result::done();
  }
  auto decoded = v1beta1::decodeRemoteIstio(*live);
  const WallTime now = deps_.clock->wallNow();
  if (decoded.object.metadata.isBeingDeleted()) return finalize(ctx, *live, decoded.object, now);

  if (!decoded.ok()) {
    RemoteIstioStatus before =
        decoded.statusErrors.empty() ? decoded.object.status : RemoteIstioStatus{};
    RemoteIstioStatus after = before;
    meta::setCondition(after.conditions, decoded.invalidCondition(condition::kReady), now);
    after.phase = std::string(phase::kFailed);
    after.observedGeneration = decoded.object.metadata.generation;
    if (auto wrote = writeStatus(*live, before, after); !wrote) return statusFailed(wrote.error());
    ctx.logger().info("invalid spec: nothing applied", {{"error", decoded.message(1024)}});
    return runtime::terminal(Error::invalid(decoded.message(1024)));
  }
  return reconcileLive(ctx, *live, decoded.object, now);
}

runtime::ReconcileOutcome RemoteIstioReconciler::reconcileLive(const runtime::ReconcileContext& ctx,
                                                               const json& live,
                                                               const RemoteIstio& ri,
                                                               WallTime now) {
  const int64_t gen = ri.metadata.generation;
  const runtime::Request request{ri.metadata.namespace_, ri.metadata.name};
  RemoteIstioStatus before = ri.status;
  RemoteIstioStatus status = before;
  status.observedGeneration = gen;

  Connection conn = resolver_.resolve(ri);
  deps_.index->set(request, conn.cluster);
  auto logger = ctx.logger().with({{"cluster", conn.cluster}});

  // Not connected (no credentials, membership not ready, prerequisites failed): nothing applied.
  auto notConnected = [&](std::string_view why, const std::string& message,
                          std::string_view phaseName, bool unknown = false) {
    auto connected = unknown ? meta::Condition::make(condition::kConnected, meta::ConditionStatus::kUnknown,
                                             why, message, gen)
                             : falseCondition(condition::kConnected, why, message, gen);
    meta::setCondition(status.conditions, connected, now);
    std::string readyReason = isFailureReason(why) || why == reason::kMembershipNotReady
                                  ? std::string(why)
                                  : std::string(reason::kDependencyNotReady);
    meta::setCondition(status.conditions,
                       falseCondition(condition::kReady, readyReason, "Connected: " + message, gen),
                       now);
    status.phase = std::string(phaseName);
    if (deps_.metrics) deps_.metrics->setReady(conn.cluster, false);
    return writeStatus(live, before, status);
  };

  // After a restart or failover, this process connects and lists before it knows anything a
  // RemoteIstio Ready for its generation does not already say: reporting "waiting" meanwhile
  // would flap Ready, with two status writes and two Events per RemoteIstio, on every restart.
  // Past the grace, say why it waits.
  const auto* readyBefore = meta::findCondition(status.conditions, condition::kReady);
  const bool keepReady = readyBefore && readyBefore->status == meta::ConditionStatus::kTrue &&
                         readyBefore->observedGeneration == gen;
  if (!conn.remote) {
    // The MeshMembership reports its credentials issued but this process has not connected yet:
    // its controller's first pass here does. A spec changed meanwhile (during a failover, say)
    // asks that pass to come first rather than after the routine pass over every membership.
    if (conn.connectPending && deps_.clock->now() - startedAt_ < kFirstListGrace) {
      if (!keepReady && options_.hurryMembership) options_.hurryMembership(request);
      return Result::after(kCacheWait);
    }
    auto wrote = notConnected(conn.reason, conn.message, phase::kPending);
    if (!wrote) return statusFailed(wrote.error());
    logger.debug("remote cluster not connected", {{"reason", conn.reason}});
    if (conn.reason == reason::kMembershipNotReady) return Result::after(options_.membershipWait);
    // The Secret or MeshMembership informers bring us back; a Secret outside the mesh namespace is
    // not watched, so look again now and then.
    if (ri.metadata.namespace_ != options_.meshNamespace)
      return Result::after(options_.resyncPeriod);
    return Result::done();
  }

  // From here on the remote may receive objects: make sure deletion will clean them up.
  auto added = helpers::addFinalizer(*deps_.hub, reconcilers::kRemoteIstios, live,
                                     v1beta1::kRemoteIstioFinalizer);
  if (!added && helpers::isFinalizerRace(added.error()))
    return Result::withBackoff();  // a stale cache
  if (!added) return runtime::retryable(added.error());
  if (*added) {
    // Go on with the object as the API server now has it (the patch's answer) instead of
    // requeueing until the cache catches up: that requeue went through the queue's overall rate
    // limit (10/s, burst 100, as client-go's), so the first passes of N new RemoteIstios took at
    // least (N - 100) / 10 s.
    const nlohmann::json& fresh = **added;
    if (!helpers::hasFinalizer(fresh, v1beta1::kRemoteIstioFinalizer)) return Result::withBackoff();
    // Status and spec from the same fresh object: a status built on the cached (older) one
    // would patch away what a pass wrote meanwhile (lastSyncTime, say).
    auto decodedFresh = v1beta1::decodeRemoteIstio(fresh);
    if (!decodedFresh.ok() || decodedFresh.object.metadata.isBeingDeleted())
      return Result::withBackoff();  // changed meanwhile: the next pass takes the usual path
    return reconcileLive(ctx, fresh, decodedFresh.object, now);
  }

  const auto& remote = conn.remote;
  if (remote->health()->suspect()) {
    remote->probeIfSuspect();  // else nothing may ever tell us it answers again
    auto message = "cluster " + conn.cluster + " (" + remote->client()->server() +
                   ") does not answer; retrying with backoff";
    auto wrote = notConnected(reason::kUnreachable, message, phase::kDegraded);
    if (!wrote) return statusFailed(wrote.error());
    return runtime::retryable(Error::transport(message));
  }
  if (!remote->synced()) {
    // The namespace list and owned-object caches decide what to create, label and prune.
    if (keepReady && deps_.clock->now() - remote->connectedAt() < kFirstListGrace) {
      return Result::after(kCacheWait);
    }
    std::vector<std::string> pending;
    auto kinds = reconcilers::ownedNamespacedResources();
    for (const auto& res : reconcilers::ownedClusterResources()) kinds.push_back(res);
    for (const auto& res : kinds) {
      if (auto informer = remote->informer(res); informer && !informer->hasSynced()) {
        pending.push_back(res.qualifiedName());
      }
    }
    if (!remote->namespaces()->hasSynced()) pending.push_back("namespaces");
    auto wrote = notConnected(
        reason::kProgressing,
        "waiting for the first list of " + join(pending) + " in cluster " + conn.cluster,
        phase::kProgressing, /*unknown=*/true);
    if (!wrote) return statusFailed(wrote.error());
    return Result::after(kCacheWait);
  }

  RemoteWriter writer(remote, remoteNamespace_, deps_.metrics.get(),
                      [&ctx] { return ctx.cancelled(); });
  Pass pass(ctx, ri, conn, writer, now, remoteNamespace_, ownerFor(ri, conn.cluster), gen);
  sync(pass);

  // ---- Status.
  if (writer.stopped()) {
    const auto& f = *writer.stopFailure();
    meta::setCondition(status.conditions,
                       falseCondition(condition::kConnected, f.reason, f.message, gen), now);
  } else {
    meta::setCondition(status.conditions,
                       trueCondition(condition::kConnected, reason::kReconciled,
                                     "connected to cluster " + conn.cluster +
                                         " with the credentials of " + conn.credentialsSource,
                                     gen),
                       now);
  }
  meta::setCondition(status.conditions,
                     pass.injector.toCondition(condition::kInjectorReady, gen,
                                               "spec.sidecarInjector.enabled is false"),
                     now);
  meta::setCondition(status.conditions,
                     pass.webhook.toCondition(condition::kWebhookConfigured, gen,
                                              "spec.sidecarInjector.enabled is false: no webhook"),
                     now);
  meta::setCondition(status.conditions,
                     pass.namespaces.toCondition(condition::kNamespacesLabeled, gen, ""), now);
  meta::setCondition(status.conditions,
                     pass.discovery.toCondition(condition::kDiscoverySynced, gen, ""), now);
  meta::setCondition(
      status.conditions,
      pass.trust.toCondition(condition::kTrustSynced, gen,
                             "spec.security.cacerts.enabled is false: trust is managed elsewhere"),
      now);

  std::vector<std::string> notReady;
  std::string readyReason;
  for (auto type : condition::kRemoteIstioTypes) {
    if (type == condition::kReady) continue;
    const meta::Condition* c = meta::findCondition(status.conditions, type);
    if (c && c->status == meta::ConditionStatus::kTrue) continue;
    notReady.push_back(std::string(type) + ": " + (c ? c->message : std::string("unknown")));
    if (readyReason.empty() && c && isFailureReason(c->reason)) readyReason = c->reason;
  }
  const bool ready = notReady.empty();
  if (ready) {
    std::string summary = "cluster " + conn.cluster + " is in the mesh (" + modeName(conn.mode) +
                          " network, " + layoutName(pass.layout) + " control plane)";
    meta::setCondition(status.conditions,
                       trueCondition(condition::kReady, reason::kReconciled, summary, gen), now);
  } else {
    if (readyReason.empty()) readyReason = std::string(reason::kDependencyNotReady);
    meta::setCondition(status.conditions,
                       falseCondition(condition::kReady, readyReason, join(notReady, "; "), gen),
                       now);
  }
  status.phase = std::string(ready ? phase::kReady
                             : std::any_of(status.conditions.begin(), status.conditions.end(),
                                           [](const meta::Condition& c) {
                                             return c.status == meta::ConditionStatus::kFalse &&
                                                    isFailureReason(c.reason);
                                           })
                                 ? phase::kDegraded
                                 : phase::kProgressing);
  status.components.clear();
  status.components.push_back(pass.injector.toStatus(component::kSidecarInjector));
  status.components.push_back(pass.webhook.toStatus(component::kWebhook));
  status.components.push_back(pass.discovery.toStatus(component::kDiscovery));
  status.components.push_back(pass.trust.toStatus(component::kTrust));
  if (pass.gateway.enabled)
    status.components.push_back(pass.gateway.toStatus(component::kIngressGateway));
  if (!pass.version.empty()) status.kubernetesVersion = pass.version;
  status.labeledNamespaces = pass.labeledNamespaces;
  {
    const std::string key = ri.metadata.namespace_ + "/" + ri.metadata.name;
    std::lock_guard lock(syncedMu_);
    if (writer.wrote()) synced_[key] = meta::toTime(now);
    if (auto it = synced_.find(key);
        it != synced_.end() && (!status.lastSyncTime || *status.lastSyncTime < it->second)) {
      status.lastSyncTime = it->second;
    }
  }

  if (deps_.metrics) {
    deps_.metrics->setReady(conn.cluster, ready);
    auto kinds = reconcilers::ownedNamespacedResources();
    for (const auto& res : reconcilers::ownedClusterResources()) kinds.push_back(res);
    for (const auto& res : kinds) {
      auto it = pass.counts.find(res.kind);
      deps_.metrics->setRemoteObjects(conn.cluster, res.kind,
                                      it == pass.counts.end() ? 0 : it->second);
    }
  }

  const bool wasReady = meta::isConditionTrue(before.conditions, condition::kReady);
  if (writer.wrote() && wasReady) {
    event(live, false, reason::kReconciled,
          "repaired cluster " + conn.cluster + ": created " + std::to_string(writer.created()) +
              ", updated " + std::to_string(writer.updated()) + ", deleted " +
              std::to_string(writer.deleted()) + " object(s)");
  }
  if (auto wrote = writeStatus(live, before, status); !wrote) return statusFailed(wrote.error());
  if (writer.wrote()) {
    logger.info("remote cluster reconciled", {{"created", writer.created()},
                                              {"updated", writer.updated()},
                                              {"deleted", writer.deleted()},
                                              {"ready", ready}});
  }

  // ---- What next.
  if (writer.stopped()) return runtime::retryable(writer.stopFailure()->error);
  for (const Component* c : {&pass.injector, &pass.webhook, &pass.discovery, &pass.trust,
                             &pass.gateway, &pass.namespaces}) {
    if (c->failure) return runtime::retryable(c->failure->error);
  }
  auto next = options_.resyncPeriod;
  if (pass.renewAt) {
    auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*pass.renewAt - now);
    next = std::min(next, std::max(until, kMinRequeue));
  }
  return Result::after(next);
}

void RemoteIstioReconciler::sync(Pass& pass) {
  pass.version = kubernetesVersion(pass);

  // The hub decides where remote sidecars find the control plane.
  std::vector<cache::ObjectPtr> pods =
      deps_.pilotPods ? deps_.pilotPods->store().list() : std::vector<cache::ObjectPtr>{};
  std::vector<cache::ObjectPtr> services =
      deps_.services ? deps_.services->store().list() : std::vector<cache::ObjectPtr>{};
  pass.layout = detectLayout(services);
  pass.discoveryAddress = desired::discoveryAddress(pass.layout, pass.ns, /*mtls=*/false);

  // The mesh namespace: created (legacy credentials only) when missing; a MeshMembership makes it.
  if (!pass.conn.remote->namespaces()->get({"", pass.ns}) && !pass.conn.viaMembership) {
    desired::MembershipParams p{pass.owner, pass.ns};
    Component scratch;
    pass.apply(desired::meshNamespace(p), scratch);
    if (scratch.failure) {
      pass.injector.fail(*scratch.failure);
      pass.discovery.fail(*scratch.failure);
      pass.trust.fail(*scratch.failure);
    }
  }

  syncInjector(pass);
  syncDiscovery(pass);
  syncTrust(pass);
  syncGateway(pass);
  if (pass.pruneSafe && !pass.writer.stopped()) pass.writer.prune(pass.owner, pass.keep);
  syncNamespaces(pass);
}

std::string RemoteIstioReconciler::kubernetesVersion(Pass& pass) {
  if (!pass.conn.kubernetesVersion.empty()) return pass.conn.kubernetesVersion;
  const auto& remote = pass.conn.remote;
  {
    std::lock_guard lock(versionsMu_);
    auto it = versions_.find(pass.conn.cluster);
    if (it != versions_.end() && it->second.first.lock() == remote) return it->second.second;
  }
  auto version = pass.writer.serverVersion();
  if (!version) return pass.ri.status.kubernetesVersion;
  std::lock_guard lock(versionsMu_);
  versions_[pass.conn.cluster] = {remote, *version};
  return *version;
}

void RemoteIstioReconciler::syncInjector(Pass& pass) {
  Component& injector = pass.injector;
  Component& webhook = pass.webhook;
  if (!injectorEnabled(pass.ri)) {
    injector.enabled = webhook.enabled = false;
    return;
  }
  const int replicas = injectorReplicas(pass.ri);
  injector.desiredReplicas = replicas;
  auto hubFailure = [&](const Error& e) {
    RemoteFailure f{std::string(reason::kApplyFailed), "control plane: " + e.message(), e};
    injector.fail(f);
    webhook.fail(f);
    pass.pruneSafe = false;
  };
  auto ca = hubPki_.webhookCa(pass.now);
  if (!ca) return hubFailure(ca.error());
  auto serving = servingCertificate(pass.cached(r::kSecrets, desired::kInjectorCertSecret), *ca,
                                    pass.ns, pass.now, options_.lifetimes.serving);
  if (!serving) return hubFailure(serving.error());
  pass.renewAt =
      earliest(pass.renewAt, earliest(renewalTime(serving->certPem), renewalTime(ca->certPem)));

  desired::InjectorParams params =
      injectorParams(pass.ri, pass.owner, pass.ns, pass.discoveryAddress);
  params.caBundlePem = ca->certPem;
  params.servingCertPem = serving->certPem;
  params.servingKeyPem = serving->keyPem;
  std::optional<json> deployment, mwc;
  for (const auto& m : desired::sidecarInjector(params)) {
    const bool isWebhook = m.resource == r::kMutatingWebhookConfigurations;
    const bool wanted = isWebhook || m.resource == r::kDeployments;
    auto out = pass.apply(m, isWebhook ? webhook : injector, wanted);
    if (!out) continue;
    if (m.resource == r::kDeployments) {
      deployment = std::move(out);
    } else if (isWebhook) {
      mwc = std::move(out);
    }
  }

  if (!injector.failure && deployment) {
    Replicas rs = replicasOf(*deployment, replicas);
    injector.readyReplicas = rs.available;
    std::string counts =
        std::to_string(rs.available) + "/" + std::to_string(replicas) + " replicas available";
    if (rs.current && rs.available == replicas) {
      injector.set(true, reason::kReconciled,
                   "Deployment " + pass.ns + "/" + desired::kInjectorName + ": " + counts);
    } else {
      injector.set(false, reason::kReplicasNotReady,
                   "Deployment " + pass.ns + "/" + desired::kInjectorName + ": " + counts);
    }
  }
  if (!webhook.failure && mwc) {
    // What the API server will do: trust the caBundle of the live configuration, call the
    // Service's DNS name, and get the serving certificate of the Secret.
    std::string bundle;
    const json& hooks = mwc->value("webhooks", json::array());
    if (hooks.is_array() && !hooks.empty()) {
      auto decoded =
          base64::decode(hooks[0].value("clientConfig", json::object()).value("caBundle", ""));
      if (decoded) bundle = *decoded;
    }
    auto verified = pki::verify(serving->certPem, bundle, pass.now, webhookHostName(pass.ns));
    if (verified) {
      auto info = pki::parseCertificate(serving->certPem);
      webhook.set(
          true, reason::kReconciled,
          "MutatingWebhookConfiguration " + std::string(desired::kInjectorName) +
              ": the caBundle verifies the serving certificate of " + webhookHostName(pass.ns) +
              (info ? " (valid until " + meta::formatTime(info->notAfter) + ")" : std::string()));
    } else {
      webhook.set(false, reason::kProgressing,
                  "MutatingWebhookConfiguration " + std::string(desired::kInjectorName) +
                      ": the caBundle does not verify the serving certificate yet: " +
                      verified.error().message());
    }
  }
}

void RemoteIstioReconciler::syncDiscovery(Pass& pass) {
  Component& discovery = pass.discovery;
  auto addresses = controlPlaneAddresses(
      pass.conn.mode, options_.meshNamespace,
      deps_.pilotPods ? deps_.pilotPods->store().list() : std::vector<cache::ObjectPtr>{},
      deps_.services ? deps_.services->store().list() : std::vector<cache::ObjectPtr>{});
  desired::DiscoveryParams params;
  params.owner = pass.owner;
  params.meshNamespace = pass.ns;
  params.layout = addresses.layout;
  params.addresses = addresses.addresses;
  for (const auto& m : desired::discoveryServices(params)) pass.apply(m, discovery);
  if (discovery.failure) return;
  const std::string names = join(desired::discoveryServiceNames(addresses.layout));
  if (addresses.addresses.empty()) {
    discovery.set(false, reason::kNoControlPlaneAddress,
                  pass.conn.mode == v1beta1::NetworkMode::kGateway
                      ? "no LoadBalancer address (status.loadBalancer.ingress) on " +
                            addresses.source + " of the control plane: " + names +
                            " have no endpoints"
                      : "no running pod with an IP among the " + addresses.source +
                            " of the control plane: " + names + " have no endpoints");
    return;
  }
  discovery.set(true, reason::kReconciled,
                names + " in " + pass.ns + " point at " + join(addresses.addresses) + " (" +
                    modeName(pass.conn.mode) + " network, " + layoutName(addresses.layout) +
                    " layout, from " + addresses.source + ")");
}

void RemoteIstioReconciler::syncTrust(Pass& pass) {
  Component& trust = pass.trust;
  if (!cacertsEnabled(pass.ri)) {
    trust.enabled = false;
    return;
  }
  const auto rootSecret = rootSecretName(pass.ri);
  const std::string rootSource = hubPki_.rootSource(pass.ri.metadata.namespace_, rootSecret);
  auto root = hubPki_.meshRoot(pass.ri.metadata.namespace_, rootSecret, pass.now);
  if (!root) {
    // Keep what the remote has: a broken root must not take its trust away.
    pass.keep.insert(objectId(r::kSecrets, keyObject(desired::kCacertsSecret, pass.ns)));
    std::string why(root.error().kind() == ErrorKind::kInvalid ? reason::kRootCAInvalid
                                                               : reason::kApplyFailed);
    trust.fail(RemoteFailure{why, "mesh root: " + root.error().message(), root.error()});
    return;
  }
  auto ca = clusterCa(pass.cached(r::kSecrets, desired::kCacertsSecret), *root, pass.conn.cluster,
                      pass.now, intermediateLifetime(pass.ri));
  if (!ca) {
    pass.keep.insert(objectId(r::kSecrets, keyObject(desired::kCacertsSecret, pass.ns)));
    trust.fail(RemoteFailure{std::string(reason::kApplyFailed), ca.error().message(), ca.error()});
    return;
  }
  pass.renewAt = earliest(pass.renewAt, renewalTime(ca->intermediate.certPem));
  desired::TrustParams params{
      pass.owner,      pass.ns,         ca->intermediate.certPem, ca->intermediate.keyPem,
      ca->rootCertPem, ca->certChainPem};
  pass.apply(desired::cacertsSecret(params), trust);
  if (trust.failure) return;
  auto info = pki::parseCertificate(ca->intermediate.certPem);
  trust.set(true, reason::kReconciled,
            "Secret " + pass.ns + "/" + desired::kCacertsSecret +
                " holds the intermediate CA of cluster " + pass.conn.cluster +
                " signed by the mesh root in " + rootSource +
                (info ? " (valid until " + meta::formatTime(info->notAfter) + ")" : std::string()));
}

void RemoteIstioReconciler::syncGateway(Pass& pass) {
  Component& gateway = pass.gateway;
  if (!gatewayEnabled(pass.ri)) {
    gateway.enabled = false;
    return;
  }
  const int replicas = gatewayReplicas(pass.ri);
  gateway.desiredReplicas = replicas;
  std::optional<json> deployment;
  for (const auto& m : desired::ingressGateway(
           gatewayParams(pass.ri, pass.owner, pass.ns, pass.discoveryAddress))) {
    auto out = pass.apply(m, gateway, m.resource == r::kDeployments);
    if (out && m.resource == r::kDeployments) deployment = std::move(out);
  }
  if (gateway.failure || !deployment) return;
  Replicas rs = replicasOf(*deployment, replicas);
  gateway.readyReplicas = rs.available;
  std::string text = "Deployment " + pass.ns + "/" + desired::kIngressGatewayName + ": " +
                     std::to_string(rs.available) + "/" + std::to_string(replicas) +
                     " replicas available";
  gateway.set(
      rs.current && rs.available == replicas,
      rs.current && rs.available == replicas ? reason::kReconciled : reason::kReplicasNotReady,
      text);
}

void RemoteIstioReconciler::syncNamespaces(Pass& pass) {
  Component& ns = pass.namespaces;
  const auto wanted = injectionNamespaces(pass.ri);
  auto plan = planNamespaceLabels(wanted, pass.conn.remote->namespaces()->store().list());
  std::vector<std::string> labeled = plan.labeled;
  for (const auto& name : plan.toLabel) {
    if (auto out = pass.writer.applyNamespaceLabels(labelApply(name)); out) {
      labeled.push_back(name);
    } else {
      ns.fail(out.error());
    }
  }
  for (const auto& name : plan.toUnlabel) {
    if (auto out = pass.writer.applyNamespaceLabels(unlabelApply(name)); !out) ns.fail(out.error());
  }
  std::sort(labeled.begin(), labeled.end());
  pass.labeledNamespaces = labeled;
  if (ns.failure) return;
  if (!plan.conflicts.empty()) {
    std::vector<std::string> parts;
    for (const auto& [name, value] : plan.conflicts) {
      parts.push_back("namespace " + name + " has " + std::string(desired::kInjectionLabel) + "=" +
                      value + ", set by someone else");
    }
    ns.set(false, reason::kFieldConflict, join(parts, "; ") + "; not overwritten");
    // A conflict is the user's to resolve: no retry storm, the namespace's next change brings us
    // back.
    return;
  }
  std::vector<std::string> parts;
  if (wanted.empty()) parts.push_back("spec.autoInjectionNamespaces is empty");
  if (!labeled.empty()) {
    parts.push_back("labelled " + std::string(desired::kInjectionLabel) +
                    "=enabled: " + join(labeled));
  }
  if (!plan.labeledByOthers.empty()) {
    parts.push_back("labelled by someone else: " + join(plan.labeledByOthers));
  }
  if (!plan.missing.empty()) {
    parts.push_back("not present yet (labelled when created): " + join(plan.missing));
  }
  std::string text = join(parts, "; ");
  ns.set(true, reason::kReconciled, text);
}

Expected<bool> RemoteIstioReconciler::writeStatus(const json& live, const RemoteIstioStatus& before,
                                                  const RemoteIstioStatus& after) {
  auto wrote = helpers::updateStatusIfChanged(*deps_.hub, reconcilers::kRemoteIstios, live,
                                              meta::encode(after));
  if (!wrote) return wrote;
  // Events for transitions: Ready turning True or leaving True, or failing for a new reason
  // (Warning), and any other condition that turns False for a failure Ready does not already
  // name. The waits of a first install (membership, first lists, rollout) are in the status; a
  // new RemoteIstio records one Event when it is Ready.
  const meta::Condition* readyNow = meta::findCondition(after.conditions, condition::kReady);
  for (const auto& c : after.conditions) {
    const meta::Condition* old = meta::findCondition(before.conditions, c.type);
    if (old && old->status == c.status && old->reason == c.reason) continue;
    const bool failing = c.status == meta::ConditionStatus::kFalse && isFailureReason(c.reason);
    if (c.type == condition::kReady) {
      const bool wasTrue = old && old->status == meta::ConditionStatus::kTrue;
      if (c.status != meta::ConditionStatus::kTrue && !wasTrue && !failing) continue;
      event(live, failing, c.reason,
            "Ready=" + std::string(meta::toString(c.status)) + ": " + c.message);
    } else if (failing && !(readyNow && readyNow->reason == c.reason)) {
      event(live, true, c.reason, c.type + ": " + c.message);
    }
  }
  return wrote;
}

void RemoteIstioReconciler::event(const json& live, bool warning, std::string_view why,
                                  const std::string& message) {
  if (!deps_.recorder) return;
  deps_.recorder->event(live, reconcilers::kRemoteIstios,
                        warning ? events::EventType::kWarning : events::EventType::kNormal, why,
                        message);
}

void RemoteIstioReconciler::forgetCluster(const Connection& conn) {
  {
    std::lock_guard lock(versionsMu_);
    versions_.erase(conn.cluster);
  }
  if (!deps_.metrics) return;
  deps_.metrics->setReady(conn.cluster, false);
  auto kinds = reconcilers::ownedNamespacedResources();
  for (const auto& res : reconcilers::ownedClusterResources()) kinds.push_back(res);
  for (const auto& res : kinds) deps_.metrics->setRemoteObjects(conn.cluster, res.kind, 0);
  // The membership's series (reachability, credentials) stay while it exists.
  if (!conn.viaMembership) deps_.metrics->forgetCluster(conn.cluster);
}

runtime::ReconcileOutcome RemoteIstioReconciler::finalize(const runtime::ReconcileContext& ctx,
                                                          const json& live, const RemoteIstio& ri,
                                                          WallTime now) {
  const runtime::Request request{ri.metadata.namespace_, ri.metadata.name};
  if (!ri.metadata.hasFinalizer(v1beta1::kRemoteIstioFinalizer)) {
    deps_.index->remove(request);
    return Result::done();
  }
  Connection conn = resolver_.resolve(ri);
  auto logger = ctx.logger().with({{"cluster", conn.cluster}});
  const desired::Owner owner = ownerFor(ri, conn.cluster);

  auto complete = [&](const std::string& note, bool warning,
                      std::string_view why) -> runtime::ReconcileOutcome {
    auto removed = helpers::removeFinalizer(*deps_.hub, reconcilers::kRemoteIstios, live,
                                            v1beta1::kRemoteIstioFinalizer);
    if (!removed && helpers::isFinalizerRace(removed.error())) return Result::withBackoff();
    if (!removed) return runtime::retryable(removed.error());
    event(live, warning, why, note);
    logger.info("remote istio deleted", {{"outcome", std::string(why)}});
    forgetCluster(conn);
    deps_.index->remove(request);
    // A legacy Secret's connection is this controller's; a membership's stays with it.
    if (!conn.viaMembership && conn.remote) deps_.registry->disconnect(conn.cluster);
    return Result::done();
  };

  if (ri.metadata.annotation(v1beta1::kOrphanOnDeleteAnnotation).value_or("") == "true") {
    return complete(
        "orphan-on-delete: every object in cluster " + conn.cluster + " was left in place", false,
        reason::kDeleting);
  }

  std::string problem;
  if (!conn.remote) {
    problem = conn.message;
  } else if (conn.remote->health()->suspect()) {
    conn.remote->probeIfSuspect();
    problem = "cluster " + conn.cluster + " does not answer";
  } else {
    RemoteWriter writer(conn.remote, remoteNamespace_, deps_.metrics.get(),
                        [&ctx] { return ctx.cancelled(); });
    bool listed = true;
    auto owned = writer.ownedObjects(owner, /*listWhenUnsynced=*/true, &listed);
    int removed = 0;
    for (const auto& [res, obj] : owned) {
      if (writer.remove(res, obj)) ++removed;
    }
    // Injection labels it added. Unsynced namespace cache: ask the server for the marked ones.
    std::vector<cache::ObjectPtr> namespaces;
    if (conn.remote->namespaces()->hasSynced()) {
      namespaces = conn.remote->namespaces()->store().list();
    } else if (!writer.stopped()) {
      kube::ListOptions options;
      options.labelSelector = std::string(desired::kInjectionOwnerLabel) + "=true";
      auto got = conn.remote->client()->listAll(r::kNamespaces, "", options);
      if (got) {
        for (const auto& item : got->value("items", json::array())) {
          namespaces.push_back(std::make_shared<const json>(item));
        }
      } else {
        listed = false;
        problem = got.error().message();
      }
    }
    auto plan = planNamespaceLabels({}, namespaces);
    for (const auto& name : plan.toUnlabel) (void)writer.applyNamespaceLabels(unlabelApply(name));
    // The mesh namespace, when this RemoteIstio created it (legacy credentials): last.
    if (auto meshNs = conn.remote->namespaces()->get({"", remoteNamespace_})) {
      const std::string* kind = cache::labelOf(*meshNs, desired::kOwnerKindLabel);
      const std::string* value = cache::labelOf(*meshNs, desired::kOwnerLabel);
      if (!writer.stopped() && kind && *kind == owner.kind && value &&
          *value == desired::ownerValue(owner)) {
        (void)writer.remove(r::kNamespaces, *meshNs);
      }
    }
    if (!writer.failures().empty()) {
      problem = writer.failures().front().message;
    } else if (!listed && problem.empty()) {
      problem = "the objects of cluster " + conn.cluster + " could not be listed";
    }
    if (problem.empty()) {
      return complete(
          "removed " + std::to_string(removed) + " object(s) and the injection labels of " +
              std::to_string(plan.toUnlabel.size()) + " namespace(s) from cluster " + conn.cluster,
          false, reason::kDeleting);
    }
  }

  // Not cleaned up: retry until the deadline, then finish and say what was left behind.
  const WallTime requested =
      ri.metadata.deletionTimestamp ? WallTime(*ri.metadata.deletionTimestamp) : now;
  const WallTime deadline = requested + conn.deletionTimeout;
  if (now >= deadline) {
    std::string left = "every object labelled " + desired::ownerSelector(owner) + " in namespace " +
                       remoteNamespace_ + " and the MutatingWebhookConfiguration " +
                       desired::kInjectorName +
                       ", and the injection labels of namespaces labelled " +
                       std::string(desired::kInjectionOwnerLabel) + "=true";
    return complete("gave up cleaning cluster " + conn.cluster + " after " +
                        meta::formatDuration(conn.deletionTimeout) + " (" + problem +
                        "); left behind: " + left,
                    true, reason::kCleanupDeadlineExceeded);
  }
  RemoteIstioStatus before = ri.status;
  RemoteIstioStatus status = before;
  meta::setCondition(
      status.conditions,
      falseCondition(condition::kReady, reason::kDeleting,
                     "cleaning up cluster " + conn.cluster + ": " + problem +
                         "; deletion completes anyway at " + meta::formatTime(deadline),
                     ri.metadata.generation),
      now);
  status.phase = std::string(phase::kTerminating);
  if (auto wrote = writeStatus(live, before, status); !wrote) return statusFailed(wrote.error());
  logger.info("remote cleanup pending", {{"problem", problem}});
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
  return Result::after(std::max(kMinRequeue, std::min(wait, kDeletionRetry)));
}

}  // namespace rio::reconcilers::remoteistio
