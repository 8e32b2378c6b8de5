// tests/time_parse_test.cc
//
// RFC 3339 parsing (src/util/time_parse.h), checked against absl's civil-time
// conversions and absl::ParseTime (which the test may use; the parser under
// test may not, because it allocates).

#include "util/time_parse.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace hotfix {
namespace internal {
namespace {

constexpr std::int64_t kUnparsed = 0x5eed5eed5eed;

// Runs ParseRfc3339 and returns the result, or kUnparsed on failure.
std::int64_t Rfc(std::string_view text) {
  std::int64_t micros = kUnparsed;
  if (!ParseRfc3339(text, &micros)) return kUnparsed;
  return micros;
}

std::int64_t DateOrRfc(std::string_view text) {
  std::int64_t micros = kUnparsed;
  if (!ParseDateOrRfc3339(text, &micros)) return kUnparsed;
  return micros;
}

// The reference: absl's own RFC 3339 parser.
std::int64_t AbslMicros(const std::string& text) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &err))
      << text << ": " << err;
  return absl::ToUnixMicros(t);
}

std::int64_t CivilMicros(int y, int m, int d, int hh = 0, int mm = 0,
                         int ss = 0) {
  return absl::ToUnixMicros(absl::FromCivil(
      absl::CivilSecond(y, m, d, hh, mm, ss), absl::UTCTimeZone()));
}

TEST(TimeParseTest, EpochIsZero) {
  EXPECT_EQ(Rfc("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(DateOrRfc("1970-01-01"), 0);
}

TEST(TimeParseTest, MatchesAbslParseTimeForValidForms) {
  for (const char* text : {
           "2024-05-17T12:34:56Z",
           "2024-05-17T12:34:56+00:00",
           "2024-05-17T12:34:56-00:00",
           "2024-05-17T12:34:56+02:00",
           "2024-05-17T12:34:56-07:30",
           "2024-05-17T00:30:00+05:45",
           "2024-01-01T00:00:00+14:00",
           "1999-12-31T23:59:59.999999Z",
           "2000-02-29T00:00:00Z",
           "1969-12-31T23:59:59Z",
           "1969-07-20T20:17:40.5Z",
           "1900-03-01T00:00:00Z",
           "1600-02-29T12:00:00Z",
           "0001-01-01T00:00:00Z",
           "9999-12-31T23:59:59.999999Z",
           "2038-01-19T03:14:08Z",
           "2106-02-07T06:28:16Z",
           "2024-12-31T23:00:00-23:59",
       }) {
    EXPECT_EQ(Rfc(text), AbslMicros(text)) << text;
  }
}

TEST(TimeParseTest, MatchesCivilTimeForEveryMonthStartAcrossCenturies) {
  // Month boundaries exercise the day-of-year table and the leap rules.
  for (int y : {0,    1,    4,    100,  400,  1582, 1700, 1800, 1900, 1969,
                1970, 1971, 1972, 2000, 2001, 2023, 2024, 2100, 2400, 9999}) {
    for (int m = 1; m <= 12; ++m) {
      char text[32];
      std::snprintf(text, sizeof(text), "%04d-%02d-01T00:00:00Z", y, m);
      EXPECT_EQ(Rfc(text), CivilMicros(y, m, 1)) << text;
      std::snprintf(text, sizeof(text), "%04d-%02d-01", y, m);
      EXPECT_EQ(DateOrRfc(text), CivilMicros(y, m, 1)) << text;
    }
  }
}

TEST(TimeParseTest, MatchesCivilTimeForEveryDayOfALeapAndACommonYear) {
  for (int y : {2023, 2024}) {
    absl::CivilDay day(y, 1, 1);
    const absl::CivilDay end(y + 1, 1, 1);
    for (; day < end; ++day) {
      char text[32];
      std::snprintf(text, sizeof(text), "%04d-%02d-%02dT23:59:59Z",
                    static_cast<int>(day.year()), day.month(), day.day());
      EXPECT_EQ(Rfc(text), CivilMicros(static_cast<int>(day.year()),
                                       day.month(), day.day(), 23, 59, 59))
          << text;
    }
  }
}

TEST(TimeParseTest, YearZeroAndYear9999AreInRange) {
  EXPECT_EQ(Rfc("0000-01-01T00:00:00Z"), CivilMicros(0, 1, 1));
  EXPECT_EQ(Rfc("0000-02-29T00:00:00Z"), CivilMicros(0, 2, 29));  // leap
  EXPECT_EQ(Rfc("9999-12-31T23:59:59Z"), CivilMicros(9999, 12, 31, 23, 59, 59));
  EXPECT_EQ(Rfc("0000-01-01T00:00:00Z"), -62167219200LL * 1000000);
  EXPECT_EQ(Rfc("9999-12-31T23:59:59Z"), 253402300799LL * 1000000);
}

TEST(TimeParseTest, AppliesOffsets) {
  const std::int64_t utc = Rfc("2024-05-17T12:00:00Z");
  constexpr std::int64_t kHour = 3600LL * 1000000;
  constexpr std::int64_t kMinute = 60LL * 1000000;
  EXPECT_EQ(Rfc("2024-05-17T14:00:00+02:00"), utc);
  EXPECT_EQ(Rfc("2024-05-17T05:00:00-07:00"), utc);
  EXPECT_EQ(Rfc("2024-05-17T12:00:00+01:30"), utc - kHour - 30 * kMinute);
  EXPECT_EQ(Rfc("2024-05-17T12:00:00-00:01"), utc + kMinute);
  // An offset can move the instant across a day, month and year boundary.
  EXPECT_EQ(Rfc("2024-01-01T01:00:00+02:00"), CivilMicros(2023, 12, 31, 23));
  EXPECT_EQ(Rfc("2023-12-31T23:00:00-02:00"), CivilMicros(2024, 1, 1, 1));
  EXPECT_EQ(Rfc("1970-01-01T00:00:00+00:01"), -kMinute);
}

TEST(TimeParseTest, TruncatesFractionsToMicroseconds) {
  const std::int64_t base = Rfc("2024-05-17T12:34:56Z");
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.5Z"), base + 500000);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.05Z"), base + 50000);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.123Z"), base + 123000);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.123456Z"), base + 123456);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.1234567Z"), base + 123456);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.999999999Z"), base + 999999);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.000000001Z"), base);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.0Z"), base);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.00000000000000000000000000000001Z"), base);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56.25+01:00"), base - 3600000000LL + 250000);
  // Before the epoch the fraction still adds to the (negative) seconds.
  EXPECT_EQ(Rfc("1969-12-31T23:59:59.75Z"), -250000);
}

