#include "controller/kube/rest_config.h"

namespace rio::kube {

std::string RestConfig::describe() const {
  std::string out = "server=" + (server.empty() ? std::string("<none>") : server);
  if (!origin.empty()) out += " origin=" + origin;

  std::string auth;
  const auto add = [&auth](std::string_view method) {
    if (!auth.empty()) auth += '+';
    auth += method;
  };
  if (token) {
    if (const auto* file = dynamic_cast<const FileTokenSource*>(token.get())) {
      add("token-file:" + file->path());
    } else {
      add("bearer-token");
    }
  }
  if (!tls.clientCertPem.empty()) add("client-certificate");
  if (!username.empty() || !password.empty()) add("basic-auth");
  out += " auth=" + (auth.empty() ? std::string("none") : auth);

  if (tls.insecureSkipVerify) {
    out += " tls=insecure-skip-verify";
  } else {
    out += tls.caPem.empty() ? " tls=system-roots" : " tls=custom-ca";
  }
  if (!tls.serverName.empty()) out += " tls-server-name=" + tls.serverName;
  return out;
}

}  // namespace rio::kube
