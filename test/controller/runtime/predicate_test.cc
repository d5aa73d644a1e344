#include "controller/runtime/predicate.h"

#include <catch2/catch.hpp>

using namespace rio;
using namespace rio::runtime;
using Json = nlohmann::json;

namespace {

cache::ObjectPtr obj(int generation, Json labels = Json::object(), std::string rv = "1") {
  return std::make_shared<const Json>(Json{
      {"metadata",
       {{"name", "x"}, {"generation", generation}, {"labels", labels}, {"resourceVersion", rv}}}});
}

}  // namespace

TEST_CASE(
    "Predicates: GenerationChanged passes spec changes, not status-only updates, and every create "
    "and delete",
    "[runtime][predicates]") {
  auto p = predicates::generationChanged();
  CHECK_FALSE(p.allowsUpdate(obj(1, {}, "1"), obj(1, {}, "2")));
  CHECK(p.allowsUpdate(obj(1), obj(2)));
  CHECK(p.allowsCreate(obj(1)));
  CHECK(p.allowsDelete(obj(1)));
}

TEST_CASE("Predicates: LabelChanged and ResourceVersionChanged", "[runtime][predicates]") {
  auto labels = predicates::labelChanged();
  CHECK_FALSE(labels.allowsUpdate(obj(1, {{"a", "1"}}), obj(2, {{"a", "1"}})));
  CHECK(labels.allowsUpdate(obj(1, {{"a", "1"}}), obj(1, {{"a", "2"}})));
  auto rv = predicates::resourceVersionChanged();
  CHECK_FALSE(rv.allowsUpdate(obj(1, {}, "5"), obj(1, {}, "5")));
  CHECK(rv.allowsUpdate(obj(1, {}, "5"), obj(1, {}, "6")));
}

TEST_CASE("Predicates: a custom function applies to every event, anyOf and allOf combine",
          "[runtime][predicates]") {
  auto big = predicates::fromFunction(
      [](const Json& o) { return o["metadata"]["generation"].get<int>() > 5; });
  CHECK(big.allowsCreate(obj(6)));
  CHECK_FALSE(big.allowsDelete(obj(1)));
  CHECK_FALSE(big.allowsUpdate(obj(9), obj(1)));  // judged on the new object
  auto either = predicates::anyOf({predicates::generationChanged(), predicates::labelChanged()});
  CHECK(either.allowsUpdate(obj(1, {{"a", "1"}}), obj(1, {{"a", "2"}})));
  CHECK_FALSE(either.allowsUpdate(obj(1), obj(1)));
  auto both = predicates::allOf({predicates::generationChanged(), big});
  CHECK(both.allowsUpdate(obj(1), obj(7)));
  CHECK_FALSE(both.allowsUpdate(obj(7), obj(7)));
  CHECK(predicates::allOf({}).allowsCreate(obj(1)));
}
