#include "test/testenv/auth.h"

#include <catch2/catch.hpp>

#include "test/support/fake_clock.h"
#include "test/testenv/token_authority.h"

using namespace rio;
using namespace rio::testenv;
using namespace std::chrono_literals;

namespace {

http::ServerRequest withAuthorization(const std::string& value) {
  http::ServerRequest r;
  r.method = "GET";
  r.path = r.target = "/api/v1/namespaces";
  r.headers.push_back({"Authorization", value});
  return r;
}

http::ServerRequest withCertificate(std::string cn, std::vector<std::string> orgs) {
  http::ServerRequest r;
  r.method = "GET";
  r.path = r.target = "/api/v1/namespaces";
  r.peer = http::PeerCertificate{std::move(cn), std::move(orgs)};
  return r;
}

struct Fixture {
  std::shared_ptr<rio::testing::FakeClock> clock = std::make_shared<rio::testing::FakeClock>();
  std::unique_ptr<TokenAuthority> tokens = makeTokenAuthority(clock);
};

}  // namespace

TEST_CASE("Authenticate: a bearer service-account token identifies its service account",
          "[testenv][authn]") {
  Fixture f;
  auto token = f.tokens->issue("demo", "bot", "uid-1", 3600s, {}).token;
  for (const std::string scheme : {"Bearer", "bearer", "BEARER"}) {
    auto user = authenticate(withAuthorization(scheme + " " + token), *f.tokens);
    REQUIRE(user);
    CHECK(user->name == "system:serviceaccount:demo:bot");
    CHECK(user->groups == std::vector<std::string>{"system:serviceaccounts",
                                                   "system:serviceaccounts:demo",
                                                   "system:authenticated"});
  }
  // Header names are case-insensitive; surrounding space is trimmed; a third field is ignored.
  http::ServerRequest lower;
  lower.headers.push_back({"authorization", "  Bearer " + token + "  "});
  CHECK(authenticate(lower, *f.tokens));
  CHECK(authenticate(withAuthorization("Bearer " + token + " trailing"), *f.tokens));
}

TEST_CASE("Authenticate: no usable credentials means 401", "[testenv][authn]") {
  Fixture f;
  auto token = f.tokens->issue("demo", "bot", "uid-1", 3600s, {}).token;
  CHECK_FALSE(authenticate(http::ServerRequest{}, *f.tokens));
  CHECK_FALSE(authenticate(withAuthorization("Bearer not-a-token"), *f.tokens));
  CHECK_FALSE(authenticate(withAuthorization("Basic YWRtaW46YWRtaW4="), *f.tokens));
  CHECK_FALSE(authenticate(withAuthorization("Bearer"), *f.tokens));
  CHECK_FALSE(authenticate(withAuthorization("Bearer  " + token), *f.tokens));  // empty first token
  CHECK_FALSE(authenticate(withAuthorization(token), *f.tokens));
}

TEST_CASE("Authenticate: an expired or revoked token is 401", "[testenv][authn]") {
  Fixture f;
  auto issued = f.tokens->issue("demo", "bot", "uid-1", 600s, {});
  auto req = withAuthorization("Bearer " + issued.token);
  CHECK(authenticate(req, *f.tokens));
  f.clock->advance(600s + kTokenLeeway + 1s);
  CHECK_FALSE(authenticate(req, *f.tokens));

  auto fresh = f.tokens->issue("demo", "bot", "uid-1", 600s, {});
  f.tokens->revokeServiceAccount("uid-1");
  CHECK_FALSE(authenticate(withAuthorization("Bearer " + fresh.token), *f.tokens));
}

TEST_CASE("Authenticate: a verified client certificate maps CN to the user and O to groups",
          "[testenv][authn]") {
  Fixture f;
  auto user = authenticate(withCertificate("alice", {"dev", "ops"}), *f.tokens);
  REQUIRE(user);
  CHECK(user->name == "alice");
  CHECK(user->groups == std::vector<std::string>{"dev", "ops", "system:authenticated"});
  CHECK(user->serviceAccountName.empty());
  CHECK_FALSE(user->isAdmin());

  auto admin = authenticate(withCertificate("kubernetes-admin", {"system:masters"}), *f.tokens);
  REQUIRE(admin);
  CHECK(admin->isAdmin());
}

TEST_CASE("Authenticate: a certificate without a CN falls through to the bearer token",
          "[testenv][authn]") {
  Fixture f;
  auto token = f.tokens->issue("demo", "bot", "uid-1", 3600s, {}).token;
  auto req = withCertificate("", {"system:masters"});
  CHECK_FALSE(authenticate(req, *f.tokens));
  req.headers.push_back({"Authorization", "Bearer " + token});
  auto user = authenticate(req, *f.tokens);
  REQUIRE(user);
  CHECK(user->name == "system:serviceaccount:demo:bot");
  CHECK_FALSE(user->isAdmin());
}

TEST_CASE(
    "Authenticate: like kube-apiserver, the client certificate is tried before the bearer token",
    "[testenv][authn]") {
  // kube-apiserver unions [x509, bearer token] without failing on error: a verified certificate
  // authenticates the request whatever Authorization header comes with it.
  Fixture f;
  auto req = withCertificate("alice", {"dev"});
  req.headers.push_back({"Authorization", "Bearer not-a-token"});
  auto user = authenticate(req, *f.tokens);
  REQUIRE(user);
  CHECK(user->name == "alice");

  auto token = f.tokens->issue("demo", "bot", "uid-1", 3600s, {}).token;
  auto both = withCertificate("alice", {"dev"});
  both.headers.push_back({"Authorization", "Bearer " + token});
  CHECK(authenticate(both, *f.tokens)->name == "alice");
}
