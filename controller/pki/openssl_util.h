// Small RAII and PEM helpers over OpenSSL 3, shared by x509.cc and the TLS context setup. Internal
// to controller/: callers outside use x509.h and tls_context.h.
#pragma once

#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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

/// SHA-256 over the parts, each preceded by its length (so {"ab", "c"} and {"a", "bc"} differ);
/// empty when hashing failed.
std::string digestOf(std::initializer_list<std::string_view> parts);

/// Results that depend only on their input, remembered by the input's digestOf(): reconcilers
/// check the same Secrets on every pass, and OpenSSL 3 decodes PEM (a key above all) slowly.
/// Bounded: forgotten all at once when a new entry finds it full. An empty digest is never remembered. Thread-safe.
template <class V>
class ContentMemo {
 public:
  std::optional<V> get(const std::string& digest) {
    if (digest.empty()) return std::nullopt;
    std::lock_guard lock(mu_);
    auto it = known_.find(digest);
    if (it == known_.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& digest, V value) {
    if (digest.empty()) return;
    std::lock_guard lock(mu_);
    if (known_.size() >= kMaxEntries && known_.count(digest) == 0) known_.clear();
    known_.insert_or_assign(digest, std::move(value));
  }

 private:
  static constexpr std::size_t kMaxEntries = 8192;
  std::mutex mu_;
  std::unordered_map<std::string, V> known_;
};

/// Takes the oldest error of this thread's OpenSSL error queue as text (e.g. "no start line")
/// and clears the queue. Returns `fallback` when the queue is empty. Never contains key bytes.
std::string takeError(std::string_view fallback = "unknown OpenSSL error");

/// A read-only memory BIO over `data` (which must outlive it).
BioPtr memoryBio(std::string_view data);

/// Every certificate of a PEM bundle, in order. Fails with kDecode when there is none or a
/// block is damaged. `what` names the material in the message ("CA bundle").
/// A bundle decoded before is not decoded again: the result shares (X509_up_ref) the objects
/// decoded then, so callers must treat them as read-only (OpenSSL 3 allows concurrent reads).
Expected<std::vector<X509Ptr>> readCertificates(std::string_view pem, std::string_view what);

/// The private key of a PEM block (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY").
/// Fails with kDecode; the message never quotes the input. Remembered like readCertificates (the
/// key is shared: read-only, e.g. for signing, which OpenSSL 3 allows from several threads).
Expected<PkeyPtr> readPrivateKey(std::string_view pem, std::string_view what);

/// Makes `pem` known to readCertificates / readPrivateKey as the text of `cert` / `key` (which
/// the caller has just encoded to it), so that reading it back shares the object.
void rememberCertificate(std::string_view pem, X509Ptr cert);
void rememberPrivateKey(std::string_view pem, PkeyPtr key);

/// The UTF-8 values of every `nid` entry of a name (e.g. NID_organizationName), in order.
std::vector<std::string> nameEntries(X509_NAME* name, int nid);

/// PEM text of a certificate / of a private key (PKCS#8).
std::string toPem(X509* cert);
std::string toPem(EVP_PKEY* key);

}  // namespace rio::pki::ossl
