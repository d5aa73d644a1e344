#include "reconcilers/remoteistio/setup.h"

#include "controller/runtime/builder.h"
#include "reconcilers/desired/labels.h"
#include "reconcilers/remoteistio/cluster_index.h"
#include "reconcilers/remoteistio/connection.h"
#include "reconcilers/remoteistio/control_plane.h"
#include "reconcilers/remoteistio/reconciler.h"
#include "reconcilers/resources.h"

namespace rio::reconcilers::remoteistio {
namespace {

using nlohmann::json;
namespace r = kube::resources;

json metadataOf(const json& object) {
  return object.is_object() ? object.value("metadata", json::object()) : json::object();
}

// Spec, labels, annotations, finalizers or deletion changed: not our own status writes.
runtime::Predicate specOrMetadataChanged() {
  runtime::Predicate p;
  p.update = [](const cache::ObjectPtr& before, const cache::ObjectPtr& after) {
    if (cache::generationOf(*before) != cache::generationOf(*after)) return true;
    json a = metadataOf(*before), b = metadataOf(*after);
    for (const char* key : {"labels", "annotations", "finalizers", "deletionTimestamp"}) {
      if (a.value(key, json()) != b.value(key, json())) return true;
    }
    return false;
  };
  return p;
}

runtime::Predicate onlyWhen(const std::function<std::string(const json&)>& key) {
  runtime::Predicate p;
  p.update = [key](const cache::ObjectPtr& before, const cache::ObjectPtr& after) {
    return key(*before) != key(*after);
  };
  return p;
}

// The RemoteIstio of the same namespace/name (MeshMemberships, create-secret.sh Secrets).
runtime::MapFunc sameName() {
  return [](const cache::ObjectPtr& obj) {
    return std::vector<runtime::Request>{runtime::Request::of(*obj)};
  };
}

// Every RemoteIstio: the control plane's addresses and CAs concern them all.
runtime::MapFunc everyRemoteIstio(const cache::InformerPtr& remoteIstios) {
  std::weak_ptr<cache::Informer> weak = remoteIstios;
  return [weak](const cache::ObjectPtr&) {
    std::vector<runtime::Request> out;
    if (auto informer = weak.lock()) {
      for (const auto& ri : informer->store().list()) out.push_back(runtime::Request::of(*ri));
    }
    return out;
  };
}

}  // namespace

Expected<runtime::ControllerPtr> setupRemoteIstioController(
    manager::Manager& manager, reconcilers::ClusterRegistry& registry,
    reconcilers::OperatorMetricsPtr metrics, const RemoteIstioControllerOptions& options) {
  const std::string& ns = options.meshNamespace;
  auto remoteIstios = manager.informer({reconcilers::kRemoteIstios});
  if (!remoteIstios) return fail(remoteIstios.error());
  auto memberships = manager.informer({reconcilers::kMeshMemberships});
  if (!memberships) return fail(memberships.error());
  auto pods = manager.informer({r::kPods, ns, kPilotSelector});
  if (!pods) return fail(pods.error());
  auto services = manager.informer({r::kServices, ns});
  if (!services) return fail(services.error());
  auto credentials = manager.informer({r::kSecrets, ns, kMultiClusterSelector});
  if (!credentials) return fail(credentials.error());
  auto ownSecrets = manager.informer(
      {r::kSecrets, ns, std::string(desired::kManagedByLabel) + "=" + desired::kManagedByValue});
  if (!ownSecrets) return fail(ownSecrets.error());

  auto index = std::make_shared<ClusterIndex>();
  RemoteIstioDeps deps;
  deps.hub = manager.client();
  deps.registry = &registry;
  deps.metrics = std::move(metrics);
  deps.recorder = manager.eventRecorderFor(options.name + "-controller");
  deps.remoteIstios = *remoteIstios;
  deps.memberships = *memberships;
  deps.pilotPods = *pods;
  deps.services = *services;
  deps.credentialSecrets = *credentials;
  deps.operatorSecrets = *ownSecrets;
  deps.index = index;
  deps.clock = options.clock ? options.clock : manager.options().clock;
  auto reconciler = std::make_shared<RemoteIstioReconciler>(std::move(deps), options);

  runtime::ControllerOptions controllerOptions = manager.controllerOptions();
  if (options.maxConcurrentReconciles > 0)
    controllerOptions.maxConcurrentReconciles = options.maxConcurrentReconciles;

  auto isOperatorCa = [](const json& secret) {
    const std::string* component = cache::labelOf(secret, kComponentLabel);
    return component != nullptr;
  };
  auto controller =
      runtime::Builder(options.name, manager.executor())
          .forInformer(*remoteIstios, {specOrMetadataChanged()})
          .watches(*memberships, sameName())
          .watches(*credentials, sameName(), {runtime::predicates::resourceVersionChanged()})
          .watches(*pods, everyRemoteIstio(*remoteIstios), {onlyWhen(podAddressKey)})
          .watches(*services, everyRemoteIstio(*remoteIstios), {onlyWhen(serviceAddressKey)})
          .watches(*ownSecrets, everyRemoteIstio(*remoteIstios),
                   {runtime::predicates::fromFunction(isOperatorCa),
                    runtime::predicates::resourceVersionChanged()})
          .withOptions(controllerOptions)
          .build(reconciler);
  if (!controller) return fail(controller.error());
  manager.add(*controller);

  // Remote events: objects a RemoteIstio owns (drift, Deployment status) and namespaces (injection
  // labels, a listed namespace that appears) of the cluster.
  std::weak_ptr<runtime::Controller> weak = *controller;
  registry.addChangeHandler(
      [weak, index](const std::string& cluster, const cache::ObjectPtr& object, bool initial) {
        auto ctrl = weak.lock();
        if (!ctrl || !object) return;
        // The first list of a new connection changes nothing: its owners look at it when their
        // turn comes (they wait for that list anyway).
        const int priority = initial ? workqueue::kLowPriority : workqueue::kNormalPriority;
        // Cached objects always carry their kind (the watcher fills it in for list items).
        if (object->value("kind", "") == "Namespace") {
          for (const auto& request : index->requestsFor(cluster)) ctrl->enqueue(request, priority);
          return;
        }
        auto owner = desired::ownerOf(*object);
        if (!owner || owner->kind != v1beta1::kRemoteIstioKind) return;
        ctrl->enqueue({owner->ns, owner->name}, priority);
      });
  return *controller;
}

}  // namespace rio::reconcilers::remoteistio
