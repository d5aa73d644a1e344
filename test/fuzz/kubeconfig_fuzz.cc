// Fuzz target: kubeconfig documents as they arrive in Secrets (untrusted). The restricted loader
// must never crash or throw, never accept a document that points at files or runs commands, and
// never put a credential the document holds into an error message or a RestConfig's describe().
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "controller/kube/kubeconfig.h"
#include "controller/kube/transport.h"
#include "test/fuzz/fuzz_support.h"

namespace {

// Every scalar of a YAML tree, keys included, except the credential fields.
void otherScalars(const YAML::Node& node, std::vector<std::string>& out, int depth = 0) {
  if (depth > 64) return;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) otherScalars(item, out, depth + 1);
  } else if (node.IsMap()) {
    for (const auto& kv : node) {
      const auto key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
      if (key == "token" || key == "password" || key == "client-key-data") continue;
      otherScalars(kv.first, out, depth + 1);
      otherScalars(kv.second, out, depth + 1);
    }
  }
}

// The credentials the document holds: users[].user.{token,password,client-key-data} of at least
// 8 bytes, read with yaml-cpp independently of the loader under test. A value that also stands
// inside another field (a server URL that swallowed the rest of the document, say) is left out:
// quoting that field is not a leak.
std::vector<std::string> secretValues(std::string_view text) {
  std::vector<std::string> out;
  try {
    const YAML::Node doc = YAML::Load(std::string(text));
    if (!doc.IsMap() || !doc["users"] || !doc["users"].IsSequence()) return out;
    std::vector<std::string> others;
    otherScalars(doc, others);
    for (const auto& entry : doc["users"]) {
      if (!entry.IsMap() || !entry["user"] || !entry["user"].IsMap()) continue;
      for (const char* key : {"token", "password", "client-key-data"}) {
        const auto value = entry["user"][key];
        if (!value || !value.IsScalar() || value.Scalar().size() < 8) continue;
        bool elsewhere = false;
        for (const auto& o : others) elsewhere = elsewhere || o.find(value.Scalar()) != std::string::npos;
        if (!elsewhere) out.push_back(value.Scalar());
      }
    }
  } catch (const std::exception&) {
    // Not YAML (or too deep): the loader must refuse it, and there is nothing to look for.
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rio;
  const auto text = fuzz::asText(data, size);
  const auto secrets = secretValues(text);
  auto mentionsSecret = [&](const std::string& message) {
    for (const auto& s : secrets)
      if (message.find(s) != std::string::npos) return true;
    return false;
  };

  auto parsed = kube::parseKubeconfig(text, "", kube::KubeconfigTrust::kRestricted, "Secret fuzz/x");
  if (!parsed) RIO_FUZZ_CHECK(!mentionsSecret(parsed.error().message()), parsed.error().message());

  auto config = kube::restConfigFromUntrustedKubeconfig(text, "Secret fuzz/x");
  if (!config) {
    RIO_FUZZ_CHECK(!mentionsSecret(config.error().message()), config.error().message());
    return 0;
  }
  RIO_FUZZ_CHECK(parsed.has_value(), "resolved a document the parser refused");
  RIO_FUZZ_CHECK(!config->server.empty(), "a resolved config without a server");
  (void)kube::Endpoint::parse(config->server);  // what the client does next: must not crash
  RIO_FUZZ_CHECK(!mentionsSecret(config->describe()), config->describe());
  return 0;
}
