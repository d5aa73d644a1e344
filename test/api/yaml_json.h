// Test helper: YAML files -> JSON values, resolving plain scalars the way kubectl does
// (sigs.k8s.io/yaml, YAML 1.1 rules: yes/no/on/off are booleans), so a test sees what the API
// server would receive.
#pragma once

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

namespace rio::testing {

/// Absolute path of a file in the source tree.
inline std::string sourcePath(const std::string& relative) {
  std::string path(
      RIO_SOURCE_DIR);  // appended stepwise: GCC 12 -Warray-bounds misfires on a + b + c
  path.push_back('/');
  path.append(relative);
  return path;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline nlohmann::json yamlScalar(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted: always a string
  static const std::regex kInt(R"(^[-+]?[0-9]+$)");
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  static const std::vector<std::string> kTrue = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                                 "True", "TRUE", "on",  "On",  "ON"};
  static const std::vector<std::string> kFalse = {"n",     "N",     "no",  "No",  "NO", "false",
                                                  "False", "FALSE", "off", "Off", "OFF"};
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  for (const auto& t : kTrue) {
    if (s == t) return true;
  }
  for (const auto& f : kFalse) {
    if (s == f) return false;
  }
  if (std::regex_match(s, kInt)) return std::stoll(s);
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

inline nlohmann::json yamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return yamlScalar(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(yamlToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = yamlToJson(kv.second);
      return out;
    }
  }
  return nullptr;
}

/// Every non-empty document of a YAML file, as JSON.
inline std::vector<nlohmann::json> loadYamlDocuments(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& doc : YAML::LoadAllFromFile(path)) {
    if (!doc.IsNull()) out.push_back(yamlToJson(doc));
  }
  return out;
}

/// The single document of a YAML file, as JSON.
inline nlohmann::json loadYaml(const std::string& relativePath) {
  auto docs = loadYamlDocuments(sourcePath(relativePath));
  if (docs.size() != 1) throw std::runtime_error(relativePath + ": want exactly one document");
  return docs[0];
}

}  // namespace rio::testing
