#include "controller/pki/x509.h"

#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "test/support/temp_dir.h"
#include "test/support/test_pki.h"

namespace pki = rio::pki;
using rio::ErrorKind;
using rio::testing::testPki;
using std::chrono::hours;

namespace {

auto now() { return std::chrono::system_clock::now(); }

pki::CertificateSpec leafSpec(std::string cn, std::vector<pki::Usage> usages) {
  pki::CertificateSpec s;
  s.commonName = std::move(cn);
  s.usages = std::move(usages);
  s.notBefore = now() - hours(1);
  s.notAfter = now() + hours(1);
  return s;
}

// Runs a shell command; returns its exit status and its output (stdout and stderr).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, out};
  std::array<char, 512> buf{};
  while (auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  return {::pclose(p), out};
}

}  // namespace

TEST_CASE("x509: a self-signed CA reads back with its subject, CA flag and a random 128-bit serial",
          "[pki]") {
  pki::CertificateSpec spec = leafSpec("mesh-root", {pki::Usage::kCertSign});
  spec.organizations = {"example", "istio"};
  auto a = pki::selfSigned(spec);
  auto b = pki::selfSigned(spec);
  REQUIRE(a);
  REQUIRE(b);
  auto info = pki::parseCertificate(a->certPem);
  REQUIRE(info);
  CHECK(info->subjectCommonName == "mesh-root");
  CHECK(info->issuerCommonName == "mesh-root");
  CHECK(info->subjectOrganizations == std::vector<std::string>{"example", "istio"});
  CHECK(info->isCa);
  CHECK(info->serialHex.size() <= 32);
  CHECK(info->serialHex != pki::parseCertificate(b->certPem)->serialHex);
  CHECK(info->sha256Fingerprint.size() == 64);
  CHECK(std::chrono::abs(info->notAfter - spec.notAfter) < std::chrono::seconds(1));
  CHECK(pki::keyMatchesCertificate(a->certPem, a->keyPem));
  CHECK_FALSE(pki::keyMatchesCertificate(a->certPem, b->keyPem));
}

TEST_CASE("x509: a serving certificate verifies for each of its DNS and IP names and for no other",
          "[pki]") {
  const auto& p = testPki();
  auto info = pki::parseCertificate(p.server.certPem);
  REQUIRE(info);
  CHECK(info->dnsNames == std::vector<std::string>{"localhost"});
  CHECK(info->ipAddresses == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK_FALSE(info->isCa);
  CHECK(info->issuerCommonName == "rio-test-ca");

  CHECK(pki::verify(p.server.certPem, p.ca.certPem, now()));
  CHECK(pki::verify(p.server.certPem, p.ca.certPem, now(), "localhost"));
  CHECK(pki::verify(p.server.certPem, p.ca.certPem, now(), "127.0.0.1"));
  CHECK(pki::verify(p.server.certPem, p.ca.certPem, now(), "::1"));

  auto wrongName = pki::verify(p.server.certPem, p.ca.certPem, now(), "example.com");
  REQUIRE_FALSE(wrongName);
  CHECK(wrongName.error().kind() == ErrorKind::kTls);
  CHECK_THAT(wrongName.error().message(), Catch::Contains("certificate verify failed"));
  CHECK_FALSE(pki::verify(p.server.certPem, p.ca.certPem, now(), "10.0.0.1"));
}

TEST_CASE("x509: verification refuses expired, not-yet-valid and foreign certificates", "[pki]") {
  const auto& p = testPki();
  auto expired = pki::verify(p.expiredServer.certPem, p.ca.certPem, now());
  REQUIRE_FALSE(expired);
  CHECK_THAT(expired.error().message(), Catch::Contains("expired"));
  // The time comes from the caller: the valid certificate has expired two days from now.
  CHECK_FALSE(pki::verify(p.server.certPem, p.ca.certPem, now() + hours(48)));

  auto early = pki::verify(p.server.certPem, p.ca.certPem, now() - hours(5));
  REQUIRE_FALSE(early);
  CHECK_THAT(early.error().message(), Catch::Contains("not yet valid"));

  auto foreign = pki::verify(p.server.certPem, p.otherCa.certPem, now());
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().kind() == ErrorKind::kTls);
}

