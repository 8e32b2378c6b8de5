// tests/hotfixd/request_test.cc
//
// Request helpers of hotfixd's HTTP layer: percent-decoding, query strings,
// header lookup; and the write envelope's parsers (api/write.h): If-Match in
// exactly its documented forms, If-None-Match, the body's field list and the
// reason, measured in characters.

#include <string>
#include <utility>
#include <vector>

#include "api/write.h"
#include "gtest/gtest.h"
#include "http/request.h"

namespace hotfix {
namespace hotfixd {
namespace {

TEST(PercentDecodeTest, DecodesEscapesAndRefusesMalformedOnes) {
  std::string out;
  EXPECT_TRUE(PercentDecode("/a%20b%2Fc", false, &out));
  EXPECT_EQ(out, "/a b/c");
  EXPECT_TRUE(PercentDecode("a+b", true, &out));
  EXPECT_EQ(out, "a b");
  EXPECT_TRUE(PercentDecode("a+b", false, &out));
  EXPECT_EQ(out, "a+b");
  EXPECT_FALSE(PercentDecode("%", false, &out));
  EXPECT_FALSE(PercentDecode("%2", false, &out));
  EXPECT_FALSE(PercentDecode("%zz", false, &out));
  EXPECT_FALSE(PercentDecode("a%00b", false, &out));  // no NUL smuggled in
}

TEST(ParseQueryTest, SplitsDecodesAndKeepsOrder) {
  std::vector<std::pair<std::string, std::string>> q;
  ASSERT_TRUE(ParseQuery("env=prod&before=12&&flag&x=a%26b", &q));
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], std::make_pair(std::string("env"), std::string("prod")));
  EXPECT_EQ(q[1].second, "12");
  EXPECT_EQ(q[2], std::make_pair(std::string("flag"), std::string("")));
  EXPECT_EQ(q[3].second, "a&b");
  EXPECT_FALSE(ParseQuery("a=%G0", &q));
}

HttpRequest WithHeader(const std::string& name, const std::string& value) {
  HttpRequest r;
  r.headers.emplace_back(name, value);
  return r;
}

TEST(IfMatchTest, AcceptsTheVersionAndThisEnvironmentsEtag) {
  for (const char* v :
       {"42", "\"42\"", "\"production-42\"", "W/\"production-42\"", " 42 "}) {
    auto parsed = ParseIfMatch(WithHeader("if-match", v), "production");
    ASSERT_TRUE(parsed.ok()) << v << ": " << parsed.status();
    EXPECT_EQ(*parsed, 42u) << v;
  }
  // Environment names may contain dashes.
  auto dashed =
      ParseIfMatch(WithHeader("if-match", "\"eu-west-7\""), "eu-west");
  ASSERT_TRUE(dashed.ok());
  EXPECT_EQ(*dashed, 7u);
}

TEST(IfMatchTest, RefusesEverythingElse) {
  for (const char* v : {"\"staging-13\"", "garbage-19", "production-42", "W/42",
                        "\"\"", "4 2", "42x", "-1", "\"production-\"",
                        "\"production-42-1\"", "99999999999999999999999"}) {
    auto parsed = ParseIfMatch(WithHeader("if-match", v), "production");
    EXPECT_FALSE(parsed.ok()) << v;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << v;
  }
}

TEST(IfMatchTest, AbsentOrStarMeansNoCondition) {
  EXPECT_FALSE(ParseIfMatch(HttpRequest(), "production")->has_value());
  EXPECT_FALSE(
      ParseIfMatch(WithHeader("if-match", "*"), "production")->has_value());
}

TEST(IfNoneMatchTest, ListsAndWeakTagsMatch) {
  EXPECT_TRUE(
      IfNoneMatchHits(WithHeader("if-none-match", "\"a\", W/\"production-3\""),
                      "\"production-3\""));
  EXPECT_TRUE(IfNoneMatchHits(WithHeader("if-none-match", "*"), "\"x\""));
  EXPECT_FALSE(IfNoneMatchHits(WithHeader("if-none-match", "\"production-2\""),
                               "\"production-3\""));
  EXPECT_FALSE(IfNoneMatchHits(HttpRequest(), "\"production-3\""));
}

TEST(WriteBodyTest, ReasonFromBodyOrHeaderAndUnknownFieldsNamed) {
  HttpRequest r;
  r.body = R"({"reason":"  incident 42 ","percent":5})";
  auto body = ParseWriteBody(r, {"percent"});
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->reason, "incident 42");
  r.body = R"({"reason":"x","percnt":5})";
  auto unknown = ParseWriteBody(r, {"percent"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "body.percnt: unknown field");
  HttpRequest h = WithHeader("x-hotfix-reason", "from the header");
  auto header = ParseWriteBody(h, {});
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->reason, "from the header");
  auto missing = ParseWriteBody(HttpRequest(), {});
  EXPECT_FALSE(missing.ok());
}

TEST(WriteBodyTest, ReasonLengthCountsCharactersNotBytes) {
  std::string reason;
  for (int i = 0; i < 1024; ++i) reason += "\xE2\x82\xAC";  // €, 3 bytes
  HttpRequest r = WithHeader("x-hotfix-reason", reason);
  EXPECT_TRUE(ParseWriteBody(r, {}).ok());
  r = WithHeader("x-hotfix-reason", reason + "x");
  EXPECT_FALSE(ParseWriteBody(r, {}).ok());
  r = WithHeader("x-hotfix-reason", "bad \xC3");
  EXPECT_FALSE(ParseWriteBody(r, {}).ok());
}

TEST(WriteBodyTest, DeepNestingIsRefusedWhileParsing) {
  HttpRequest r;
  r.body = std::string(200000, '[') + std::string(200000, ']');
  auto body = ParseWriteBody(r, {});
  ASSERT_FALSE(body.ok());
  EXPECT_NE(std::string(body.status().message()).find("nested deeper than 128"),
            std::string::npos);
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix
