// The worked examples must say the truth: every docs/examples/*.json and the
// kill-switch service's embedded defaults compile, and evaluate as
// docs/flag-format.md ("Worked examples") and their descriptions claim.

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "hotfix/snapshot.h"
#include "hotfix_embedded/checkout_demo.h"

#ifndef HOTFIX_SOURCE_DIR
#error "HOTFIX_SOURCE_DIR must name the source tree (set in CMakeLists.txt)"
#endif

namespace hotfix {
namespace {

const std::filesystem::path kExamplesDir =
    std::filesystem::path(HOTFIX_SOURCE_DIR) / "docs" / "examples";

std::string ReadExample(const std::string& name) {
  std::ifstream in(kExamplesDir / name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << (kExamplesDir / name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::unique_ptr<const Snapshot> MustCompile(const std::string& json) {
  absl::StatusOr<std::unique_ptr<const Snapshot>> snapshot = Compile(json);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  return snapshot.ok() ? *std::move(snapshot) : nullptr;
}

// Replaces `from` (which must occur exactly once) in `json` by `to`: the
// operator's edit of a worked example.
std::string Edit(const std::string& json, const std::string& from,
                 const std::string& to) {
  EXPECT_EQ(json.find(from), json.rfind(from)) << "ambiguous edit: " << from;
  EXPECT_NE(json.find(from), std::string::npos) << "edit not found: " << from;
  return absl::StrReplaceAll(json, {{from, to}});
}

std::vector<std::string> UserKeys(int n, const std::string& prefix = "user-") {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back(prefix + std::to_string(i));
  return keys;
}

bool IsOn(const EvaluationDetail& d) {
  return d.value.type == ValueType::kBool && d.value.bool_value;
}

TEST(DocsExamplesTest, EveryExampleCompiles) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kExamplesDir)) {
    if (entry.path().extension() != ".json") continue;
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{
                       "checkout-demo.json", "gradual-rollout.json",
                       "kill-switch.json", "prerequisites-and-variants.json",
                       "rules-and-segments.json"}));
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    absl::StatusOr<std::unique_ptr<const Snapshot>> snapshot =
        Compile(ReadExample(name));
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_GT((*snapshot)->size(), 0u);
    EXPECT_TRUE((*snapshot)->warnings().empty());
  }
}

// ---------------------------------------------------------- kill-switch.json

TEST(KillSwitchExampleTest, KilledFlagServesOffVariantEvenToTargets) {
  auto snapshot = MustCompile(ReadExample("kill-switch.json"));
  ASSERT_NE(snapshot, nullptr);
  for (const char* key : {"user-1", "qa-bot"}) {
    const EvaluationDetail d =
        snapshot->Evaluate("recommendations", Context(key));
    EXPECT_EQ(d.reason, Reason::kKilled) << key;
    EXPECT_EQ(d.variant, "off") << key;
    EXPECT_FALSE(IsOn(d)) << key;
  }
  EXPECT_EQ(snapshot->version(), 7u);
}

TEST(KillSwitchExampleTest, RevivingRestoresTargetsAndDefault) {
  const std::string revived = Edit(ReadExample("kill-switch.json"),
                                   R"("killed": true)", R"("killed": false)");
  auto snapshot = MustCompile(revived);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->Evaluate("recommendations", Context("qa-bot")).reason,
            Reason::kTargetMatch);
  const EvaluationDetail d =
      snapshot->Evaluate("recommendations", Context("user-1"));
  EXPECT_EQ(d.reason, Reason::kDefault);
  EXPECT_TRUE(IsOn(d));
}

TEST(KillSwitchExampleTest, LiveSwitchIsStatic) {
  auto snapshot = MustCompile(ReadExample("kill-switch.json"));
  ASSERT_NE(snapshot, nullptr);
  const EvaluationDetail d = snapshot->Evaluate("search-suggestions");
  EXPECT_EQ(d.reason, Reason::kStatic);
  EXPECT_TRUE(IsOn(d));
}

