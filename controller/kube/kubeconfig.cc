#include "controller/kube/kubeconfig.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <unordered_map>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "controller/core/base64.h"
#include "controller/core/logging.h"
#include "controller/pki/openssl_util.h"

namespace rio::kube {
namespace fs = std::filesystem;

namespace {

// Kubeconfigs are a few KiB; this only stops a path to a device or a huge file from being slurped.
constexpr std::size_t kMaxFileBytes = 16u << 20;

// Values quoted in messages come from untrusted documents: escaped as JSON strings (control bytes
// and invalid UTF-8 made visible) and cut at 128 bytes, so a message stays one readable line.
std::string quote(std::string_view s) {
  constexpr std::size_t kMaxShown = 128;
  std::string shown(s.substr(0, kMaxShown));
  if (s.size() > kMaxShown) shown += "...";
  return nlohmann::json(shown).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

template <class Map>
std::string keyList(const Map& map) {
  if (map.empty()) return "none";
  std::vector<std::string> names;
  for (const auto& [k, v] : map) names.push_back(quote(k));
  return joinNames(names);
}

/// Reads a whole file; the message names `what` and the path, never the content.
Expected<std::string> readFile(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return fail(
        Error::config("cannot read " + std::string(what) + " " + path + ": is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return fail(
        Error::config("cannot read " + std::string(what) + " " + path + ": " + std::strerror(err)));
  }
  std::string content;
  char buf[64 * 1024];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    content.append(buf, static_cast<std::size_t>(in.gcount()));
    if (content.size() > kMaxFileBytes) {
      return fail(Error::config(std::string(what) + " " + path + " is larger than 16 MiB"));
    }
  }
  if (in.bad()) {
    return fail(Error::config("cannot read " + std::string(what) + " " + path + ": read failed"));
  }
  return content;
}

std::string resolvePath(const std::string& baseDir, const std::string& path) {
  if (path.empty() || baseDir.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(baseDir) / path).lexically_normal().string();
}

bool looksLikePemCertificate(std::string_view pem) {
  return pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos;
}

bool looksLikePemKey(std::string_view pem) {
  return pem.find("-----BEGIN") != std::string_view::npos &&
         pem.find("PRIVATE KEY-----") != std::string_view::npos;
}

std::string prefix(const std::string& source) { return source.empty() ? "kubeconfig" : source; }

// ---------------------------------------------------------------------------------------------
// Parsing. yaml-cpp throws; everything here is called inside one try block in parseKubeconfig.

class Parser {
 public:
  Parser(std::string source, std::string baseDir, KubeconfigTrust trust)
      : source_(std::move(source)), baseDir_(std::move(baseDir)), trust_(trust) {}

  Expected<Kubeconfig> parse(const YAML::Node& root) {
    Kubeconfig out;
    out.source = source_;
    if (!root.IsDefined() || root.IsNull()) return out;  // empty file: empty config, as kubectl
    if (!root.IsMap())
      return fail(err("the document must be a map (apiVersion, kind, clusters, ...)"));

    auto kind = str(root, "kind", "kind");
    if (!kind) return fail(kind.error());
    if (!kind->empty() && *kind != "Config") {
      return fail(err("kind is " + quote(*kind) + ", expected \"Config\""));
    }
    auto apiVersion = str(root, "apiVersion", "apiVersion");
    if (!apiVersion) return fail(apiVersion.error());
    if (!apiVersion->empty() && *apiVersion != "v1") {
      return fail(err("apiVersion is " + quote(*apiVersion) + ", expected \"v1\""));
    }
    auto current = str(root, "current-context", "current-context");
    if (!current) return fail(current.error());
    out.currentContext = *current;

    if (auto ok = entries(root, "clusters", "cluster", out.clusters,
                          [this](const YAML::Node& n, const std::string& name,
                                 Kubeconfig::Cluster& c) { return cluster(n, name, c); });
        !ok) {
      return fail(ok.error());
    }
    if (auto ok = entries(root, "users", "user", out.users,
                          [this](const YAML::Node& n, const std::string& name,
                                 Kubeconfig::User& u) { return user(n, name, u); });
        !ok) {
      return fail(ok.error());
    }
    if (auto ok = entries(root, "contexts", "context", out.contexts,
                          [this](const YAML::Node& n, const std::string& name,
                                 Kubeconfig::Context& c) { return context(n, name, c); });
        !ok) {
      return fail(ok.error());
    }
    return out;
  }

