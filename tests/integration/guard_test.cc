// tests/integration/guard_test.cc
//
// hotfixd's side of guarded rollouts (docs/guarded-rollouts.md), with the
// telemetry SDKs would send posted directly: telemetry is accepted only for
// flags and variants the environment has, shows in stats and /metrics; a
// staged rollout advances while the numbers are healthy and is rolled back —
// by the actor "guard", with the numbers in the reason — when they are not,
// or at once on a process's trip report; an operator's own change stops it;
// stale lists flags nobody evaluates. Bounded waits only.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/json_util.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr char kEnv[] = "/v1/admin/envs/production";
constexpr char kFlag[] = "/v1/admin/envs/production/flags/fix-double-charge";

class GuardTest : public ServerTest {
 protected:
  void SetUp() override { Start({"--guard-interval", "100ms"}); }

  // Reports `n` outcomes of each arm of fix-double-charge ("on" is the
  // treatment, "off" the control) with the given failure counts.
  void Report(int on_ok, int on_failed, int off_ok, int off_failed) {
    HttpReply r =
        Http(server_->port(), "POST", "/v1/telemetry", kSdkKey,
             absl::StrCat(R"({"instance":"test-1","counts":[
          {"flag":"fix-double-charge","variant":"on","exposures":)",
                          on_ok + on_failed, R"(,"successes":)", on_ok,
                          R"(,"failures":)", on_failed, R"(},
          {"flag":"fix-double-charge","variant":"off","exposures":)",
                          off_ok + off_failed, R"(,"successes":)", off_ok,
                          R"(,"failures":)", off_failed, "}]}"));
    ASSERT_EQ(r.status, 202) << r.body;
  }

  HttpReply StartPlan(const std::string& extra = "") {
    return Call("POST", absl::StrCat(kFlag, "/rollout-plan"),
                absl::StrCat(R"({"reason":"PAY-1 staged","stages":[10,50,100],
                    "every_seconds":1,"min_samples":100)",
                             extra, "}"));
  }

  std::string PlanState() {
    return Call("GET", absl::StrCat(kFlag, "/rollout-plan"))
        .Json()["state"]
        .GetString();
  }

  int Percent() {
    rapidjson::Document d = Call("GET", kFlag).Json();
    return d["flag"]["default"]["rollout"]["split"][0]["weight"].GetInt();
  }
};

