// The credentials joining produces: bound service-account tokens minted with the TokenRequest
// API, the single-cluster kubeconfigs built around them (what istiod's remote secret and the
// operator's own credentials Secret hold), and the token timing recorded on those Secrets so a
// restarted operator knows when to re-mint. Everything here handles secret material: nothing in
// it logs, and no error message carries a token or a kubeconfig.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "controller/core/clock.h"
#include "controller/kube/client.h"
#include "controller/kube/rest_config.h"

namespace rio::reconcilers::membership {

/// Annotations on the Secrets the membership reconciler writes in the control plane.
/// RFC 3339 expiry of the token in the Secret (the contract with the RemoteIstio side).
inline constexpr char kExpiresAtAnnotation[] = "istio.alibabacloud.com/expires-at";
/// RFC 3339 time the token was minted (the operator's clock).
inline constexpr char kIssuedAtAnnotation[] = "istio.alibabacloud.com/issued-at";
/// The mesh namespace the remote was set up with (operator credentials Secret only): a spec
/// change of spec.meshNamespace means the remote must be set up again.
inline constexpr char kMeshNamespaceAnnotation[] = "istio.alibabacloud.com/mesh-namespace";

/// Where a remote API server is and how to trust it: what every kubeconfig for it carries.
struct RemoteEndpoint {
  std::string server;
  std::string caPem;
  std::string tlsServerName;
  bool insecureSkipVerify = false;

  static RemoteEndpoint of(const kube::RestConfig& config);
  bool operator==(const RemoteEndpoint&) const = default;
};

/// A single-cluster kubeconfig (cluster, user and context all named `cluster`) with CA data and an
/// inline bearer token: the shape istiod accepts in a remote secret. Secret material.
std::string tokenKubeconfig(const std::string& cluster, const RemoteEndpoint& endpoint,
                            const std::string& token);

/// A RestConfig for `endpoint` authenticating with `token`; `origin` names where it came from in
/// messages ("Secret istio-system/remote-istio-operator-cn-beijing").
kube::RestConfig restConfigFor(const RemoteEndpoint& endpoint, const std::string& token,
                               std::string origin, std::chrono::milliseconds timeout);

/// A token minted with TokenRequest.
struct MintedToken {
  std::string token;  // secret
  WallTime issuedAt{};
  WallTime expiresAt{};
};

/// Mints a token for service account `ns/serviceAccount` lasting `ttl` (default audiences, not
/// bound to an object). The expiry is computed on the local clock: `now` (taken before the
/// request) plus the lifetime the server granted (spec.expirationSeconds of the answer), so a
/// remote clock that is off cannot make the operator renew late. Errors are the client's
/// ("create token for ServiceAccount ns/name: ..."), or kDecode when the answer has no token.
Expected<MintedToken> mintToken(kube::Client& client, const std::string& ns,
                                const std::string& serviceAccount, std::chrono::seconds ttl,
                                WallTime now);

/// The token timing recorded on a Secret (kIssuedAtAnnotation, kExpiresAtAnnotation).
struct TokenTiming {
  WallTime issuedAt{};
  WallTime expiresAt{};

  /// When the token should be replaced: `fraction` (0.8) of its lifetime after it was issued.
  WallTime renewAt(double fraction) const;
  /// The lifetime it was minted with.
  std::chrono::seconds lifetime() const;
};
/// The timing annotations of `secret`, or nullopt when missing or unreadable.
std::optional<TokenTiming> timingOf(const nlohmann::json& secret);
/// Writes the timing annotations into a Secret manifest.
void setTiming(nlohmann::json& secret, const TokenTiming& timing);

/// The decoded value of data[key] of a Secret, or nullopt. Secret material.
std::optional<std::string> secretData(const nlohmann::json& secret, const std::string& key);

/// What the operator's credentials Secret holds, read back with the restricted loader.
struct StoredCredentials {
  RemoteEndpoint endpoint;
  std::string token;  // secret
  std::optional<TokenTiming> timing;
  std::string meshNamespace;
};
/// Reads the operator's credentials Secret (data key `kubeconfig`). Errors (kConfig) name the
/// Secret and the problem, never the content.
Expected<StoredCredentials> readStoredCredentials(const nlohmann::json& secret);

}  // namespace rio::reconcilers::membership
