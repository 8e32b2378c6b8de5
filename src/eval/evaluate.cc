#include "eval/evaluate.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"
#include "eval/json_logic.h"
#include "hotfix/snapshot.h"
#include "util/bucket.h"
#include "util/js_number.h"
#include "util/murmur3.h"
#include "util/semver.h"
#include "util/strings.h"
#include "util/time_parse.h"

namespace hotfix {
namespace internal {
namespace {

using AttrType = AttributeValue::Type;

// Outcome of the core walk, before it is turned into an EvaluationDetail.
struct Outcome {
  std::int32_t variant = -1;  // -1: the caller's default
  Reason reason = Reason::kError;
  ErrorKind error = ErrorKind::kNone;
  int rule_index = -1;
};

// Always inlined: MatchClause, its one caller, is instantiated twice (see
// NoTrace below), and GCC stops inlining a function called from two places.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool StringIn(const Clause& clause,
                                                  std::string_view s) noexcept {
  if (!clause.string_set.empty()) return clause.string_set.contains(ToAbsl(s));
  for (const std::string& v : clause.strings) {
    if (v == s) return true;
  }
  return false;
}

// The walk below is written once, as templates over a trace sink, and
// instantiated twice: with NoTrace for EvaluateFlag (every call on it is empty
// and inlined away, so evaluation runs the same instructions it would without
// tracing) and with ExplainTrace for ExplainFlag. An explanation therefore
// comes from the very code that evaluates.

// The sink of EvaluateFlag. Empty: passed by value, it costs no register.
struct NoTrace {
  // A clause skipped (fails closed): returns the clause's answer, false.
  bool Skip(ClauseOutcome, const char* /*expected*/, AttrType /*actual*/) {
    return false;
  }
  bool Skip(ClauseOutcome) { return false; }
  void BeginRule(const Rule&) {}
  void ClauseDone(std::size_t /*index*/, bool /*matched*/) {}
  void RuleMatched() {}
  void MissingBucketKey() {}
  void PrerequisiteChecked(const CompiledFlagSet&, const Prerequisite&,
                           std::int32_t /*served*/) {}
};

std::string_view AttrTypeName(AttrType type) {
  switch (type) {
    case AttrType::kString:
      return "string";
    case AttrType::kNumber:
      return "number";
    case AttrType::kBool:
      return "bool";
  }
  return "?";
}

// The operator's name as docs/flag-format.md writes it.
std::string_view OpName(Op op) {
  switch (op) {
    case Op::kIn:
      return "in";
    case Op::kNotIn:
      return "not_in";
    case Op::kStartsWith:
      return "starts_with";
    case Op::kEndsWith:
      return "ends_with";
    case Op::kContains:
      return "contains";
    case Op::kMatches:
      return "matches";
    case Op::kLt:
      return "lt";
    case Op::kLte:
      return "lte";
    case Op::kGt:
      return "gt";
    case Op::kGte:
      return "gte";
    case Op::kSemverEq:
      return "semver_eq";
    case Op::kSemverLt:
      return "semver_lt";
    case Op::kSemverLte:
      return "semver_lte";
    case Op::kSemverGt:
      return "semver_gt";
    case Op::kSemverGte:
      return "semver_gte";
    case Op::kBefore:
      return "before";
    case Op::kAfter:
      return "after";
    case Op::kSegment:
      return "segment";
    case Op::kNever:
      return "unknown operator";
    case Op::kSemverCoerced:
      return "sem_ver";
  }
  return "?";
}

// The sink of ExplainFlag: a pointer to the explanation being built.
struct ExplainTrace {
  Explanation* out;
  std::size_t clause = 0;  // the clause being tested

