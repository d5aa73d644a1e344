// resource.Quantity ("100m", "128Mi", "2", 1.5): the value type of container resources.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rio::meta {

/// A Kubernetes quantity as written by the user: a JSON string ("100m", "1Gi") or number (2).
/// The original form is kept, so it round-trips unchanged.
struct Quantity {
  nlohmann::json raw;  // string or number

  Quantity() = default;
  /// From the JSON form: a string ("100m") or a number (2).
  explicit Quantity(nlohmann::json value) : raw(std::move(value)) {}

  /// The numeric value (cores, bytes, ...), nullopt when the text is not a quantity.
  std::optional<long double> value() const;
  /// The text form ("100m"; numbers printed as JSON would).
  std::string toString() const;

  bool operator==(const Quantity&) const = default;
};

/// The pattern the CRD schema declares for quantities (as controller-gen writes it).
inline constexpr std::string_view kQuantityPattern =
    R"(^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)";

/// Parses the quantity grammar of k8s.io/apimachinery/pkg/api/resource:
/// `[+-]number[suffix]`, suffix one of Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an e/E exponent.
/// nullopt on anything else. Never throws.
std::optional<long double> parseQuantity(std::string_view text);

}  // namespace rio::meta
