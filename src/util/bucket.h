// src/util/bucket.h
//
// Percentage-rollout bucketing: XXH3-64 (seed 0) of `salt + ":" + value`,
// modulo kBucketCount. Stable across processes, platforms and languages
// (golden vectors in tests/bucket_test.cc); see docs/flag-format.md.
//
// Thread-safe (pure function).

#ifndef HOTFIX_SRC_UTIL_BUCKET_H_
#define HOTFIX_SRC_UTIL_BUCKET_H_

#include <cstdint>
#include <string_view>

namespace hotfix {
namespace internal {

// Buckets per 100 %: one bucket is 0.001 %.
inline constexpr std::uint32_t kBucketCount = 100000;

// BucketOf()
//
// Returns XXH3_64bits(salt ":" value) % kBucketCount.
// Cost: no allocation for salt + value up to 512 bytes (stack buffer); longer
// inputs use XXH3's streaming state on the stack, still without allocation.
std::uint32_t BucketOf(std::string_view salt, std::string_view value) noexcept;

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_BUCKET_H_
