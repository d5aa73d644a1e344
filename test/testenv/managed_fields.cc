// Server-side apply and field ownership (metadata.managedFields) as kube-apiserver 1.32 keeps
// them: k8s.io/apiserver's fieldmanager chain (version check, last-applied upgrade for "kubectl",
// skip tracking for objects without managed fields, the cap of ten update managers, time stamps,
// stripping of identity metadata) around structured-merge-diff's Updater (apply = merge, prune
// what the applier dropped, take ownership; update = compare and take ownership of the changes).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "test/testenv/fieldpath.h"
#include "test/testenv/merge.h"
#include "test/testenv/merge_schema.h"
#include "test/testenv/merge_typed.h"

namespace rio::testenv {
namespace {

using fieldpath::FieldSet;
using fieldpath::Path;
using fieldpath::PathElement;
using nlohmann::json;

constexpr std::string_view kApply = "Apply";
constexpr std::string_view kUpdate = "Update";
constexpr std::string_view kFieldsV1 = "FieldsV1";
constexpr std::string_view kLastAppliedAnnotation =
    "kubectl.kubernetes.io/last-applied-configuration";
// The manager whose client-side-apply annotation apply upgrades (fieldmanager's lastApplied*).
constexpr std::string_view kKubectlManager = "kubectl";
// fieldmanager.DefaultMaxUpdateManagers and the bucket older update entries are merged into.
constexpr std::size_t kMaxUpdateManagers = 10;
constexpr std::string_view kAncientChangesManager = "ancient-changes";

// A managedFields entry's identity (fieldmanager's BuildManagerIdentifier): appliers are one
// entry whatever apiVersion they use; updaters one per apiVersion.
struct ManagerId {
  std::string manager;
  std::string operation;
  std::string apiVersion;  // empty for Apply
  std::string subresource;

  bool operator<(const ManagerId& o) const {
    return std::tie(manager, operation, apiVersion, subresource) <
           std::tie(o.manager, o.operation, o.apiVersion, o.subresource);
  }
  bool operator==(const ManagerId& o) const {
    return std::tie(manager, operation, apiVersion, subresource) ==
           std::tie(o.manager, o.operation, o.apiVersion, o.subresource);
  }

