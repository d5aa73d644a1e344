#include "reconcilers/remoteistio/connection.h"

#include "controller/kube/kubeconfig.h"
#include "reconcilers/remoteistio/hub_pki.h"

namespace rio::reconcilers::remoteistio {
namespace {

namespace reason = v1beta1::reason;
namespace condition = v1beta1::condition;
using nlohmann::json;

std::string describeCondition(const meta::Condition* c, std::string_view type) {
  if (!c) return std::string(type) + " not reported yet";
  std::string out = std::string(type) + "=" + std::string(meta::toString(c->status));
  if (!c->reason.empty()) out += " (" + c->reason + ")";
  if (!c->message.empty()) out += ": " + c->message;
  return out;
}

}  // namespace

ConnectionResolver::ConnectionResolver(reconcilers::ClusterRegistry& registry,
                                       cache::InformerPtr memberships,
                                       cache::InformerPtr credentialSecrets, kube::ClientPtr hub,
                                       std::string meshNamespace,
                                       std::chrono::seconds defaultDeletionTimeout)
    : registry_(registry),
      memberships_(std::move(memberships)),
      secrets_(std::move(credentialSecrets)),
      hub_(std::move(hub)),
      meshNamespace_(std::move(meshNamespace)),
      defaultDeletionTimeout_(defaultDeletionTimeout) {}

Connection ConnectionResolver::resolve(const v1beta1::RemoteIstio& ri) {
  Connection out;
  out.cluster = ri.metadata.name;
  out.deletionTimeout = defaultDeletionTimeout_;
  if (auto obj =
          memberships_ ? memberships_->get({ri.metadata.namespace_, ri.metadata.name}) : nullptr) {
    auto decoded = v1beta1::decodeMeshMembership(*obj);
    fromMembership(decoded.object, out);
    return out;
  }
  fromSecret(ri, out);
  return out;
}

void ConnectionResolver::fromMembership(const v1beta1::MeshMembership& m, Connection& out) const {
  out.viaMembership = true;
  out.cluster = m.clusterName();
  out.mode = m.networkMode();
  out.deletionTimeout = m.deletionTimeout();
  out.kubernetesVersion = m.status.kubernetesVersion;
  out.credentialsSource = "MeshMembership " + m.metadata.namespace_ + "/" + m.metadata.name;
  const auto& conditions = m.status.conditions;
  const meta::Condition* prereq = meta::findCondition(conditions, condition::kPrerequisitesMet);
  if (prereq && prereq->status == meta::ConditionStatus::kFalse) {
    out.installBlocked = true;
    out.reason = std::string(reason::kPrerequisitesNotMet);
    out.message = out.credentialsSource + ": " +
                  describeCondition(prereq, condition::kPrerequisitesMet) +
                  "; nothing is installed in cluster " + out.cluster;
    return;
  }
  const meta::Condition* issued = meta::findCondition(conditions, condition::kCredentialsIssued);
  auto remote = registry_.find(out.cluster);
  if (m.metadata.isBeingDeleted() || !issued || issued->status != meta::ConditionStatus::kTrue ||
      !remote) {
    out.reason = std::string(reason::kMembershipNotReady);
    out.connectPending = !m.metadata.isBeingDeleted() && issued &&
                         issued->status == meta::ConditionStatus::kTrue;
    out.message = "waiting for " + out.credentialsSource + " to connect cluster " + out.cluster +
                  ": " +
                  (m.metadata.isBeingDeleted() ? std::string("it is being deleted")
                   : !issued || issued->status != meta::ConditionStatus::kTrue
                       ? describeCondition(issued, condition::kCredentialsIssued)
                       : std::string("no connection yet"));
    return;
  }
  out.remote = std::move(remote);
}

void ConnectionResolver::fromSecret(const v1beta1::RemoteIstio& ri, Connection& out) {
  const std::string& ns = ri.metadata.namespace_;
  const std::string& name = ri.metadata.name;
  const std::string source = "Secret " + ns + "/" + name;
  out.credentialsSource = source;
  const std::string looked = "no MeshMembership " + ns + "/" + name + " and no " + source +
                             " labelled " + kMultiClusterSelector;

  std::optional<json> secret;
  if (ns == meshNamespace_ && secrets_) {
    if (auto cached = secrets_->get({ns, name})) secret = *cached;
  } else {
    auto got = hub_->getIfExists(kube::resources::kSecrets, {ns, name});
    if (!got) {
      out.reason = std::string(reason::kCredentialsNotFound);
      out.message = looked + " could be read: " + got.error().message();
      return;
    }
    if (*got) {
      const std::string* label = cache::labelOf(**got, kMultiClusterLabel);
      if (label && *label == "true") secret = std::move(*got);
    }
  }
  if (!secret) {
    out.reason = std::string(reason::kCredentialsNotFound);
    out.message = looked + " (create it with create-secret.sh, or create a MeshMembership)";
    return;
  }
  auto data = secretData(*secret);
  auto kubeconfig = data.find(name);
  if (kubeconfig == data.end() || kubeconfig->second.empty()) {
    out.reason = std::string(reason::kCredentialsNotFound);
    out.message = source + " has no key " + name + " (the cluster name) holding a kubeconfig";
    return;
  }
  auto config = kube::restConfigFromUntrustedKubeconfig(kubeconfig->second, source);
  if (!config) {
    out.reason = std::string(reason::kBootstrapCredentialsInvalid);
    out.message = config.error().message();
    return;
  }
  auto remote = registry_.connect(out.cluster, *config);
  if (!remote) {
    out.reason = std::string(reason::kBootstrapCredentialsInvalid);
    out.message = remote.error().message();
    return;
  }
  out.remote = std::move(*remote);
}

}  // namespace rio::reconcilers::remoteistio
