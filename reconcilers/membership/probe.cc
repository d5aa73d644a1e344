#include "reconcilers/membership/probe.h"

#include <algorithm>
#include <regex>

#include "api/meta/cidr.h"
#include "reconcilers/membership/network.h"

namespace rio::reconcilers::membership {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string labelValue(const nlohmann::json& node, const char* key) {
  auto md = node.find("metadata");
  if (md == node.end() || !md->is_object()) return {};
  auto labels = md->find("labels");
  if (labels == md->end() || !labels->is_object()) return {};
  auto it = labels->find(key);
  if (it == labels->end() || !it->is_string()) return {};
  return it->get<std::string>();
}

bool isReady(const nlohmann::json& node) {
  auto status = node.find("status");
  if (status == node.end() || !status->is_object()) return false;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return false;
  for (const auto& c : *conditions) {
    if (c.is_object() && c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

std::string mostCommon(const std::map<std::string, int>& counts) {
  std::string best;
  int n = 0;
  for (const auto& [value, count] : counts) {
    if (count > n) {
      best = value;
      n = count;
    }
  }
  return best;
}

}  // namespace

ProbeOutcome interpretVersionAnswer(const Expected<http::Response>& answer, WallTime sentAt,
                                    WallTime receivedAt, milliseconds latency) {
  ProbeOutcome out;
  out.latency = latency;
  if (!answer) {
    out.reason = "Unreachable";
    out.message = answer.error().message();
    return out;
  }
  out.answered = true;
  if (auto date = answer->header("Date")) {
    if (auto remote = http::parseHttpDate(*date)) {
      const WallTime middle = sentAt + (receivedAt - sentAt) / 2;
      out.clockSkew = duration_cast<milliseconds>(*remote + milliseconds(500) - middle);
    }
  }
  const int code = answer->status;
  if (code >= 200 && code < 300) {
    auto body = nlohmann::json::parse(answer->body, nullptr, /*allow_exceptions=*/false);
    auto version = kube::ServerVersion::fromJson(body);
    if (!version) {
      out.reason = "Unreachable";
      out.message = "get /version: " + version.error().message();
      return out;
    }
    out.version = *version;
    out.reachable = true;
    return out;
  }
  // /version never holds secret data: the Status message is safe to repeat.
  Error error = Error::fromHttp(code, answer->body).wrap("get /version");
  out.reason = error.isUnauthorized() ? "Unauthorized" : error.isForbidden() ? "Forbidden" : "Unreachable";
  out.message = error.message();
  return out;
}

struct Prober::State {
  struct Entry {
    std::uint64_t epoch = 0;
    bool inFlight = false;
    std::optional<ProbeOutcome> latest;
  };
  ClockPtr clock;
  milliseconds timeout;
  mutable std::mutex mu;  // guards entries and nextEpoch
  std::map<std::string, Entry> entries;
  std::uint64_t nextEpoch = 1;
};

Prober::Prober(ClockPtr clock, milliseconds timeout) : state_(std::make_shared<State>()) {
  state_->clock = std::move(clock);
  state_->timeout = timeout;
}

void Prober::start(const std::string& key, const kube::ClientPtr& client, std::function<void()> done,
                   std::function<bool(const ProbeOutcome&)> wanted) {
  std::uint64_t epoch;
  {
    std::lock_guard lock(state_->mu);
    State::Entry& e = state_->entries[key];
    if (e.inFlight) return;
    e.inFlight = true;
    e.epoch = state_->nextEpoch++;
    epoch = e.epoch;
  }
  const WallTime sentAt = state_->clock->wallNow();
  const SteadyTime startedAt = state_->clock->now();
  const auto started = std::chrono::steady_clock::now();
  const void* identity = client.get();
  std::weak_ptr<State> weak = state_;
  client->getRawAsync(
      "/version", state_->timeout,
      [weak, key, epoch, sentAt, startedAt, started, identity, done = std::move(done),
       wanted = std::move(wanted)](Expected<http::Response> answer) {
        auto state = weak.lock();
        if (!state) return;
        auto latency = duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
        ProbeOutcome outcome = interpretVersionAnswer(answer, sentAt, state->clock->wallNow(), latency);
        outcome.at = state->clock->now();
        outcome.startedAt = startedAt;
        outcome.client = identity;
        const bool call = done && (!wanted || wanted(outcome));
        {
          std::lock_guard lock(state->mu);
          auto it = state->entries.find(key);
          if (it == state->entries.end() || it->second.epoch != epoch) return;  // forgotten
          it->second.inFlight = false;
          it->second.latest = std::move(outcome);
        }
        if (call) done();
      });
}

std::optional<ProbeOutcome> Prober::latest(const std::string& key) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->entries.find(key);
  if (it == state_->entries.end()) return std::nullopt;
  return it->second.latest;
}

bool Prober::inFlight(const std::string& key) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->entries.find(key);
  return it != state_->entries.end() && it->second.inFlight;
}

void Prober::forget(const std::string& key) {
  std::lock_guard lock(state_->mu);
  state_->entries.erase(key);
}

NodeFacts analyzeNodes(const nlohmann::json& nodeList) {
  NodeFacts facts;
  std::vector<std::string> cidrs;
  std::map<std::string, int> regions, zones;
  auto items = nodeList.find("items");
  if (items == nodeList.end() || !items->is_array()) return facts;
  for (const auto& node : *items) {
    if (!node.is_object()) continue;
    ++facts.nodes;
    const nlohmann::json spec = node.value("spec", nlohmann::json::object());
    if (spec.is_object()) {
      if (auto list = spec.find("podCIDRs"); list != spec.end() && list->is_array()) {
        for (const auto& c : *list) {
          if (c.is_string()) cidrs.push_back(c.get<std::string>());
        }
      } else if (auto one = spec.find("podCIDR"); one != spec.end() && one->is_string()) {
        cidrs.push_back(one->get<std::string>());
      }
    }
    auto has = [&](const char* key) {
      auto md = node.find("metadata");
      return md != node.end() && md->is_object() && md->contains("labels") && (*md)["labels"].is_object() &&
             (*md)["labels"].contains(key);
    };
    const bool controlPlane = has("node-role.kubernetes.io/control-plane") || has("node-role.kubernetes.io/master");
    const bool cordoned = spec.is_object() && spec.contains("unschedulable") && spec["unschedulable"] == true;
    if (isReady(node) && !controlPlane && !cordoned) ++facts.readyWorkers;
    std::string region = labelValue(node, "topology.kubernetes.io/region");
    if (region.empty()) region = labelValue(node, "failure-domain.beta.kubernetes.io/region");
    std::string zone = labelValue(node, "topology.kubernetes.io/zone");
    if (zone.empty()) zone = labelValue(node, "failure-domain.beta.kubernetes.io/zone");
    if (!region.empty()) ++regions[region];
    if (!zone.empty()) ++zones[zone];
  }
  facts.podCIDRs = collapseCidrs(cidrs);
  facts.region = mostCommon(regions);
  facts.zone = mostCommon(zones);
  return facts;
}

Expected<NodeFacts> probeNodes(kube::Client& client) {
  kube::ListOptions options;
  options.limit = 500;
  auto list = client.listAll(kube::resources::kNodes, "", options);
  if (!list) return fail(list.error());
  return analyzeNodes(*list);
}

std::optional<std::string> serviceCidrFromMessage(std::string_view message) {
  static const std::regex kRange(R"(range of valid IPs is ([0-9a-fA-F:.]+/[0-9]{1,3}))");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(message.begin(), message.end(), m, kRange)) return std::nullopt;
  auto cidr = meta::Cidr::parse(std::string(m[1].first, m[1].second));
  if (!cidr) return std::nullopt;
  return cidr->toString();
}