  ClauseExplanation& Current() { return out->rules.back().clauses[clause]; }
  bool Skip(ClauseOutcome outcome, const char* expected, AttrType actual) {
    if (out->rules.empty()) return false;  // never: clauses are in rules
    ClauseExplanation& c = Current();
    c.outcome = outcome;
    c.expected_type = expected;
    c.actual_type = AttrTypeName(actual);
    return false;
  }
  bool Skip(ClauseOutcome outcome) {
    if (!out->rules.empty()) Current().outcome = outcome;
    return false;
  }
  void BeginRule(const Rule& rule) {
    RuleExplanation& r = out->rules.emplace_back();
    r.clauses.resize(rule.clauses.size());
    for (std::size_t i = 0; i < rule.clauses.size(); ++i) {
      const Clause& c = rule.clauses[i];
      r.clauses[i].attribute = c.attribute;
      r.clauses[i].op = OpName(c.op);
      r.clauses[i].negate = c.negate;
    }
    if (rule.serve.rollout != nullptr) {
      r.split = true;
      r.bucket_by = rule.serve.rollout->bucket_by;
    }
  }
  void ClauseDone(std::size_t index, bool matched) {
    ClauseExplanation& c = out->rules.back().clauses[index];
    if (c.outcome == ClauseOutcome::kNotEvaluated) {
      c.outcome =
          matched ? ClauseOutcome::kMatched : ClauseOutcome::kNotMatched;
    }
  }
  void RuleMatched() { out->rules.back().matched = true; }
  void MissingBucketKey() { out->rules.back().missing_bucket_key = true; }
  void PrerequisiteChecked(const CompiledFlagSet& set, const Prerequisite& p,
                           std::int32_t served) {
    const CompiledFlag& flag = set.flags[p.flag];
    PrerequisiteExplanation& e = out->prerequisites.emplace_back();
    e.flag = flag.key;
    if (p.variant >= 0) e.required_variant = flag.variants[p.variant].name;
    if (served >= 0) e.served_variant = flag.variants[served].name;
    e.passed = served == p.variant;
  }
};

// kIn / kNotIn: the type of the clause's values.
const char* InType(const Clause& clause) {
  return !clause.strings.empty()   ? "string"
         : !clause.numbers.empty() ? "number"
                                   : "bool";
}

bool InSegment(const CompiledFlagSet& set, std::uint32_t segment,
               const Context& context, EvalClock& clock) noexcept;

// Returns whether the clause matches, or false when its attribute is missing or
// of a type that does not fit the operator (fail closed: negate is not applied
// then); tells `trace` why it skipped one.
template <typename Trace>
bool MatchClause(const CompiledFlagSet& set, const Clause& clause,
                 const Context& context, EvalClock& clock,
                 Trace trace) noexcept {
  bool hit = false;
  switch (clause.op) {
    case Op::kNever:
      return false;
    case Op::kSegment:
      for (std::uint32_t s : clause.segments) {
        if (InSegment(set, s, context, clock)) {
          hit = true;
          break;
        }
      }
      return hit != clause.negate;
    case Op::kBefore:
    case Op::kAfter: {
      std::int64_t t = 0;
      if (clause.use_now) {
        t = clock.NowMicros();
      } else {
        const AttributeValue* a = context.Find(clause.attribute);
        if (a == nullptr) return trace.Skip(ClauseOutcome::kMissingAttribute);
        if (a->type == AttrType::kNumber) {
          const double micros = a->number_value * 1e6;
          if (!std::isfinite(micros) || std::fabs(micros) > 9.0e18) {
            return trace.Skip(ClauseOutcome::kInvalidValue,
                              "Unix seconds in range", a->type);
          }
          t = static_cast<std::int64_t>(micros);
        } else if (a->type == AttrType::kString) {
          if (!ParseRfc3339(a->string_value, &t)) {
            return trace.Skip(ClauseOutcome::kInvalidValue, "RFC 3339 time",
                              a->type);
          }
        } else {
          return trace.Skip(ClauseOutcome::kWrongType, "string or number",
                            a->type);
        }
      }
      for (std::int64_t v : clause.times_micros) {
        if (clause.op == Op::kBefore ? t < v : t > v) {
          hit = true;
          break;
        }
      }
      return hit != clause.negate;
    }
    default:
      break;
  }

  const AttributeValue* a = context.Find(clause.attribute);
  if (a == nullptr) return trace.Skip(ClauseOutcome::kMissingAttribute);
  switch (clause.op) {
    case Op::kIn:
    case Op::kNotIn: {
      if (a->type == AttrType::kString) {
        if (clause.strings.empty()) {
          return trace.Skip(ClauseOutcome::kWrongType, InType(clause), a->type);
        }
        hit = StringIn(clause, a->string_value);
      } else if (a->type == AttrType::kNumber) {
        if (clause.numbers.empty()) {
          return trace.Skip(ClauseOutcome::kWrongType, InType(clause), a->type);
        }
        for (double v : clause.numbers) {
          if (v == a->number_value) {
            hit = true;
            break;
          }
        }
      } else {
        if (!clause.match_true && !clause.match_false) {
          return trace.Skip(ClauseOutcome::kWrongType, InType(clause), a->type);
        }
        hit = a->bool_value ? clause.match_true : clause.match_false;
      }
      if (clause.op == Op::kNotIn) hit = !hit;
      break;
    }
    case Op::kStartsWith:
    case Op::kEndsWith:
    case Op::kContains: {
      if (a->type != AttrType::kString) {
        return trace.Skip(ClauseOutcome::kWrongType, "string", a->type);
      }
      const std::string_view s = a->string_value;
      for (const std::string& v : clause.strings) {
        if (clause.op == Op::kStartsWith) {
          hit = s.size() >= v.size() && s.compare(0, v.size(), v) == 0;
        } else if (clause.op == Op::kEndsWith) {
          hit = s.size() >= v.size() &&
                s.compare(s.size() - v.size(), v.size(), v) == 0;
        } else {
          hit = s.find(v) != std::string_view::npos;
        }
        if (hit) break;
      }
      break;
    }
    case Op::kMatches: {
      if (a->type != AttrType::kString) {
        return trace.Skip(ClauseOutcome::kWrongType, "string", a->type);
      }
      const re2::StringPiece text(a->string_value.data(),
                                  a->string_value.size());
      for (const auto& re : clause.regexes) {
        if (RE2::PartialMatch(text, *re)) {
          hit = true;
          break;
        }
      }
      break;
    }
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte: {
      if (a->type != AttrType::kNumber) {
        return trace.Skip(ClauseOutcome::kWrongType, "number", a->type);
      }
      const double x = a->number_value;
      for (double v : clause.numbers) {
        switch (clause.op) {
          case Op::kLt:
            hit = x < v;
            break;
          case Op::kLte:
            hit = x <= v;
            break;
          case Op::kGt:
            hit = x > v;
            break;
          default:
            hit = x >= v;
            break;
        }
        if (hit) break;
      }
      break;
    }
    case Op::kSemverCoerced: {
      // flagd's sem_ver: String(value), then flagd's normalization.
      char digits[kJsNumberChars];
      std::string_view text;
      if (a->type == AttrType::kString) {
        text = a->string_value;
      } else if (a->type == AttrType::kNumber) {
        text =
            std::string_view(digits, JsNumberToString(a->number_value, digits));
      } else {
        // "true" / "false" are not versions
        return trace.Skip(ClauseOutcome::kWrongType, "string or number",
                          a->type);
      }
      SemVer x;
      if (!JsNormalizeSemVer(text, &x)) {
        return trace.Skip(ClauseOutcome::kInvalidValue, "semver", a->type);
      }
      hit = SemVerHolds(static_cast<JlSemVerOp>(clause.semver_op), x,
                        clause.semvers[0]);
      break;
    }
    case Op::kSemverEq:
    case Op::kSemverLt:
    case Op::kSemverLte:
    case Op::kSemverGt:
    case Op::kSemverGte: {
      if (a->type != AttrType::kString) {
        return trace.Skip(ClauseOutcome::kWrongType, "string", a->type);
      }
      SemVer x;
      if (!ParseSemVer(a->string_value, &x)) {
        return trace.Skip(ClauseOutcome::kInvalidValue, "semver", a->type);
      }
      for (const SemVer& v : clause.semvers) {
        const int c = CompareSemVer(x, v);
        switch (clause.op) {
          case Op::kSemverEq:
            hit = c == 0;
            break;
          case Op::kSemverLt:
            hit = c < 0;
            break;
          case Op::kSemverLte:
            hit = c <= 0;
            break;
          case Op::kSemverGt:
            hit = c > 0;
            break;
          default:
            hit = c >= 0;
            break;
        }
        if (hit) break;
      }
      break;
    }
    default:
      return false;
  }
  return hit != clause.negate;
}

template <typename Trace>
bool AllMatch(const CompiledFlagSet& set, const std::vector<Clause>& clauses,
              const Context& context, EvalClock& clock, Trace trace) noexcept {
  if constexpr (std::is_same_v<Trace, NoTrace>) {
    for (const Clause& clause : clauses) {
      if (!MatchClause(set, clause, context, clock, trace)) return false;
    }
    return true;
  } else {
    for (std::size_t i = 0; i < clauses.size(); ++i) {
      trace.clause = i;
      const bool matched = MatchClause(set, clauses[i], context, clock, trace);
      trace.ClauseDone(i, matched);
      if (!matched) return false;
    }
    return true;
  }
}

bool InSegment(const CompiledFlagSet& set, std::uint32_t segment,
               const Context& context, EvalClock& clock) noexcept {
  const CompiledSegment& s = set.segments[segment];
  if (context.has_key()) {
    const absl::string_view key = ToAbsl(context.key());
    if (s.included.contains(key)) return true;
    if (s.excluded.contains(key)) return false;
  }
  for (const std::vector<Clause>& rule : s.rules) {
    if (AllMatch(set, rule, context, clock, NoTrace{})) return true;
  }
  return false;
}

// Returns the variant a split chooses, or -1 when the context has no string
// value for the bucketing attribute (or, for flagd's hash, an empty one).
std::int32_t Bucket(const Rollout& rollout, const Context& context) noexcept {
  const AttributeValue* a = context.Find(rollout.bucket_by);
  if (a == nullptr || a->type != AttrType::kString) return -1;
  std::uint32_t bucket;
  if (rollout.hash == BucketHash::kMurmur3Weighted) {
    if (a->string_value.empty()) return -1;
    bucket = FractionalBucket(Murmur3X86_32(rollout.salt, a->string_value),
                              rollout.total);
  } else {
    bucket = BucketOf(rollout.salt, a->string_value);
  }
  for (const auto& [upper, variant] : rollout.ranges) {
    if (bucket < upper) return variant;
  }
  return -1;
}

template <typename Trace>
Outcome Walk(const CompiledFlagSet& set, std::uint32_t index,
             const Context& context, EvalClock& clock, int depth,
             Trace trace) noexcept {
  const CompiledFlag& flag = set.flags[index];
  Outcome out;
  if (flag.killed) {
    out.variant = flag.off_variant;
    out.reason = flag.guard_tripped ? Reason::kGuardTripped : Reason::kKilled;
    return out;
  }
  if (flag.static_variant >= 0) {
    out.variant = flag.static_variant;
    out.reason = Reason::kStatic;
    return out;
  }
  for (const Prerequisite& p : flag.prerequisites) {
    const Outcome pre =
        depth < kMaxPrerequisiteDepth
            ? Walk(set, p.flag, context, clock, depth + 1, NoTrace{})
            : Outcome{};
    trace.PrerequisiteChecked(set, p, pre.variant);
    if (pre.variant != p.variant) {
      out.variant = flag.off_variant;
      out.reason = Reason::kPrerequisiteFailed;
      return out;
    }
  }
  if (!flag.targets.empty() && context.has_key()) {
    auto it = flag.targets.find(ToAbsl(context.key()));
    if (it != flag.targets.end()) {
      out.variant = it->second;
      out.reason = Reason::kTargetMatch;
      return out;
    }
  }
  for (std::size_t i = 0; i < flag.rules.size(); ++i) {
    const Rule& rule = flag.rules[i];
    trace.BeginRule(rule);
    if (!AllMatch(set, rule.clauses, context, clock, trace)) continue;
    std::int32_t variant = rule.serve.variant;
    if (rule.expression != nullptr) {
      const JlRuleResult r = EvaluateJsonLogicRule(flag, *rule.expression,
                                                   context, clock, &variant);
      if (r == JlRuleResult::kNoMatch) continue;
      if (r == JlRuleResult::kError) {
        out.reason = Reason::kError;
        out.error = ErrorKind::kGeneral;
        return out;
      }
    }
    trace.RuleMatched();
    if (rule.serve.rollout != nullptr) {
      variant = Bucket(*rule.serve.rollout, context);
      if (variant < 0) {  // no bucketing key: the rule does not match
        trace.MissingBucketKey();
        continue;
      }
    }
    if (variant == Serve::kFallThrough) break;  // flagd: null → default
    out.variant = variant;
    out.reason = Reason::kRuleMatch;
    out.rule_index = static_cast<int>(i);
    return out;
  }
  if (flag.fallthrough.rollout != nullptr) {
    out.variant = Bucket(*flag.fallthrough.rollout, context);
    if (out.variant < 0) {
      out.reason = Reason::kError;
      out.error = ErrorKind::kMissingBucketKey;
      return out;
    }
    out.reason = Reason::kRollout;
    return out;
  }
  out.variant = flag.fallthrough.variant;
  out.reason = Reason::kDefault;
  return out;
}

}  // namespace

std::int64_t EvalClock::NowMicros() noexcept {
  if (!have_) {
    now_ = absl::Now();
    have_ = true;
  }
  return absl::ToUnixMicros(now_);
}

const FlagSlot* FindSlot(const CompiledFlagSet& set,
                         std::string_view flag) noexcept {
  auto it = set.index.find(ToAbsl(flag));
  return it == set.index.end() ? nullptr : &it->second;
}

bool FindFlag(const CompiledFlagSet& set, std::string_view flag,
              std::uint32_t* index) noexcept {
  const FlagSlot* slot = FindSlot(set, flag);
  if (slot == nullptr) return false;
  *index = slot->index;
  return true;
}

namespace {

template <typename Trace>
EvaluationDetail EvaluateWith(const CompiledFlagSet& set, std::uint32_t index,
                              const Context& context, ValueType expected,
                              EvalClock& clock, std::int32_t* variant_index,
                              Trace trace) noexcept {
  const Outcome out = Walk(set, index, context, clock, 0, trace);
  const CompiledFlag& flag = set.flags[index];
  EvaluationDetail detail;
  detail.snapshot_version = set.version;
  detail.reason = out.reason;
  detail.error = out.error;
  detail.rule_index = out.rule_index;
  if (out.variant >= 0) {
    const Variant& v = flag.variants[out.variant];
    detail.variant = v.name;
    detail.value = v.value;
  }
  const bool mismatch =
      expected != ValueType::kNone &&
      (flag.typed_by_value ? detail.value.type != ValueType::kNone &&
                                 detail.value.type != expected
                           : flag.type != expected);
  if (mismatch) {
    detail.value = Value();
    detail.variant = {};
    detail.reason = Reason::kError;
    detail.error = ErrorKind::kTypeMismatch;
    detail.rule_index = -1;
  }
  if (variant_index != nullptr) *variant_index = mismatch ? -1 : out.variant;
  return detail;
}

}  // namespace

EvaluationDetail EvaluateFlag(const CompiledFlagSet& set, std::uint32_t index,
                              const Context& context, ValueType expected,
                              EvalClock& clock,
                              std::int32_t* variant_index) noexcept {
  return EvaluateWith(set, index, context, expected, clock, variant_index,
                      NoTrace{});
}

void ExplainFlag(const CompiledFlagSet& set, std::uint32_t index,
                 const Context& context, ValueType expected, EvalClock& clock,
                 Explanation* out) {
  const CompiledFlag& flag = set.flags[index];
  if (flag.fallthrough.rollout != nullptr) {
    out->fallthrough_split = true;
    out->fallthrough_bucket_by = flag.fallthrough.rollout->bucket_by;
  }
  out->detail = EvaluateWith(set, index, context, expected, clock,
                             /*variant_index=*/nullptr, ExplainTrace{out});
}

EvaluationDetail EvaluateByName(const CompiledFlagSet& set,
                                std::string_view flag, const Context& context,
                                ValueType expected, EvalClock& clock,
                                std::uint32_t* flag_index,
                                std::int32_t* variant_index) noexcept {
  std::uint32_t index;
  if (variant_index != nullptr) *variant_index = -1;
  if (!FindFlag(set, flag, &index)) {
    EvaluationDetail detail;
    detail.snapshot_version = set.version;
    detail.reason = Reason::kError;
    detail.error = ErrorKind::kFlagNotFound;
    return detail;
  }
  if (flag_index != nullptr) *flag_index = index;
  return EvaluateFlag(set, index, context, expected, clock, variant_index);
}

std::int64_t Int64Or(const EvaluationDetail& d,
                     std::int64_t default_value) noexcept {
  if (d.value.type != ValueType::kNumber) return default_value;
  const double v = d.value.number_value;
  if (!std::isfinite(v) || v < -9223372036854775808.0 ||
      v >= 9223372036854775808.0) {
    return default_value;
  }
  return static_cast<std::int64_t>(v);
}

bool StaticBool(const CompiledFlag& flag, bool* value) noexcept {
  if (flag.typed_by_value && flag.type == ValueType::kNone) {
    // Mixed variant types: the answer depends on the variant served.
    if (flag.killed) {
      const std::int32_t v = flag.off_variant;
      *value = v >= 0 && flag.variants[v].value.type == ValueType::kBool &&
               flag.variants[v].value.bool_value;
      return true;
    }
    return false;
  }
  if (flag.type != ValueType::kBool) {
    *value = false;
    return true;
  }
  std::int32_t variant;
  if (flag.killed) {
    variant = flag.off_variant;
  } else if (flag.static_variant >= 0) {
    variant = flag.static_variant;
  } else {
    return false;
  }
  *value = variant >= 0 && flag.variants[variant].value.bool_value;
  return true;
}

std::int8_t EnabledAnswer(const CompiledFlag& flag) noexcept {
  bool value;
  return StaticBool(flag, &value) ? static_cast<std::int8_t>(value) : -1;
}

}  // namespace internal
}  // namespace hotfix
