// src/util/bucket.cc
//
// Percentage-rollout bucketing (see bucket.h and docs/flag-format.md).

#include "util/bucket.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace hotfix {
namespace internal {
namespace {

// Inputs (salt ":" value) up to this many bytes are hashed in one shot from a
// stack buffer; longer ones go through XXH3's streaming state, which gives the
// same result.
constexpr std::size_t kStackBufferBytes = 512;

constexpr char kSeparator = ':';

}  // namespace

std::uint32_t BucketOf(std::string_view salt, std::string_view value) noexcept {
  const std::size_t total = salt.size() + 1 + value.size();
  XXH64_hash_t hash;
  if (total <= kStackBufferBytes) {
    char buffer[kStackBufferBytes];
    if (!salt.empty()) std::memcpy(buffer, salt.data(), salt.size());
    buffer[salt.size()] = kSeparator;
    if (!value.empty()) {
      std::memcpy(buffer + salt.size() + 1, value.data(), value.size());
    }
    hash = XXH3_64bits(buffer, total);
  } else {
    // XXH3_state_t's members carry 64-byte alignment; alignas makes that
    // explicit for the stack object. XXH3_INITSTATE is what xxhash documents
    // for a state not obtained from XXH3_createState().
    alignas(64) XXH3_state_t state;
    XXH3_INITSTATE(&state);
    XXH3_64bits_reset(&state);
    XXH3_64bits_update(&state, salt.data(), salt.size());
    XXH3_64bits_update(&state, &kSeparator, 1);
    XXH3_64bits_update(&state, value.data(), value.size());
    hash = XXH3_64bits_digest(&state);
  }
  return static_cast<std::uint32_t>(hash % kBucketCount);
}

}  // namespace internal
}  // namespace hotfix
