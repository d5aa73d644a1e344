// docs/api.md is the reference for every field, condition and reason: this keeps it complete.
#include <catch2/catch.hpp>

#include "api/v1beta1/mesh_membership.h"
#include "api/v1beta1/names.h"
#include "api/v1beta1/remote_istio.h"
#include "test/api/yaml_json.h"

namespace v1 = rio::v1beta1;

namespace {

void checkMentioned(const std::string& doc, const std::string& what) {
  std::string needle(1, '`');  // built stepwise: GCC 12 warns falsely on "`" + what + "`"
  needle.append(what);
  needle.push_back('`');
  INFO("docs/api.md does not mention " << needle);
  CHECK(doc.find(needle) != std::string::npos);
}

}  // namespace

TEST_CASE("Docs: docs/api.md documents every field, condition, reason and name", "[api][docs]") {
  const std::string doc = rio::testing::readFile(rio::testing::sourcePath("docs/api.md"));
  for (const auto& fields : {v1::RemoteIstio::knownFields(), v1::MeshMembership::knownFields()}) {
    for (const auto& f : fields) {
      if (f.path.find("[]") != std::string::npos || f.path.find(".*") != std::string::npos)
        continue;
      checkMentioned(doc, f.path);
    }
  }
  for (auto t : v1::condition::kRemoteIstioTypes) checkMentioned(doc, std::string(t));
  for (auto t : v1::condition::kMeshMembershipTypes) checkMentioned(doc, std::string(t));
  for (auto r : v1::reason::kAll) checkMentioned(doc, std::string(r));
  for (auto n : {v1::kRemoteIstioFinalizer, v1::kMeshMembershipFinalizer,
                 v1::kOrphanOnDeleteAnnotation, v1::kInjectionManagedLabel, v1::kOwnerKindLabel,
                 v1::kOwnerNameLabel, v1::kOwnerNamespaceLabel, v1::kClusterLabel,
                 v1::kManagedByLabel, v1::kDefaultTag, v1::kDefaultHub}) {
    checkMentioned(doc, std::string(n));
  }
}