 private:
  Error err(const std::string& message) const { return Error::config(source_ + ": " + message); }

  /// A string field; absent or null is empty. Never echoes the value in errors.
  Expected<std::string> str(const YAML::Node& map, const char* key,
                            const std::string& field) const {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return std::string();
    if (!n.IsScalar()) return fail(err(field + " must be a string"));
    return n.Scalar();
  }

  Expected<bool> boolean(const YAML::Node& map, const char* key, const std::string& field) const {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return false;
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
      return fail(err(field + " must be true or false"));
    }
    return value;
  }

  /// A `*-data` field: base64 in the file, decoded PEM in memory.
  Expected<std::string> data(const YAML::Node& map, const char* key,
                             const std::string& field) const {
    auto text = str(map, key, field);
    if (!text) return text;
    auto decoded = base64::decode(*text);
    if (!decoded)
      return fail(err(field + " is not valid base64 (" + decoded.error().message() + ")"));
    return decoded;
  }

  /// A file path field: refused under kRestricted, resolved against baseDir under kLocal.
  Expected<std::string> path(const YAML::Node& map, const char* key,
                             const std::string& field) const {
    auto p = str(map, key, field);
    if (!p || p->empty()) return p;
    if (trust_ == KubeconfigTrust::kRestricted) {
      return fail(err(field + " refers to a file, which is not allowed in a kubeconfig from an "
                              "untrusted source (inline data only)"));
    }
    return resolvePath(baseDir_, *p);
  }

  static bool has(const YAML::Node& map, const char* key) {
    const YAML::Node n = map[key];
    return n.IsDefined() && !n.IsNull();
  }

  /// Reads a named list (`clusters`, `users`, `contexts`) into `out`; a repeated name is an error
  /// (client-go's conversion refuses it too).
  template <class T, class Fn>
  Expected<void> entries(const YAML::Node& root, const char* list, const char* item,
                         std::map<std::string, T>& out, Fn&& read) const {
    const YAML::Node seq = root[list];
    if (!seq.IsDefined() || seq.IsNull()) return {};
    if (!seq.IsSequence()) {
      return fail(err(std::string(list) + " must be a list of {name, " + item + "} entries"));
    }
    for (std::size_t i = 0; i < seq.size(); ++i) {
      const YAML::Node entry = seq[i];
      const std::string at = std::string(list) + "[" + std::to_string(i) + "]";
      if (!entry.IsMap()) return fail(err(at + " must be a map with name and " + item));
      auto name = str(entry, "name", at + ".name");
      if (!name) return fail(name.error());
      if (name->empty()) return fail(err(at + " has no name"));
      if (out.count(*name))
        return fail(err(at + ": " + item + " " + quote(*name) + " is defined twice"));
      const YAML::Node body = entry[item];
      T value;
      if (body.IsDefined() && !body.IsNull()) {
        if (!body.IsMap()) {
          return fail(err(std::string(item) + " " + quote(*name) + ": " + list + "[]." + item +
                          " must be a map"));
        }
        if (auto ok = read(body, *name, value); !ok) return fail(ok.error());
      }
      value.source = source_;
      out.emplace(*name, std::move(value));
    }
    return {};
  }

  Expected<void> cluster(const YAML::Node& n, const std::string& name,
                         Kubeconfig::Cluster& c) const {
    const std::string at = "cluster " + quote(name) + ": clusters[].cluster.";
    auto server = str(n, "server", at + "server");
    if (!server) return fail(server.error());
    c.server = *server;
    auto ca = path(n, "certificate-authority", at + "certificate-authority");
    if (!ca) return fail(ca.error());
    c.certificateAuthority = *ca;
    auto caData = data(n, "certificate-authority-data", at + "certificate-authority-data");
    if (!caData) return fail(caData.error());
    c.certificateAuthorityData = *caData;
    auto serverName = str(n, "tls-server-name", at + "tls-server-name");
    if (!serverName) return fail(serverName.error());
    c.tlsServerName = *serverName;
    auto insecure = boolean(n, "insecure-skip-tls-verify", at + "insecure-skip-tls-verify");
    if (!insecure) return fail(insecure.error());
    c.insecureSkipTlsVerify = *insecure;
    auto proxy = str(n, "proxy-url", at + "proxy-url");
    if (!proxy) return fail(proxy.error());
    c.proxyUrl = *proxy;
    return {};
  }

