#include "reconcilers/membership/cleanup.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace rio::reconcilers::membership {
namespace {

struct Found {
  kube::Resource resource;
  nlohmann::json object;
  int phase = 0;  // 0: others, 1: the operator's own account (last)
  int rank = 0;   // within a phase: bindings, roles, service accounts
};

std::string describeObject(const kube::Resource& resource, const kube::ObjectKey& key) {
  return resource.kind + " " + key.toString();
}

int rankOf(const kube::Resource& r) {
  if (r.resource == "clusterrolebindings" || r.resource == "rolebindings") return 0;
  if (r.resource == "clusterroles" || r.resource == "roles") return 1;
  return 2;
}

bool isOwnAccount(const kube::Resource& r, const std::string& name) {
  if (r.resource == "serviceaccounts") return name == desired::kOperatorServiceAccount;
  if (r.resource == "clusterroles" || r.resource == "clusterrolebindings") return name == desired::kOperatorClusterRole;
  if (r.resource == "roles" || r.resource == "rolebindings") return name == desired::kOperatorRole;
  return false;
}

bool ownedBy(const nlohmann::json& object, const desired::Owner& owner) {
  const auto md = object.value("metadata", nlohmann::json::object());
  if (!md.is_object()) return false;
  const auto labels = md.value("labels", nlohmann::json::object());
  if (!labels.is_object()) return false;
  return labels.value(desired::kManagedByLabel, "") == desired::kManagedByValue &&
         labels.value(desired::kOwnerKindLabel, "") == owner.kind &&
         labels.value(desired::kOwnerLabel, "") == desired::ownerValue(owner);
}

std::string shortReason(const Error& e) {
  if (e.isForbidden()) return "forbidden";
  if (e.isUnauthorized()) return "unauthorized";
  if (e.isConflict()) return "conflict";
  if (!e.reason().empty()) return std::string(e.reason());
  return "HTTP " + std::to_string(e.code());
}

bool refused(const Error& e) { return e.isForbidden() || e.isUnauthorized() || e.isInvalid() || e.isBadRequest(); }

}  // namespace

std::vector<std::string> joinedObjects(const desired::MembershipParams& params) {
  std::vector<std::string> out;
  for (const auto& m : desired::membershipRbac(params)) out.push_back(describeObject(m.resource, kube::ObjectKey::of(m.object)));
  return out;
}

CleanupResult cleanupRemote(kube::Client& client, const desired::MembershipParams& params) {
  CleanupResult result;
  const std::string selector = desired::ownerSelector(params.owner);

  // Where to look: every (resource, namespace) joining writes to, with the names it writes.
  std::map<std::tuple<std::string, std::string>, std::pair<kube::Resource, std::vector<std::string>>> groups;
  for (const auto& m : desired::membershipRbac(params)) {
    auto key = kube::ObjectKey::of(m.object);
    auto& g = groups[{m.resource.qualifiedName(), key.ns}];
    g.first = m.resource;
    g.second.push_back(key.name);
  }

  std::vector<Found> found;
  std::set<std::string> seen;
  for (const auto& [where, group] : groups) {
    const auto& [resource, names] = group;
    const std::string& ns = std::get<1>(where);
    kube::ListOptions options;
    options.labelSelector = selector;
    auto list = client.list(resource, ns, options);
    std::vector<nlohmann::json> items;
    if (list) {
      for (const auto& item : list->value("items", nlohmann::json::array())) items.push_back(item);
    } else if (refused(list.error())) {
      // Narrow rights (the operator's own account): look at the known names one by one.
      for (const auto& name : names) {
        auto got = client.getIfExists(resource, {ns, name});
        if (got && *got) {
          items.push_back(**got);
        } else if (!got && refused(got.error())) {
          result.leftBehind.push_back(describeObject(resource, {ns, name}) + " (" + shortReason(got.error()) + ")");
        } else if (!got) {
          result.unreachable = got.error();
          return result;
        }
      }
    } else {
      result.unreachable = list.error();
      return result;
    }
    for (auto& item : items) {
      if (!ownedBy(item, params.owner)) continue;  // never anything else
      auto key = kube::ObjectKey::of(item);
      if (!seen.insert(describeObject(resource, key)).second) continue;
      Found f{resource, std::move(item), isOwnAccount(resource, key.name) ? 1 : 0, rankOf(resource)};
      found.push_back(std::move(f));
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return std::tie(a.phase, a.rank) < std::tie(b.phase, b.rank);
  });

  for (const auto& f : found) {
    auto key = kube::ObjectKey::of(f.object);
    kube::DeleteOptions options;
    const auto md = f.object.value("metadata", nlohmann::json::object());
    if (md.is_object() && md.contains("uid") && md["uid"].is_string()) options.preconditionUid = md["uid"].get<std::string>();
    auto removed = client.remove(f.resource, key, options);
    if (removed || removed.error().isNotFound()) {
      result.deleted.push_back(describeObject(f.resource, key));
    } else if (refused(removed.error()) || removed.error().isConflict()) {
      result.leftBehind.push_back(describeObject(f.resource, key) + " (" + shortReason(removed.error()) + ")");
    } else {
      result.unreachable = removed.error();
      return result;
    }
  }
  return result;
}

}  // namespace rio::reconcilers::membership
