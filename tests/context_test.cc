#include "hotfix/context.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace hotfix {
namespace {

// "a0" to "a19": more attribute names than a Context keeps inline.
std::vector<std::string> ManyNames() {
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back(absl::StrCat("a", i));
  return names;
}

// Expects `ctx` to hold the number i as names[i], for every i.
void ExpectNumbered(const Context& ctx, const std::vector<std::string>& names) {
  for (int i = 0; i < static_cast<int>(names.size()); ++i) {
    ASSERT_NE(ctx.Find(names[i]), nullptr) << names[i];
    EXPECT_EQ(ctx.Find(names[i])->number_value, i);
  }
}

TEST(ContextTest, KeyIsFoundAsTheKeyAttribute) {
  Context ctx("user-1");
  ASSERT_NE(ctx.Find("key"), nullptr);
  EXPECT_EQ(ctx.Find("key")->string_value, "user-1");
  EXPECT_EQ(Context().Find("key"), nullptr);
}

TEST(ContextTest, SetStoresTypedValuesAndReplaces) {
  Context ctx("u");
  ctx.Set("region", "eu")
      .Set("age", 31)
      .Set("beta", true)
      .SetNumber("score", 0.5);
  EXPECT_EQ(ctx.Find("region")->type, AttributeValue::Type::kString);
  EXPECT_EQ(ctx.Find("age")->number_value, 31);
  EXPECT_EQ(ctx.Find("beta")->type, AttributeValue::Type::kBool);
  EXPECT_EQ(ctx.Find("score")->number_value, 0.5);
  ctx.Set("region", "us");
  EXPECT_EQ(ctx.Find("region")->string_value, "us");
  EXPECT_EQ(ctx.size(), 4u);
  EXPECT_EQ(ctx.Find("missing"), nullptr);
}

TEST(ContextTest, SettingKeyAttributeSetsTheKey) {
  Context ctx;
  ctx.Set("key", "user-9");
  EXPECT_TRUE(ctx.has_key());
  EXPECT_EQ(ctx.key(), "user-9");
  EXPECT_EQ(ctx.size(), 0u);
}

TEST(ContextTest, ManyAttributesSpillBeyondTheInlineArray) {
  const std::vector<std::string> names = ManyNames();
  Context ctx("u");
  for (int i = 0; i < 20; ++i) ctx.Set(names[i], i);
  ASSERT_NO_FATAL_FAILURE(ExpectNumbered(ctx, names));
  ctx.Set(names[15], 99);
  EXPECT_EQ(ctx.Find(names[15])->number_value, 99);
  EXPECT_EQ(ctx.size(), 20u);
}

TEST(ContextTest, AddAppendsWithoutLookingForTheName) {
  const std::vector<std::string> names = ManyNames();
  Context ctx("u");
  for (int i = 0; i < 20; ++i) ctx.AddNumber(names[i], i);
  ctx.Add("s", "text").Add("b", true);
  EXPECT_EQ(ctx.size(), 22u);
  ASSERT_NO_FATAL_FAILURE(ExpectNumbered(ctx, names));
  EXPECT_EQ(ctx.Find("s")->string_value, "text");
  EXPECT_TRUE(ctx.Find("b")->bool_value);
  // A name added twice is kept twice; Find() answers with the first.
  ctx.Add("s", "again");
  EXPECT_EQ(ctx.size(), 23u);
  EXPECT_EQ(ctx.Find("s")->string_value, "text");
}

TEST(ContextTest, AddingKeyAttributeSetsTheKey) {
  Context ctx;
  ctx.Add("key", "user-9");
  EXPECT_EQ(ctx.key(), "user-9");
  EXPECT_EQ(ctx.size(), 0u);
}

}  // namespace
}  // namespace hotfix
