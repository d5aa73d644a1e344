#include "test/testenv/rbac_rules.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <tuple>

namespace rio::testenv::rbac {
namespace {

std::vector<std::string> stringList(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

bool has(const std::vector<std::string>& set, std::string_view value) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

bool hasAll(const std::vector<std::string>& set, const std::vector<std::string>& values) {
  return std::all_of(values.begin(), values.end(),
                     [&](const std::string& v) { return has(set, v); });
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// strings.TrimRight(url, "*")
std::string_view trimStars(std::string_view s) {
  while (!s.empty() && s.back() == '*') s.remove_suffix(1);
  return s;
}

bool verbMatches(const PolicyRule& rule, std::string_view verb) {
  return has(rule.verbs, kVerbAll) || has(rule.verbs, verb);
}

bool apiGroupMatches(const PolicyRule& rule, std::string_view group) {
  return has(rule.apiGroups, kAPIGroupAll) || has(rule.apiGroups, group);
}

bool resourceMatches(const PolicyRule& rule, std::string_view combined,
                     std::string_view subresource) {
  for (const auto& r : rule.resources) {
    if (r == kResourceAll || r == combined) return true;
    if (subresource.empty()) continue;
    // "*/subresource" grants that subresource of every resource.
    if (r.size() == subresource.size() + 2 && startsWith(r, "*/") && endsWith(r, subresource))
      return true;
  }
  return false;
}

bool resourceNameMatches(const PolicyRule& rule, std::string_view name) {
  return rule.resourceNames.empty() || has(rule.resourceNames, name);
}

bool nonResourceURLMatches(const PolicyRule& rule, std::string_view path) {
  for (const auto& url : rule.nonResourceURLs) {
    if (url == kNonResourceAll || url == path) return true;
    if (endsWith(url, "*") && startsWith(path, trimStars(url))) return true;
  }
  return false;
}

bool resourceCoversAll(const std::vector<std::string>& set,
                       const std::vector<std::string>& covers) {
  if (has(set, kResourceAll) || hasAll(set, covers)) return true;
  for (const auto& path : covers) {
    if (has(set, path)) continue;
    auto slash = path.find('/');
    if (slash == std::string::npos) return false;
    if (!has(set, "*/" + path.substr(slash + 1))) return false;
  }
  return true;
}

bool nonResourceURLCovers(std::string_view owner, std::string_view sub) {
  if (owner == sub) return true;
  return endsWith(owner, "*") && startsWith(sub, trimStars(owner));
}

bool nonResourceURLsCoverAll(const std::vector<std::string>& set,
                             const std::vector<std::string>& covers) {
  for (const auto& path : covers) {
    bool covered = std::any_of(set.begin(), set.end(), [&](const std::string& owner) {
      return nonResourceURLCovers(owner, path);
    });
    if (!covered) return false;
  }
  return true;
}

}  // namespace

PolicyRule PolicyRule::fromJson(const nlohmann::json& j) {
  PolicyRule r;
  if (!j.is_object()) return r;
  r.verbs = stringList(j, "verbs");
  r.apiGroups = stringList(j, "apiGroups");
  r.resources = stringList(j, "resources");
  r.resourceNames = stringList(j, "resourceNames");
  r.nonResourceURLs = stringList(j, "nonResourceURLs");
  return r;
}

nlohmann::json PolicyRule::toJson() const {
  nlohmann::json j = nlohmann::json::object();
  j["verbs"] = verbs;
  if (!apiGroups.empty()) j["apiGroups"] = apiGroups;
  if (!resources.empty()) j["resources"] = resources;
  if (!resourceNames.empty()) j["resourceNames"] = resourceNames;
  if (!nonResourceURLs.empty()) j["nonResourceURLs"] = nonResourceURLs;
  return j;
}

std::vector<PolicyRule> rulesOf(const nlohmann::json& roleObject) {
  std::vector<PolicyRule> out;
  if (!roleObject.is_object()) return out;
  auto it = roleObject.find("rules");
  if (it == roleObject.end() || !it->is_array()) return out;
  for (const auto& r : *it) out.push_back(PolicyRule::fromJson(r));
  return out;
}

bool ruleAllows(const Attributes& request, const PolicyRule& rule) {
  if (request.resourceRequest) {
    std::string combined = request.resource;
    if (!request.subresource.empty()) combined += "/" + request.subresource;
    return verbMatches(rule, request.verb) && apiGroupMatches(rule, request.apiGroup) &&
           resourceMatches(rule, combined, request.subresource) &&
           resourceNameMatches(rule, request.name);
  }
  return verbMatches(rule, request.verb) && nonResourceURLMatches(rule, request.path);
}

std::vector<PolicyRule> breakdownRule(const PolicyRule& rule) {
  std::vector<PolicyRule> out;
  for (const auto& group : rule.apiGroups) {
    for (const auto& resource : rule.resources) {
      for (const auto& verb : rule.verbs) {
        if (rule.resourceNames.empty()) {
          out.push_back(PolicyRule{{verb}, {group}, {resource}, {}, {}});
          continue;
        }
        for (const auto& name : rule.resourceNames) {
          out.push_back(PolicyRule{{verb}, {group}, {resource}, {name}, {}});
        }
      }
    }
  }
  // Non-resource URLs only combine with verbs.
  for (const auto& url : rule.nonResourceURLs) {
    for (const auto& verb : rule.verbs) out.push_back(PolicyRule{{verb}, {}, {}, {}, {url}});
  }
  return out;
}

bool ruleCovers(const PolicyRule& owner, const PolicyRule& sub) {
  bool verbs = has(owner.verbs, kVerbAll) || hasAll(owner.verbs, sub.verbs);
  bool groups = has(owner.apiGroups, kAPIGroupAll) || hasAll(owner.apiGroups, sub.apiGroups);
  bool resources = resourceCoversAll(owner.resources, sub.resources);
  bool urls = nonResourceURLsCoverAll(owner.nonResourceURLs, sub.nonResourceURLs);
  bool names = sub.resourceNames.empty()
                   ? owner.resourceNames.empty()
                   : owner.resourceNames.empty() || hasAll(owner.resourceNames, sub.resourceNames);
  return verbs && groups && resources && names && urls;
}

std::vector<PolicyRule> uncoveredRules(const std::vector<PolicyRule>& ownerRules,
                                       const std::vector<PolicyRule>& servantRules) {
  std::vector<PolicyRule> uncovered;
  for (const auto& servant : servantRules) {
    for (auto& sub : breakdownRule(servant)) {
      bool covered = std::any_of(ownerRules.begin(), ownerRules.end(),
                                 [&](const PolicyRule& owner) { return ruleCovers(owner, sub); });
      if (!covered) uncovered.push_back(std::move(sub));
    }
  }
  return uncovered;
}

std::vector<PolicyRule> compactRules(const std::vector<PolicyRule>& rules) {
  using Key = std::tuple<std::string, std::string, bool, std::string>;
  std::vector<PolicyRule> compacted;
  std::map<Key, std::size_t> simple;  // key -> index into `merged`
  std::vector<PolicyRule> merged;
  for (const auto& rule : rules) {
    bool isSimple = rule.resourceNames.size() <= 1 && rule.nonResourceURLs.empty() &&
                    rule.apiGroups.size() == 1 && rule.resources.size() == 1;
    if (!isSimple) {
      compacted.push_back(rule);
      continue;
    }
    Key key{rule.apiGroups[0], rule.resources[0], !rule.resourceNames.empty(),
            rule.resourceNames.empty() ? std::string() : rule.resourceNames[0]};
    auto it = simple.find(key);
    if (it == simple.end()) {
      simple.emplace(key, merged.size());
      merged.push_back(rule);
    } else {
      auto& verbs = merged[it->second].verbs;
      verbs.insert(verbs.end(), rule.verbs.begin(), rule.verbs.end());
    }
  }
  compacted.insert(compacted.end(), merged.begin(), merged.end());
  return compacted;
}

std::string compactString(const PolicyRule& rule) {
  std::vector<std::string> parts;
  if (!rule.apiGroups.empty()) parts.push_back("APIGroups:" + goQuoteList(rule.apiGroups));
  if (!rule.resources.empty()) parts.push_back("Resources:" + goQuoteList(rule.resources));
  if (!rule.nonResourceURLs.empty())
    parts.push_back("NonResourceURLs:" + goQuoteList(rule.nonResourceURLs));
  if (!rule.resourceNames.empty())
    parts.push_back("ResourceNames:" + goQuoteList(rule.resourceNames));
  if (!rule.verbs.empty()) parts.push_back("Verbs:" + goQuoteList(rule.verbs));
  std::string out = "{";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ", ";
    out += parts[i];
  }
  return out + "}";
}

std::string goQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // printable ASCII and UTF-8 bytes as they are
        }
    }
  }
  return out + "\"";
}

