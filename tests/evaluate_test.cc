// Flag semantics: operators, kill switch, prerequisites, segments, targets,
// rollouts, defaults and reasons (docs/flag-format.md, "Evaluation order").

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hotfix/snapshot.h"

namespace hotfix {
namespace {

std::unique_ptr<const Snapshot> MustCompile(const std::string& json) {
  auto snapshot = Compile(json);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  if (!snapshot.ok()) return nullptr;
  return *std::move(snapshot);
}

// A boolean flag "f" with one rule made of `clause`.
std::unique_ptr<const Snapshot> OneClause(const std::string& clause,
                                          const std::string& extra = "") {
  return MustCompile(absl::StrCat(R"({"version": 1, "flags": {"f": {
      "variants": {"on": true, "off": false}, "off_variant": "off",
      "default": "off",
      "rules": [{"if": [)",
                                  clause, R"(], "serve": "on"}]}})", extra,
                                  "}"));
}

bool Matches(const Snapshot& s, const Context& ctx) {
  const EvaluationDetail d = s.Evaluate("f", ctx);
  return d.reason == Reason::kRuleMatch;
}

TEST(OperatorTest, InMatchesAnyStringValue) {
  auto s = OneClause(
      R"({"attribute": "region", "op": "in", "values": ["eu", "uk"]})");
  Context ctx("u");
  EXPECT_TRUE(Matches(*s, ctx.Set("region", "uk")));
  EXPECT_FALSE(Matches(*s, ctx.Set("region", "us")));
}

TEST(OperatorTest, EqWithSingleValue) {
  auto s = OneClause(R"({"attribute": "plan", "op": "eq", "value": "pro"})");
  Context ctx("u");
  EXPECT_TRUE(Matches(*s, ctx.Set("plan", "pro")));
  EXPECT_FALSE(Matches(*s, ctx.Set("plan", "Pro")));
}

TEST(OperatorTest, InWithManyValuesUsesSetAndStillMatches) {
  std::string values;
  for (int i = 0; i < 50; ++i)
    absl::StrAppend(&values, i ? "," : "", "\"t", i, "\"");
  auto s = OneClause(absl::StrCat(
      R"({"attribute": "tenant", "op": "in", "values": [)", values, "]}"));
  Context ctx("u");
  EXPECT_TRUE(Matches(*s, ctx.Set("tenant", "t37")));
  EXPECT_FALSE(Matches(*s, ctx.Set("tenant", "t50")));
}

TEST(OperatorTest, InComparesNumbersAndBools) {
  auto n = OneClause(R"({"attribute": "shard", "op": "in", "values": [3, 7]})");
  Context ctx("u");
  EXPECT_TRUE(Matches(*n, ctx.Set("shard", 7)));
  EXPECT_FALSE(Matches(*n, ctx.Set("shard", 8)));
  auto b = OneClause(R"({"attribute": "beta", "op": "eq", "value": true})");
  Context c2("u");
  EXPECT_TRUE(Matches(*b, c2.Set("beta", true)));
  EXPECT_FALSE(Matches(*b, c2.Set("beta", false)));
}

TEST(OperatorTest, TypeThatDoesNotFitFailsClosed) {
  auto s = OneClause(R"({"attribute": "shard", "op": "in", "values": [3]})");
  Context ctx("u");
  EXPECT_FALSE(Matches(*s, ctx.Set("shard", "3")));  // string vs number
}

TEST(OperatorTest, NotInNeedsThePresentAttribute) {
  auto s =
      OneClause(R"({"attribute": "region", "op": "not_in", "values": ["eu"]})");
  Context ctx("u");
  EXPECT_TRUE(Matches(*s, Context("u").Set("region", "us")));
  EXPECT_FALSE(Matches(*s, ctx.Set("region", "eu")));
  EXPECT_FALSE(Matches(*s, Context("u")));  // missing: fail closed
}

TEST(OperatorTest, StringOperators) {
  auto sw = OneClause(
      R"({"attribute": "email", "op": "starts_with", "values": ["admin@", "root@"]})");
  auto ew = OneClause(
      R"({"attribute": "email", "op": "ends_with", "value": "@example.com"})");
  auto co = OneClause(
      R"({"attribute": "email", "op": "contains", "value": "+test"})");
  Context a("u");
  a.Set("email", "root@example.com");
  EXPECT_TRUE(Matches(*sw, a));
  EXPECT_TRUE(Matches(*ew, a));
  EXPECT_FALSE(Matches(*co, a));
  Context b("u");
  b.Set("email", "bob+test@example.org");
  EXPECT_FALSE(Matches(*sw, b));
  EXPECT_FALSE(Matches(*ew, b));
  EXPECT_TRUE(Matches(*co, b));
  Context c("u");
  c.Set("email", "@ex");  // shorter than the suffix
  EXPECT_FALSE(Matches(*ew, c));
}

TEST(OperatorTest, MatchesIsAnRe2PartialMatch) {
  auto s = OneClause(
      R"({"attribute": "ua", "op": "matches", "value": "Chrome/1[0-9]{2}\\."})");
  Context ctx("u");
  EXPECT_TRUE(Matches(*s, ctx.Set("ua", "Mozilla Chrome/120.0 Safari")));
  EXPECT_FALSE(Matches(*s, ctx.Set("ua", "Chrome/99.0")));
}

TEST(OperatorTest, MatchesStaysLinearOnPathologicalInput) {
  // (a+)+$ is the classic catastrophic-backtracking pattern; RE2 is linear.
  auto s =
      OneClause(R"({"attribute": "x", "op": "matches", "value": "^(a+)+$"})");
  const std::string evil = std::string(5000, 'a') + "!";
  Context ctx("u");
  EXPECT_FALSE(Matches(*s, ctx.Set("x", evil)));
}

TEST(OperatorTest, NumericComparisons) {
  Context ctx("u");
  ctx.Set("age", 30);
  EXPECT_TRUE(Matches(
      *OneClause(R"({"attribute": "age", "op": "lt", "value": 31})"), ctx));
  EXPECT_FALSE(Matches(
      *OneClause(R"({"attribute": "age", "op": "lt", "value": 30})"), ctx));
  EXPECT_TRUE(Matches(
      *OneClause(R"({"attribute": "age", "op": "lte", "value": 30})"), ctx));
  EXPECT_TRUE(Matches(
      *OneClause(R"({"attribute": "age", "op": "gt", "value": 29.5})"), ctx));
  EXPECT_FALSE(Matches(
      *OneClause(R"({"attribute": "age", "op": "gt", "value": 30})"), ctx));
  EXPECT_TRUE(Matches(
      *OneClause(R"({"attribute": "age", "op": "gte", "value": 30})"), ctx));
  Context s("u");
  s.Set("age", "30");
  EXPECT_FALSE(Matches(
      *OneClause(R"({"attribute": "age", "op": "gte", "value": 1})"), s));
}

TEST(OperatorTest, SemverComparisonsFollowPrecedence) {
  Context ctx("u");
  ctx.Set("app", "v2.10.0-rc.1");
  EXPECT_TRUE(Matches(
      *OneClause(
          R"({"attribute": "app", "op": "semver_lt", "value": "2.10.0"})"),
      ctx));
  EXPECT_TRUE(Matches(
      *OneClause(
          R"({"attribute": "app", "op": "semver_gt", "value": "2.9.99"})"),
      ctx));
  EXPECT_TRUE(Matches(
      *OneClause(
          R"({"attribute": "app", "op": "semver_gte", "value": "2.10.0-beta"})"),
      ctx));
  EXPECT_TRUE(Matches(
      *OneClause(
          R"({"attribute": "app", "op": "semver_eq", "value": "2.10.0-rc.1+build.5"})"),
      ctx));
  EXPECT_FALSE(Matches(
      *OneClause(
          R"({"attribute": "app", "op": "semver_lte", "value": "2.10.0-alpha"})"),
      ctx));
  Context bad("u");
  bad.Set("app", "2.10");  // not a semver: fail closed
  EXPECT_FALSE(Matches(
      *OneClause(
          R"({"attribute": "app", "op": "semver_lt", "value": "9.0.0"})"),
      bad));
}

TEST(OperatorTest, BeforeAndAfterCompareAttributeTimes) {
  auto before = OneClause(
      R"({"attribute": "signup", "op": "before", "value": "2026-01-01T00:00:00Z"})");
  Context ctx("u");
  EXPECT_TRUE(Matches(*before, ctx.Set("signup", "2025-12-31T23:59:59Z")));
  EXPECT_TRUE(Matches(
      *before, ctx.Set("signup", "2026-01-01T01:00:00+02:00")));  // 23:00Z
  EXPECT_TRUE(Matches(*before, ctx.Set("signup", 1767225599)));   // Unix s
  EXPECT_FALSE(Matches(*before, ctx.Set("signup", 1767225600)));
  EXPECT_FALSE(Matches(*before, ctx.Set("signup", "yesterday")));
}

TEST(OperatorTest, TimeClauseWithoutAttributeUsesEvaluationTime) {
  auto s = OneClause(R"({"op": "after", "value": "2026-06-01T00:00:00Z"})");
  const absl::Time may = absl::FromUnixSeconds(1779000000);   // 2026-05-17
  const absl::Time july = absl::FromUnixSeconds(1783000000);  // 2026-07-02
  EXPECT_EQ(s->Evaluate("f", Context("u"), ValueType::kNone, may).reason,
            Reason::kDefault);
  EXPECT_EQ(s->Evaluate("f", Context("u"), ValueType::kNone, july).reason,
            Reason::kRuleMatch);
}

TEST(OperatorTest, NegateInvertsOnlyPresentAttributes) {
  auto s = OneClause(
      R"({"attribute": "region", "op": "in", "values": ["eu"], "negate": true})");
  EXPECT_TRUE(Matches(*s, Context("u").Set("region", "us")));
  EXPECT_FALSE(Matches(*s, Context("u").Set("region", "eu")));
  EXPECT_FALSE(Matches(*s, Context("u")));
}

TEST(OperatorTest, KeyAttributeIsTheContextKey) {
  auto s = OneClause(
      R"({"attribute": "key", "op": "starts_with", "value": "staff-"})");
  EXPECT_TRUE(Matches(*s, Context("staff-7")));
  EXPECT_FALSE(Matches(*s, Context("user-7")));
  EXPECT_FALSE(Matches(*s, Context()));
}

TEST(RuleTest, AllClausesMustMatchAndFirstRuleWins) {
  auto s = MustCompile(R"({"version": 3, "flags": {"color": {
      "variants": {"red": "red", "green": "green", "blue": "blue"},
      "default": "blue",
      "rules": [
        {"if": [{"attribute": "region", "op": "eq", "value": "eu"},
                {"attribute": "plan", "op": "eq", "value": "pro"}], "serve": "red"},
        {"if": [{"attribute": "region", "op": "eq", "value": "eu"}], "serve": {"variant": "green"}},
        {"if": [], "serve": "blue"}]}}})");
  EvaluationDetail d =
      s->Evaluate("color", Context("u").Set("region", "eu").Set("plan", "pro"));
  EXPECT_EQ(d.variant, "red");
  EXPECT_EQ(d.rule_index, 0);
  d = s->Evaluate("color", Context("u").Set("region", "eu"));
  EXPECT_EQ(d.value.string_value, "green");
  EXPECT_EQ(d.rule_index, 1);
  EXPECT_EQ(d.reason, Reason::kRuleMatch);
  d = s->Evaluate("color", Context("u"));
  EXPECT_EQ(d.rule_index, 2);  // empty `if` always matches
  EXPECT_EQ(d.snapshot_version, 3u);
}

constexpr char kEverything[] = R"({"version": 9,
  "segments": {"staff": {"included": ["alice"], "excluded": ["mallory"],
                         "rules": [{"if": [{"attribute": "email", "op": "ends_with", "value": "@corp.example"}]}]}},
  "flags": {
    "base": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on"},
    "fix": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "off",
            "prerequisites": [{"flag": "base", "variant": "on"}],
            "targets": [{"variant": "on", "keys": ["bob"]}],
            "rules": [{"if": [{"op": "segment", "values": ["staff"]}], "serve": "on"}]},
    "killed": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on",
               "killed": true, "targets": [{"variant": "on", "keys": ["bob"]}],
               "rules": [{"if": [], "serve": "on"}]},
    "disabled": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on",
                 "enabled": false},
    "killed-no-off": {"variants": {"a": "A"}, "default": "a", "killed": true},
    "needs-killed": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on",
                     "prerequisites": [{"flag": "killed", "variant": "on"}]},
    "chain": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on",
              "prerequisites": [{"flag": "fix", "variant": "on"}]}
  }})";

