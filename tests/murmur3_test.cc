// tests/murmur3_test.cc
//
// flagd bucketing (src/util/murmur3.h): the MurmurHash3 x86_32 golden vectors
// of flagd's evaluator suite (flagd-testbed's fractional edge keys, the
// worked examples of flagd's docs) and the bucket boundaries.

#include "util/murmur3.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace hotfix {
namespace internal {
namespace {

struct Vector {
  const char* input;
  std::uint32_t hash;
  std::uint32_t bucket100;
};

// Computed by imurmurhash 0.1.4 (what @openfeature/flagd-core uses) and an
// independent implementation over UTF-8 bytes; identical for ASCII.
constexpr Vector kVectors[] = {
    {"", 0u, 0},
    {"a", 1009084850u, 23},
    {"abc", 3017643002u, 70},
    {"hello", 613153351u, 14},
    {"The quick brown fox jumps over the lazy dog", 776992547u, 18},
    {"flagAuser1", 1681112478u, 39},
    {"flagAuser2", 1362626394u, 31},
    {"headerColorfoo@bar.com", 4240531476u, 98},
    {"headerColorfoo@test.com", 838143943u, 19},
    {"fractional-flag-shorthandjon@company.com", 618039204u, 14},
    {"fractional-flag-shorthandjane@company.com", 2316038310u, 53},
    {"fractional-flagjack", 2682799072u, 62},
    {"rolloutnull", 1178156439u, 27},
    // flagd-testbed's fractional-hash-edge keys.
    {"ejOoVL", 0u, 0},
    {"bY9fO-", 1u, 0},
    {"SI7p-", 2147483647u, 49},
    {"6LvT0", 2147483648u, 50},
    {"ceQdGm", 4294967295u, 99},
};

TEST(Murmur3Test, MatchesFlagdGoldenVectors) {
  for (const Vector& v : kVectors) {
    EXPECT_EQ(Murmur3X86_32(v.input), v.hash) << v.input;
    EXPECT_EQ(FractionalBucket(Murmur3X86_32(v.input), 100), v.bucket100)
        << v.input;
  }
}

TEST(Murmur3Test, TwoPiecesHashLikeTheirConcatenation) {
  const std::string s = "fractional-flag-shorthandjon@company.com";
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    EXPECT_EQ(Murmur3X86_32(std::string_view(s).substr(0, cut),
                            std::string_view(s).substr(cut)),
              618039204u)
        << cut;
  }
}

TEST(Murmur3Test, NonAsciiKeysHashTheirUtf8Bytes) {
  // flagd (Go) hashes UTF-8; @openfeature/flagd-core hashes UTF-16 code
  // units and differs here (2573629365): docs/openfeature.md.
  EXPECT_EQ(Murmur3X86_32("caf\xc3\xa9"), 605818632u);
  EXPECT_EQ(Murmur3X86_32("\xf0\x9f\x98\x80"), 3199479546u);
}

TEST(Murmur3Test, BucketBoundariesSplitFiftyFifty) {
  EXPECT_EQ(FractionalBucket(0, 2), 0u);
  EXPECT_EQ(FractionalBucket(2147483647u, 2), 0u);
  EXPECT_EQ(FractionalBucket(2147483648u, 2), 1u);
  EXPECT_EQ(FractionalBucket(4294967295u, 2), 1u);
  EXPECT_EQ(FractionalBucket(4294967295u, kMaxFractionalWeight),
            kMaxFractionalWeight - 1);
}

}  // namespace
}  // namespace internal
}  // namespace hotfix
