// tools/hotfixd/core/guard_controller.h
//
// GuardController runs staged rollouts with a guard (docs/guarded-
// rollouts.md): a flag ramps through its stages (1 %, 5 %, 25 % ...) while
// the telemetry SDKs report says the variant being rolled out is not worse
// than allowed, and is rolled back — killed, or returned to the previous
// stage — as soon as the evidence says it is worse (core/guard_stats.h), or
// at once when a process reports that its local guard tripped. Every
// automatic action is an ordinary new version by the actor "guard", with a
// reason that carries the numbers, audited and rollback-able like any other.
//
// A plan ends when it completes (100 % and healthy for a stage period), is
// rolled back, is cancelled, or stops because someone else changed the flag
// (killed it, deleted it, or set another percentage): an operator's decision
// always wins over the plan. Plans are stored and survive restarts.
//
// Thread-safe. One thread judges the plans every tick and right after a trip.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_GUARD_CONTROLLER_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_GUARD_CONTROLLER_H_

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/flag_service.h"
#include "core/guard_stats.h"
#include "core/telemetry.h"
#include "store/store.h"
#include "util/sync.h"

namespace hotfix {
namespace hotfixd {

// What a staged rollout does (stored as JSON in the plan).
struct RolloutSpec {
  std::vector<double> stages;  // percentages, increasing, the last one 100
  absl::Duration every = absl::Minutes(10);  // at least this long per stage
  bool compare_to_control = true;
  GuardCriteria criteria;
  // "kill" (serve the off variant everywhere) or "previous" (go back one
  // stage; from the first stage, to 0 %).
  std::string on_regression = "kill";
  // Filled in when the plan starts: the split's two variants.
  std::string treatment;
  std::string control;
};

// Parses / prints the spec; errors name the field ("stages[2]: ...").
absl::StatusOr<RolloutSpec> ParseRolloutSpec(const std::string& json);
std::string RolloutSpecJson(const RolloutSpec& spec);

class GuardController {
 public:
  GuardController(Store* store, FlagService* flags, TelemetryService* telemetry,
                  absl::Duration tick);
  ~GuardController();  // Stop()
  GuardController(const GuardController&) = delete;
  GuardController& operator=(const GuardController&) = delete;

  // Starts judging (the stored active plans too).
  void Start();
  void Stop();

  // Begin()
  //
  // Records a plan for `flag` in `env` (replacing a finished one;
  // FailedPrecondition if one is active), after its first stage has been
  // written: `spec` names the treatment and control variants.
  absl::StatusOr<RolloutPlanRow> Begin(const std::string& env,
                                       const std::string& flag,
                                       const RolloutSpec& spec,
                                       const std::string& actor);

  // Cancel()
  //
  // Ends an active plan where it stands (the flag keeps its percentage).
  absl::Status Cancel(const std::string& env, const std::string& flag,
                      const std::string& actor, const std::string& reason);

  // A process's local guard tripped: judged at once.
  void OnTrip(const GuardTrip& trip);

  // Judges every active plan now (also what each tick does). Exposed for
  // tests.
  void JudgeAll();

 private:
  void Loop();
  void JudgePlan(RolloutPlanRow plan, const GuardTrip* trip);
  absl::Status Act(RolloutPlanRow& plan, const RolloutSpec& spec,
                   const std::string& action, const std::string& reason,
                   const FlagService::Mutation& mutation);

  Store* const store_;
  FlagService* const flags_;
  TelemetryService* const telemetry_;
  const absl::Duration tick_;

  absl::Mutex judge_mu_;  // one judgement at a time
  internal::Mutex mu_;
  internal::CondVar wake_;  // signalled on a trip and on Stop()
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<GuardTrip> trips_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_GUARD_CONTROLLER_H_
