// The operator: both controllers of the domain wired into a Manager.
//
//   auto mgr = manager::Manager::create(options);
//   auto op = Operator::setup(**mgr, {.meshNamespace = "istio-system"});
//   if (!op) -> start-up error
//   (*mgr)->run();
//   op->reset();   // before the manager: remote clients run on its IoRuntime
//
// One ClusterRegistry holds a connection per remote cluster: the MeshMembership controller
// creates it (and rotates its token); the RemoteIstio controller finds it, or connects itself
// with a create-secret.sh Secret when no MeshMembership names the cluster. Both controllers
// register their change handlers before anything connects.
#pragma once

#include <memory>
#include <string>

#include "api/meta/error.h"
#include "controller/manager/manager.h"
#include "controller/runtime/controller.h"
#include "reconcilers/cluster_registry.h"
#include "reconcilers/membership/reconciler.h"
#include "reconcilers/metrics.h"
#include "reconcilers/remoteistio/options.h"

namespace rio::reconcilers {

struct OperatorOptions {
  /// Istio's namespace, in the control plane (istiod, its remote secrets, the operator's CAs)
  /// and in every remote cluster.
  std::string meshNamespace = "istio-system";
  remoteistio::RemoteIstioControllerOptions remoteIstio;    // meshNamespace is overridden
  membership::MembershipControllerOptions membership;       // istioNamespace is overridden
};

class Operator {
 public:
  /// Adds both controllers and the OperatorMetrics to `mgr`. Call before mgr.run().
  static Expected<std::unique_ptr<Operator>> setup(manager::Manager& mgr, OperatorOptions options);
  ~Operator();
  Operator(const Operator&) = delete;
  Operator& operator=(const Operator&) = delete;

  ClusterRegistry& registry() { return *registry_; }
  const OperatorMetricsPtr& metrics() const { return metrics_; }

 private:
  Operator() = default;

  std::unique_ptr<ClusterRegistry> registry_;
  OperatorMetricsPtr metrics_;
  runtime::ControllerPtr remoteIstio_;
  runtime::ControllerPtr membership_;
};

}  // namespace rio::reconcilers