Expected<std::string> discoverServiceCidr(kube::Client& client, const std::string& ns) {
  // Kubernetes >= 1.31: the ServiceCIDR named "kubernetes" holds the range (GA in 1.33, beta
  // before). Its absence or a 403 is not an error: older servers and narrower rights.
  for (const char* version : {"v1", "v1beta1"}) {
    kube::Resource serviceCidrs{"networking.k8s.io", version, "servicecidrs", "ServiceCIDR", false};
    auto got = client.get(serviceCidrs, {"", "kubernetes"});
    if (got) {
      auto cidrs = got->value("spec", nlohmann::json::object()).value("cidrs", nlohmann::json::array());
      for (const auto& c : cidrs) {
        if (!c.is_string()) continue;
        if (auto parsed = meta::Cidr::parse(c.get<std::string>()); parsed && parsed->isIPv4()) {
          return parsed->toString();
        }
      }
    } else if (!got.error().code()) {
      return fail(got.error());  // no answer at all
    }
  }
  // The allocator names its range when it refuses an address outside it. Dry run: nothing is
  // stored. 203.0.113.1 (TEST-NET-3) is in no cluster's service range.
  nlohmann::json probe = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "remote-istio-operator-cidr-probe"}, {"namespace", ns}}},
      {"spec", {{"clusterIP", "203.0.113.1"}, {"ports", {{{"port", 443}, {"protocol", "TCP"}}}}}}};
  kube::WriteOptions dryRun;
  dryRun.dryRun = true;
  auto created = client.create(kube::resources::kServices, probe, dryRun);
  if (created) return std::string();
  if (!created.error().code()) return fail(created.error());
  if (auto cidr = serviceCidrFromMessage(created.error().message())) return *cidr;
  return std::string();
}

}  // namespace rio::reconcilers::membership
