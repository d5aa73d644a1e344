#include "reconcilers/pki/mesh_trust.h"

#include <catch2/catch.hpp>

using namespace rio;
using namespace rio::pki;
using namespace std::chrono_literals;

namespace {
const WallTime kNow = std::chrono::sys_days{std::chrono::year{2026} / 11 / 25};
}

TEST_CASE("mesh trust: a cluster intermediate chains to the mesh root and can only sign leaves", "[pki]") {
  auto root = newCa("Remote Istio Mesh Root CA", kNow, 24h * 3650);
  REQUIRE(root);
  auto cluster = issueClusterCa(*root, "cn-beijing", kNow, 24h * 365);
  REQUIRE(cluster);
  CHECK(cluster->rootCertPem == root->certPem);
  CHECK(cluster->certChainPem == cluster->intermediate.certPem + root->certPem);
  CHECK(issuedBy(cluster->intermediate.certPem, root->certPem, kNow));
  auto info = parseCertificate(cluster->intermediate.certPem);
  REQUIRE(info);
  CHECK(info->isCa);
  CHECK(info->subjectCommonName == "Intermediate CA cn-beijing");
  CHECK(info->issuerCommonName == "Remote Istio Mesh Root CA");
  // The root's key never travels with the cluster CA.
  CHECK(cluster->intermediate.keyPem != root->keyPem);
  CHECK(cluster->certChainPem.find("PRIVATE KEY") == std::string::npos);

  // Another mesh's root does not vouch for it.
  auto other = newCa("Another Root", kNow, 24h * 3650);
  REQUIRE(other);
  CHECK_FALSE(issuedBy(cluster->intermediate.certPem, other->certPem, kNow));
}

TEST_CASE("mesh trust: the webhook serving certificate verifies for the injector's service name", "[pki]") {
  auto ca = newCa("remote-istio-operator webhook CA", kNow, 24h * 1825);
  REQUIRE(ca);
  auto serving = issueWebhookServing(*ca, "istio-sidecar-injector", "istio-system", kNow, 24h * 365);
  REQUIRE(serving);
  CHECK(issuedBy(serving->certPem, ca->certPem, kNow, "istio-sidecar-injector.istio-system.svc"));
  CHECK_FALSE(issuedBy(serving->certPem, ca->certPem, kNow, "evil.istio-system.svc"));
  CHECK(keyMatchesCertificate(serving->certPem, serving->keyPem));
}

TEST_CASE("mesh trust: renewal starts when less than a third of the lifetime remains", "[pki]") {
  auto ca = newCa("root", kNow, 24h * 30);
  REQUIRE(ca);
  CHECK_FALSE(needsRenewal(ca->certPem, kNow));
  CHECK_FALSE(needsRenewal(ca->certPem, kNow + 24h * 19));
  CHECK(needsRenewal(ca->certPem, kNow + 24h * 21));
  CHECK(needsRenewal(ca->certPem, kNow + 24h * 31));  // expired
  CHECK(needsRenewal("not a certificate", kNow));
}

TEST_CASE("mesh trust: a CA Secret is checked without echoing its content", "[pki]") {
  auto ca = newCa("root", kNow, 24h * 30);
  REQUIRE(ca);
  auto back = caFromSecretData(caToSecretData(*ca), "istio-system/remote-istio-mesh-root");
  REQUIRE(back);
  CHECK(back->certPem == ca->certPem);

  auto missing = caFromSecretData({{"ca-cert.pem", ca->certPem}}, "istio-system/root");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == "Secret istio-system/root has no ca-key.pem");

  auto other = newCa("other", kNow, 24h * 30);
  auto mismatched = caFromSecretData({{"ca-cert.pem", ca->certPem}, {"ca-key.pem", other->keyPem}}, "istio-system/root");
  REQUIRE_FALSE(mismatched);
  CHECK(mismatched.error().message().find("does not belong") != std::string::npos);
  CHECK(mismatched.error().message().find("PRIVATE") == std::string::npos);

  auto leaf = issueWebhookServing(*ca, "svc", "ns", kNow, 24h);
  auto notCa = caFromSecretData({{"ca-cert.pem", leaf->certPem}, {"ca-key.pem", leaf->keyPem}}, "istio-system/root");
  REQUIRE_FALSE(notCa);
  CHECK(notCa.error().message() == "Secret istio-system/root: ca-cert.pem is not a CA certificate");
}
