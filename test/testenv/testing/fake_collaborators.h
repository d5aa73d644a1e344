// Test doubles for ApiServer's collaborators: a token authority with predictable tokens, an
// authorizer driven by a function (allow-all by default), bearer-token authentication, and naive
// merge functions (JSON merge patch in place of strategic merge / apply, one managedFields entry
// per manager). For engine tests that must not depend on auth.cc or merge.cc.
#pragma once

#include <map>
#include <mutex>

#include "test/support/fake_clock.h"
#include "test/testenv/api_server.h"
#include "test/testenv/fake_scheduler.h"
#include "test/testenv/object_util.h"

namespace rio::testenv::testing {

inline UserInfo serviceAccountUser(const std::string& ns, const std::string& name,
                                   const std::string& uid) {
  UserInfo u;
  u.name = "system:serviceaccount:" + ns + ":" + name;
  u.groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
  u.uid = uid;
  u.serviceAccountNamespace = ns;
  u.serviceAccountName = name;
  return u;
}

class FakeTokenAuthority final : public TokenAuthority {
 public:
  explicit FakeTokenAuthority(ClockPtr clock) : clock_(std::move(clock)) {}
  Issued issue(const std::string& ns, const std::string& name, const std::string& uid,
               std::chrono::seconds ttl, const std::vector<std::string>&) override {
    std::lock_guard lock(mu_);
    std::string token = "sa-token-" + std::to_string(++n_);
    WallTime expires = clock_->wallNow() + ttl;
    issued_[token] = {serviceAccountUser(ns, name, uid), expires};
    return {token, expires};
  }
  std::optional<UserInfo> authenticate(const std::string& token) override {
    std::lock_guard lock(mu_);
    if (auto it = static_.find(token); it != static_.end()) return it->second;
    auto it = issued_.find(token);
    if (it == issued_.end() || clock_->wallNow() >= it->second.second) return std::nullopt;
    return it->second.first;
  }
  void addStaticToken(const std::string& token, UserInfo user) override {
    std::lock_guard lock(mu_);
    static_[token] = std::move(user);
  }
  void revokeServiceAccount(const std::string& uid) override {
    std::lock_guard lock(mu_);
    for (auto it = issued_.begin(); it != issued_.end();) {
      it = it->second.first.uid == uid ? issued_.erase(it) : std::next(it);
    }
  }

 private:
  ClockPtr clock_;
  std::mutex mu_;  // guards everything below
  int n_ = 0;
  std::map<std::string, UserInfo> static_;
  std::map<std::string, std::pair<UserInfo, WallTime>> issued_;
};

class FakeAuthorizer final : public Authorizer {
 public:
  using Rule = std::function<Decision(const UserInfo&, const Attributes&)>;
  explicit FakeAuthorizer(Rule rule = nullptr) : rule_(std::move(rule)) {}
  Decision authorize(const UserInfo& user, const Attributes& a) override {
    std::lock_guard lock(mu_);
    last_ = a;
    return rule_ ? rule_(user, a) : Decision{true, ""};
  }
  nlohmann::json rulesFor(const UserInfo&, const std::string&) override {
    return {{"resourceRules",
             nlohmann::json::array(
                 {{{"verbs", {"get"}}, {"apiGroups", {""}}, {"resources", {"configmaps"}}}})}};
  }
  void setRule(Rule rule) {
    std::lock_guard lock(mu_);
    rule_ = std::move(rule);
  }
  Attributes last() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  std::mutex mu_;  // guards rule_, last_
  Rule rule_;
  Attributes last_;
};

inline std::optional<UserInfo> bearerAuthenticate(const http::ServerRequest& r,
                                                  TokenAuthority& tokens) {
  auto h = r.header("Authorization");
  if (!h || h->rfind("Bearer ", 0) != 0) return std::nullopt;
  return tokens.authenticate(std::string(h->substr(7)));
}

inline nlohmann::json naiveRecordUpdate(const nlohmann::json&, const nlohmann::json& after,
                                        const std::string& manager, const std::string& apiVersion,
                                        const std::string& subresource, WallTime now,
                                        const std::string& operation = "Update") {
  nlohmann::json out = after;
  nlohmann::json fields = nlohmann::json::array();
  const auto& meta = metadataOf(after);
  if (meta.contains("managedFields") && meta["managedFields"].is_array())
    fields = meta["managedFields"];
  nlohmann::json entry = {{"manager", manager},       {"operation", operation},
                          {"apiVersion", apiVersion}, {"time", formatTimestamp(now)},
                          {"fieldsType", "FieldsV1"}, {"fieldsV1", nlohmann::json::object()}};
  if (!subresource.empty()) entry["subresource"] = subresource;
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& f : fields) {
    if (f.is_object() && f.value("manager", "") == manager &&
        f.value("operation", "") == operation && f.value("subresource", "") == subresource) {
      continue;
    }
    kept.push_back(f);
  }
  kept.push_back(entry);
  out["metadata"]["managedFields"] = kept;
  return out;
}

