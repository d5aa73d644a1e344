#include "reconcilers/operator.h"

#include "reconcilers/membership/setup.h"
#include "reconcilers/remoteistio/setup.h"

namespace rio::reconcilers {

Expected<std::unique_ptr<Operator>> Operator::setup(manager::Manager& mgr, OperatorOptions options) {
  std::unique_ptr<Operator> op(new Operator());

  ClusterRegistryOptions registryOptions;
  registryOptions.io = &mgr.io();
  registryOptions.executor = mgr.executor();
  registryOptions.clientMetrics = mgr.clientMetrics();
  registryOptions.clock = mgr.executor()->clock();
  registryOptions.meshNamespace = options.meshNamespace;
  registryOptions.logger = log::root().with({{"component", "cluster-registry"}});
  op->registry_ = std::make_unique<ClusterRegistry>(std::move(registryOptions));
  op->metrics_ = std::make_shared<OperatorMetrics>(mgr.registry());

  options.membership.istioNamespace = options.meshNamespace;
  auto membership = membership::setupMembershipController(mgr, *op->registry_, op->metrics_,
                                                          options.membership);
  if (!membership) return fail(membership.error().wrap("MeshMembership controller"));
  op->membership_ = std::move(*membership);

  options.remoteIstio.meshNamespace = options.meshNamespace;
  std::weak_ptr<runtime::Controller> memberships = op->membership_;
  options.remoteIstio.hurryMembership = [memberships](const runtime::Request& request) {
    if (auto c = memberships.lock()) c->raisePriority(request, workqueue::kNormalPriority);
  };
  auto remoteIstio = remoteistio::setupRemoteIstioController(mgr, *op->registry_, op->metrics_,
                                                             options.remoteIstio);
  if (!remoteIstio) return fail(remoteIstio.error().wrap("RemoteIstio controller"));
  op->remoteIstio_ = std::move(*remoteIstio);
  return op;
}

Operator::~Operator() {
  // The controllers hold remote clients and informers; the registry disconnects the rest.
  membership_.reset();
  remoteIstio_.reset();
  registry_.reset();
}

}  // namespace rio::reconcilers
