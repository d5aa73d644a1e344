#include "test/testenv/token_authority.h"

#include <catch2/catch.hpp>

#include "controller/core/base64.h"
#include "test/support/fake_clock.h"

using namespace rio;
using namespace rio::testenv;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

json decodeSegment(std::string segment) {
  for (char& c : segment) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (segment.size() % 4) segment += '=';
  auto bytes = base64::decode(segment);
  REQUIRE(bytes);
  return json::parse(*bytes);
}

std::string encodeSegment(const json& j) {
  std::string s = base64::encode(j.dump());
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::int64_t unix(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

TEST_CASE("Tokens: an issued token is a signed JWT with a bound service-account token's claims",
          "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  auto tokens = makeTokenAuthority(clock);
  auto issued = tokens->issue("demo", "bot", "uid-1", 3600s, {});

  auto parts = split(issued.token);
  REQUIRE(parts.size() == 3);
  for (const auto& p : parts)
    CHECK(p.find_first_of("+/=") == std::string::npos);  // base64url, unpadded
  json header = decodeSegment(parts[0]);
  json claims = decodeSegment(parts[1]);
  CHECK(header["alg"] == "HS256");
  CHECK(header.contains("kid"));
  const auto now = unix(clock->wallNow());
  CHECK(claims["iss"] == "https://kubernetes.default.svc.cluster.local");
  CHECK(claims["sub"] == "system:serviceaccount:demo:bot");
  CHECK(claims["aud"] == json::array({"https://kubernetes.default.svc.cluster.local"}));
  CHECK(claims["iat"] == now);
  CHECK(claims["nbf"] == now);
  CHECK(claims["exp"] == now + 3600);
  CHECK(claims["kubernetes.io"] ==
        json{{"namespace", "demo"}, {"serviceaccount", {{"name", "bot"}, {"uid", "uid-1"}}}});
  CHECK(claims["jti"].get<std::string>().size() == 36);
  CHECK(issued.expiresAt == clock->wallNow() + 3600s);
  CHECK(tokens->issue("demo", "bot", "uid-1", 3600s, {}).token != issued.token);  // distinct jti
}

TEST_CASE("Tokens: a valid token authenticates as its service account", "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  auto tokens = makeTokenAuthority(clock);
  auto user = tokens->authenticate(tokens->issue("demo", "bot", "uid-1", 3600s, {}).token);
  REQUIRE(user);
  CHECK(user->name == "system:serviceaccount:demo:bot");
  CHECK(user->groups == std::vector<std::string>{"system:serviceaccounts",
                                                 "system:serviceaccounts:demo",
                                                 "system:authenticated"});
  CHECK(user->uid == "uid-1");
  CHECK(user->serviceAccountNamespace == "demo");
  CHECK(user->serviceAccountName == "bot");
  CHECK_FALSE(user->isAdmin());
}

TEST_CASE(
    "Tokens: a token stops authenticating once past exp plus the validator's one-minute leeway",
    "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  auto tokens = makeTokenAuthority(clock);
  auto issued = tokens->issue("demo", "bot", "uid-1", 600s, {});
  clock->advance(599s);
  CHECK(tokens->authenticate(issued.token));
  clock->advance(61s);  // exp + 60s: still inside go-jose's leeway
  CHECK(tokens->authenticate(issued.token));
  clock->advance(1s);
  CHECK_FALSE(tokens->authenticate(issued.token));
}

TEST_CASE("Tokens: a token is refused before its nbf (beyond the leeway)", "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  auto tokens = makeTokenAuthority(clock);
  auto issued = tokens->issue("demo", "bot", "uid-1", 3600s, {});
  clock->setWall(clock->wallNow() - 61s);
  CHECK_FALSE(tokens->authenticate(issued.token));
  clock->setWall(clock->wallNow() + 2s);
  CHECK(tokens->authenticate(issued.token));
}

TEST_CASE("Tokens: deleting the service account revokes its tokens only", "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  auto tokens = makeTokenAuthority(clock);
  auto bot = tokens->issue("demo", "bot", "uid-bot", 3600s, {});
  auto other = tokens->issue("demo", "other", "uid-other", 3600s, {});
  CHECK(tokens->authenticate(bot.token));  // seen and verified before the revocation
  tokens->revokeServiceAccount("uid-bot");
  CHECK_FALSE(tokens->authenticate(bot.token));
  CHECK(tokens->authenticate(other.token));
  // A service account re-created under the same name has a new uid and new tokens.
  CHECK(tokens->authenticate(tokens->issue("demo", "bot", "uid-bot-2", 3600s, {}).token));
}

TEST_CASE("Tokens: tampered, unsigned, foreign or malformed tokens are refused",
          "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  auto tokens = makeTokenAuthority(clock);
  auto issued = tokens->issue("demo", "bot", "uid-1", 3600s, {});
  auto parts = split(issued.token);

  json claims = decodeSegment(parts[1]);
  claims["kubernetes.io"]["serviceaccount"]["name"] = "admin";
  claims["sub"] = "system:serviceaccount:demo:admin";
  CHECK_FALSE(tokens->authenticate(parts[0] + "." + encodeSegment(claims) + "." + parts[2]));

  std::string flipped = parts[2];
  flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
  CHECK_FALSE(tokens->authenticate(parts[0] + "." + parts[1] + "." + flipped));

  json none = decodeSegment(parts[0]);
  none["alg"] = "none";
  CHECK_FALSE(tokens->authenticate(encodeSegment(none) + "." + parts[1] + "."));

  auto foreign = makeTokenAuthority(clock)->issue("demo", "bot", "uid-1", 3600s, {});
  CHECK_FALSE(tokens->authenticate(foreign.token));

  for (const std::string& bad : std::vector<std::string>{"", "abc", "a.b", "a.b.c.d", "!!.??.**",
                                                         issued.token + "x", issued.token + "="}) {
    INFO(bad.size());
    CHECK_FALSE(tokens->authenticate(bad));
  }
}

TEST_CASE("Tokens: a kept signing key keeps tokens valid across a restart", "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  TokenAuthorityOptions options;
  options.signingKey = generateSigningKey();
  auto before = makeTokenAuthority(clock, options);
  auto issued = before->issue("demo", "bot", "uid-1", 3600s, {});
  before.reset();
  auto after = makeTokenAuthority(clock, options);
  CHECK(after->authenticate(issued.token));

  // The key never travels in the token, not even in its key id.
  std::string keyB64 = base64::encode(options.signingKey);
  CHECK(issued.token.find(keyB64.substr(0, 16)) == std::string::npos);
  CHECK(decodeSegment(split(issued.token)[0])["kid"] != keyB64);
}

TEST_CASE("Tokens: a token for another audience does not authenticate to the API server",
          "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  TokenAuthorityOptions options;
  options.apiAudiences = {"https://127.0.0.1:6443", "api"};
  auto tokens = makeTokenAuthority(clock, options);
  CHECK_FALSE(tokens->authenticate(tokens->issue("demo", "bot", "u", 3600s, {"vault"}).token));
  CHECK(tokens->authenticate(tokens->issue("demo", "bot", "u", 3600s, {"vault", "api"}).token));
  auto defaulted = tokens->issue("demo", "bot", "u", 3600s, {});
  CHECK(decodeSegment(split(defaulted.token)[1])["aud"] == json(options.apiAudiences));
  CHECK(tokens->authenticate(defaulted.token));
  CHECK(defaultTokenAudiences(options) == options.apiAudiences);
}

TEST_CASE("Tokens: a requested lifetime beyond the maximum is shortened to it",
          "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  auto tokens = makeTokenAuthority(clock);
  CHECK(tokens->issue("demo", "bot", "u", 100h, {}).expiresAt == clock->wallNow() + 48h);

  TokenAuthorityOptions uncapped;
  uncapped.maxExpiration = 0s;
  CHECK(effectiveTokenExpiration(8760h, uncapped) == 8760h);
  TokenAuthorityOptions tight;
  tight.maxExpiration = 2h;
  CHECK(effectiveTokenExpiration(3h, tight) == 2h);
  CHECK(makeTokenAuthority(clock, tight)->issue("demo", "bot", "u", 3h, {}).expiresAt ==
        clock->wallNow() + 2h);
}

TEST_CASE(
    "Tokens: TokenRequest expirationSeconds defaults to an hour and must be at least ten minutes",
    "[testenv][tokens]") {
  auto request = [](json spec) {
    return json{
        {"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", spec}};
  };
  CHECK(tokenRequestExpiration(request(json::object())).value() == 3600s);
  CHECK(tokenRequestExpiration(json::object()).value() == 3600s);
  CHECK(tokenRequestExpiration(request({{"expirationSeconds", 600}})).value() == 600s);

  auto tooShort = tokenRequestExpiration(request({{"expirationSeconds", 60}}));
  REQUIRE_FALSE(tooShort);
  CHECK(tooShort.error().isInvalid());
  CHECK(tooShort.error().code() == 422);
  CHECK(
      tooShort.error().message() ==
      R"(TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes)");
  const auto& status = *tooShort.error().status();
  CHECK(status.detailsKind == "TokenRequest");
  CHECK(status.detailsGroup == "authentication.k8s.io");
  REQUIRE(status.causes.size() == 1);
  CHECK(status.causes[0] ==
        rio::meta::StatusCause{"FieldValueInvalid",
                               "Invalid value: 60: may not specify a duration less than 10 minutes",
                               "spec.expirationSeconds"});

  auto tooLong =
      tokenRequestExpiration(request({{"expirationSeconds", (std::int64_t{1} << 32) + 1}}));
  REQUIRE_FALSE(tooLong);
  CHECK(tooLong.error().message().ends_with("may not specify a duration larger than 2^32 seconds"));

  auto notANumber = tokenRequestExpiration(request({{"expirationSeconds", "3600"}}));
  REQUIRE_FALSE(notANumber);
  CHECK(notANumber.error().isBadRequest());
}

TEST_CASE("Tokens: static tokens authenticate their fixed user with system:authenticated added",
          "[testenv][tokens]") {
  auto clock = std::make_shared<rio::testing::FakeClock>();
  auto tokens = makeTokenAuthority(clock);
  UserInfo admin;
  admin.name = "admin";
  admin.groups = {"system:masters"};
  tokens->addStaticToken("static-admin-token", admin);
  auto user = tokens->authenticate("static-admin-token");
  REQUIRE(user);
  CHECK(user->name == "admin");
  CHECK(user->groups == std::vector<std::string>{"system:masters", "system:authenticated"});
  CHECK(user->isAdmin());
  CHECK_FALSE(tokens->authenticate("static-admin-tokenX"));
  clock->advance(24h * 365);
  CHECK(tokens->authenticate("static-admin-token"));  // static tokens do not expire
}