  Expected<void> user(const YAML::Node& n, const std::string& name, Kubeconfig::User& u) const {
    const std::string who = "user " + quote(name);
    const std::string at = who + ": users[].user.";
    u.hasExec = has(n, "exec");
    u.hasAuthProvider = has(n, "auth-provider");
    if (u.hasAuthProvider) {
      const YAML::Node provider = n["auth-provider"];
      if (!provider.IsMap()) return fail(err(at + "auth-provider must be a map"));
      auto providerName = str(provider, "name", at + "auth-provider.name");
      if (!providerName) return fail(providerName.error());
      u.authProviderName = *providerName;
    }
    for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
      if (has(n, key)) u.hasImpersonation = true;
    }
    if (trust_ == KubeconfigTrust::kRestricted) {
      // istiod's rule for remote secrets: nothing that runs code or reads the local disk.
      if (u.hasExec) return fail(err(execMessage(name)));
      if (u.hasAuthProvider) return fail(err(authProviderMessage(name, u.authProviderName)));
    }

    auto token = str(n, "token", at + "token");
    if (!token) return fail(token.error());
    u.token = *token;
    auto tokenFile = path(n, "tokenFile", at + "tokenFile");
    if (!tokenFile) return fail(tokenFile.error());
    u.tokenFile = *tokenFile;
    auto cert = path(n, "client-certificate", at + "client-certificate");
    if (!cert) return fail(cert.error());
    u.clientCertificate = *cert;
    auto certData = data(n, "client-certificate-data", at + "client-certificate-data");
    if (!certData) return fail(certData.error());
    u.clientCertificateData = *certData;
    auto key = path(n, "client-key", at + "client-key");
    if (!key) return fail(key.error());
    u.clientKey = *key;
    auto keyData = data(n, "client-key-data", at + "client-key-data");
    if (!keyData) return fail(keyData.error());
    u.clientKeyData = *keyData;
    auto username = str(n, "username", at + "username");
    if (!username) return fail(username.error());
    u.username = *username;
    auto password = str(n, "password", at + "password");
    if (!password) return fail(password.error());
    u.password = *password;
    return {};
  }

  Expected<void> context(const YAML::Node& n, const std::string& name,
                         Kubeconfig::Context& c) const {
    const std::string at = "context " + quote(name) + ": contexts[].context.";
    auto clusterName = str(n, "cluster", at + "cluster");
    if (!clusterName) return fail(clusterName.error());
    c.cluster = *clusterName;
    auto userName = str(n, "user", at + "user");
    if (!userName) return fail(userName.error());
    c.user = *userName;
    auto ns = str(n, "namespace", at + "namespace");
    if (!ns) return fail(ns.error());
    c.ns = *ns;
    return {};
  }

 public:
  static std::string execMessage(const std::string& user) {
    return "user " + quote(user) +
           " uses exec credential plugins (users[].user.exec), which this client does not run";
  }
  static std::string authProviderMessage(const std::string& user, const std::string& provider) {
    return "user " + quote(user) + " uses the " + quote(provider.empty() ? "unnamed" : provider) +
           " auth-provider plugin (users[].user.auth-provider), which this client does not "
           "support; use a token or a client certificate";
  }

 private:
  const std::string source_;
  const std::string baseDir_;
  const KubeconfigTrust trust_;
};

// ---------------------------------------------------------------------------------------------
// Resolving a context.

