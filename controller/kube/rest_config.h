// Everything needed to talk to one API server, as resolved from a kubeconfig context, the in-cluster
// service-account mount, or a Secret. Holds credentials: use describe() for logs and messages.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "api/meta/error.h"
#include "controller/kube/token_source.h"
#include "controller/kube/transport.h"

namespace rio::kube {

struct RestConfig {
  std::string server;  // "https://host:port[/prefix]"
  TlsConfig tls;
  /// Bearer token provider (inline token, token file re-read on change, or rotated in memory).
  /// Null when the user authenticates with a client certificate or basic auth only.
  TokenSourcePtr token;
  std::string username;  // basic auth
  std::string password;  // basic auth
  /// Where this came from, for messages: "kubeconfig context kind-hub", "in-cluster", "Secret a/b".
  std::string origin;
  std::string userAgent = "remote-istio-operator";
  double qps = 0;    // client-side rate limit; 0 = none
  int burst = 0;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // per request

  /// A one-line summary safe to log: server, origin, auth method — never the secret values.
  std::string describe() const;
};

}  // namespace rio::kube
