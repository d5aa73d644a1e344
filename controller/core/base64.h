// Standard base64 (RFC 4648 §4, with `=` padding), as Kubernetes uses it for Secret `data` and
// kubeconfig `*-data` fields.
#pragma once

#include <string>
#include <string_view>

#include "api/meta/error.h"

namespace rio::base64 {

/// Encodes `data` with the standard alphabet and `=` padding, on one line. Never fails.
std::string encode(std::string_view data);

/// Decodes standard base64 as Go's `base64.StdEncoding` does (so what kubectl and the API server
/// accept): padding is required; spaces, tabs and line breaks anywhere are ignored (PEM-style
/// wrapped input). An empty input decodes to an empty string.
/// Errors (kInvalid) say what is wrong and at which offset, never echoing the input: it is
/// usually secret material.
Expected<std::string> decode(std::string_view text);

}  // namespace rio::base64
