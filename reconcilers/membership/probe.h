// What the membership reconciler learns about a remote API server, in two parts:
//  - a quick probe, GET /version, made asynchronously by the Prober every probe interval: it
//    says whether the server answers (Reachable), its version, the latency and the clock skew
//    (from the HTTP `Date` header). A dead server costs a timer, never a reconcile worker.
//  - a full probe, made by the reconciler only right after a quick probe answered: ready
//    worker nodes, pod CIDRs and locality from the nodes, and the service CIDR.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/http/message.h"
#include "controller/kube/client.h"
#include "controller/kube/discovery.h"

namespace rio::reconcilers::membership {

/// The outcome of one quick probe.
struct ProbeOutcome {
  SteadyTime at{};                // when it finished (the reconciler's clock)
  SteadyTime startedAt{};         // when it was sent (the reconciler's clock): the probe cadence
  const void* client = nullptr;   // which client probed (identity only: results of a replaced
                                  // client are ignored)
  bool answered = false;          // the server sent an HTTP answer
  bool reachable = false;         // ... a 2xx with a version in it
  std::string reason;             // when !reachable: Unreachable, Unauthorized or Forbidden
  std::string message;            // when !reachable: why, safe for a condition (no secrets)
  kube::ServerVersion version;
  std::chrono::milliseconds latency{0};
  /// Remote clock minus local clock, when the answer had a `Date` header.
  std::optional<std::chrono::milliseconds> clockSkew;
};

/// Turns the answer to GET /version into an outcome. `sentAt`/`receivedAt` are local wall times
/// around the request (the skew is measured against their midpoint; the `Date` header has
/// second precision, so half a second is added to it). Pure; never throws.
ProbeOutcome interpretVersionAnswer(const Expected<http::Response>& answer, WallTime sentAt,
                                    WallTime receivedAt, std::chrono::milliseconds latency);

/// Quick probes, one in flight per key. Thread-safety: every method may be called from any
/// thread (one mutex guards the map); completion callbacks run on I/O threads.
class Prober {
 public:
  /// `clock` stamps outcomes (staleness is judged on it and on its wall time for skew);
  /// `timeout` bounds each probe (connect, send, headers, then each wait for body bytes).
  Prober(ClockPtr clock, std::chrono::milliseconds timeout);

  /// Starts GET /version with `client` for `key` unless a probe of `key` is already in flight.
  /// `done` runs once the outcome is stored (on an I/O thread: it must only enqueue), unless
  /// `wanted` is set and returns false for the outcome (also on the I/O thread; it must be cheap).
  void start(const std::string& key, const kube::ClientPtr& client, std::function<void()> done,
             std::function<bool(const ProbeOutcome&)> wanted = nullptr);
  /// The latest outcome for `key`, if any.
  std::optional<ProbeOutcome> latest(const std::string& key) const;
  /// True while a probe of `key` is running.
  bool inFlight(const std::string& key) const;
  /// Drops what is known about `key`; an outcome still in flight is discarded.
  void forget(const std::string& key);

 private:
  // Shared with in-flight callbacks (weakly), so a probe finishing after the Prober is gone is
  // dropped safely.
  struct State;
  std::shared_ptr<State> state_;
};

/// What the nodes say about a cluster.
struct NodeFacts {
  int nodes = 0;
  int readyWorkers = 0;                // Ready, schedulable, not control-plane
  std::vector<std::string> podCIDRs;   // spec.podCIDRs of every node, collapsed
  std::string region;                  // most common topology label among nodes ("" if none)
  std::string zone;
};

/// Reads a NodeList. Control-plane nodes (`node-role.kubernetes.io/control-plane` or `master`
/// labels) and cordoned ones are not workers; locality falls back to the deprecated
/// failure-domain.beta.kubernetes.io labels. Ties between zones go to the first in order. Pure.
NodeFacts analyzeNodes(const nlohmann::json& nodeList);

/// Lists the nodes (paged) and analyses them. Blocking; errors are the client's.
Expected<NodeFacts> probeNodes(kube::Client& client);

/// The CIDR in kube-apiserver's answer to an out-of-range clusterIP ("... The range of valid IPs
/// is 10.96.0.0/12"), if the message holds one. Pure.
std::optional<std::string> serviceCidrFromMessage(std::string_view message);

/// The remote service CIDR, learned without changing anything: the ServiceCIDR object
/// `kubernetes` (networking.k8s.io, Kubernetes >= 1.31) when readable, else the allocator's
/// refusal of a dry-run Service in `ns` whose clusterIP is outside any private range. Empty
/// when neither tells (the caller says so and asks for spec.network.serviceCIDR). Errors only
/// for transport failures (the server stopped answering). Blocking.
Expected<std::string> discoverServiceCidr(kube::Client& client, const std::string& ns);

}  // namespace rio::reconcilers::membership
