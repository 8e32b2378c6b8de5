// tools/hotfixd/core/guard_controller.cc

#include "core/guard_controller.h"

#include <cmath>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/json_util.h"
#include "common/server_log.h"
#include "common/text.h"
#include "core/documents.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

using Value = rapidjson::Value;

// The actor of every automatic change.
const Principal& GuardActor() {
  static const Principal* const guard = [] {
    auto* p = new Principal;
    p->name = "guard";
    p->scopes = kAdminScopes;
    return p;
  }();
  return *guard;
}

std::string Pct(double percent) {
  return absl::StrCat(tools::FormatNumber(percent), "%");
}

// Where the flag stands in `state`: killed, its split's first variant and
// that variant's percentage. Unavailable when the flag is gone or has no
// two-way split.
struct FlagPosition {
  bool exists = false;
  bool killed = false;
  bool split = false;
  std::string first_variant;
  double percent = 0;
};

FlagPosition PositionOf(const EnvironmentState& state, const std::string& key) {
  FlagPosition p;
  rapidjson::Document doc;
  if (!tools::ParseJson(*state.document, "document", &doc).ok()) return p;
  const Value* flags = tools::FindMember(doc, "flags");
  const Value* flag =
      flags != nullptr ? tools::FindMember(*flags, key) : nullptr;
  if (flag == nullptr) return p;
  p.exists = true;
  const Value* killed = tools::FindMember(*flag, "killed");
  const Value* enabled = tools::FindMember(*flag, "enabled");
  p.killed = (killed != nullptr && killed->IsTrue()) ||
             (enabled != nullptr && enabled->IsFalse());
  const Value* def = tools::FindMember(*flag, "default");
  const Value* rollout =
      def != nullptr ? tools::FindMember(*def, "rollout") : nullptr;
  const Value* split =
      rollout != nullptr ? tools::FindMember(*rollout, "split") : nullptr;
  if (split != nullptr && split->IsArray() && split->Size() == 2) {
    const Value* variant = tools::FindMember((*split)[0], "variant");
    const Value* weight = tools::FindMember((*split)[0], "weight");
    if (variant != nullptr && variant->IsString() && weight != nullptr &&
        weight->IsNumber()) {
      p.split = true;
      p.first_variant = variant->GetString();
      p.percent = weight->GetDouble();
    }
  }
  return p;
}

