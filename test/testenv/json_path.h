// The subset of kubectl's JSONPath that CRD additionalPrinterColumns and selectable fields use:
// `.a.b`, `['a.b']`, `[0]`, `[*]`, and filters `[?(@.type=="Ready")]` (==, !=, <, >, <=, >=, or
// existence `[?(@.x)]`). Braces `{...}` around the expression are accepted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"

namespace rio::testenv {

class JsonPath {
 public:
  /// Parses; kInvalid for syntax this subset does not know.
  static Expected<JsonPath> parse(std::string_view expression);
  /// Every value the path reaches in `root`, in document order (empty when nothing matches).
  std::vector<nlohmann::json> evaluate(const nlohmann::json& root) const;

  struct Step;

 private:
  std::vector<std::shared_ptr<const Step>> steps_;
};

}  // namespace rio::testenv
