#include "reconcilers/cli/flags.h"

#include <algorithm>
#include <optional>

namespace rio::cli {
namespace {

const FlagSpec* findLong(const std::vector<FlagSpec>& specs, const std::string& name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const FlagSpec* findShort(const std::vector<FlagSpec>& specs, char c) {
  for (const auto& s : specs) {
    if (s.shortName == c) return &s;
  }
  return nullptr;
}

}  // namespace

std::string ParsedArgs::get(const std::string& name, const std::vector<FlagSpec>& specs) const {
  if (auto it = values.find(name); it != values.end()) return it->second;
  if (const auto* s = findLong(specs, name)) return s->defaultValue;
  return {};
}

bool ParsedArgs::flag(const std::string& name) const {
  auto it = values.find(name);
  return it != values.end() && it->second != "false";
}

Expected<ParsedArgs> parseArgs(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  ParsedArgs out;
  bool flagsEnded = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (flagsEnded || a.size() < 2 || a[0] != '-') {
      out.positionals.push_back(a);
      continue;
    }
    if (a == "--") {
      flagsEnded = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      out.help = true;
      continue;
    }
    const FlagSpec* spec = nullptr;
    std::string shown;
    std::optional<std::string> inlineValue;
    if (a.rfind("--", 0) == 0) {
      std::string body = a.substr(2);
      if (auto eq = body.find('='); eq != std::string::npos) {
        inlineValue = body.substr(eq + 1);
        body = body.substr(0, eq);
      }
      spec = findLong(specs, body);
      shown = "--" + body;
    } else if (a.size() >= 2) {
      spec = findShort(specs, a[1]);
      shown = a.substr(0, 2);
      if (a.size() > 2) inlineValue = a[2] == '=' ? a.substr(3) : a.substr(2);
    }
    if (!spec) return fail(Error::invalid("unknown flag " + shown));
    if (spec->boolean) {
      std::string v = inlineValue.value_or("true");
      if (v != "true" && v != "false" && !(spec->name == "dry-run" && v == "client")) {
        return fail(Error::invalid("flag " + shown + " takes true or false, not \"" + v + "\""));
      }
      out.values[spec->name] = v == "client" ? "true" : v;
      continue;
    }
    if (!inlineValue) {
      if (i + 1 >= args.size()) return fail(Error::invalid("flag " + shown + " needs a value"));
      inlineValue = args[++i];
    }
    out.values[spec->name] = *inlineValue;
  }
  return out;
}

std::string flagsHelp(const std::vector<FlagSpec>& specs) {
  std::string out = "Flags:\n";
  std::vector<std::string> left;
  std::size_t width = 0;
  for (const auto& s : specs) {
    std::string l = s.shortName ? std::string("  -") + s.shortName + ", --" + s.name : "      --" + s.name;
    if (!s.boolean) l += " " + (s.valueName.empty() ? std::string("string") : s.valueName);
    width = std::max(width, l.size());
    left.push_back(std::move(l));
  }
  left.emplace_back("  -h, --help");
  width = std::max(width, left.back().size());
  for (std::size_t i = 0; i < left.size(); ++i) {
    std::string help = i < specs.size() ? specs[i].help : "Show this help.";
    if (i < specs.size() && !specs[i].defaultValue.empty()) help += " (default \"" + specs[i].defaultValue + "\")";
    out += left[i] + std::string(width - left[i].size() + 3, ' ') + help + "\n";
  }
  return out;
}

}  // namespace rio::cli
