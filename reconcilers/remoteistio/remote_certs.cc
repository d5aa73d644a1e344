#include "reconcilers/remoteistio/remote_certs.h"

#include "reconcilers/desired/injector.h"
#include "reconcilers/remoteistio/hub_pki.h"

namespace rio::reconcilers::remoteistio {
namespace {

std::string valueOf(const std::map<std::string, std::string>& data, const std::string& key) {
  auto it = data.find(key);
  return it == data.end() ? std::string() : it->second;
}

}  // namespace

std::string webhookHostName(const std::string& ns) {
  return std::string(desired::kInjectorName) + "." + ns + ".svc";
}

Expected<pki::KeyedCertificate> servingCertificate(const nlohmann::json* liveSecret,
                                                   const pki::KeyedCertificate& webhookCa,
                                                   const std::string& ns, WallTime now,
                                                   std::chrono::hours lifetime) {
  if (liveSecret) {
    auto data = secretData(*liveSecret);
    pki::KeyedCertificate live{valueOf(data, "cert-chain.pem"), valueOf(data, "key.pem")};
    if (!live.certPem.empty() && valueOf(data, "root-cert.pem") == webhookCa.certPem &&
        pki::issuedBy(live.certPem, webhookCa.certPem, now, webhookHostName(ns)) &&
        !pki::needsRenewal(live.certPem, now) &&
        pki::keyMatchesCertificate(live.certPem, live.keyPem)) {
      return live;
    }
  }
  return pki::issueWebhookServing(webhookCa, desired::kInjectorName, ns, now, lifetime);
}

Expected<pki::ClusterCa> clusterCa(const nlohmann::json* liveCacerts,
                                   const pki::KeyedCertificate& root, const std::string& cluster,
                                   WallTime now, std::chrono::hours lifetime) {
  if (liveCacerts) {
    auto data = secretData(*liveCacerts);
    pki::ClusterCa live;
    live.intermediate = {valueOf(data, "ca-cert.pem"), valueOf(data, "ca-key.pem")};
    live.rootCertPem = valueOf(data, "root-cert.pem");
    live.certChainPem = valueOf(data, "cert-chain.pem");
    if (!live.intermediate.certPem.empty() && live.rootCertPem == root.certPem &&
        live.certChainPem == live.intermediate.certPem + root.certPem &&
        pki::issuedBy(live.intermediate.certPem, root.certPem, now) &&
        !pki::needsRenewal(live.intermediate.certPem, now) &&
        pki::keyMatchesCertificate(live.intermediate.certPem, live.intermediate.keyPem)) {
      return live;
    }
  }
  return pki::issueClusterCa(root, cluster, now, lifetime);
}

std::optional<WallTime> renewalTime(const std::string& certPem) {
  auto info = pki::parseCertificate(certPem);
  if (!info) return std::nullopt;
  auto lifetime = info->notAfter - info->notBefore;
  return info->notAfter - lifetime / 3;
}

}  // namespace rio::reconcilers::remoteistio
