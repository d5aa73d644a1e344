#include "controller/helpers/finalizers.h"

#include <optional>
#include <string>

namespace rio::helpers {
namespace {

using Json = nlohmann::json;

// The list as the caller saw it: nullptr when absent (or not a list, which the server would not
// store).
const Json* finalizersOf(const Json& object) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return nullptr;
  auto f = m->find("finalizers");
  if (f == m->end() || !f->is_array()) return nullptr;
  return &*f;
}

Expected<std::optional<Json>> send(kube::Client& client, const kube::Resource& resource,
                                   const Json& object, const Json& patch, std::string_view what,
                                   std::string_view finalizer) {
  if (patch.empty()) return std::optional<Json>();
  auto key = kube::ObjectKey::of(object);
  auto r = client.patch(resource, key, kube::PatchType::kJson, patch);
  if (!r) return fail(r.error().wrap(std::string(what) + " finalizer " + std::string(finalizer)));
  return std::optional<Json>(std::move(*r));
}

}  // namespace

bool hasFinalizer(const Json& object, std::string_view finalizer) {
  const Json* list = finalizersOf(object);
  if (!list) return false;
  for (const auto& f : *list) {
    if (f.is_string() && f.get_ref<const std::string&>() == finalizer) return true;
  }
  return false;
}

Json addFinalizerPatch(const Json& object, std::string_view finalizer) {
  if (hasFinalizer(object, finalizer)) return Json::array();
  const Json* list = finalizersOf(object);
  const Json created = {{"op", "add"},
                        {"path", "/metadata/finalizers"},
                        {"value", Json::array({std::string(finalizer)})}};
  if (list && list->empty()) {
    return Json::array(
        {{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", *list}}, created});
  }
  if (!list) {
    // RFC 6902 cannot test that a member is absent; the object's resourceVersion stands in for
    // the list (any change since the caller read it fails the patch).
    const std::string* rv = nullptr;
    if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
      if (auto r = m->find("resourceVersion"); r != m->end() && r->is_string()) {
        rv = &r->get_ref<const std::string&>();
      }
    }
    if (rv) {
      return Json::array(
          {{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", *rv}}, created});
    }
    // No resourceVersion: kube-apiserver's JSON patch treats a missing member as null.
    return Json::array(
        {{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", nullptr}}, created});
  }
  return Json::array(
      {{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", *list}},
       {{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", std::string(finalizer)}}});
}

Json removeFinalizerPatch(const Json& object, std::string_view finalizer) {
  const Json* list = finalizersOf(object);
  if (!list || !hasFinalizer(object, finalizer)) return Json::array();
  Json patch = Json::array({{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", *list}}});
  // Remove from the back so earlier indexes stay valid within the one patch.
  for (std::size_t i = list->size(); i-- > 0;) {
    const Json& f = (*list)[i];
    if (f.is_string() && f.get_ref<const std::string&>() == finalizer) {
      patch.push_back({{"op", "remove"}, {"path", "/metadata/finalizers/" + std::to_string(i)}});
    }
  }
  return patch;
}

Expected<std::optional<Json>> addFinalizer(kube::Client& client, const kube::Resource& resource,
                                           const Json& object, std::string_view finalizer) {
  return send(client, resource, object, addFinalizerPatch(object, finalizer), "add", finalizer);
}

Expected<bool> removeFinalizer(kube::Client& client, const kube::Resource& resource,
                               const Json& object, std::string_view finalizer) {
  auto r =
      send(client, resource, object, removeFinalizerPatch(object, finalizer), "remove", finalizer);
  if (!r) return fail(r.error());
  return r->has_value();
}

bool isFinalizerRace(const Error& error) { return error.isInvalid() || error.isConflict(); }

}  // namespace rio::helpers
