#include "test/testenv/object_util.h"

#include <cstdio>
#include <ctime>
#include <regex>

#include <yaml-cpp/yaml.h>

namespace rio::testenv {

std::string formatTimestamp(WallTime t) {
  std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<WallTime> parseTimestamp(std::string_view text) {
  if (text.size() < 20) return std::nullopt;
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &mon, &day, &hour, &min, &sec) !=
      6) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::time_t secs = timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs);
}

std::string humanDuration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  long long seconds = duration_cast<std::chrono::seconds>(d).count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  long long minutes = seconds / 60;
  if (minutes < 10) {
    long long s = seconds % 60;
    return s == 0 ? std::to_string(minutes) + "m"
                  : std::to_string(minutes) + "m" + std::to_string(s) + "s";
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  long long hours = minutes / 60;
  if (hours < 8) {
    long long m = minutes % 60;
    return m == 0 ? std::to_string(hours) + "h"
                  : std::to_string(hours) + "h" + std::to_string(m) + "m";
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    long long h = hours % 24;
    return h == 0 ? std::to_string(hours / 24) + "d"
                  : std::to_string(hours / 24) + "d" + std::to_string(h) + "h";
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    long long dy = (hours / 24) % 365;
    return dy == 0 ? std::to_string(hours / 24 / 365) + "y"
                   : std::to_string(hours / 24 / 365) + "y" + std::to_string(dy) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

std::string newUuid(std::mt19937_64& rng) {
  std::uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  char buf[64];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string randomNameSuffix(std::mt19937_64& rng) {
  // k8s.io/apimachinery/pkg/util/rand: no vowels and no confusable characters.
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < 5; ++i) out += kAlphabet[rng() % (sizeof kAlphabet - 1)];
  return out;
}

std::string stringAt(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

const nlohmann::json& metadataOf(const nlohmann::json& obj) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (!obj.is_object()) return kEmpty;
  auto it = obj.find("metadata");
  if (it == obj.end() || !it->is_object()) return kEmpty;
  return *it;
}

std::string metaString(const nlohmann::json& obj, std::string_view key) {
  return stringAt(metadataOf(obj), key);
}

std::map<std::string, std::string> labelsOf(const nlohmann::json& obj) {
  std::map<std::string, std::string> out;
  const auto& meta = metadataOf(obj);
  auto it = meta.find("labels");
  if (it == meta.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) out.emplace(k, v.get<std::string>());
  }
  return out;
}

std::uint64_t resourceVersionOf(const nlohmann::json& obj) {
  std::string rv = metaString(obj, "resourceVersion");
  if (rv.empty() || rv.size() > 19) return 0;
  std::uint64_t v = 0;
  for (char c : rv) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

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

}  // namespace

Expected<nlohmann::json> yamlToJson(std::string_view text) {
  if (nestingDepth(text) > kMaxNesting) return fail(Error::decode("yaml: exceeded max depth"));
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    for (const auto& doc : docs) {
      if (!doc.IsNull()) return convert(doc);
    }
    return nlohmann::json(nullptr);
  } catch (const YAML::Exception& e) {
    return fail(
        Error::decode(std::string("yaml: line ") + std::to_string(e.mark.line + 1) + ": " + e.msg));
  } catch (const std::exception& e) {
    return fail(Error::decode(std::string("yaml: ") + e.what()));
  }
}

}  // namespace rio::testenv
