// Kubernetes timestamps on the wire: metav1.Time ("2026-11-25T18:54:44Z", seconds) and
// metav1.MicroTime ("2026-11-25T18:54:44.123456Z", microseconds, as Lease renewTime and Event
// eventTime carry them). api/meta/time.h formats and parses metav1.Time for the API types; the
// two could become one (they were written in parallel; both follow the API server's rules).
#pragma once

#include <string>
#include <string_view>

#include "api/meta/error.h"
#include "controller/core/clock.h"

namespace rio::helpers {

/// metav1.Time: RFC 3339 in UTC, second precision, sub-seconds truncated. Never throws.
std::string formatTime(WallTime t);
/// metav1.MicroTime: RFC 3339 in UTC with exactly six fractional digits (truncated). Never throws.
std::string formatMicroTime(WallTime t);
/// Parses RFC 3339 as the API server accepts it: "Z" or a numeric offset, with or without a
/// fraction (kept to the microsecond). Errors (kDecode) quote the input, which is a timestamp
/// and never secret. Never throws.
Expected<WallTime> parseTimestamp(std::string_view text);

}  // namespace rio::helpers
