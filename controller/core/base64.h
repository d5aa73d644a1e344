// Base64 (RFC 4648, standard alphabet with padding), as Kubernetes uses it for Secret data and
// kubeconfig *-data fields.
#pragma once

#include <string>
#include <string_view>

#include "api/meta/error.h"

namespace rio {

std::string base64Encode(std::string_view data);
/// Decodes standard base64; whitespace and newlines are ignored. Invalid input is a kDecode error
/// (the message never contains the input).
Expected<std::string> base64Decode(std::string_view text);

}  // namespace rio
