// X.509 certificates and keys with OpenSSL 3: certificate authorities, serving and client
// certificates, parsing and chain verification. Generic: the mesh trust logic in
// reconcilers/pki/ and kube-testenv's per-cluster CAs are built on it.
//
// Every function is thread-safe (no shared state) and never throws. Errors: kInvalid for a bad
// spec or issuer, kDecode for PEM that does not parse, kTls for a failed verification, kInternal
// when OpenSSL itself fails. Messages never quote key material.
#pragma once

#include <string>
#include <vector>

#include "api/meta/error.h"
#include "controller/core/clock.h"

namespace rio::pki {

enum class KeyType { kEcdsaP256, kRsa2048 };

enum class Usage {
  kServerAuth,  // TLS serving certificate
  kClientAuth,  // TLS client certificate
  kCertSign,    // certificate authority
};

struct CertificateSpec {
  std::string commonName;
  std::vector<std::string> organizations;
  std::vector<std::string> dnsNames;     // subjectAltName DNS entries
  std::vector<std::string> ipAddresses;  // subjectAltName IP entries (v4 or v6 literals)
  std::vector<Usage> usages;             // kCertSign makes it a CA (basicConstraints CA:TRUE)
  int pathLength = -1;                   // CA path length constraint; -1 = none
  WallTime notBefore;                    // usually now - 5 min (clock skew); epoch = now - 5 min
  WallTime notAfter;                     // epoch = notBefore + 365 days
  KeyType keyType = KeyType::kEcdsaP256;
};

/// A certificate with its private key, both PEM. The key is secret material: never log it.
struct KeyedCertificate {
  std::string certPem;
  std::string keyPem;
};

/// Creates a self-signed certificate (normally a CA: give Usage::kCertSign) with a fresh key.
/// X.509 v3, random 128-bit serial, SHA-256 signature, critical basicConstraints and keyUsage,
/// extendedKeyUsage from the usages, subjectKeyIdentifier, subjectAltName from the names.
Expected<KeyedCertificate> selfSigned(const CertificateSpec& spec);
/// Creates a certificate with a fresh key, signed by `issuer` (whose certificate must be a CA
/// and match its key; only the first certificate of issuer.certPem is used). The result holds
/// the new leaf alone: append the issuer's chain yourself when serving it.
Expected<KeyedCertificate> issue(const CertificateSpec& spec, const KeyedCertificate& issuer);

struct CertificateInfo {
  std::string subjectCommonName;
  std::vector<std::string> subjectOrganizations;
  std::string issuerCommonName;
  std::vector<std::string> dnsNames;
  std::vector<std::string> ipAddresses;
  WallTime notBefore;
  WallTime notAfter;
  bool isCa = false;
  std::string serialHex;
  std::string sha256Fingerprint;  // hex of the DER's SHA-256
};

/// Parses the first certificate of a PEM block.
Expected<CertificateInfo> parseCertificate(const std::string& pem);
/// Parses every certificate of a PEM bundle, in order.
Expected<std::vector<CertificateInfo>> parseBundle(const std::string& pem);
/// Verifies `leafPem` (optionally followed by intermediates) against the trusted `caPem` bundle at
/// time `at`; when `hostName` is not empty, also checks it against the SAN (DNS or IP literal).
/// Fails with kTls "certificate verify failed: <OpenSSL's reason>" (e.g. "certificate has
/// expired", "Hostname mismatch").
Expected<void> verify(const std::string& leafPem, const std::string& caPem, WallTime at,
                      const std::string& hostName = {});
/// True when `keyPem` is the private key of the certificate `certPem`.
bool keyMatchesCertificate(const std::string& certPem, const std::string& keyPem);

}  // namespace rio::pki
