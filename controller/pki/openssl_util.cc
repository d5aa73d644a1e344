#include "controller/pki/openssl_util.h"

#include <openssl/err.h>
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

Expected<std::vector<X509Ptr>> readCertificates(std::string_view pem, std::string_view what) {
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

Expected<PkeyPtr> readPrivateKey(std::string_view pem, std::string_view what) {
  ERR_clear_error();
  auto bio = memoryBio(pem);
  if (!bio) return fail(Error::internal("cannot allocate a BIO"));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    return fail(
        Error::decode(std::string(what) + ": no valid PEM private key (" + takeError() + ")"));
  return key;
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
