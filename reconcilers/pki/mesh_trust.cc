#include "reconcilers/pki/mesh_trust.h"

namespace rio::pki {
namespace {

constexpr auto kBackdate = std::chrono::minutes(5);  // tolerate clock skew between clusters

}  // namespace

Expected<KeyedCertificate> caFromSecretData(const std::map<std::string, std::string>& data,
                                            const std::string& secretName) {
  auto cert = data.find(kCaCertKey);
  auto key = data.find(kCaKeyKey);
  if (cert == data.end() || cert->second.empty()) {
    return fail(Error::invalid("Secret " + secretName + " has no " + kCaCertKey));
  }
  if (key == data.end() || key->second.empty()) {
    return fail(Error::invalid("Secret " + secretName + " has no " + kCaKeyKey));
  }
  auto info = parseCertificate(cert->second);
  if (!info) return fail(Error::invalid("Secret " + secretName + ": " + kCaCertKey + " is not a PEM certificate"));
  if (!info->isCa) return fail(Error::invalid("Secret " + secretName + ": " + kCaCertKey + " is not a CA certificate"));
  if (!keyMatchesCertificate(cert->second, key->second)) {
    return fail(Error::invalid("Secret " + secretName + ": " + kCaKeyKey + " does not belong to " + kCaCertKey));
  }
  return KeyedCertificate{cert->second, key->second};
}

std::map<std::string, std::string> caToSecretData(const KeyedCertificate& ca) {
  return {{kCaCertKey, ca.certPem}, {kCaKeyKey, ca.keyPem}};
}

Expected<KeyedCertificate> newCa(const std::string& commonName, WallTime now, std::chrono::hours lifetime) {
  CertificateSpec spec;
  spec.commonName = commonName;
  spec.organizations = {"remote-istio-operator"};
  spec.usages = {Usage::kCertSign};
  spec.notBefore = now - kBackdate;
  spec.notAfter = now + lifetime;
  return selfSigned(spec);
}

Expected<ClusterCa> issueClusterCa(const KeyedCertificate& root, const std::string& cluster, WallTime now,
                                   std::chrono::hours lifetime) {
  CertificateSpec spec;
  spec.commonName = "Intermediate CA " + cluster;
  spec.organizations = {"remote-istio-operator"};
  spec.usages = {Usage::kCertSign};
  spec.pathLength = 0;
  spec.notBefore = now - kBackdate;
  spec.notAfter = now + lifetime;
  auto issued = issue(spec, root);
  if (!issued) return fail(issued.error().wrap("issue the intermediate CA of cluster " + cluster));
  ClusterCa out;
  out.intermediate = *issued;
  out.rootCertPem = root.certPem;
  out.certChainPem = issued->certPem + root.certPem;
  return out;
}

std::vector<std::string> webhookDnsNames(const std::string& service, const std::string& ns) {
  return {service, service + "." + ns, service + "." + ns + ".svc", service + "." + ns + ".svc.cluster.local"};
}

Expected<KeyedCertificate> issueWebhookServing(const KeyedCertificate& webhookCa, const std::string& service,
                                               const std::string& ns, WallTime now, std::chrono::hours lifetime) {
  CertificateSpec spec;
  spec.commonName = service + "." + ns + ".svc";
  spec.dnsNames = webhookDnsNames(service, ns);
  spec.usages = {Usage::kServerAuth};
  spec.notBefore = now - kBackdate;
  spec.notAfter = now + lifetime;
  auto issued = issue(spec, webhookCa);
  if (!issued) return fail(issued.error().wrap("issue the webhook serving certificate"));
  return issued;
}

bool needsRenewal(const std::string& certPem, WallTime now) {
  auto info = parseCertificate(certPem);
  if (!info) return true;
  if (now < info->notBefore || now >= info->notAfter) return true;
  auto lifetime = info->notAfter - info->notBefore;
  return info->notAfter - now < lifetime / 3;
}

bool issuedBy(const std::string& certPem, const std::string& caPem, WallTime now, const std::string& dnsName) {
  return verify(certPem, caPem, now, dnsName).has_value();
}

}  // namespace rio::pki