/// Checks a server URL the way the transport will read it; the normalised URL has no trailing
/// slash. Never echoes a URL that carries user credentials.
Expected<std::string> checkServer(const std::string& server, const std::string& at) {
  const bool hasUserInfo = server.find('@') != std::string::npos;
  const std::string shown = hasUserInfo ? std::string("<redacted>") : quote(server);
  const auto sep = server.find("://");
  if (sep == std::string::npos) {
    return fail(Error::config(at + " " + shown + " has no scheme (write it as https://host:port)"));
  }
  std::string scheme = server.substr(0, sep);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (scheme != "https" && scheme != "http") {
    return fail(Error::config(at + " " + shown + " has scheme " + quote(scheme) +
                              "; only https:// (or http:// for local tests) is supported"));
  }
  const std::string rest = server.substr(sep + 3);
  const auto authorityEnd = rest.find_first_of("/?#");
  const std::string authority = rest.substr(0, authorityEnd);
  if (hasUserInfo && authority.find('@') != std::string::npos) {
    return fail(Error::config(at + " must not contain user credentials (use users[].user)"));
  }
  if (authorityEnd != std::string::npos && rest.find_first_of("?#") != std::string::npos) {
    return fail(Error::config(at + " " + shown + " must not have a query or fragment"));
  }
  std::string host;
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      return fail(Error::config(at + " " + shown + " has an unterminated IPv6 address"));
    }
    host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail(Error::config(at + " " + shown + " is not a valid URL"));
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string::npos && authority.find(':', colon + 1) != std::string::npos) {
      return fail(Error::config(at + " " + shown + " has an IPv6 address without [brackets]"));
    }
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (host.empty()) return fail(Error::config(at + " " + shown + " has no host"));
  if (!port.empty() || authority.back() == ':') {
    const bool digits =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](unsigned char ch) { return std::isdigit(ch); });
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return fail(Error::config(at + " " + shown + " has an invalid port"));
    }
  }
  std::string normalised = scheme + "://" + rest;
  while (normalised.size() > scheme.size() + 3 + authority.size() && normalised.back() == '/') {
    normalised.pop_back();
  }
  return normalised;
}

Expected<void> resolveCluster(const std::string& name, const Kubeconfig::Cluster& c,
                              const std::string& origin, RestConfig& out) {
  const std::string src = prefix(c.source) + ": cluster " + quote(name);
  const std::string at = src + ": clusters[].cluster.";
  if (c.server.empty())
    return fail(Error::config(src + " has no server (clusters[].cluster.server)"));
  auto server = checkServer(c.server, at + "server");
  if (!server) return fail(server.error());
  out.server = *server;
  if (!c.proxyUrl.empty()) {
    return fail(Error::config(src + " sets proxy-url (clusters[].cluster.proxy-url), which this "
                                    "client does not support"));
  }
  if (!c.certificateAuthority.empty() && !c.certificateAuthorityData.empty()) {
    return fail(Error::config(src + " sets both certificate-authority and "
                                    "certificate-authority-data (clusters[].cluster); keep one"));
  }
  const bool hasCa = !c.certificateAuthority.empty() || !c.certificateAuthorityData.empty();
  if (hasCa && c.insecureSkipTlsVerify) {
    return fail(Error::config(src + " sets both insecure-skip-tls-verify and a certificate "
                                    "authority (clusters[].cluster); kubectl refuses this too"));
  }
  if (!c.certificateAuthority.empty()) {
    auto pem = readFile(c.certificateAuthority, "certificate-authority file");
    if (!pem) return fail(pem.error().wrap(at + "certificate-authority"));
    if (!looksLikePemCertificate(*pem)) {
      return fail(Error::config(at + "certificate-authority: file " + c.certificateAuthority +
                                " holds no PEM certificate"));
    }
    out.tls.caPem = std::move(*pem);
  } else if (!c.certificateAuthorityData.empty()) {
    if (!looksLikePemCertificate(c.certificateAuthorityData)) {
      return fail(Error::config(at + "certificate-authority-data holds no PEM certificate"));
    }
    out.tls.caPem = c.certificateAuthorityData;
  }
  out.tls.serverName = c.tlsServerName;
  out.tls.insecureSkipVerify = c.insecureSkipTlsVerify;
  if (c.insecureSkipTlsVerify) {
    log::root().warn("TLS certificate verification is disabled by insecure-skip-tls-verify",
                     {{"origin", origin}, {"cluster", name}, {"server", out.server}});
  }
  return {};
}

