// tests/retry_after_test.cc
//
// ParseRetryAfter (src/sources/http_fetcher.h): the Retry-After forms of
// RFC 9110, and what a hostile or confused server cannot do with them.

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sources/http_fetcher.h"

namespace hotfix {
namespace internal {
namespace {

const absl::Time kNow =
    absl::FromUnixSeconds(1796515200);  // 2026-12-06T00:00:00Z

TEST(RetryAfterTest, DelaySecondsAreAWait) {
  EXPECT_EQ(ParseRetryAfter("3", kNow), absl::Seconds(3));
  EXPECT_EQ(ParseRetryAfter(" 120 ", kNow), absl::Seconds(120));
}

TEST(RetryAfterTest, AnHttpDateIsAWaitUntilThen) {
  // Sun, 06 Dec 2026 00:00:42 GMT is 42 s after kNow.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Dec 2026 00:00:42 GMT", kNow),
            absl::Seconds(42));
}

TEST(RetryAfterTest, AbsentPastOrUnparsableIsNoWait) {
  for (const char* value :
       {"", "0", "-5", "soon", "3.5", "1e9", "Sun, 06 Dec 2026 00:00:42",
        "Sat, 05 Dec 2026 23:59:00 GMT"}) {
    EXPECT_EQ(ParseRetryAfter(value, kNow), absl::ZeroDuration()) << value;
  }
}

TEST(RetryAfterTest, LongWaitsAreCappedAtFiveMinutes) {
  EXPECT_EQ(ParseRetryAfter("301", kNow), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999", kNow),
            absl::ZeroDuration());  // not a number we can hold: ignored
  EXPECT_EQ(ParseRetryAfter("9223372036854775807", kNow), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("Fri, 01 Jan 2100 00:00:00 GMT", kNow),
            kMaxRetryAfter);
  EXPECT_EQ(kMaxRetryAfter, absl::Minutes(5));
}

}  // namespace
}  // namespace internal
}  // namespace hotfix
