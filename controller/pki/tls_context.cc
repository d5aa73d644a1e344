#include "controller/pki/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "controller/pki/openssl_util.h"

namespace rio::pki {

Expected<void> useCertificateChain(SSL_CTX* ctx, const std::string& chainPem,
                                   const std::string& keyPem) {
  auto certs = ossl::readCertificates(chainPem, "certificate");
  if (!certs) return fail(Error::config(certs.error().message()));
  auto key = ossl::readPrivateKey(keyPem, "private key");
  if (!key) return fail(Error::config(key.error().message()));
  ERR_clear_error();
  if (SSL_CTX_use_certificate(ctx, certs->front().get()) != 1) {
    return fail(Error::config("certificate rejected: " + ossl::takeError()));
  }
  SSL_CTX_clear_chain_certs(ctx);
  for (std::size_t i = 1; i < certs->size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, (*certs)[i].get()) != 1) {
      return fail(Error::config("intermediate certificate rejected: " + ossl::takeError()));
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return fail(Error::config("the private key does not match the certificate"));
  }
  return {};
}

Expected<void> addTrustedCertificates(SSL_CTX* ctx, const std::string& bundlePem,
                                      bool advertiseToClients) {
  auto certs = ossl::readCertificates(bundlePem, "CA bundle");
  if (!certs) return fail(Error::config(certs.error().message()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (auto& cert : *certs) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      // A duplicate in the bundle is harmless; anything else is not.
      unsigned long err = ERR_peek_last_error();
      if (ERR_GET_REASON(err) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        return fail(Error::config("CA certificate rejected: " + ossl::takeError()));
      }
      ERR_clear_error();
    }
    if (advertiseToClients && SSL_CTX_add_client_CA(ctx, cert.get()) != 1) {
      return fail(Error::config("CA certificate rejected: " + ossl::takeError()));
    }
  }
  return {};
}

}  // namespace rio::pki
