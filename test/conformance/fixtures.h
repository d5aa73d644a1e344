// The recorded kube-apiserver 1.32 exchanges (test/fixtures/kube-apiserver-1.32/) and the
// comparisons the cases make against them: Status bodies field by field, objects with the
// server-chosen values (uid, timestamps, resourceVersion, cluster IPs ...) ignored.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"

namespace rio::conformance {

/// Renames applied to a recorded document before it is compared, so a recording made in
/// namespace `demo` with object `c1` can be compared with an object of the case's own names.
struct Renames {
  /// A string equal to `from` becomes `to`; inside longer strings `"from"` (quoted), `:from:`,
  /// `/from/` and `from.` at the start are renamed too (messages, service-account user names,
  /// paths, qualified kinds).
  std::vector<std::pair<std::string, std::string>> names;
  /// Plain substring replacements applied to every string (e.g. a CRD group).
  std::vector<std::pair<std::string, std::string>> substrings;

  Renames& name(std::string from, std::string to) {
    names.emplace_back(std::move(from), std::move(to));
    return *this;
  }
  Renames& substring(std::string from, std::string to) {
    substrings.emplace_back(std::move(from), std::move(to));
    return *this;
  }
  std::string apply(const std::string& s) const;
  /// Renames every string value (and object key) of `j`.
  nlohmann::json apply(const nlohmann::json& j) const;
};

/// Reads recorded exchanges from a directory. Thread-safe (read-only after construction).
class Fixtures {
 public:
  explicit Fixtures(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  /// The response body of `file` (after the blank line following "--- response").
  /// Errors (kConfig) when the file cannot be read.
  Expected<std::string> responseBody(const std::string& file) const;
  Expected<nlohmann::json> response(const std::string& file) const;
  /// The request body (between the request headers and "--- response"), parsed as JSON.
  Expected<nlohmann::json> request(const std::string& file) const;
  /// The HTTP status of the recorded response.
  Expected<int> responseCode(const std::string& file) const;

 private:
  Expected<std::string> read(const std::string& file) const;
  std::string dir_;
};

/// Differences between a Status the server returned and a recorded one: code, status, reason,
/// message, details (name, group, kind, retryAfterSeconds) and causes (reason, message, field),
/// each after `renames`. Empty when they agree.
std::vector<std::string> diffStatus(const meta::Status& got, const nlohmann::json& recorded,
                                    const Renames& renames = {});

/// Options for diffObjects.
struct ObjectDiffOptions {
  /// JSON pointers removed from both sides before comparing (e.g. "/spec/clusterIP").
  std::vector<std::string> ignore;
  /// Compare managedFields (manager, operation, apiVersion, subresource, fieldsV1; time is
  /// always ignored). Off: managedFields are dropped.
  bool managedFields = true;
};

/// Differences between two objects after dropping what the server chooses per object
/// (metadata.uid, resourceVersion, creationTimestamp, deletionTimestamp, managedFields[].time,
/// status.token of a TokenRequest) and `options.ignore`, with `renames` applied to `recorded`.
/// Each difference is "<pointer>: got <v>, recorded <v>" (values shortened). Empty when equal.
std::vector<std::string> diffObjects(const nlohmann::json& got, const nlohmann::json& recorded,
                                     const Renames& renames = {},
                                     const ObjectDiffOptions& options = {});

/// managedFields keyed by "manager/operation/subresource" -> fieldsV1.
std::map<std::string, nlohmann::json> fieldSets(const nlohmann::json& object);

/// Joins at most `max` differences into one line ("; "-separated, "(+N more)").
std::string joinDiffs(const std::vector<std::string>& diffs, std::size_t max = 4);

}  // namespace rio::conformance