Expected<void> resolveUser(const std::string& name, const Kubeconfig::User& u, RestConfig& out) {
  const std::string src = prefix(u.source) + ": user " + quote(name);
  const std::string at = src + ": users[].user.";
  if (u.hasExec) return fail(Error::config(prefix(u.source) + ": " + Parser::execMessage(name)));
  if (u.hasAuthProvider) {
    return fail(Error::config(prefix(u.source) + ": " +
                              Parser::authProviderMessage(name, u.authProviderName)));
  }
  if (u.hasImpersonation) {
    return fail(Error::config(src + " uses impersonation (users[].user.as, as-groups, as-uid, "
                                    "as-user-extra), which this client does not support"));
  }
  const bool hasToken = !u.token.empty() || !u.tokenFile.empty();
  const bool hasBasic = !u.username.empty() || !u.password.empty();
  if (hasToken && hasBasic) {
    return fail(Error::config(src + " sets both a token and username/password (users[].user); "
                                    "only one authentication method is allowed"));
  }
  if (!u.clientCertificate.empty() && !u.clientCertificateData.empty()) {
    return fail(Error::config(src + " sets both client-certificate and client-certificate-data "
                                    "(users[].user); keep one"));
  }
  if (!u.clientKey.empty() && !u.clientKeyData.empty()) {
    return fail(Error::config(src + " sets both client-key and client-key-data (users[].user); "
                                    "keep one"));
  }
  const bool hasCert = !u.clientCertificate.empty() || !u.clientCertificateData.empty();
  const bool hasKey = !u.clientKey.empty() || !u.clientKeyData.empty();
  if (hasCert != hasKey) {
    return fail(Error::config(src +
                              (hasCert ? " has a client certificate but no client-key(-data)"
                                       : " has a client key but no client-certificate(-data)") +
                              " (users[].user)"));
  }
  if (!u.clientCertificate.empty()) {
    auto pem = readFile(u.clientCertificate, "client-certificate file");
    if (!pem) return fail(pem.error().wrap(at + "client-certificate"));
    if (!looksLikePemCertificate(*pem)) {
      return fail(Error::config(at + "client-certificate: file " + u.clientCertificate +
                                " holds no PEM certificate"));
    }
    out.tls.clientCertPem = std::move(*pem);
  } else if (!u.clientCertificateData.empty()) {
    if (!looksLikePemCertificate(u.clientCertificateData)) {
      return fail(Error::config(at + "client-certificate-data holds no PEM certificate"));
    }
    out.tls.clientCertPem = u.clientCertificateData;
  }
  if (!u.clientKey.empty()) {
    auto pem = readFile(u.clientKey, "client-key file");
    if (!pem) return fail(pem.error().wrap(at + "client-key"));
    if (!looksLikePemKey(*pem)) {
      return fail(
          Error::config(at + "client-key: file " + u.clientKey + " holds no PEM private key"));
    }
    out.tls.clientKeyPem = std::move(*pem);
  } else if (!u.clientKeyData.empty()) {
    if (!looksLikePemKey(u.clientKeyData)) {
      return fail(Error::config(at + "client-key-data holds no PEM private key"));
    }
    out.tls.clientKeyPem = u.clientKeyData;
  }
  // client-go: a tokenFile is re-read while running and wins over an inline token.
  if (!u.tokenFile.empty()) {
    auto source = std::make_shared<FileTokenSource>(u.tokenFile);
    if (auto t = source->token(); !t) return fail(t.error().wrap(at + "tokenFile"));
    out.token = std::move(source);
  } else if (!u.token.empty()) {
    out.token = std::make_shared<StaticTokenSource>(u.token);
  }
  out.username = u.username;
  out.password = u.password;
  return {};
}

