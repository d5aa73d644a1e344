#include "api/meta/formats.h"

#include <array>

#include "api/meta/cidr.h"
#include "api/meta/duration.h"

namespace rio::meta {
namespace {

bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isLowerAlnum(char c) { return isLower(c) || isDigit(c); }
bool isAlnum(char c) { return isLower(c) || isUpper(c) || isDigit(c); }

// [a-z0-9]([-a-z0-9]*[a-z0-9])? with no length limit.
bool isLabelShape(std::string_view s) {
  if (s.empty() || !isLowerAlnum(s.front()) || !isLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!isLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// Docker path component: [a-z0-9]+(([._]|__|-+)[a-z0-9]+)*
bool isPathComponent(std::string_view s) {
  if (s.empty() || !isLowerAlnum(s.front()) || !isLowerAlnum(s.back())) return false;
  size_t i = 0;
  while (i < s.size()) {
    if (isLowerAlnum(s[i])) {
      ++i;
      continue;
    }
    // a separator run: ".", "_", "__" or one or more "-"
    size_t j = i;
    while (j < s.size() && !isLowerAlnum(s[j])) ++j;
    const std::string_view sep = s.substr(i, j - i);
    const bool ok = sep == "." || sep == "_" || sep == "__" ||
                    sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}

// Registry host: [a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]+)?
bool isRegistryHost(std::string_view s) {
  const size_t colon = s.find(':');
  std::string_view host = s.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view port = s.substr(colon + 1);
    if (port.empty()) return false;
    for (char c : port) {
      if (!isDigit(c)) return false;
    }
  }
  if (host.empty() || !isAlnum(host.front()) || !isAlnum(host.back())) return false;
  for (char c : host) {
    if (!isAlnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

// REPO per kImageRepository: HOST(/COMPONENT)* where the first element may instead be a
// component.
bool isRepository(std::string_view s) {
  if (s.empty()) return false;
  size_t slash = s.find('/');
  const std::string_view first = s.substr(0, slash);
  if (!isRegistryHost(first) && !isPathComponent(first)) return false;
  while (slash != std::string_view::npos) {
    s.remove_prefix(slash + 1);
    slash = s.find('/');
    if (!isPathComponent(s.substr(0, slash))) return false;
  }
  return true;
}

bool isImageTag(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  if (!isAlnum(s[0]) && s[0] != '_') return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

// NAME, or REPO-with-slash, each with optional :TAG and @sha256:<64 hex>.
bool isImage(std::string_view s) {
  if (const size_t at = s.find('@'); at != std::string_view::npos) {
    const std::string_view digest = s.substr(at + 1);
    if (digest.size() != 7 + 64 || digest.substr(0, 7) != "sha256:") return false;
    for (char c : digest.substr(7)) {
      if (!isDigit(c) && !(c >= 'a' && c <= 'f')) return false;
    }
    s = s.substr(0, at);
  }
  // A ':' after the last '/' starts the tag (one before it is a registry port).
  const size_t lastSlash = s.rfind('/');
  const size_t colon = s.find(':', lastSlash == std::string_view::npos ? 0 : lastSlash);
  if (colon != std::string_view::npos) {
    if (!isImageTag(s.substr(colon + 1))) return false;
    s = s.substr(0, colon);
  }
  if (lastSlash == std::string_view::npos) return isPathComponent(s);
  // The repository with at least one '/': its last element must be a path component.
  return isRepository(s) && isPathComponent(s.substr(s.rfind('/') + 1));
}

bool isIncludeIPRanges(std::string_view s) {
  if (s.empty() || s == "*") return true;
  // Spaces are allowed around commas only, as the schema pattern says.
  bool first = true;
  while (true) {
    const size_t comma = s.find(',');
    const bool last = comma == std::string_view::npos;
    std::string_view item = s.substr(0, comma);
    while (!first && !item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!last && !item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!Cidr::parse(item)) return false;
    if (last) return true;
    s.remove_prefix(comma + 1);
    first = false;
  }
}

bool isDurationText(std::string_view s) {
  // The schema pattern has no sign and no bare "0"; every unit needs a leading digit.
  if (s.empty() || !isDigit(s[0]) || isDigit(s.back())) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.' && (i + 1 >= s.size() || !isDigit(s[i + 1]) || !isDigit(s[i - 1]))) {
      return false;
    }
    if (s[i] == '+' || s[i] == '-') return false;
  }
  return parseDuration(s).has_value();
}

bool isLabelValue(std::string_view s) {
  if (s.size() > 63) return false;
  if (s.empty()) return true;
  if (!isAlnum(s.front()) || !isAlnum(s.back())) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool isSecretKey(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// ([prefix]/)?name, prefix a DNS-1123 subdomain, name ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool isConditionType(std::string_view s) {
  if (s.empty() || s.size() > 316) return false;
  if (const size_t slash = s.find('/'); slash != std::string_view::npos) {
    if (!isDns1123Subdomain(s.substr(0, slash))) return false;
    s.remove_prefix(slash + 1);
  }
  if (s.empty() || !isAlnum(s.front()) || !isAlnum(s.back())) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool isConditionReason(std::string_view s) {
  if (s.empty() || s.size() > 1024) return false;
  if (!isUpper(s.front()) && !isLower(s.front())) return false;
  if (!isAlnum(s.back()) && s.back() != '_') return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '_' && c != ',' && c != ':') return false;
  }
  return true;
}

// Regex fragments; [.] instead of \. keeps the patterns free of escapes in YAML and CEL.
#define RIO_IPV4_OCTET "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#define RIO_IPV4_CIDR                                                           \
  RIO_IPV4_OCTET "[.]" RIO_IPV4_OCTET "[.]" RIO_IPV4_OCTET "[.]" RIO_IPV4_OCTET \
                 "/(3[0-2]|[12]?[0-9])"
#define RIO_IPV6_CIDR "[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9])"
#define RIO_CIDR "(" RIO_IPV4_CIDR "|" RIO_IPV6_CIDR ")"
#define RIO_PATH_COMPONENT "[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*"
#define RIO_REGISTRY_HOST "[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]+)?"
#define RIO_TAG "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"

const std::array<FormatInfo, 14> kFormats = {{
    {"", "", 0, ""},
    {"dns1123-label", "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", 63,
     "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending "
     "with a letter or digit"},
    {"dns1123-subdomain", "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", 253,
     "must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' or '.', starting "
     "and ending with a letter or digit"},
    {"cidr", "^" RIO_CIDR "$", 64, "must be an IP network in CIDR notation, like 10.0.0.0/8"},
    {"duration", "^([0-9]+([.][0-9]+)?(ns|us|\xC2\xB5s|\xCE\xBCs|ms|s|m|h))+$", 32,
     "must be a duration like 10m, 24h or 1h30m"},
    {"include-ip-ranges", "^([*]|" RIO_CIDR "( *, *" RIO_CIDR ")*)?$", 4096,
     "must be '*', empty, or comma-separated CIDRs like 10.0.0.0/8,172.16.0.0/12"},
    {"image-repository",
     "^(" RIO_REGISTRY_HOST "|" RIO_PATH_COMPONENT ")(/" RIO_PATH_COMPONENT ")*$", 255,
     "must be an image registry and path like registry.cn-beijing.aliyuncs.com/aliacs-app-catalog"
     " (no tag, no trailing '/')"},
    {"image",
     "^((" RIO_REGISTRY_HOST "|" RIO_PATH_COMPONENT ")/(" RIO_PATH_COMPONENT
     "/)*)?" RIO_PATH_COMPONENT "(:" RIO_TAG ")?(@sha256:[a-f0-9]{64})?$",
     512,
     "must be an image name like proxyv2, or a full reference like docker.io/istio/proxyv2:1.4.10"},
    {"image-tag", "^" RIO_TAG "$", 128,
     "must be an image tag: letters, digits, '_', '.' or '-', at most 128, not starting with '.' "
     "or "
     "'-'"},
    {"label-value", "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", 63,
     "must be a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with "
     "a "
     "letter or digit"},
    {"secret-key", "^[-._a-zA-Z0-9]+$", 253,
     "must be a Secret key: letters, digits, '-', '_' or '.', at most 253"},
    {"condition-type",
     "^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/"
     ")?(([A-Za-z0-9][-A-Za-z0-9_.]*)"
     "?[A-Za-z0-9])$",
     316, "must be a condition type like Ready or example.com/Synced"},
    {"condition-reason", "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$", 1024,
     "must be a CamelCase reason: letters, digits, '_', ',' or ':', starting with a letter"},
}};

}  // namespace

bool isDns1123Label(std::string_view s) { return s.size() <= 63 && isLabelShape(s); }

bool isDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  while (true) {
    const size_t dot = s.find('.');
    if (!isLabelShape(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

const FormatInfo& formatInfo(StringFormat format) { return kFormats[static_cast<size_t>(format)]; }

bool matchesFormat(StringFormat format, std::string_view v) {
  const FormatInfo& info = formatInfo(format);
  if (info.maxLength != 0 && v.size() > info.maxLength) return false;
  switch (format) {
    case StringFormat::kNone:
      return true;
    case StringFormat::kDns1123Label:
      return isDns1123Label(v);
    case StringFormat::kDns1123Subdomain:
      return isDns1123Subdomain(v);
    case StringFormat::kCidr:
      return Cidr::parse(v).has_value();
    case StringFormat::kDuration:
      return isDurationText(v);
    case StringFormat::kIncludeIPRanges:
      return isIncludeIPRanges(v);
    case StringFormat::kImageRepository:
      return isRepository(v);
    case StringFormat::kImage:
      return isImage(v);
    case StringFormat::kImageTag:
      return isImageTag(v);
    case StringFormat::kLabelValue:
      return isLabelValue(v);
    case StringFormat::kSecretKey:
      return isSecretKey(v);
    case StringFormat::kConditionType:
      return isConditionType(v);
    case StringFormat::kConditionReason:
      return isConditionReason(v);
  }
  return false;
}

}  // namespace rio::meta
