#include "reconcilers/remoteistio/remote_writer.h"

#include "api/v1beta1/names.h"
#include "controller/cache/server_health.h"
#include "controller/helpers/apply.h"

namespace rio::reconcilers::remoteistio {
namespace {

using nlohmann::json;
namespace r = kube::resources;

// The server did not answer: its ServerHealth learns of it (informers then probe before listing).
bool noAnswer(const Error& e) {
  return e.kind() == ErrorKind::kTransport || e.kind() == ErrorKind::kTimeout;
}

// Talking to the server is pointless for the rest of the pass.
bool stopsPass(const Error& e) {
  return noAnswer(e) || e.kind() == ErrorKind::kTls || e.isUnauthorized();
}

bool ownedBy(const json& object, const desired::Owner& owner, const std::string& ownerValue) {
  const std::string* managedBy = cache::labelOf(object, desired::kManagedByLabel);
  const std::string* kind = cache::labelOf(object, desired::kOwnerKindLabel);
  const std::string* value = cache::labelOf(object, desired::kOwnerLabel);
  return managedBy && *managedBy == desired::kManagedByValue && kind && *kind == owner.kind &&
         value && *value == ownerValue;
}

std::vector<kube::Resource> ownedResources() {
  auto all = reconcilers::ownedNamespacedResources();
  for (const auto& res : reconcilers::ownedClusterResources()) all.push_back(res);
  return all;
}

}  // namespace

std::string failureReason(const Error& error) {
  namespace reason = v1beta1::reason;
  if (noAnswer(error) || error.kind() == ErrorKind::kTls) return std::string(reason::kUnreachable);
  if (error.isUnauthorized()) return std::string(reason::kUnauthorized);
  if (error.isForbidden()) return std::string(reason::kForbidden);
  if (!helpers::conflictFields(error).empty()) return std::string(reason::kFieldConflict);
  return std::string(reason::kApplyFailed);
}

std::string objectId(const kube::Resource& resource, const json& object) {
  return resource.qualifiedName() + "|" + kube::ObjectKey::of(object).toString();
}

RemoteWriter::RemoteWriter(reconcilers::RemoteClusterPtr remote, std::string meshNamespace,
                           reconcilers::OperatorMetrics* metrics, std::function<bool()> cancelled)
    : remote_(std::move(remote)),
      meshNamespace_(std::move(meshNamespace)),
      metrics_(metrics),
      cancelled_(std::move(cancelled)) {}

bool RemoteWriter::halted() {
  if (stop_) return true;
  if (cancelled_ && cancelled_()) {
    auto e = Error::timeout(
        "cluster " + remote_->name() +
        " answers too slowly: the reconcile deadline passed; the rest follows in the next pass");
    stop_ = RemoteFailure{std::string(v1beta1::reason::kUnreachable), e.message(), e};
    failures_.push_back(*stop_);
    return true;
  }
  return false;
}

RemoteFailure RemoteWriter::failed(const Error& error, const std::string& kind) {
  RemoteFailure f{failureReason(error), error.message(), error};
  if (auto fields = helpers::conflictFields(error); !fields.empty()) {
    f.message =
        error.message().substr(0, error.message().find(':')) + ": fields managed by someone else: ";
    for (std::size_t i = 0; i < fields.size(); ++i) f.message += (i ? "; " : "") + fields[i];
  }
  if (noAnswer(error)) {
    remote_->health()->noAnswer();
  } else if (error.kind() == ErrorKind::kApi) {
    remote_->health()->answered();
  }
  if (stopsPass(error)) stop_ = f;
  failures_.push_back(f);
  if (metrics_ && !kind.empty()) metrics_->countApply(remote_->name(), kind, "error");
  return f;
}

void RemoteWriter::succeeded(const std::string& kind, const std::string& result) {
  // An unchanged object was compared with the cache only: no answer to report.
  if (result != "unchanged") remote_->health()->answered();
  if (result == "created") ++created_;
  if (result == "updated") ++updated_;
  if (result == "deleted") ++deleted_;
  if (metrics_) metrics_->countApply(remote_->name(), kind, result);
}

RemoteWriter::Outcome<json> RemoteWriter::apply(const desired::Manifest& m, bool wantObject) {
  if (halted()) return tl::unexpected(*stop_);
  cache::ObjectPtr live;
  auto informer = remote_->informer(m.resource);
  if (informer) live = informer->get(kube::ObjectKey::of(m.object));
  if (!live && informer && informer->hasSynced()) {
    // Not in a synced cache: create it with the apply right away (applyObject would GET first to
    // tell created from updated). Should the cache lag behind, the apply is still correct.
    kube::PatchOptions options;
    options.fieldManager = desired::kFieldManager;
    options.discardResult = !wantObject;
    auto created = remote_->client()->patch(m.resource, kube::ObjectKey::of(m.object),
                                            kube::PatchType::kApply, m.object, options);
    if (!created) return tl::unexpected(failed(created.error(), m.resource.kind));
    succeeded(m.resource.kind, "created");
    return std::move(*created);
  }
  auto applied = helpers::applyObject(*remote_->client(), m.resource, m.object,
                                      desired::kFieldManager, live ? live.get() : nullptr);
  if (!applied) return tl::unexpected(failed(applied.error(), m.resource.kind));
  switch (applied->result) {
    case helpers::ApplyResult::kCreated:
      succeeded(m.resource.kind, "created");
      break;
    case helpers::ApplyResult::kUpdated:
      succeeded(m.resource.kind, "updated");
      break;
    case helpers::ApplyResult::kUnchanged:
      succeeded(m.resource.kind, "unchanged");
      break;
  }
  return std::move(applied->object);
}

RemoteWriter::Outcome<void> RemoteWriter::applyNamespaceLabels(const json& body) {
  if (halted()) return tl::unexpected(*stop_);
  auto applied = remote_->client()->apply(r::kNamespaces, body, desired::kInjectionFieldManager,
                                          /*force=*/false);
  if (!applied) return tl::unexpected(failed(applied.error(), r::kNamespaces.kind));
  succeeded(r::kNamespaces.kind, "updated");
  return {};
}

RemoteWriter::Outcome<std::string> RemoteWriter::serverVersion() {
  if (halted()) return tl::unexpected(*stop_);
  auto version = remote_->client()->getPath("/version");
  if (!version) return tl::unexpected(failed(version.error().wrap("get /version"), ""));
  remote_->health()->answered();
  return version->is_object() ? version->value("gitVersion", "") : std::string();
}

RemoteWriter::Outcome<void> RemoteWriter::remove(const kube::Resource& resource,
                                                 const json& object) {
  if (halted()) return tl::unexpected(*stop_);
  kube::DeleteOptions options;
  if (auto uid = object["metadata"].value("uid", ""); !uid.empty()) options.preconditionUid = uid;
  auto removed = remote_->client()->remove(resource, kube::ObjectKey::of(object), options);
  if (!removed && !removed.error().isNotFound() && !removed.error().isConflict()) {
    return tl::unexpected(failed(removed.error(), resource.kind));
  }
  if (removed) succeeded(resource.kind, "deleted");
  return {};
}

std::vector<std::pair<kube::Resource, json>> RemoteWriter::ownedObjects(const desired::Owner& owner,
                                                                        bool listWhenUnsynced,
                                                                        bool* complete) {
  std::vector<std::pair<kube::Resource, json>> out;
  const std::string value = desired::ownerValue(owner);
  for (const auto& res : ownedResources()) {
    auto informer = remote_->informer(res);
    if (informer && informer->hasSynced()) {
      for (const auto& obj : informer->store().list()) {
        if (ownedBy(*obj, owner, value)) out.emplace_back(res, *obj);
      }
      continue;
    }
    if (!listWhenUnsynced || halted()) {
      if (complete) *complete = false;
      continue;
    }
    kube::ListOptions options;
    options.labelSelector = desired::ownerSelector(owner);
    auto listed =
        remote_->client()->listAll(res, res.namespaced ? meshNamespace_ : std::string(), options);
    if (!listed) {
      failed(listed.error(), "");
      if (complete) *complete = false;
      continue;
    }
    for (const auto& item : listed->value("items", json::array())) {
      if (ownedBy(item, owner, value)) out.emplace_back(res, item);
    }
  }
  return out;
}

void RemoteWriter::prune(const desired::Owner& owner, const std::set<std::string>& keep) {
  for (const auto& [res, obj] : ownedObjects(owner, /*listWhenUnsynced=*/false)) {
    if (halted()) return;
    if (keep.count(objectId(res, obj))) continue;
    (void)remove(res, obj);
  }
}

}  // namespace rio::reconcilers::remoteistio
