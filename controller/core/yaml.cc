#include "controller/core/yaml.h"

#include <regex>

#include <yaml-cpp/yaml.h>

namespace rio::yaml {

std::size_t nestingDepth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool inString = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        inString = false;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      inString = true;
      quote = c;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

namespace {

nlohmann::json plainScalar(const std::string& s) {
  // YAML 1.1 core values as sigs.k8s.io/yaml (go-yaml v2) resolves them.
  static const std::regex kInt("[-+]?(0|[1-9][0-9_]*)");
  static const std::regex kHex("0x[0-9a-fA-F_]+");
  static const std::regex kFloat(
      "[-+]?([0-9][0-9_]*)?\\.[0-9]*([eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "Yes" || s == "YES" ||
      s == "on" || s == "On" || s == "ON") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "No" || s == "NO" ||
      s == "off" || s == "Off" || s == "OFF") {
    return false;
  }
  if (s.size() < 40 && std::regex_match(s, kInt)) {
    std::string digits;
    for (char c : s) {
      if (c != '_') digits += c;
    }
    try {
      return std::stoll(digits);
    } catch (...) {
      return s;
    }
  }
  if (s.size() < 40 && std::regex_match(s, kHex)) {
    try {
      return std::stoll(s.substr(2), nullptr, 16);
    } catch (...) {
      return s;
    }
  }
  if (s.size() < 60 && s != "." && std::regex_match(s, kFloat)) {
    try {
      double d = std::stod(s);
      if (d == static_cast<double>(static_cast<long long>(d)) &&
          s.find_first_of("eE") == std::string::npos && s.find('.') == std::string::npos) {
        return static_cast<long long>(d);
      }
      return d;
    } catch (...) {
      return s;
    }
  }
  return s;
}

nlohmann::json convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return node.Scalar();
      return plainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : node) arr.push_back(convert(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& kv : node) {
        std::string key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
        obj[key] = convert(kv.second);
      }
      return obj;
    }
  }
  return nullptr;
}

Expected<std::vector<YAML::Node>> load(std::string_view text) {
  if (nestingDepth(text) > kMaxNesting) return fail(Error::decode("yaml: exceeded max depth"));
  try {
    return YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    // e.msg describes the syntax problem; the document's content is not quoted.
    return fail(
        Error::decode(std::string("yaml: line ") + std::to_string(e.mark.line + 1) + ": " + e.msg));
  } catch (const std::exception& e) {
    return fail(Error::decode(std::string("yaml: ") + e.what()));
  }
}

// A string a YAML reader would take as something else (or could not read back plain).
bool needsQuotes(const std::string& s) {
  if (s.empty()) return true;
  if (!plainScalar(s).is_string()) return true;
  // Leading/trailing blanks, indicators and sequences that change meaning in plain scalars.
  if (s.front() == ' ' || s.back() == ' ') return true;
  static const std::string kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(s.front()) != std::string::npos) return true;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return true;
  if (s.back() == ':') return true;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return s == "<<" || s == "=";
}

void emit(YAML::Emitter& out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      if (v.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      out << YAML::BeginMap;
      for (const auto& [k, item] : v.items()) {
        out << YAML::Key;
        if (needsQuotes(k)) out << YAML::DoubleQuoted;
        out << k << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      return;
    case nlohmann::json::value_t::array:
      if (v.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      out << YAML::BeginSeq;
      for (const auto& item : v) emit(out, item);
      out << YAML::EndSeq;
      return;
    case nlohmann::json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      bool multiLine = s.find('\n') != std::string::npos;
      bool literalSafe = multiLine && s.find('\r') == std::string::npos &&
                         s.find('\t') == std::string::npos && s.front() != ' ' &&
                         s.front() != '\n';
      if (literalSafe) {
        out << YAML::Literal << s;
      } else if (needsQuotes(s)) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      return;
    }
    case nlohmann::json::value_t::boolean:
      out << (v.get<bool>() ? "true" : "false");
      return;
    case nlohmann::json::value_t::number_integer:
      out << v.get<long long>();
      return;
    case nlohmann::json::value_t::number_unsigned:
      out << v.get<unsigned long long>();
      return;
    case nlohmann::json::value_t::number_float:
      out << v.dump();
      return;
    default:
      out << YAML::Null;
      return;
  }
}

}  // namespace

Expected<nlohmann::json> yamlToJson(std::string_view text) {
  // A JSON object is a YAML document with the same meaning, and most texts that reach here are
  // JSON (server-side apply bodies, API answers): read it as JSON, several times faster; any
  // text JSON does not accept (YAML flow style, comments, a second document) goes to the YAML
  // reader below, which also reports the errors.
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{' && nestingDepth(text) <= kMaxNesting) {
    auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) return parsed;
  }
  auto docs = load(text);
  if (!docs) return fail(docs.error());
  try {
    for (const auto& doc : *docs) {
      if (!doc.IsNull()) return convert(doc);
    }
  } catch (const std::exception& e) {
    return fail(Error::decode(std::string("yaml: ") + e.what()));
  }
  return nlohmann::json(nullptr);
}

Expected<std::vector<nlohmann::json>> yamlToJsonAll(std::string_view text) {
  auto docs = load(text);
  if (!docs) return fail(docs.error());
  std::vector<nlohmann::json> out;
  try {
    for (const auto& doc : *docs) {
      if (!doc.IsNull()) out.push_back(convert(doc));
    }
  } catch (const std::exception& e) {
    return fail(Error::decode(std::string("yaml: ") + e.what()));
  }
  return out;
}

std::string jsonToYaml(const nlohmann::json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emit(out, value);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text.push_back('\n');
  return text;
}

std::string jsonToYamlAll(const std::vector<nlohmann::json>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += "---\n";
    out += jsonToYaml(values[i]);
  }
  return out;
}

}  // namespace rio::yaml