TEST(KillSwitchExampleTest, DisabledWithoutOffVariantServesCallersDefault) {
  ClientOptions options;
  options.bootstrap_json = ReadExample("kill-switch.json");
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->GetString("export-format", "csv"), "csv");
  const EvaluationDetail d = (*client)->Evaluate("export-format");
  EXPECT_EQ(d.reason, Reason::kKilled);
  EXPECT_EQ(d.value.type, ValueType::kNone);
  EXPECT_FALSE((*client)->Enabled("recommendations"));
  EXPECT_TRUE((*client)->Enabled("search-suggestions"));
}

// ------------------------------------------------------ gradual-rollout.json

TEST(GradualRolloutExampleTest, TargetsAlwaysGetTheFix) {
  auto snapshot = MustCompile(ReadExample("gradual-rollout.json"));
  ASSERT_NE(snapshot, nullptr);
  for (const char* key : {"qa-alice", "qa-bob"}) {
    const EvaluationDetail d = snapshot->Evaluate("fix-123", Context(key));
    EXPECT_EQ(d.reason, Reason::kTargetMatch) << key;
    EXPECT_TRUE(IsOn(d)) << key;
  }
}

TEST(GradualRolloutExampleTest, AboutTenPercentOfKeysGetTheFix) {
  auto snapshot = MustCompile(ReadExample("gradual-rollout.json"));
  ASSERT_NE(snapshot, nullptr);
  const std::vector<std::string> keys = UserKeys(10000);
  int on = 0;
  for (const std::string& key : keys) {
    const EvaluationDetail d = snapshot->Evaluate("fix-123", Context(key));
    EXPECT_EQ(d.reason, Reason::kRollout);
    on += IsOn(d);
  }
  // A fixed hash over fixed keys: deterministic, and close to 10 %.
  EXPECT_GT(on, 900);
  EXPECT_LT(on, 1100);
}

// fix-123 with its fallthrough split edited to `on` % on, the rest off.
std::string RampFix123(int on) {
  std::string json = ReadExample("gradual-rollout.json");
  json = Edit(json, R"("weight": 10 })",
              "\"weight\": " + std::to_string(on) + " }");
  return Edit(json, R"("weight": 90 })",
              "\"weight\": " + std::to_string(100 - on) + " }");
}

TEST(GradualRolloutExampleTest, RampingUpOnlyAddsKeys) {
  auto at10 = MustCompile(RampFix123(10));
  auto at25 = MustCompile(RampFix123(25));
  auto at100 = MustCompile(RampFix123(100));
  ASSERT_NE(at10, nullptr);
  ASSERT_NE(at25, nullptr);
  ASSERT_NE(at100, nullptr);
  int on10 = 0, on25 = 0;
  for (const std::string& key : UserKeys(10000)) {
    const bool a = IsOn(at10->Evaluate("fix-123", Context(key)));
    const bool b = IsOn(at25->Evaluate("fix-123", Context(key)));
    EXPECT_TRUE(!a || b) << key << " lost the fix when ramping 10 -> 25 %";
    EXPECT_TRUE(IsOn(at100->Evaluate("fix-123", Context(key)))) << key;
    on10 += a;
    on25 += b;
  }
  EXPECT_GT(on25, on10);
}

TEST(GradualRolloutExampleTest, NoKeyServesCallersDefault) {
  auto snapshot = MustCompile(ReadExample("gradual-rollout.json"));
  ASSERT_NE(snapshot, nullptr);
  const EvaluationDetail d = snapshot->Evaluate("fix-123");
  EXPECT_EQ(d.reason, Reason::kError);
  EXPECT_EQ(d.error, ErrorKind::kMissingBucketKey);
  EXPECT_EQ(d.value.type, ValueType::kNone);
}

