// src/util/semver.h
//
// Allocation-free Semantic Versioning 2.0.0 parsing and precedence, used by
// the semver_* clause operators both at compile time (clause values) and at
// evaluation time (attribute values).
//
// Thread-safe (pure functions).

#ifndef HOTFIX_SRC_UTIL_SEMVER_H_
#define HOTFIX_SRC_UTIL_SEMVER_H_

#include <cstdint>
#include <string_view>

namespace hotfix {
namespace internal {

struct SemVer {
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::uint64_t patch = 0;
  // Dot-separated pre-release identifiers ("rc.1"), empty if none. A view into
  // the parsed text, which must outlive this struct.
  std::string_view prerelease;
};

// ParseSemVer()
//
// Parses "MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]", optionally prefixed with
// "v" or "V". Numeric parts have no leading zeros (except "0") and must fit in
// uint64; identifiers are [0-9A-Za-z-]+, non-empty; numeric pre-release
// identifiers have no leading zeros. Build metadata is validated and dropped.
// Returns false on anything else. Cost: no allocation.
bool ParseSemVer(std::string_view text, SemVer* out) noexcept;

// CompareSemVer()
//
// Returns <0, 0 or >0 by SemVer precedence: major, minor, patch numerically;
// a pre-release sorts before the release; pre-release identifiers compared
// left to right, numeric ones numerically and below alphanumeric ones,
// alphanumeric ones in ASCII order, a shorter list first when all else ties.
int CompareSemVer(const SemVer& a, const SemVer& b) noexcept;

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_SEMVER_H_
