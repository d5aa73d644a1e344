// Fuzz target: kubeconfig documents as they arrive in Secrets (untrusted). The restricted loader
// must never crash or throw, never accept a document that points at files or runs commands, and
// never put a credential it read into an error message or a RestConfig's describe().
#include <string>
#include <vector>

#include "controller/kube/kubeconfig.h"
#include "controller/kube/transport.h"
#include "test/fuzz/fuzz_support.h"

namespace {

// Values of `token:`, `password:` and `client-key-data:` keys as written in the input, long
// enough that finding one in a message cannot be a coincidence.
std::vector<std::string> secretValues(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view key : {"token:", "password:", "client-key-data:"}) {
    for (auto pos = text.find(key); pos != std::string_view::npos; pos = text.find(key, pos + 1)) {
      auto start = text.find_first_not_of(" \t\"'", pos + key.size());
      if (start == std::string_view::npos) break;
      auto end = text.find_first_of(" \t\r\n\"',}", start);
      std::string value(text.substr(start, end == std::string_view::npos ? end : end - start));
      if (value.size() >= 12) out.push_back(std::move(value));
    }
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