TEST(GradualRolloutExampleTest, RankerIsChosenPerTenant) {
  auto snapshot = MustCompile(ReadExample("gradual-rollout.json"));
  ASSERT_NE(snapshot, nullptr);
  std::set<std::string> seen;
  const std::vector<std::string> tenants = UserKeys(200, "tenant-");
  for (const std::string& tenant : tenants) {
    Context alice("alice");
    alice.Set("tenant", tenant);
    Context bob("bob");
    bob.Set("tenant", tenant);
    const EvaluationDetail a = snapshot->Evaluate("search-ranker", alice);
    const EvaluationDetail b = snapshot->Evaluate("search-ranker", bob);
    EXPECT_EQ(a.reason, Reason::kRollout);
    EXPECT_EQ(a.variant, b.variant) << tenant;
    seen.insert(std::string(a.variant));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"bm25", "classic", "neural"}));
  EXPECT_EQ(snapshot->Evaluate("search-ranker", Context("alice")).error,
            ErrorKind::kMissingBucketKey);
}

// --------------------------------------------------- rules-and-segments.json

class RulesAndSegmentsExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    snapshot_ = MustCompile(ReadExample("rules-and-segments.json"));
    ASSERT_NE(snapshot_, nullptr);
  }
  std::unique_ptr<const Snapshot> snapshot_;
};

TEST_F(RulesAndSegmentsExampleTest, SegmentIncludedExcludedAndRule) {
  // Included by key, with no other attribute.
  EvaluationDetail d = snapshot_->Evaluate("new-editor", Context("user-1"));
  EXPECT_EQ(d.reason, Reason::kRuleMatch);
  EXPECT_EQ(d.rule_index, 0);
  EXPECT_TRUE(IsOn(d));

  // In by the segment's rule.
  Context alice("user-2");
  alice.Set("email", "alice@example.com");
  d = snapshot_->Evaluate("new-editor", alice);
  EXPECT_EQ(d.rule_index, 0);
  EXPECT_TRUE(IsOn(d));

  // Excluded beats the segment's rule.
  Context mallory("user-9");
  mallory.Set("email", "mallory@example.com");
  d = snapshot_->Evaluate("new-editor", mallory);
  EXPECT_EQ(d.reason, Reason::kDefault);
  EXPECT_FALSE(IsOn(d));
}

TEST_F(RulesAndSegmentsExampleTest, SemverComparesByPrecedenceNotText) {
  int matched = 0;
  for (const std::string& key : UserKeys(100, "mobile-")) {  // not beta testers
    Context ctx(key);
    ctx.Set("app_version", "4.10.0").Set("platform", "ios");
    const EvaluationDetail d = snapshot_->Evaluate("new-editor", ctx);
    EXPECT_EQ(d.reason, Reason::kRuleMatch);
    EXPECT_EQ(d.rule_index, 1);
    matched += IsOn(d);
  }
  EXPECT_GT(matched, 0);    // a 50/50 split: some on,
  EXPECT_LT(matched, 100);  // some off

  for (const char* version : {"4.2.0-beta.1", "4.1.9", "3.9.0"}) {
    Context ctx("user-3");
    ctx.Set("app_version", version).Set("platform", "android");
    EXPECT_EQ(snapshot_->Evaluate("new-editor", ctx).reason, Reason::kDefault)
        << version;
  }
  Context web("user-3");
  web.Set("app_version", "5.0.0").Set("platform", "web");
  EXPECT_EQ(snapshot_->Evaluate("new-editor", web).reason, Reason::kDefault);
}

TEST_F(RulesAndSegmentsExampleTest,
       CrashWorkaroundTargetsVersionRangeAndModels) {
  struct Case {
    const char* version;
    const char* model;
    bool on;
  };
  for (const Case& c :
       {Case{"3.1.0", "Pixel 7 Pro", true}, Case{"3.1.12", "Pixel 6", true},
        Case{"v3.1.5", "Pixel 6a", false}, Case{"3.2.0", "Pixel 7", false},
        Case{"3.1.0-rc.1", "Pixel 7", false},
        Case{"3.1.4", "Pixel 8", false}}) {
    Context ctx("device-1");
    ctx.Set("app_version", c.version).Set("device_model", c.model);
    EXPECT_EQ(IsOn(snapshot_->Evaluate("crash-workaround", ctx)), c.on)
        << c.version << " on " << c.model;
  }
}

