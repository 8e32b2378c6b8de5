// tools/hotfixctl/guard.cc

#include "guard.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/json_util.h"
#include "common/text.h"
#include "output.h"

namespace hotfix {
namespace hotfixctl {
namespace {

// "2%" is 0.02; a bare number is a fraction in [0, 1).
absl::StatusOr<double> Rate(const std::string& option, std::string text) {
  absl::string_view v = absl::StripAsciiWhitespace(text);
  const bool percent = absl::ConsumeSuffix(&v, "%");
  double x = 0;
  if (!absl::SimpleAtod(v, &x) || !(x >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", option, ": expected a rate such as 2% or 0.02"));
  }
  if (percent) x /= 100;
  if (x >= 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", option, ": ", text, " is not below 100% (write 2% or 0.02)"));
  }
  return x;
}

std::string Pct(double rate) { return absl::StrFormat("%.2f%%", rate * 100); }

std::string FlagPath(const Session& s) {
  return s.EnvPath() + "/flags/" + UrlEncode(s.args.positional[1]);
}

void PrintPlan(const rapidjson::Value& plan) {
  const rapidjson::Value* spec = tools::FindMember(plan, "spec");
  std::string stages;
  if (spec != nullptr) stages = Join(*spec, "stages", "%, ") + "%";
  std::printf("staged rollout of %s in %s: %s\n", Str(plan, "flag").c_str(),
              Str(plan, "env").c_str(), Str(plan, "state").c_str());
  std::printf("  stages     %s (now stage %llu)\n", stages.c_str(),
              static_cast<unsigned long long>(Uint(plan, "stage") + 1));
  std::printf("  started    %s by %s; this stage since %s\n",
              Str(plan, "started_at").c_str(), Str(plan, "created_by").c_str(),
              Str(plan, "stage_started_at").c_str());
  std::printf("  judgement  %s\n", Str(plan, "judgement").c_str());
}

}  // namespace

int Stats(Session& s) {
  if (s.args.positional.size() != 2) return Usage("stats FLAG [--minutes N]");
  bool printed = false;
  auto doc = GetJson(
      s,
      FlagPath(s) + "/stats?minutes=" + UrlEncode(s.args.Get("minutes", "60")),
      &printed);
  if (!doc.ok()) return ReportError(doc.status());
  if (printed) return kExitOk;
  std::fprintf(stderr, "# %s %s, last %s minutes; last evaluated %s\n",
               Str(*doc, "env").c_str(), Str(*doc, "flag").c_str(),
               Str(*doc, "minutes").c_str(),
               Str(*doc, "last_evaluated").empty()
                   ? "never (no telemetry)"
                   : Str(*doc, "last_evaluated").c_str());
  Table t({"VARIANT", "EXPOSURES", "OUTCOMES", "FAILURES", "FAILURE RATE"});
  for (const rapidjson::Value& v : Elements(*doc, "variants")) {
    const std::uint64_t outcomes = Uint(v, "successes") + Uint(v, "failures");
    const rapidjson::Value* rate = tools::FindMember(v, "failure_rate");
    t.Add({Str(v, "variant"), absl::StrCat(Uint(v, "exposures")),
           absl::StrCat(outcomes), absl::StrCat(Uint(v, "failures")),
           outcomes == 0 || rate == nullptr || !rate->IsNumber()
               ? "-"
               : Pct(rate->GetDouble())});
  }
  if (t.empty()) {
    std::printf("no telemetry for %s in this window\n",
                s.args.positional[1].c_str());
  } else {
    t.Print();
  }
  for (const rapidjson::Value& trip : Elements(*doc, "trips")) {
    std::printf("local guard tripped %s in process %s: %s\n",
                Str(trip, "time").c_str(), Str(trip, "instance").c_str(),
                Str(trip, "detail").c_str());
  }
  const rapidjson::Value* plan = tools::FindMember(*doc, "plan");
  if (plan != nullptr && plan->IsObject()) PrintPlan(*plan);
  return kExitOk;
}

bool IsStagedRollout(const Args& args) {
  return args.Has("stages") || args.Flag("status") || args.Flag("cancel");
}

int StagedRollout(Session& s) {
  const char* usage =
      "rollout FLAG --stages 1,5,25,50,100 [--every 10m] "
      "[--max-failure-rate 2%] [--compare-to control|none] "
      "[--tolerance 0.5%] [--min-samples N] [--on-regression kill|previous] "
      "--reason TEXT | rollout FLAG --status | rollout FLAG --cancel --reason "
      "TEXT";
  if (s.args.positional.size() != 2) return Usage(usage);
  const std::string path = FlagPath(s) + "/rollout-plan";
  if (s.args.Flag("status")) {
    bool printed = false;
    auto doc = GetJson(s, path, &printed);
    if (!doc.ok()) return ReportError(doc.status());
    if (!printed) PrintPlan(*doc);
    return kExitOk;
  }
  if (int rc = RequireReason(s); rc != kExitOk) return rc;
  if (s.args.Flag("cancel")) {
    auto doc = SendJson(s, "DELETE", path, WriteBody(s.args));
    if (!doc.ok()) return ReportError(doc.status());
    if (!s.args.json) PrintPlan(*doc);
    return kExitOk;
  }
  tools::JsonOut spec;
  spec.Begin().BeginArray("stages");
  for (absl::string_view part : absl::StrSplit(s.args.Get("stages"), ',')) {
    double percent = 0;
    absl::ConsumeSuffix(&part, "%");
    if (!absl::SimpleAtod(part, &percent)) {
      std::fprintf(stderr, "hotfixctl: --stages: \"%s\" is not a percentage\n",
                   std::string(part).c_str());
      return kExitUsage;
    }
    spec.Raw(tools::FormatNumber(percent));
  }
  spec.EndArray();
  absl::Duration every = absl::Minutes(10);
  if (s.args.Has("every") &&
      !absl::ParseDuration(s.args.Get("every"), &every)) {
    std::fprintf(stderr, "hotfixctl: --every: expected a duration (10m, 1h)\n");
    return kExitUsage;
  }
  spec.Num("every_seconds", absl::ToDoubleSeconds(every));
  for (const char* option : {"max-failure-rate", "tolerance"}) {
    if (!s.args.Has(option)) continue;
    auto rate = Rate(option, s.args.Get(option));
    if (!rate.ok()) return ReportError(rate.status());
    spec.Num(option[0] == 'm' ? "max_failure_rate" : "tolerance", *rate);
  }
  if (s.args.Has("min-samples")) {
    std::uint64_t n = 0;
    if (!absl::SimpleAtoi(s.args.Get("min-samples"), &n)) {
      std::fprintf(stderr, "hotfixctl: --min-samples: expected a number\n");
      return kExitUsage;
    }
    spec.U64("min_samples", n);
  }
  const std::string compare = s.args.Get("compare-to", "control");
  if (compare != "control" && compare != "none") {
    std::fprintf(stderr, "hotfixctl: --compare-to: control or none\n");
    return kExitUsage;
  }
  spec.Bool("compare_to_control", compare == "control");
  if (s.args.Has("on-regression")) {
    spec.Str("on_regression", s.args.Get("on-regression"));
  }
  spec.End();
  std::string members = spec.Take();
  members = members.substr(1, members.size() - 2);
  int status = 0;
  auto doc = SendJson(s, "POST", path, WriteBody(s.args, members), &status);
  if (!doc.ok()) return ReportError(doc.status());
  if (s.args.json) return kExitOk;
  if (PrintedProposal(s, status, *doc,
                      "starting the staged rollout needs approval by another "
                      "person")) {
    return kExitOk;
  }
  PrintPlan(*doc);
  std::printf(
      "  follow it: hotfixctl stats %s; stop it: hotfixctl rollout %s "
      "--cancel --reason TEXT\n",
      s.args.positional[1].c_str(), s.args.positional[1].c_str());
  return kExitOk;
}

}  // namespace hotfixctl
}  // namespace hotfix
