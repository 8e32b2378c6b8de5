// Flag semantics: operators, kill switch, prerequisites, segments, targets,
// rollouts, defaults and reasons (docs/flag-format.md, "Evaluation order").

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

// ------------------------------------------------------------ Explain()

// Explain() runs Evaluate()'s walk: same answer, whatever the context.
TEST(ExplainTest, AgreesWithEvaluateOnEveryContext) {
  auto s = MustCompile(R"({"version": 4, "flags": {
      "gate": {"variants": {"on": true, "off": false}, "default": "on"},
      "f": {"variants": {"a": "A", "b": "B", "c": "C"}, "off_variant": "c",
            "prerequisites": [{"flag": "gate", "variant": "on"}],
            "targets": [{"variant": "b", "keys": ["vip"]}],
            "rules": [
              {"if": [{"attribute": "v", "op": "semver_gte", "value": "2.0.0"},
                      {"attribute": "plan", "op": "in", "values": ["pro"]}],
               "serve": "a"},
              {"if": [{"attribute": "n", "op": "gt", "value": 10}],
               "serve": {"rollout": {"bucket_by": "org", "split": [
                 {"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}]}}},
              {"if": [{"attribute": "beta", "op": "in", "values": [true]}],
               "serve": "b"}],
            "default": {"rollout": {"split": [
              {"variant": "b", "weight": 30}, {"variant": "c", "weight": 70}]}}}}})");
  ASSERT_NE(s, nullptr);
  std::vector<Context> contexts;
  for (const char* key : {"", "vip", "u1", "u2"}) {
    for (const char* v : {"", "1.0.0", "2.1.0", "x"}) {
      for (int n : {-1, 5, 11}) {
        Context ctx;
        if (*key != '\0') ctx.set_key(key);
        if (*v != '\0') ctx.Set("v", std::string_view(v));
        if (n >= 0) ctx.Set("n", n);
        if (n == 5) ctx.Set("v", 2.0).Set("beta", true).Set("org", "o1");
        if (n == 11) ctx.Set("plan", "pro").Set("beta", "yes");
        contexts.push_back(ctx);
      }
    }
  }
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    const EvaluationDetail d = s->Evaluate("f", contexts[i]);
    const Explanation e = s->Explain("f", contexts[i]);
    EXPECT_EQ(e.detail.reason, d.reason) << i;
    EXPECT_EQ(e.detail.error, d.error) << i;
    EXPECT_EQ(e.detail.variant, d.variant) << i;
    EXPECT_EQ(e.detail.rule_index, d.rule_index) << i;
    EXPECT_EQ(e.detail.snapshot_version, d.snapshot_version) << i;
    EXPECT_EQ(e.prerequisites.size(), 1u) << i;
  }
}

TEST(ExplainTest, NamesEachClauseOutcomeAndStopsAtTheFirstFailure) {
  auto s = MustCompile(R"({"version": 1, "flags": {"f": {
      "variants": {"on": true, "off": false}, "default": "off", "rules": [
        {"if": [{"attribute": "v", "op": "semver_gte", "value": "5.0.0"},
                {"attribute": "plan", "op": "in", "values": ["pro"]}],
         "serve": "on"},
        {"if": [{"attribute": "beta", "op": "in", "values": [true]}],
         "serve": "on"},
        {"if": [{"attribute": "country", "op": "in", "values": ["de"]}],
         "serve": "on"},
        {"if": [{"attribute": "when", "op": "before",
                 "value": "2030-01-01T00:00:00Z"}], "serve": "on"},
        {"if": [{"attribute": "plan", "op": "in", "values": ["pro"],
                 "negate": true}], "serve": "on"}]}}})");
  ASSERT_NE(s, nullptr);
  Context ctx("u");
  ctx.Set("v", 6)               // a number where semver_gte reads a string
      .Set("beta", "yes")       // a string where `in [true]` reads a bool
      .Set("when", "tomorrow")  // a string that is no RFC 3339 time
      .Set("plan", "pro");
  const Explanation e = s->Explain("f", ctx);
  EXPECT_EQ(e.detail.reason, Reason::kDefault);
  ASSERT_EQ(e.rules.size(), 5u);

  const ClauseExplanation& semver = e.rules[0].clauses[0];
  EXPECT_EQ(semver.outcome, ClauseOutcome::kWrongType);
  EXPECT_EQ(semver.attribute, "v");
  EXPECT_EQ(semver.op, "semver_gte");
  EXPECT_EQ(semver.expected_type, "string");
  EXPECT_EQ(semver.actual_type, "number");
  EXPECT_EQ(e.rules[0].clauses[1].outcome, ClauseOutcome::kNotEvaluated);
  EXPECT_FALSE(e.rules[0].matched);

  const ClauseExplanation& in_bool = e.rules[1].clauses[0];
  EXPECT_EQ(in_bool.outcome, ClauseOutcome::kWrongType);
  EXPECT_EQ(in_bool.expected_type, "bool");
  EXPECT_EQ(in_bool.actual_type, "string");

  EXPECT_EQ(e.rules[2].clauses[0].outcome, ClauseOutcome::kMissingAttribute);
  EXPECT_EQ(e.rules[3].clauses[0].outcome, ClauseOutcome::kInvalidValue);
  EXPECT_EQ(e.rules[3].clauses[0].expected_type, "RFC 3339 time");
  const ClauseExplanation& negated = e.rules[4].clauses[0];
  EXPECT_EQ(negated.outcome, ClauseOutcome::kNotMatched);
  EXPECT_TRUE(negated.negate);

  // The same context with the right types: rule 0 decides, later rules are
  // not tested.
  Context typed("u");
  typed.Set("v", "6.0.0").Set("plan", "pro");
  const Explanation m = s->Explain("f", typed);
  EXPECT_EQ(m.detail.reason, Reason::kRuleMatch);
  EXPECT_EQ(m.detail.rule_index, 0);
  ASSERT_EQ(m.rules.size(), 1u);
  EXPECT_TRUE(m.rules[0].matched);
  EXPECT_EQ(m.rules[0].clauses[0].outcome, ClauseOutcome::kMatched);
  EXPECT_EQ(m.rules[0].clauses[1].outcome, ClauseOutcome::kMatched);
}

