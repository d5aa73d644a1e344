// Command-line flags of the kubectl-remoteistio subcommands, in kubectl's conventions:
// "--name=value", "--name value", short "-o yaml" / "-n ns", boolean "--dry-run" (or
// "--dry-run=true|false|client"), "--" ends the flags; positional arguments anywhere.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "api/meta/error.h"

namespace rio::cli {

struct FlagSpec {
  std::string name;        // "remote-kubeconfig"
  char shortName = 0;      // 'o'
  bool boolean = false;
  std::string valueName;   // "FILE", shown in --help
  std::string help;
  std::string defaultValue;
};

struct ParsedArgs {
  std::map<std::string, std::string> values;  // flags given, by long name ("true"/"false" for booleans)
  std::vector<std::string> positionals;
  bool help = false;  // -h / --help

  /// The value given, else the spec's default.
  std::string get(const std::string& name, const std::vector<FlagSpec>& specs) const;
  bool has(const std::string& name) const { return values.count(name) > 0; }
  bool flag(const std::string& name) const;
};

/// Parses `args` (after the subcommand). Errors (kInvalid) name the flag: "unknown flag --foo",
/// "flag --context needs a value". Never throws.
Expected<ParsedArgs> parseArgs(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs);

/// The "Flags:" section of a --help text.
std::string flagsHelp(const std::vector<FlagSpec>& specs);

}  // namespace rio::cli
