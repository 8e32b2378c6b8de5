// tests/integration/guarded_rollout_test.cc
//
// The end-to-end proof of guarded rollouts (docs/guarded-rollouts.md,
// "End-to-end proof"): a real hotfixd on loopback runs a staged rollout plan
// of fix-double-charge, whose definition carries a local `guard`, while real
// kill_switch_service processes (examples/kill_switch_service) serve traffic
// from it and report every charge's outcome through the SDK's GuardScope.
//
//  - A fix that fails 30 % of its charges trips the local guard of the
//    process that serves it, within a second of that process having reported
//    the guard's min_samples outcomes on the fix (measured by the process on
//    its steady clock and printed); the trip reaches hotfixd, which kills the
//    flag (a new version by the actor `guard`, the trip's numbers in the
//    audit reason), and a second process that reports no outcomes, and so
//    never trips, stops serving the fix when the kill arrives by its stream.
//  - A healthy fix (1 % failures on both paths) ramps through every stage to
//    100 %, by the actor `guard`.
//
// Every wait has a deadline; nothing is timed by sleeping.

#include <signal.h>
#include <sys/types.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr char kEnv[] = "/v1/admin/envs/production";
constexpr char kFlag[] = "/v1/admin/envs/production/flags/fix-double-charge";
// Generous: these bound waits for things that take about a second, on a
// loaded machine.
constexpr absl::Duration kWait = absl::Seconds(30);
// The flag's local guard: more than 10 % failing, over at least 50 outcomes.
constexpr int kGuardMinSamples = 50;

// A kill_switch_service process streaming from the test's hotfixd; its
// output (stdout and stderr) goes to a file. Stopped (SIGTERM, then SIGKILL
// after a bounded wait) when destroyed.
class ServiceProcess {
 public:
  ServiceProcess(const ServerProcess& server, const std::string& dir,
                 const std::string& name, std::vector<std::string> args)
      : output_(absl::StrCat(dir, "/", name, ".out")) {
    std::vector<std::string> argv = {KILL_SWITCH_SERVICE_PATH,
                                     "--server",
                                     server.url(),
                                     "--sdk-key",
                                     kSdkKey,
                                     "--seconds",
                                     "120",
                                     "--instance",
                                     name,
                                     "--flush-ms",
                                     "200"};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = SpawnProcess(argv, {}, output_);
    EXPECT_GT(pid_, 0) << "could not start " << KILL_SWITCH_SERVICE_PATH;
  }
  ~ServiceProcess() { Stop(); }
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Returns the exit code (-1 if it had to be killed).
  int Stop() {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    exit_code_ = WaitExit(pid_, absl::Seconds(10));
    pid_ = -1;
    return exit_code_;
  }

  std::string Output() const { return ReadFile(output_); }
  std::vector<std::string> Lines() const {
    return absl::StrSplit(Output(), '\n', absl::SkipEmpty());
  }

