// tools/hotfixd/api/guard_api.cc
//
// Guarded rollouts (docs/guarded-rollouts.md): SDK telemetry in
// (POST /v1/telemetry), per-flag statistics out, and staged rollouts with a
// guard (start, look, cancel). The judging itself is core/guard_controller.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/handlers.h"
#include "api/write.h"
#include "common/json_util.h"
#include "common/text.h"
#include "core/documents.h"
#include "core/guard_controller.h"
#include "core/gzip.h"
#include "core/telemetry.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

using Value = rapidjson::Value;

// A telemetry body, decompressed, is at most this large; it lists at most
// this many counts and trips.
constexpr std::size_t kMaxTelemetryBytes = std::size_t{1} << 20;
constexpr rapidjson::SizeType kMaxCounts = 10000;
constexpr rapidjson::SizeType kMaxTrips = 100;

absl::StatusOr<std::uint64_t> Count(const Value& item, const char* field,
                                    const std::string& path) {
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::uint64_t> v,
                          tools::GetOptionalUint(item, field, path));
  return v.value_or(0);
}

absl::StatusOr<std::string> Text(const Value& item, const char* field,
                                 const std::string& path) {
  HOTFIX_ASSIGN_OR_RETURN(std::string v,
                          tools::GetRequiredString(item, field, path));
  if (v.empty() || v.size() > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".", field, ": 1-256 bytes"));
  }
  return v;
}

// Calls read(item, path) for each element of the array `field` of `body`
// (none when it is absent), `path` naming it ("body.counts[3]");
// InvalidArgument unless it is an array of at most `max` elements.
template <typename Read>
absl::Status ForEachItem(const Value& body, const char* field,
                         rapidjson::SizeType max, Read read) {
  const Value* items = tools::FindMember(body, field);
  if (items == nullptr) return absl::OkStatus();
  if (!items->IsArray() || items->Size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "body.", field, ": an array of at most ", max, " entries"));
  }
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    HOTFIX_RETURN_IF_ERROR(
        read((*items)[i], absl::StrCat("body.", field, "[", i, "]")));
  }
  return absl::OkStatus();
}

// The environment telemetry is for: the SDK key's own.
absl::StatusOr<std::shared_ptr<const EnvironmentState>> TelemetryEnvironment(
    const Call& call) {
  const Principal& who = call.principal();
  if (who.env.empty()) {
    const std::string* env = call.request.FindQuery("env");
    return Environment(call,
                       env != nullptr ? *env : call.api.config->default_env);
  }
  return Environment(call, who.env);
}

void WritePlan(tools::JsonOut& out, const RolloutPlanRow& plan) {
  out.Str("env", plan.env)
      .Str("flag", plan.flag)
      .Str("state", plan.state)
      .I64("stage", plan.stage)
      .Raw("spec", plan.spec)
      .Str("started_at", tools::FormatTime(plan.started_at))
      .Str("stage_started_at", tools::FormatTime(plan.stage_started_at))
      .Str("updated_at", tools::FormatTime(plan.updated_at))
      .Str("created_by", plan.created_by)
      .Str("judgement", plan.judgement);
}

Reply PlanReply(const RolloutPlanRow& plan, int status) {
  tools::JsonOut out;
  out.Begin();
  WritePlan(out, plan);
  out.End();
  return Reply::Json(out.Take(), status);
}

}  // namespace

