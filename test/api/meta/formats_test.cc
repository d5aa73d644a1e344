#include "api/meta/formats.h"

#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace meta = rio::meta;
using meta::StringFormat;

namespace {

struct FormatCases {
  StringFormat format;
  std::vector<std::string> valid;
  std::vector<std::string> invalid;
};

const std::vector<FormatCases>& cases() {
  static const std::vector<FormatCases> kCases = {
      {StringFormat::kDns1123Label,
       {"a", "istio-system", "cn-beijing", "x1", std::string(63, 'a')},
       {"", "-a", "a-", "A", "a_b", "a.b", std::string(64, 'a'), "ä"}},
      {StringFormat::kDns1123Subdomain,
       {"a", "cluster.local", "my-secret.v1", "a.b.c"},
       {"", ".a", "a.", "a..b", "A.b", "a_b", std::string(254, 'a')}},
      {StringFormat::kCidr,
       {"10.0.0.0/8", "192.168.1.0/24", "0.0.0.0/0", "10.1.2.3/32", "fd00::/8", "::/0",
        "2001:db8::1/128"},
       {"10.0.0.0", "10.0.0.0/33", "010.0.0.0/8", "256.0.0.0/8", "10.0.0.0/08", "fd00::/129", "x/8",
        "10.0.0.0/8,10.1.0.0/16"}},
      {StringFormat::kDuration,
       {"10m", "24h", "1h30m", "1.5h", "500ms", "90s", "3us", "3\xC2\xB5s"},
       {"", "0", "10", "-1h", "+1h", "1d", ".5h", "1.h", "1h ", "h"}},
      {StringFormat::kIncludeIPRanges,
       {"*", "", "10.0.0.0/8", "10.0.0.0/8,172.16.0.0/12", "10.0.0.0/8, 172.16.0.0/12",
        "10.0.0.0/8 ,172.16.0.0/12", "fd00::/8,10.0.0.0/8"},
       {"*,10.0.0.0/8", "10.0.0.0/8,", ",10.0.0.0/8", " 10.0.0.0/8", "10.0.0.0/8 ", "all",
        "10.0.0.0/33", "10.0.0.0"}},
      {StringFormat::kImageRepository,
       {"docker.io/istio", "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog",
        "localhost:5000/istio", "istio", "gcr.io/istio-release", "Registry.Example.com/x",
        "quay.io/a/b/c", "r/a__b", "r/a--b"},
       {"", "docker.io/istio/", "/istio", "docker.io//istio", "docker.io/Istio",
        "docker.io/istio:1.0", "docker.io/istio@sha256:abc", "docker io/istio", "r/a_-b", "r/-a",
        ":5000/x"}},
      {StringFormat::kImage,
       {"proxyv2", "sidecar_injector", "docker.io/istio/proxyv2:1.4.10", "localhost:5000/proxyv2",
        "localhost:5000/proxyv2:1.0", "proxyv2:1.1.4", "r.io/a/b@sha256:" + std::string(64, 'a'),
        "r.io/a/b:1.0@sha256:" + std::string(64, 'f')},
       {"", "Proxyv2", "docker.io/istio/", "proxyv2:", "proxyv2:-x", "r.io/a@sha256:abc",
        "docker.io/Istio/proxyv2", "a b"}},
      {StringFormat::kImageTag,
       {"1.1.4", "latest", "v1.4.10-distroless", "_x", std::string(128, 'a')},
       {"", ".1", "-x", "a:b", "a/b", std::string(129, 'a')}},
      {StringFormat::kLabelValue,
       {"", "cn-beijing", "cn-beijing-a", "A_b.c", "x"},
       {"-a", "a-", "a b", "a/b", std::string(64, 'a')}},
      {StringFormat::kSecretKey,
       {"kubeconfig", "ca.crt", "tls-key_1", ".dot"},
       {"", "a/b", "a b", std::string(254, 'a')}},
      {StringFormat::kConditionType,
       {"Ready", "InjectorReady", "example.com/Synced", "a-b_c.d"},
       {"", "Ready!", "/Ready", "Example.com/Ready", "-Ready"}},
      {StringFormat::kConditionReason,
       {"InvalidSpec", "A", "Some_Reason", "a:b,c", "Reason1"},
       {"", "1Reason", "Bad Reason", "Reason-", "Reason:", "_x"}},
  };
  return kCases;
}

}  // namespace

TEST_CASE("Formats: each hand-written checker agrees with the pattern the CRD declares",
          "[api][formats]") {
  for (const auto& c : cases()) {
    const meta::FormatInfo& info = meta::formatInfo(c.format);
    INFO("format " << info.name);
    const std::regex pattern(std::string(info.pattern));
    auto schemaAccepts = [&](const std::string& v) {
      return std::regex_search(v, pattern) && (info.maxLength == 0 || v.size() <= info.maxLength);
    };
    for (const auto& v : c.valid) {
      INFO("valid value \"" << v << "\"");
      CHECK(meta::matchesFormat(c.format, v));
      CHECK(schemaAccepts(v));
    }
    for (const auto& v : c.invalid) {
      INFO("invalid value \"" << v << "\"");
      CHECK_FALSE(meta::matchesFormat(c.format, v));
      CHECK_FALSE(schemaAccepts(v));
    }
  }
}

TEST_CASE("Formats: the CIDR pattern is looser than the checker for IPv6 only, never stricter",
          "[api][formats]") {
  // The API server's pattern cannot parse IPv6 fully; the operator then reports InvalidSpec.
  // The reverse (the operator rejecting what the server let through as valid syntax) must not
  // happen, which the valid cases above show.
  const std::regex pattern(std::string(meta::formatInfo(StringFormat::kCidr).pattern));
  for (const char* v : {":::::/64", "fd00:::1/64", "1:2:3:4:5:6:7:8:9/64"}) {
    INFO(v);
    CHECK(std::regex_search(std::string(v), pattern));
    CHECK_FALSE(meta::matchesFormat(StringFormat::kCidr, v));
  }
}

TEST_CASE("Formats: every format explains itself to the user", "[api][formats]") {
  for (const auto& c : cases()) {
    const meta::FormatInfo& info = meta::formatInfo(c.format);
    CHECK_FALSE(info.name.empty());
    CHECK_FALSE(info.requirement.empty());
    CHECK(info.pattern.front() == '^');
    CHECK(info.pattern.back() == '$');
  }
}