  // The first line containing all of `parts`, waiting at most `timeout`.
  std::optional<std::string> WaitForLine(const std::vector<std::string>& parts,
                                         absl::Duration timeout,
                                         std::size_t from_line = 0) const {
    std::optional<std::string> found;
    WaitUntil(
        [&] {
          const std::vector<std::string> lines = Lines();
          for (std::size_t i = from_line; i < lines.size(); ++i) {
            bool all = true;
            for (const std::string& part : parts) {
              all = all && lines[i].find(part) != std::string::npos;
            }
            if (all) {
              found = lines[i];
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  // Index of the first line containing `part` (-1 if none).
  int LineIndex(const std::string& part) const {
    const std::vector<std::string> lines = Lines();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].find(part) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }

 private:
  std::string output_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// The number after `prefix` and any spaces in `text` ("tripped 93.1 ms"
// with prefix "tripped" gives 93.1); nullopt if absent.
std::optional<double> NumberAfter(const std::string& text,
                                  const std::string& prefix) {
  const std::size_t at = text.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  std::size_t begin = at + prefix.size();
  while (begin < text.size() && text[begin] == ' ') ++begin;
  std::size_t end = begin;
  while (end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[end])) ||
          text[end] == '.')) {
    ++end;
  }
  double value;
  if (!absl::SimpleAtod(text.substr(begin, end - begin), &value)) {
    return std::nullopt;
  }
  return value;
}

// "16/52 failed" after `prefix`: {16, 52}.
std::optional<std::pair<int, int>> FailedOf(const std::string& text,
                                            const std::string& prefix) {
  const std::size_t at = text.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  int failures = 0, outcomes = 0;
  if (std::sscanf(text.c_str() + at + prefix.size(), "%d/%d failed", &failures,
                  &outcomes) != 2) {
    return std::nullopt;
  }
  return std::make_pair(failures, outcomes);
}

class GuardedRolloutTest : public ServerTest {
 protected:
  void SetUp() override {
    Start({"--guard-interval", "100ms"});
    // A two-way split for the plan to ramp, and a local guard.
    HttpReply r = Call(
        "PUT", kFlag,
        absl::StrCat(
            R"({"reason":"PAY-123 the double-charge fix, guarded",)",
            R"("flag":{"variants":{"on":true,"off":false},"off_variant":"off",)",
            R"("default":{"rollout":{"bucket_by":"key","split":[)",
            R"({"variant":"on","weight":0},{"variant":"off","weight":100}]}},)",
            R"("guard":{"max_failure_rate":0.1,"min_samples":)",
            kGuardMinSamples, R"(,"window":"60s"}}})"));
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // Starts the staged rollout; returns the version it published (stage 1).
  std::uint64_t StartPlan(const std::string& fields) {
    HttpReply r =
        Call("POST", absl::StrCat(kFlag, "/rollout-plan"),
             absl::StrCat(
                 R"({"reason":"PAY-123 guarded ramp","stages":[10,50,100],)",
                 fields, "}"));
    EXPECT_EQ(r.status, 201) << r.body;
    return EnvVersion();
  }

  std::uint64_t EnvVersion() {
    rapidjson::Document d =
        Call("GET", absl::StrCat(kEnv, "/history?limit=1")).Json();
    return d["versions"][0]["version"].GetUint64();
  }

  std::string PlanState() {
    rapidjson::Document d =
        Call("GET", absl::StrCat(kFlag, "/rollout-plan")).Json();
    return d.HasMember("state") ? d["state"].GetString() : "";
  }

  rapidjson::Document FlagDoc() { return Call("GET", kFlag).Json(); }

  std::vector<std::string> ServiceArgs(const std::string& fix_rate,
                                       const std::string& seed) {
    return {"--fix-failure-rate", fix_rate, "--base-failure-rate", "0.01",
            "--seed", seed, "--guard-min-samples",
            absl::StrCat(kGuardMinSamples),
            // The first checkout already sees the plan's definition: no
            // checkout straddles the guard's installation, so the process's
            // count of outcomes is the guard's (a checkout evaluated under
            // the embedded defaults but reported after the guard arrived
            // counts for the guard, not for the process's tally).
            "--wait-for-server", "20000"};
  }
};

TEST_F(
    GuardedRolloutTest,
    BuggyFixTripsLocallyAndTheServersKillSwitchesOffAProcessThatNeverTripped) {
  // Stage 1 (10 %) for a minute: only a trip or the statistics can end it,
  // and the statistics need 200 outcomes of the fix, more than the tripping
  // process reports before it stops serving the fix.
  const std::uint64_t plan_version = StartPlan(
      R"("every_seconds":60,"min_samples":200,"on_regression":"kill")");
  ASSERT_GT(plan_version, 0u);
  const std::string v_plan = absl::StrCat("v", plan_version, " stream/");

  // B reports no outcomes: its local guard can never trip. It serves the
  // buggy fix to about 10 % of its users, from the plan's version.
  std::vector<std::string> b_args = ServiceArgs("0.3", "2");
  b_args.push_back("--no-outcome-reports");
  ServiceProcess b(*server_, dir_.path(), "unguarded-b", b_args);
  // A whole second under the plan's version: the line after the first one
  // that shows it.
  ASSERT_TRUE(b.WaitForLine({v_plan}, kWait).has_value()) << b.Output();
  std::optional<std::string> b_serving =
      b.WaitForLine({v_plan, "fix ROLLOUT"}, kWait,
                    static_cast<std::size_t>(b.LineIndex(v_plan)) + 1);
  ASSERT_TRUE(b_serving.has_value()) << b.Output();
  ASSERT_GT(NumberAfter(*b_serving, "fix path ").value_or(0), 0.0)
      << *b_serving;

  // A reports every charge's outcome; 30 % of the fix's fail.
  ServiceProcess a(*server_, dir_.path(), "guarded-a", ServiceArgs("0.3", "1"));

  // A's local guard trips within a second of A having reported the guard's
  // min_samples-th outcome on the fix. Measured by A on its steady clock:
  // from that report to its change listener hearing of the trip (the fix is
  // no longer served from then on); the guard is judged every 100 ms.
  std::optional<std::string> timing = a.WaitForLine({"guard timing:"}, kWait);
  ASSERT_TRUE(timing.has_value()) << a.Output();
  std::optional<double> after = NumberAfter(*timing, "tripped ");
  ASSERT_TRUE(after.has_value()) << *timing;
  EXPECT_GE(*after, 0.0) << *timing;
  EXPECT_LE(*after, 1000.0) << *timing;
  RecordProperty("trip_after_min_samples_ms", absl::StrCat(*after));
  std::printf("service guarded-a: %s\n", timing->c_str());
  EXPECT_GE(NumberAfter(*timing, "(").value_or(0), kGuardMinSamples) << *timing;
  // The SDK logs the trip: "... tripped: variant "on" <detail>; serving ...",
  // the detail being "34.48% failed over the last 58 outcomes (limit 10%)".
  const std::string logged_prefix =
      "guard of flag \"fix-double-charge\" tripped: variant \"on\" ";
  std::optional<std::string> logged = a.WaitForLine({logged_prefix}, kWait);
  ASSERT_TRUE(logged.has_value()) << a.Output();
  const std::size_t detail_at =
      logged->find(logged_prefix) + logged_prefix.size();
  const std::string detail =
      logged->substr(detail_at, logged->find("; serving") - detail_at);
  EXPECT_GE(NumberAfter(detail, "over the last").value_or(0), kGuardMinSamples)
      << detail;
  EXPECT_GT(NumberAfter(detail, "").value_or(0), 10.0) << detail;
  EXPECT_NE(detail.find("(limit 10%)"), std::string::npos) << detail;
  // The service's own line, with the numbers from the client's status (unless
  // the server's kill had already reset it when the listener asked).
  std::optional<std::string> trip =
      a.WaitForLine({"GUARD_TRIPPED fix-double-charge:"}, kWait);
  ASSERT_TRUE(trip.has_value()) << a.Output();
  std::optional<std::pair<int, int>> local = FailedOf(*trip, ", ");
  if (local.has_value()) {
    EXPECT_NE(trip->find(absl::StrCat("variant \"on\" of v", plan_version)),
              std::string::npos)
        << *trip;
    EXPECT_NE(trip->find(detail), std::string::npos) << *trip;
  }

  // hotfixd rolls the plan back at once: the flag killed, by `guard`, the
  // trip's numbers in the reason.
  ASSERT_TRUE(WaitUntil([&] { return PlanState() == "rolled_back"; }, kWait))
      << PlanState();
  rapidjson::Document killed = FlagDoc();
  EXPECT_TRUE(killed["flag"].HasMember("killed") &&
              killed["flag"]["killed"].GetBool());
  rapidjson::Document audit =
      Call("GET", "/v1/admin/audit?env=production&limit=1").Json();
  ASSERT_EQ(audit["entries"].Size(), 1u);
  const rapidjson::Value& entry = audit["entries"][0];
  EXPECT_STREQ(entry["actor"].GetString(), "guard");
  EXPECT_STREQ(entry["action"].GetString(), "guard.kill");
  const std::uint64_t kill_version = entry["version"].GetUint64();
  EXPECT_EQ(kill_version, plan_version + 1);
  const std::string reason = entry["reason"].GetString();
  EXPECT_NE(reason.find("guard: killed at stage 1/3 (10%)"), std::string::npos)
      << reason;
  EXPECT_NE(reason.find("process guarded-a tripped its local guard ("),
            std::string::npos)
      << reason;
  std::optional<std::pair<int, int>> reported =
      FailedOf(reason, "tripped its local guard (");
  ASSERT_TRUE(reported.has_value()) << reason;
  EXPECT_GE(reported->second, kGuardMinSamples) << reason;
  EXPECT_GT(reported->first * 10, reported->second) << reason;  // above 10 %
  EXPECT_NE(reason.find(absl::StrCat(" failed: ", detail, ")")),
            std::string::npos)
      << reason << "\nlogged: " << detail;
  if (local.has_value()) EXPECT_EQ(*reported, *local) << reason;
  // And what the fleet's counts said when the trip arrived (the sequential
  // test's state: typically still waiting for its minimum samples).
  EXPECT_NE(reason.find("; the fleet since the plan began: "),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("treatment "), std::string::npos) << reason;

  // B never tripped; the server's kill reaches it by its stream and switches
  // the fix off there too.
  const std::string b_change =
      absl::StrCat("flags changed v", plan_version, " -> v", kill_version,
                   " (stream): fix-double-charge");
  ASSERT_TRUE(b.WaitForLine({b_change}, kWait).has_value()) << b.Output();
  const int change_line = b.LineIndex(b_change);
  ASSERT_GE(change_line, 0);
  EXPECT_TRUE(b.WaitForLine({"fix path   0.0%", "fix KILLED",
                             absl::StrCat("v", kill_version, " stream/")},
                            kWait, static_cast<std::size_t>(change_line))
                  .has_value())
      << b.Output();
  // A follows the kill as well (its trip ends with the new definition).
  EXPECT_TRUE(
      a.WaitForLine({"fix KILLED", absl::StrCat("v", kill_version, " stream/")},
                    kWait)
          .has_value())
      << a.Output();
  EXPECT_EQ(a.Stop(), 0);
  EXPECT_EQ(b.Stop(), 0);
  EXPECT_EQ(b.LineIndex("GUARD_TRIPPED"), -1) << b.Output();
}

TEST_F(GuardedRolloutTest, HealthyFixRampsThroughEveryStageTo100Percent) {
  const std::uint64_t plan_version =
      StartPlan(R"("every_seconds":1,"min_samples":100,"tolerance":0.05)");
  ASSERT_GT(plan_version, 0u);
  // 1 % of the charges fail on either path; the fix adds nothing.
  ServiceProcess a(*server_, dir_.path(), "healthy-a", ServiceArgs("0", "1"));

  ASSERT_TRUE(WaitUntil([&] { return PlanState() == "completed"; }, kWait))
      << PlanState() << "\n"
      << a.Output();
  rapidjson::Document flag = FlagDoc();
  const rapidjson::Value& def = flag["flag"];
  // `killed` is left out of a flag that is not killed.
  EXPECT_FALSE(def.HasMember("killed") && def["killed"].GetBool());
  ASSERT_TRUE(def["default"].IsObject() && def["default"].HasMember("rollout"));
  EXPECT_EQ(def["default"]["rollout"]["split"][0]["weight"].GetInt(), 100);
  // Two steps by `guard`, 10 % → 50 % → 100 %, each with its numbers.
  rapidjson::Document history =
      Call("GET", absl::StrCat(kEnv, "/history?limit=3")).Json();
  ASSERT_EQ(history["versions"].Size(), 3u);
  const rapidjson::Value& last = history["versions"][0];
  const rapidjson::Value& first = history["versions"][1];
  EXPECT_EQ(last["version"].GetUint64(), plan_version + 2);
  for (const rapidjson::Value* step : {&first, &last}) {
    EXPECT_STREQ((*step)["actor"].GetString(), "guard");
    EXPECT_STREQ((*step)["action"].GetString(), "guard.advance");
    EXPECT_NE(std::string((*step)["reason"].GetString()).find("always-valid"),
              std::string::npos)
        << (*step)["reason"].GetString();
  }
  EXPECT_NE(std::string(first["reason"].GetString()).find("10% → 50%"),
            std::string::npos)
      << first["reason"].GetString();
  EXPECT_NE(std::string(last["reason"].GetString()).find("50% → 100%"),
            std::string::npos)
      << last["reason"].GetString();

  // The service followed every stage and now charges everyone through the
  // fix; its guard never tripped.
  EXPECT_TRUE(a.WaitForLine({"fix path 100.0%",
                             absl::StrCat("v", plan_version + 2, " stream/")},
                            kWait)
                  .has_value())
      << a.Output();
  EXPECT_EQ(a.Stop(), 0);
  EXPECT_EQ(a.LineIndex("GUARD_TRIPPED"), -1) << a.Output();
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
