// tests/semver_test.cc
//
// SemVer 2.0.0 parsing and precedence (src/util/semver.h).

#include "util/semver.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace hotfix {
namespace internal {
namespace {

SemVer MustParse(std::string_view text) {
  SemVer v;
  EXPECT_TRUE(ParseSemVer(text, &v)) << text;
  return v;
}

int Compare(std::string_view a, std::string_view b) {
  return CompareSemVer(MustParse(a), MustParse(b));
}

TEST(SemVerParseTest, ParsesCoreVersion) {
  SemVer v;
  ASSERT_TRUE(ParseSemVer("1.2.3", &v));
  EXPECT_EQ(v.major, 1u);
  EXPECT_EQ(v.minor, 2u);
  EXPECT_EQ(v.patch, 3u);
  EXPECT_TRUE(v.prerelease.empty());
}

TEST(SemVerParseTest, ParsesZeroesAndMultiDigitParts) {
  SemVer v;
  ASSERT_TRUE(ParseSemVer("0.0.0", &v));
  EXPECT_EQ(v.major, 0u);
  EXPECT_EQ(v.minor, 0u);
  EXPECT_EQ(v.patch, 0u);
  ASSERT_TRUE(ParseSemVer("10.200.3000", &v));
  EXPECT_EQ(v.major, 10u);
  EXPECT_EQ(v.minor, 200u);
  EXPECT_EQ(v.patch, 3000u);
}

TEST(SemVerParseTest, AcceptsLowerAndUpperVPrefix) {
  SemVer v;
  ASSERT_TRUE(ParseSemVer("v1.2.3", &v));
  EXPECT_EQ(v.major, 1u);
  EXPECT_EQ(v.patch, 3u);
  ASSERT_TRUE(ParseSemVer("V4.5.6-rc.1", &v));
  EXPECT_EQ(v.major, 4u);
  EXPECT_EQ(v.prerelease, "rc.1");
}

TEST(SemVerParseTest, RejectsOtherPrefixesAndDoubleV) {
  SemVer v;
  EXPECT_FALSE(ParseSemVer("vv1.2.3", &v));
  EXPECT_FALSE(ParseSemVer("x1.2.3", &v));
  EXPECT_FALSE(ParseSemVer("=1.2.3", &v));
  EXPECT_FALSE(ParseSemVer(" 1.2.3", &v));
  EXPECT_FALSE(ParseSemVer("v", &v));
}

TEST(SemVerParseTest, PrereleaseIsAViewIntoTheText) {
  const std::string text = "1.0.0-alpha.1+build.5";
  SemVer v;
  ASSERT_TRUE(ParseSemVer(text, &v));
  EXPECT_EQ(v.prerelease, "alpha.1");
  EXPECT_GE(v.prerelease.data(), text.data());
  EXPECT_LE(v.prerelease.data() + v.prerelease.size(),
            text.data() + text.size());
}

TEST(SemVerParseTest, BuildMetadataIsValidatedAndDropped) {
  SemVer v;
  ASSERT_TRUE(ParseSemVer("1.0.0+20130313144700", &v));
  EXPECT_TRUE(v.prerelease.empty());
  ASSERT_TRUE(ParseSemVer("1.0.0-beta+exp.sha.5114f85", &v));
  EXPECT_EQ(v.prerelease, "beta");
  ASSERT_TRUE(ParseSemVer("1.0.0+21AF26D3----117B344092BD", &v));
  // Leading zeros are allowed in build identifiers.
  EXPECT_TRUE(ParseSemVer("1.0.0+001", &v));
  EXPECT_TRUE(ParseSemVer("1.0.0-rc.1+0.00.000", &v));
  EXPECT_EQ(v.prerelease, "rc.1");

  EXPECT_FALSE(ParseSemVer("1.0.0+", &v));
  EXPECT_FALSE(ParseSemVer("1.0.0+a..b", &v));
  EXPECT_FALSE(ParseSemVer("1.0.0+.a", &v));
  EXPECT_FALSE(ParseSemVer("1.0.0+a.", &v));
  EXPECT_FALSE(ParseSemVer("1.0.0+a_b", &v));
  EXPECT_FALSE(ParseSemVer("1.0.0+a+b", &v));
  EXPECT_FALSE(ParseSemVer("1.0.0+a b", &v));
}

TEST(SemVerParseTest, AcceptsSpecExamplesOfPrereleases) {
  SemVer v;
  for (std::string_view text :
       {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92",
        "1.0.0-x-y-z.--", "1.0.0-0", "1.0.0--", "1.0.0-alpha-a.b-c", "1.0.0-0a",
        "1.0.0-00a", "1.0.0-alpha.0valid"}) {
    EXPECT_TRUE(ParseSemVer(text, &v)) << text;
  }
  ASSERT_TRUE(ParseSemVer("1.0.0-x-y-z.--", &v));
  EXPECT_EQ(v.prerelease, "x-y-z.--");
}

TEST(SemVerParseTest, RejectsMalformedPrereleases) {
  SemVer v;
  for (std::string_view text :
       {"1.0.0-", "1.0.0-+build", "1.0.0-alpha..1", "1.0.0-.alpha",
        "1.0.0-alpha.", "1.0.0-alpha_beta", "1.0.0-alpha!", "1.0.0-é",
        "1.0.0-01", "1.0.0-alpha.01", "1.0.0-00"}) {
    EXPECT_FALSE(ParseSemVer(text, &v)) << text;
  }
}

TEST(SemVerParseTest, RejectsLeadingZerosInCoreParts) {
  SemVer v;
  EXPECT_FALSE(ParseSemVer("01.2.3", &v));
  EXPECT_FALSE(ParseSemVer("1.02.3", &v));
  EXPECT_FALSE(ParseSemVer("1.2.03", &v));
  EXPECT_FALSE(ParseSemVer("00.0.0", &v));
  EXPECT_FALSE(ParseSemVer("v01.0.0", &v));
}

TEST(SemVerParseTest, RejectsMissingOrExtraCoreParts) {
  SemVer v;
  for (std::string_view text :
       {"", "1", "1.2", "1.2.", "1..3", ".1.2", "1.2.3.4", "1.2.3.", "1.2.3-",
        "1.2.3 ", "1.2.3\n", "1.2.3x", "1.2.x", "a.b.c", "-1.2.3", "+1.2.3",
        "1.-2.3", "1.2.3 -rc", "1,2,3"}) {
    EXPECT_FALSE(ParseSemVer(text, &v)) << '"' << text << '"';
  }
}

TEST(SemVerParseTest, RejectsEmbeddedNul) {
  SemVer v;
  EXPECT_FALSE(ParseSemVer(std::string_view("1.2.3\0", 6), &v));
  EXPECT_FALSE(ParseSemVer(std::string_view("1.2.3-a\0b", 9), &v));
}

TEST(SemVerParseTest, AcceptsUint64MaxAndRejectsOverflow) {
  SemVer v;
  ASSERT_TRUE(
      ParseSemVer("18446744073709551615.18446744073709551615."
                  "18446744073709551615",
                  &v));
  EXPECT_EQ(v.major, UINT64_MAX);
  EXPECT_EQ(v.minor, UINT64_MAX);
  EXPECT_EQ(v.patch, UINT64_MAX);
  EXPECT_FALSE(ParseSemVer("18446744073709551616.0.0", &v));
  EXPECT_FALSE(ParseSemVer("0.18446744073709551616.0", &v));
  EXPECT_FALSE(ParseSemVer("0.0.18446744073709551616", &v));
  EXPECT_FALSE(ParseSemVer("0.0.99999999999999999999", &v));
  EXPECT_FALSE(ParseSemVer("184467440737095516150.0.0", &v));
}

TEST(SemVerParseTest, FailureLeavesOutputUntouched) {
  SemVer v;
  v.major = 7;
  v.prerelease = "keep";
  EXPECT_FALSE(ParseSemVer("1.2.3-01", &v));
  EXPECT_EQ(v.major, 7u);
  EXPECT_EQ(v.prerelease, "keep");
}

TEST(SemVerCompareTest, CorePartsCompareNumerically) {
  EXPECT_LT(Compare("1.0.0", "2.0.0"), 0);
  EXPECT_LT(Compare("2.0.0", "2.1.0"), 0);
  EXPECT_LT(Compare("2.1.0", "2.1.1"), 0);
  EXPECT_LT(Compare("1.9.0", "1.10.0"), 0);  // not string order
  EXPECT_LT(Compare("1.2.9", "1.2.10"), 0);
  EXPECT_LT(Compare("9.99.99", "10.0.0"), 0);
  EXPECT_GT(Compare("1.10.0", "1.9.0"), 0);
  EXPECT_EQ(Compare("1.2.3", "1.2.3"), 0);
  EXPECT_LT(Compare("18446744073709551614.0.0", "18446744073709551615.0.0"), 0);
}

TEST(SemVerCompareTest, FollowsSpecPrecedenceChain) {
  const std::vector<std::string_view> chain = {
      "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
      "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0"};
  for (std::size_t i = 0; i < chain.size(); ++i) {
    for (std::size_t j = 0; j < chain.size(); ++j) {
      const int c = Compare(chain[i], chain[j]);
      if (i < j) {
        EXPECT_LT(c, 0) << chain[i] << " vs " << chain[j];
      } else if (i > j) {
        EXPECT_GT(c, 0) << chain[i] << " vs " << chain[j];
      } else {
        EXPECT_EQ(c, 0) << chain[i];
      }
    }
  }
}

TEST(SemVerCompareTest, PrereleaseSortsBeforeItsRelease) {
  EXPECT_LT(Compare("1.0.0-rc.1", "1.0.0"), 0);
  EXPECT_GT(Compare("1.0.0", "1.0.0-rc.1"), 0);
  EXPECT_LT(Compare("1.0.0-0", "1.0.0"), 0);
  // But a pre-release of a higher version is still higher.
  EXPECT_GT(Compare("1.0.1-alpha", "1.0.0"), 0);
  EXPECT_LT(Compare("1.0.0", "1.0.1-alpha"), 0);
  EXPECT_GT(Compare("2.0.0-0", "1.99.99"), 0);
}

TEST(SemVerCompareTest, NumericIdentifiersCompareNumerically) {
  EXPECT_LT(Compare("1.0.0-2", "1.0.0-10"), 0);
  EXPECT_LT(Compare("1.0.0-beta.9", "1.0.0-beta.10"), 0);
  EXPECT_LT(Compare("1.0.0-0", "1.0.0-1"), 0);
  EXPECT_EQ(Compare("1.0.0-42", "1.0.0-42"), 0);
  // Numeric identifiers larger than any integer type still compare.
  EXPECT_LT(Compare("1.0.0-99999999999999999999999",
                    "1.0.0-100000000000000000000000"),
            0);
  EXPECT_LT(Compare("1.0.0-123456789012345678901234",
                    "1.0.0-123456789012345678901235"),
            0);
}

TEST(SemVerCompareTest, NumericIdentifiersSortBelowAlphanumeric) {
  EXPECT_LT(Compare("1.0.0-999", "1.0.0-a"), 0);
  EXPECT_LT(Compare("1.0.0-1", "1.0.0--"), 0);
  EXPECT_LT(Compare("1.0.0-alpha.1", "1.0.0-alpha.a"), 0);
  EXPECT_GT(Compare("1.0.0-alpha.beta", "1.0.0-alpha.99"), 0);
  // "0a" contains a letter, so it is alphanumeric.
  EXPECT_LT(Compare("1.0.0-9", "1.0.0-0a"), 0);
}

TEST(SemVerCompareTest, AlphanumericIdentifiersUseAsciiOrder) {
  EXPECT_LT(Compare("1.0.0-alpha", "1.0.0-beta"), 0);
  EXPECT_LT(Compare("1.0.0-Beta", "1.0.0-alpha"), 0);  // uppercase < lowercase
  EXPECT_LT(Compare("1.0.0--", "1.0.0-0a"), 0);        // '-' < '0'
  EXPECT_LT(Compare("1.0.0-rc10", "1.0.0-rc9"), 0);    // not numeric
  EXPECT_LT(Compare("1.0.0-alpha", "1.0.0-alphabet"), 0);
  EXPECT_LT(Compare("1.0.0-a-b", "1.0.0-a-c"), 0);
}

TEST(SemVerCompareTest, ShorterIdentifierListSortsFirstWhenPrefixTies) {
  EXPECT_LT(Compare("1.0.0-alpha", "1.0.0-alpha.0"), 0);
  EXPECT_LT(Compare("1.0.0-alpha.1", "1.0.0-alpha.1.1"), 0);
  EXPECT_GT(Compare("1.0.0-a.b.c.d", "1.0.0-a.b.c"), 0);
  EXPECT_EQ(Compare("1.0.0-a.b.c", "1.0.0-a.b.c"), 0);
}

TEST(SemVerCompareTest, BuildMetadataAndPrefixDoNotAffectPrecedence) {
  EXPECT_EQ(Compare("1.0.0+build.1", "1.0.0+build.2"), 0);
  EXPECT_EQ(Compare("1.0.0-rc.1+a", "1.0.0-rc.1"), 0);
  EXPECT_EQ(Compare("v1.2.3", "1.2.3"), 0);
  EXPECT_EQ(Compare("V1.2.3-beta+x", "v1.2.3-beta"), 0);
}

TEST(SemVerCompareTest, OrdersASortedSampleConsistently) {
  const std::vector<std::string_view> sample = {
      "0.0.0",     "0.0.1-0",    "0.0.1",     "0.1.0",   "1.0.0-0",
      "1.0.0-0.0", "1.0.0-1",    "1.0.0-10",  "1.0.0--", "1.0.0-A",
      "1.0.0-a",   "1.0.0-a.0",  "1.0.0-a.a", "1.0.0",   "1.0.1",
      "1.10.0",    "2.0.0-rc.1", "2.0.0",     "10.0.0"};
  // The sample is listed in ascending order.
  for (std::size_t i = 0; i < sample.size(); ++i) {
    for (std::size_t j = 0; j < sample.size(); ++j) {
      const int c = Compare(sample[i], sample[j]);
      const int r = Compare(sample[j], sample[i]);
      EXPECT_EQ((c > 0) - (c < 0), -((r > 0) - (r < 0)));
      if (i < j) {
        EXPECT_LT(c, 0) << sample[i] << " vs " << sample[j];
      } else if (i == j) {
        EXPECT_EQ(c, 0) << sample[i];
      }
    }
  }
}

}  // namespace
}  // namespace internal
}  // namespace hotfix
