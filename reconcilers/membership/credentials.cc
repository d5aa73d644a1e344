#include "reconcilers/membership/credentials.h"

#include "api/meta/time.h"
#include "controller/core/base64.h"
#include "controller/kube/kubeconfig.h"

namespace rio::reconcilers::membership {

RemoteEndpoint RemoteEndpoint::of(const kube::RestConfig& config) {
  return {config.server, config.tls.caPem, config.tls.serverName, config.tls.insecureSkipVerify};
}

std::string tokenKubeconfig(const std::string& cluster, const RemoteEndpoint& endpoint,
                            const std::string& token) {
  kube::Kubeconfig config = kube::singleClusterKubeconfig(cluster, endpoint.server, endpoint.caPem, token);
  auto& c = config.clusters[cluster];
  c.tlsServerName = endpoint.tlsServerName;
  c.insecureSkipTlsVerify = endpoint.insecureSkipVerify && endpoint.caPem.empty();
  return kube::renderKubeconfig(config);
}

kube::RestConfig restConfigFor(const RemoteEndpoint& endpoint, const std::string& token,
                               std::string origin, std::chrono::milliseconds timeout) {
  kube::RestConfig config;
  config.server = endpoint.server;
  config.tls.caPem = endpoint.caPem;
  config.tls.serverName = endpoint.tlsServerName;
  config.tls.insecureSkipVerify = endpoint.insecureSkipVerify;
  config.token = std::make_shared<kube::StaticTokenSource>(token);
  config.origin = std::move(origin);
  config.timeout = timeout;
  return config;
}

Expected<MintedToken> mintToken(kube::Client& client, const std::string& ns,
                                const std::string& serviceAccount, std::chrono::seconds ttl,
                                WallTime now) {
  nlohmann::json request = {{"apiVersion", "authentication.k8s.io/v1"},
                            {"kind", "TokenRequest"},
                            {"spec", {{"expirationSeconds", ttl.count()}}}};
  auto answer = client.createSubresource(kube::resources::kServiceAccounts, {ns, serviceAccount}, "token", request);
  if (!answer) return fail(answer.error());
  const auto& status = answer->value("status", nlohmann::json::object());
  std::string token = status.is_object() ? status.value("token", "") : "";
  if (token.empty()) {
    return fail(Error::decode("create token for ServiceAccount " + ns + "/" + serviceAccount +
                              ": the answer holds no token"));
  }
  std::chrono::seconds granted = ttl;
  const auto& spec = answer->value("spec", nlohmann::json::object());
  if (spec.is_object()) {
    if (auto it = spec.find("expirationSeconds"); it != spec.end() && it->is_number_integer()) {
      granted = std::chrono::seconds(it->get<long long>());
    }
  }
  MintedToken minted;
  minted.token = std::move(token);
  minted.issuedAt = now;
  minted.expiresAt = now + granted;
  return minted;
}

WallTime TokenTiming::renewAt(double fraction) const {
  auto life = expiresAt - issuedAt;
  return issuedAt + std::chrono::duration_cast<WallTime::duration>(life * fraction);
}

std::chrono::seconds TokenTiming::lifetime() const {
  return std::chrono::duration_cast<std::chrono::seconds>(expiresAt - issuedAt);
}

std::optional<TokenTiming> timingOf(const nlohmann::json& secret) {
  if (!secret.is_object()) return std::nullopt;
  const auto md = secret.value("metadata", nlohmann::json::object());
  if (!md.is_object()) return std::nullopt;
  const auto annotations = md.value("annotations", nlohmann::json::object());
  if (!annotations.is_object()) return std::nullopt;
  auto issued = meta::parseTime(annotations.value(kIssuedAtAnnotation, ""));
  auto expires = meta::parseTime(annotations.value(kExpiresAtAnnotation, ""));
  if (!issued || !expires || *expires <= *issued) return std::nullopt;
  return TokenTiming{*issued, *expires};
}

void setTiming(nlohmann::json& secret, const TokenTiming& timing) {
  auto& annotations = secret["metadata"]["annotations"];
  annotations[kIssuedAtAnnotation] = meta::formatTime(timing.issuedAt);
  annotations[kExpiresAtAnnotation] = meta::formatTime(timing.expiresAt);
}

std::optional<std::string> secretData(const nlohmann::json& secret, const std::string& key) {
  auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return std::nullopt;
  auto it = data->find(key);
  if (it == data->end() || !it->is_string()) return std::nullopt;
  auto decoded = base64::decode(it->get<std::string>());
  if (!decoded) return std::nullopt;
  return *decoded;
}

Expected<StoredCredentials> readStoredCredentials(const nlohmann::json& secret) {
  const auto md = secret.is_object() ? secret.value("metadata", nlohmann::json::object()) : nlohmann::json::object();
  std::string source = md.is_object() ? "Secret " + md.value("namespace", "") + "/" + md.value("name", "") : "Secret";
  auto kubeconfig = secretData(secret, "kubeconfig");
  if (!kubeconfig) return fail(Error::config(source + ": no readable data key \"kubeconfig\""));
  auto config = kube::restConfigFromUntrustedKubeconfig(*kubeconfig, source);
  if (!config) return fail(config.error());
  if (!config->token) return fail(Error::config(source + ": the kubeconfig holds no token"));
  auto token = config->token->token();
  if (!token || token->empty()) return fail(Error::config(source + ": the kubeconfig holds no token"));
  StoredCredentials stored;
  stored.endpoint = RemoteEndpoint::of(*config);
  stored.token = *token;
  stored.timing = timingOf(secret);
  if (md.is_object()) {
    const auto annotations = md.value("annotations", nlohmann::json::object());
    if (annotations.is_object()) stored.meshNamespace = annotations.value(kMeshNamespaceAnnotation, "");
  }
  return stored;
}

}  // namespace rio::reconcilers::membership
