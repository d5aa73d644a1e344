// Defaulting of built-in kinds as kube-apiserver's scheme does it when decoding a request
// (deployment-create-defaults.txt, service-create-defaults.txt, mwc-create.txt, ns-create.txt),
// and the conversion between the two views of Events (core/v1 is the stored form).
#pragma once

#include <nlohmann/json.hpp>

#include "test/testenv/registry.h"

namespace rio::testenv {

/// Fills in the defaults the API scheme adds at decode time (these fields then appear in
/// managedFields). Server-side allocation (Service clusterIP, Namespace phase) is not done here.
void applySchemeDefaults(const ResourceType& type, nlohmann::json& obj);
/// The defaults of a PodSpec (also used inside Deployment templates).
void defaultPodSpec(nlohmann::json& spec);

/// events.k8s.io/v1 Event → the stored core/v1 form.
nlohmann::json eventFromEventsV1(const nlohmann::json& event);
/// Stored core/v1 Event → events.k8s.io/v1 (as event-create-eventsv1.txt shows it).
nlohmann::json eventToEventsV1(const nlohmann::json& stored);
/// Stored core/v1 Event with the always-present core fields.
nlohmann::json eventCoreView(const nlohmann::json& stored);

}  // namespace rio::testenv
