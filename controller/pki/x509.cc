#include "controller/pki/x509.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <cstring>
#include <ctime>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "controller/pki/openssl_util.h"

namespace rio::pki {

namespace {

using ossl::ContentMemo;
using ossl::digestOf;
using ossl::PkeyPtr;
using ossl::X509Ptr;

// Releases the stack only, not the certificates it points to (sk_X509_free is a macro).
void freeStack(STACK_OF(X509) * stack) { sk_X509_free(stack); }
using BnPtr = std::unique_ptr<BIGNUM, ossl::Free<BN_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, ossl::Free<GENERAL_NAMES_free>>;
using StorePtr = std::unique_ptr<X509_STORE, ossl::Free<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, ossl::Free<X509_STORE_CTX_free>>;
using StackPtr = std::unique_ptr<STACK_OF(X509), ossl::Free<freeStack>>;

// keyMatchesCertificate() results by digestOf({certPem, keyPem}).
ContentMemo<bool>& knownKeyMatches() {
  static ContentMemo<bool> memo;
  return memo;
}

bool isIpLiteral(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool hasUsage(const CertificateSpec& spec, Usage u) {
  return std::find(spec.usages.begin(), spec.usages.end(), u) != spec.usages.end();
}

std::string hex(const unsigned char* data, std::size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (std::size_t i = 0; i < len; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xF];
  }
  return out;
}

WallTime toWallTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return WallTime{};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Expected<PkeyPtr> generateKey(KeyType type) {
  EVP_PKEY* key = type == KeyType::kRsa2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  if (key == nullptr) return fail(Error::internal("key generation failed: " + ossl::takeError()));
  return PkeyPtr(key);
}

// Adds one extension from OpenSSL's config syntax ("critical,CA:TRUE").
bool addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

Expected<void> addSubjectAltNames(X509* cert, const CertificateSpec& spec) {
  if (spec.dnsNames.empty() && spec.ipAddresses.empty()) return {};
  NamesPtr names(sk_GENERAL_NAME_new_null());
  for (const auto& dns : spec.dnsNames) {
    if (dns.empty() || dns.find_first_of(" ,\t\r\n") != std::string::npos) {
      return fail(Error::invalid("invalid DNS name in certificate spec: \"" + dns + "\""));
    }
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* str = ASN1_IA5STRING_new();
    ASN1_STRING_set(str, dns.data(), static_cast<int>(dns.size()));
    GENERAL_NAME_set0_value(gn, GEN_DNS, str);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  for (const auto& ip : spec.ipAddresses) {
    ASN1_OCTET_STRING* octets = isIpLiteral(ip) ? a2i_IPADDRESS(ip.c_str()) : nullptr;
    if (octets == nullptr) {
      ERR_clear_error();
      return fail(Error::invalid("invalid IP address in certificate spec: \"" + ip + "\""));
    }
    GENERAL_NAME* gn = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gn, GEN_IPADD, octets);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return fail(Error::internal("cannot add subjectAltName: " + ossl::takeError()));
  }
  return {};
}

// Builds and signs a certificate for `spec`. `issuerCert`/`issuerKey` null = self-signed.
Expected<KeyedCertificate> build(const CertificateSpec& spec, X509* issuerCert,
                                 EVP_PKEY* issuerKey) {
  WallTime notBefore = spec.notBefore;
  WallTime notAfter = spec.notAfter;
  if (notBefore == WallTime{})
    notBefore = std::chrono::system_clock::now() - std::chrono::minutes(5);
  if (notAfter == WallTime{}) notAfter = notBefore + std::chrono::hours(24 * 365);
  if (notAfter <= notBefore)
    return fail(Error::invalid("certificate notAfter must be after notBefore"));

  auto key = generateKey(spec.keyType);
  if (!key) return fail(key.error());

  X509Ptr cert(X509_new());
  if (!cert) return fail(Error::internal("cannot allocate a certificate"));
  X509_set_version(cert.get(), 2);  // v3

  // 128 random bits, as Go's crypto/x509 users do; never zero.
  unsigned char serial[16];
  do {
    if (RAND_bytes(serial, sizeof serial) != 1) return fail(Error::internal("RAND_bytes failed"));
  } while (
      std::all_of(std::begin(serial), std::end(serial), [](unsigned char b) { return b == 0; }));
  BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));

  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (const auto& org : spec.organizations) {
    X509_NAME_add_entry_by_NID(subject, NID_organizationName, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0);
  }
  if (!spec.commonName.empty()) {
    X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.commonName.c_str()), -1,
                               -1, 0);
  }
  X509_set_issuer_name(cert.get(), issuerCert ? X509_get_subject_name(issuerCert) : subject);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), std::chrono::system_clock::to_time_t(notBefore));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), std::chrono::system_clock::to_time_t(notAfter));
  X509_set_pubkey(cert.get(), key->get());

  const bool isCa = hasUsage(spec, Usage::kCertSign);
  X509* extIssuer = issuerCert ? issuerCert : cert.get();
  std::string basic = isCa ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (isCa && spec.pathLength >= 0) basic += ",pathlen:" + std::to_string(spec.pathLength);
  std::string keyUsage = "critical,digitalSignature";
  if (spec.keyType == KeyType::kRsa2048 && !isCa) keyUsage += ",keyEncipherment";
  if (isCa) keyUsage += ",keyCertSign,cRLSign";
  std::string extKeyUsage;
  if (hasUsage(spec, Usage::kServerAuth)) extKeyUsage += "serverAuth";
  if (hasUsage(spec, Usage::kClientAuth))
    extKeyUsage += std::string(extKeyUsage.empty() ? "" : ",") + "clientAuth";

  bool ok = addExtension(cert.get(), extIssuer, NID_basic_constraints, basic) &&
            addExtension(cert.get(), extIssuer, NID_key_usage, keyUsage) &&
            (extKeyUsage.empty() ||
             addExtension(cert.get(), extIssuer, NID_ext_key_usage, extKeyUsage)) &&
            addExtension(cert.get(), extIssuer, NID_subject_key_identifier, "hash") &&
            (issuerCert == nullptr ||
             addExtension(cert.get(), extIssuer, NID_authority_key_identifier, "keyid:always"));
  if (!ok) return fail(Error::internal("cannot add certificate extensions: " + ossl::takeError()));
  if (auto san = addSubjectAltNames(cert.get(), spec); !san) return fail(san.error());

  if (X509_sign(cert.get(), issuerKey ? issuerKey : key->get(), EVP_sha256()) <= 0) {
    return fail(Error::internal("cannot sign certificate: " + ossl::takeError()));
  }
  KeyedCertificate out{ossl::toPem(cert.get()), ossl::toPem(key->get())};
  // What was just made is read back on the next pass (parsed, matched, signed with): no need to
  // decode it then.
  ossl::rememberCertificate(out.certPem, std::move(cert));
  ossl::rememberPrivateKey(out.keyPem, std::move(*key));
  knownKeyMatches().put(digestOf({out.certPem, out.keyPem}), true);
  return out;
}