TEST(KillSwitchTest, KillBeatsEveryRule) {
  auto s = MustCompile(kEverything);
  const EvaluationDetail d = s->Evaluate("killed", Context("bob"));
  EXPECT_EQ(d.reason, Reason::kKilled);
  EXPECT_EQ(d.variant, "off");
  EXPECT_FALSE(d.value.bool_value);
  EXPECT_EQ(d.value.type, ValueType::kBool);
}

TEST(KillSwitchTest, EnabledFalseIsAKill) {
  auto s = MustCompile(kEverything);
  EXPECT_EQ(s->Evaluate("disabled").reason, Reason::kKilled);
}

TEST(KillSwitchTest, KilledWithoutOffVariantServesCallerDefault) {
  auto s = MustCompile(kEverything);
  const EvaluationDetail d = s->Evaluate("killed-no-off");
  EXPECT_EQ(d.reason, Reason::kKilled);
  EXPECT_EQ(d.value.type, ValueType::kNone);
  EXPECT_TRUE(d.variant.empty());
}

TEST(PrerequisiteTest, FailedPrerequisiteServesOffVariant) {
  auto s = MustCompile(kEverything);
  const EvaluationDetail d = s->Evaluate("needs-killed", Context("bob"));
  EXPECT_EQ(d.reason, Reason::kPrerequisiteFailed);
  EXPECT_EQ(d.variant, "off");
}

