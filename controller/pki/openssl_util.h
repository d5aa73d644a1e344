// Small RAII and PEM helpers over OpenSSL 3, shared by x509.cc and the TLS context setup. Internal
// to controller/: callers outside use x509.h and tls_context.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "api/meta/error.h"

namespace rio::pki::ossl {

/// unique_ptr deleter calling an OpenSSL free function: std::unique_ptr<X509, Free<X509_free>>.
template <auto FreeFn>
struct Free {
  template <class T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;

/// Takes the oldest error of this thread's OpenSSL error queue as text (e.g. "no start line")
/// and clears the queue. Returns `fallback` when the queue is empty. Never contains key bytes.
std::string takeError(std::string_view fallback = "unknown OpenSSL error");

/// A read-only memory BIO over `data` (which must outlive it).
BioPtr memoryBio(std::string_view data);

/// Every certificate of a PEM bundle, in order. Fails with kDecode when there is none or a
/// block is damaged. `what` names the material in the message ("CA bundle").
Expected<std::vector<X509Ptr>> readCertificates(std::string_view pem, std::string_view what);

/// The private key of a PEM block (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY").
/// Fails with kDecode; the message never quotes the input.
Expected<PkeyPtr> readPrivateKey(std::string_view pem, std::string_view what);

/// The UTF-8 values of every `nid` entry of a name (e.g. NID_organizationName), in order.
std::vector<std::string> nameEntries(X509_NAME* name, int nid);

/// PEM text of a certificate / of a private key (PKCS#8).
std::string toPem(X509* cert);
std::string toPem(EVP_PKEY* key);

}  // namespace rio::pki::ossl
