// src/util/murmur3.h
//
// flagd's `fractional` bucketing: MurmurHash3 x86_32 with seed 0 over the
// UTF-8 bytes of the bucketing key, and bucket = (uint64(hash) * total) >> 32
// over integer weights (flagd >= 0.15, @openfeature/flagd-core >= 3.0). A team
// moving from flagd keeps every user in the same bucket; golden vectors from
// flagd's own test suite are in tests/murmur3_test.cc. hotfix's native
// rollouts keep their XXH3 buckets (util/bucket.h).
//
// Thread-safe (pure functions).

#ifndef HOTFIX_SRC_UTIL_MURMUR3_H_
#define HOTFIX_SRC_UTIL_MURMUR3_H_

#include <cstdint>
#include <string_view>

namespace hotfix {
namespace internal {

// Murmur3X86_32()
//
// MurmurHash3_x86_32(a + b, seed 0): the hash of the concatenation, computed
// without building it (flagd hashes flagKey + targetingKey).
// Cost: about one multiply-rotate round per 4 bytes; no allocation.
std::uint32_t Murmur3X86_32(std::string_view a,
                            std::string_view b = {}) noexcept;

// FractionalBucket()
//
// flagd's bucket of `hash` among `total_weight` units: in [0, total_weight).
inline std::uint32_t FractionalBucket(std::uint32_t hash,
                                      std::uint32_t total_weight) noexcept {
  return static_cast<std::uint32_t>(
      (static_cast<std::uint64_t>(hash) * total_weight) >> 32);
}

// The largest total weight flagd accepts (the sum of a fractional's weights);
// above it `fractional` yields null.
inline constexpr std::uint32_t kMaxFractionalWeight = 2147483647;

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_MURMUR3_H_
