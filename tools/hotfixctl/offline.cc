// tools/hotfixctl/offline.cc

#include "offline.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/context_json.h"
#include "common/files.h"
#include "common/json_util.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/snapshot.h"
#include "output.h"

namespace hotfix {
namespace hotfixctl {
namespace {

constexpr std::size_t kMaxFileBytes = std::size_t{64} << 20;
// `validate` lists at most this many errors unless --max-errors says.
constexpr std::size_t kDefaultMaxErrors = 20;

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  return tools::ReadFile(path, kMaxFileBytes);
}

// The value as JSON text, or "(caller's default)" when there is none.
std::string FormatValue(const Value& v) {
  if (v.type == ValueType::kNone) return "(caller's default)";
  return tools::ValueJson(v);
}

absl::StatusOr<absl::Time> ParseNow(const std::string& text) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err))
    return t;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    return absl::FromUnixMicros(static_cast<std::int64_t>(seconds * 1e6));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--now: expected RFC 3339 (2026-01-02T15:04:05Z), YYYY-MM-DD or Unix "
      "seconds, got \"",
      text, "\""));
}

absl::StatusOr<CompileOptions> ParseFormat(const Args& args) {
  CompileOptions options;
  const std::string format = args.Get("format", "auto");
  if (format == "auto") {
    options.format = DocumentFormat::kAuto;
  } else if (format == "native") {
    options.format = DocumentFormat::kNative;
  } else if (format == "flagd") {
    options.format = DocumentFormat::kFlagd;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--format: expected auto, native or flagd, got \"", format, "\""));
  }
  return options;
}

}  // namespace

int Validate(const Args& args) {
  if (args.positional.size() != 2) {
    std::fprintf(stderr, "usage: hotfixctl validate FILE\n");
    return kExitUsage;
  }
  const std::string& path = args.positional[1];
  auto text = ReadInput(path);
  if (!text.ok()) return ReportError(text.status());
  auto options = ParseFormat(args);
  if (!options.ok()) return ReportError(options.status());
  std::size_t max_errors = kDefaultMaxErrors;
  if (args.Has("max-errors") &&
      (!absl::SimpleAtoi(args.Get("max-errors"), &max_errors) ||
       max_errors == 0)) {
    return ReportError(absl::InvalidArgumentError(
        "--max-errors: expected a whole number of at least 1"));
  }
  auto snapshot = Compile(*text, *options);
  // Compile() stops at the first error; list every independent one.
  CompileErrors errors;
  if (!snapshot.ok()) {
    errors = ListCompileErrors(*text, *options, max_errors);
    if (errors.messages.empty()) {  // not a compile error (out of memory)
      errors.messages.emplace_back(snapshot.status().message());
      errors.total = 1;
    }
  }
  const std::size_t more = errors.total - errors.messages.size();
  if (args.json) {
    tools::JsonOut out;
    out.Begin().Str("file", path).Bool("valid", snapshot.ok());
    if (snapshot.ok()) {
      out.U64("version", (*snapshot)->version())
          .U64("flags", (*snapshot)->size());
    } else {
      // The first error, as Compile() reports it.
      out.Str("error", std::string(snapshot.status().message()))
          .Strings("errors", errors.messages)
          .U64("error_count", errors.total);
    }
    std::printf("%s\n", out.End().Take().c_str());
  } else if (snapshot.ok()) {
    std::printf("%s: ok (version %llu, %zu flags)\n", path.c_str(),
                static_cast<unsigned long long>((*snapshot)->version()),
                (*snapshot)->size());
    for (const std::string& warning : (*snapshot)->warnings()) {
      std::printf("%s: warning: %s\n", path.c_str(), warning.c_str());
    }
  } else {
    for (const std::string& m : errors.messages) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), m.c_str());
    }
    if (more > 0) {
      std::fprintf(stderr, "%s: and %zu more error%s (--max-errors %zu)\n",
                   path.c_str(), more, more == 1 ? "" : "s",
                   errors.messages.size());
    }
  }
  return snapshot.ok() ? kExitOk : kExitFailed;
}

