#include "test/testenv/token_authority.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "test/testenv/rbac_authorizer.h"

namespace rio::testenv {
namespace {

using nlohmann::json;

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64UrlEncode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(data[k]));
  };
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out += kB64Url[(v >> shift) & 63];
  }
  if (i + 1 == data.size()) {
    unsigned v = byte(i) << 16;
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
  } else if (i + 2 == data.size()) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    out += kB64Url[(v >> 6) & 63];
  }
  return out;
}

// Strict unpadded base64url (RFC 7515 §2): anything else is not a JWT segment.
std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* p = std::find(kB64Url, kB64Url + 64, c);
    if (p == kB64Url + 64) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(p - kB64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero, or two encodings would decode to the same bytes.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string randomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Without randomness there are no safe keys or token ids; this is a start-up failure.
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return out;
}

std::string uuidV4() {
  std::string b = randomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string out;
  char hex[3];
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned char>(b[i]));
    out += hex;
  }
  return out;
}

std::string hmacSha256(const std::string& key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
  return std::string(reinterpret_cast<const char*>(mac.data()), len);
}

std::int64_t unixSeconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void addGroupOnce(std::vector<std::string>& groups, std::string_view group) {
  if (std::find(groups.begin(), groups.end(), group) == groups.end()) groups.emplace_back(group);
}

std::optional<std::int64_t> numericDate(const json& claims, const char* key) {
  auto it = claims.find(key);
  if (it == claims.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_float()) return static_cast<std::int64_t>(it->get<double>());
  return std::nullopt;
}

class TokenAuthorityImpl final : public TokenAuthority {
 public:
  TokenAuthorityImpl(ClockPtr clock, TokenAuthorityOptions options)
      : clock_(std::move(clock)), options_(std::move(options)) {
    if (options_.signingKey.empty()) options_.signingKey = generateSigningKey();
    audiences_ = defaultTokenAudiences(options_);
    // A key id that names the key without revealing it (a one-way derivation).
    keyId_ = base64UrlEncode(hmacSha256(options_.signingKey, "rio-testenv key id").substr(0, 16));
  }

