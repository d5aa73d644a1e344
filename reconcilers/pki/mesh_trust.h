// Mesh trust and webhook certificates, built on controller/pki/x509.h:
//  - the mesh root CA kept in the control plane (generated once, or supplied by the user); its
//    private key never leaves the control plane;
//  - one intermediate CA per remote cluster (the `cacerts` Secret Istio's CA reads there);
//  - the operator-held webhook CA and the sidecar injector's serving certificates.
// Pure functions of their inputs and `now`; storage is the reconcilers' business.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/pki/x509.h"

namespace rio::pki {

inline constexpr char kCaCertKey[] = "ca-cert.pem";
inline constexpr char kCaKeyKey[] = "ca-key.pem";

struct TrustLifetimes {
  std::chrono::hours root{24 * 365 * 10};
  std::chrono::hours intermediate{24 * 365};
  std::chrono::hours webhookCa{24 * 365 * 5};
  std::chrono::hours serving{24 * 365};
};

/// A CA as stored in a Secret's data (`ca-cert.pem`, `ca-key.pem`, decoded). Validates that both
/// are present, parse, match, and that the certificate is a CA. The message names the missing or
/// bad key, never the content.
Expected<KeyedCertificate> caFromSecretData(const std::map<std::string, std::string>& data,
                                            const std::string& secretName);
/// The Secret data for a CA.
std::map<std::string, std::string> caToSecretData(const KeyedCertificate& ca);

/// A new self-signed CA for the mesh root or the webhook CA.
Expected<KeyedCertificate> newCa(const std::string& commonName, WallTime now, std::chrono::hours lifetime);

/// What goes into a remote cluster's `cacerts`.
struct ClusterCa {
  KeyedCertificate intermediate;  // cert + key of the cluster's CA
  std::string rootCertPem;        // the mesh root certificate
  std::string certChainPem;       // intermediate then root
};

/// A new intermediate CA for `cluster`, signed by the mesh root (path length 0: it may only sign
/// workload certificates).
Expected<ClusterCa> issueClusterCa(const KeyedCertificate& root, const std::string& cluster, WallTime now,
                                   std::chrono::hours lifetime);

/// The DNS names the injector's serving certificate must carry.
std::vector<std::string> webhookDnsNames(const std::string& service, const std::string& ns);
/// A serving certificate for the sidecar injector webhook, signed by the webhook CA.
Expected<KeyedCertificate> issueWebhookServing(const KeyedCertificate& webhookCa, const std::string& service,
                                               const std::string& ns, WallTime now, std::chrono::hours lifetime);

/// True when `certPem` should be replaced: it does not parse, expired, not yet valid, or less than
/// a third of its lifetime remains (renewal well before expiry).
bool needsRenewal(const std::string& certPem, WallTime now);
/// True when `certPem` chains to `caPem` now (and, when given, carries `dnsName`).
bool issuedBy(const std::string& certPem, const std::string& caPem, WallTime now, const std::string& dnsName = {});

}  // namespace rio::pki
