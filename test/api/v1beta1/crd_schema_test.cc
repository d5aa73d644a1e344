// The CRDs in crds/ against the C++ types: same fields, types, defaults, enums, bounds, patterns
// and list semantics; structural schemas the API server accepts; names as in names.h.
#include <map>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "api/v1beta1/mesh_membership.h"
#include "api/v1beta1/remote_istio.h"
#include "test/api/schema_check.h"
#include "test/api/yaml_json.h"

using nlohmann::json;
namespace meta = rio::meta;
namespace v1 = rio::v1beta1;
using rio::testing::loadYaml;

namespace {

struct Crd {
  std::string file;
  std::string_view kind, listKind, plural, singular, shortName;
  meta::KnownFields cppFields;
  std::string_view rootRule;
};

std::vector<Crd> crds() {
  return {
      {"crds/istio.alibabacloud.com_remoteistios.yaml", v1::kRemoteIstioKind,
       v1::kRemoteIstioListKind, v1::kRemoteIstioPlural, v1::kRemoteIstioSingular,
       v1::kRemoteIstioShortName, v1::RemoteIstio::knownFields(), v1::kRemoteIstioNameRule},
      {"crds/istio.alibabacloud.com_meshmemberships.yaml", v1::kMeshMembershipKind,
       v1::kMeshMembershipListKind, v1::kMeshMembershipPlural, v1::kMeshMembershipSingular,
       v1::kMeshMembershipShortName, v1::MeshMembership::knownFields(),
       v1::kMeshMembershipNameRule},
  };
}

std::string describe(const meta::KnownField& f) {
  std::ostringstream out;
  out << "type=" << f.type << " format=" << f.format << " required=" << f.required
      << " default=" << (f.defaultValue ? f.defaultValue->dump() : "-") << " enum=";
  for (const auto& e : f.enumValues) out << e << ",";
  out << " min=" << (f.minimum ? std::to_string(*f.minimum) : "-")
      << " max=" << (f.maximum ? std::to_string(*f.maximum) : "-")
      << " maxLength=" << (f.maxLength ? std::to_string(*f.maxLength) : "-")
      << " listType=" << f.listType << " listMapKey=" << f.listMapKey << " cel=" << f.celRule
      << " pattern=" << f.pattern;
  return out.str();
}

}  // namespace

TEST_CASE("CRDs: group, names, scope, version and status subresource match the API constants",
          "[api][crd]") {
  for (const auto& crd : crds()) {
    INFO(crd.file);
    const json doc = loadYaml(crd.file);
    CHECK(doc["apiVersion"] == "apiextensions.k8s.io/v1");
    CHECK(doc["kind"] == "CustomResourceDefinition");
    CHECK(doc["metadata"]["name"] == std::string(crd.plural) + "." + std::string(v1::kGroup));
    const json& spec = doc["spec"];
    CHECK(spec["group"] == v1::kGroup);
    CHECK(spec["scope"] == "Namespaced");
    CHECK(spec["names"]["kind"] == crd.kind);
    CHECK(spec["names"]["listKind"] == crd.listKind);
    CHECK(spec["names"]["plural"] == crd.plural);
    CHECK(spec["names"]["singular"] == crd.singular);
    CHECK(spec["names"]["shortNames"] == json::array({crd.shortName}));
    CHECK(spec["names"]["categories"] ==
          json::array({v1::kCategoryIstio, v1::kCategoryRemoteIstio}));
    REQUIRE(spec["versions"].size() == 1);
    const json& version = spec["versions"][0];
    CHECK(version["name"] == v1::kVersion);
    CHECK(version["served"] == true);
    CHECK(version["storage"] == true);
    CHECK(version["subresources"] == json{{"status", json::object()}});
  }
}

