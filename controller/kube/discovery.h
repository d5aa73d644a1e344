// Discovery: the server's version and the mapping from (apiVersion, kind) to a REST resource and
// its scope, read from /api/v1 and /apis/<group>/<version> and cached per group-version.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/meta/error.h"
#include "controller/kube/client.h"
#include "controller/kube/resource.h"

namespace rio::kube {

/// What /version answers.
struct ServerVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string gitVersion;  // "v1.32.13"
  std::string platform;

  bool operator==(const ServerVersion&) const = default;

  /// Parses gitVersion "v1.32.13", "v1.10.4-eks-abc", "v1.28.3+k3s1"; falls back to major/minor.
  static Expected<ServerVersion> fromJson(const nlohmann::json& j);
  /// Orders by (major, minor, patch).
  bool atLeast(int wantMajor, int wantMinor, int wantPatch) const;
};

/// Thread-safe (one mutex guards the cache). Blocking: uses the client's synchronous verbs.
class Discovery {
 public:
  explicit Discovery(ClientPtr client) : client_(std::move(client)) {}

  Expected<ServerVersion> serverVersion();
  /// The resource that serves `kind` in `apiVersion` ("apps/v1", "v1"). A miss refreshes that
  /// group-version once (a CRD may have just been installed); still missing → NotFound-like
  /// kInvalid error naming the kind.
  Expected<Resource> resourceFor(const std::string& apiVersion, const std::string& kind);
  /// Every resource of a group-version (subresources such as "deployments/status" excluded).
  Expected<std::vector<Resource>> resources(const std::string& apiVersion);
  /// Forgets everything cached.
  void invalidate();

 private:
  Expected<std::vector<Resource>> fetch(const std::string& apiVersion);

  ClientPtr client_;
  std::mutex mu_;  // guards cache_
  std::map<std::string, std::vector<Resource>> cache_;
};

}  // namespace rio::kube