  Issued issue(const std::string& ns, const std::string& name, const std::string& uid,
               std::chrono::seconds ttl, const std::vector<std::string>& audiences) override {
    ttl = effectiveTokenExpiration(ttl, options_);
    const std::int64_t now = unixSeconds(clock_->wallNow());
    const std::int64_t exp = now + ttl.count();
    json header = {{"alg", "HS256"}, {"kid", keyId_}};
    json claims = {
        {"aud", audiences.empty() ? audiences_ : audiences},
        {"exp", exp},
        {"iat", now},
        {"iss", options_.issuer},
        {"jti", uuidV4()},
        {"kubernetes.io", {{"namespace", ns}, {"serviceaccount", {{"name", name}, {"uid", uid}}}}},
        {"nbf", now},
        {"sub", "system:serviceaccount:" + ns + ":" + name},
    };
    std::string signingInput =
        base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump());
    std::string token =
        signingInput + "." + base64UrlEncode(hmacSha256(options_.signingKey, signingInput));
    return {std::move(token), WallTime(std::chrono::seconds(exp))};
  }

  std::optional<UserInfo> authenticate(const std::string& token) override {
    {
      std::lock_guard lock(mu_);
      if (auto it = static_.find(token); it != static_.end()) return it->second;
    }
    return authenticateServiceAccount(token);
  }

  void addStaticToken(const std::string& token, UserInfo user) override {
    addGroupOnce(user.groups, kGroupAuthenticated);
    std::lock_guard lock(mu_);
    static_[token] = std::move(user);
  }

  void revokeServiceAccount(const std::string& uid) override {
    std::lock_guard lock(mu_);
    revoked_.insert(uid);
  }

 private:
  // What a token's bytes say once its signature, issuer, audience and claims checked out: the
  // same bytes always say the same, so a token seen before skips the decoding and the HMAC.
  // Its times and the revocation of its service account are checked on every request.
  struct Verified {
    std::optional<std::int64_t> exp, nbf, iat;
    UserInfo user;
  };

  std::optional<UserInfo> authenticateServiceAccount(const std::string& token) const {
    std::shared_ptr<const Verified> verified;
    {
      std::lock_guard lock(mu_);
      if (auto it = verified_.find(token); it != verified_.end()) verified = it->second;
    }
    if (!verified) {
      verified = verify(token);
      if (!verified) return std::nullopt;
      std::lock_guard lock(mu_);
      if (verified_.size() >= kMaxVerified) verified_.clear();
      verified_.emplace(token, verified);
    }
    if (!timeValid(verified->exp, verified->nbf, verified->iat)) return std::nullopt;
    {
      std::lock_guard lock(mu_);
      if (revoked_.count(verified->user.uid)) return std::nullopt;
    }
    return verified->user;
  }

  std::shared_ptr<const Verified> verify(const std::string& token) const {
    auto dot1 = token.find('.');
    if (dot1 == std::string::npos) return nullptr;
    auto dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string::npos || token.find('.', dot2 + 1) != std::string::npos) return nullptr;
    const std::string_view view(token);
    auto headerBytes = base64UrlDecode(view.substr(0, dot1));
    auto claimBytes = base64UrlDecode(view.substr(dot1 + 1, dot2 - dot1 - 1));
    auto signature = base64UrlDecode(view.substr(dot2 + 1));
    if (!headerBytes || !claimBytes || !signature) return nullptr;
    json header = json::parse(*headerBytes, nullptr, /*allow_exceptions=*/false);
    json claims = json::parse(*claimBytes, nullptr, /*allow_exceptions=*/false);
    if (!header.is_object() || !claims.is_object()) return nullptr;
    // Only the algorithm we sign with: no "none", no algorithm confusion.
    if (header.value("alg", json()) != "HS256") return nullptr;
    std::string expected = hmacSha256(options_.signingKey, view.substr(0, dot2));
    if (signature->size() != expected.size() ||
        CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
      return nullptr;
    }
    if (claims.value("iss", json()) != options_.issuer) return nullptr;
    if (!audienceAccepted(claims)) return nullptr;

    const json& k8s = claims.value("kubernetes.io", json::object());
    if (!k8s.is_object()) return nullptr;
    const json& sa = k8s.value("serviceaccount", json::object());
    if (!sa.is_object()) return nullptr;
    std::string ns =
        k8s.value("namespace", json()).is_string() ? k8s["namespace"].get<std::string>() : "";
    std::string name = sa.value("name", json()).is_string() ? sa["name"].get<std::string>() : "";
    std::string uid = sa.value("uid", json()).is_string() ? sa["uid"].get<std::string>() : "";
    if (ns.empty() || name.empty()) return nullptr;
    auto out = std::make_shared<Verified>();
    out->exp = numericDate(claims, "exp");
    out->nbf = numericDate(claims, "nbf");
    out->iat = numericDate(claims, "iat");
    UserInfo& user = out->user;
    user.name = "system:serviceaccount:" + ns + ":" + name;
    user.uid = uid;
    user.groups = {std::string(kGroupServiceAccounts),
                   std::string(kGroupServiceAccounts) + ":" + ns, std::string(kGroupAuthenticated)};
    user.serviceAccountNamespace = ns;
    user.serviceAccountName = name;
    return out;
  }

  bool audienceAccepted(const json& claims) const {
    std::vector<std::string> tokenAudiences;
    auto aud = claims.find("aud");
    if (aud != claims.end() && aud->is_string()) tokenAudiences.push_back(aud->get<std::string>());
    if (aud != claims.end() && aud->is_array()) {
      for (const auto& a : *aud) {
        if (a.is_string()) tokenAudiences.push_back(a.get<std::string>());
      }
    }
    // Tokens without audiences are implicitly for the API server (legacy tokens).
    if (tokenAudiences.empty()) return true;
    return std::any_of(tokenAudiences.begin(), tokenAudiences.end(), [&](const std::string& a) {
      return std::find(audiences_.begin(), audiences_.end(), a) != audiences_.end();
    });
  }

  bool timeValid(std::optional<std::int64_t> exp, std::optional<std::int64_t> nbf,
                 std::optional<std::int64_t> iat) const {
    const auto now = clock_->wallNow();
    auto at = [](std::int64_t s) { return WallTime(std::chrono::seconds(s)); };
    // Bound tokens always carry exp; go-jose compares with a one-minute leeway.
    if (!exp || now - kTokenLeeway > at(*exp)) return false;
    if (nbf && now + kTokenLeeway < at(*nbf)) return false;
    if (iat && now + kTokenLeeway < at(*iat)) return false;
    return true;
  }

  const ClockPtr clock_;
  TokenAuthorityOptions options_;  // immutable after construction
  std::vector<std::string> audiences_;
  std::string keyId_;
  static constexpr std::size_t kMaxVerified = 16384;
  mutable std::mutex mu_;  // guards static_, revoked_ and verified_
  std::map<std::string, UserInfo> static_;
  std::set<std::string> revoked_;
  mutable std::unordered_map<std::string, std::shared_ptr<const Verified>> verified_;
};

}  // namespace

