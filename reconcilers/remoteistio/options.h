// Settings of the RemoteIstio controller.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "controller/core/clock.h"
#include "controller/core/logging.h"
#include "controller/runtime/reconciler.h"
#include "reconcilers/pki/mesh_trust.h"

namespace rio::reconcilers::remoteistio {

struct RemoteIstioControllerOptions {
  /// The control plane's mesh namespace in the hub: istiod/pilot pods, the ingress gateway, the
  /// operator's CAs and the create-secret.sh Secrets are read there.
  std::string meshNamespace = "istio-system";
  /// Controller name (metrics label, logs, event source).
  std::string name = "remoteistio";
  /// Workers; 0 = the manager's --max-concurrent-reconciles.
  int maxConcurrentReconciles = 0;
  /// A converged RemoteIstio is checked again after this long (certificate renewals are
  /// scheduled separately, at the time they fall due).
  std::chrono::milliseconds resyncPeriod{std::chrono::minutes(10)};
  /// Re-check while waiting for a MeshMembership's credentials (its changes also trigger one).
  std::chrono::milliseconds membershipWait{std::chrono::seconds(30)};
  /// How long deletion keeps trying to clean up an unreachable remote without a MeshMembership
  /// (with one, its spec.deletion.timeout applies).
  std::chrono::seconds deletionTimeout{std::chrono::minutes(10)};
  /// Lifetimes of the webhook CA, serving certificates and the operator's mesh root.
  pki::TrustLifetimes lifetimes;
  /// Asks the MeshMembership controller to take the membership of this namespace/name ahead of
  /// its routine passes when it is queued (a failing one keeps its backoff): a changed RemoteIstio
  /// waits for that membership's connection after a start or failover. Null: it waits its turn.
  std::function<void(const runtime::Request& membership)> hurryMembership;
  /// Null: the manager's clock.
  ClockPtr clock;
  log::Logger logger;
};

}  // namespace rio::reconcilers::remoteistio
