// Mesh trust in a remote cluster: the `cacerts` Secret Istio's CA reads (a per-cluster intermediate
// CA signed by the mesh root). The root's private key is never part of it. Pure function.
#pragma once

#include <string>

#include "reconcilers/desired/labels.h"
#include "reconcilers/desired/manifest.h"

namespace rio::desired {

inline constexpr char kCacertsSecret[] = "cacerts";

struct TrustParams {
  Owner owner;
  std::string meshNamespace = "istio-system";
  std::string caCertPem;     // the cluster's intermediate CA certificate
  std::string caKeyPem;      // its private key (secret material)
  std::string rootCertPem;   // the mesh root certificate (no key)
  std::string certChainPem;  // intermediate followed by the root
};

Manifest cacertsSecret(const TrustParams& params);

}  // namespace rio::desired
