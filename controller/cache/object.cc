#include "controller/cache/object.h"

namespace rio::cache {
namespace {

const nlohmann::json* metadataOf(const nlohmann::json& object) {
  if (!object.is_object()) return nullptr;
  auto m = object.find("metadata");
  return m != object.end() && m->is_object() ? &*m : nullptr;
}

const std::string* stringIn(const nlohmann::json& object, const char* map, std::string_view key) {
  const auto* m = metadataOf(object);
  if (!m) return nullptr;
  auto l = m->find(map);
  if (l == m->end() || !l->is_object()) return nullptr;
  auto v = l->find(std::string(key));
  if (v == l->end() || !v->is_string()) return nullptr;
  return &v->get_ref<const std::string&>();
}

}  // namespace

std::string resourceVersionOf(const nlohmann::json& object) {
  const auto* m = metadataOf(object);
  if (!m) return {};
  auto rv = m->find("resourceVersion");
  return rv != m->end() && rv->is_string() ? rv->get<std::string>() : std::string();
}

std::int64_t generationOf(const nlohmann::json& object) {
  const auto* m = metadataOf(object);
  if (!m) return 0;
  auto g = m->find("generation");
  return g != m->end() && g->is_number_integer() ? g->get<std::int64_t>() : 0;
}

const std::string* labelOf(const nlohmann::json& object, std::string_view key) {
  return stringIn(object, "labels", key);
}

const std::string* annotationOf(const nlohmann::json& object, std::string_view key) {
  return stringIn(object, "annotations", key);
}

}  // namespace rio::cache
