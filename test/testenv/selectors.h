// Label and field selectors as kube-apiserver parses and evaluates them
// (k8s.io/apimachinery/pkg/labels and pkg/fields).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/meta/error.h"

namespace rio::testenv {

/// A parsed `labelSelector`: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
/// `a>1`, `a<1`, comma-separated (all must hold). Empty matches everything.
class LabelSelector {
 public:
  enum class Op {
    kEquals,
    kNotEquals,
    kIn,
    kNotIn,
    kExists,
    kDoesNotExist,
    kGreaterThan,
    kLessThan
  };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };

  /// Parses the query-parameter syntax. Errors are kInvalid with kube-apiserver's message
  /// ("unable to parse requirement: ...").
  static Expected<LabelSelector> parse(std::string_view text);
  /// From a metav1.LabelSelector JSON ({matchLabels, matchExpressions}); null/empty matches all.
  static Expected<LabelSelector> fromJson(const nlohmann::json& selector);

  bool matches(const std::map<std::string, std::string>& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

/// A parsed `fieldSelector`: `f=v`, `f==v`, `f!=v`, comma-separated.
class FieldSelector {
 public:
  struct Requirement {
    std::string field;
    std::string value;
    bool equals = true;
  };
  /// Errors are kInvalid ("invalid selector: ...").
  static Expected<FieldSelector> parse(std::string_view text);
  /// Evaluates with `fieldValue(field)` giving the object's value (nullopt: unsupported field —
  /// callers validate fields before matching).
  bool matches(
      const std::function<std::optional<std::string>(const std::string&)>& fieldValue) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  /// The value required by `field=value`, if the selector has exactly such a requirement.
  std::optional<std::string> requiredValue(const std::string& field) const;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace rio::testenv
