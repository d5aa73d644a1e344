#include "controller/manager/health.h"

namespace rio::manager {

void HealthChecks::add(const std::string& name, HealthCheck check) {
  std::lock_guard lock(mu_);
  for (auto& [n, c] : checks_) {
    if (n == name) {
      c = std::move(check);
      return;
    }
  }
  checks_.emplace_back(name, std::move(check));
}

HealthChecks::Answer HealthChecks::evaluate(std::string_view subpath, bool verbose) const {
  std::vector<std::pair<std::string, HealthCheck>> checks;
  {
    std::lock_guard lock(mu_);
    checks = checks_;
  }
  if (!subpath.empty() && subpath != "/") {
    std::string_view name = subpath.substr(1);
    for (const auto& [n, check] : checks) {
      if (n != name) continue;
      auto problem = check ? check() : std::nullopt;
      if (problem) return {500, "[-]" + n + " failed: " + *problem + "\n"};
      return {200, "ok"};
    }
    return {404, "no such " + kind_ + " check \"" + std::string(name) + "\"\n"};
  }
  std::string listing;
  bool failed = false;
  for (const auto& [n, check] : checks) {
    auto problem = check ? check() : std::nullopt;
    if (problem) {
      failed = true;
      listing += "[-]" + n + " failed: " + *problem + "\n";
    } else {
      listing += "[+]" + n + " ok\n";
    }
  }
  if (failed) return {500, listing + kind_ + " check failed\n"};
  if (verbose) return {200, listing + kind_ + " check passed\n"};
  return {200, "ok"};
}

}  // namespace rio::manager
