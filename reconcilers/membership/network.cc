#include "reconcilers/membership/network.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>

#include "api/meta/cidr.h"

namespace rio::reconcilers::membership {
namespace {

using meta::Cidr;

// The network of `c` one bit shorter, or nullopt for a /0.
std::optional<Cidr> parentOf(const Cidr& c) {
  if (c.prefixLength() == 0) return std::nullopt;
  std::string text = c.toString();
  text = text.substr(0, text.find('/')) + "/" + std::to_string(c.prefixLength() - 1);
  return Cidr::parse(text);
}

// Numeric order: IPv4 first, then by address bytes, then by prefix length.
std::array<unsigned char, 16> addressBytes(const Cidr& c) {
  std::array<unsigned char, 16> bytes{};
  std::string text = c.toString();
  text = text.substr(0, text.find('/'));
  inet_pton(c.isIPv4() ? AF_INET : AF_INET6, text.c_str(), bytes.data());
  return bytes;
}

bool lessCidr(const Cidr& a, const Cidr& b) {
  if (a.isIPv4() != b.isIPv4()) return a.isIPv4();
  auto x = addressBytes(a), y = addressBytes(b);
  if (x != y) return x < y;
  return a.prefixLength() < b.prefixLength();
}

std::vector<std::string> stringsAt(const nlohmann::json& obj, std::initializer_list<const char*> path) {
  const nlohmann::json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object()) return {};
    auto it = cur->find(key);
    if (it == cur->end()) return {};
    cur = &*it;
  }
  std::vector<std::string> out;
  if (cur->is_array()) {
    for (const auto& v : *cur) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  } else if (cur->is_string()) {
    out.push_back(cur->get<std::string>());
  }
  return out;
}

std::string stringAt(const nlohmann::json& obj, std::initializer_list<const char*> path) {
  auto v = stringsAt(obj, path);
  return v.size() == 1 ? v.front() : std::string();
}

}  // namespace

std::vector<std::string> collapseCidrs(const std::vector<std::string>& cidrs) {
  std::vector<Cidr> set;
  for (const auto& text : cidrs) {
    if (auto c = Cidr::parse(text)) set.push_back(*c);
  }
  bool changed = true;
  while (changed) {
    changed = false;
    // Drop duplicates and networks contained in another (shorter prefixes first).
    std::sort(set.begin(), set.end(), [](const Cidr& a, const Cidr& b) {
      if (a.prefixLength() != b.prefixLength()) return a.prefixLength() < b.prefixLength();
      return lessCidr(a, b);
    });
    std::vector<Cidr> kept;
    for (const auto& c : set) {
      bool inside = false;
      for (const auto& k : kept) {
        if (k.isIPv4() == c.isIPv4() && k.contains(c)) {
          inside = true;
          break;
        }
      }
      if (!inside) kept.push_back(c);
    }
    // Merge sibling pairs (same prefix length, same parent) into the parent.
    std::map<std::string, std::vector<std::size_t>> byParent;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (auto p = parentOf(kept[i])) {
        byParent[(kept[i].isIPv4() ? "4|" : "6|") + p->toString()].push_back(i);
      }
    }
    std::set<std::size_t> merged;
    std::vector<Cidr> parents;
    for (const auto& [key, members] : byParent) {
      if (members.size() != 2) continue;
      const Cidr& a = kept[members[0]];
      const Cidr& b = kept[members[1]];
      if (a.prefixLength() != b.prefixLength() || a == b) continue;
      merged.insert(members[0]);
      merged.insert(members[1]);
      parents.push_back(*parentOf(a));
    }
    set.clear();
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (!merged.count(i)) set.push_back(kept[i]);
    }
    for (auto& p : parents) set.push_back(p);
    changed = !parents.empty() || set.size() != kept.size();
  }
  std::sort(set.begin(), set.end(), lessCidr);
  std::vector<std::string> out;
  for (const auto& c : set) out.push_back(c.toString());
  return out;
}

std::string clusterNameOf(const nlohmann::json& mm) {
  std::string name = stringAt(mm, {"spec", "clusterName"});
  return name.empty() ? stringAt(mm, {"metadata", "name"}) : name;
}

MemberNetworks networksOf(const nlohmann::json& mm) {
  MemberNetworks n;
  n.cluster = clusterNameOf(mm);
  n.object = stringAt(mm, {"metadata", "namespace"}) + "/" + stringAt(mm, {"metadata", "name"});
  n.podCIDRs = stringsAt(mm, {"spec", "network", "podCIDRs"});
  if (n.podCIDRs.empty()) n.podCIDRs = stringsAt(mm, {"status", "podCIDRs"});
  n.serviceCIDR = stringAt(mm, {"spec", "network", "serviceCIDR"});
  if (n.serviceCIDR.empty()) n.serviceCIDR = stringAt(mm, {"status", "serviceCIDR"});
  n.vpcCIDRs = stringsAt(mm, {"spec", "network", "vpcCIDRs"});
  return n;
}

std::string describe(const Overlap& o, const std::string& cluster) {
  return o.kind + " CIDR " + o.cidr + " of cluster " + cluster + " overlaps " + o.otherKind +
         " CIDR " + o.otherCidr + " of cluster " + o.otherCluster + " (MeshMembership " +
         o.otherObject + ")";
}

std::vector<Overlap> findOverlaps(const MemberNetworks& self, const std::vector<MemberNetworks>& others) {
  using Ranges = std::vector<std::pair<std::string, std::string>>;  // (kind, cidr)
  auto rangesOf = [](const MemberNetworks& m) {
    Ranges r;
    for (const auto& c : m.podCIDRs) r.emplace_back("pod", c);
    if (!m.serviceCIDR.empty()) r.emplace_back("service", m.serviceCIDR);
    for (const auto& c : m.vpcCIDRs) r.emplace_back("VPC", c);
    return r;
  };
  const Ranges mine = rangesOf(self);
  std::vector<Overlap> out;
  for (const auto& other : others) {
    if (other.cluster == self.cluster) continue;
    for (const auto& [kind, cidr] : mine) {
      auto a = Cidr::parse(cidr);
      if (!a) continue;
      for (const auto& [otherKind, otherCidr] : rangesOf(other)) {
        auto b = Cidr::parse(otherCidr);
        if (!b || !a->overlaps(*b)) continue;
        out.push_back({kind, a->toString(), other.cluster, other.object, otherKind, b->toString()});
      }
    }
  }
  return out;
}

}  // namespace rio::reconcilers::membership
