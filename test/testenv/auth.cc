// Request authentication as kube-apiserver chains it (pkg/kubeapiserver/authenticator/config.go):
// the x509 client-certificate authenticator first, then the bearer-token authenticator, in a
// union that keeps going past a failing authenticator; the authenticated-group adder on top.
// So a verified client certificate with a CN wins even if a bad bearer token is also sent, and
// without one an invalid token is a 401 (anonymous access is not offered).
#include <algorithm>
#include <cctype>

#include "test/testenv/auth.h"
#include "test/testenv/rbac_authorizer.h"

namespace rio::testenv {
namespace {

void addAuthenticatedGroup(UserInfo& user) {
  // group.AuthenticatedGroupAdder leaves users that already carry it alone.
  for (const auto& g : user.groups) {
    if (g == kGroupAuthenticated || g == "system:unauthenticated") return;
  }
  user.groups.emplace_back(kGroupAuthenticated);
}

std::string_view trimSpace(std::string_view s) {
  auto isSpace = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// bearertoken.Authenticator: strings.SplitN(TrimSpace(header), " ", 3); the scheme compared
// case-insensitively; an empty token ("Bearer  x") is no credential at all.
std::optional<std::string> bearerToken(const http::ServerRequest& request) {
  auto header = request.header("Authorization");
  if (!header) return std::nullopt;
  std::string_view auth = trimSpace(*header);
  if (auth.empty()) return std::nullopt;
  auto space = auth.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string scheme(auth.substr(0, space));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "bearer") return std::nullopt;
  std::string_view rest = auth.substr(space + 1);
  std::string_view token = rest.substr(0, rest.find(' '));
  if (token.empty()) return std::nullopt;
  return std::string(token);
}

}  // namespace

std::optional<UserInfo> authenticate(const http::ServerRequest& request, TokenAuthority& tokens) {
  // x509.CommonNameUserConversion: a certificate without a CN authenticates nobody.
  if (request.peer && !request.peer->commonName.empty()) {
    UserInfo user;
    user.name = request.peer->commonName;
    user.groups = request.peer->organizations;
    addAuthenticatedGroup(user);
    return user;
  }
  auto token = bearerToken(request);
  if (!token) return std::nullopt;
  auto user = tokens.authenticate(*token);
  if (!user) return std::nullopt;
  addAuthenticatedGroup(*user);
  return user;
}

}  // namespace rio::testenv
