// Service-account tokens for kube-testenv (TokenRequest, the `serviceaccounts/token`
// subresource): issued as JWTs shaped like kube-apiserver's bound tokens, signed with HS256 by a
// key the authority holds, and validated the way the service-account authenticator does
// (signature, issuer, audience, exp/nbf/iat with go-jose's one-minute leeway, bound ServiceAccount
// not deleted). Also the TokenRequest validation and defaulting rules.
//
// Token values and signing keys never appear in any message or error produced here.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "test/testenv/auth.h"

namespace rio::testenv {

/// TokenRequest.spec.expirationSeconds below this is refused (ValidateTokenRequest).
inline constexpr std::chrono::seconds kMinTokenExpiration{10 * 60};
/// TokenRequest.spec.expirationSeconds when the request does not say (defaulting).
inline constexpr std::chrono::seconds kDefaultTokenExpiration{60 * 60};
/// Largest value validation accepts (2^32 seconds).
inline constexpr std::chrono::seconds kMaxTokenExpirationValue{std::int64_t{1} << 32};
/// Clock skew the validator tolerates around exp, nbf and iat (jwt.DefaultLeeway).
inline constexpr std::chrono::seconds kTokenLeeway{60};

struct TokenAuthorityOptions {
  /// `iss` of issued tokens (--service-account-issuer); tokens of another issuer are not ours.
  std::string issuer = "https://kubernetes.default.svc.cluster.local";
  /// --api-audiences: a token authenticates only if its `aud` has one of these. Empty means
  /// {issuer}, as kube-apiserver defaults it. Also the audiences of a TokenRequest that names none.
  std::vector<std::string> apiAudiences;
  /// --service-account-max-token-expiration: longer requests are shortened to this; 0 = no cap.
  std::chrono::seconds maxExpiration{48 * 60 * 60};
  /// HS256 key. Empty: a fresh random key (tokens die with the authority). Pass a stored
  /// generateSigningKey() to keep issued tokens valid across restarts (--state-dir).
  std::string signingKey;
};

/// The audiences a TokenRequest without spec.audiences gets.
std::vector<std::string> defaultTokenAudiences(const TokenAuthorityOptions& options);

/// 32 random bytes from the OpenSSL CSPRNG, for TokenAuthorityOptions::signingKey.
std::string generateSigningKey();

/// A TokenAuthority (auth.h) with these options. `clock` drives iat/nbf/exp and expiry checks.
std::unique_ptr<TokenAuthority> makeTokenAuthority(ClockPtr clock, TokenAuthorityOptions options);

/// Validates and defaults the body of a TokenRequest (authentication.k8s.io/v1): returns
/// spec.expirationSeconds (3600 when absent). Below 10 minutes or above 2^32 seconds: a 422
/// Invalid Error whose Status reads like the real one —
///   TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60:
///   may not specify a duration less than 10 minutes
/// with a FieldValueInvalid cause. A non-integer value is a 400 BadRequest.
Expected<std::chrono::seconds> tokenRequestExpiration(const nlohmann::json& tokenRequest);

/// The TTL issue() will actually use for `requested`: capped at options.maxExpiration.
std::chrono::seconds effectiveTokenExpiration(std::chrono::seconds requested,
                                              const TokenAuthorityOptions& options);

}  // namespace rio::testenv
