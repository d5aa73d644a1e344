// Loads PEM material held in memory (kubeconfig `*-data`, Secrets, test PKI) into an OpenSSL
// SSL_CTX. Used by the HTTP server and the REST transport; no Asio here.
#pragma once

#include <string>

#include <openssl/types.h>

#include "api/meta/error.h"

namespace rio::pki {

/// Installs `chainPem` (leaf first, then intermediates) and its private key into `ctx`.
/// Errors: kConfig when either does not parse or the key does not match the leaf. Messages
/// never quote the key.
Expected<void> useCertificateChain(SSL_CTX* ctx, const std::string& chainPem,
                                   const std::string& keyPem);

/// Adds every certificate of `bundlePem` to the trust store of `ctx`. With
/// `advertiseToClients` (servers asking for client certificates) their subjects also become the
/// CertificateRequest's acceptable-CA list, which Go clients (kubectl) need to pick their
/// certificate. Errors: kConfig when the bundle holds no valid certificate.
Expected<void> addTrustedCertificates(SSL_CTX* ctx, const std::string& bundlePem,
                                      bool advertiseToClients);

}  // namespace rio::pki
