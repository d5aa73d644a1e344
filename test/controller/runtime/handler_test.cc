#include "controller/runtime/handler.h"

#include <catch2/catch.hpp>

using namespace rio;
using namespace rio::runtime;
using Json = nlohmann::json;

namespace {

cache::ObjectPtr obj(Json metadata) {
  return std::make_shared<const Json>(Json{{"metadata", metadata}});
}

}  // namespace

TEST_CASE("Mapping: the object itself", "[runtime][handler]") {
  auto map = requestForObject();
  CHECK(map(obj({{"namespace", "a"}, {"name", "x"}})) == std::vector<Request>{{"a", "x"}});
  CHECK(map(obj({{"name", "node-1"}})) == std::vector<Request>{{"", "node-1"}});
}

TEST_CASE("Mapping: an owner annotation \"<namespace>/<name>\" names the owner in any cluster",
          "[runtime][handler]") {
  auto map = requestForOwnerAnnotation("example.com/owner");
  CHECK(map(obj({{"namespace", "remote"},
                 {"name", "x"},
                 {"annotations", {{"example.com/owner", "istio-system/c1"}}}})) ==
        std::vector<Request>{{"istio-system", "c1"}});
  CHECK(map(obj({{"name", "x"}, {"annotations", {{"example.com/owner", "cluster-scoped"}}}})) ==
        std::vector<Request>{{"", "cluster-scoped"}});
  CHECK(map(obj({{"name", "x"}})).empty());
  CHECK(map(obj({{"name", "x"}, {"annotations", {{"example.com/owner", "ns/"}}}})).empty());
  CHECK(map(obj({{"name", "x"}, {"annotations", {{"example.com/owner", "a/b/c"}}}})).empty());
  CHECK(map(obj({{"name", "x"}, {"annotations", {{"example.com/owner", 7}}}})).empty());
}

TEST_CASE("Mapping: owner labels, with the owner's namespace from a label or from the child",
          "[runtime][handler]") {
  auto withNs = requestForOwnerLabels("owner-name", "owner-ns");
  CHECK(withNs(obj(
            {{"namespace", "remote"}, {"labels", {{"owner-name", "c1"}, {"owner-ns", "hub"}}}})) ==
        std::vector<Request>{{"hub", "c1"}});
  auto sameNs = requestForOwnerLabels("owner-name");
  CHECK(sameNs(obj({{"namespace", "demo"}, {"labels", {{"owner-name", "c1"}}}})) ==
        std::vector<Request>{{"demo", "c1"}});
  CHECK(sameNs(obj({{"namespace", "demo"}})).empty());
}

TEST_CASE("Mapping: ownerReferences of the owner's group and kind, controller only by default",
          "[runtime][handler]") {
  Json refs = Json::array(
      {{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "d"}, {"controller", true}},
       {{"apiVersion", "istio.example.com/v1beta1"},
        {"kind", "Mesh"},
        {"name", "m1"},
        {"controller", true}},
       {{"apiVersion", "istio.example.com/v1"}, {"kind", "Mesh"}, {"name", "m2"}}});
  auto o = obj({{"namespace", "demo"}, {"name", "x"}, {"ownerReferences", refs}});
  CHECK(requestForOwnerReference("istio.example.com", "Mesh")(o) ==
        std::vector<Request>{{"demo", "m1"}});
  CHECK(requestForOwnerReference("istio.example.com", "Mesh", /*controllerOnly=*/false)(o) ==
        std::vector<Request>{{"demo", "m1"}, {"demo", "m2"}});
  CHECK(requestForOwnerReference("apps", "Deployment", true, /*ownerNamespaced=*/false)(o) ==
        std::vector<Request>{{"", "d"}});
  CHECK(requestForOwnerReference("", "ConfigMap")(o).empty());
}
