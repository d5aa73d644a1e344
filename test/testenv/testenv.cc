#include "test/testenv/testenv.h"

#include "test/testenv/validation.h"

namespace rio::testenv {

Testenv::~Testenv() { stop(); }

ClusterOptions Testenv::defaultsFor(const std::string& name, std::size_t index) {
  ClusterOptions o;
  o.name = name;
  o.apiServer.podCidr = "10." + std::to_string(100 + index % 100) + ".0.0/16";
  o.apiServer.serviceCidr = "10." + std::to_string(200 + index % 50) + ".0.0/16";
  return o;
}

Expected<Cluster*> Testenv::add(ClusterOptions options) {
  if (!checkName(options.name, NameRule::kLabel).empty()) {
    return fail(Error::config("cluster name \"" + options.name + "\" must be a DNS-1123 label"));
  }
  if (find(options.name))
    return fail(Error::config("cluster \"" + options.name + "\" already exists"));
  auto cluster = Cluster::create(io_, std::move(options));
  if (!cluster) return fail(cluster.error());
  if (auto ok = (*cluster)->start(); !ok) return fail(ok.error());
  clusters_.push_back(std::move(*cluster));
  return clusters_.back().get();
}

Cluster* Testenv::find(const std::string& name) const {
  for (const auto& c : clusters_) {
    if (c->name() == name) return c.get();
  }
  return nullptr;
}

std::vector<Cluster*> Testenv::clusters() const {
  std::vector<Cluster*> out;
  for (const auto& c : clusters_) out.push_back(c.get());
  return out;
}

void Testenv::stop() {
  for (auto& c : clusters_) c->stop();
}

Expected<void> Testenv::saveAll() const {
  for (const auto& c : clusters_) {
    if (auto ok = c->saveState(); !ok) return ok;
  }
  return {};
}

}  // namespace rio::testenv