  // The JSON identifier kube sorts conflict messages by.
  std::string identifier() const {
    std::string out = "{\"manager\":" + fieldpath::dumpCompact(manager) +
                      ",\"operation\":" + fieldpath::dumpCompact(operation);
    if (!apiVersion.empty()) out += ",\"apiVersion\":" + fieldpath::dumpCompact(apiVersion);
    if (!subresource.empty()) out += ",\"subresource\":" + fieldpath::dumpCompact(subresource);
    return out + "}";
  }
};

struct ManagerState {
  FieldSet set;
  std::string apiVersion;
  std::optional<std::string> time;
};

using Managers = std::map<ManagerId, ManagerState>;

std::string formatTime(WallTime t) {
  const std::time_t tt =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Seconds since the epoch of an RFC 3339 time; 0 when it does not parse (like a missing time).
std::int64_t timeSeconds(const std::optional<std::string>& time) {
  if (!time) return 0;
  std::tm tm{};
  if (std::sscanf(time->c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm));
}

const json* metadataField(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return nullptr;
  auto it = meta->find(key);
  return it == meta->end() ? nullptr : &*it;
}

std::string stringAt(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

void eraseManagedFields(json& obj) {
  if (obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object()) {
    obj["metadata"].erase("managedFields");
  }
}

// Decodes metadata.managedFields; nullopt when any entry is malformed (kube then falls back to
// the live object's entries, or to none).
std::optional<Managers> decodeManagedFields(const json* entries) {
  Managers out;
  if (entries == nullptr || entries->is_null()) return out;
  if (!entries->is_array()) return std::nullopt;
  for (const auto& e : *entries) {
    if (!e.is_object()) return std::nullopt;
    ManagerId id{stringAt(e, "manager"), stringAt(e, "operation"), "", stringAt(e, "subresource")};
    if (id.operation != kApply && id.operation != kUpdate) return std::nullopt;
    if (stringAt(e, "fieldsType") != kFieldsV1) return std::nullopt;
    ManagerState state;
    state.apiVersion = stringAt(e, "apiVersion");
    if (id.operation == kUpdate) id.apiVersion = state.apiVersion;
    if (auto f = e.find("fieldsV1"); f != e.end() && !f->is_null()) {
      auto set = FieldSet::fromFieldsV1(*f);
      if (!set) return std::nullopt;
      state.set = std::move(*set);
    }
    if (auto t = e.find("time"); t != e.end() && t->is_string()) state.time = t->get<std::string>();
    out[id] = std::move(state);
  }
  return out;
}

// `managedFields: []` or `[{}]` in a request clears ownership (fieldmanager isResetManagedFields).
bool isReset(const json& entries) {
  if (!entries.is_array()) return false;
  if (entries.empty()) return true;
  return entries.size() == 1 && entries[0].is_object() && entries[0].empty();
}

// The wire form, sorted as kube sorts it: Apply before Update, then by time, manager,
// apiVersion, subresource.
json encodeManagedFields(const Managers& managers) {
  std::vector<std::pair<const ManagerId*, const ManagerState*>> entries;
  for (const auto& [id, state] : managers) entries.emplace_back(&id, &state);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    if (a.first->operation != b.first->operation) return a.first->operation < b.first->operation;
    const auto ta = timeSeconds(a.second->time);
    const auto tb = timeSeconds(b.second->time);
    if (ta != tb) return ta < tb;
    if (a.first->manager != b.first->manager) return a.first->manager < b.first->manager;
    if (a.second->apiVersion != b.second->apiVersion) {
      return a.second->apiVersion < b.second->apiVersion;
    }
    return a.first->subresource < b.first->subresource;
  });
  json out = json::array();
  for (const auto& [id, state] : entries) {
    json e = {{"manager", id->manager},
              {"operation", id->operation},
              {"apiVersion", state->apiVersion},
              {"fieldsType", kFieldsV1},
              {"fieldsV1", state->set.toFieldsV1()}};
    if (state->time) e["time"] = *state->time;
    if (!id->subresource.empty()) e["subresource"] = id->subresource;
    out.push_back(std::move(e));
  }
  return out;
}

void writeManagedFields(json& obj, const Managers& managers) {
  if (!obj.is_object()) return;
  if (obj.contains("metadata") && !obj["metadata"].is_object()) return;
  if (managers.empty()) {
    eraseManagedFields(obj);
    return;
  }
  obj["metadata"]["managedFields"] = encodeManagedFields(managers);
}

// Identity and bookkeeping fields nobody owns (fieldmanager's stripMetaManager).
const FieldSet& strippedFields() {
  static const FieldSet kStripped = [] {
    FieldSet s;
    auto f = [](const char* name) { return PathElement::ofField(name); };
    s.insert({f("apiVersion")});
    s.insert({f("kind")});
    s.insert({f("metadata")});
    for (const char* name : {"name", "namespace", "creationTimestamp", "selfLink", "uid",
                             "clusterName", "generation", "managedFields", "resourceVersion"}) {
      s.insert({f("metadata"), f(name)});
    }
    return s;
  }();
  return kStripped;
}

void stripAndDropEmpty(Managers& managers) {
  for (auto it = managers.begin(); it != managers.end();) {
    it->second.set = it->second.set.difference(strippedFields());
    it = it->second.set.empty() ? managers.erase(it) : std::next(it);
  }
}

// Merges the oldest update entries into "ancient-changes" buckets (one per apiVersion) while
// there are more than ten (fieldmanager's capManagersManager).
void capUpdateManagers(Managers& managers) {
  std::vector<ManagerId> updaters;
  for (const auto& [id, state] : managers) {
    if (id.operation == kUpdate) updaters.push_back(id);
  }
  if (updaters.size() <= kMaxUpdateManagers) return;
  std::stable_sort(updaters.begin(), updaters.end(), [&](const ManagerId& a, const ManagerId& b) {
    const auto ta = timeSeconds(managers.at(a).time);
    const auto tb = timeSeconds(managers.at(b).time);
    if (ta != tb) return ta < tb;
    return a.identifier() < b.identifier();
  });
  std::map<std::string, ManagerId> firstOfVersion;
  std::size_t length = updaters.size();
  for (std::size_t i = 0; i < updaters.size() && length > kMaxUpdateManagers; ++i) {
    const ManagerId& id = updaters[i];
    const ManagerState state = managers.at(id);
    const ManagerId bucket{std::string(kAncientChangesManager), std::string(kUpdate),
                           state.apiVersion, ""};
    auto first = firstOfVersion.find(state.apiVersion);
    if (first == firstOfVersion.end()) {
      firstOfVersion.emplace(state.apiVersion, id);
      continue;
    }
    if (!managers.count(bucket)) {
      ManagerState moved = managers.at(first->second);
      managers.erase(first->second);
      managers[bucket] = std::move(moved);
    }
    ManagerState& b = managers[bucket];
    b.set = state.set.unionWith(b.set);
    b.apiVersion = state.apiVersion;
    b.time = state.time;
    managers.erase(id);
    --length;
  }
}

// structured-merge-diff Updater.update: managers other than `self` lose the fields that changed
// (unless that is a conflict and !force) and the fields that were removed.
std::map<ManagerId, FieldSet> takeChanges(const typed::Comparison& cmp, Managers& managers,
                                          const ManagerId& self, bool force) {
  const FieldSet changed = cmp.modified.unionWith(cmp.added);
  std::map<ManagerId, FieldSet> conflicts;
  for (const auto& [id, state] : managers) {
    if (id == self) continue;
    FieldSet c = state.set.intersection(changed);
    if (!c.empty()) conflicts.emplace(id, std::move(c));
  }
  if (!force && !conflicts.empty()) return conflicts;
  for (auto& [id, state] : managers) {
    if (id == self) continue;
    if (auto c = conflicts.find(id); c != conflicts.end()) {
      state.set = state.set.difference(c->second);
    }
    state.set = state.set.difference(cmp.removed);
  }
  for (auto it = managers.begin(); it != managers.end();) {
    it = it->second.set.empty() ? managers.erase(it) : std::next(it);
  }
  return {};
}

FieldSet ensure(const FieldSet& s, const schema::Type* t) {
  return typed::ensureNamedFieldsAreMembers(s, t);
}

FieldSet lenientFieldSet(const json& v, const schema::Type* t) {
  return typed::toFieldSet(v, t, /*strict=*/false).value_or(FieldSet{});
}

// structured-merge-diff Updater.prune: drops what the applier set last time and no longer sets,
// unless another manager (or the applier's new configuration) owns it.
json prune(const json& merged, const Managers& managers, const FieldSet& lastSet,
           const schema::Type* t) {
  if (lastSet.empty()) return merged;
  const FieldSet last = ensure(lastSet, t);
  json pruned = typed::removeItems(merged, last, t);

  FieldSet managed;
  for (const auto& [id, state] : managers) managed = managed.unionWith(state.set);
  const FieldSet mergedSet = ensure(lenientFieldSet(merged, t), t);
  FieldSet prunedSet = ensure(lenientFieldSet(pruned, t), t);
  pruned =
      typed::removeItems(merged, mergedSet.difference(prunedSet.unionWith(ensure(managed, t))), t);

  prunedSet = ensure(lenientFieldSet(pruned, t), t);
  return typed::removeItems(merged, mergedSet.difference(prunedSet).intersection(last), t);
}

// Fields whose live value is still what the client-side-apply annotation says: apply by
// "kubectl" takes them over without a conflict (fieldmanager's lastAppliedManager).
std::optional<FieldSet> allowedConflictsFromLastApplied(const json& live, const schema::Type* t) {
  const json* annotation = metadataField(live, "annotations");
  if (annotation == nullptr || !annotation->is_object()) return std::nullopt;
  auto it = annotation->find(std::string(kLastAppliedAnnotation));
  if (it == annotation->end() || !it->is_string() || it->get<std::string>().empty()) {
    return std::nullopt;
  }
  const json lastApplied = json::parse(it->get<std::string>(), nullptr, false);
  if (!lastApplied.is_object()) return std::nullopt;
  const FieldSet set = lenientFieldSet(lastApplied, t);
  const typed::Comparison cmp = typed::compare(&lastApplied, &live, t);
  return set.difference(cmp.modified.unionWith(cmp.added).unionWith(cmp.removed));
}

// The annotation value kubectl server-side apply keeps in sync (fieldmanager buildLastApplied).
std::string buildLastApplied(json applied) {
  if (applied.contains("metadata") && applied["metadata"].is_object()) {
    auto& meta = applied["metadata"];
    if (meta.contains("annotations") && meta["annotations"].is_object()) {
      meta["annotations"].erase(std::string(kLastAppliedAnnotation));
    }
  }
  return fieldpath::dumpCompact(applied) + "\n";
}

Error badRequest(std::string message) {
  return Error::api(meta::Status::failure(400, meta::reason::kBadRequest, std::move(message)));
}

// kube answers errors that are not API statuses with 500 and no reason.
Error internalError(std::string message) {
  return Error::api(meta::Status::failure(500, "", std::move(message)));
}

std::string gvkString(const std::string& apiVersion, const std::string& kind) {
  const std::string gv = apiVersion.find('/') == std::string::npos ? "/" + apiVersion : apiVersion;
  return gv + ", Kind=" + kind;
}

std::vector<FieldConflict> toConflicts(const std::map<ManagerId, FieldSet>& sets,
                                       const Managers& managers) {
  std::vector<std::pair<std::string, const ManagerId*>> order;
  order.reserve(sets.size());
  for (const auto& [id, set] : sets) order.emplace_back(id.identifier(), &id);
  std::sort(order.begin(), order.end());
  std::vector<FieldConflict> out;
  for (const auto& [ident, id] : order) {
    const auto& state = managers.at(*id);
    for (const Path& p : sets.at(*id).paths()) {
      FieldConflict c;
      c.manager = id->manager;
      c.field = fieldpath::toString(p);
      c.operation = id->operation;
      c.apiVersion = state.apiVersion;
      c.subresource = id->subresource;
      out.push_back(std::move(c));
    }
  }
  return out;
}

struct ApplyAttempt {
  json object;
  Managers managers;
  std::map<ManagerId, FieldSet> conflicts;
  bool changed = false;
};

Expected<ApplyAttempt> applyOnce(const json& liveObj, const json& applied, Managers managers,
                                 const ManagerId& self, bool force, const std::string& apiVersion,
                                 const schema::Type* t, const std::string& gvknn) {
  std::string error;
  auto merged = typed::merge(liveObj, applied, t, &error);
  if (!merged) {
    return fail(internalError("failed to create typed patch object (" + gvknn + "): " + error));
  }
  auto set = typed::toFieldSet(applied, t, /*strict=*/true, &error);
  if (!set) {
    return fail(internalError("failed to create typed patch object (" + gvknn + "): " + error));
  }
  FieldSet lastSet;
  std::optional<std::string> lastTime;
  if (auto it = managers.find(self); it != managers.end()) {
    lastSet = it->second.set;
    lastTime = it->second.time;
  }
  managers[self] = ManagerState{std::move(*set), apiVersion, lastTime};

  ApplyAttempt out;
  out.object = prune(*merged, managers, lastSet, t);
  out.conflicts = takeChanges(typed::compare(&liveObj, &out.object, t), managers, self, force);
  out.changed = out.object != liveObj;
  out.managers = std::move(managers);
  return out;
}

Expected<ApplyOutcome> applyImpl(const json& live, const json& applied, const std::string& manager,
                                 bool force, const std::string& apiVersion,
                                 const std::string& subresource, WallTime now) {
  if (!applied.is_object()) {
    return fail(badRequest("error decoding YAML: the apply patch must be an object"));
  }
  const std::string appliedVersion = stringAt(applied, "apiVersion");
  const std::string appliedKind = stringAt(applied, "kind");
  const std::string liveKind = stringAt(live, "kind");
  const std::string kind = liveKind.empty() ? appliedKind : liveKind;
  if (appliedVersion != apiVersion || appliedKind != kind || appliedKind.empty()) {
    return fail(badRequest("invalid object type: " + gvkString(appliedVersion, appliedKind)));
  }
  if (const json* mf = metadataField(applied, "managedFields"); mf && !mf->is_null()) {
    return fail(badRequest("metadata.managedFields must be nil"));
  }
  if (applied.contains("metadata") && !applied["metadata"].is_object()) {
    return fail(internalError(
        "failed to create typed patch object (" + gvkString(appliedVersion, appliedKind) +
        " /): .metadata: expected map, got " + fieldpath::dumpCompact(applied["metadata"])));
  }

  const schema::Type* type = schema::rootType(apiVersion, kind);
  json liveObj = live.is_object() ? live : json::object();
  Managers managers =
      decodeManagedFields(metadataField(liveObj, "managedFields")).value_or(Managers{});
  eraseManagedFields(liveObj);

  const std::string ns = [&] {
    const json* n = metadataField(applied, "namespace");
    return n && n->is_string() ? n->get<std::string>() : std::string{};
  }();
  const json* nameField = metadataField(applied, "name");
  const std::string gvknn =
      gvkString(apiVersion, kind) + " " + ns + "/" +
      (nameField && nameField->is_string() ? nameField->get<std::string>() : "");

  // Through the status subresource only status is applied; the rest of the configuration is
  // ignored, as the status strategies' reset fields make kube do.
  json config = applied;
  if (subresource == "status") {
    config = {{"apiVersion", appliedVersion}, {"kind", appliedKind}};
    for (const char* key : {"name", "namespace"}) {
      if (const json* v = metadataField(applied, key)) config["metadata"][key] = *v;
    }
    if (auto st = applied.find("status"); st != applied.end()) config["status"] = *st;
  }

  const ManagerId self{manager, std::string(kApply), "", subresource};
  auto attempt = applyOnce(liveObj, config, managers, self, force, apiVersion, type, gvknn);
  if (!attempt) return fail(attempt.error());

  if (!attempt->conflicts.empty() && manager == kKubectlManager) {
    // Fields still at their client-side-applied value are upgraded without conflict.
    if (auto allowed = allowedConflictsFromLastApplied(liveObj, type)) {
      std::map<ManagerId, FieldSet> remaining;
      for (const auto& [id, set] : attempt->conflicts) {
        FieldSet rest = set.difference(*allowed);
        if (!rest.empty()) remaining.emplace(id, std::move(rest));
      }
      if (remaining.empty()) {
        attempt = applyOnce(liveObj, config, managers, self, true, apiVersion, type, gvknn);
        if (!attempt) return fail(attempt.error());
      } else {
        attempt->conflicts = std::move(remaining);
      }
    }
  }
  if (!attempt->conflicts.empty()) {
    ApplyOutcome outcome;
    outcome.object = live;
    outcome.conflicts = toConflicts(attempt->conflicts, attempt->managers);
    return outcome;
  }

  Managers& result = attempt->managers;
  if (attempt->changed) result[self].time = formatTime(now);
  stripAndDropEmpty(result);
  capUpdateManagers(result);

  ApplyOutcome outcome;
  outcome.object = attempt->changed ? std::move(attempt->object) : liveObj;
  writeManagedFields(outcome.object, result);
  if (manager == kKubectlManager) {
    const json* annotations = metadataField(liveObj, "annotations");
    const json* annotationsNow = metadataField(outcome.object, "annotations");
    if (annotations && annotations->is_object() &&
        annotations->contains(std::string(kLastAppliedAnnotation)) &&
        (annotationsNow == nullptr || annotationsNow->is_object())) {
      outcome.object["metadata"]["annotations"][std::string(kLastAppliedAnnotation)] =
          buildLastApplied(applied);
    }
  }
  return outcome;
}

json updateImpl(const json& before, const json& after, const std::string& manager,
                const std::string& apiVersion, const std::string& subresource, WallTime now) {
  if (!after.is_object()) return after;
  json newObj = after;
  const bool isCreate = !before.is_object();

  const Managers liveManaged =
      isCreate ? Managers{}
               : decodeManagedFields(metadataField(before, "managedFields")).value_or(Managers{});
  // A request may set managedFields itself (kubectl's client-side-apply upgrade does); writes to
  // a subresource cannot.
  Managers managers = liveManaged;
  if (const json* requested = metadataField(after, "managedFields");
      subresource.empty() && requested != nullptr && !requested->is_null()) {
    if (isReset(*requested)) {
      managers.clear();
    } else if (auto decoded = decodeManagedFields(requested); decoded && !decoded->empty()) {
      managers = std::move(*decoded);
    }
  }
  eraseManagedFields(newObj);

  // An existing object without managed fields stays untracked (skipNonAppliedManager).
  if (managers.empty() && !isCreate) return newObj;

  const std::string kind = stringAt(after, "kind");
  const schema::Type* type = schema::rootType(apiVersion, kind);
  json oldObj = isCreate ? schema::zeroValue(apiVersion, kind) : before;
  eraseManagedFields(oldObj);

  // The operation's own fields are computed apart ("current-operation"), stripped, and then
  // merged into the manager's entry, whose time moves only when it took something.
  const ManagerId current{"", "", "", ""};
  const typed::Comparison cmp = typed::compare(&oldObj, &newObj, type);
  takeChanges(cmp, managers, current, /*force=*/true);
  FieldSet taken = cmp.modified.unionWith(cmp.added).difference(cmp.removed);
  taken = taken.difference(strippedFields());
  if (!taken.empty()) {
    const ManagerId self{manager, std::string(kUpdate), apiVersion, subresource};
    ManagerState& state = managers[self];
    state.set = taken.unionWith(state.set);
    state.apiVersion = apiVersion;
    state.time = formatTime(now);
  }
  stripAndDropEmpty(managers);
  capUpdateManagers(managers);
  writeManagedFields(newObj, managers);
  return newObj;
}

}  // namespace

// The public entry points keep third-party exceptions (nlohmann::json) from escaping; none is
// expected, this is the module boundary.
Expected<ApplyOutcome> serverSideApply(const json& live, const json& applied,
                                       const std::string& manager, bool force,
                                       const std::string& apiVersion,
                                       const std::string& subresource, WallTime now) {
  try {
    return applyImpl(live, applied, manager, force, apiVersion, subresource, now);
  } catch (const std::exception& e) {
    return fail(internalError(std::string("server-side apply failed: ") + e.what()));
  }
}

json recordUpdate(const json& before, const json& after, const std::string& manager,
                  const std::string& apiVersion, const std::string& subresource, WallTime now) {
  try {
    return updateImpl(before, after, manager, apiVersion, subresource, now);
  } catch (const std::exception&) {
    return after;  // ownership left as the request sent it
  }
}

json conflictStatus(const std::vector<FieldConflict>& conflicts, const std::string& apiVersion) {
  auto printManager = [&](const FieldConflict& c) {
    std::string out = fieldpath::dumpCompact(c.manager);
    if (!c.subresource.empty()) out += " with subresource " + fieldpath::dumpCompact(c.subresource);
    if (c.operation != kApply) {
      out += " using " + (c.apiVersion.empty() ? apiVersion : c.apiVersion);
    }
    return out;
  };
  meta::Status status = meta::Status::failure(409, meta::reason::kConflict, "");
  for (const auto& c : conflicts) {
    status.causes.push_back(
        meta::StatusCause{"FieldManagerConflict", "conflict with " + printManager(c), c.field});
  }
  if (conflicts.size() == 1) {
    status.message = "Apply failed with 1 conflict: conflict with " + printManager(conflicts[0]) +
                     ": " + conflicts[0].field;
  } else {
    // Grouped by manager, managers in the order of their identifiers.
    std::map<std::string, std::pair<std::string, std::vector<std::string>>> byManager;
    for (const auto& c : conflicts) {
      const ManagerId id{c.manager, c.operation.empty() ? std::string(kUpdate) : c.operation,
                         c.operation == kApply ? "" : c.apiVersion, c.subresource};
      auto& entry = byManager[id.identifier()];
      entry.first = printManager(c);
      entry.second.push_back(c.field);
    }
    std::string message = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
    bool first = true;
    for (const auto& [ident, entry] : byManager) {
      if (!first) message += "\n";
      first = false;
      message += "conflicts with " + entry.first + ":";
      for (const auto& field : entry.second) message += "\n- " + field;
    }
    status.message = std::move(message);
  }
  return status.toJson();
}

}  // namespace rio::testenv