TEST(PrerequisiteTest, MetPrerequisitesChainThrough) {
  auto s = MustCompile(kEverything);
  // chain -> fix -> base; fix serves "on" for bob (target), so chain is on.
  EXPECT_EQ(s->Evaluate("chain", Context("bob")).variant, "on");
  EXPECT_EQ(s->Evaluate("chain", Context("bob")).reason, Reason::kDefault);
  // For carol fix serves its default "off", so chain's prerequisite fails.
  EXPECT_EQ(s->Evaluate("chain", Context("carol")).reason,
            Reason::kPrerequisiteFailed);
}

TEST(TargetTest, TargetBeatsRules) {
  auto s = MustCompile(kEverything);
  const EvaluationDetail d = s->Evaluate("fix", Context("bob"));
  EXPECT_EQ(d.reason, Reason::kTargetMatch);
  EXPECT_EQ(d.variant, "on");
}

TEST(SegmentTest, IncludedExcludedAndRules) {
  auto s = MustCompile(kEverything);
  EXPECT_EQ(s->Evaluate("fix", Context("alice")).reason, Reason::kRuleMatch);
  Context corp("carol");
  corp.Set("email", "carol@corp.example");
  EXPECT_EQ(s->Evaluate("fix", corp).reason, Reason::kRuleMatch);
  Context excluded("mallory");
  excluded.Set("email", "mallory@corp.example");  // excluded beats the rule
  EXPECT_EQ(s->Evaluate("fix", excluded).reason, Reason::kDefault);
  EXPECT_EQ(s->Evaluate("fix", Context("dave")).variant, "off");
}