TEST_CASE("x509: a chain through an intermediate CA verifies with the root alone", "[pki]") {
  auto root = pki::selfSigned(leafSpec("root", {pki::Usage::kCertSign}));
  REQUIRE(root);
  auto interSpec = leafSpec("cluster-1 intermediate", {pki::Usage::kCertSign});
  interSpec.pathLength = 0;
  auto intermediate = pki::issue(interSpec, *root);
  REQUIRE(intermediate);
  auto leafSpecWithName = leafSpec("istiod", {pki::Usage::kServerAuth});
  leafSpecWithName.dnsNames = {"istiod.istio-system.svc"};
  auto leaf = pki::issue(leafSpecWithName, *intermediate);
  REQUIRE(leaf);

  CHECK(pki::verify(leaf->certPem + intermediate->certPem, root->certPem, now(),
                    "istiod.istio-system.svc"));
  CHECK_FALSE(pki::verify(leaf->certPem, root->certPem, now()));  // intermediate missing

  // pathlen:0 forbids the intermediate from minting another CA that signs leaves.
  auto sub = pki::issue(leafSpec("sub", {pki::Usage::kCertSign}), *intermediate);
  REQUIRE(sub);
  auto subLeaf = pki::issue(leafSpec("leaf", {pki::Usage::kServerAuth}), *sub);
  REQUIRE(subLeaf);
  CHECK_FALSE(
      pki::verify(subLeaf->certPem + sub->certPem + intermediate->certPem, root->certPem, now()));

  auto bundle = pki::parseBundle(leaf->certPem + intermediate->certPem + root->certPem);
  REQUIRE(bundle);
  REQUIRE(bundle->size() == 3);
  CHECK((*bundle)[0].subjectCommonName == "istiod");
  CHECK((*bundle)[1].subjectCommonName == "cluster-1 intermediate");
  CHECK((*bundle)[2].subjectCommonName == "root");
}

TEST_CASE("x509: a chain verified before is still checked against the time, the name and the trust",
          "[pki]") {
  // verify() remembers chains that verified (reconcilers check the same certificates on every
  // pass) for as long as every certificate of the chain is valid: the intermediate expires first.
  auto rootSpec = leafSpec("root", {pki::Usage::kCertSign});
  rootSpec.notAfter = now() + hours(10);
  auto root = pki::selfSigned(rootSpec);
  REQUIRE(root);
  auto interSpec = leafSpec("intermediate", {pki::Usage::kCertSign});
  interSpec.notAfter = now() + hours(2);
  auto intermediate = pki::issue(interSpec, *root);
  REQUIRE(intermediate);
  auto leafWithName = leafSpec("istiod", {pki::Usage::kServerAuth});
  leafWithName.dnsNames = {"istiod.istio-system.svc"};
  leafWithName.notAfter = now() + hours(5);
  auto leaf = pki::issue(leafWithName, *intermediate);
  REQUIRE(leaf);
  const std::string chain = leaf->certPem + intermediate->certPem;

  for (int pass = 0; pass < 2; ++pass) {
    CAPTURE(pass);
    CHECK(pki::verify(chain, root->certPem, now(), "istiod.istio-system.svc"));
    CHECK(pki::verify(chain, root->certPem, now() + hours(1), "istiod.istio-system.svc"));
    auto late = pki::verify(chain, root->certPem, now() + hours(3), "istiod.istio-system.svc");
    REQUIRE_FALSE(late);
    CHECK_THAT(late.error().message(), Catch::Contains("expired"));
    CHECK_FALSE(pki::verify(chain, root->certPem, now() - hours(2), "istiod.istio-system.svc"));
    CHECK_FALSE(pki::verify(chain, root->certPem, now(), "other.istio-system.svc"));
    CHECK_FALSE(pki::verify(chain, testPki().ca.certPem, now(), "istiod.istio-system.svc"));
  }
}

