// A test PKI shared by every test that needs TLS: one CA with a serving certificate for the
// loopback names and a client certificate, plus the bad material the refusal tests need.
// Generated once per test process (ECDSA P-256, a few milliseconds per certificate).
#pragma once

#include "controller/pki/x509.h"

namespace rio::testing {

struct TestPki {
  pki::KeyedCertificate ca;               // CN "rio-test-ca"
  pki::KeyedCertificate server;           // by ca: DNS localhost, IP 127.0.0.1 and ::1
  pki::KeyedCertificate client;           // by ca: CN "alice", O "system:masters"
  pki::KeyedCertificate expiredServer;    // by ca: the server names, expired a day ago
  pki::KeyedCertificate wrongHostServer;  // by ca: only DNS "wrong.example.com"
  pki::KeyedCertificate otherCa;          // an unrelated CA, CN "rio-other-ca"
  pki::KeyedCertificate otherCaClient;    // by otherCa: CN "mallory", O "system:masters"

  /// Builds a fresh set; throws std::runtime_error if OpenSSL fails (tests only).
  static TestPki generate();
};

/// The process-wide set, generated on first use. Thread-safe.
const TestPki& testPki();

}  // namespace rio::testing