inline MergeFunctions fakeMerge() {
  MergeFunctions m;
  m.strategicMergePatch = [](const nlohmann::json& original, const nlohmann::json& patch,
                             std::string_view, std::string_view) -> Expected<nlohmann::json> {
    nlohmann::json out = original;
    out.merge_patch(patch);
    return out;
  };
  m.serverSideApply = [](const nlohmann::json& live, const nlohmann::json& applied,
                         const std::string& manager, bool, const std::string& apiVersion,
                         const std::string& subresource, WallTime now) -> Expected<ApplyOutcome> {
    nlohmann::json merged = live.is_null() ? applied : live;
    if (!live.is_null()) merged.merge_patch(applied);
    return ApplyOutcome{
        naiveRecordUpdate(live, merged, manager, apiVersion, subresource, now, "Apply"), {}};
  };
  m.recordUpdate = [](const nlohmann::json& before, const nlohmann::json& after,
                      const std::string& manager, const std::string& apiVersion,
                      const std::string& subresource, WallTime now) {
    return naiveRecordUpdate(before, after, manager, apiVersion, subresource, now);
  };
  m.conflictStatus = [](const std::vector<FieldConflict>& conflicts, const std::string&) {
    nlohmann::json causes = nlohmann::json::array();
    for (const auto& c : conflicts) {
      causes.push_back({{"reason", "FieldManagerConflict"},
                        {"message", "conflict with \"" + c.manager + "\""},
                        {"field", c.field}});
    }
    return nlohmann::json{{"kind", "Status"},
                          {"apiVersion", "v1"},
                          {"metadata", nlohmann::json::object()},
                          {"status", "Failure"},
                          {"message", "Apply failed"},
                          {"reason", "Conflict"},
                          {"details", {{"causes", causes}}},
                          {"code", 409}};
  };
  return m;
}

/// Everything a test needs around one ApiServer: manual clock and timers, fake auth (admin token
/// "admin-token"), allow-all authorizer (replaceable), naive merge functions.
struct FakeWorld {
  std::shared_ptr<rio::testing::FakeClock> clock = std::make_shared<rio::testing::FakeClock>();
  std::shared_ptr<FakeScheduler> scheduler = std::make_shared<FakeScheduler>(clock);
  std::shared_ptr<FakeTokenAuthority> tokens = std::make_shared<FakeTokenAuthority>(clock);
  std::shared_ptr<FakeAuthorizer> authorizer = std::make_shared<FakeAuthorizer>();

  FakeWorld() {
    UserInfo admin;
    admin.name = "admin";
    admin.groups = {"system:masters", "system:authenticated"};
    tokens->addStaticToken("admin-token", admin);
    UserInfo alice;
    alice.name = "alice";
    alice.groups = {"system:authenticated"};
    tokens->addStaticToken("alice-token", alice);
  }

  ApiServerDeps deps(MergeFunctions merge = fakeMerge()) {
    ApiServerDeps d;
    d.clock = clock;
    d.scheduler = scheduler;
    d.merge = std::move(merge);
    d.auth.tokens = tokens;
    auto t = tokens;
    d.auth.authenticate = [t](const http::ServerRequest& r) { return bearerAuthenticate(r, *t); };
    auto a = authorizer;
    d.auth.makeAuthorizer = [a](RbacObjectsFn, RbacVersionFn) -> std::shared_ptr<Authorizer> {
      return a;
    };
    d.auth.checkEscalation = [](Authorizer&, const UserInfo&, const nlohmann::json&,
                                const nlohmann::json*,
                                const RbacObjectsFn&) { return std::string(); };
    return d;
  }
};

}  // namespace rio::testenv::testing
