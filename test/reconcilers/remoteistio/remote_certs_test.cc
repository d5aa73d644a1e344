#include "reconcilers/remoteistio/remote_certs.h"

#include <catch2/catch.hpp>

#include "controller/core/base64.h"
#include "reconcilers/desired/injector.h"
#include "reconcilers/desired/trust.h"

using namespace rio;
using namespace rio::reconcilers::remoteistio;
using nlohmann::json;

namespace {

const WallTime kNow = std::chrono::sys_days{std::chrono::year{2026} / 3 / 1};

json servingSecret(const pki::KeyedCertificate& cert, const std::string& caPem) {
  desired::InjectorParams p;
  p.caBundlePem = caPem;
  p.servingCertPem = cert.certPem;
  p.servingKeyPem = cert.keyPem;
  for (const auto& m : desired::sidecarInjector(p)) {
    if (m.object["kind"] == "Secret") return m.object;
  }
  FAIL("no Secret");
  return {};
}

}  // namespace

TEST_CASE("remote certs: a good serving certificate is kept, a due or foreign one is replaced",
          "[remoteistio][pki]") {
  auto ca = pki::newCa("webhook CA", kNow, std::chrono::hours(24 * 365 * 5));
  REQUIRE(ca);
  auto first = servingCertificate(nullptr, *ca, "istio-system", kNow, std::chrono::hours(24 * 365));
  REQUIRE(first);
  CHECK(pki::verify(first->certPem, ca->certPem, kNow, "istio-sidecar-injector.istio-system.svc"));

  json live = servingSecret(*first, ca->certPem);
  auto again = servingCertificate(&live, *ca, "istio-system", kNow + std::chrono::hours(24),
                                  std::chrono::hours(24 * 365));
  REQUIRE(again);
  CHECK(again->certPem == first->certPem);  // nothing to write

  // Two thirds of its life gone: renewed.
  auto late = kNow + std::chrono::hours(24 * 250);
  auto renewed = servingCertificate(&live, *ca, "istio-system", late, std::chrono::hours(24 * 365));
  REQUIRE(renewed);
  CHECK(renewed->certPem != first->certPem);
  auto due = renewalTime(first->certPem);
  REQUIRE(due);
  CHECK(*due > kNow + std::chrono::hours(24 * 240));
  CHECK(*due < late);

  // A new webhook CA: the old certificate no longer chains to it.
  auto other = pki::newCa("another CA", kNow, std::chrono::hours(24 * 365));
  REQUIRE(other);
  auto reissued =
      servingCertificate(&live, *other, "istio-system", kNow, std::chrono::hours(24 * 365));
  REQUIRE(reissued);
  CHECK(pki::verify(reissued->certPem, other->certPem, kNow,
                    "istio-sidecar-injector.istio-system.svc"));
}

TEST_CASE("remote certs: the cacerts intermediate is kept while it chains to the mesh root",
          "[remoteistio][pki]") {
  auto root = pki::newCa("mesh root", kNow, std::chrono::hours(24 * 3650));
  REQUIRE(root);
  auto first = clusterCa(nullptr, *root, "cn-beijing", kNow, std::chrono::hours(8760));
  REQUIRE(first);
  CHECK(pki::verify(first->intermediate.certPem, root->certPem, kNow));
  CHECK(first->intermediate.keyPem != root->keyPem);

  desired::TrustParams p{{},
                         "istio-system",
                         first->intermediate.certPem,
                         first->intermediate.keyPem,
                         first->rootCertPem,
                         first->certChainPem};
  json live = desired::cacertsSecret(p).object;
  // The root's private key never appears in what goes to the remote.
  for (const auto& [key, value] : live["data"].items()) {
    CHECK(*base64::decode(value.get<std::string>()) != root->keyPem);
  }
  auto kept = clusterCa(&live, *root, "cn-beijing", kNow + std::chrono::hours(48),
                        std::chrono::hours(8760));
  REQUIRE(kept);
  CHECK(kept->intermediate.certPem == first->intermediate.certPem);

  auto otherRoot = pki::newCa("user root", kNow, std::chrono::hours(24 * 3650));
  REQUIRE(otherRoot);
  auto moved = clusterCa(&live, *otherRoot, "cn-beijing", kNow, std::chrono::hours(8760));
  REQUIRE(moved);
  CHECK(moved->intermediate.certPem != first->intermediate.certPem);
  CHECK(pki::verify(moved->intermediate.certPem, otherRoot->certPem, kNow));
}
