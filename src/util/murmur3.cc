// src/util/murmur3.cc
//
// MurmurHash3_x86_32 (Austin Appleby, public domain), streamed over two
// pieces so that flagKey + targetingKey is hashed without a buffer.

#include "util/murmur3.h"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace hotfix {
namespace internal {
namespace {

constexpr std::uint32_t kC1 = 0xcc9e2d51;
constexpr std::uint32_t kC2 = 0x1b873593;

inline std::uint32_t Rotl(std::uint32_t x, int r) {
  return (x << r) | (x >> (32 - r));
}

inline std::uint32_t MixK(std::uint32_t k) {
  k *= kC1;
  k = Rotl(k, 15);
  return k * kC2;
}

}  // namespace

std::uint32_t Murmur3X86_32(std::string_view a, std::string_view b) noexcept {
  std::uint32_t h = 0;  // seed 0
  std::uint32_t block = 0;
  int filled = 0;  // bytes in `block`
  auto mix_block = [&](std::uint32_t k) {
    h ^= MixK(k);
    h = Rotl(h, 13);
    h = h * 5 + 0xe6546b64;
  };
  auto feed = [&](std::string_view s) {
    const char* p = s.data();
    std::size_t n = s.size();
    // Complete a block left open by the previous piece.
    while (filled != 0 && n > 0) {
      block |= static_cast<std::uint32_t>(static_cast<unsigned char>(*p++))
               << (8 * filled);
      --n;
      if (++filled == 4) {
        mix_block(block);
        block = 0;
        filled = 0;
      }
    }
    // Whole blocks, read little-endian (one load where the host is).
    for (; n >= 4; n -= 4, p += 4) {
      std::uint32_t k;
      if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&k, p, 4);
      } else {
        k = static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) |
            static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8 |
            static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 16 |
            static_cast<std::uint32_t>(static_cast<unsigned char>(p[3])) << 24;
      }
      mix_block(k);
    }
    for (; n > 0; --n) {
      block |= static_cast<std::uint32_t>(static_cast<unsigned char>(*p++))
               << (8 * filled);
      ++filled;
    }
  };
  feed(a);
  feed(b);
  if (filled != 0) h ^= MixK(block);
  h ^= static_cast<std::uint32_t>(a.size() + b.size());
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

}  // namespace internal
}  // namespace hotfix
