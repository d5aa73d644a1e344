#include "reconcilers/remoteistio/hub_pki.h"

#include "controller/core/base64.h"
#include "reconcilers/desired/labels.h"

namespace rio::reconcilers::remoteistio {
namespace {

using nlohmann::json;
namespace r = kube::resources;

// A CA in the pki::caFromSecretData layout from a Secret that stores it under other keys.
std::map<std::string, std::string> asCaData(const std::map<std::string, std::string>& data,
                                            const std::string& certKey, const std::string& keyKey) {
  std::map<std::string, std::string> out;
  if (auto it = data.find(certKey); it != data.end()) out[pki::kCaCertKey] = it->second;
  if (auto it = data.find(keyKey); it != data.end()) out[pki::kCaKeyKey] = it->second;
  return out;
}

// caFromSecretData names the ca-*.pem keys; say which keys of this Secret were meant.
Expected<pki::KeyedCertificate> parseCa(const json& secret, const std::string& source,
                                        const std::string& certKey, const std::string& keyKey) {
  auto ca = pki::caFromSecretData(asCaData(secretData(secret), certKey, keyKey), source);
  if (!ca) {
    return fail(Error::invalid(source + " does not hold a usable CA in " + certKey + " and " +
                               keyKey + " (" + ca.error().message() + ")"));
  }
  return ca;
}

}  // namespace

std::map<std::string, std::string> secretData(const json& secret) {
  std::map<std::string, std::string> out;
  if (!secret.is_object()) return out;
  auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return out;
  for (const auto& [key, value] : data->items()) {
    if (!value.is_string()) continue;
    auto decoded = base64::decode(value.get<std::string>());
    if (decoded) out[key] = std::move(*decoded);
  }
  return out;
}

HubPki::HubPki(kube::ClientPtr client, cache::InformerPtr secrets, std::string ns,
               pki::TrustLifetimes lifetimes)
    : client_(std::move(client)),
      secrets_(std::move(secrets)),
      ns_(std::move(ns)),
      lifetimes_(lifetimes) {}

std::string HubPki::rootSource(const std::string& userNamespace,
                               const std::optional<std::string>& userSecret) const {
  if (userSecret) return "Secret " + userNamespace + "/" + *userSecret;
  return "Secret " + ns_ + "/" + kMeshRootSecret;
}

Expected<pki::KeyedCertificate> HubPki::webhookCa(WallTime now) {
  return getOrCreate(kWebhookCaSecret, "webhook-ca", pki::kCaCertKey, pki::kCaKeyKey,
                     "remote-istio-operator webhook CA", lifetimes_.webhookCa, /*renew=*/true, now);
}

Expected<pki::KeyedCertificate> HubPki::meshRoot(const std::string& userNamespace,
                                                 const std::optional<std::string>& userSecret,
                                                 WallTime now) {
  if (!userSecret) {
    return getOrCreate(kMeshRootSecret, "mesh-root", kRootCertKey, kRootKeyKey,
                       "remote-istio-operator mesh root CA", lifetimes_.root, /*renew=*/false, now);
  }
  const std::string source = rootSource(userNamespace, userSecret);
  auto got = client_->getIfExists(r::kSecrets, {userNamespace, *userSecret});
  if (!got) return fail(got.error().wrap("read " + source));
  if (!*got) {
    return fail(Error::invalid(source + " (spec.security.cacerts.rootSecretRef) not found"));
  }
  return parseCa(**got, source, kRootCertKey, kRootKeyKey);
}

Expected<pki::KeyedCertificate> HubPki::getOrCreate(
    const std::string& name, const std::string& component, const std::string& certKey,
    const std::string& keyKey, const std::string& commonName, std::chrono::hours lifetime,
    bool renew, WallTime now) {
  std::lock_guard lock(mu_);
  const std::string source = "Secret " + ns_ + "/" + name;
  std::optional<json> live;
  if (auto cached = secrets_ ? secrets_->get({ns_, name}) : nullptr) {
    live = *cached;
  } else {
    // The cache may not have seen our own create yet: ask (only on a miss).
    auto got = client_->getIfExists(r::kSecrets, {ns_, name});
    if (!got) return fail(got.error().wrap("read " + source));
    live = std::move(*got);
  }
  if (live) {
    auto ca = parseCa(*live, source, certKey, keyKey);
    if (ca && !(renew && pki::needsRenewal(ca->certPem, now))) return ca;
    // The operator's own root is never replaced behind the user's back: every remote's trust
    // hangs on it. A broken one is reported (RootCAInvalid) for a person to fix.
    if (!ca && !renew) return ca;
  }

  auto fresh = pki::newCa(commonName, now, lifetime);
  if (!fresh) return fail(fresh.error().wrap("create the CA of " + source));
  json secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata",
       {{"name", name},
        {"namespace", ns_},
        {"labels",
         {{desired::kManagedByLabel, desired::kManagedByValue}, {kComponentLabel, component}}}}},
      {"type", "Opaque"},
      {"data",
       {{certKey, base64::encode(fresh->certPem)}, {keyKey, base64::encode(fresh->keyPem)}}}};
  if (live) {
    secret["metadata"]["resourceVersion"] = (*live)["metadata"].value("resourceVersion", "");
    auto updated = client_->update(r::kSecrets, secret);
    if (!updated) return fail(updated.error().wrap("renew the CA in " + source));
    return *fresh;
  }
  auto created = client_->create(r::kSecrets, secret);
  if (created) return *fresh;
  if (!created.error().isAlreadyExists()) return fail(created.error().wrap("create " + source));
  // Someone else (another worker, another replica during a hand-over) was first: use theirs.
  auto got = client_->get(r::kSecrets, {ns_, name});
  if (!got) return fail(got.error().wrap("read " + source));
  return parseCa(*got, source, certKey, keyKey);
}

}  // namespace rio::reconcilers::remoteistio