absl::StatusOr<Reply> PostTelemetry(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto env, TelemetryEnvironment(call));
  std::string text = call.request.body;
  if (const std::string* encoding = call.request.FindHeader("content-encoding");
      encoding != nullptr && absl::EqualsIgnoreCase(*encoding, "gzip")) {
    HOTFIX_ASSIGN_OR_RETURN(text, Gunzip(text, kMaxTelemetryBytes));
  } else if (text.size() > kMaxTelemetryBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "body: telemetry is at most ", kMaxTelemetryBytes, " bytes"));
  }
  rapidjson::Document doc;
  HOTFIX_RETURN_IF_ERROR(tools::ParseJson(text, "body", &doc));
  if (!doc.IsObject()) {
    return absl::InvalidArgumentError("body: must be a JSON object");
  }
  static const char* const kFields[] = {"instance", "sdk",     "counts",
                                        "trips",    "dropped", nullptr};
  HOTFIX_RETURN_IF_ERROR(tools::CheckKnownFields(doc, "body", kFields));
  TelemetryBatch batch;
  batch.env = env->name;
  batch.time = NowMicros();
  HOTFIX_ASSIGN_OR_RETURN(batch.instance, Text(doc, "instance", "body"));
  HOTFIX_ASSIGN_OR_RETURN(batch.dropped, Count(doc, "dropped", "body"));
  std::uint64_t ignored = 0;
  HOTFIX_RETURN_IF_ERROR(ForEachItem(
      doc, "counts", kMaxCounts,
      [&](const Value& item, const std::string& path) -> absl::Status {
        VariantCounts c;
        HOTFIX_ASSIGN_OR_RETURN(c.flag, Text(item, "flag", path));
        HOTFIX_ASSIGN_OR_RETURN(c.variant, Text(item, "variant", path));
        HOTFIX_ASSIGN_OR_RETURN(c.exposures, Count(item, "exposures", path));
        HOTFIX_ASSIGN_OR_RETURN(c.successes, Count(item, "successes", path));
        HOTFIX_ASSIGN_OR_RETURN(c.failures, Count(item, "failures", path));
        // Only what the current set has: reports on anything else (an older
        // set, a typo, a hostile client) would grow memory without bound.
        if (!env->HasVariant(c.flag, c.variant)) {
          ++ignored;
        } else {
          batch.counts.push_back(std::move(c));
        }
        return absl::OkStatus();
      }));
  HOTFIX_RETURN_IF_ERROR(ForEachItem(
      doc, "trips", kMaxTrips,
      [&](const Value& item, const std::string& path) -> absl::Status {
        GuardTrip trip;
        trip.env = env->name;
        trip.instance = batch.instance;
        trip.time = batch.time;
        HOTFIX_ASSIGN_OR_RETURN(trip.flag, Text(item, "flag", path));
        HOTFIX_ASSIGN_OR_RETURN(trip.variant, Text(item, "variant", path));
        HOTFIX_ASSIGN_OR_RETURN(trip.version, Count(item, "version", path));
        HOTFIX_ASSIGN_OR_RETURN(trip.failures, Count(item, "failures", path));
        HOTFIX_ASSIGN_OR_RETURN(trip.outcomes, Count(item, "outcomes", path));
        HOTFIX_ASSIGN_OR_RETURN(std::optional<std::string> detail,
                                tools::GetOptionalString(item, "detail", path));
        trip.detail = detail.value_or("").substr(0, 512);
        if (!env->HasVariant(trip.flag, trip.variant)) {
          ++ignored;
        } else {
          batch.trips.push_back(std::move(trip));
        }
        return absl::OkStatus();
      }));
  const std::size_t accepted = batch.counts.size() + batch.trips.size();
  call.api.telemetry->Ingest(batch);
  tools::JsonOut out;
  out.Begin().U64("accepted", accepted).U64("ignored", ignored).End();
  return Reply::Json(out.Take(), 202);
}

