#include "controller/pki/openssl_util.h"

#include <cstdint>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace rio::pki::ossl {

std::string takeError(std::string_view fallback) {
  unsigned long code = ERR_get_error();
  std::string out;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    // "error:0480006C:PEM routines::no start line" -> keep the reason, the part people read.
    std::string_view text(buf);
    auto pos = text.rfind(':');
    out = std::string(pos == std::string_view::npos ? text : text.substr(pos + 1));
  }
  ERR_clear_error();
  return out.empty() ? std::string(fallback) : out;
}

BioPtr memoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string digestOf(std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return {};
  for (std::string_view part : parts) {
    const std::uint64_t size = part.size();
    EVP_DigestUpdate(ctx.get(), &size, sizeof size);
    EVP_DigestUpdate(ctx.get(), part.data(), part.size());
  }
  if (EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) return {};
  return std::string(reinterpret_cast<const char*>(out), len);
}

namespace {

// What a decode produced, shared by every later read of the same text. Each reader gets its own
// reference (X509_up_ref / EVP_PKEY_up_ref); the memo's references go when it forgets.
struct DecodedCertificates {
  std::vector<X509Ptr> certs;
};
struct DecodedKey {
  PkeyPtr key;
};

std::vector<X509Ptr> share(const DecodedCertificates& decoded) {
  std::vector<X509Ptr> out;
  out.reserve(decoded.certs.size());
  for (const auto& cert : decoded.certs) {
    X509_up_ref(cert.get());
    out.emplace_back(cert.get());
  }
  return out;
}

Expected<std::vector<X509Ptr>> decodeCertificates(std::string_view pem, std::string_view what) {
  ERR_clear_error();
  auto bio = memoryBio(pem);
  if (!bio) return fail(Error::internal("cannot allocate a BIO"));
  std::vector<X509Ptr> certs;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      unsigned long err = ERR_peek_last_error();
      bool endOfInput =
          ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
      if (endOfInput && !certs.empty()) {
        ERR_clear_error();
        break;
      }
      return fail(
          Error::decode(std::string(what) + ": no valid PEM certificate (" + takeError() + ")"));
    }
    certs.push_back(std::move(cert));
  }
  return certs;
}

ContentMemo<std::shared_ptr<const DecodedCertificates>>& decodedCertificates() {
  static ContentMemo<std::shared_ptr<const DecodedCertificates>> memo;
  return memo;
}

ContentMemo<std::shared_ptr<const DecodedKey>>& decodedKeys() {
  static ContentMemo<std::shared_ptr<const DecodedKey>> memo;
  return memo;
}

PkeyPtr shareKey(const DecodedKey& decoded) {
  EVP_PKEY_up_ref(decoded.key.get());
  return PkeyPtr(decoded.key.get());
}

}  // namespace

void rememberCertificate(std::string_view pem, X509Ptr cert) {
  auto decoded = std::make_shared<DecodedCertificates>();
  decoded->certs.push_back(std::move(cert));
  decodedCertificates().put(digestOf({pem}), std::move(decoded));
}

void rememberPrivateKey(std::string_view pem, PkeyPtr key) {
  auto decoded = std::make_shared<DecodedKey>();
  decoded->key = std::move(key);
  decodedKeys().put(digestOf({pem}), std::move(decoded));
}

Expected<std::vector<X509Ptr>> readCertificates(std::string_view pem, std::string_view what) {
  auto& memo = decodedCertificates();
  const std::string digest = digestOf({pem});
  if (auto known = memo.get(digest)) return share(**known);
  auto certs = decodeCertificates(pem, what);
  if (!certs) return fail(certs.error());
  auto decoded = std::make_shared<DecodedCertificates>();
  decoded->certs = std::move(*certs);
  memo.put(digest, decoded);
  return share(*decoded);
}

Expected<PkeyPtr> readPrivateKey(std::string_view pem, std::string_view what) {
  auto& memo = decodedKeys();
  const std::string digest = digestOf({pem});
  if (auto known = memo.get(digest)) return shareKey(**known);
  ERR_clear_error();
  auto bio = memoryBio(pem);
  if (!bio) return fail(Error::internal("cannot allocate a BIO"));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    return fail(
        Error::decode(std::string(what) + ": no valid PEM private key (" + takeError() + ")"));
  auto decoded = std::make_shared<DecodedKey>();
  decoded->key = std::move(key);
  memo.put(digest, decoded);
  return shareKey(*decoded);
}

std::vector<std::string> nameEntries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  if (name == nullptr) return out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0) out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
  }
  return out;
}

namespace {
std::string drain(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}
}  // namespace

std::string toPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return drain(bio.get());
}

std::string toPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return drain(bio.get());
}

}  // namespace rio::pki::ossl
