// The name syntaxes of apimachinery's validation (k8s.io/apimachinery/pkg/util/validation),
// matched by hand: std::regex took about 2 % of kube-testenv's CPU on a write-heavy load, and
// every object's name, labels and annotations are checked on each write. Each function accepts
// exactly what the regular expression in its comment matches (lengths are checked by callers,
// which report them with their own messages).
#pragma once

#include <string_view>

namespace rio::testenv::syntax {

inline bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
inline bool isAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

/// [a-z0-9]([-a-z0-9]*[a-z0-9])?
inline bool isDns1123Label(std::string_view s) {
  if (s.empty() || !isLowerAlnum(s.front()) || !isLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!isLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

/// [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*
inline bool isDns1123Subdomain(std::string_view s) {
  while (true) {
    const auto dot = s.find('.');
    if (!isDns1123Label(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

/// [a-z]([-a-z0-9]*[a-z0-9])?
inline bool isDns1035Label(std::string_view s) {
  return !s.empty() && s.front() >= 'a' && s.front() <= 'z' && isDns1123Label(s);
}

/// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]: the name part of a qualified name (a label key
/// without its prefix).
inline bool isQualifiedNamePart(std::string_view s) {
  if (s.empty() || !isAlnum(s.front()) || !isAlnum(s.back())) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

/// (([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?
inline bool isLabelValueSyntax(std::string_view s) { return s.empty() || isQualifiedNamePart(s); }

/// [-._a-zA-Z0-9]+
inline bool isConfigKeySyntax(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace rio::testenv::syntax
