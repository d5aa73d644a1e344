// The certificate authorities the operator keeps in the control-plane cluster: the webhook CA that
// signs every remote sidecar injector's serving certificate, and the mesh root that signs each
// remote's intermediate CA (the operator's own, or one the user supplies with
// spec.security.cacerts.rootSecretRef). Private keys of these CAs never leave the control plane:
// remotes receive only certificates signed by them (and their own leaf or intermediate keys).
//
// Storage: Secrets in the operator's mesh namespace, labelled app.kubernetes.io/managed-by so the
// operator's label-selected Secret informer caches them (reads cost no request). Creation is a
// POST (AlreadyExists when another worker or replica won: its Secret is read and used);
// replacement is an update carrying the resourceVersion that was read.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "api/meta/error.h"
#include "controller/cache/informer.h"
#include "controller/core/clock.h"
#include "controller/kube/client.h"
#include "reconcilers/pki/mesh_trust.h"

namespace rio::reconcilers::remoteistio {

/// The Secret holding the webhook CA (keys ca-cert.pem, ca-key.pem).
inline constexpr char kWebhookCaSecret[] = "remote-istio-webhook-ca";
/// The Secret holding the operator's own mesh root (keys root-cert.pem, root-key.pem, the format a
/// user's rootSecretRef Secret has too).
inline constexpr char kMeshRootSecret[] = "remote-istio-mesh-root-ca";
inline constexpr char kRootCertKey[] = "root-cert.pem";
inline constexpr char kRootKeyKey[] = "root-key.pem";
/// Label telling the operator's control-plane Secrets apart.
inline constexpr char kComponentLabel[] = "istio.alibabacloud.com/component";

/// Thread-safety: thread-safe; creation and replacement are serialised by one mutex (hub-local
/// requests only, never a remote cluster's).
class HubPki {
 public:
  /// `client` writes to the control plane; `secrets` caches the operator's Secrets in `ns`
  /// (label-selected on app.kubernetes.io/managed-by).
  HubPki(kube::ClientPtr client, cache::InformerPtr secrets, std::string ns,
         pki::TrustLifetimes lifetimes);

  /// The webhook CA: read from the cache; created when absent; replaced when it does not parse
  /// or needs renewal (every serving certificate is then re-issued by the reconcilers, since it no
  /// longer chains to the CA). Errors: the control plane's, wrapped with the Secret's name.
  Expected<pki::KeyedCertificate> webhookCa(WallTime now);

  /// The mesh root: the user's Secret `userSecret` in `userNamespace` when given (read with a GET:
  /// user Secrets are not cached; kInvalid when missing or unusable, message naming the Secret and
  /// key but never the content), else the operator's own, created once and never rotated
  /// (rotating a root breaks trust across the mesh: that is the user's decision).
  Expected<pki::KeyedCertificate> meshRoot(const std::string& userNamespace,
                                           const std::optional<std::string>& userSecret,
                                           WallTime now);

  /// "Secret <ns>/<name>" of the root in effect, for messages.
  std::string rootSource(const std::string& userNamespace,
                         const std::optional<std::string>& userSecret) const;

 private:
  Expected<pki::KeyedCertificate> getOrCreate(const std::string& name, const std::string& component,
                                              const std::string& certKey, const std::string& keyKey,
                                              const std::string& commonName,
                                              std::chrono::hours lifetime, bool renew,
                                              WallTime now);

  const kube::ClientPtr client_;
  const cache::InformerPtr secrets_;
  const std::string ns_;
  const pki::TrustLifetimes lifetimes_;
  std::mutex mu_;  // serialises get-or-create
};

/// The decoded `data` of a Secret (base64 values decoded; undecodable entries skipped).
std::map<std::string, std::string> secretData(const nlohmann::json& secret);

}  // namespace rio::reconcilers::remoteistio
