// ApiServer's admin endpoint (/_testenv/..., cluster admins only) for fault injection and
// accounting from outside the process, and persistence of the store (--state-dir).
#include <cstdio>
#include <fstream>
#include <sstream>

#include "test/testenv/api_server_impl.h"
#include "test/testenv/object_util.h"

namespace rio::testenv {

// Routes:
//   GET    /_testenv/requests            accounting (RequestStats::toJson)
//   DELETE /_testenv/requests            reset accounting
//   GET    /_testenv/faults              current FaultConfig
//   PUT    /_testenv/faults              replace FaultConfig (FaultConfig::fromJson)
//   GET    /_testenv/watches             {"active": N}
//   POST   /_testenv/watches/drop        end every watch
//   POST   /_testenv/watches/expire      forget watch history (next old-RV watch gets 410)
//   POST   /_testenv/watches/bookmark    send a BOOKMARK on every watch that allows them
//   POST   /_testenv/blackhole/release   abort requests held by the blackhole
//   PUT    /_testenv/deployments/delay   {"ms": N}: simulated Deployment readiness delay
void ApiServer::Impl::dispatchAdmin(Ctx& ctx) {
  const std::string& p = ctx.req.path;
  const std::string& m = ctx.req.method;
  auto ok = [&](const nlohmann::json& body) { respondJson(ctx, 200, body); };
  auto parseBody = [&]() -> std::optional<nlohmann::json> {
    auto j = nlohmann::json::parse(ctx.req.body.empty() ? "{}" : ctx.req.body, nullptr, false);
    if (j.is_discarded()) {
      respondError(ctx.ex, errors::badRequest("the body must be JSON"));
      return std::nullopt;
    }
    return j;
  };
  if (p == "/_testenv/requests") {
    if (m == "GET") {
      nlohmann::json j;
      {
        std::lock_guard lock(statsMu);
        j = stats.toJson();
      }
      return ok(j);
    }
    if (m == "DELETE") {
      {
        std::lock_guard lock(statsMu);
        stats = RequestStats{};
      }
      return ok({{"status", "Success"}});
    }
  } else if (p == "/_testenv/faults") {
    if (m == "GET") {
      StoreLock lock(this);
      auto j = faults.toJson();
      lock.unlock();
      return ok(j);
    }
    if (m == "PUT" || m == "POST") {
      auto body = parseBody();
      if (!body) return;
      auto parsed = FaultConfig::fromJson(*body);
      if (!parsed) return respondError(ctx.ex, errors::badRequest(parsed.error().message()));
      StoreLock lock(this);
      faults = *parsed;
      auto j = faults.toJson();
      lock.unlock();
      return ok(j);
    }
  } else if (p == "/_testenv/watches" && m == "GET") {
    StoreLock lock(this);
    std::size_t n = watchers.size();
    lock.unlock();
    return ok({{"active", n}});
  } else if (p == "/_testenv/watches/drop" && m == "POST") {
    dropWatches();
    return ok({{"status", "Success"}});
  } else if (p == "/_testenv/watches/expire" && m == "POST") {
    expireHistory();
    return ok({{"status", "Success"}});
  } else if (p == "/_testenv/watches/bookmark" && m == "POST") {
    bookmarkAll();
    return ok({{"status", "Success"}});
  } else if (p == "/_testenv/blackhole/release" && m == "POST") {
    releaseParked();
    return ok({{"status", "Success"}});
  } else if (p == "/_testenv/deployments/delay" && (m == "PUT" || m == "POST")) {
    auto body = parseBody();
    if (!body) return;
    if (!body->is_object() || !(*body)["ms"].is_number_integer() ||
        (*body)["ms"].get<long long>() < 0) {
      return respondError(ctx.ex, errors::badRequest("expected {\"ms\": <non-negative integer>}"));
    }
    StoreLock lock(this);
    opts.simulation.deploymentReadyDelay =
        std::chrono::milliseconds((*body)["ms"].get<long long>());
    lock.unlock();
    return ok({{"status", "Success"}});
  } else {
    return respondError(ctx.ex, errors::resourceNotFound());
  }
  respondError(ctx.ex, errors::methodNotAllowed());
}

Expected<void> ApiServer::save(const std::string& path) const {
  nlohmann::json objects = nlohmann::json::array();
  std::uint64_t rv = 0;
  {
    StoreLock lock(impl_.get());
    rv = impl_->rv;
    for (const auto& [storageKey, bucket] : impl_->store) {
      for (const auto& [key, obj] : bucket) {
        objects.push_back({{"storageKey", storageKey}, {"key", key}, {"object", *obj}});
      }
    }
  }
  nlohmann::json doc = {
      {"kind", "KubeTestenvState"}, {"version", 1}, {"resourceVersion", rv}, {"objects", objects}};
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return fail(Error::config("cannot write " + tmp));
    out << doc.dump();
    out.flush();
    if (!out) return fail(Error::config("cannot write " + tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(Error::config("cannot rename " + tmp + " to " + path));
  return {};
}

Expected<void> ApiServer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error::config("cannot read " + path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = nlohmann::json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("kind", "") != "KubeTestenvState" ||
      !doc.contains("objects") || !doc["objects"].is_array() || !doc.contains("resourceVersion") ||
      !doc["resourceVersion"].is_number_unsigned()) {
    return fail(Error::decode(path + " is not a kube-testenv state file"));
  }
  impl_->dropWatches();
  StoreLock lock(impl_.get());
  Impl& s = *impl_;
  s.store.clear();
  ++s.rbacVersion;
  s.rbacKindVersions.clear();
  s.rbacLists.clear();
  s.registry = Registry();
  s.history.clear();
  s.terminatingNamespaces.clear();
  s.terminatingCrds.clear();
  s.rv = doc["resourceVersion"].get<std::uint64_t>();
  s.historyFloor = s.rv;
  for (const auto& entry : doc["objects"]) {
    if (!entry.is_object() || !entry.contains("object") || !entry["object"].is_object()) continue;
    std::string storageKey = entry.value("storageKey", "");
    std::string key = entry.value("key", "");
    if (storageKey.empty() || key.empty()) continue;
    s.store[storageKey][key] = std::make_shared<const nlohmann::json>(entry["object"]);
    if (storageKey == "apiextensions.k8s.io/customresourcedefinitions") {
      (void)s.registry.setCustomResource(entry["object"]);
    }
  }
  s.reindex();
  s.allocatedIps.insert(s.serviceBase);
  // Resume what was in progress.
  for (const auto& [key, obj] : s.store["/namespaces"]) {
    if (!metaString(*obj, "deletionTimestamp").empty())
      s.scheduleNamespaceCleanup(metaString(*obj, "name"));
  }
  if (s.store["/namespaces"].empty()) s.store.erase("/namespaces");
  auto crds = s.store.find("apiextensions.k8s.io/customresourcedefinitions");
  if (crds != s.store.end()) {
    for (const auto& [key, obj] : crds->second) {
      if (!metaString(*obj, "deletionTimestamp").empty())
        s.scheduleCrdCleanup(metaString(*obj, "name"));
    }
  }
  return {};
}

}  // namespace rio::testenv