namespace {

// Writes one evaluation as a JSON object's members.
void WriteDetail(tools::JsonOut& out, const std::string& flag,
                 const EvaluationDetail& d) {
  out.Str("flag", flag);
  if (d.value.type == ValueType::kNone) {
    out.Null("value");
  } else {
    out.Raw("value", FormatValue(d.value));
  }
  out.Str("type", ValueTypeName(d.value.type))
      .Str("variant", d.variant)
      .Str("reason", ReasonName(d.reason))
      .Str("error", ErrorKindName(d.error))
      .I64("rule_index", d.rule_index)
      .U64("version", d.snapshot_version);
}

// "missing attribute" -> "missing_attribute": the --json spelling.
std::string Identifier(std::string_view text) {
  std::string id(text);
  std::replace(id.begin(), id.end(), ' ', '_');
  return id;
}

// The rule's split, for a person: " (its split by key)".
std::string SplitNote(bool split, const std::string& bucket_by) {
  if (!split) return "";
  return absl::StrCat(" (its split by ", bucket_by.empty() ? "key" : bucket_by,
                      ")");
}

// What decided the evaluation, in words.
std::string DecidedBy(const Explanation& e) {
  const EvaluationDetail& d = e.detail;
  const std::string variant(d.variant);
  switch (d.reason) {
    case Reason::kStatic:
      return absl::StrCat("static: the flag serves \"", variant,
                          "\" to every context");
    case Reason::kKilled:
      return variant.empty()
                 ? "killed: no off variant, the caller's default"
                 : absl::StrCat("killed: the off variant \"", variant, "\"");
    case Reason::kPrerequisiteFailed:
      for (const PrerequisiteExplanation& p : e.prerequisites) {
        if (p.passed) continue;
        return absl::StrCat("prerequisite \"", p.flag, "\" served ",
                            p.served_variant.empty()
                                ? "no variant"
                                : absl::StrCat("\"", p.served_variant, "\""),
                            ", not \"", p.required_variant, "\"");
      }
      return "a prerequisite failed";
    case Reason::kTargetMatch:
      return "a target lists the context key";
    case Reason::kRuleMatch: {
      std::string out = absl::StrCat("rule ", d.rule_index);
      if (d.rule_index >= 0 &&
          static_cast<std::size_t>(d.rule_index) < e.rules.size()) {
        const RuleExplanation& r = e.rules[d.rule_index];
        out += SplitNote(r.split, r.bucket_by);
      }
      return out;
    }
    case Reason::kRollout:
      return absl::StrCat(
          "no rule matched: the default split by ",
          e.fallthrough_bucket_by.empty() ? "key" : e.fallthrough_bucket_by);
    case Reason::kDefault:
      return absl::StrCat("no rule matched: the default variant \"", variant,
                          "\"");
    case Reason::kError:
      if (d.error == ErrorKind::kMissingBucketKey) {
        return absl::StrCat(
            "no rule matched, and the context has no string attribute \"",
            e.fallthrough_bucket_by.empty() ? "key" : e.fallthrough_bucket_by,
            "\" for the default split: the caller's default");
      }
      return absl::StrCat("error ", std::string(ErrorKindName(d.error)),
                          ": the caller's default");
    case Reason::kGuardTripped:  // only in a process whose guard tripped
      return "the process's local guard tripped: the off variant";
  }
  return "";
}

// One clause for a person: `region in: skipped: wrong type (expected
// string, got bool)`.
std::string DescribeClause(const ClauseExplanation& c) {
  std::string out = c.attribute.empty() ? "" : absl::StrCat(c.attribute, " ");
  absl::StrAppend(&out, c.negate ? "not " : "", c.op, ": ");
  switch (c.outcome) {
    case ClauseOutcome::kMatched:
    case ClauseOutcome::kNotMatched:
      absl::StrAppend(&out, std::string(ClauseOutcomeName(c.outcome)));
      break;
    case ClauseOutcome::kMissingAttribute:
      absl::StrAppend(&out, "skipped: attribute missing");
      break;
    case ClauseOutcome::kWrongType:
    case ClauseOutcome::kInvalidValue:
      absl::StrAppend(
          &out, "skipped: ", std::string(ClauseOutcomeName(c.outcome)),
          " (expected ", c.expected_type, ", got ", c.actual_type, ")");
      break;
    case ClauseOutcome::kNotEvaluated:
      absl::StrAppend(&out, "not evaluated (an earlier clause failed)");
      break;
  }
  return out;
}

void PrintExplanation(const Explanation& e) {
  for (const PrerequisiteExplanation& p : e.prerequisites) {
    std::printf("  prerequisite %s: needs \"%s\", served %s: %s\n",
                p.flag.c_str(), p.required_variant.c_str(),
                p.served_variant.empty()
                    ? "no variant"
                    : absl::StrCat("\"", p.served_variant, "\"").c_str(),
                p.passed ? "passed" : "failed");
  }
  for (std::size_t i = 0; i < e.rules.size(); ++i) {
    const RuleExplanation& r = e.rules[i];
    std::string state = r.matched ? "matched" : "not matched";
    if (r.missing_bucket_key) {
      absl::StrAppend(&state, ", but its split found no string attribute \"",
                      r.bucket_by.empty() ? "key" : r.bucket_by,
                      "\": passed over");
    }
    std::printf("  rule %zu: %s\n", i, state.c_str());
    for (std::size_t j = 0; j < r.clauses.size(); ++j) {
      std::printf("    if[%zu] %s\n", j, DescribeClause(r.clauses[j]).c_str());
    }
  }
  std::printf("  decided  %s\n", DecidedBy(e).c_str());
}

// The explanation as a JSON object member "explain".
void WriteExplanation(tools::JsonOut& out, const Explanation& e) {
  out.Begin("explain").BeginArray("prerequisites");
  for (const PrerequisiteExplanation& p : e.prerequisites) {
    out.Begin()
        .Str("flag", p.flag)
        .Str("required_variant", p.required_variant)
        .Str("served_variant", p.served_variant)
        .Bool("passed", p.passed)
        .End();
  }
  out.EndArray().BeginArray("rules");
  for (std::size_t i = 0; i < e.rules.size(); ++i) {
    const RuleExplanation& r = e.rules[i];
    out.Begin().U64("index", i).Bool("matched", r.matched);
    if (r.split) {
      out.Str("bucket_by", r.bucket_by.empty() ? "key" : r.bucket_by)
          .Bool("missing_bucket_key", r.missing_bucket_key);
    }
    out.BeginArray("clauses");
    for (const ClauseExplanation& c : r.clauses) {
      out.Begin();
      if (c.attribute.empty()) {
        out.Null("attribute");
      } else {
        out.Str("attribute", c.attribute);
      }
      out.Str("op", c.op)
          .Bool("negate", c.negate)
          .Str("outcome", Identifier(ClauseOutcomeName(c.outcome)));
      if (c.outcome == ClauseOutcome::kWrongType ||
          c.outcome == ClauseOutcome::kInvalidValue) {
        out.Str("expected_type", c.expected_type)
            .Str("actual_type", c.actual_type);
      }
      out.End();
    }
    out.EndArray().End();
  }
  out.EndArray().Str("decided_by", DecidedBy(e)).End();
}

// Builds a context from a JSON object: "key" is the context key; strings,
// numbers and booleans are attributes. Strings live in `storage`.
absl::Status ContextFromJson(const rapidjson::Value& object,
                             std::deque<std::string>& storage, Context* ctx) {
  if (!object.IsObject()) {
    return absl::InvalidArgumentError("a context must be a JSON object");
  }
  for (const auto& m : object.GetObject()) {
    const std::string& name =
        storage.emplace_back(m.name.GetString(), m.name.GetStringLength());
    const rapidjson::Value& v = m.value;
    if (name == "key") {
      if (!v.IsString()) {
        return absl::InvalidArgumentError("key: must be a string");
      }
      ctx->set_key(storage.emplace_back(v.GetString(), v.GetStringLength()));
    } else if (v.IsString()) {
      ctx->Set(std::string_view(name),
               std::string_view(
                   storage.emplace_back(v.GetString(), v.GetStringLength())));
    } else if (v.IsNumber()) {
      ctx->SetNumber(name, v.GetDouble());
    } else if (v.IsBool()) {
      ctx->Set(std::string_view(name), v.GetBool());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": attributes are strings, numbers or booleans"));
    }
  }
  return absl::OkStatus();
}