TEST_F(GuardTest, TelemetryIsCountedOnlyForWhatTheSetHas) {
  HttpReply r = Http(server_->port(), "POST", "/v1/telemetry", kSdkKey,
                     R"({"instance":"svc-7","counts":[
                         {"flag":"fix-double-charge","variant":"on",
                          "exposures":100,"successes":40,"failures":2},
                         {"flag":"no-such-flag","variant":"on","exposures":5},
                         {"flag":"fix-double-charge","variant":"nope",
                          "exposures":5}],"dropped":3})");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.Json()["accepted"].GetUint64(), 1u);
  EXPECT_EQ(r.Json()["ignored"].GetUint64(), 2u);
  rapidjson::Document stats = Call("GET", absl::StrCat(kFlag, "/stats")).Json();
  ASSERT_EQ(stats["variants"].Size(), 1u);
  EXPECT_EQ(stats["variants"][0]["exposures"].GetUint64(), 100u);
  EXPECT_EQ(stats["variants"][0]["failures"].GetUint64(), 2u);
  EXPECT_FALSE(stats["last_evaluated"].IsNull());
  HttpReply metrics = Call("GET", "/metrics", "", "");
  EXPECT_NE(metrics.body.find(
                "hotfixd_flag_exposures_total{env=\"production\",flag=\"fix-"
                "double-charge\",variant=\"on\"} 100"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("hotfixd_telemetry_dropped_total 3"),
            std::string::npos);
  // Bad reports name the field; only SDK keys (or read tokens) may report.
  r = Http(server_->port(), "POST", "/v1/telemetry", kSdkKey,
           R"({"instance":"x","counts":[{"flag":"fix-double-charge"}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("body.counts[0].variant: required"), std::string::npos)
      << r.body;
  EXPECT_EQ(Http(server_->port(), "POST", "/v1/telemetry", "", "{}").status,
            401);
}

TEST_F(GuardTest, AHealthyStagedRolloutRampsToTheEnd) {
  HttpReply started = StartPlan();
  ASSERT_EQ(started.status, 201) << started.body;
  EXPECT_EQ(Percent(), 10);
  // 1 % failing in both arms, reported as traffic flows.
  ASSERT_TRUE(WaitUntil(
      [&] {
        Report(990, 10, 990, 10);
        return PlanState() == "completed";
      },
      absl::Seconds(60)));
  EXPECT_EQ(Percent(), 100);
  // Each step is a version by "guard" with the numbers.
  rapidjson::Document history =
      Call("GET", absl::StrCat(kEnv, "/history?limit=5")).Json();
  const rapidjson::Value& top = history["versions"][0];
  EXPECT_STREQ(top["actor"].GetString(), "guard");
  EXPECT_STREQ(top["action"].GetString(), "guard.advance");
  EXPECT_NE(std::string(top["reason"].GetString()).find("50% → 100%"),
            std::string::npos)
      << top["reason"].GetString();
  EXPECT_NE(std::string(top["reason"].GetString()).find("treatment "),
            std::string::npos);
}

TEST_F(GuardTest, ARegressionIsRolledBackWithTheNumbers) {
  ASSERT_EQ(StartPlan().status, 201);
  // The fix fails 30 % of the time, control 1 %.
  ASSERT_TRUE(WaitUntil(
      [&] {
        Report(70, 30, 990, 10);
        return PlanState() == "rolled_back";
      },
      absl::Seconds(60)));
  rapidjson::Document flag = Call("GET", kFlag).Json();
  EXPECT_TRUE(flag["flag"]["killed"].GetBool());
  rapidjson::Document audit =
      Call("GET", "/v1/admin/audit?env=production&limit=1").Json();
  const rapidjson::Value& e = audit["entries"][0];
  EXPECT_STREQ(e["actor"].GetString(), "guard");
  EXPECT_STREQ(e["action"].GetString(), "guard.kill");
  const std::string reason = e["reason"].GetString();
  EXPECT_NE(reason.find("failed (30.00%)"), std::string::npos) << reason;
  EXPECT_NE(reason.find("always-valid"), std::string::npos) << reason;
  // Rollback-able like any other version.
  const std::uint64_t guard_version = e["version"].GetUint64();
  EXPECT_EQ(Call("POST", absl::StrCat(kEnv, "/rollback"),
                 absl::StrCat(R"({"reason":"undo guard","version":)",
                              guard_version - 1, "}"))
                .status,
            200);
}

TEST_F(GuardTest, ALocalTripRollsBackAtOnceToThePreviousStage) {
  ASSERT_EQ(StartPlan(R"(,"on_regression":"previous")").status, 201);
  HttpReply r = Http(server_->port(), "POST", "/v1/telemetry", kSdkKey,
                     R"({"instance":"checkout-3","trips":[
                         {"flag":"fix-double-charge","variant":"on",
                          "version":2,"failures":31,"outcomes":100,
                          "detail":"31 of the last 100 failed"}]})");
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(WaitUntil([&] { return PlanState() == "rolled_back"; },
                        absl::Seconds(30)));
  EXPECT_EQ(Percent(), 0);  // back from the first stage: to 0 %
  rapidjson::Document history =
      Call("GET", absl::StrCat(kEnv, "/history?limit=1")).Json();
  EXPECT_NE(std::string(history["versions"][0]["reason"].GetString())
                .find("process checkout-3 tripped its local guard"),
            std::string::npos);
  rapidjson::Document stats = Call("GET", absl::StrCat(kFlag, "/stats")).Json();
  EXPECT_EQ(stats["trips"].Size(), 1u);
}

