#include "reconcilers/membership/reconciler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "api/meta/cidr.h"
#include "api/meta/duration.h"
#include "api/meta/time.h"
#include "api/v1beta1/mesh_membership.h"
#include "api/v1beta1/names.h"
#include "controller/cache/server_health.h"
#include "controller/helpers/apply.h"
#include "controller/helpers/conditions.h"
#include "controller/helpers/finalizers.h"
#include "controller/kube/kubeconfig.h"
#include "reconcilers/desired/membership_objects.h"
#include "reconcilers/desired/remote_secret.h"
#include "reconcilers/membership/cleanup.h"
#include "reconcilers/membership/credentials.h"
#include "reconcilers/membership/network.h"
#include "reconcilers/membership/prerequisites.h"

namespace rio::reconcilers::membership {

namespace condition = v1beta1::condition;
namespace reason = v1beta1::reason;
namespace r = kube::resources;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ConditionStatus = meta::ConditionStatus;

namespace {

// Identity of a shared object that survives its release (the control block stays while a weak
// reference does, so the address is not reused): "still the same object?".
using Identity = std::weak_ptr<const void>;
bool same(const Identity& a, const Identity& b) { return !a.owner_before(b) && !b.owner_before(a); }

// What a pass reads besides the probe outcome and the clock: while none of it changes, the last
// pass that ended Ready still holds.
struct PassInputs {
  Identity object;       // this MeshMembership in the cache
  std::uint64_t checks = 0;  // MemberIndex::checksVersion
  Identity creds;        // the operator's credentials Secret in the cache
  Identity remoteSecret;  // istiod's remote secret in the cache
  Identity connection;   // the registry's connection
  bool synced = false;
  std::string drift;
  Identity remote;       // the client probed and used
  bool operator==(const PassInputs& o) const {
    return same(object, o.object) && checks == o.checks && same(creds, o.creds) && same(remoteSecret, o.remoteSecret) &&
           same(connection, o.connection) && synced == o.synced && drift == o.drift && same(remote, o.remote);
  }
};

// Shared between a member's passes and its probe completions (I/O threads): a completion queues
// a pass only when the pass could change something; after a pass that ended Ready, one that
// repeats what that pass read (reachability, version, rounded skew) does not; nor does a new
// latency alone (it is written with the next status write that happens anyway).
struct ProbeQuiet {
  std::mutex mu;  // guards everything below
  bool armed = false;        // the last full pass ended Ready, having read `consumed`
  bool pendingFull = false;  // a pass since saw other inputs change
  ProbeOutcome consumed;
  std::string latency;       // status.probeLatency and status.clockSkew it wrote
  std::string skew;
  SteadyTime until{};        // something falls due then (full probe, token renewal)
};

}  // namespace

// Per-member state kept between reconciles (not needed for correctness after a restart: the
// credentials Secret and the status hold what must survive).
struct MembershipReconciler::Member {
  std::string cluster;
  // The operator's own connection: probing, minting and cleanup once joined. Its token is
  // rotated in place.
  RemoteEndpoint endpoint;
  std::shared_ptr<kube::RotatingTokenSource> token;
  kube::ClientPtr client;
  // The temporary bootstrap connection while one is needed.
  std::string bootstrapVersion;  // resourceVersion of the Secret it was built from
  RemoteEndpoint bootstrapEndpoint;
  kube::ClientPtr bootstrapClient;
  // Full probe results.
  std::optional<NodeFacts> nodes;
  SteadyTime nodesAt{};
  std::int64_t nodesGeneration = -1;
  std::string serviceCidr;
  std::int64_t serviceCidrGeneration = -1;
  // Why the bootstrap credentials are needed although the operator has its own (its token was
  // rejected, or RBAC joining created was removed); empty when they are not.
  std::string forceBootstrap;
  // The two Secrets as last written: the informer may not have seen a write yet when the next
  // pass runs, and a stale copy must not cause a second round of minting.
  cache::ObjectPtr credsWritten;
  cache::ObjectPtr remoteSecretWritten;
  // The status last written and the resourceVersion it was written over: while the cache still
  // shows that version, the pass starts from what was written (no second write, no repeated
  // transition Events).
  nlohmann::json statusWritten;
  std::string statusWrittenOver;
  // Probe completions that change nothing queue no pass (ProbeQuiet); what the last pass that
  // ended Ready read, and the outcome whose metrics were last recorded (by its `at`).
  std::shared_ptr<ProbeQuiet> quiet = std::make_shared<ProbeQuiet>();
  PassInputs readyInputs;
  SteadyTime recordedAt{};
  // The connection health this member listens to (ServerHealth::onSuspect).
  std::weak_ptr<cache::ServerHealth> listening;
};

// One reconcile's working set.
struct MembershipReconciler::Pass {
  Pass(const runtime::ReconcileContext& c, runtime::Request r) : ctx(c), req(std::move(r)) {}
  const runtime::ReconcileContext& ctx;
  runtime::Request req;
  std::string key;
  nlohmann::json live;  // the MeshMembership as last read
  cache::ObjectPtr cached;  // ... and as the cache holds it
  v1beta1::MeshMembership mm;
  std::int64_t generation = 0;
  std::string cluster;
  desired::Owner owner;
  desired::MembershipParams params;
  v1beta1::MeshMembershipStatus status;     // being built
  std::vector<meta::Condition> before;       // conditions as read
  bool wasReady = false;
  WallTime now{};
  log::Logger log;
  std::shared_ptr<Member> m;
};

namespace {

constexpr milliseconds kMinRequeue{500};
constexpr seconds kTtlTolerance{60};  // timestamps are stored with second precision

// The reason a failed remote request is reported with.
std::string_view reasonFor(const Error& e) {
  if (e.isUnauthorized()) return reason::kUnauthorized;
  if (e.isForbidden()) return reason::kForbidden;
  if (e.kind() == ErrorKind::kApi && !e.isServerError() && !e.isTooManyRequests()) return reason::kApplyFailed;
  return reason::kUnreachable;
}

// True when a failure means the server did not answer usefully (worth a retry on the probe cadence).
bool noAnswer(const Error& e) { return e.kind() != ErrorKind::kApi || e.isServerError() || e.isTooManyRequests(); }

// Latency rounded to a coarse bucket, kept while the new value stays within a factor of four of
// the recorded one, so a converged member's status does not change with network jitter or a busy
// operator (each change is a status write; the exact figure is the probe-duration metric).
std::string roundedLatency(const std::string& previous, milliseconds latency) {
  static constexpr int kBuckets[] = {10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000};
  if (auto old = meta::parseDuration(previous)) {
    auto oldMs = duration_cast<milliseconds>(*old).count();
    if (oldMs > 0 && latency.count() <= oldMs * 4 && latency.count() * 4 >= oldMs) return previous;
  }
  int bucket = kBuckets[std::size(kBuckets) - 1];
  for (int b : kBuckets) {
    if (latency.count() <= b) {
      bucket = b;
      break;
    }
  }
  return meta::formatDurationShort(milliseconds(bucket));
}

// Skew rounded to whole seconds, "0s" within two seconds (the Date header has second precision);
// kept unless it moved by two seconds or more.
std::string roundedSkew(const std::string& previous, std::optional<milliseconds> skew) {
  if (!skew) return previous;
  const long long ms = skew->count();
  const long long secs = std::llabs(ms) < 2000 ? 0 : std::llround(static_cast<double>(ms) / 1000.0);
  if (auto old = meta::parseDuration(previous)) {
    if (std::llabs(duration_cast<seconds>(*old).count() - secs) < 2) return previous;
  }
  const std::string text = meta::formatDurationShort(seconds(std::llabs(secs)));
  return secs < 0 ? "-" + text : text;
}

// Whether a probe outcome is worth a pass (see ProbeQuiet): the pass would write the same status
// (reachability, version, rounded skew under its hysteresis, the clock-skew
// prerequisite) unless something else changed or fell due.
bool worthAPass(ProbeQuiet& q, const ProbeOutcome& o, SteadyTime now, milliseconds maxClockSkew) {
  std::lock_guard lock(q.mu);
  if (!q.armed || q.pendingFull || now >= q.until) return true;
  const ProbeOutcome& c = q.consumed;
  if (o.client != c.client || o.answered != c.answered || o.reachable != c.reachable || o.reason != c.reason ||
      o.message != c.message) {
    return true;
  }
  if (o.version != c.version) return true;
  auto tooSkewed = [&](const std::optional<milliseconds>& s) { return s && (s->count() < 0 ? -*s : *s) > maxClockSkew; };
  if (o.clockSkew.has_value() != c.clockSkew.has_value() || tooSkewed(o.clockSkew) != tooSkewed(c.clockSkew)) return true;
  if (roundedSkew(q.skew, o.clockSkew) != q.skew) return true;
  // A new latency alone is not worth a pass: it goes out with the next status write that happens
  // anyway (see writeStatus).
  return q.latency.empty();
}

// Lookups in cached objects, by reference: deleting(), readyIn() and metaField() run for each
// other member on each pass (cluster-name conflicts, CIDR overlaps). They used to copy the whole
// metadata (managedFields included) or status each time, which made joining N members cost
// O(N^2) object copies: most of the operator's CPU at a few hundred members.
const nlohmann::json* child(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool deleting(const nlohmann::json& obj) {
  const nlohmann::json* md = child(obj, "metadata");
  const nlohmann::json* ts = md ? child(*md, "deletionTimestamp") : nullptr;
  return ts && !ts->is_null();
}

bool readyIn(const nlohmann::json& obj) {
  const nlohmann::json* status = child(obj, "status");
  const nlohmann::json* conditions = status ? child(*status, "conditions") : nullptr;
  if (!conditions || !conditions->is_array()) return false;
  for (const auto& c : *conditions) {
    if (c.is_object() && c.value("type", "") == condition::kReady) return c.value("status", "") == "True";
  }
  return false;
}

std::string metaField(const nlohmann::json& obj, const char* field) {
  const nlohmann::json* md = child(obj, "metadata");
  const nlohmann::json* value = md ? child(*md, field) : nullptr;
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

// The newer of the cached Secret and the one this reconciler last wrote (by token issue time).
cache::ObjectPtr freshest(cache::ObjectPtr cached, const cache::ObjectPtr& written) {
  if (!written) return cached;
  if (!cached) return written;
  auto a = timingOf(*cached), b = timingOf(*written);
  if (b && (!a || b->issuedAt > a->issuedAt)) return written;
  return cached;
}

double unixSeconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

milliseconds until(WallTime now, WallTime at) {
  return at <= now ? milliseconds(0) : duration_cast<milliseconds>(at - now);
}

// What the cross-member checks read from one cached MeshMembership, extracted once per change
// of the object (it holds no reference to the object).
struct MemberSummary {
  std::string ns;
  std::string name;
  std::string creationTimestamp;
  std::string cluster;
  bool ready = false;
  bool deleting = false;
  MemberNetworks networks;
  std::vector<meta::Cidr> ranges;  // networks' pod, service and VPC CIDRs that parse

  // Same inputs to the cross-member checks.
  bool sameChecks(const MemberSummary& o) const {
    return ns == o.ns && name == o.name && creationTimestamp == o.creationTimestamp && cluster == o.cluster &&
           ready == o.ready && deleting == o.deleting && networks.podCIDRs == o.networks.podCIDRs &&
           networks.serviceCIDR == o.networks.serviceCIDR && networks.vpcCIDRs == o.networks.vpcCIDRs;
  }
};

// The pod, service and VPC CIDRs of a member that parse.
std::vector<meta::Cidr> rangesOf(const MemberNetworks& networks) {
  std::vector<meta::Cidr> out;
  auto add = [&](const std::string& text) {
    if (auto c = meta::Cidr::parse(text)) out.push_back(*c);
  };
  for (const auto& c : networks.podCIDRs) add(c);
  if (!networks.serviceCIDR.empty()) add(networks.serviceCIDR);
  for (const auto& c : networks.vpcCIDRs) add(c);
  return out;
}

std::shared_ptr<const MemberSummary> summarize(const cache::ObjectPtr& obj) {
  auto s = std::make_shared<MemberSummary>();
  s->ns = metaField(*obj, "namespace");
  s->name = metaField(*obj, "name");
  s->creationTimestamp = metaField(*obj, "creationTimestamp");
  s->cluster = clusterNameOf(*obj);
  s->ready = readyIn(*obj);
  s->deleting = deleting(*obj);
  s->networks = networksOf(*obj);
  s->ranges = rangesOf(s->networks);
  return s;
}

}  // namespace

// Every cached MeshMembership in the store's order (namespace, then name), and by cluster name.
// Immutable once built: a pass holds the one it started with.
struct MembershipReconciler::MemberIndex {
  // Changes only when what the checks read changed (a member added or removed, or its cluster
  // name, readiness, deletion, creation time or ranges): not with every status write.
  std::uint64_t checksVersion = 0;
  std::vector<std::shared_ptr<const MemberSummary>> members;
  std::unordered_map<std::string, std::vector<const MemberSummary*>> byCluster;
};

// The summaries, kept from the MeshMembership informer's events. Its handler is registered before
// the controller's, so a change is in here before the pass it queues starts. A status write that
// changes nothing the checks read keeps the summary and the built index; anything else marks the
// index for a rebuild at the next pass (O(N) pointer copies, about three times per member
// instead of on every write, and without copying the informer's store).
struct MembershipReconciler::IndexState {
  std::mutex mu;  // guards everything below
  std::map<kube::ObjectKey, std::shared_ptr<const MemberSummary>> summaries;
  std::uint64_t checksVersion = 1;
  std::shared_ptr<const MemberIndex> built;  // null: rebuild at the next call

  void set(const cache::ObjectPtr& obj) {
    auto summary = summarize(obj);
    std::lock_guard lock(mu);
    auto& slot = summaries[kube::ObjectKey::of(*obj)];
    if (slot && slot->sameChecks(*summary)) return;
    slot = std::move(summary);
    changed();
  }
  void erase(const cache::ObjectPtr& obj) {
    std::lock_guard lock(mu);
    if (summaries.erase(kube::ObjectKey::of(*obj)) > 0) changed();
  }
  void changed() {
    ++checksVersion;
    built.reset();
  }
  std::shared_ptr<const MemberIndex> index() {
    std::lock_guard lock(mu);
    if (built) return built;
    auto index = std::make_shared<MemberIndex>();
    index->checksVersion = checksVersion;
    index->members.reserve(summaries.size());
    for (const auto& [key, summary] : summaries) {
      index->members.push_back(summary);
      index->byCluster[summary->cluster].push_back(summary.get());
    }
    built = index;
    return built;
  }
};

struct MembershipReconciler::Enqueuer {
  std::mutex mu;  // guards fn
  std::function<void(const runtime::Request&)> fn;

  void operator()(const runtime::Request& request) {
    std::function<void(const runtime::Request&)> call;
    {
      std::lock_guard lock(mu);
      call = fn;
    }
    if (call) call(request);
  }
};

MembershipReconciler::MembershipReconciler(MembershipDeps deps)
    : deps_(std::move(deps)),
      clock_(deps_.options.clock ? deps_.options.clock : systemClock()),
      prober_(clock_, deps_.options.probeTimeout),
      enqueuer_(std::make_shared<Enqueuer>()),
      indexState_(std::make_shared<IndexState>()) {
  if (!deps_.memberships) return;
  // Holds the state, not the reconciler: the handler is removed in the destructor, and a call
  // in progress then is waited for.
  cache::EventHandler handler;
  handler.onAdd = [state = indexState_](const cache::ObjectPtr& obj, bool) { state->set(obj); };
  handler.onUpdate = [state = indexState_](const cache::ObjectPtr&, const cache::ObjectPtr& obj) { state->set(obj); };
  handler.onDelete = [state = indexState_](const cache::ObjectPtr& obj) { state->erase(obj); };
  indexHandler_ = deps_.memberships->addEventHandler(std::move(handler));
}

MembershipReconciler::~MembershipReconciler() {
  if (indexHandler_) deps_.memberships->removeEventHandler(*indexHandler_);
}

void MembershipReconciler::setEnqueue(std::function<void(const runtime::Request&)> enqueue) {
  std::lock_guard lock(enqueuer_->mu);
  enqueuer_->fn = std::move(enqueue);
}

std::function<void()> MembershipReconciler::requeuer(const runtime::Request& request) const {
  // Holds the enqueuer, not the reconciler: a probe may finish after the reconciler is gone.
  return [enqueuer = enqueuer_, request] { (*enqueuer)(request); };
}

std::shared_ptr<MembershipReconciler::Member> MembershipReconciler::member(const std::string& key) {
  std::lock_guard lock(mu_);
  auto& slot = members_[key];
  if (!slot) slot = std::make_shared<Member>();
  return slot;
}

std::shared_ptr<const MembershipReconciler::MemberIndex> MembershipReconciler::memberIndex() {
  return indexState_->index();
}

void MembershipReconciler::forget(const runtime::Request& request) {
  const std::string key = request.toString();
  std::shared_ptr<Member> gone;
  {
    std::lock_guard lock(mu_);
    auto it = members_.find(key);
    if (it == members_.end()) return;
    gone = it->second;
    members_.erase(it);
  }
  prober_.forget(key);
  if (!gone->cluster.empty()) {
    deps_.registry->disconnect(gone->cluster);
    if (deps_.metrics) deps_.metrics->forgetCluster(gone->cluster);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers on a pass: conditions, status, events.

namespace {

using Pass = MembershipReconciler::Pass;

void setCond(Pass& p, std::string_view type, ConditionStatus status, std::string_view why, std::string message) {
  meta::setCondition(p.status.conditions, meta::Condition::make(type, status, why, std::move(message), p.generation), p.now);
}

// Sets a condition only when the object has none of that type yet (so an earlier, more precise
// state is not overwritten while a hard failure keeps the reconciler from looking).
void setCondIfAbsent(Pass& p, std::string_view type, ConditionStatus status, std::string_view why, std::string message) {
  if (meta::findCondition(p.status.conditions, type)) {
    auto* c = meta::findCondition(p.status.conditions, type);
    c->observedGeneration = p.generation;
    return;
  }
  setCond(p, type, status, why, std::move(message));
}

}  // namespace

namespace {

// Applies one of the operator's Secrets in the hub. `live` is the freshest known copy; when there
// is none and the synced informer over the Secret's namespace does not have it either, it is
// absent: no GET before the apply.
Expected<helpers::Applied> applyOwnSecret(kube::Client& hub, const cache::Informer& secrets,
                                          const nlohmann::json& object, const cache::ObjectPtr& live) {
  const bool absent = !live && secrets.hasSynced() &&
                      kube::ObjectKey::of(object).ns == secrets.watcher().options().ns;
  if (absent) return helpers::applyAbsent(hub, r::kSecrets, object, desired::kFieldManager);
  return helpers::applyObject(hub, r::kSecrets, object, desired::kFieldManager, live.get());
}

// Events for conditions that flipped (or changed reason while not True). A condition that
// first appears True says nothing Ready=True and RemoteClusterSetUp do not already say: a join
// records those two, not one Event per step.
void transitionEvents(const Pass& p, const events::EventRecorderPtr& recorder) {
  if (!recorder) return;
  for (const auto& after : p.status.conditions) {
    const meta::Condition* was = meta::findCondition(p.before, after.type);
    const bool flipped = !was || was->status != after.status;
    const bool newReason = was && was->status != ConditionStatus::kTrue && was->reason != after.reason;
    if (!flipped && !newReason) continue;
    if (after.status == ConditionStatus::kUnknown) continue;
    if (!was && after.status == ConditionStatus::kTrue && after.type != condition::kReady) continue;
    if (after.status == ConditionStatus::kTrue) {
      recorder->event(p.live, kMeshMemberships, events::EventType::kNormal, after.type, after.message);
    } else {
      recorder->event(p.live, kMeshMemberships, events::EventType::kWarning, after.reason, after.message);
    }
  }
}

}  // namespace

namespace {

// Writes status if it changed and records transition Events. Errors are the hub's (a 409 means
// the cache was stale: retry).
Expected<bool> writeStatus(Pass& p, kube::Client& hub, const events::EventRecorderPtr& recorder) {
  p.status.observedGeneration = p.generation;
  nlohmann::json status = meta::encode(p.status);
  // A new probeLatency alone is no reason to write (an idle mesh writes nothing): it goes out
  // with the next write that happens anyway. The exact figure is the probe-duration metric.
  const nlohmann::json* live = child(p.live, "status");
  if (const nlohmann::json* latency = live ? child(*live, "probeLatency") : nullptr;
      latency && latency->is_string()) {
    nlohmann::json unchanged = status;
    unchanged["probeLatency"] = *latency;
    if (unchanged == *live) {
      p.status.probeLatency = latency->get<std::string>();
      status = std::move(unchanged);
    }
  }
  auto wrote = helpers::updateStatusIfChanged(hub, kMeshMemberships, p.live, status);
  if (!wrote && wrote.error().isConflict()) {
    // The cache has not seen this controller's previous status write yet (status changes do not
    // queue a reconcile, so it is often behind): this controller is the only status writer, so
    // write the same status over the current version, once.
    auto fresh = hub.get(kMeshMemberships, kube::ObjectKey::of(p.live));
    if (!fresh) return fail(fresh.error());
    p.live = std::move(*fresh);
    wrote = helpers::updateStatusIfChanged(hub, kMeshMemberships, p.live, status);
  }
  if (!wrote) return wrote;
  transitionEvents(p, recorder);
  if (*wrote && p.m) {
    p.m->statusWritten = status;
    p.m->statusWrittenOver = p.live.value("metadata", nlohmann::json::object()).value("resourceVersion", "");
  }
  if (*wrote) {
    p.live["status"] = status;  // later writes in this pass compare against what was sent
    p.before = p.status.conditions;
  }
  return wrote;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

runtime::ReconcileOutcome MembershipReconciler::reconcile(const runtime::ReconcileContext& ctx,
                                                          const runtime::Request& req) {
  auto cached = deps_.memberships->get({req.ns, req.name});
  if (!cached) {
    forget(req);
    return runtime::Result::done();
  }
  Pass p(ctx, req);
  p.key = req.toString();
  p.m = member(p.key);
  p.live = *cached;
  p.cached = cached;
  if (!p.m->statusWrittenOver.empty() &&
      p.live.value("metadata", nlohmann::json::object()).value("resourceVersion", "") == p.m->statusWrittenOver) {
    p.live["status"] = p.m->statusWritten;  // the cache has not seen the last status write yet
  }
  auto decoded = v1beta1::decodeMeshMembership(p.live);
  p.mm = std::move(decoded.object);
  p.generation = p.mm.metadata.generation;
  p.cluster = p.mm.clusterName();
  p.owner = desired::Owner{std::string(v1beta1::kMeshMembershipKind), req.ns, req.name, p.cluster};
  p.params = desired::MembershipParams{p.owner, p.mm.meshNamespace()};
  p.status = p.mm.status;
  p.before = p.status.conditions;
  p.wasReady = meta::isConditionTrue(p.before, condition::kReady);
  p.now = clock_->wallNow();
  p.log = ctx.logger().with({{"cluster", p.cluster}});
  if (!p.m->cluster.empty() && p.m->cluster != p.cluster) {
    // spec.clusterName changed: the old connection and series belong to a name no longer used.
    deps_.registry->disconnect(p.m->cluster);
    if (deps_.metrics) deps_.metrics->forgetCluster(p.m->cluster);
    prober_.forget(p.key);
    *p.m = Member{};
  }
  p.m->cluster = p.cluster;

  // Bootstrap and credential Secrets live beside the MeshMembership, and the operator may read
  // and write Secrets only in the mesh namespace (deploy/rbac.yaml): elsewhere it does nothing.
  if (req.ns != deps_.options.istioNamespace &&
      !helpers::hasFinalizer(p.live, v1beta1::kMeshMembershipFinalizer)) {
    if (p.mm.metadata.isBeingDeleted()) return runtime::Result::done();
    const std::string message = "MeshMembership " + req.ns + "/" + req.name +
                                " is outside the mesh namespace: the operator serves MeshMemberships in namespace " +
                                deps_.options.istioNamespace +
                                " (where it keeps their bootstrap and credential Secrets); create it there";
    p.status.clusterName = p.cluster;
    setCond(p, condition::kReady, ConditionStatus::kFalse, reason::kInvalidSpec, message);
    if (auto w = writeStatus(p, *deps_.hub, deps_.recorder); !w) return runtime::retryable(w.error());
    return runtime::terminal(Error::invalid(message));
  }

  if (p.mm.metadata.isBeingDeleted()) return finalize(p);

  if (!helpers::hasFinalizer(p.live, v1beta1::kMeshMembershipFinalizer)) {
    auto added = helpers::addFinalizer(*deps_.hub, kMeshMemberships, p.live, v1beta1::kMeshMembershipFinalizer);
    if (!added) return runtime::retryable(added.error());
    if (*added) p.live = std::move(**added);  // as the API server now has it
  }
  p.status.clusterName = p.cluster;

  if (!decoded.ok()) {
    setCond(p, condition::kReady, ConditionStatus::kFalse, reason::kInvalidSpec, decoded.message());
    if (auto w = writeStatus(p, *deps_.hub, deps_.recorder); !w) return runtime::retryable(w.error());
    return runtime::terminal(Error::invalid(decoded.message(1024)));
  }
  return join(p);
}

runtime::ReconcileOutcome MembershipReconciler::join(Pass& p) {
  const auto& o = deps_.options;
  Member& m = *p.m;
  const std::string meshNs = p.mm.meshNamespace();
  auto write = [&]() { return writeStatus(p, *deps_.hub, deps_.recorder); };
  // Reports a state that needs no immediate retry: status written, re-checked after `after`.
  auto settle = [&](milliseconds after) -> runtime::ReconcileOutcome {
    if (auto w = write(); !w) return runtime::retryable(w.error());
    return runtime::Result::after(std::max(after, kMinRequeue));
  };
  auto notReady = [&](std::string_view why, const std::string& message, milliseconds after) {
    setCond(p, condition::kReady, ConditionStatus::kFalse, why, message);
    return settle(after);
  };

  // The other members, from an index rebuilt only when the set of MeshMemberships changed: a
  // pass costs O(members sharing the cluster name + members with overlapping ranges), not a scan
  // of every member's object.
  const std::shared_ptr<const MemberIndex> index = memberIndex();
  const std::string selfCreated = metaField(p.live, "creationTimestamp");
  auto isSelf = [&](const MemberSummary& other) { return other.ns == p.req.ns && other.name == p.req.name; };
  // Of two members in conflict, the one already Ready keeps going; between equals, the older.
  auto yieldsTo = [&](const MemberSummary& other) {
    return other.ready != p.wasReady ? other.ready
                                     : std::tie(other.creationTimestamp, other.ns, other.name) <
                                           std::tie(selfCreated, p.req.ns, p.req.name);
  };

  // ---- another member with the same cluster name?
  if (auto same = index->byCluster.find(p.cluster); same != index->byCluster.end()) {
    for (const MemberSummary* other : same->second) {
      if (isSelf(*other)) continue;
      if (yieldsTo(*other)) {
        return notReady(reason::kClusterNameConflict,
                        "cluster name " + p.cluster + " is already used by MeshMembership " + other->ns + "/" +
                            other->name + ": set spec.clusterName to a name unique in the mesh",
                        o.recheckInterval);
      }
    }
  }

  // ---- credentials: the operator's own, else the bootstrap kubeconfig.
  const std::string credsName = desired::operatorCredentialsSecretName(p.cluster);
  const std::string credsOrigin = "Secret " + p.req.ns + "/" + credsName;
  cache::ObjectPtr credsLive = freshest(deps_.secrets->get({p.req.ns, credsName}), m.credsWritten);
  std::optional<StoredCredentials> stored;
  if (credsLive) {
    if (auto s = readStoredCredentials(*credsLive)) {
      stored = std::move(*s);
    } else {
      p.log.warn("operator credentials unreadable, joining again", {{"error", s.error().message()}});
    }
  }
  RemoteClusterPtr connection = deps_.registry->find(p.cluster);
  // Drift: the service accounts or namespaced RBAC joining made were removed from the remote.
  std::string drift;
  if (connection && connection->synced()) {
    // The registry watches one namespace; only judge drift when it is this member's.
    auto watched = [&](const kube::Resource& res) {
      auto inf = connection->informer(res);
      return inf && inf->watcher().options().ns == meshNs ? inf : nullptr;
    };
    auto sas = watched(r::kServiceAccounts);
    auto roles = watched(r::kRoles);
    auto bindings = watched(r::kRoleBindings);
    if (roles && !roles->get({meshNs, desired::kOperatorRole})) drift = "Role " + meshNs + "/" + desired::kOperatorRole + " was removed";
    if (bindings && !bindings->get({meshNs, desired::kOperatorRole})) drift = "RoleBinding " + meshNs + "/" + desired::kOperatorRole + " was removed";
    if (drift.empty() && sas) {
      for (const char* sa : {desired::kReaderServiceAccount, desired::kOperatorServiceAccount}) {
        if (!sas->get({meshNs, sa})) drift = "ServiceAccount " + meshNs + "/" + sa + " was removed";
      }
    }
  }
  const bool credsUsable = stored && stored->timing && stored->meshNamespace == meshNs &&
                           p.now + seconds(30) < stored->timing->expiresAt;
  std::string whyBootstrap;
  if (!credsUsable) {
    whyBootstrap = !stored ? "to set the cluster up" : "to set the cluster up again (the operator's own credentials are expired or were made for another setup)";
  } else if (!m.forceBootstrap.empty()) {
    whyBootstrap = "because " + m.forceBootstrap;
  } else if (drift.rfind("Role", 0) == 0) {
    whyBootstrap = "to repair RBAC: " + drift;
  }

  kube::ClientPtr remote;
  RemoteEndpoint endpoint;
  const bool viaBootstrap = !whyBootstrap.empty();
  if (!viaBootstrap) {
    endpoint = stored->endpoint;
    if (!m.client || !(m.endpoint == endpoint)) {
      kube::ClientOptions co;
      co.metrics = deps_.clientMetrics;
      co.retry.maxRetries = 0;
      kube::RestConfig rc = restConfigFor(endpoint, stored->token, credsOrigin, o.requestTimeout);
      m.token = std::make_shared<kube::RotatingTokenSource>(stored->token);
      rc.token = m.token;
      auto client = kube::makeClient(*deps_.io, rc, co);
      if (!client) {
        return notReady(reason::kBootstrapCredentialsInvalid, credsOrigin + ": " + client.error().message(), o.recheckInterval);
      }
      m.client = *client;
      m.endpoint = endpoint;
    } else {
      m.token->set(stored->token);
    }
    remote = m.client;
    m.bootstrapClient.reset();
    m.bootstrapVersion.clear();
  } else {
    const auto& ref = p.mm.spec.bootstrapSecretRef;
    const std::string refKey = ref.key.value_or(std::string(v1beta1::kDefaultBootstrapSecretKey));
    const std::string source = "Secret " + p.req.ns + "/" + ref.name;
    auto secret = deps_.hub->getIfExists(r::kSecrets, {p.req.ns, ref.name});
    if (!secret) return runtime::retryable(secret.error());
    if (!*secret) {
      return notReady(reason::kBootstrapSecretNotFound,
                      "bootstrap " + source + " not found: it is needed " + whyBootstrap +
                          "; create it with the remote cluster's kubeconfig under key \"" + refKey +
                          "\" (kubectl remoteistio join does)",
                      o.recheckInterval);
    }
    auto data = secretData(**secret, refKey);
    if (!data) {
      return notReady(reason::kBootstrapSecretNotFound,
                      "bootstrap " + source + " has no key \"" + refKey + "\" (spec.bootstrapSecretRef.key)",
                      o.recheckInterval);
    }
    const std::string version = metaField(**secret, "resourceVersion");
    if (!m.bootstrapClient || m.bootstrapVersion != version) {
      auto config = kube::restConfigFromUntrustedKubeconfig(*data, source);
      if (!config) {
        return notReady(reason::kBootstrapCredentialsInvalid, config.error().message(), o.recheckInterval);
      }
      config->timeout = o.requestTimeout;
      kube::ClientOptions co;
      co.metrics = deps_.clientMetrics;
      co.retry.maxRetries = 0;
      auto client = kube::makeClient(*deps_.io, *config, co);
      if (!client) {
        return notReady(reason::kBootstrapCredentialsInvalid, client.error().message(), o.recheckInterval);
      }
      m.bootstrapClient = *client;
      m.bootstrapVersion = version;
      m.bootstrapEndpoint = RemoteEndpoint::of(*config);
    }
    remote = m.bootstrapClient;
    endpoint = m.bootstrapEndpoint;
  }

  // ---- reachability: the latest asynchronous probe of this connection.
  auto outcome = prober_.latest(p.key);
  const bool current = outcome && outcome->client == remote.get();
  // A request of the remote's informers that went unanswered (a watch cut, a refused connection)
  // makes the server suspect: it is probed at once, not on the idle cadence, so that an outage
  // shows within seconds whatever probeInterval is.
  if (connection && !viaBootstrap && m.listening.lock() != connection->health()) {
    connection->health()->onSuspect(requeuer(p.req));
    m.listening = connection->health();
  }
  const bool suspect = connection && !viaBootstrap && connection->health()->suspect();
  // A remote whose last probe failed (no answer, or an error such as 429 or 503) is probed more
  // often, so that the end of an outage shows (and its RemoteIstio converges again) within about
  // unreachableProbeInterval, not probeInterval.
  const milliseconds probeEvery = (current && !outcome->reachable) || suspect
                                      ? std::min(o.probeInterval, o.unreachableProbeInterval)
                                      : o.probeInterval;
  // The probe's metrics and the connection's health, once per outcome.
  auto recordProbe = [&] {
    if (m.recordedAt == outcome->at) return;
    m.recordedAt = outcome->at;
    if (deps_.metrics) {
      deps_.metrics->setReachable(p.cluster, outcome->reachable);
      deps_.metrics->observeProbe(p.cluster, std::chrono::duration<double>(outcome->latency).count());
    }
    if (connection && !viaBootstrap) {
      if (outcome->answered) {
        connection->health()->answered();
      } else {
        connection->health()->noAnswer();
      }
    }
  };
  PassInputs inputs;
  inputs.object = p.cached;
  inputs.checks = index->checksVersion;
  inputs.creds = deps_.secrets->get({p.req.ns, credsName});
  inputs.remoteSecret = deps_.secrets->get({o.istioNamespace, desired::remoteSecretName(p.cluster)});
  inputs.connection = connection;
  inputs.synced = connection && connection->synced();
  inputs.drift = drift;
  inputs.remote = remote;
  if (!current) {
    prober_.start(p.key, remote, requeuer(p.req));
    // The probe's completion queues the next pass; this timer only covers a lost completion.
    return runtime::Result::after(o.probeTimeout + probeEvery);
  }
  {
    std::lock_guard lock(m.quiet->mu);
    if (!(inputs == m.readyInputs)) m.quiet->pendingFull = true;
  }
  // An outcome is handled once a pass used it, or when it needs none (it repeats what the last
  // pass that ended Ready read, and nothing else changed since: ProbeQuiet). A handled outcome
  // is due for the next probe on the cadence of the probes' starts; any outcome once it is
  // probeEvery old.
  const SteadyTime steadyNow = clock_->now();
  const bool handled = m.recordedAt == outcome->at ||
                       !worthAPass(*m.quiet, *outcome, steadyNow, o.maxClockSkew);
  // The full probe (nodes) is due when it would come due before the next probe. Then the pass
  // below lists the nodes, and that answer (or its absence, handled like an unanswered probe)
  // tells as much as GET /version would: it stands in for this tick's probe, so a Ready member
  // costs one request per probe interval, not two once every fullProbeInterval.
  const bool fullProbeDue = !m.nodes || steadyNow + probeEvery > m.nodesAt + o.fullProbeInterval ||
                            m.nodesGeneration != p.generation;
  const bool nodeListStandsIn = fullProbeDue && outcome->reachable && !suspect;
  if (!nodeListStandsIn &&
      (steadyNow - outcome->at >= probeEvery || (handled && steadyNow - outcome->startedAt >= probeEvery))) {
    // The completion of the next probe queues a pass unless it needs none; this timer starts the
    // probe after it.
    recordProbe();
    prober_.start(p.key, remote, requeuer(p.req),
                  [quiet = m.quiet, clock = clock_, maxSkew = o.maxClockSkew](const ProbeOutcome& out) {
                    return worthAPass(*quiet, out, clock->now(), maxSkew);
                  });
    return runtime::Result::after(probeEvery);
  }
  {
    std::lock_guard lock(m.quiet->mu);
    m.quiet->armed = false;  // until this pass ends Ready
  }
  recordProbe();
  if (!outcome->reachable) {
    if (outcome->reason == reason::kUnauthorized && !viaBootstrap) {
      m.forceBootstrap = "the remote API server rejected the operator's own token";
      p.log.warn("operator token rejected, falling back to the bootstrap credentials");
      prober_.forget(p.key);
      return runtime::Result::after(kMinRequeue);
    }
    const std::string message = "cluster " + p.cluster + ": " + outcome->message;
    setCond(p, condition::kReachable, ConditionStatus::kFalse, outcome->reason, message);
    return notReady(outcome->reason, message, probeEvery);
  }
  setCond(p, condition::kReachable, ConditionStatus::kTrue, reason::kReconciled,
          "the API server of cluster " + p.cluster + " answers");
  p.status.kubernetesVersion = outcome->version.gitVersion;
  // A coarse figure (roundedLatency's buckets and hysteresis); a change alone is not written, it
  // goes out with the next status write (writeStatus). The exact latency is the
  // remote_istio_cluster_probe_duration_seconds metric.
  p.status.probeLatency = roundedLatency(p.mm.status.probeLatency, outcome->latency);
  p.status.clockSkew = roundedSkew(p.mm.status.clockSkew, outcome->clockSkew);

  // A failed request to a live remote: condition on `type` and Ready, re-checked on the probe
  // cadence (a dead server is the prober's business).
  // Retried after `retry` (zero: probeInterval).
  auto remoteFailed = [&](std::string_view type, const Error& e, const std::string& what,
                          milliseconds retry = milliseconds(0)) {
    const std::string message = what + ": " + e.message();
    const std::string_view why = type == condition::kCredentialsIssued && !noAnswer(e) && !e.isForbidden() && !e.isUnauthorized()
                                     ? reason::kTokenRequestFailed
                                     : reasonFor(e);
    setCond(p, type, ConditionStatus::kFalse, why, message);
    if (noAnswer(e)) prober_.forget(p.key);  // probe again before trusting the connection
    return notReady(why, message, retry > milliseconds(0) ? retry : o.probeInterval);
  };

  // ---- full probe: nodes and the service CIDR, when due.
  const bool specChanged = p.mm.status.observedGeneration != p.generation;
  if (fullProbeDue) {
    auto nodes = probeNodes(*remote);
    if (!nodes) {
      // Standing in for the probe, it failed as a probe would: probe again at once and on the
      // outage cadence (a 429 or 503 storm must not leave the member waiting a minute).
      if (nodeListStandsIn) prober_.forget(p.key);
      return remoteFailed(condition::kPrerequisitesMet, nodes.error(), "list nodes of cluster " + p.cluster,
                          nodeListStandsIn ? std::min(o.probeInterval, o.unreachableProbeInterval)
                                           : o.probeInterval);
    }
    m.nodes = std::move(*nodes);
    m.nodesAt = clock_->now();
    m.nodesGeneration = p.generation;
  }
  const auto* network = p.mm.spec.network ? &*p.mm.spec.network : nullptr;
  std::string serviceCidr;
  if (network && network->serviceCIDR && !network->serviceCIDR->empty()) {
    serviceCidr = *network->serviceCIDR;
  } else if (m.serviceCidrGeneration == p.generation) {
    serviceCidr = m.serviceCidr;
  } else if (!specChanged && !p.mm.status.serviceCIDR.empty()) {
    serviceCidr = p.mm.status.serviceCIDR;  // learned before a restart
    m.serviceCidr = serviceCidr;
    m.serviceCidrGeneration = p.generation;
  } else {
    auto found = discoverServiceCidr(*remote, viaBootstrap ? "default" : meshNs);
    if (!found) return remoteFailed(condition::kPrerequisitesMet, found.error(), "discover the service CIDR of cluster " + p.cluster);
    serviceCidr = *found;
    m.serviceCidr = serviceCidr;
    m.serviceCidrGeneration = p.generation;
  }
  p.status.workerNodes = m.nodes->readyWorkers;
  p.status.podCIDRs = network && network->podCIDRs && !network->podCIDRs->empty() ? collapseCidrs(*network->podCIDRs) : m.nodes->podCIDRs;
  p.status.serviceCIDR = serviceCidr;
  const auto* locality = p.mm.spec.locality ? &*p.mm.spec.locality : nullptr;
  p.status.region = locality && locality->region && !locality->region->empty() ? *locality->region : m.nodes->region;
  p.status.zone = locality && locality->zone && !locality->zone->empty() ? *locality->zone : m.nodes->zone;

  // ---- prerequisites.
  MemberNetworks self{p.cluster, p.key, p.status.podCIDRs, p.status.serviceCIDR,
                      network && network->vpcCIDRs ? *network->vpcCIDRs : std::vector<std::string>{}};
  // Only members with a range overlapping one of ours can appear in findOverlaps' answer (which
  // skips members with our cluster name): the others are filtered out on parsed ranges, without
  // copying them.
  const std::vector<meta::Cidr> mine = rangesOf(self);
  std::vector<MemberNetworks> others;
  if (!mine.empty()) {
    for (const auto& other : index->members) {
      if (other->deleting || other->cluster == p.cluster || isSelf(*other)) continue;
      const bool overlapping = std::any_of(mine.begin(), mine.end(), [&](const meta::Cidr& a) {
        return std::any_of(other->ranges.begin(), other->ranges.end(), [&](const meta::Cidr& b) { return a.overlaps(b); });
      });
      if (overlapping && yieldsTo(*other)) others.push_back(other->networks);
    }
  }
  PrerequisiteInputs in;
  in.cluster = p.cluster;
  in.version = outcome->version;
  in.readyWorkers = m.nodes->readyWorkers;
  in.minWorkerNodes = p.mm.minWorkerNodes();
  in.requireMinWorkerNodes = p.mm.requireMinWorkerNodes();
  in.clockSkew = outcome->clockSkew;
  in.maxClockSkew = o.maxClockSkew;
  in.overlaps = findOverlaps(self, others);
  in.serviceCidrKnown = !serviceCidr.empty();
  const PrerequisiteReport report = evaluatePrerequisites(in);
  setCond(p, condition::kPrerequisitesMet, report.met ? ConditionStatus::kTrue : ConditionStatus::kFalse, report.reason, report.message);
  if (!report.met) {
    const std::string waiting = "nothing is installed in cluster " + p.cluster + " until its prerequisites are met";
    setCondIfAbsent(p, condition::kCredentialsIssued, ConditionStatus::kUnknown, reason::kPrerequisitesNotMet, waiting);
    setCondIfAbsent(p, condition::kRemoteSecretSynced, ConditionStatus::kUnknown, reason::kPrerequisitesNotMet, waiting);
    return notReady(reason::kPrerequisitesNotMet, report.message, o.probeInterval);
  }

  if (p.ctx.cancelled()) return runtime::retryable(Error::timeout("reconcile deadline passed before setup"));

  // ---- setup through the bootstrap credentials.
  if (viaBootstrap) {
    std::vector<std::string> changed;
    auto ns = remote->getIfExists(r::kNamespaces, {"", meshNs});
    if (!ns) return remoteFailed(condition::kCredentialsIssued, ns.error(), "read namespace " + meshNs + " in cluster " + p.cluster);
    bool freshNamespace = false;  // created just now: nothing of ours can be in it yet
    if (!*ns) {
      // Created only when absent; an existing namespace (the user's) is never changed.
      auto created = remote->create(r::kNamespaces, desired::meshNamespace(p.params).object);
      if (!created && !created.error().isAlreadyExists()) {
        return remoteFailed(condition::kCredentialsIssued, created.error(), "create namespace " + meshNs + " in cluster " + p.cluster);
      }
      freshNamespace = created.has_value();
      changed.push_back("Namespace " + meshNs);
    }
    for (const auto& manifest : desired::membershipRbac(p.params)) {
      const bool absent = freshNamespace && manifest.resource.namespaced &&
                          kube::ObjectKey::of(manifest.object).ns == meshNs;
      auto applied = absent ? helpers::applyAbsent(*remote, manifest.resource, manifest.object, desired::kFieldManager)
                            : helpers::applyObject(*remote, manifest.resource, manifest.object, desired::kFieldManager, nullptr);
      const auto key = kube::ObjectKey::of(manifest.object);
      if (deps_.metrics) {
        deps_.metrics->countApply(p.cluster, manifest.resource.kind,
                                  !applied ? "error" : applied->result == helpers::ApplyResult::kCreated ? "created"
                                                     : applied->result == helpers::ApplyResult::kUpdated ? "updated" : "unchanged");
      }
      if (!applied) {
        return remoteFailed(condition::kCredentialsIssued, applied.error(),
                            "set up " + manifest.resource.kind + " " + key.toString() + " in cluster " + p.cluster);
      }
      if (applied->result != helpers::ApplyResult::kUnchanged) changed.push_back(manifest.resource.kind + " " + key.toString());
    }
    if (!changed.empty() && deps_.recorder) {
      std::string list;
      for (const auto& c : changed) list += (list.empty() ? "" : ", ") + c;
      deps_.recorder->event(p.live, kMeshMemberships, events::EventType::kNormal, "RemoteClusterSetUp",
                            "set up cluster " + p.cluster + ": " + list);
    }
    p.log.info("remote cluster set up", {{"objects_changed", changed.size()}});
  }

  // ---- tokens.
  const std::string istioNs = o.istioNamespace;
  const std::string remoteSecretName = desired::remoteSecretName(p.cluster);
  cache::ObjectPtr remoteSecretLive = freshest(deps_.secrets->get({istioNs, remoteSecretName}), m.remoteSecretWritten);
  std::optional<TokenTiming> readerTiming = remoteSecretLive ? timingOf(*remoteSecretLive) : std::nullopt;
  const bool saDrift = drift.rfind("ServiceAccount", 0) == 0;
  auto ttlDiffers = [](const TokenTiming& t, seconds want) {
    auto d = t.lifetime() - want;
    return (d.count() < 0 ? -d : d) > kTtlTolerance;
  };
  const bool needOperator = viaBootstrap || saDrift || !stored->timing || p.now >= stored->timing->renewAt(o.renewFraction) ||
                            ttlDiffers(*stored->timing, p.mm.operatorTokenTTL());
  const bool needReader = viaBootstrap || saDrift || !remoteSecretLive || !readerTiming ||
                          !secretData(*remoteSecretLive, p.cluster) || p.now >= readerTiming->renewAt(o.renewFraction) ||
                          ttlDiffers(*readerTiming, p.mm.readerTokenTTL());
  if (saDrift && !viaBootstrap) {
    // The operator's Role lets it re-create the two service accounts (tokens die with them).
    for (const auto& manifest : desired::membershipRbac(p.params)) {
      if (manifest.resource.resource != "serviceaccounts") continue;
      auto applied = helpers::applyObject(*remote, manifest.resource, manifest.object, desired::kFieldManager, nullptr);
      if (!applied) return remoteFailed(condition::kCredentialsIssued, applied.error(), "re-create " + kube::ObjectKey::of(manifest.object).toString());
    }
    p.log.info("service accounts re-created", {{"drift", drift}});
  }
  std::optional<MintedToken> opMinted, readerMinted;
  if (needOperator) {
    auto t = mintToken(*remote, meshNs, desired::kOperatorServiceAccount, p.mm.operatorTokenTTL(), p.now);
    if (!t) return remoteFailed(condition::kCredentialsIssued, t.error(), "mint a token for " + meshNs + "/" + desired::kOperatorServiceAccount + " in cluster " + p.cluster);
    opMinted = std::move(*t);
  }
  if (needReader) {
    auto t = mintToken(*remote, meshNs, desired::kReaderServiceAccount, p.mm.readerTokenTTL(), p.now);
    if (!t) return remoteFailed(condition::kCredentialsIssued, t.error(), "mint a token for " + meshNs + "/" + desired::kReaderServiceAccount + " in cluster " + p.cluster);
    readerMinted = std::move(*t);
  }
  setCond(p, condition::kCredentialsIssued, ConditionStatus::kTrue, reason::kReconciled,
          "service accounts " + meshNs + "/" + desired::kReaderServiceAccount + " and " + meshNs + "/" +
              desired::kOperatorServiceAccount + " hold current tokens");

  // ---- the operator's credentials Secret, then the registry connection.
  const std::string opToken = opMinted ? opMinted->token : stored->token;
  const TokenTiming opTiming = opMinted ? TokenTiming{opMinted->issuedAt, opMinted->expiresAt} : *stored->timing;
  if (opMinted) endpoint = viaBootstrap ? m.bootstrapEndpoint : stored->endpoint;
  {
    auto manifest = desired::operatorCredentialsSecret(p.owner, p.req.ns, tokenKubeconfig(p.cluster, endpoint, opToken));
    if (!opMinted && credsLive && credsLive->contains("data")) manifest.object["data"] = (*credsLive)["data"];
    setTiming(manifest.object, opTiming);
    manifest.object["metadata"]["annotations"][kMeshNamespaceAnnotation] = meshNs;
    auto applied = applyOwnSecret(*deps_.hub, *deps_.secrets, manifest.object, credsLive);
    if (!applied) return runtime::retryable(applied.error());
    if (applied->result != helpers::ApplyResult::kUnchanged) {
      m.credsWritten = std::make_shared<const nlohmann::json>(std::move(applied->object));
    }
  }
  if (opMinted || !connection) {
    auto rc = restConfigFor(endpoint, opToken, credsOrigin, o.requestTimeout);
    auto connected = deps_.registry->connect(p.cluster, rc);
    if (!connected) return runtime::retryable(connected.error());
    if (m.client && m.endpoint == endpoint) {
      m.token->set(opToken);
    } else {
      m.client.reset();  // rebuilt from the Secret on the next pass
    }
  }
  if (viaBootstrap) {
    m.forceBootstrap.clear();
    prober_.forget(p.key);  // the next pass probes with the operator's own connection
  }

  // ---- istiod's remote secret.
  const TokenTiming rdTiming = readerMinted ? TokenTiming{readerMinted->issuedAt, readerMinted->expiresAt} : *readerTiming;
  {
    std::string kubeconfig = readerMinted ? tokenKubeconfig(p.cluster, endpoint, readerMinted->token) : std::string();
    auto manifest = desired::istioRemoteSecret(p.owner, istioNs, kubeconfig);
    if (!readerMinted && remoteSecretLive && remoteSecretLive->contains("data")) manifest.object["data"] = (*remoteSecretLive)["data"];
    setTiming(manifest.object, rdTiming);
    auto applied = applyOwnSecret(*deps_.hub, *deps_.secrets, manifest.object, remoteSecretLive);
    if (!applied) {
      setCond(p, condition::kRemoteSecretSynced, ConditionStatus::kFalse, reasonFor(applied.error()),
              "write istiod's remote secret " + istioNs + "/" + remoteSecretName + ": " + applied.error().message());
      if (auto w = write(); !w) return runtime::retryable(w.error());
      return runtime::retryable(applied.error());
    }
    if (applied->result != helpers::ApplyResult::kUnchanged) {
      m.remoteSecretWritten = std::make_shared<const nlohmann::json>(std::move(applied->object));
    }
  }
  setCond(p, condition::kRemoteSecretSynced, ConditionStatus::kTrue, reason::kReconciled,
          "istiod's remote secret " + istioNs + "/" + remoteSecretName + " holds a current kubeconfig for cluster " + p.cluster);
  if (deps_.recorder && !viaBootstrap && (opMinted || readerMinted)) {
    std::string which = opMinted && readerMinted ? "the operator's and istiod's tokens" : opMinted ? "the operator's token" : "istiod's token";
    deps_.recorder->event(p.live, kMeshMemberships, events::EventType::kNormal, "CredentialsRotated",
                          "re-minted " + which + " for cluster " + p.cluster);
  }
  if (opMinted || readerMinted) {
    p.log.info("credentials issued", {{"operator_token", opMinted.has_value()}, {"reader_token", readerMinted.has_value()},
                                      {"reader_expires_at", meta::formatTime(rdTiming.expiresAt)},
                                      {"operator_expires_at", meta::formatTime(opTiming.expiresAt)}});
  }

  // ---- status.
  p.status.credentialsExpireAt = meta::toTime(rdTiming.expiresAt);
  p.status.remoteSecretName = istioNs + "/" + remoteSecretName;
  p.status.bootstrapSecretNoLongerNeeded = true;
  if (deps_.metrics) deps_.metrics->setCredentialsExpiry(p.cluster, unixSeconds(std::min(rdTiming.expiresAt, opTiming.expiresAt)));
  setCond(p, condition::kReady, ConditionStatus::kTrue, reason::kReconciled,
          "cluster " + p.cluster + " is a member of the mesh");
  auto next = std::min({o.probeInterval, until(p.now, opTiming.renewAt(o.renewFraction)),
                        until(p.now, rdTiming.renewAt(o.renewFraction))});
  auto settled = settle(next);
  if (settled) {
    // Ready: the next probe completions need no pass while they repeat this one's outcome and
    // nothing else changes, until the next full probe or token renewal is due.
    const SteadyTime steadyNow = clock_->now();
    std::lock_guard lock(m.quiet->mu);
    m.quiet->armed = true;
    m.quiet->pendingFull = false;
    m.quiet->consumed = *outcome;
    m.quiet->latency = p.status.probeLatency;
    m.quiet->skew = p.status.clockSkew;
    m.quiet->until = std::min({m.nodesAt + o.fullProbeInterval,
                               steadyNow + until(p.now, opTiming.renewAt(o.renewFraction)),
                               steadyNow + until(p.now, rdTiming.renewAt(o.renewFraction))});
    m.readyInputs = inputs;
  }
  return settled;
}

runtime::ReconcileOutcome MembershipReconciler::finalize(Pass& p) {
  const auto& o = deps_.options;
  Member& m = *p.m;
  if (!helpers::hasFinalizer(p.live, v1beta1::kMeshMembershipFinalizer)) {
    forget(p.req);
    return runtime::Result::done();
  }
  // 1. istiod stops using the cluster first.
  const std::string remoteSecretName = desired::remoteSecretName(p.cluster);
  // Unconditional (the cache may not have seen a Secret written moments ago); NotFound is fine.
  if (auto removed = deps_.hub->remove(r::kSecrets, {o.istioNamespace, remoteSecretName}); removed) {
    p.log.info("istiod remote secret removed", {{"secret", o.istioNamespace + "/" + remoteSecretName}});
  } else if (!removed.error().isNotFound()) {
    return runtime::retryable(removed.error());
  }
  p.m->remoteSecretWritten.reset();
  const auto orphan = p.mm.metadata.annotation(v1beta1::kOrphanOnDeleteAnnotation);
  if (orphan && *orphan == "true") {
    if (deps_.recorder) {
      deps_.recorder->event(p.live, kMeshMemberships, events::EventType::kNormal, "Orphaned",
                            "left every object in cluster " + p.cluster + " in place (" +
                                std::string(v1beta1::kOrphanOnDeleteAnnotation) + ")");
    }
    return finish(p, {}, false);
  }

  // 2. What joining created in the remote, with the best credentials at hand.
  const WallTime deadline = (p.mm.metadata.deletionTimestamp ? WallTime(*p.mm.metadata.deletionTimestamp) : p.now) +
                            p.mm.deletionTimeout();
  kube::ClientPtr remote;
  std::string problem;
  {
    const auto& ref = p.mm.spec.bootstrapSecretRef;
    const std::string refKey = ref.key.value_or(std::string(v1beta1::kDefaultBootstrapSecretKey));
    std::optional<kube::RestConfig> config;
    if (!ref.name.empty()) {
      auto secret = deps_.hub->getIfExists(r::kSecrets, {p.req.ns, ref.name});
      if (!secret) return runtime::retryable(secret.error());
      if (*secret) {
        if (auto data = secretData(**secret, refKey)) {
          if (auto c = kube::restConfigFromUntrustedKubeconfig(*data, "Secret " + p.req.ns + "/" + ref.name)) config = std::move(*c);
        }
      }
    }
    if (!config) {
      const std::string credsName = desired::operatorCredentialsSecretName(p.cluster);
      if (auto live = deps_.secrets->get({p.req.ns, credsName})) {
        if (auto s = readStoredCredentials(*live)) {
          config = restConfigFor(s->endpoint, s->token, "Secret " + p.req.ns + "/" + credsName, o.requestTimeout);
        }
      }
    }
    if (config) {
      config->timeout = o.requestTimeout;
      kube::ClientOptions co;
      co.metrics = deps_.clientMetrics;
      co.retry.maxRetries = 0;
      // Reuse the connection of an earlier pass while the credentials are the same.
      const RemoteEndpoint ep = RemoteEndpoint::of(*config);
      auto token = config->token ? config->token->token() : Expected<std::string>(std::string());
      const std::string identity = ep.server + "|" + (token ? std::to_string(std::hash<std::string>{}(*token)) : "");
      if (m.bootstrapClient && m.bootstrapVersion == identity) {
        remote = m.bootstrapClient;
      } else if (auto client = kube::makeClient(*deps_.io, *config, co)) {
        remote = *client;
        m.bootstrapClient = remote;
        m.bootstrapVersion = identity;
      } else {
        problem = client.error().message();
      }
    } else {
      problem = "neither the bootstrap Secret nor the operator's credentials are available";
    }
  }

  std::vector<std::string> leftBehind = joinedObjects(p.params);
  auto waitOrGiveUp = [&](const std::string& why) -> runtime::ReconcileOutcome {
    if (p.now >= deadline) return finish(p, leftBehind, true);
    setCond(p, condition::kReady, ConditionStatus::kFalse, reason::kDeleting,
            "removing what the operator created in cluster " + p.cluster + ": " + why +
                "; giving up at " + meta::formatTime(deadline) + " (spec.deletion.timeout)");
    if (auto w = writeStatus(p, *deps_.hub, deps_.recorder); !w) return runtime::retryable(w.error());
    return runtime::Result::after(std::max(kMinRequeue, std::min(o.probeInterval, until(p.now, deadline) + milliseconds(100))));
  };
  if (!remote) return waitOrGiveUp(problem);

  auto outcome = prober_.latest(p.key);
  const bool current = outcome && outcome->client == remote.get();
  if (!current || clock_->now() - outcome->at >= o.probeInterval) {
    prober_.start(p.key, remote, requeuer(p.req));
    if (!current && p.now < deadline) return runtime::Result::after(o.probeTimeout + o.probeInterval);
    if (!current) return finish(p, leftBehind, true);
  }
  if (deps_.metrics) deps_.metrics->setReachable(p.cluster, outcome->reachable);
  if (!outcome->reachable) {
    setCond(p, condition::kReachable, ConditionStatus::kFalse, outcome->reason, "cluster " + p.cluster + ": " + outcome->message);
    return waitOrGiveUp("cluster " + p.cluster + " does not answer (" + outcome->message + ")");
  }
  if (p.ctx.cancelled()) return runtime::retryable(Error::timeout("reconcile deadline passed before cleanup"));
  CleanupResult cleaned = cleanupRemote(*remote, p.params);
  if (cleaned.unreachable) {
    prober_.forget(p.key);
    return waitOrGiveUp("cluster " + p.cluster + " stopped answering (" + cleaned.unreachable->message() + ")");
  }
  p.log.info("remote objects removed", {{"deleted", cleaned.deleted.size()}, {"left_behind", cleaned.leftBehind.size()}});
  return finish(p, cleaned.leftBehind, false);
}

runtime::ReconcileOutcome MembershipReconciler::finish(Pass& p, const std::vector<std::string>& leftBehind,
                                                       bool deadlineExceeded) {
  const std::string credsName = desired::operatorCredentialsSecretName(p.cluster);
  if (auto removed = deps_.hub->remove(r::kSecrets, {p.req.ns, credsName}); !removed && !removed.error().isNotFound()) {
    return runtime::retryable(removed.error());
  }
  if (deps_.recorder) {
    std::string list;
    for (const auto& item : leftBehind) list += (list.empty() ? "" : ", ") + item;
    if (deadlineExceeded) {
      deps_.recorder->event(p.live, kMeshMemberships, events::EventType::kWarning, reason::kCleanupDeadlineExceeded,
                            "deletion finished after " + meta::formatDurationShort(p.mm.deletionTimeout()) +
                                " with cluster " + p.cluster + " unreachable; left behind: " + list);
    } else if (!leftBehind.empty()) {
      deps_.recorder->event(p.live, kMeshMemberships, events::EventType::kWarning, "CleanupIncomplete",
                            "cluster " + p.cluster + " refused to delete, left behind: " + list +
                                " (keep the bootstrap Secret until deletion to remove everything)");
    } else {
      deps_.recorder->event(p.live, kMeshMemberships, events::EventType::kNormal, "CleanedUp",
                            "removed istiod's remote secret and what the operator created in cluster " + p.cluster);
    }
  }
  auto removed = helpers::removeFinalizer(*deps_.hub, kMeshMemberships, p.live, v1beta1::kMeshMembershipFinalizer);
  if (!removed) {
    if (removed.error().isNotFound()) return runtime::Result::done();
    return runtime::retryable(removed.error());
  }
  p.log.info("membership deleted", {{"deadline_exceeded", deadlineExceeded}, {"left_behind", leftBehind.size()}});
  forget(p.req);
  return runtime::Result::done();
}

}  // namespace rio::reconcilers::membership