// eval FILE FLAG --contexts FILE: one JSON line out per context line in.
int EvalMany(const Snapshot& snapshot, const std::string& flag,
             const std::string& contexts_path, absl::Time now, bool explain) {
  auto text = tools::ReadFile(contexts_path, kMaxFileBytes);
  if (!text.ok()) return ReportError(text.status());
  int failed = 0;
  int line_number = 0;
  std::size_t start = 0;
  while (start < text->size()) {
    std::size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    const std::string line = text->substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    tools::JsonOut out;
    out.Begin().I64("line", line_number);
    std::deque<std::string> storage;
    Context ctx;
    rapidjson::Document doc;
    absl::Status st = tools::ParseJson(
        line, absl::StrCat(contexts_path, ":", line_number), &doc);
    if (st.ok()) st = ContextFromJson(doc, storage, &ctx);
    if (!st.ok()) {
      ++failed;
      out.Str("error", std::string(st.message()));
    } else {
      if (ctx.has_key()) out.Str("key", ctx.key());
      if (explain) {
        const Explanation e =
            snapshot.Explain(flag, ctx, ValueType::kNone, now);
        WriteDetail(out, flag, e.detail);
        WriteExplanation(out, e);
      } else {
        WriteDetail(out, flag,
                    snapshot.Evaluate(flag, ctx, ValueType::kNone, now));
      }
    }
    std::printf("%s\n", out.End().Take().c_str());
  }
  if (failed > 0) {
    std::fprintf(stderr, "hotfixctl: %d context line(s) could not be read\n",
                 failed);
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

int Eval(const Args& args) {
  if (args.positional.size() != 3) {
    std::fprintf(stderr,
                 "usage: hotfixctl eval FILE FLAG [--ctx K=V]... "
                 "[--context JSON] [--type T] [--contexts FILE] "
                 "[--now TIME] [--explain]\n");
    return kExitUsage;
  }
  const std::string& path = args.positional[1];
  const std::string& flag = args.positional[2];
  auto text = ReadInput(path);
  if (!text.ok()) return ReportError(text.status());
  auto options = ParseFormat(args);
  if (!options.ok()) return ReportError(options.status());
  auto snapshot = Compile(*text, *options);
  if (!snapshot.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(),
                 std::string(snapshot.status().message()).c_str());
    return kExitFailed;
  }
  absl::Time now = absl::Now();
  if (args.Has("now")) {
    auto parsed = ParseNow(args.Get("now"));
    if (!parsed.ok()) return ReportError(parsed.status());
    now = *parsed;
  }
  if (args.Has("contexts")) {
    if (args.Has("ctx")) {
      std::fprintf(stderr, "hotfixctl: give --ctx or --contexts, not both\n");
      return kExitUsage;
    }
    return EvalMany(**snapshot, flag, args.Get("contexts"), now,
                    args.Flag("explain"));
  }

  // The context holds views: keep every string alive here.
  std::deque<std::string> storage;
  Context ctx;
  auto it = args.options.find("ctx");
  if (it != args.options.end()) {
    for (const std::string& item : it->second) {
      const size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr,
                     "hotfixctl: --ctx %s: expected NAME=VALUE or "
                     "NAME:=JSON\n",
                     item.c_str());
        return kExitUsage;
      }
      const bool typed = item[eq - 1] == ':';
      const std::string& name =
          storage.emplace_back(item.substr(0, typed ? eq - 1 : eq));
      const std::string& raw = storage.emplace_back(item.substr(eq + 1));
      if (name == "key") {
        ctx.set_key(raw);
        continue;
      }
      if (!typed) {
        ctx.Set(std::string_view(name), std::string_view(raw));
        continue;
      }
      rapidjson::Document v;
      if (!tools::ParseJson(raw, "--ctx", &v).ok() ||
          !(v.IsNumber() || v.IsBool() || v.IsString())) {
        std::fprintf(stderr,
                     "hotfixctl: --ctx %s: after := give a JSON "
                     "number, true/false or a \"string\"\n",
                     item.c_str());
        return kExitUsage;
      }
      if (v.IsNumber()) {
        ctx.SetNumber(name, v.GetDouble());
      } else if (v.IsBool()) {
        ctx.Set(std::string_view(name), v.GetBool());
      } else {
        const std::string& s =
            storage.emplace_back(v.GetString(), v.GetStringLength());
        ctx.Set(std::string_view(name), std::string_view(s));
      }
    }
  }
  // --context: an OpenFeature evaluation context, read like hotfixd's OFREP
  // endpoints read it.
  rapidjson::Document context_json;
  if (args.Has("context")) {
    absl::Status st =
        tools::ParseJson(args.Get("context"), "--context", &context_json);
    if (st.ok()) st = tools::ContextFromJson(context_json, &storage, &ctx);
    if (!st.ok()) return ReportError(st);
  }
  ValueType expected = ValueType::kNone;
  if (args.Has("type")) {
    const std::string type = args.Get("type");
    if (type == "bool") {
      expected = ValueType::kBool;
    } else if (type == "string") {
      expected = ValueType::kString;
    } else if (type == "number") {
      expected = ValueType::kNumber;
    } else if (type == "json") {
      expected = ValueType::kJson;
    } else {
      return ReportError(absl::InvalidArgumentError(
          "--type: expected bool, string, number or json"));
    }
  }
  const bool explain = args.Flag("explain");
  // Explain() runs the same evaluation, recording each step.
  const Explanation e =
      explain ? (*snapshot)->Explain(flag, ctx, expected, now) : Explanation{};
  const EvaluationDetail d =
      explain ? e.detail : (*snapshot)->Evaluate(flag, ctx, expected, now);
  const std::string value = FormatValue(d.value);
  if (args.json) {
    tools::JsonOut out;
    out.Begin();
    WriteDetail(out, flag, d);
    if (explain) WriteExplanation(out, e);
    std::printf("%s\n", out.End().Take().c_str());
  } else {
    std::printf("%s: %s\n", flag.c_str(), value.c_str());
    std::printf("  variant  %s\n",
                d.variant.empty() ? "-" : std::string(d.variant).c_str());
    std::string reason(ReasonName(d.reason));
    if (d.reason == Reason::kRuleMatch) {
      reason += absl::StrCat(" (rule ", d.rule_index, ")");
    } else if (d.reason == Reason::kError) {
      reason += absl::StrCat(" (", std::string(ErrorKindName(d.error)), ")");
    }
    std::printf("  reason   %s\n", reason.c_str());
    std::printf("  version  %llu\n",
                static_cast<unsigned long long>(d.snapshot_version));
    if (explain) PrintExplanation(e);
  }
  if (d.reason == Reason::kError && d.error == ErrorKind::kFlagNotFound) {
    return kExitNotFound;
  }
  return kExitOk;
}

}  // namespace hotfixctl
}  // namespace hotfix