TEST_F(RulesAndSegmentsExampleTest, HolidayFreezeFollowsEvaluationTime) {
  auto at = [&](const char* time) {
    absl::Time t;
    std::string error;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, time, &t, &error)) << error;
    return snapshot_->Evaluate("holiday-freeze", Context(), ValueType::kBool,
                               t);
  };
  EvaluationDetail d = at("2025-12-24T18:00:00Z");
  EXPECT_EQ(d.reason, Reason::kRuleMatch);
  EXPECT_EQ(d.variant, "frozen");
  EXPECT_TRUE(IsOn(d));
  d = at("2025-12-19T23:59:59Z");
  EXPECT_EQ(d.reason, Reason::kDefault);
  EXPECT_EQ(d.variant, "normal");
  EXPECT_EQ(at("2026-01-05T00:00:01Z").variant, "normal");
}

TEST_F(RulesAndSegmentsExampleTest,
       NegatedClauseFailsClosedWhenAttributeMissing) {
  Context paid("acct-1");
  paid.Set("plan", "team").Set("seats", 120);
  EXPECT_TRUE(IsOn(snapshot_->Evaluate("enterprise-export", paid)));

  Context free_plan("acct-2");
  free_plan.Set("plan", "free").Set("seats", 120);
  EXPECT_FALSE(IsOn(snapshot_->Evaluate("enterprise-export", free_plan)));

  Context small("acct-3");
  small.Set("plan", "team").Set("seats", 10);
  EXPECT_FALSE(IsOn(snapshot_->Evaluate("enterprise-export", small)));

  // No plan at all: "plan is not free" does not match, even negated.
  Context unknown("acct-4");
  unknown.Set("seats", 120);
  const EvaluationDetail d = snapshot_->Evaluate("enterprise-export", unknown);
  EXPECT_EQ(d.reason, Reason::kDefault);
  EXPECT_FALSE(IsOn(d));
}

TEST_F(RulesAndSegmentsExampleTest, HygieneMetadataIsRecorded) {
  bool found = false;
  for (const FlagInfo& info : snapshot_->Flags()) {
    if (info.key != "crash-workaround") continue;
    found = true;
    EXPECT_EQ(info.owner, "android-oncall");
    EXPECT_EQ(info.ticket, "AND-881");
    ASSERT_TRUE(info.expires.has_value());
    EXPECT_EQ(*info.expires, absl::FromUnixSeconds(1774915200));  // 2026-03-31
    EXPECT_EQ(info.tags, (std::vector<std::string>{"android", "hotfix"}));
  }
  EXPECT_TRUE(found);
}

// -------------------------------------------- prerequisites-and-variants.json

class PrerequisitesExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientOptions options;
    options.bootstrap_json = ReadExample("prerequisites-and-variants.json");
    auto client = Client::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    eu_.Set("region", "eu");
    us_.Set("region", "us");
    eu_review_.Set("region", "eu");
    us_review_.Set("region", "us");
  }
  std::unique_ptr<Client> client_;
  Context eu_{"user-1"};
  Context us_{"user-2"};
  Context eu_review_{"user-under-review"};
  Context us_review_{"user-under-review"};
};

TEST_F(PrerequisitesExampleTest, DependentsFollowTheirPrerequisite) {
  EXPECT_TRUE(client_->Enabled("new-checkout", eu_));
  EXPECT_EQ(client_->GetString("checkout-theme", "none", eu_), "dark");
  EXPECT_EQ(client_->Evaluate("checkout-theme", eu_).reason, Reason::kDefault);

  EXPECT_FALSE(client_->Enabled("new-checkout", us_));
  const EvaluationDetail d = client_->Evaluate("checkout-theme", us_);
  EXPECT_EQ(d.reason, Reason::kPrerequisiteFailed);
  EXPECT_EQ(d.variant, "classic");
  EXPECT_EQ(client_->GetString("checkout-theme", "none", us_), "classic");
}

