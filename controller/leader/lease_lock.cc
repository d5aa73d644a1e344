#include "controller/leader/lease_lock.h"

#include "controller/helpers/time_format.h"

namespace rio::leader {
namespace {

using Json = nlohmann::json;

std::optional<WallTime> timeField(const Json& spec, const char* name) {
  auto it = spec.find(name);
  if (it == spec.end() || !it->is_string()) return std::nullopt;
  auto t = helpers::parseTimestamp(it->get<std::string>());
  if (!t) return std::nullopt;
  return *t;
}

int intField(const Json& spec, const char* name) {
  auto it = spec.find(name);
  if (it == spec.end() || !it->is_number_integer()) return 0;
  return it->get<int>();
}

}  // namespace

Json LeaderElectionRecord::toLeaseSpec() const {
  Json spec = Json::object();
  // As client-go's LeaderElectionRecordToLeaseSpec: every field is a set pointer, so a released
  // lease carries holderIdentity "" (not an absent field); unset times are omitted.
  spec["holderIdentity"] = holderIdentity;
  spec["leaseDurationSeconds"] = leaseDurationSeconds;
  if (acquireTime) spec["acquireTime"] = helpers::formatMicroTime(*acquireTime);
  if (renewTime) spec["renewTime"] = helpers::formatMicroTime(*renewTime);
  spec["leaseTransitions"] = leaseTransitions;
  return spec;
}

LeaderElectionRecord LeaderElectionRecord::fromLeaseSpec(const Json& spec) {
  LeaderElectionRecord r;
  if (!spec.is_object()) return r;
  if (auto h = spec.find("holderIdentity"); h != spec.end() && h->is_string()) {
    r.holderIdentity = h->get<std::string>();
  }
  r.leaseDurationSeconds = intField(spec, "leaseDurationSeconds");
  r.acquireTime = timeField(spec, "acquireTime");
  r.renewTime = timeField(spec, "renewTime");
  r.leaseTransitions = intField(spec, "leaseTransitions");
  return r;
}

LeaseLockImpl::LeaseLockImpl(kube::ClientPtr client, std::string ns, std::string name)
    : client_(std::move(client)), ns_(std::move(ns)), name_(std::move(name)) {}

Expected<LeaderElectionRecord> LeaseLockImpl::get() {
  auto got = client_->get(kube::resources::kLeases, {ns_, name_});
  if (!got) return fail(got.error());
  auto record = LeaderElectionRecord::fromLeaseSpec(got->value("spec", Json::object()));
  std::lock_guard lock(mu_);
  lease_ = std::move(*got);
  return record;
}

Expected<void> LeaseLockImpl::create(const LeaderElectionRecord& record) {
  Json lease{{"apiVersion", "coordination.k8s.io/v1"},
             {"kind", "Lease"},
             {"metadata", {{"name", name_}, {"namespace", ns_}}},
             {"spec", record.toLeaseSpec()}};
  auto created = client_->create(kube::resources::kLeases, lease);
  if (!created) return fail(created.error());
  std::lock_guard lock(mu_);
  lease_ = std::move(*created);
  return {};
}

Expected<void> LeaseLockImpl::update(const LeaderElectionRecord& record) {
  Json lease;
  {
    std::lock_guard lock(mu_);
    if (!lease_) return fail(Error::internal("update of lease " + describe() + " before get"));
    lease = *lease_;
  }
  lease["apiVersion"] = "coordination.k8s.io/v1";
  lease["kind"] = "Lease";
  lease["spec"] = record.toLeaseSpec();
  auto updated = client_->update(kube::resources::kLeases, lease);
  if (!updated) return fail(updated.error());
  std::lock_guard lock(mu_);
  lease_ = std::move(*updated);
  return {};
}

}  // namespace rio::leader