CertificateInfo describe(X509* cert) {
  CertificateInfo info;
  auto cn = ossl::nameEntries(X509_get_subject_name(cert), NID_commonName);
  if (!cn.empty()) info.subjectCommonName = cn.front();
  info.subjectOrganizations = ossl::nameEntries(X509_get_subject_name(cert), NID_organizationName);
  auto issuerCn = ossl::nameEntries(X509_get_issuer_name(cert), NID_commonName);
  if (!issuerCn.empty()) info.issuerCommonName = issuerCn.front();

  NamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING* s = gn->d.dNSName;
      info.dnsNames.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
      char buf[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(ip);
      const unsigned char* bytes = ASN1_STRING_get0_data(ip);
      if (len == 4 && inet_ntop(AF_INET, bytes, buf, sizeof buf))
        info.ipAddresses.emplace_back(buf);
      if (len == 16 && inet_ntop(AF_INET6, bytes, buf, sizeof buf))
        info.ipAddresses.emplace_back(buf);
    }
  }
  info.notBefore = toWallTime(X509_get0_notBefore(cert));
  info.notAfter = toWallTime(X509_get0_notAfter(cert));
  info.isCa = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;

  BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (serial) {
    std::vector<unsigned char> bytes(static_cast<std::size_t>(BN_num_bytes(serial.get())));
    BN_bn2bin(serial.get(), bytes.data());
    info.serialHex = hex(bytes.data(), bytes.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digestLen = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &digestLen) == 1)
    info.sha256Fingerprint = hex(digest, digestLen);
  return info;
}

}  // namespace

Expected<KeyedCertificate> selfSigned(const CertificateSpec& spec) {
  return build(spec, nullptr, nullptr);
}

