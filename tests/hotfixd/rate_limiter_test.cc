// tests/hotfixd/rate_limiter_test.cc
//
// The per-token bucket behind OFREP's 429 (tools/hotfixd/core/rate_limiter.h),
// on a fixed clock.

#include "core/rate_limiter.h"

#include "gtest/gtest.h"

namespace hotfix {
namespace hotfixd {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

TEST(RateLimiterTest, AllowsTheBurstThenAsksToWait) {
  RateLimiter limiter(/*rate=*/2, /*burst=*/3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Allow("k", kStart), 0);
  EXPECT_EQ(limiter.Allow("k", kStart), 1);
}

TEST(RateLimiterTest, RefillsAtTheRate) {
  RateLimiter limiter(/*rate=*/1, /*burst=*/1);
  EXPECT_EQ(limiter.Allow("k", kStart), 0);
  EXPECT_EQ(limiter.Allow("k", kStart + absl::Milliseconds(500)), 1);
  EXPECT_EQ(limiter.Allow("k", kStart + absl::Milliseconds(1600)), 0);
}

TEST(RateLimiterTest, RetryAfterCoversTheWholeWait) {
  RateLimiter limiter(/*rate=*/0.25, /*burst=*/1);
  EXPECT_EQ(limiter.Allow("k", kStart), 0);
  EXPECT_EQ(limiter.Allow("k", kStart), 4);
}

TEST(RateLimiterTest, KeysHaveTheirOwnBuckets) {
  RateLimiter limiter(/*rate=*/1, /*burst=*/1);
  EXPECT_EQ(limiter.Allow("a", kStart), 0);
  EXPECT_EQ(limiter.Allow("b", kStart), 0);
  EXPECT_GT(limiter.Allow("a", kStart), 0);
}

TEST(RateLimiterTest, ZeroRateMeansNoLimit) {
  RateLimiter limiter(/*rate=*/0, /*burst=*/1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.Allow("k", kStart), 0);
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix
