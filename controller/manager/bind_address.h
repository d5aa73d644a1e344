// Listen addresses in the form kubebuilder's flags take them: ":8080" (every interface),
// "127.0.0.1:8080", "[::1]:8080", and "0" to disable the endpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/meta/error.h"

namespace rio::manager {

struct BindAddress {
  std::string host;        // "0.0.0.0" for ":port"
  std::uint16_t port = 0;  // 0 picks a free port
  bool operator==(const BindAddress&) const = default;
};

/// Parses a bind address; nullopt for "0" (disabled). Errors (kConfig) quote the text and say
/// what is expected. Never throws.
Expected<std::optional<BindAddress>> parseBindAddress(std::string_view text);

}  // namespace rio::manager