TEST(ReasonTest, StaticFlagsSayStatic) {
  auto s = MustCompile(kEverything);
  const EvaluationDetail d = s->Evaluate("base");
  EXPECT_EQ(d.reason, Reason::kStatic);
  EXPECT_TRUE(d.value.bool_value);
  EXPECT_EQ(d.snapshot_version, 9u);
}

TEST(ReasonTest, UnknownFlagIsFlagNotFound) {
  auto s = MustCompile(kEverything);
  const EvaluationDetail d = s->Evaluate("no-such-flag");
  EXPECT_EQ(d.reason, Reason::kError);
  EXPECT_EQ(d.error, ErrorKind::kFlagNotFound);
  EXPECT_EQ(d.value.type, ValueType::kNone);
  EXPECT_EQ(d.snapshot_version, 9u);
}

TEST(ReasonTest, WrongTypeIsTypeMismatch) {
  auto s = MustCompile(kEverything);
  const EvaluationDetail d = s->Evaluate("base", Context(), ValueType::kString);
  EXPECT_EQ(d.reason, Reason::kError);
  EXPECT_EQ(d.error, ErrorKind::kTypeMismatch);
  EXPECT_EQ(d.value.type, ValueType::kNone);
  EXPECT_EQ(s->Evaluate("base", Context(), ValueType::kBool).error,
            ErrorKind::kNone);
}