std::optional<std::string> processEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::vector<std::string> splitList(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto end = std::min(list.find(':', start), list.size());
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string trimSpace(std::string s) {
  const char* ws = " \t\r\n";
  const auto end = s.find_last_not_of(ws);
  if (end == std::string::npos) return {};
  s.erase(end + 1);
  s.erase(0, s.find_first_not_of(ws));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Rendering.

void emitString(YAML::Emitter& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
}

void emitData(YAML::Emitter& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << base64::encode(value);
}

}  // namespace

Expected<Kubeconfig> parseKubeconfig(std::string_view yaml, const std::string& baseDir,
                                     KubeconfigTrust trust, const std::string& sourceName) {
  const std::string source = prefix(sourceName);
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    return Parser(source, baseDir, trust).parse(root);
  } catch (const YAML::DeepRecursion& e) {
    return fail(Error::config(source + ": invalid YAML at line " + std::to_string(e.mark.line + 1) +
                              ": nested too deeply"));
  } catch (const YAML::ParserException& e) {
    // yaml-cpp messages are constants, but a few append a fragment of the input after ": "
    // (bad escapes): cut it off, the input may be a secret.
    std::string msg = e.msg.substr(0, e.msg.find(':'));
    return fail(Error::config(source + ": invalid YAML at line " + std::to_string(e.mark.line + 1) +
                              ", column " + std::to_string(e.mark.column + 1) + ": " + msg));
  } catch (const YAML::Exception& e) {
    return fail(
        Error::config(source + ": unreadable YAML near line " + std::to_string(e.mark.line + 1)));
  } catch (const std::exception&) {
    return fail(Error::config(source + ": unreadable kubeconfig"));
  }
}

Expected<Kubeconfig> loadKubeconfigFiles(const std::vector<std::string>& paths) {
  Kubeconfig merged;
  std::set<std::string> seen;
  std::vector<std::string> loaded;
  std::vector<std::string> missing;
  for (const auto& path : paths) {
    if (path.empty() || !seen.insert(path).second) continue;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      missing.push_back(path);
      continue;
    }
    auto text = readFile(path, "kubeconfig");
    if (!text) return fail(text.error());
    const std::string baseDir = fs::absolute(path, ec).parent_path().string();
    auto config = parseKubeconfig(*text, baseDir, KubeconfigTrust::kLocal, "kubeconfig " + path);
    if (!config) return fail(config.error());
    loaded.push_back(path);
    // kubectl's merge: whole entries, the first file that defines a name wins.
    for (auto& [k, v] : config->clusters) merged.clusters.emplace(k, std::move(v));
    for (auto& [k, v] : config->users) merged.users.emplace(k, std::move(v));
    for (auto& [k, v] : config->contexts) merged.contexts.emplace(k, std::move(v));
    if (merged.currentContext.empty()) merged.currentContext = config->currentContext;
  }
  if (loaded.empty()) {
    if (missing.empty()) return fail(Error::config("no kubeconfig file given"));
    return fail(Error::config("no kubeconfig file found: " + joinNames(missing) +
                              (missing.size() == 1 ? " does" : " do") + " not exist"));
  }
  merged.source = "kubeconfig " + joinNames(loaded);
  return merged;
}

Expected<RestConfig> restConfigFromKubeconfig(const Kubeconfig& config,
                                              const std::string& context) {
  try {
    const std::string src = prefix(config.source);
    const bool fromCurrent = context.empty();
    const std::string name = fromCurrent ? config.currentContext : context;
    if (name.empty()) {
      return fail(Error::config(src +
                                ": current-context is not set and no context was given "
                                "(contexts: " +
                                keyList(config.contexts) + ")"));
    }
    const auto ctx = config.contexts.find(name);
    if (ctx == config.contexts.end()) {
      return fail(Error::config(
          src + ": " + (fromCurrent ? "current-context " : "context ") + quote(name) +
          " is not defined in contexts[] (contexts: " + keyList(config.contexts) + ")"));
    }
    const std::string ctxSrc = prefix(ctx->second.source) + ": context " + quote(name);
    RestConfig out;
    out.origin = prefix(ctx->second.source) + ", context " + quote(name);

    if (ctx->second.cluster.empty()) {
      return fail(Error::config(ctxSrc + " names no cluster (contexts[].context.cluster)"));
    }
    const auto cluster = config.clusters.find(ctx->second.cluster);
    if (cluster == config.clusters.end()) {
      return fail(Error::config(ctxSrc + " refers to cluster " + quote(ctx->second.cluster) +
                                ", which is not defined in clusters[]"));
    }
    if (auto ok = resolveCluster(cluster->first, cluster->second, out.origin, out); !ok) {
      return fail(ok.error());
    }
    if (!ctx->second.user.empty()) {
      const auto user = config.users.find(ctx->second.user);
      if (user == config.users.end()) {
        return fail(Error::config(ctxSrc + " refers to user " + quote(ctx->second.user) +
                                  ", which is not defined in users[]"));
      }
      if (auto ok = resolveUser(user->first, user->second, out); !ok) return fail(ok.error());
    }
    return out;
  } catch (const std::exception&) {
    return fail(Error::internal("kubeconfig: unexpected failure while resolving a context"));
  }
}