TEST_F(PrerequisitesExampleTest, FailedPrerequisiteBeatsTargets) {
  EvaluationDetail d = client_->Evaluate("checkout-limits", eu_review_);
  EXPECT_EQ(d.reason, Reason::kTargetMatch);
  EXPECT_EQ(d.variant, "strict");
  d = client_->Evaluate("checkout-limits", us_review_);
  EXPECT_EQ(d.reason, Reason::kPrerequisiteFailed);
  EXPECT_EQ(d.variant, "standard");
}

TEST_F(PrerequisitesExampleTest, JsonVariantsAreServedAsText) {
  const std::string_view strict =
      client_->GetJson("checkout-limits", "{}", eu_review_);
  EXPECT_NE(strict.find("\"max_items\":10"), std::string_view::npos) << strict;
  EXPECT_EQ(strict.front(), '{');
  EXPECT_EQ(client_->Evaluate("checkout-limits", eu_).value.type,
            ValueType::kJson);
  // Asking for another type is the caller's mistake: the caller's default.
  EXPECT_EQ(client_->GetString("checkout-limits", "fallback", eu_), "fallback");
  EXPECT_EQ(client_->Evaluate("checkout-limits", eu_, ValueType::kString).error,
            ErrorKind::kTypeMismatch);
}

TEST_F(PrerequisitesExampleTest, NumberVariants) {
  EXPECT_EQ(client_->GetInt("payment-retries", -1), 2);
  EXPECT_EQ(client_->Evaluate("payment-retries").reason, Reason::kStatic);
}

TEST_F(PrerequisitesExampleTest, KillingThePrerequisiteTurnsDependentsOff) {
  const std::string killed =
      Edit(ReadExample("prerequisites-and-variants.json"),
           R"("new-checkout": {)", R"("new-checkout": { "killed": true,)");
  ASSERT_TRUE(client_->Publish(killed).ok());
  EXPECT_EQ(client_->Evaluate("new-checkout", eu_).reason, Reason::kKilled);
  EXPECT_EQ(client_->Evaluate("checkout-theme", eu_).reason,
            Reason::kPrerequisiteFailed);
  EXPECT_EQ(client_->GetString("checkout-theme", "none", eu_), "classic");
  EXPECT_EQ(client_->Evaluate("checkout-limits", eu_review_).reason,
            Reason::kPrerequisiteFailed);
}

// ------------- docs/examples/checkout-demo.json (hotfixd and the example
// service)

TEST(KillSwitchServiceDefaultsTest, FixIsOnInEuAndForAQuarterElsewhere) {
  auto snapshot = MustCompile(kCheckoutDemoFlags);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->version(), 1u);
  int on = 0;
  for (const std::string& key : UserKeys(10000)) {
    Context eu(key);
    eu.Set("region", "eu");
    const EvaluationDetail d = snapshot->Evaluate("fix-double-charge", eu);
    EXPECT_EQ(d.reason, Reason::kRuleMatch);
    EXPECT_TRUE(IsOn(d));

    Context us(key);
    us.Set("region", "us");
    const EvaluationDetail r = snapshot->Evaluate("fix-double-charge", us);
    EXPECT_EQ(r.reason, Reason::kRollout);
    on += IsOn(r);
  }
  EXPECT_GT(on, 2300);
  EXPECT_LT(on, 2700);
}

TEST(KillSwitchServiceDefaultsTest, RecommendationsAreOnUntilKilled) {
  auto snapshot = MustCompile(kCheckoutDemoFlags);
  ASSERT_NE(snapshot, nullptr);
  const EvaluationDetail d =
      snapshot->Evaluate("kill-recommendations", Context("user-1"));
  EXPECT_EQ(d.reason, Reason::kStatic);
  EXPECT_TRUE(IsOn(d));

  auto killed = MustCompile(
      Edit(kCheckoutDemoFlags, R"("killed": false)", R"("killed": true)"));
  ASSERT_NE(killed, nullptr);
  const EvaluationDetail k =
      killed->Evaluate("kill-recommendations", Context("user-1"));
  EXPECT_EQ(k.reason, Reason::kKilled);
  EXPECT_FALSE(IsOn(k));
}

}  // namespace
}  // namespace hotfix