std::string goQuoteList(const std::vector<std::string>& list) {
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += " ";
    out += goQuote(list[i]);
  }
  return out + "]";
}

bool labelSelectorMatches(const nlohmann::json& selector, const nlohmann::json& labels) {
  if (!selector.is_object()) return false;
  auto label = [&](const std::string& key) -> std::optional<std::string> {
    if (!labels.is_object()) return std::nullopt;
    auto it = labels.find(key);
    if (it == labels.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (auto ml = selector.find("matchLabels"); ml != selector.end() && !ml->is_null()) {
    if (!ml->is_object()) return false;
    for (const auto& [key, value] : ml->items()) {
      if (!value.is_string() || label(key) != value.get<std::string>()) return false;
    }
  }
  if (auto me = selector.find("matchExpressions"); me != selector.end() && !me->is_null()) {
    if (!me->is_array()) return false;
    for (const auto& expr : *me) {
      if (!expr.is_object() || !expr.value("key", nlohmann::json()).is_string() ||
          !expr.value("operator", nlohmann::json()).is_string()) {
        return false;
      }
      std::string key = expr["key"].get<std::string>();
      std::string op = expr["operator"].get<std::string>();
      std::vector<std::string> values = stringList(expr, "values");
      auto current = label(key);
      if (op == "In" || op == "NotIn") {
        if (values.empty()) return false;  // invalid selector: matches nothing
        bool in = current && has(values, *current);
        if ((op == "In") != in) return false;
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (!values.empty()) return false;  // invalid selector
        if ((op == "Exists") != current.has_value()) return false;
      } else {
        return false;  // unknown operator: invalid selector
      }
    }
  }
  return true;
}

}  // namespace rio::testenv::rbac