TEST(TimeParseTest, AcceptsLowercaseAndSpaceSeparators) {
  const std::int64_t expected = Rfc("2024-05-17T12:34:56Z");
  EXPECT_EQ(Rfc("2024-05-17t12:34:56z"), expected);
  EXPECT_EQ(Rfc("2024-05-17 12:34:56Z"), expected);
  EXPECT_EQ(Rfc("2024-05-17T12:34:56z"), expected);
  EXPECT_EQ(Rfc("2024-05-17t12:34:56Z"), expected);
}

TEST(TimeParseTest, TreatsLeapSecondAsFiftyNine) {
  EXPECT_EQ(Rfc("2016-12-31T23:59:60Z"), Rfc("2016-12-31T23:59:59Z"));
  EXPECT_EQ(Rfc("2016-12-31T23:59:60.5Z"), Rfc("2016-12-31T23:59:59.5Z"));
  EXPECT_EQ(Rfc("2016-12-31T23:59:60Z"), CivilMicros(2016, 12, 31, 23, 59, 59));
  EXPECT_EQ(Rfc("2016-12-31T23:59:61Z"), kUnparsed);
}

TEST(TimeParseTest, ValidatesLeapDays) {
  EXPECT_EQ(Rfc("2024-02-29T00:00:00Z"), CivilMicros(2024, 2, 29));
  EXPECT_EQ(DateOrRfc("2024-02-29"), CivilMicros(2024, 2, 29));
  EXPECT_EQ(Rfc("2000-02-29T00:00:00Z"), CivilMicros(2000, 2, 29));
  EXPECT_EQ(Rfc("2400-02-29T00:00:00Z"), CivilMicros(2400, 2, 29));
  EXPECT_EQ(Rfc("2023-02-29T00:00:00Z"), kUnparsed);
  EXPECT_EQ(DateOrRfc("2023-02-29"), kUnparsed);
  EXPECT_EQ(Rfc("1900-02-29T00:00:00Z"), kUnparsed);  // century, not /400
  EXPECT_EQ(Rfc("2100-02-29T00:00:00Z"), kUnparsed);
  EXPECT_EQ(Rfc("2024-02-30T00:00:00Z"), kUnparsed);
  EXPECT_EQ(Rfc("2023-02-28T00:00:00Z"), CivilMicros(2023, 2, 28));
}

TEST(TimeParseTest, ValidatesMonthLengths) {
  for (const char* text :
       {"2024-01-31", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30",
        "2024-07-31", "2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30",
        "2024-12-31"}) {
    EXPECT_NE(DateOrRfc(text), kUnparsed) << text;
  }
  for (const char* text :
       {"2024-01-32", "2024-03-32", "2024-04-31", "2024-05-32", "2024-06-31",
        "2024-07-32", "2024-08-32", "2024-09-31", "2024-10-32", "2024-11-31",
        "2024-12-32", "2024-00-10", "2024-13-01", "2024-01-00"}) {
    EXPECT_EQ(DateOrRfc(text), kUnparsed) << text;
  }
}

