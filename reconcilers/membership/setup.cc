#include "reconcilers/membership/setup.h"

#include "api/v1beta1/names.h"
#include "controller/runtime/builder.h"
#include "controller/runtime/predicate.h"
#include "reconcilers/desired/labels.h"

namespace rio::reconcilers::membership {

std::string ownSecretsSelector() {
  return std::string(desired::kManagedByLabel) + "=" + desired::kManagedByValue + "," +
         desired::kOwnerKindLabel + "=" + std::string(v1beta1::kMeshMembershipKind);
}

Expected<runtime::ControllerPtr> setupMembershipController(manager::Manager& mgr,
                                                           ClusterRegistry& registry,
                                                           OperatorMetricsPtr metrics,
                                                           const MembershipControllerOptions& options) {
  auto memberships = mgr.informer({kMeshMemberships});
  if (!memberships) return fail(memberships.error().wrap("MeshMembership informer"));
  auto secrets = mgr.informer({kube::resources::kSecrets, options.istioNamespace, ownSecretsSelector()});
  if (!secrets) return fail(secrets.error().wrap("Secret informer"));

  MembershipDeps deps;
  deps.hub = mgr.client();
  deps.memberships = *memberships;
  deps.secrets = *secrets;
  deps.registry = &registry;
  deps.metrics = std::move(metrics);
  deps.recorder = mgr.eventRecorderFor(options.name);
  deps.io = &mgr.io();
  deps.clientMetrics = mgr.clientMetrics();
  deps.options = options;
  if (!deps.options.clock) deps.options.clock = mgr.executor()->clock();
  auto reconciler = std::make_shared<MembershipReconciler>(std::move(deps));

  // Spec changes, annotation changes (orphan-on-delete) and deletion reach the queue; the
  // controller's own status writes do not.
  auto primary = runtime::predicates::anyOf(
      {runtime::predicates::generationChanged(), runtime::predicates::annotationChanged(),
       runtime::predicates::fromFunction([](const nlohmann::json& object) {
         const auto md = object.value("metadata", nlohmann::json::object());
         return md.is_object() && md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null();
       })});
  auto controller = runtime::Builder(options.name, mgr.executor())
                        .forInformer(*memberships, {primary})
                        .owns(*secrets, runtime::OwnerMapping::byAnnotation(desired::kOwnerAnnotation),
                              {runtime::predicates::fromFunction([](const nlohmann::json& object) {
                                auto owner = desired::ownerOf(object);
                                return owner && owner->kind == v1beta1::kMeshMembershipKind;
                              })})
                        .withOptions(mgr.controllerOptions())
                        .build(reconciler);
  if (!controller) return fail(controller.error().wrap("membership controller"));
  std::weak_ptr<runtime::Controller> weak = *controller;
  reconciler->setEnqueue([weak](const runtime::Request& request) {
    if (auto c = weak.lock()) c->enqueue(request);
  });
  registry.addChangeHandler([weak](const std::string&, const cache::ObjectPtr& object, bool initial) {
    auto owner = desired::ownerOf(*object);
    if (!owner || owner->kind != v1beta1::kMeshMembershipKind) return;
    if (auto c = weak.lock())
      c->enqueue({owner->ns, owner->name}, initial ? workqueue::kLowPriority : workqueue::kNormalPriority);
  });
  mgr.add(*controller);
  return *controller;
}

}  // namespace rio::reconcilers::membership
