// Named string formats for API fields: one hand-written checker per format (no std::regex on
// untrusted input), plus the equivalent regular expression that the CRD schema declares as
// `pattern`. Tests prove the two agree, and that every field's schema pattern is the one here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rio::meta {

enum class StringFormat {
  kNone,
  kDns1123Label,      // "istio-system": namespaces, cluster names, regions
  kDns1123Subdomain,  // "my.secret-name": object names, trust domains
  kCidr,              // "10.0.0.0/8", "fd00::/48"
  kDuration,          // Go duration: "24h", "1h30m"
  kIncludeIPRanges,   // "*", "" or "10.0.0.0/8,172.16.0.0/12"
  kImageRepository,   // "registry.cn-beijing.aliyuncs.com/aliacs-app-catalog"
  kImage,             // "proxyv2" or "docker.io/istio/proxyv2:1.4.10" or "...@sha256:<hex>"
  kImageTag,          // "1.1.4"
  kLabelValue,        // "cn-beijing-a": values of labels (topology region/zone)
  kSecretKey,         // "kubeconfig": keys of Secret data
  kConditionType,     // "Ready", "example.com/Synced"
  kConditionReason,   // "InvalidSpec"
};

/// What the CRD declares for a format, and what users are told when a value does not match.
struct FormatInfo {
  std::string_view name;         // "dns1123-label"
  std::string_view pattern;      // RE2/ECMAScript-compatible regex, anchored with ^...$
  std::size_t maxLength = 0;     // 0: no limit beyond the pattern
  std::string_view requirement;  // "must be a DNS-1123 label (...)"
};

/// The schema facts for a format. kNone has an empty pattern.
const FormatInfo& formatInfo(StringFormat format);

/// True when `value` is valid for `format` (including its maximum length). Never throws.
bool matchesFormat(StringFormat format, std::string_view value);

/// Building blocks shared with reconcilers.
bool isDns1123Label(std::string_view value);
bool isDns1123Subdomain(std::string_view value);

}  // namespace rio::meta