TEST(TimeParseTest, ValidatesTimeOfDayRanges) {
  EXPECT_NE(Rfc("2024-05-17T23:59:59Z"), kUnparsed);
  EXPECT_EQ(Rfc("2024-05-17T24:00:00Z"), kUnparsed);
  EXPECT_EQ(Rfc("2024-05-17T12:60:00Z"), kUnparsed);
  EXPECT_EQ(Rfc("2024-05-17T12:00:99Z"), kUnparsed);
  EXPECT_EQ(Rfc("2024-05-17T12:00:00+24:00"), kUnparsed);
  EXPECT_EQ(Rfc("2024-05-17T12:00:00+01:60"), kUnparsed);
}

TEST(TimeParseTest, BareDateOnlyWhereAllowed) {
  EXPECT_EQ(Rfc("2024-05-17"), kUnparsed);
  EXPECT_EQ(DateOrRfc("2024-05-17"), CivilMicros(2024, 5, 17));
  EXPECT_EQ(DateOrRfc("2026-12-31"), CivilMicros(2026, 12, 31));
  // The full form is accepted by both.
  EXPECT_EQ(DateOrRfc("2024-05-17T01:02:03+01:00"),
            Rfc("2024-05-17T01:02:03+01:00"));
  // A date followed by anything but a full time is not a bare date.
  EXPECT_EQ(DateOrRfc("2024-05-17T"), kUnparsed);
  EXPECT_EQ(DateOrRfc("2024-05-17Z"), kUnparsed);
  EXPECT_EQ(DateOrRfc("2024-05-17 "), kUnparsed);
  EXPECT_EQ(DateOrRfc("2024-05-17T12:00"), kUnparsed);
}

TEST(TimeParseTest, RejectsMalformedInputs) {
  for (const char* text : {
           "",
           "2024",
           "2024-05",
           "2024-5-17T12:00:00Z",
           "2024-05-7T12:00:00Z",
           "24-05-17T12:00:00Z",
           "+2024-05-17T12:00:00Z",
           "-2024-05-17T12:00:00Z",
           "12024-05-17T12:00:00Z",
           "2024/05/17T12:00:00Z",
           "2024-05-17X12:00:00Z",
           "2024-05-17_12:00:00Z",
           "2024-05-17T12:00Z",    // seconds are required
           "2024-05-17T12:00:00",  // offset is required
           "2024-05-17T1:00:00Z",
           "2024-05-17T12:0:00Z",
           "2024-05-17T12:00:0Z",
           "2024-05-17T12-00-00Z",
           "2024-05-17T12:00:00.Z",   // fraction needs a digit
           "2024-05-17T12:00:00,5Z",  // comma is not RFC 3339
           "2024-05-17T12:00:00ZZ",
           "2024-05-17T12:00:00Z ",
           " 2024-05-17T12:00:00Z",
           "2024-05-17T12:00:00+0200",
           "2024-05-17T12:00:00+02",
           "2024-05-17T12:00:00+2:00",
           "2024-05-17T12:00:00+02:0",
           "2024-05-17T12:00:00+02:00:00",
           "2024-05-17T12:00:00 +02:00",
           "2024-05-17T12:00:00UTC",
           "2024-05-17T12:00:00GMT",
           "2024-05-17T12:00:00.5.5Z",
           "2024-05-17T12:00:00.5a",
           "2024-05-17TT12:00:00Z",
           "2024-05-17T12:00:00.-5Z",
           "２０２４-05-17T12:00:00Z",  // full-width digits
       }) {
    EXPECT_EQ(Rfc(text), kUnparsed) << '"' << text << '"';
    EXPECT_EQ(DateOrRfc(text), kUnparsed) << '"' << text << '"';
  }
}

TEST(TimeParseTest, RejectsEmbeddedNul) {
  EXPECT_EQ(Rfc(std::string_view("2024-05-17T12:00:00Z\0", 21)), kUnparsed);
  EXPECT_EQ(DateOrRfc(std::string_view("2024-05-17\0", 11)), kUnparsed);
}

TEST(TimeParseTest, DoesNotReadPastTheView) {
  // The view ends before the offset; the bytes after it must not be used.
  const std::string text = "2024-05-17T12:00:00Z";
  EXPECT_EQ(Rfc(std::string_view(text.data(), text.size() - 1)), kUnparsed);
  const std::string date = "2024-05-17T";
  EXPECT_EQ(DateOrRfc(std::string_view(date.data(), 10)),
            CivilMicros(2024, 5, 17));
}

TEST(TimeParseTest, FailureLeavesOutputUntouched) {
  std::int64_t micros = 42;
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z", &micros));
  EXPECT_EQ(micros, 42);
  EXPECT_FALSE(ParseDateOrRfc3339("nope", &micros));
  EXPECT_EQ(micros, 42);
}

}  // namespace
}  // namespace internal
}  // namespace hotfix
