#include "test/testenv/selectors.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "test/testenv/name_syntax.h"

namespace rio::testenv {
namespace {

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// Splits on commas outside parentheses.
std::vector<std::string> splitTopLevel(std::string_view text) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth <= 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

bool validLabelKey(const std::string& key) {
  auto slash = key.find('/');
  std::string_view name = key;
  if (slash != std::string::npos) {
    std::string_view prefix = name.substr(0, slash);
    if (prefix.empty() || prefix.size() > 253 || !syntax::isDns1123Subdomain(prefix)) return false;
    name.remove_prefix(slash + 1);
  }
  return name.size() <= 63 && syntax::isQualifiedNamePart(name);
}

bool validLabelValue(const std::string& value) {
  return value.size() <= 63 && syntax::isLabelValueSyntax(value);
}

Error parseError(const std::string& detail) {
  return Error::invalid("unable to parse requirement: " + detail);
}

Expected<LabelSelector::Requirement> parseRequirement(const std::string& raw) {
  using Op = LabelSelector::Op;
  std::string text = trim(raw);
  if (text.empty()) return fail(parseError("found '', expected: identifier"));
  LabelSelector::Requirement req;
  if (text[0] == '!') {
    req.key = trim(std::string_view(text).substr(1));
    req.op = Op::kDoesNotExist;
  } else {
    static const std::regex kSet("([^\\s!=<>(),]+)\\s+(in|notin)\\s*\\((.*)\\)");
    std::smatch m;
    if (std::regex_match(text, m, kSet)) {
      req.key = m[1];
      req.op = m[2] == "in" ? Op::kIn : Op::kNotIn;
      std::string list = m[3];
      std::size_t start = 0;
      while (true) {
        auto comma = list.find(',', start);
        std::string v = trim(std::string_view(list).substr(
            start, comma == std::string::npos ? std::string::npos : comma - start));
        req.values.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (req.values.size() == 1 && req.values[0].empty() && req.op == Op::kIn) {
        return fail(parseError("for 'in', 'notin' operators, values set can't be empty"));
      }
    } else {
      std::size_t pos;
      std::size_t len = 0;
      if ((pos = text.find("!=")) != std::string::npos) {
        req.op = Op::kNotEquals;
        len = 2;
      } else if ((pos = text.find("==")) != std::string::npos) {
        req.op = Op::kEquals;
        len = 2;
      } else if ((pos = text.find('=')) != std::string::npos) {
        req.op = Op::kEquals;
        len = 1;
      } else if ((pos = text.find('>')) != std::string::npos) {
        req.op = Op::kGreaterThan;
        len = 1;
      } else if ((pos = text.find('<')) != std::string::npos) {
        req.op = Op::kLessThan;
        len = 1;
      }
      if (len == 0) {
        req.key = text;
        req.op = Op::kExists;
      } else {
        req.key = trim(std::string_view(text).substr(0, pos));
        req.values.push_back(trim(std::string_view(text).substr(pos + len)));
      }
    }
  }
  if (!validLabelKey(req.key)) {
    return fail(
        parseError("key: Invalid value: \"" + req.key +
                   "\": name part must consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character"));
  }
  for (const auto& v : req.values) {
    if (req.op == Op::kGreaterThan || req.op == Op::kLessThan) {
      try {
        std::size_t used = 0;
        (void)std::stoll(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
      } catch (...) {
        return fail(parseError("for 'Gt', 'Lt' operators, the value must be an integer"));
      }
    } else if (!validLabelValue(v)) {
      return fail(parseError("values[0][" + req.key + "]: Invalid value: \"" + v +
                             "\": a valid label must be an empty string or consist of alphanumeric "
                             "characters, '-', '_' or '.', and must start and end with an "
                             "alphanumeric character"));
    }
  }
  return req;
}

}  // namespace

Expected<LabelSelector> LabelSelector::parse(std::string_view text) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  for (const auto& part : splitTopLevel(text)) {
    auto req = parseRequirement(part);
    if (!req) return fail(req.error());
    sel.requirements_.push_back(std::move(*req));
  }
  return sel;
}

Expected<LabelSelector> LabelSelector::fromJson(const nlohmann::json& selector) {
  LabelSelector sel;
  if (selector.is_null()) return sel;
  if (!selector.is_object()) return fail(Error::invalid("selector must be an object"));
  if (auto it = selector.find("matchLabels"); it != selector.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return fail(Error::invalid("matchLabels values must be strings"));
      sel.requirements_.push_back({k, Op::kEquals, {v.get<std::string>()}});
    }
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (!e.is_object()) return fail(Error::invalid("matchExpressions entries must be objects"));
      Requirement r;
      if (!e.contains("key") || !e["key"].is_string())
        return fail(Error::invalid("key is required"));
      r.key = e["key"].get<std::string>();
      std::string op = e.value("operator", "");
      if (op == "In")
        r.op = Op::kIn;
      else if (op == "NotIn")
        r.op = Op::kNotIn;
      else if (op == "Exists")
        r.op = Op::kExists;
      else if (op == "DoesNotExist")
        r.op = Op::kDoesNotExist;
      else
        return fail(Error::invalid("\"" + op + "\" is not a valid label selector operator"));
      if (auto vs = e.find("values"); vs != e.end() && vs->is_array()) {
        for (const auto& v : *vs) {
          if (v.is_string()) r.values.push_back(v.get<std::string>());
        }
      }
      sel.requirements_.push_back(std::move(r));
    }
  }
  return sel;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& r : requirements_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    auto inValues = [&] {
      return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    };
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        if (!inValues()) return false;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        if (inValues()) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kDoesNotExist:
        if (has) return false;
        break;
      case Op::kGreaterThan:
      case Op::kLessThan: {
        if (!has) return false;
        try {
          long long have = std::stoll(it->second);
          long long want = std::stoll(r.values.at(0));
          if (r.op == Op::kGreaterThan ? !(have > want) : !(have < want)) return false;
        } catch (...) {
          return false;
        }
        break;
      }
    }
  }
  return true;
}

