// /healthz and /readyz as Kubernetes components and controller-runtime answer them: named checks,
// "ok" (200) when all pass, a per-check listing with ?verbose, one check at /healthz/<name>, and
// 500 with "[-]<name> failed: <reason>" lines when any fails.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rio::manager {

/// A named check: nullopt when healthy, else a short reason (shown to whoever can reach the
/// probe port: never secret data). Runs on an I/O thread: must be quick and must not block.
using HealthCheck = std::function<std::optional<std::string>()>;

/// Thread-safety: add() and evaluate() may be called from any thread (one mutex).
class HealthChecks {
 public:
  /// `kind` is "healthz" or "readyz" (used in the answer's last line).
  explicit HealthChecks(std::string kind) : kind_(std::move(kind)) {}

  /// Adds (or replaces) the check `name`.
  void add(const std::string& name, HealthCheck check);

  struct Answer {
    int status = 200;
    std::string body;
  };
  /// The answer to GET /<kind><subpath>: `subpath` is "" or "/" for every check, "/<name>" for
  /// one (404 when unknown). `verbose` lists every check even when all pass.
  Answer evaluate(std::string_view subpath, bool verbose) const;

 private:
  const std::string kind_;
  mutable std::mutex mu_;  // guards checks_
  std::vector<std::pair<std::string, HealthCheck>> checks_;
};

}  // namespace rio::manager