TEST(ReasonTest, NamesAreStable) {
  EXPECT_EQ(ReasonName(Reason::kPrerequisiteFailed), "PREREQUISITE_FAILED");
  EXPECT_EQ(ReasonName(Reason::kRuleMatch), "RULE_MATCH");
  EXPECT_EQ(ErrorKindName(ErrorKind::kFlagNotFound), "FLAG_NOT_FOUND");
  EXPECT_EQ(ErrorKindName(ErrorKind::kTypeMismatch), "TYPE_MISMATCH");
  EXPECT_EQ(ValueTypeName(ValueType::kJson), "json");
}

constexpr char kRollout[] = R"({"version": 1, "flags": {
  "ramp": {"variants": {"on": true, "off": false}, "off_variant": "off",
           "default": {"rollout": {"split": [{"variant": "on", "weight": 20},
                                             {"variant": "off", "weight": 80}]}}},
  "by-tenant": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "off",
                "rules": [{"if": [], "serve": {"rollout": {"bucket_by": "tenant", "salt": "s1",
                    "split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}}]}}})";

TEST(RolloutTest, FallthroughSplitSaysRollout) {
  auto s = MustCompile(kRollout);
  int on = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string key = absl::StrCat("user-", i);
    const EvaluationDetail d = s->Evaluate("ramp", Context(key));
    ASSERT_EQ(d.reason, Reason::kRollout);
    on += d.value.bool_value;
  }
  EXPECT_NEAR(on, 2000, 200);
}

TEST(RolloutTest, MissingKeyIsAnErrorOnTheFallthrough) {
  auto s = MustCompile(kRollout);
  const EvaluationDetail d = s->Evaluate("ramp", Context());
  EXPECT_EQ(d.reason, Reason::kError);
  EXPECT_EQ(d.error, ErrorKind::kMissingBucketKey);
}

TEST(RolloutTest, RuleWithoutBucketAttributeDoesNotMatch) {
  auto s = MustCompile(kRollout);
  EXPECT_EQ(s->Evaluate("by-tenant", Context("u")).reason, Reason::kDefault);
  EXPECT_EQ(s->Evaluate("by-tenant", Context("u").Set("tenant", "acme")).reason,
            Reason::kRuleMatch);
}

TEST(RolloutTest, BucketsDependOnTheAttributeNotTheKey) {
  auto s = MustCompile(kRollout);
  // Many keys of one tenant: all in that tenant's bucket...
  for (const std::string tenant : {"acme", "globex", "initech", "umbrella"}) {
    Context first("user-0");
    first.Set("tenant", tenant);
    const std::string_view expected = s->Evaluate("by-tenant", first).variant;
    for (int i = 1; i < 200; ++i) {
      const std::string key = absl::StrCat("user-", i);
      Context c(key);
      c.Set("tenant", tenant);
      ASSERT_EQ(s->Evaluate("by-tenant", c).variant, expected)
          << key << " of tenant " << tenant;
    }
  }
  // ...while tenants (one key each) fall on both sides of the 50/50 split.
  int on = 0;
  constexpr int kTenants = 200;
  for (int i = 0; i < kTenants; ++i) {
    const std::string tenant = absl::StrCat("tenant-", i);
    Context c("user-0");
    c.Set("tenant", tenant);
    on += s->Evaluate("by-tenant", c).variant == "on";
  }
  EXPECT_GT(on, kTenants / 4);
  EXPECT_LT(on, 3 * kTenants / 4);
}

TEST(RolloutTest, RaisingPercentageOnlyAddsKeys) {
  auto at = [](int percent) {
    return MustCompile(absl::StrCat(R"({"version": 1, "flags": {"ramp": {
        "variants": {"on": true, "off": false}, "default": {"rollout": {"split": [
        {"variant": "on", "weight": )",
                                    percent,
                                    R"(}, {"variant": "off", "weight": )",
                                    100 - percent, "}]}}}}}"));
  };
  auto ten = at(10), twenty = at(20);
  int gained = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string key = absl::StrCat("k", i);
    const bool was = ten->Evaluate("ramp", Context(key)).value.bool_value;
    const bool is = twenty->Evaluate("ramp", Context(key)).value.bool_value;
    ASSERT_TRUE(!was || is) << key << " lost the fix when the ramp went up";
    gained += !was && is;
  }
  EXPECT_GT(gained, 1500);
}

}  // namespace
}  // namespace hotfix
