// Prometheus text exposition of a registry, and a lookup of one sample in it, for metric tests.
#pragma once

#include <optional>
#include <sstream>
#include <string>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace rio::testing {

inline std::string metricsText(const prometheus::Registry& registry) {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry.Collect());
}

/// The value of the sample whose line starts with `series` followed by a space, e.g.
/// `workqueue_adds_total{name="q"}`; nullopt when there is no such line.
inline std::optional<double> sampleValue(const prometheus::Registry& registry,
                                         const std::string& series) {
  std::istringstream in(metricsText(registry));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

}  // namespace rio::testing