Expected<KeyedCertificate> issue(const CertificateSpec& spec, const KeyedCertificate& issuer) {
  auto issuerCerts = ossl::readCertificates(issuer.certPem, "issuer certificate");
  if (!issuerCerts) return fail(issuerCerts.error());
  auto issuerKey = ossl::readPrivateKey(issuer.keyPem, "issuer key");
  if (!issuerKey) return fail(issuerKey.error());
  X509* issuerCert = issuerCerts->front().get();
  if ((X509_get_extension_flags(issuerCert) & EXFLAG_CA) == 0) {
    return fail(Error::invalid("the issuer certificate is not a certificate authority"));
  }
  if (X509_check_private_key(issuerCert, issuerKey->get()) != 1) {
    ERR_clear_error();
    return fail(Error::invalid("the issuer key does not belong to the issuer certificate"));
  }
  return build(spec, issuerCert, issuerKey->get());
}

Expected<CertificateInfo> parseCertificate(const std::string& pem) {
  static ContentMemo<CertificateInfo> memo;
  const std::string digest = digestOf({pem});
  if (auto known = memo.get(digest)) return *known;
  auto certs = ossl::readCertificates(pem, "certificate");
  if (!certs) return fail(certs.error());
  CertificateInfo info = describe(certs->front().get());
  memo.put(digest, info);
  return info;
}

Expected<std::vector<CertificateInfo>> parseBundle(const std::string& pem) {
  auto certs = ossl::readCertificates(pem, "certificate bundle");
  if (!certs) return fail(certs.error());
  std::vector<CertificateInfo> out;
  out.reserve(certs->size());
  for (auto& c : *certs) out.push_back(describe(c.get()));
  return out;
}

namespace {

// When a verified chain stays valid: from the latest notBefore to the earliest notAfter of its
// certificates. Inside that window the same leaf, trust and name verify again (no CRLs here).
struct ValidWindow {
  WallTime notBefore;
  WallTime notAfter;
};

ContentMemo<ValidWindow>& verifiedChains() {
  static ContentMemo<ValidWindow> memo;
  return memo;
}

}  // namespace

Expected<void> verify(const std::string& leafPem, const std::string& caPem, WallTime at,
                      const std::string& hostName) {
  // Reconcilers verify the same serving certificates against the same CAs on every pass.
  const std::string digest = digestOf({leafPem, caPem, hostName});
  if (auto known = verifiedChains().get(digest);
      known && at >= known->notBefore && at <= known->notAfter) {
    return {};
  }
  auto leaf = ossl::readCertificates(leafPem, "certificate");
  if (!leaf) return fail(leaf.error());
  auto cas = ossl::readCertificates(caPem, "CA bundle");
  if (!cas) return fail(cas.error());

  StorePtr store(X509_STORE_new());
  for (auto& ca : *cas) X509_STORE_add_cert(store.get(), ca.get());
  StackPtr untrusted(sk_X509_new_null());
  for (std::size_t i = 1; i < leaf->size(); ++i) sk_X509_push(untrusted.get(), (*leaf)[i].get());

  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf->front().get(), untrusted.get()) != 1) {
    return fail(Error::internal("cannot set up certificate verification: " + ossl::takeError()));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(at));
  if (!hostName.empty()) {
    int set = isIpLiteral(hostName)
                  ? X509_VERIFY_PARAM_set1_ip_asc(param, hostName.c_str())
                  : X509_VERIFY_PARAM_set1_host(param, hostName.c_str(), hostName.size());
    if (set != 1)
      return fail(Error::invalid("invalid host name for verification: \"" + hostName + "\""));
  }
  if (X509_verify_cert(ctx.get()) == 1) {
    ValidWindow window{WallTime::min(), WallTime::max()};
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      X509* cert = sk_X509_value(chain, i);
      window.notBefore = std::max(window.notBefore, toWallTime(X509_get0_notBefore(cert)));
      window.notAfter = std::min(window.notAfter, toWallTime(X509_get0_notAfter(cert)));
    }
    if (sk_X509_num(chain) > 0) verifiedChains().put(digest, window);
    return {};
  }
  int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return fail(
      Error::tls(std::string("certificate verify failed: ") + X509_verify_cert_error_string(err)));
}

namespace {

bool keyMatchesCertificateUncached(const std::string& certPem, const std::string& keyPem) {
  auto certs = ossl::readCertificates(certPem, "certificate");
  auto key = ossl::readPrivateKey(keyPem, "key");
  if (!certs || !key) return false;
  bool match = X509_check_private_key(certs->front().get(), key->get()) == 1;
  ERR_clear_error();
  return match;
}

}  // namespace

bool keyMatchesCertificate(const std::string& certPem, const std::string& keyPem) {
  const std::string digest = digestOf({certPem, keyPem});
  if (auto known = knownKeyMatches().get(digest)) return *known;
  bool match = keyMatchesCertificateUncached(certPem, keyPem);
  knownKeyMatches().put(digest, match);
  return match;
}


}  // namespace rio::pki
