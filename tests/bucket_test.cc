// tests/bucket_test.cc
//
// Percentage-rollout bucketing (src/util/bucket.h): golden vectors that any
// other implementation must reproduce, rollout properties (monotonic ramps
// through compiled splits, shares, independent salts), and the agreement of
// the stack-buffer and streaming paths.

#include "util/bucket.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <xxhash.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "hotfix/context.h"
#include "hotfix/snapshot.h"

namespace hotfix {
namespace internal {
namespace {

constexpr int kKeys = 100000;

std::string Key(int i) { return "user-" + std::to_string(i); }

// Reference: the linked libxxhash's one-shot XXH3_64bits over the
// concatenated bytes.
std::uint64_t ReferenceHash(std::string_view salt, std::string_view value) {
  std::string input;
  input.append(salt.data(), salt.size());
  input.push_back(':');
  input.append(value.data(), value.size());
  return XXH3_64bits(input.data(), input.size());
}

struct GoldenVector {
  std::string salt;
  std::string value;
  std::uint64_t hash;  // XXH3-64, seed 0, of salt ":" value
  std::uint32_t bucket;
};

// Expected values computed independently with the xxhsum 0.8.1 CLI
// (`xxhsum -H3 FILE`, XXH3 64-bit, seed 0) on files holding exactly the bytes
// salt ":" value. Lengths cover each XXH3 size class (1-3, 9-16, 17-128,
// 129-240, 241+) and both BucketOf paths (<= 512 bytes, > 512 bytes).
std::vector<GoldenVector> GoldenVectors() {
  return {
      {"", "", 0xa4209686811de3ccULL, 26284},                    // ":" (1 byte)
      {"a", "b", 0x35a5819dd7f7c459ULL, 26521},                  // 3 bytes
      {"fix-123", "user-1", 0x75fffabbefa9e609ULL, 3241},        // 14 bytes
      {"fix-123", "user-2", 0x98280c94fa9fb227ULL, 35463},       // 14 bytes
      {"new-checkout", "user-42", 0x14b069db241f1ff2ULL, 8050},  // 20 bytes
      {"fix-123", "\xc3\xbcser-1", 0x20d9f4a6fb4b8580ULL, 85376},  // UTF-8
      {"payments-kill", std::string(200, 'x'), 0x2a64c95a2bc9729cULL,
       892},  // 214 bytes
      {"fix-123", std::string(400, 'k'), 0xb26d05a190a8a0fbULL,
       78011},  // 408 bytes, stack path
      {"fix-123", std::string(1000, 'k'), 0x71d26063af9fdf38ULL,
       13496},  // 1008 bytes, streaming path
      {std::string(600, 'S'), "user-1", 0x11ff7a55931f016aULL,
       83754},  // 607 bytes, streaming path, long salt
  };
}

TEST(BucketTest, MatchesGoldenVectors) {
  for (const GoldenVector& g : GoldenVectors()) {
    const std::string label =
        g.salt.substr(0, 20) + ":" + g.value.substr(0, 20) + " (" +
        std::to_string(g.salt.size() + 1 + g.value.size()) + " bytes)";
    // The vector itself is consistent...
    EXPECT_EQ(g.hash % kBucketCount, g.bucket) << label;
    // ...the reference library agrees with the CLI...
    EXPECT_EQ(ReferenceHash(g.salt, g.value), g.hash) << label;
    // ...and BucketOf reproduces it.
    EXPECT_EQ(BucketOf(g.salt, g.value), g.bucket) << label;
  }
}

TEST(BucketTest, IsBelowBucketCountAndDeterministic) {
  for (int i = 0; i < 1000; ++i) {
    const std::string key = Key(i);
    const std::uint32_t b = BucketOf("fix-123", key);
    EXPECT_LT(b, kBucketCount);
    EXPECT_EQ(BucketOf("fix-123", key), b);
  }
}

TEST(BucketTest, SeparatorIsPartOfTheInput) {
  // salt ":" value is hashed as one string, so moving bytes across the
  // separator changes the input and (for these) the bucket...
  EXPECT_NE(BucketOf("ab", "c"), BucketOf("a", "bc"));
  // ...while the same bytes give the same bucket however they are split.
  EXPECT_EQ(BucketOf("a:b", "c"), BucketOf("a", "b:c"));
  EXPECT_EQ(BucketOf("fix-123", "user-1"),
            static_cast<std::uint32_t>(ReferenceHash("fix-123", "user-1") %
                                       kBucketCount));
}

// A flag serving "on" to `percent` % through a fallthrough split, the "on"
// entry listed first or last.
std::unique_ptr<const Snapshot> Ramp(double percent, bool on_first) {
  const std::string on =
      absl::StrCat(R"({"variant": "on", "weight": )", percent, "}");
  const std::string off =
      absl::StrCat(R"({"variant": "off", "weight": )", 100 - percent, "}");
  auto snapshot = Compile(absl::StrCat(
      R"({"version": 1, "flags": {"fix-123": {"variants": {"on": true, "off": false},
          "default": {"rollout": {"split": [)",
      on_first ? on : off, ", ", on_first ? off : on, "]}}}}}"));
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  return snapshot.ok() ? *std::move(snapshot) : nullptr;
}

TEST(RolloutTest, RaisingPercentageOnlyAddsKeys) {
  // An operator's ramp, fractional steps included; weights with three
  // decimals are exact in buckets (0.001 %), so 100 - p is too.
  const std::vector<double> ladder = {0,  0.001, 0.5, 1,  5,      10, 12.5,
                                      20, 33.25, 50,  75, 99.999, 100};
  constexpr int kRampKeys = 20000;
  for (const bool on_first : {true, false}) {
    SCOPED_TRACE(on_first ? "\"on\" listed first" : "\"on\" listed last");
    std::vector<std::unique_ptr<const Snapshot>> steps;
    for (double percent : ladder) steps.push_back(Ramp(percent, on_first));
    std::vector<int> on_at(ladder.size(), 0);
    for (int i = 0; i < kRampKeys; ++i) {
      const std::string key = Key(i);
      bool was_on = false;
      for (std::size_t step = 0; step < ladder.size(); ++step) {
        const bool on =
            steps[step]->Evaluate("fix-123", Context(key)).value.bool_value;
        ASSERT_TRUE(on || !was_on)
            << key << " had the fix at " << ladder[step - 1]
            << " % and lost it at " << ladder[step] << " %";
        on_at[step] += on;
        was_on = on;
      }
    }
    // The ends are exact, and each step of at least half a point added keys
    // (a step of 0.001 % expects a fifth of a key out of 20,000).
    EXPECT_EQ(on_at.front(), 0);
    EXPECT_EQ(on_at.back(), kRampKeys);
    for (std::size_t step = 1; step < ladder.size(); ++step) {
      if (ladder[step] - ladder[step - 1] < 0.5) continue;
      EXPECT_GT(on_at[step], on_at[step - 1]) << "at " << ladder[step] << " %";
    }
  }
}

TEST(RolloutTest, SharesMatchPercentagesWithinHalfAPoint) {
  for (std::string_view salt : {"fix-123", "new-checkout", ""}) {
    int below1 = 0;
    int below10 = 0;
    int below50 = 0;
    for (int i = 0; i < kKeys; ++i) {
      const std::uint32_t b = BucketOf(salt, Key(i));
      below1 += b < 1000;
      below10 += b < 10000;
      below50 += b < 50000;
    }
    // Shares in percent; each must be within ±0.5 percentage points.
    const double scale = 100.0 / kKeys;
    EXPECT_NEAR(below1 * scale, 1.0, 0.5) << "salt " << salt;
    EXPECT_NEAR(below10 * scale, 10.0, 0.5) << "salt " << salt;
    EXPECT_NEAR(below50 * scale, 50.0, 0.5) << "salt " << salt;
  }
}

TEST(RolloutTest, DifferentSaltsGiveIndependentBuckets) {
  int same_bucket = 0;
  int in_a = 0;       // in salt A's 10 %
  int in_both = 0;    // in both salts' 10 %
  int a_half = 0;     // in salt A's 50 %
  int both_half = 0;  // in both salts' 50 %
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = Key(i);
    const std::uint32_t a = BucketOf("fix-123", key);
    const std::uint32_t b = BucketOf("fix-124", key);
    same_bucket += a == b;
    if (a < 10000) {
      ++in_a;
      in_both += b < 10000;
    }
    if (a < 50000) {
      ++a_half;
      both_half += b < 50000;
    }
  }
  // Almost no key lands in the same bucket (expected ~1 in 100,000).
  EXPECT_LE(same_bucket, 10);
  // Independence: of salt A's 10 %, about 10 % are in salt B's 10 %, not all
  // of them (which a salt that did not matter would give).
  const double overlap10 = 100.0 * in_both / in_a;
  EXPECT_NEAR(overlap10, 10.0, 1.5);
  const double overlap50 = 100.0 * both_half / a_half;
  EXPECT_NEAR(overlap50, 50.0, 1.5);
}

TEST(BucketTest, LongInputsMatchOneShotReferenceAtEveryLength) {
  // Every total length from 1 to 2,100 bytes, across the 512-byte switch from
  // the stack buffer to the streaming state, with varied content.
  std::string value;
  for (std::size_t total = 1; total <= 2100; ++total) {
    const std::size_t value_size = total - 1 - (total > 8 ? 7 : 0);
    const std::string_view salt = total > 8 ? "fix-123" : "";
    value.resize(value_size);
    for (std::size_t i = 0; i < value_size; ++i) {
      value[i] = static_cast<char>('a' + (i * 7 + total) % 26);
    }
    ASSERT_EQ(salt.size() + 1 + value.size(), total);
    ASSERT_EQ(
        BucketOf(salt, value),
        static_cast<std::uint32_t>(ReferenceHash(salt, value) % kBucketCount))
        << "total length " << total;
  }
}

TEST(BucketTest, LongInputsAgreeAcrossSaltValueSplits) {
  // Around and far past the stack limit, with the long part in the salt, the
  // value, or both; including empty salt or value.
  for (std::size_t total : {511u, 512u, 513u, 514u, 1024u, 4096u, 100001u}) {
    std::string bytes(total - 1, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = static_cast<char>(i * 131 + 17);  // all byte values
    }
    for (std::size_t salt_size : {std::size_t{0}, std::size_t{1},
                                  (total - 1) / 2, total - 2, total - 1}) {
      const std::string_view salt(bytes.data(), salt_size);
      const std::string_view value(bytes.data() + salt_size,
                                   bytes.size() - salt_size);
      EXPECT_EQ(
          BucketOf(salt, value),
          static_cast<std::uint32_t>(ReferenceHash(salt, value) % kBucketCount))
          << "total " << total << ", salt " << salt_size;
    }
  }
}

}  // namespace
}  // namespace internal
}  // namespace hotfix