TEST_CASE("CRDs: schemas are structural, and every field has a description for kubectl explain",
          "[api][crd]") {
  for (const auto& crd : crds()) {
    INFO(crd.file);
    const json schema = loadYaml(crd.file)["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    std::vector<std::string> problems;
    rio::testing::structuralProblems(schema, "", true, problems);
    for (const auto& p : problems) FAIL_CHECK(p);
    CHECK(schema.contains("description"));
    // A status shape that is fully typed: nothing is kept blindly.
    CHECK(schema.dump().find("x-kubernetes-preserve-unknown-fields") == std::string::npos);
  }
}

TEST_CASE(
    "CRDs: every field path the C++ types know is in the schema with the same facts, and the "
    "reverse",
    "[api][crd]") {
  for (const auto& crd : crds()) {
    INFO(crd.file);
    const json schema = loadYaml(crd.file)["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    std::map<std::string, meta::KnownField> fromSchema, fromCpp;
    for (auto& f : rio::testing::schemaKnownFields(schema)) fromSchema[f.path] = f;
    for (auto& f : crd.cppFields) fromCpp[f.path] = f;
    for (const auto& [path, f] : fromCpp) {
      auto it = fromSchema.find(path);
      if (it == fromSchema.end()) {
        FAIL_CHECK(path << " is known to C++ but missing from the CRD schema");
        continue;
      }
      if (!(it->second == f)) {
        FAIL_CHECK(path << " differs\n  C++:    " << describe(f)
                        << "\n  schema: " << describe(it->second));
      }
    }
    for (const auto& [path, f] : fromSchema) {
      if (!fromCpp.count(path))
        FAIL_CHECK(path << " is in the CRD schema but the C++ types do not know it");
    }
    CHECK(fromCpp.size() == fromSchema.size());
  }
}

TEST_CASE("CRDs: the root CEL rule is the one the C++ validation mirrors", "[api][crd]") {
  for (const auto& crd : crds()) {
    INFO(crd.file);
    const json schema = loadYaml(crd.file)["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    REQUIRE(schema["x-kubernetes-validations"].size() == 1);
    CHECK(schema["x-kubernetes-validations"][0]["rule"] == crd.rootRule);
    CHECK_FALSE(schema["x-kubernetes-validations"][0]["message"].get<std::string>().empty());
  }
}

TEST_CASE(
    "CRDs: printer columns show Ready and Reason from the conditions and resolve to known fields",
    "[api][crd]") {
  for (const auto& crd : crds()) {
    INFO(crd.file);
    const json doc = loadYaml(crd.file);
    std::set<std::string> known{".metadata.creationTimestamp"};
    for (const auto& f : crd.cppFields) known.insert("." + f.path);
    std::map<std::string, json> columns;
    for (const auto& c : doc["spec"]["versions"][0]["additionalPrinterColumns"]) {
      columns[c["name"].get<std::string>()] = c;
      const std::string path = c["jsonPath"];
      const std::set<std::string> types{"string", "integer", "number", "boolean", "date"};
      CHECK(types.count(c["type"].get<std::string>()) == 1);
      if (path.find("[?(") != std::string::npos) {
        CHECK(path.rfind(".status.conditions[?(@.type==\"Ready\")].", 0) == 0);
      } else {
        INFO("column " << c["name"] << " path " << path);
        CHECK(known.count(path) == 1);
      }
    }
    REQUIRE(columns.count("Ready"));
    CHECK(columns["Ready"]["jsonPath"] == ".status.conditions[?(@.type==\"Ready\")].status");
    REQUIRE(columns.count("Reason"));
    CHECK(columns["Reason"]["jsonPath"] == ".status.conditions[?(@.type==\"Ready\")].reason");
    REQUIRE(columns.count("Age"));
    CHECK(columns["Age"]["type"] == "date");
  }
  const json mm = loadYaml("crds/istio.alibabacloud.com_meshmemberships.yaml");
  std::set<std::string> names;
  for (const auto& c : mm["spec"]["versions"][0]["additionalPrinterColumns"])
    names.insert(c["name"]);
  CHECK(names.count("Cluster"));
  CHECK(names.count("Mode"));
}