TEST_F(GuardTest, AnOperatorsChangeStopsThePlan) {
  ASSERT_EQ(StartPlan().status, 201);
  ASSERT_EQ(Call("POST", absl::StrCat(kFlag, "/rollout"),
                 R"({"reason":"by hand","percent":33})")
                .status,
            200);
  ASSERT_TRUE(
      WaitUntil([&] { return PlanState() == "stopped"; }, absl::Seconds(30)));
  EXPECT_EQ(Percent(), 33);
  // A new plan can start; only one runs at a time.
  ASSERT_EQ(StartPlan().status, 201);
  EXPECT_EQ(StartPlan().status, 409);
  HttpReply cancel = Call("DELETE", absl::StrCat(kFlag, "/rollout-plan"),
                          R"({"reason":"not today"})");
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(PlanState(), "cancelled");
}

TEST_F(GuardTest, MetadataNamesEachFlagsStagedRollout) {
  // The rollout_plan of `key` in the environment's metadata.
  auto plan_of = [&](const std::string& key) -> std::string {
    rapidjson::Document d = Call("GET", absl::StrCat(kEnv, "/metadata")).Json();
    for (const auto& f : d["flags"].GetArray()) {
      if (f["key"].GetString() != key) continue;
      const rapidjson::Value& plan = f["rollout_plan"];
      return plan.IsNull() ? "null" : plan.GetString();
    }
    return "missing";
  };
  EXPECT_EQ(plan_of("fix-double-charge"), "null");
  ASSERT_EQ(StartPlan().status, 201);
  EXPECT_EQ(plan_of("fix-double-charge"), "active");
  EXPECT_EQ(plan_of("kill-recommendations"), "null");
  ASSERT_EQ(Call("DELETE", absl::StrCat(kFlag, "/rollout-plan"),
                 R"({"reason":"not today"})")
                .status,
            200);
  EXPECT_EQ(plan_of("fix-double-charge"), "cancelled");
}

TEST_F(GuardTest, BadPlansNameTheField) {
  HttpReply r = Call("POST", absl::StrCat(kFlag, "/rollout-plan"),
                     R"({"reason":"x","stages":[5,2,100]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("stages[1]"), std::string::npos) << r.body;
  r = Call("POST", absl::StrCat(kFlag, "/rollout-plan"),
           R"({"reason":"x","stages":[5,50]})");
  EXPECT_NE(r.body.find("the last stage must be 100"), std::string::npos);
  r = Call("POST", absl::StrCat(kFlag, "/rollout-plan"),
           R"({"reason":"x","stages":[5,100],"compare_to_control":false})");
  EXPECT_NE(r.body.find("max_failure_rate: required"), std::string::npos);
}

TEST_F(GuardTest, CtlStartsFollowsAndCancels) {
  CtlResult start =
      Ctl({"rollout", "fix-double-charge", "--stages", "5,25,100", "--every",
           "1h", "--max-failure-rate", "2%", "--reason", "PAY-1"});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_NE(start.out.find("staged rollout of fix-double-charge"),
            std::string::npos)
      << start.out;
  Report(500, 5, 500, 5);
  CtlResult stats = Ctl({"stats", "fix-double-charge"});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_NE(stats.out.find("0.99%"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("active"), std::string::npos) << stats.out;
  CtlResult cancel =
      Ctl({"rollout", "fix-double-charge", "--cancel", "--reason", "enough"});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_NE(cancel.out.find("cancelled"), std::string::npos) << cancel.out;
  CtlResult bad = Ctl({"rollout", "fix-double-charge", "--stages", "5,100",
                       "--max-failure-rate", "200%", "--reason", "x"});
  EXPECT_EQ(bad.exit_code, 1);
}

TEST_F(GuardTest, StaleListsFlagsNobodyEvaluates) {
  // Only fix-double-charge is reported evaluated.
  Report(10, 0, 10, 0);
  CtlResult stale = Ctl({"stale", "--unused-days", "1"});
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_NE(stale.out.find("kill-recommendations"), std::string::npos)
      << stale.out;
  EXPECT_NE(stale.out.find("unused"), std::string::npos);
  EXPECT_EQ(stale.out.find("fix-double-charge"), std::string::npos)
      << stale.out;
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
