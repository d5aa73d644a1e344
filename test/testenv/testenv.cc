#include "test/testenv/testenv.h"

#include "test/testenv/validation.h"

namespace rio::testenv {

Testenv::~Testenv() { stop(); }

ClusterOptions Testenv::defaultsFor(const std::string& name, std::size_t index) {
  ClusterOptions o;
  o.name = name;
  // 1,024 disjoint blocks each (the benchmark serves 1,000 clusters): pods a /18 of 10.0.0.0/8
  // (64 node /24s), services a /22 of 172.16.0.0/12. Beyond 1,024 clusters they repeat.
  const std::size_t i = index % 1024;
  o.apiServer.podCidr =
      "10." + std::to_string(i / 4) + "." + std::to_string((i % 4) * 64) + ".0/18";
  o.apiServer.serviceCidr = "172." + std::to_string(16 + i / 64) + "." +
                            std::to_string((i % 64) * 4) + ".0/22";
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