namespace {

// Every pass of a membership and of its RemoteIstio reads the same kubeconfig Secret, and
// yaml-cpp takes a while over one. The outcome depends only on the bytes, the source name and
// the context (inline data only: no files, and the token source is a constant), so the last
// outcome per source is kept and given again while the bytes are the same. Bounded by the
// number of sources: forgotten all at once when full.
class UntrustedConfigs {
 public:
  template <class Make>
  Expected<RestConfig> get(std::string_view yaml, const std::string& source,
                           const std::string& context, const Make& make) {
    std::string key = source + '\n' + context;
    std::string digest = pki::ossl::digestOf({yaml});
    {
      std::lock_guard lock(mu_);
      if (auto it = known_.find(key); it != known_.end() && it->second.first == digest) {
        return it->second.second;
      }
    }
    Expected<RestConfig> outcome = make();
    std::lock_guard lock(mu_);
    if (known_.size() >= kMaxEntries && known_.count(key) == 0) known_.clear();
    known_.insert_or_assign(std::move(key), std::make_pair(std::move(digest), outcome));
    return outcome;
  }

 private:
  static constexpr std::size_t kMaxEntries = 16384;
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<std::string, Expected<RestConfig>>> known_;
};

}  // namespace

Expected<RestConfig> restConfigFromUntrustedKubeconfig(std::string_view yaml,
                                                       const std::string& sourceName,
                                                       const std::string& context) {
  static auto* const known = new UntrustedConfigs();
  return known->get(yaml, sourceName, context, [&]() -> Expected<RestConfig> {
    auto config = parseKubeconfig(yaml, "", KubeconfigTrust::kRestricted, sourceName);
    if (!config) return fail(config.error());
    return restConfigFromKubeconfig(*config, context);
  });
}

Expected<RestConfig> inClusterConfig(const InClusterPaths& paths) {
  const std::string host =
      paths.host.empty() ? processEnv("KUBERNETES_SERVICE_HOST").value_or("") : paths.host;
  const std::string port =
      paths.port.empty() ? processEnv("KUBERNETES_SERVICE_PORT").value_or("") : paths.port;
  if (host.empty() || port.empty()) {
    return fail(
        Error::config("in-cluster config: KUBERNETES_SERVICE_HOST and "
                      "KUBERNETES_SERVICE_PORT must be set (not running in a pod?)"));
  }
  RestConfig out;
  out.origin = "in-cluster";
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  auto server = checkServer("https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port,
                            "in-cluster config: KUBERNETES_SERVICE_HOST/PORT");
  if (!server) return fail(server.error());
  out.server = *server;

  auto ca = readFile(paths.caFile, "service-account CA file");
  if (!ca) return fail(ca.error().wrap("in-cluster config"));
  if (!looksLikePemCertificate(*ca)) {
    return fail(
        Error::config("in-cluster config: CA file " + paths.caFile + " holds no PEM certificate"));
  }
  out.tls.caPem = std::move(*ca);

  auto token = std::make_shared<FileTokenSource>(paths.tokenFile);
  if (auto t = token->token(); !t) return fail(t.error().wrap("in-cluster config"));
  out.token = std::move(token);
  return out;
}

std::optional<std::string> inClusterNamespace(const InClusterPaths& paths) {
  auto text = readFile(paths.namespaceFile, "namespace file");
  if (!text) return std::nullopt;
  std::string ns = trimSpace(std::move(*text));
  if (ns.empty()) return std::nullopt;
  return ns;
}

Expected<RestConfig> loadDefaultConfig(const std::string& kubeconfigFlag,
                                       const std::string& context) {
  DefaultConfigSources sources;
  sources.kubeconfigFlag = kubeconfigFlag;
  sources.context = context;
  return loadDefaultConfig(sources);
}

