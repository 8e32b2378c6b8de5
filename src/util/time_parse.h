// src/util/time_parse.h
//
// Allocation-free RFC 3339 timestamp parsing for the before/after operators
// (clause values at compile time, attribute values at evaluation time) and for
// the `expires` metadata.
//
// Thread-safe (pure functions).

#ifndef HOTFIX_SRC_UTIL_TIME_PARSE_H_
#define HOTFIX_SRC_UTIL_TIME_PARSE_H_

#include <cstdint>
#include <string_view>

namespace hotfix {
namespace internal {

// ParseRfc3339()
//
// Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" ('t'/'z' and a space for 'T'
// also accepted), fraction truncated to microseconds, into Unix microseconds
// (UTC). Validates month/day ranges including leap years, hours < 24,
// minutes < 60, seconds <= 60 (a leap second is treated as :59). Years
// 0000-9999. Returns false on anything else. Cost: no allocation.
bool ParseRfc3339(std::string_view text, std::int64_t* unix_micros) noexcept;

// ParseDateOrRfc3339()
//
// As ParseRfc3339, but also accepts a bare "YYYY-MM-DD" (midnight UTC).
bool ParseDateOrRfc3339(std::string_view text,
                        std::int64_t* unix_micros) noexcept;

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_TIME_PARSE_H_