// Sets *out to the spec's number `field` when it has one; InvalidArgument
// "<field>: <range>" unless in_range(value).
template <typename InRange>
absl::Status OptionalNumberIn(const Value& spec, const char* field,
                              InRange in_range, absl::string_view range,
                              double* out) {
  HOTFIX_ASSIGN_OR_RETURN(std::optional<double> v,
                          tools::GetOptionalNumber(spec, field, "spec"));
  if (!v.has_value()) return absl::OkStatus();
  if (!in_range(*v)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", range));
  }
  *out = *v;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RolloutSpec> ParseRolloutSpec(const std::string& json) {
  rapidjson::Document doc;
  HOTFIX_RETURN_IF_ERROR(tools::ParseJson(json, "spec", &doc));
  RolloutSpec spec;
  const Value* stages = tools::FindMember(doc, "stages");
  if (stages == nullptr || !stages->IsArray() || stages->Empty()) {
    return absl::InvalidArgumentError(
        "stages: required, percentages such as [1, 5, 25, 50, 100]");
  }
  double last = 0;
  for (rapidjson::SizeType i = 0; i < stages->Size(); ++i) {
    const Value& s = (*stages)[i];
    if (!s.IsNumber() || !(s.GetDouble() > last) || s.GetDouble() > 100) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stages[", i, "]: percentages must increase, each in (0, 100]"));
    }
    last = s.GetDouble();
    spec.stages.push_back(last);
  }
  if (last != 100) {
    return absl::InvalidArgumentError("stages: the last stage must be 100");
  }
  HOTFIX_ASSIGN_OR_RETURN(
      std::optional<double> every,
      tools::GetOptionalNumber(doc, "every_seconds", "spec"));
  if (every.has_value()) {
    if (!(*every >= 1 && *every <= 7 * 24 * 3600)) {
      return absl::InvalidArgumentError(
          "every_seconds: between 1 second and 7 days");
    }
    spec.every = absl::Seconds(*every);
  }
  const auto fraction = [](double v) { return v >= 0 && v < 1; };
  HOTFIX_RETURN_IF_ERROR(OptionalNumberIn(doc, "max_failure_rate", fraction,
                                          "a fraction in [0, 1) (0.02 is 2 %)",
                                          &spec.criteria.max_failure_rate));
  HOTFIX_RETURN_IF_ERROR(OptionalNumberIn(doc, "tolerance", fraction,
                                          "a fraction in [0, 1)",
                                          &spec.criteria.tolerance));
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::uint64_t> min_samples,
                          tools::GetOptionalUint(doc, "min_samples", "spec"));
  if (min_samples.has_value()) {
    if (*min_samples < 30 || *min_samples > 100000000) {
      return absl::InvalidArgumentError(
          "min_samples: at least 30 (the normal approximation needs some)");
    }
    spec.criteria.min_samples = *min_samples;
  }
  HOTFIX_RETURN_IF_ERROR(OptionalNumberIn(
      doc, "alpha", [](double v) { return v > 0 && v <= 0.2; }, "in (0, 0.2]",
      &spec.criteria.alpha));
  HOTFIX_ASSIGN_OR_RETURN(
      std::optional<bool> compare,
      tools::GetOptionalBool(doc, "compare_to_control", "spec"));
  spec.compare_to_control = compare.value_or(true);
  if (!spec.compare_to_control && spec.criteria.max_failure_rate < 0) {
    return absl::InvalidArgumentError(
        "max_failure_rate: required when not comparing to the control "
        "variant (the guard needs a criterion)");
  }
  HOTFIX_ASSIGN_OR_RETURN(
      std::optional<std::string> on,
      tools::GetOptionalString(doc, "on_regression", "spec"));
  spec.on_regression = on.value_or("kill");
  if (spec.on_regression != "kill" && spec.on_regression != "previous") {
    return absl::InvalidArgumentError(
        "on_regression: \"kill\" or \"previous\"");
  }
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::string> treatment,
                          tools::GetOptionalString(doc, "treatment", "spec"));
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::string> control,
                          tools::GetOptionalString(doc, "control", "spec"));
  spec.treatment = treatment.value_or("");
  spec.control = control.value_or("");
  return spec;
}

std::string RolloutSpecJson(const RolloutSpec& spec) {
  tools::JsonOut out;
  out.Begin().BeginArray("stages");
  for (double s : spec.stages) out.Raw(tools::FormatNumber(s));
  out.EndArray()
      .Num("every_seconds", absl::ToDoubleSeconds(spec.every))
      .Bool("compare_to_control", spec.compare_to_control);
  if (spec.criteria.max_failure_rate >= 0) {
    out.Num("max_failure_rate", spec.criteria.max_failure_rate);
  }
  out.Num("tolerance", spec.criteria.tolerance)
      .U64("min_samples", spec.criteria.min_samples)
      .Num("alpha", spec.criteria.alpha)
      .Str("on_regression", spec.on_regression)
      .Str("treatment", spec.treatment)
      .Str("control", spec.control)
      .End();
  return out.Take();
}

GuardController::GuardController(Store* store, FlagService* flags,
                                 TelemetryService* telemetry,
                                 absl::Duration tick)
    : store_(store), flags_(flags), telemetry_(telemetry), tick_(tick) {}

GuardController::~GuardController() { Stop(); }

