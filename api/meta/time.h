// metav1.Time on the wire: RFC 3339 with second precision in UTC ("2026-11-25T18:54:44Z").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "api/meta/error.h"

namespace rio::meta {

/// A Kubernetes timestamp (metav1.Time): wall-clock time with second precision.
using Time = std::chrono::sys_seconds;

/// Truncates a wall-clock time to the second, as metav1.Time does when it is serialised.
Time toTime(std::chrono::system_clock::time_point t);

/// Formats as RFC 3339 in UTC with second precision: "2026-11-25T18:54:44Z".
/// Sub-second parts are dropped (truncated, never rounded up). Thread-safe, never throws.
std::string formatTime(std::chrono::system_clock::time_point t);

/// Parses an RFC 3339 timestamp the way metav1.Time accepts it: "2026-11-25T18:54:44Z",
/// fractional seconds ("...44.123Z", truncated) and numeric offsets ("...44+08:00", converted to
/// UTC), with a year from 1678 to 2261 (what system_clock can hold). Errors (kind kDecode) for
/// anything else, with the input quoted in the message (the
/// input is never a secret: it comes from a timestamp field). Never throws.
Expected<Time> parseTime(std::string_view text);

}  // namespace rio::meta