Expected<RestConfig> loadDefaultConfig(const DefaultConfigSources& sources) {
  const auto env = [&sources](const std::string& name) -> std::string {
    auto v = sources.env ? sources.env(name) : processEnv(name);
    return v.value_or("");
  };
  std::error_code ec;
  if (!sources.kubeconfigFlag.empty()) {
    if (!fs::exists(sources.kubeconfigFlag, ec)) {
      return fail(Error::config("kubeconfig " + sources.kubeconfigFlag +
                                " (from --kubeconfig) does not exist"));
    }
    auto config = loadKubeconfigFiles({sources.kubeconfigFlag});
    if (!config) return fail(config.error());
    return restConfigFromKubeconfig(*config, sources.context);
  }

  InClusterPaths inCluster = sources.inCluster;
  if (inCluster.host.empty()) inCluster.host = env("KUBERNETES_SERVICE_HOST");
  if (inCluster.port.empty()) inCluster.port = env("KUBERNETES_SERVICE_PORT");
  if (!inCluster.host.empty() && !inCluster.port.empty() && fs::exists(inCluster.tokenFile, ec)) {
    return inClusterConfig(inCluster);
  }

  if (const std::string list = env("KUBECONFIG"); !list.empty()) {
    auto config = loadKubeconfigFiles(splitList(list));
    if (!config) return fail(config.error().wrap("KUBECONFIG"));
    return restConfigFromKubeconfig(*config, sources.context);
  }

  const std::string home = env("HOME");
  const std::string defaultPath = home.empty() ? std::string() : home + "/.kube/config";
  if (!defaultPath.empty() && fs::exists(defaultPath, ec)) {
    auto config = loadKubeconfigFiles({defaultPath});
    if (!config) return fail(config.error());
    return restConfigFromKubeconfig(*config, sources.context);
  }
  return fail(Error::config(
      "no Kubernetes configuration found: --kubeconfig not given, not running in a pod "
      "(KUBERNETES_SERVICE_HOST/PORT unset or no token at " +
      inCluster.tokenFile + "), KUBECONFIG unset, and " +
      (defaultPath.empty() ? std::string("$HOME/.kube/config") : defaultPath) + " does not exist"));
}

std::string renderKubeconfig(const Kubeconfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";

  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq;
  for (const auto& [name, c] : config.clusters) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << name;
    out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
    emitString(out, "server", c.server);
    emitString(out, "certificate-authority", c.certificateAuthority);
    emitData(out, "certificate-authority-data", c.certificateAuthorityData);
    emitString(out, "tls-server-name", c.tlsServerName);
    if (c.insecureSkipTlsVerify)
      out << YAML::Key << "insecure-skip-tls-verify" << YAML::Value << true;
    emitString(out, "proxy-url", c.proxyUrl);
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq;
  for (const auto& [name, c] : config.contexts) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << name;
    out << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
    emitString(out, "cluster", c.cluster);
    emitString(out, "user", c.user);
    emitString(out, "namespace", c.ns);
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq;

  if (!config.currentContext.empty()) {
    out << YAML::Key << "current-context" << YAML::Value << YAML::DoubleQuoted
        << config.currentContext;
  }
  out << YAML::Key << "kind" << YAML::Value << "Config";
  out << YAML::Key << "preferences" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;

  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
  for (const auto& [name, u] : config.users) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << name;
    out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
    emitString(out, "token", u.token);
    emitString(out, "tokenFile", u.tokenFile);
    emitString(out, "client-certificate", u.clientCertificate);
    emitData(out, "client-certificate-data", u.clientCertificateData);
    emitString(out, "client-key", u.clientKey);
    emitData(out, "client-key-data", u.clientKeyData);
    emitString(out, "username", u.username);
    emitString(out, "password", u.password);
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Kubeconfig singleClusterKubeconfig(const std::string& name, const std::string& server,
                                   const std::string& caPem, const std::string& token) {
  Kubeconfig config;
  Kubeconfig::Cluster cluster;
  cluster.server = server;
  cluster.certificateAuthorityData = caPem;
  config.clusters.emplace(name, std::move(cluster));
  Kubeconfig::User user;
  user.token = token;
  config.users.emplace(name, std::move(user));
  Kubeconfig::Context context;
  context.cluster = name;
  context.user = name;
  config.contexts.emplace(name, std::move(context));
  config.currentContext = name;
  return config;
}

}  // namespace rio::kube
