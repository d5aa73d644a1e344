#include "test/support/test_pki.h"

#include <stdexcept>

namespace rio::testing {

namespace {

using pki::CertificateSpec;
using pki::KeyedCertificate;
using pki::Usage;

KeyedCertificate orThrow(Expected<KeyedCertificate> result) {
  if (!result) throw std::runtime_error("test PKI: " + result.error().message());
  return std::move(*result);
}

CertificateSpec spec(std::string cn, std::vector<Usage> usages) {
  auto now = std::chrono::system_clock::now();
  CertificateSpec s;
  s.commonName = std::move(cn);
  s.usages = std::move(usages);
  s.notBefore = now - std::chrono::hours(1);
  s.notAfter = now + std::chrono::hours(24);
  return s;
}

CertificateSpec serverSpec() {
  auto s = spec("rio-test-server", {Usage::kServerAuth});
  s.dnsNames = {"localhost"};
  s.ipAddresses = {"127.0.0.1", "::1"};
  return s;
}

}  // namespace

TestPki TestPki::generate() {
  TestPki p;
  p.ca = orThrow(pki::selfSigned(spec("rio-test-ca", {Usage::kCertSign})));
  p.server = orThrow(pki::issue(serverSpec(), p.ca));

  auto client = spec("alice", {Usage::kClientAuth});
  client.organizations = {"system:masters"};
  p.client = orThrow(pki::issue(client, p.ca));

  auto expired = serverSpec();
  expired.notBefore = std::chrono::system_clock::now() - std::chrono::hours(72);
  expired.notAfter = std::chrono::system_clock::now() - std::chrono::hours(24);
  p.expiredServer = orThrow(pki::issue(expired, p.ca));

  auto wrong = spec("wrong.example.com", {Usage::kServerAuth});
  wrong.dnsNames = {"wrong.example.com"};
  p.wrongHostServer = orThrow(pki::issue(wrong, p.ca));

  p.otherCa = orThrow(pki::selfSigned(spec("rio-other-ca", {Usage::kCertSign})));
  auto mallory = spec("mallory", {Usage::kClientAuth});
  mallory.organizations = {"system:masters"};
  p.otherCaClient = orThrow(pki::issue(mallory, p.otherCa));
  return p;
}

const TestPki& testPki() {
  static const TestPki pki = TestPki::generate();
  return pki;
}

}  // namespace rio::testing