TEST_CASE("x509: threads issue and verify with the same CA at once", "[pki]") {
  // Decoded certificates and keys are shared between readers of the same PEM text.
  auto root = pki::selfSigned(leafSpec("root", {pki::Usage::kCertSign}));
  REQUIRE(root);
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto spec = leafSpec("leaf-" + std::to_string(t) + "-" + std::to_string(i),
                             {pki::Usage::kServerAuth});
        spec.dnsNames = {"leaf-" + std::to_string(t) + ".example"};
        auto leaf = pki::issue(spec, *root);
        if (leaf && pki::verify(leaf->certPem, root->certPem, now(), spec.dnsNames[0]) &&
            pki::keyMatchesCertificate(leaf->certPem, leaf->keyPem) &&
            !pki::keyMatchesCertificate(root->certPem, leaf->keyPem)) {
          ++verified;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(verified == 40);
}

TEST_CASE("x509: RSA 2048 keys are available on request", "[pki]") {
  auto spec = leafSpec("rsa-ca", {pki::Usage::kCertSign});
  spec.keyType = pki::KeyType::kRsa2048;
  auto ca = pki::selfSigned(spec);
  REQUIRE(ca);
  auto leafRsa = leafSpec("rsa-leaf", {pki::Usage::kServerAuth, pki::Usage::kClientAuth});
  leafRsa.keyType = pki::KeyType::kRsa2048;
  leafRsa.ipAddresses = {"10.1.2.3"};
  auto leaf = pki::issue(leafRsa, *ca);
  REQUIRE(leaf);
  CHECK(pki::keyMatchesCertificate(leaf->certPem, leaf->keyPem));
  CHECK(pki::verify(leaf->certPem, ca->certPem, now(), "10.1.2.3"));
}

TEST_CASE("x509: bad input is refused with an error, never an exception", "[pki]") {
  const auto& p = testPki();
  auto notCa = pki::issue(leafSpec("x", {pki::Usage::kServerAuth}), p.server);
  REQUIRE_FALSE(notCa);
  CHECK(notCa.error().kind() == ErrorKind::kInvalid);

  auto mismatched =
      pki::issue(leafSpec("x", {pki::Usage::kServerAuth}), {p.ca.certPem, p.otherCa.keyPem});
  REQUIRE_FALSE(mismatched);
  CHECK(mismatched.error().kind() == ErrorKind::kInvalid);

  auto badIp = leafSpec("x", {pki::Usage::kServerAuth});
  badIp.ipAddresses = {"10.0.0.300"};
  CHECK(pki::issue(badIp, p.ca).error().kind() == ErrorKind::kInvalid);

  auto backwards = leafSpec("x", {pki::Usage::kServerAuth});
  std::swap(backwards.notBefore, backwards.notAfter);
  CHECK(pki::selfSigned(backwards).error().kind() == ErrorKind::kInvalid);

  CHECK(pki::parseCertificate("not a certificate").error().kind() == ErrorKind::kDecode);
  CHECK(pki::parseBundle("").error().kind() == ErrorKind::kDecode);
  std::string damaged = p.ca.certPem;
  damaged[damaged.size() / 2] = '!';
  CHECK_FALSE(pki::parseCertificate(damaged));
  CHECK_FALSE(pki::keyMatchesCertificate(p.ca.certPem, "garbage"));
  CHECK_FALSE(pki::verify(p.server.certPem, "garbage", now()));

  // The key is never quoted back in an error.
  auto badKey =
      pki::issue(leafSpec("x", {pki::Usage::kServerAuth}), {p.ca.certPem, "SECRET-KEY-BYTES"});
  REQUIRE_FALSE(badKey);
  CHECK_THAT(badKey.error().message(), !Catch::Contains("SECRET-KEY-BYTES"));
}

TEST_CASE("x509: the openssl command line accepts the certificates for their purposes", "[pki]") {
  const auto& p = testPki();
  rio::testing::TempDir dir;
  auto ca = dir.write("ca.pem", p.ca.certPem);
  auto server = dir.write("server.pem", p.server.certPem);
  auto client = dir.write("client.pem", p.client.certPem);

  auto [serverStatus, serverOut] =
      run("openssl verify -CAfile " + ca + " -purpose sslserver " + server);
  CHECK(serverStatus == 0);
  CHECK_THAT(serverOut, Catch::Contains("OK"));
  auto [clientStatus, clientOut] =
      run("openssl verify -CAfile " + ca + " -purpose sslclient " + client);
  CHECK(clientStatus == 0);
  auto [wrongStatus, wrongOut] =
      run("openssl verify -CAfile " + ca + " -purpose sslserver " + client);
  CHECK(wrongStatus != 0);  // a client certificate is not a serving certificate

  auto [fpStatus, fpOut] = run("openssl x509 -noout -fingerprint -sha256 -in " + server);
  REQUIRE(fpStatus == 0);
  std::string expected;
  for (char c : fpOut.substr(fpOut.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(c)))
      expected += static_cast<char>(std::tolower(c));
  }
  CHECK(pki::parseCertificate(p.server.certPem)->sha256Fingerprint == expected);
}
