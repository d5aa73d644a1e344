#include "controller/kube/discovery.h"

#include <charconv>
#include <tuple>

namespace rio::kube {
namespace {

int leadingInt(std::string_view s, std::size_t& pos) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), v);
  if (ec != std::errc()) return -1;
  pos = static_cast<std::size_t>(ptr - s.data());
  return v;
}

}  // namespace

Expected<ServerVersion> ServerVersion::fromJson(const nlohmann::json& j) {
  if (!j.is_object()) return fail(Error::decode("/version answer is not an object"));
  ServerVersion v;
  v.gitVersion = j.value("gitVersion", "");
  v.platform = j.value("platform", "");
  std::string_view g = v.gitVersion;
  std::size_t pos = 0;
  if (!g.empty() && g[0] == 'v') pos = 1;
  int major = leadingInt(g, pos);
  int minor = -1, patch = -1;
  if (major >= 0 && pos < g.size() && g[pos] == '.') {
    ++pos;
    minor = leadingInt(g, pos);
    if (minor >= 0 && pos < g.size() && g[pos] == '.') {
      ++pos;
      patch = leadingInt(g, pos);
    }
  }
  if (major < 0 || minor < 0) {
    // Fall back to the major/minor fields ("1", "28+").
    std::string ma = j.value("major", ""), mi = j.value("minor", "");
    std::size_t p1 = 0, p2 = 0;
    major = leadingInt(ma, p1);
    minor = leadingInt(mi, p2);
    if (major < 0 || minor < 0) return fail(Error::decode("cannot read the server version from /version"));
    patch = 0;
  }
  v.major = major;
  v.minor = minor;
  v.patch = patch < 0 ? 0 : patch;
  return v;
}

bool ServerVersion::atLeast(int wantMajor, int wantMinor, int wantPatch) const {
  return std::tie(major, minor, patch) >= std::tie(wantMajor, wantMinor, wantPatch);
}

Expected<ServerVersion> Discovery::serverVersion() {
  auto j = client_->getPath("/version");
  if (!j) return fail(j.error());
  return ServerVersion::fromJson(*j);
}

Expected<std::vector<Resource>> Discovery::fetch(const std::string& apiVersion) {
  auto slash = apiVersion.find('/');
  std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
  std::string version = slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
  std::string path = group.empty() ? "/api/" + version : "/apis/" + apiVersion;
  auto list = client_->getPath(path);
  if (!list) return fail(list.error());
  std::vector<Resource> out;
  auto items = list->find("resources");
  if (items == list->end() || !items->is_array()) {
    return fail(Error::decode("discovery document " + path + " has no resources"));
  }
  for (const auto& r : *items) {
    if (!r.is_object()) continue;
    std::string name = r.value("name", "");
    if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
    out.push_back(Resource{group, version, name, r.value("kind", ""), r.value("namespaced", false)});
  }
  return out;
}

Expected<std::vector<Resource>> Discovery::resources(const std::string& apiVersion) {
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(apiVersion); it != cache_.end()) return it->second;
  }
  auto fetched = fetch(apiVersion);
  if (!fetched) return fail(fetched.error());
  std::lock_guard lock(mu_);
  cache_[apiVersion] = *fetched;
  return *fetched;
}

Expected<Resource> Discovery::resourceFor(const std::string& apiVersion, const std::string& kind) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt == 1) {
      std::lock_guard lock(mu_);
      cache_.erase(apiVersion);
    }
    auto list = resources(apiVersion);
    if (!list) {
      if (list.error().isNotFound()) break;
      return fail(list.error());
    }
    for (const auto& r : *list) {
      if (r.kind == kind) return r;
    }
  }
  return fail(Error::invalid("the server does not serve kind " + kind + " in " + apiVersion));
}

void Discovery::invalidate() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

}  // namespace rio::kube
