// Go duration strings ("24h", "1h30m", "10m", "1.5s", "250ms"), as metav1.Duration and
// time.ParseDuration read and write them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "api/meta/error.h"

namespace rio::meta {

/// Parses a Go duration string with time.ParseDuration's grammar: an optional sign, then one or
/// more decimal numbers each with a unit (ns, us, µs, μs, ms, s, m, h), or the bare "0".
/// Errors (kind kDecode) on syntax, unknown units and overflow of 64-bit nanoseconds.
/// Never throws.
Expected<std::chrono::nanoseconds> parseDuration(std::string_view text);

/// Formats as Go's Duration.String(): "24h0m0s", "10m0s", "1.5s", "250ms", "12.5µs", "0s".
std::string formatDuration(std::chrono::nanoseconds d);

/// The shortest exact form in a single unit for whole seconds: "168h", "10m", "90s", "0s".
/// Used for bounds in messages and CEL rules. Sub-second parts fall back to formatDuration.
std::string formatDurationShort(std::chrono::nanoseconds d);

}  // namespace rio::meta
