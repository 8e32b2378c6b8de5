// tests/hotfixd/diff_test.cc
//
// The diff of two flag-set documents (tools/hotfixd/core/diff.h): flag by
// flag and field by field, version ignored, segments and other members
// apart, and the one-line account of each flag's change.

#include "core/diff.h"

#include <string>
#include <vector>

#include "common/json_util.h"
#include "core/documents.h"
#include "gtest/gtest.h"
#include "test_json.h"

namespace hotfix {
namespace hotfixd {
namespace {

constexpr char kSet[] = R"({"version":3,"flags":{
  "fix":{"variants":{"on":true,"off":false},"off_variant":"off",
         "default":{"rollout":{"split":[{"variant":"on","weight":10},
                                        {"variant":"off","weight":90}]}}},
  "switch":{"variants":{"on":true,"off":false},"default":"on"},
  "theme":{"variants":{"a":"x","b":"y"},"default":"a","rules":[]}}})";

TEST(DiffDocumentsTest, VersionAloneIsNoChange) {
  rapidjson::Document before = Parse(kSet);
  rapidjson::Document after = Parse(kSet);
  SetVersion(after, 9);
  EXPECT_TRUE(DiffDocuments(before, after).empty());
}

TEST(DiffDocumentsTest, OneFlagIsAPatchAnythingElseAPut) {
  rapidjson::Document before = Parse(kSet);
  rapidjson::Document after = Parse(kSet);
  ASSERT_TRUE(SetKilled(after, "theme", true).ok());
  DocumentDiff one = DiffDocuments(before, after);
  EXPECT_TRUE(one.is_single_flag());
  EXPECT_EQ(one.changed_keys, std::vector<std::string>{"theme"});
  ASSERT_TRUE(DeleteFlag(after, "switch").ok());
  DocumentDiff two = DiffDocuments(before, after);
  EXPECT_FALSE(two.is_single_flag());
  EXPECT_EQ(two.changed_keys, (std::vector<std::string>{"switch", "theme"}));
  EXPECT_EQ(two.removed_keys(), std::vector<std::string>{"switch"});
}

TEST(DiffDocumentsTest, NamesEveryChangedLeafWithBeforeAndAfter) {
  rapidjson::Document before = Parse(kSet);
  rapidjson::Document after = Parse(kSet);
  ASSERT_TRUE(SetRollout(after, "fix", 25).ok());
  ASSERT_TRUE(SetKilled(after, "fix", true).ok());
  DocumentDiff diff = DiffDocuments(before, after);
  ASSERT_EQ(diff.flags.size(), 1u);
  const FlagChange& fix = diff.flags[0];
  EXPECT_EQ(fix.kind, FlagChange::Kind::kChanged);
  ASSERT_EQ(fix.fields.size(), 3u);
  EXPECT_EQ(fix.fields[0].path, "default.rollout.split[0].weight");
  EXPECT_EQ(fix.fields[0].before, "10");
  EXPECT_EQ(fix.fields[0].after, "25");
  EXPECT_EQ(fix.fields[1].path, "default.rollout.split[1].weight");
  EXPECT_EQ(fix.fields[2].path, "killed");
  EXPECT_EQ(fix.fields[2].before, "");
  EXPECT_EQ(fix.fields[2].after, "true");
  EXPECT_EQ(
      DescribeChange(fix, &before["flags"]["fix"], &after["flags"]["fix"]),
      "rollout on 10% / off 90% → rollout on 25% / off 75%, killed");
}

TEST(DiffDocumentsTest, ArraysOfAnotherLengthChangeWhole) {
  rapidjson::Document before = Parse(kSet);
  rapidjson::Document after = Parse(
      R"({"version":3,"flags":{"fix":{"variants":{"on":true,"off":false},
      "off_variant":"off","default":{"rollout":{"split":[{"variant":"on","weight":10},
      {"variant":"off","weight":90}]}}},"switch":{"variants":{"on":true,"off":false},
      "default":"on"},"theme":{"variants":{"a":"x","b":"y"},"default":"a",
      "rules":[{"if":[],"serve":"b"}]}}})");
  DocumentDiff diff = DiffDocuments(before, after);
  ASSERT_EQ(diff.flags.size(), 1u);
  ASSERT_EQ(diff.flags[0].fields.size(), 1u);
  EXPECT_EQ(diff.flags[0].fields[0].path, "rules");
  EXPECT_EQ(diff.flags[0].fields[0].before, "[]");
  EXPECT_EQ(DescribeChange(diff.flags[0], nullptr, nullptr), "rules");
}

TEST(DiffDocumentsTest, SegmentsAndOtherMembersApart) {
  rapidjson::Document before =
      Parse(R"({"version":3,"flags":{},"x-note":"a"})");
  rapidjson::Document after = Parse(
      R"({"version":3,"flags":{},"segments":{"s":{"included":["a"]}},"environment":"p"})");
  DocumentDiff diff = DiffDocuments(before, after);
  EXPECT_TRUE(diff.flags.empty());
  EXPECT_TRUE(diff.segments_changed());
  ASSERT_EQ(diff.other.size(), 2u);
  EXPECT_FALSE(diff.is_single_flag());
}

TEST(DiffDocumentsTest, AddedAndRemovedFlagsSayNothingMore) {
  rapidjson::Document before = Parse(kSet);
  rapidjson::Document after = Parse(R"({"version":1,"flags":{"new":{}}})");
  DocumentDiff diff = DiffDocuments(before, after);
  ASSERT_EQ(diff.flags.size(), 4u);
  EXPECT_EQ(diff.flags[1].key, "new");
  EXPECT_EQ(DescribeChange(diff.flags[1], nullptr, nullptr), "added");
  EXPECT_EQ(DescribeChange(diff.flags[0], nullptr, nullptr), "removed");
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix
