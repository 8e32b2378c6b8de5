// tests/hotfixd/documents_test.cc
//
// hotfixd's edits of a flag-set document (tools/hotfixd/core/documents.h):
// kill and revive (by flag and by tag), rollout percentages that keep the
// bucketing (salt, bucket_by, killed state), the diff that picks patch or
// put, and the demo set's expiry stamp.

#include "core/documents.h"

#include <string>
#include <vector>

#include "common/json_util.h"
#include "gtest/gtest.h"
#include "test_json.h"

namespace hotfix {
namespace hotfixd {
namespace {

constexpr char kSet[] = R"({"version":3,"flags":{
  "fix":{"variants":{"on":true,"off":false},"off_variant":"off","killed":true,
         "default":{"rollout":{"bucket_by":"account","salt":"s-1",
           "split":[{"variant":"on","weight":10},{"variant":"off","weight":90}]}},
         "tags":["payments","hotfix"]},
  "switch":{"variants":{"on":true,"off":false},"default":"on","enabled":false,
            "tags":["payments"]},
  "theme":{"variants":{"a":"x","b":"y","c":"z"},"default":"a"}}})";

TEST(SetRolloutTest, KeepsSaltBucketByAndTheKillSwitch) {
  rapidjson::Document doc = Parse(kSet);
  ASSERT_TRUE(SetRollout(doc, "fix", 25).ok());
  const rapidjson::Value& rollout = doc["flags"]["fix"]["default"]["rollout"];
  EXPECT_EQ(std::string(rollout["salt"].GetString()), "s-1");
  EXPECT_EQ(std::string(rollout["bucket_by"].GetString()), "account");
  EXPECT_EQ(rollout["split"][0]["weight"].GetInt(), 25);
  EXPECT_EQ(rollout["split"][1]["weight"].GetInt(), 75);
  EXPECT_TRUE(doc["flags"]["fix"]["killed"].GetBool());
}

TEST(SetRolloutTest, TurnsABooleanFlagIntoATwoWaySplit) {
  rapidjson::Document doc = Parse(kSet);
  ASSERT_TRUE(SetRollout(doc, "switch", 12.5).ok());
  EXPECT_EQ(DescribeFallthrough(doc["flags"]["switch"]),
            "rollout on 12.5% / off 87.5%");
}

TEST(SetRolloutTest, RefusesWhatItCannotExpressNamingTheField) {
  rapidjson::Document doc = Parse(kSet);
  auto st = SetRollout(doc, "theme", 50);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(st.message()).find("flags.theme.default"),
            std::string::npos);
  EXPECT_FALSE(SetRollout(doc, "fix", 100.5).ok());
  EXPECT_FALSE(SetRollout(doc, "fix", 12.3456).ok());
  EXPECT_EQ(SetRollout(doc, "nope", 5).code(), absl::StatusCode::kNotFound);
}

TEST(SetKilledTest, ReviveAlsoClearsEnabledFalse) {
  rapidjson::Document doc = Parse(kSet);
  ASSERT_TRUE(SetKilled(doc, "switch", false).ok());
  EXPECT_TRUE(doc["flags"]["switch"]["enabled"].GetBool());
  EXPECT_FALSE(doc["flags"]["switch"]["killed"].GetBool());
  EXPECT_EQ(SetKilled(doc, "nope", true).code(), absl::StatusCode::kNotFound);
}

TEST(SetKilledByTagTest, KillsEveryTaggedFlagAndNamesThem) {
  rapidjson::Document doc = Parse(kSet);
  auto keys = SetKilledByTag(doc, "payments", true);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<std::string>{"fix", "switch"}));
  EXPECT_TRUE(doc["flags"]["switch"]["killed"].GetBool());
  EXPECT_FALSE(doc["flags"]["theme"].HasMember("killed"));
  EXPECT_EQ(SetKilledByTag(doc, "nobody", true).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(StampHotfixExpiryTest, StampsOnlyHotfixFlagsWithoutExpiry) {
  rapidjson::Document doc = Parse(
      R"({"version":1,"flags":{"a":{"tags":["hotfix"]},"b":{"tags":["x"]},
          "c":{"tags":["hotfix"],"expires":"2030-01-01"}}})");
  EXPECT_EQ(StampHotfixExpiry(doc, "2027-02-01"),
            std::vector<std::string>{"a"});
  EXPECT_EQ(std::string(doc["flags"]["a"]["expires"].GetString()),
            "2027-02-01");
  EXPECT_FALSE(doc["flags"]["b"].HasMember("expires"));
  EXPECT_EQ(std::string(doc["flags"]["c"]["expires"].GetString()),
            "2030-01-01");
}

TEST(PutFlagTest, RefusesKeysThatAreNotKeys) {
  rapidjson::Document doc = Parse(kSet);
  const rapidjson::Document flag = Parse(R"({"variants":{"on":true}})");
  for (const char* key : {".", "..", "a b", ""}) {
    EXPECT_EQ(PutFlag(doc, key, flag).code(),
              absl::StatusCode::kInvalidArgument)
        << key;
  }
  EXPECT_TRUE(PutFlag(doc, "a.b_c-1", flag).ok());
}

constexpr char kFlagdSet[] =
    R"({"$schema":"https://flagd.dev/schema/v0/flags.json",
  "flags":{
    "ramp":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off",
            "targeting":{"fractional":[["on",10],["off",90]]}},
    "plain":{"state":"ENABLED","variants":{"yes":true,"no":false},"defaultVariant":"no"},
    "rule":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off",
            "targeting":{"if":[{"var":"vip"},"on",null]}}}})";

TEST(FlagdDocumentTest, KillAndReviveSetTheState) {
  rapidjson::Document doc = Parse(kFlagdSet);
  ASSERT_TRUE(SetKilled(doc, "rule", true).ok());
  EXPECT_EQ(std::string(doc["flags"]["rule"]["state"].GetString()), "DISABLED");
  EXPECT_FALSE(doc["flags"]["rule"].HasMember("killed"));
  ASSERT_TRUE(SetKilled(doc, "rule", false).ok());
  EXPECT_EQ(std::string(doc["flags"]["rule"]["state"].GetString()), "ENABLED");
}

TEST(FlagdDocumentTest, RolloutSetsIntegerWeightsOfATwoWayFractional) {
  rapidjson::Document doc = Parse(kFlagdSet);
  ASSERT_TRUE(SetRollout(doc, "ramp", 12.5).ok());
  const rapidjson::Value& f = doc["flags"]["ramp"]["targeting"]["fractional"];
  EXPECT_EQ(std::string(f[0][0].GetString()), "on");
  EXPECT_EQ(f[0][1].GetInt64(), 12500);
  EXPECT_EQ(f[1][1].GetInt64(), 87500);
  // A boolean flag without targeting gets the fractional.
  ASSERT_TRUE(SetRollout(doc, "plain", 30).ok());
  const rapidjson::Value& p = doc["flags"]["plain"]["targeting"]["fractional"];
  EXPECT_EQ(std::string(p[0][0].GetString()), "yes");
  EXPECT_EQ(p[0][1].GetInt64(), 30000);
}

TEST(FlagdDocumentTest, RolloutOnOtherTargetingSaysWhyNot) {
  rapidjson::Document doc = Parse(kFlagdSet);
  absl::Status st = SetRollout(doc, "rule", 10);
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_NE(st.message().find("flags.rule.targeting: a flagd flag takes a "
                              "rollout percentage"),
            std::string::npos)
      << st;
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix
