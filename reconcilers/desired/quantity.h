// Resource quantities in the form the API server stores them (resource.Quantity's canonical
// String()): "2000m" comes back as "2", "1024Mi" as "1Gi". Desired objects must use that form, or
// the apply-if-changed comparison sees a difference on every pass and a no-op reconcile writes.
// Pure function.
#pragma once

#include <string>
#include <string_view>

namespace rio::desired {

/// The canonical text of a quantity, as kube-apiserver prints it: decimal quantities with the
/// largest SI suffix (n, u, m, "", k, M, G, T, P, E) that keeps the mantissa an integer (values
/// finer than 1n round up); binary quantities (Ki..Ei) with the largest binary suffix that keeps
/// it an integer, or as decimal when below 1024 or fractional. Exponent forms ("1e3") and text
/// that is not a quantity are returned unchanged. Never throws.
std::string canonicalQuantity(std::string_view text);

}  // namespace rio::desired