void GuardController::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void GuardController::Stop() {
  {
    internal::MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void GuardController::OnTrip(const GuardTrip& trip) {
  {
    internal::MutexLock lock(&mu_);
    trips_.push_back(trip);
  }
  wake_.SignalAll();
}

void GuardController::Loop() {
  for (;;) {
    std::deque<GuardTrip> trips;
    {
      // A steady-clock deadline: a step of the wall clock neither stalls
      // the judgements nor hurries them.
      const internal::SteadyTime next = internal::DeadlineAfter(tick_);
      internal::MutexLock lock(&mu_);
      while (!stopping_ && trips_.empty() && wake_.WaitUntil(&mu_, next)) {
      }
      if (stopping_) return;
      trips.swap(trips_);
    }
    for (const GuardTrip& trip : trips) {
      absl::StatusOr<RolloutPlanRow> plan =
          store_->GetRolloutPlan(trip.env, trip.flag);
      if (plan.ok() && plan->state == "active") JudgePlan(*plan, &trip);
    }
    JudgeAll();
  }
}

void GuardController::JudgeAll() {
  absl::StatusOr<std::vector<RolloutPlanRow>> plans =
      store_->ListRolloutPlans("active");
  if (!plans.ok()) {
    tools::LogError(
        absl::StrCat("guard: listing plans: ", plans.status().ToString()));
    return;
  }
  for (RolloutPlanRow& plan : *plans) JudgePlan(std::move(plan), nullptr);
}

absl::StatusOr<RolloutPlanRow> GuardController::Begin(
    const std::string& env, const std::string& flag, const RolloutSpec& spec,
    const std::string& actor) {
  absl::MutexLock judge(&judge_mu_);
  absl::StatusOr<RolloutPlanRow> existing = store_->GetRolloutPlan(env, flag);
  if (existing.ok() && existing->state == "active") {
    return absl::FailedPreconditionError(
        absl::StrCat("flags.", flag,
                     ": a staged rollout is already running (cancel it "
                     "first)"));
  }
  RolloutPlanRow plan;
  plan.env = env;
  plan.flag = flag;
  plan.spec = RolloutSpecJson(spec);
  plan.state = "active";
  plan.stage = 0;
  plan.started_at = NowMicros();
  plan.stage_started_at = plan.started_at;
  plan.updated_at = plan.started_at;
  plan.created_by = actor;
  plan.judgement = "started";
  HOTFIX_RETURN_IF_ERROR(store_->PutRolloutPlan(plan));
  tools::LogInfo(absl::StrCat(env, " ", flag, ": staged rollout started by ",
                              actor, " at ", Pct(spec.stages[0])));
  return plan;
}

absl::Status GuardController::Cancel(const std::string& env,
                                     const std::string& flag,
                                     const std::string& actor,
                                     const std::string& reason) {
  absl::MutexLock judge(&judge_mu_);
  HOTFIX_ASSIGN_OR_RETURN(RolloutPlanRow plan,
                          store_->GetRolloutPlan(env, flag));
  if (plan.state != "active") {
    return absl::FailedPreconditionError(
        absl::StrCat("flags.", flag, ": the staged rollout already ended (",
                     plan.state, ")"));
  }
  plan.state = "cancelled";
  plan.updated_at = NowMicros();
  plan.judgement = absl::StrCat("cancelled by ", actor, ": ", reason);
  return store_->PutRolloutPlan(plan);
}

absl::Status GuardController::Act(RolloutPlanRow& plan, const RolloutSpec& spec,
                                  const std::string& action,
                                  const std::string& reason,
                                  const FlagService::Mutation& mutation) {
  WriteRequest w;
  w.env = plan.env;
  w.actor = &GuardActor();
  w.reason = reason;
  w.action = action;
  w.audit_extra = absl::StrCat("\"plan_stage\":", plan.stage);
  absl::StatusOr<WriteResult> result = flags_->Write(w, mutation);
  if (!result.ok()) {
    tools::LogError(absl::StrCat(plan.env, " ", plan.flag, ": guard ", action,
                                 " failed: ", result.status().ToString()));
    return result.status();
  }
  return absl::OkStatus();
}

void GuardController::JudgePlan(RolloutPlanRow plan, const GuardTrip* trip) {
  absl::MutexLock judge(&judge_mu_);
  // Re-read under the lock: a Cancel or an earlier judgement may have ended
  // it.
  absl::StatusOr<RolloutPlanRow> fresh =
      store_->GetRolloutPlan(plan.env, plan.flag);
  if (!fresh.ok() || fresh->state != "active") return;
  plan = std::move(*fresh);
  absl::StatusOr<RolloutSpec> parsed = ParseRolloutSpec(plan.spec);
  if (!parsed.ok()) return;
  const RolloutSpec& spec = *parsed;
  const double stage_percent = spec.stages[plan.stage];
  auto end = [&](const std::string& state, const std::string& why) {
    plan.state = state;
    plan.updated_at = NowMicros();
    plan.judgement = why;
    store_->PutRolloutPlan(plan).IgnoreError();
    tools::LogInfo(absl::StrCat(plan.env, " ", plan.flag, ": staged rollout ",
                                state, ": ", why));
  };

  std::shared_ptr<const EnvironmentState> state = flags_->Get(plan.env);
  if (state == nullptr) return;
  const FlagPosition position = PositionOf(*state, plan.flag);
  if (!position.exists) return end("stopped", "the flag was deleted");
  if (position.killed) return end("stopped", "the flag was killed");
  if (!position.split || position.first_variant != spec.treatment ||
      std::fabs(position.percent - stage_percent) > 1e-9) {
    return end("stopped",
               absl::StrCat("someone else changed the flag's rollout (now ",
                            position.split ? Pct(position.percent) : "no split",
                            ", the plan was at ", Pct(stage_percent), ")"));
  }

  const auto rollback = [&](const std::string& why) {
    const bool kill = spec.on_regression == "kill";
    const double back = plan.stage > 0 ? spec.stages[plan.stage - 1] : 0;
    const std::string reason = absl::StrCat(
        "guard: ", kill ? "killed" : absl::StrCat("back to ", Pct(back)),
        " at stage ", plan.stage + 1, "/", spec.stages.size(), " (",
        Pct(stage_percent), "): ", why);
    const std::string key = plan.flag;
    absl::Status st = kill ? Act(plan, spec, "guard.kill", reason,
                                 [key](rapidjson::Document& doc) {
                                   return SetKilled(doc, key, true);
                                 })
                           : Act(plan, spec, "guard.rollback", reason,
                                 [key, back](rapidjson::Document& doc) {
                                   return SetRollout(doc, key, back);
                                 });
    if (st.ok()) end("rolled_back", reason);
  };

  absl::StatusOr<std::map<std::string, VariantTotals>> totals =
      telemetry_->Totals(plan.env, plan.flag,
                         absl::FromUnixMicros(plan.started_at));
  std::optional<GuardJudgement> judged;
  if (totals.ok()) {
    const ArmCounts treatment = (*totals)[spec.treatment].outcomes;
    const ArmCounts control = (*totals)[spec.control].outcomes;
    judged = Judge(treatment, spec.compare_to_control ? &control : nullptr,
                   spec.criteria);
    plan.judgement = judged->explanation;
    plan.updated_at = NowMicros();
  }
  // A process's own trip is strong evidence: act on it at once, and say
  // what the fleet's counts said at that moment (usually still too few
  // outcomes for the sequential test to decide).
  if (trip != nullptr && trip->variant == spec.treatment) {
    return rollback(absl::StrCat(
        "process ", trip->instance, " tripped its local guard (",
        trip->failures, "/", trip->outcomes, " failed: ", trip->detail, ")",
        judged.has_value() ? absl::StrCat("; the fleet since the plan began: ",
                                          judged->explanation)
                           : ""));
  }
  if (!judged.has_value()) return;
  const GuardJudgement& j = *judged;
  if (j.verdict == GuardVerdict::kRegressed) return rollback(j.explanation);
  const bool stage_done =
      absl::Now() - absl::FromUnixMicros(plan.stage_started_at) >= spec.every;
  if (j.verdict == GuardVerdict::kHealthy && stage_done) {
    if (plan.stage + 1 == static_cast<int>(spec.stages.size())) {
      return end("completed", absl::StrCat("healthy at 100%: ", j.explanation));
    }
    const double next = spec.stages[plan.stage + 1];
    const std::string key = plan.flag;
    const std::string reason = absl::StrCat(
        "guard: stage ", plan.stage + 2, "/", spec.stages.size(), ", ",
        Pct(stage_percent), " → ", Pct(next), ": ", j.explanation);
    if (Act(plan, spec, "guard.advance", reason,
            [key, next](rapidjson::Document& doc) {
              return SetRollout(doc, key, next);
            })
            .ok()) {
      plan.stage += 1;
      plan.stage_started_at = NowMicros();
    }
  }
  store_->PutRolloutPlan(plan).IgnoreError();
}

}  // namespace hotfixd
}  // namespace hotfix
