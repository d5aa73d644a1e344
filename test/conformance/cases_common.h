// Helpers the case files share: comparisons with the recordings bound to a Context, object
// builders, and the recorded `Widget` CRD installed under a group unique to the case.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "controller/kube/client.h"
#include "test/conformance/suite.h"

namespace rio::conformance {

using nlohmann::json;

/// FAIL unless `error` is an API error whose Status matches the recording `file` (after
/// `renames`) in code, reason, message, details and causes.
void expectRecordedStatus(const Context& ctx, const Error& error, const std::string& file,
                          const Renames& renames = {});
/// FAIL unless `got` equals the recorded response body of `file` (see diffObjects).
void expectRecordedObject(const Context& ctx, const json& got, const std::string& file,
                          const Renames& renames = {}, const ObjectDiffOptions& options = {});
/// The recorded request body of `file` with `renames` applied; FAIL when unreadable.
json recordedRequest(const Context& ctx, const std::string& file, const Renames& renames = {});
json recordedResponse(const Context& ctx, const std::string& file, const Renames& renames = {});

/// Renames for recordings made in namespace `demo`: demo -> the case namespace.
Renames inCaseNamespace(Context& ctx);

json configMap(const std::string& ns, const std::string& name, const json& data = json::object(),
               const json& labels = nullptr);
std::string metaString(const json& obj, const std::string& field);
std::int64_t generationOf(const json& obj);
/// resourceVersion as a number (kube-apiserver's are etcd revisions; clients treat them as
/// opaque, but the suite checks the ordering testenv promises).
std::uint64_t rvOf(const json& obj);

/// The recorded CRD `widgets.example.com` (namespaced, status subresource, printer columns,
/// minimum 1 on spec.size) under the group "w<suffix>.example.com", installed and Established;
/// deleted when the case ends.
struct WidgetCrd {
  std::string group;
  kube::Resource resource;
  /// example.com -> group, demo -> case namespace: renames for the cr-*.txt recordings.
  Renames renames;
};
WidgetCrd installWidgetCrd(Context& ctx);

/// A ServiceAccount in the case namespace and a token for it (expirationSeconds 3600).
struct ServiceAccountToken {
  std::string name;
  std::string token;
  json tokenRequest;  // the TokenRequest answer
};
ServiceAccountToken serviceAccountWithToken(Context& ctx, const std::string& name);

}  // namespace rio::conformance