Expected<FieldSelector> FieldSelector::parse(std::string_view text) {
  FieldSelector sel;
  if (trim(text).empty()) return sel;
  for (const auto& raw : splitTopLevel(text)) {
    std::string part = trim(raw);
    Requirement r;
    std::size_t pos;
    if ((pos = part.find("!=")) != std::string::npos) {
      r.field = trim(std::string_view(part).substr(0, pos));
      r.value = trim(std::string_view(part).substr(pos + 2));
      r.equals = false;
    } else if ((pos = part.find("==")) != std::string::npos) {
      r.field = trim(std::string_view(part).substr(0, pos));
      r.value = trim(std::string_view(part).substr(pos + 2));
    } else if ((pos = part.find('=')) != std::string::npos) {
      r.field = trim(std::string_view(part).substr(0, pos));
      r.value = trim(std::string_view(part).substr(pos + 1));
    } else {
      return fail(Error::invalid("invalid selector: '" + std::string(text) +
                                 "'; can't understand '" + part + "'"));
    }
    if (r.field.empty()) {
      return fail(Error::invalid("invalid selector: '" + std::string(text) +
                                 "'; can't understand '" + part + "'"));
    }
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

bool FieldSelector::matches(
    const std::function<std::optional<std::string>(const std::string&)>& fieldValue) const {
  for (const auto& r : requirements_) {
    auto v = fieldValue(r.field);
    std::string have = v.value_or("");
    if (r.equals ? have != r.value : have == r.value) return false;
  }
  return true;
}

std::optional<std::string> FieldSelector::requiredValue(const std::string& field) const {
  for (const auto& r : requirements_) {
    if (r.field == field && r.equals) return r.value;
  }
  return std::nullopt;
}

}  // namespace rio::testenv