TEST(ExplainTest, RuleSplitWithoutBucketKeyIsPassedOver) {
  auto s = MustCompile(R"({"version": 1, "flags": {"f": {
      "variants": {"on": true, "off": false}, "default": "off", "rules": [
        {"if": [{"attribute": "plan", "op": "in", "values": ["pro"]}],
         "serve": {"rollout": {"bucket_by": "org", "split": [
           {"variant": "on", "weight": 100}]}}}]}}})");
  ASSERT_NE(s, nullptr);
  Context ctx("u");
  ctx.Set("plan", "pro");
  const Explanation e = s->Explain("f", ctx);
  EXPECT_EQ(e.detail.reason, Reason::kDefault);
  ASSERT_EQ(e.rules.size(), 1u);
  EXPECT_TRUE(e.rules[0].matched);
  EXPECT_TRUE(e.rules[0].split);
  EXPECT_EQ(e.rules[0].bucket_by, "org");
  EXPECT_TRUE(e.rules[0].missing_bucket_key);
}

TEST(ExplainTest, UnknownFlagAndFailedPrerequisite) {
  auto s = MustCompile(R"({"version": 1, "flags": {
      "gate": {"variants": {"on": true, "off": false}, "default": "off"},
      "f": {"variants": {"on": true, "off": false}, "default": "on",
            "off_variant": "off",
            "prerequisites": [{"flag": "gate", "variant": "on"}]}}})");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->Explain("nope").detail.error, ErrorKind::kFlagNotFound);
  const Explanation e = s->Explain("f");
  EXPECT_EQ(e.detail.reason, Reason::kPrerequisiteFailed);
  ASSERT_EQ(e.prerequisites.size(), 1u);
  EXPECT_EQ(e.prerequisites[0].flag, "gate");
  EXPECT_EQ(e.prerequisites[0].required_variant, "on");
  EXPECT_EQ(e.prerequisites[0].served_variant, "off");
  EXPECT_FALSE(e.prerequisites[0].passed);
}

}  // namespace
}  // namespace hotfix
