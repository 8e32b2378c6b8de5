// hotfix::testing::TestFlags: forcing flags in application unit tests.

#include "hotfix/testing.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hotfix {
namespace {

using ::testing::HasSubstr;

TEST(TestFlagsTest, SetValuesOfEveryType) {
  testing::TestFlags flags;
  Client& client = flags.client();
  EXPECT_FALSE(client.Enabled("fix-123"));
  flags.Set("fix-123", true);
  flags.Set("banner", "hi");
  flags.Set("limit", 42);
  flags.Set("ratio", 0.25);
  ASSERT_TRUE(flags.SetJson("config", R"({"a": [1, 2]})").ok());
  EXPECT_TRUE(client.Enabled("fix-123"));
  EXPECT_EQ(client.GetString("banner", ""), "hi");
  EXPECT_EQ(client.GetInt("limit", 0), 42);
  EXPECT_DOUBLE_EQ(client.GetDouble("ratio", 0), 0.25);
  EXPECT_EQ(client.GetJson("config", ""), R"({"a":[1,2]})");
  flags.Set("fix-123", false);
  EXPECT_FALSE(client.Enabled("fix-123"));
}

TEST(TestFlagsTest, KillAndReviveAndRemove) {
  testing::TestFlags flags;
  flags.Set("fix-123", true);
  FlagHandle fix = flags.client().Flag("fix-123");
  flags.Kill("fix-123");
  EXPECT_FALSE(fix.Enabled());
  EXPECT_EQ(flags.client().Evaluate("fix-123").reason, Reason::kKilled);
  flags.Revive("fix-123");
  EXPECT_TRUE(fix.Enabled());
  flags.Remove("fix-123");
  EXPECT_EQ(flags.client().Evaluate("fix-123").error, ErrorKind::kFlagNotFound);
  flags.Set("a", true);
  flags.Clear();
  EXPECT_FALSE(flags.client().Enabled("a"));
}

TEST(TestFlagsTest, DefinitionsAllowRulesAndRejectBadOnes) {
  testing::TestFlags flags;
  ASSERT_TRUE(
      flags
          .SetDefinition("eu", R"({"variants": {"on": true, "off": false},
      "default": "off", "rules": [{"if": [{"attribute": "region", "op": "eq", "value": "eu"}],
      "serve": "on"}]})")
          .ok());
  EXPECT_TRUE(flags.client().Enabled("eu", Context("u").Set("region", "eu")));
  const absl::Status bad =
      flags.SetDefinition("eu", R"({"variants": {"on": true},
      "default": "on", "rules": [{"if": [{"attribute": "r", "op": "betwen", "value": 1}], "serve": "on"}]})");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("flags.eu.rules[0].if[0].op"));
  // The earlier definition is still in force.
  EXPECT_TRUE(flags.client().Enabled("eu", Context("u").Set("region", "eu")));
  EXPECT_FALSE(flags.SetJson("x", "42").ok());
  EXPECT_FALSE(flags.SetDefinition("y", "not json").ok());
}

}  // namespace
}  // namespace hotfix
