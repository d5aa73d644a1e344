#include "reconcilers/desired/trust.h"

#include "controller/core/base64.h"

namespace rio::desired {

Manifest cacertsSecret(const TrustParams& p) {
  namespace r = kube::resources;
  nlohmann::json secret = typed(r::kSecrets, objectMeta(p.owner, kCacertsSecret, p.meshNamespace));
  secret["type"] = "Opaque";
  secret["data"] = {{"ca-cert.pem", base64::encode(p.caCertPem)},
                    {"ca-key.pem", base64::encode(p.caKeyPem)},
                    {"root-cert.pem", base64::encode(p.rootCertPem)},
                    {"cert-chain.pem", base64::encode(p.certChainPem)}};
  return {r::kSecrets, secret};
}

}  // namespace rio::desired