std::vector<std::string> defaultTokenAudiences(const TokenAuthorityOptions& options) {
  if (!options.apiAudiences.empty()) return options.apiAudiences;
  return {options.issuer};
}

std::string generateSigningKey() { return randomBytes(32); }

std::unique_ptr<TokenAuthority> makeTokenAuthority(ClockPtr clock, TokenAuthorityOptions options) {
  return std::make_unique<TokenAuthorityImpl>(std::move(clock), std::move(options));
}

std::unique_ptr<TokenAuthority> makeTokenAuthority(ClockPtr clock) {
  return makeTokenAuthority(std::move(clock), TokenAuthorityOptions{});
}

Expected<std::chrono::seconds> tokenRequestExpiration(const json& tokenRequest) {
  json value;
  if (tokenRequest.is_object()) {
    if (auto spec = tokenRequest.find("spec"); spec != tokenRequest.end() && spec->is_object()) {
      if (auto it = spec->find("expirationSeconds"); it != spec->end()) value = *it;
    }
  }
  if (value.is_null()) return kDefaultTokenExpiration;
  if (!value.is_number_integer()) {
    return fail(Error(meta::Status::failure(
        400, meta::reason::kBadRequest,
        "json: cannot unmarshal " + std::string(value.is_string() ? "string" : value.type_name()) +
            " into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64")));
  }
  const std::int64_t seconds = value.get<std::int64_t>();
  std::string detail;
  if (seconds < kMinTokenExpiration.count()) {
    detail = "may not specify a duration less than 10 minutes";
  } else if (seconds > kMaxTokenExpirationValue.count()) {
    detail = "may not specify a duration larger than 2^32 seconds";
  } else {
    return std::chrono::seconds(seconds);
  }
  const std::string body = "Invalid value: " + std::to_string(seconds) + ": " + detail;
  meta::Status status = meta::Status::failure(
      422, meta::reason::kInvalid,
      // The real server builds this error with an empty name (NewInvalid(gk, "", errs)).
      "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: " + body);
  status.detailsGroup = "authentication.k8s.io";
  status.detailsKind = "TokenRequest";
  status.causes.push_back({"FieldValueInvalid", body, "spec.expirationSeconds"});
  return fail(Error(std::move(status)));
}

std::chrono::seconds effectiveTokenExpiration(std::chrono::seconds requested,
                                              const TokenAuthorityOptions& options) {
  if (options.maxExpiration.count() > 0 && requested > options.maxExpiration)
    return options.maxExpiration;
  return requested;
}

}  // namespace rio::testenv