absl::StatusOr<Reply> GetFlagStats(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(std::string key, KeyParam(call, "key"));
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  HOTFIX_ASSIGN_OR_RETURN(int minutes,
                          QueryInt(call, "minutes", 60, 1, 60 * 24 * 90));
  const absl::Time since = absl::Now() - absl::Minutes(minutes - 1);
  HOTFIX_ASSIGN_OR_RETURN(std::vector<TelemetryRow> series,
                          call.api.telemetry->Series(env->name, key, since));
  const std::map<std::string, VariantTotals> totals = TotalsOf(series);
  HOTFIX_ASSIGN_OR_RETURN(auto usage,
                          call.api.telemetry->LastEvaluated(env->name));
  const std::int64_t last_evaluated = usage.count(key) ? usage[key] : 0;
  tools::JsonOut out;
  out.Begin()
      .Str("env", env->name)
      .Str("flag", key)
      .I64("minutes", minutes)
      .Raw("last_evaluated",
           last_evaluated == 0
               ? "null"
               : tools::JsonQuote(tools::FormatTime(last_evaluated)))
      .BeginArray("variants");
  for (const auto& [variant, t] : totals) {
    out.Begin()
        .Str("variant", variant)
        .U64("exposures", t.exposures)
        .U64("successes", t.outcomes.successes)
        .U64("failures", t.outcomes.failures)
        .Num("failure_rate", t.outcomes.rate())
        .End();
  }
  out.EndArray().BeginArray("series");
  for (const TelemetryRow& row : series) {
    out.Begin()
        .Str("minute", tools::FormatTime(row.minute * 60 * 1000000))
        .Str("variant", row.variant)
        .U64("exposures", row.exposures)
        .U64("successes", row.successes)
        .U64("failures", row.failures)
        .End();
  }
  out.EndArray().BeginArray("trips");
  for (const GuardTrip& trip :
       call.api.telemetry->RecentTrips(env->name, key)) {
    out.Begin()
        .Str("time", tools::FormatTime(trip.time))
        .Str("instance", trip.instance)
        .Str("variant", trip.variant)
        .U64("version", trip.version)
        .U64("failures", trip.failures)
        .U64("outcomes", trip.outcomes)
        .Str("detail", trip.detail)
        .End();
  }
  out.EndArray();
  absl::StatusOr<RolloutPlanRow> plan =
      call.api.store->GetRolloutPlan(env->name, key);
  if (plan.ok()) {
    out.Begin("plan");
    WritePlan(out, *plan);
    out.End();
  } else {
    out.Null("plan");
  }
  out.End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> StartRolloutPlan(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(std::string key, KeyParam(call, "key"));
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  absl::StatusOr<RolloutPlanRow> running =
      call.api.store->GetRolloutPlan(env->name, key);
  if (running.ok() && running->state == "active") {
    return absl::AlreadyExistsError(absl::StrCat(
        "flags.", key, ": a staged rollout is already running (stage ",
        running->stage + 1, "); cancel it first"));
  }
  RolloutSpec spec;
  HOTFIX_ASSIGN_OR_RETURN(
      Reply written,
      DoWrite(call, env->name, "rollout.start",
              {"stages", "every_seconds", "max_failure_rate", "tolerance",
               "min_samples", "alpha", "compare_to_control", "on_regression"},
              [&spec, key](const rapidjson::Document& body, WriteRequest* w)
                  -> absl::StatusOr<FlagService::Mutation> {
                HOTFIX_ASSIGN_OR_RETURN(spec,
                                        ParseRolloutSpec(tools::ToJson(body)));
                const double first = spec.stages[0];
                w->audit_extra =
                    absl::StrCat("\"plan\":", RolloutSpecJson(spec));
                return FlagService::Mutation(
                    [key, first](rapidjson::Document& doc) {
                      return SetRollout(doc, key, first);
                    });
              }));
  // A dry run, a change request (202) or a failure: nothing to start yet.
  if (written.status >= 300 || written.status == 202 ||
      QueryFlag(call, "dry_run")) {
    return written;
  }
  // The split's two variants, as the first stage left them.
  auto state = call.api.flags->Get(env->name);
  rapidjson::Document doc;
  HOTFIX_RETURN_IF_ERROR(tools::ParseJson(*state->document, "document", &doc));
  const Value& split = doc["flags"][key.c_str()]["default"]["rollout"]["split"];
  spec.treatment = split[0]["variant"].GetString();
  spec.control = split[1]["variant"].GetString();
  HOTFIX_ASSIGN_OR_RETURN(
      RolloutPlanRow plan,
      call.api.guard->Begin(env->name, key, spec, call.principal().name));
  return PlanReply(plan, 201);
}

absl::StatusOr<Reply> GetRolloutPlan(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(std::string key, KeyParam(call, "key"));
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  HOTFIX_ASSIGN_OR_RETURN(RolloutPlanRow plan,
                          call.api.store->GetRolloutPlan(env->name, key));
  return PlanReply(plan, 200);
}

absl::StatusOr<Reply> CancelRolloutPlan(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(std::string key, KeyParam(call, "key"));
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  HOTFIX_ASSIGN_OR_RETURN(WriteBody body, ParseWriteBody(call.request, {}));
  HOTFIX_RETURN_IF_ERROR(call.api.guard->Cancel(
      env->name, key, call.principal().name, body.reason));
  HOTFIX_ASSIGN_OR_RETURN(RolloutPlanRow plan,
                          call.api.store->GetRolloutPlan(env->name, key));
  return PlanReply(plan, 200);
}

}  // namespace hotfixd
}  // namespace hotfix
