// src/eval/evaluate.h
//
// The evaluation engine: walks one compiled flag for one context. Pure,
// noexcept and allocation-free; the only clock read is for before/after
// clauses without an attribute, and only when such a clause is reached.
//
// Thread-safe (reads immutable data).

#ifndef HOTFIX_SRC_EVAL_EVALUATE_H_
#define HOTFIX_SRC_EVAL_EVALUATE_H_

#include <cstdint>
#include <string_view>

#include "absl/time/time.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/snapshot.h"
#include "hotfix/value.h"
#include "model/model.h"

namespace hotfix {
namespace internal {

// The evaluation time: fixed by the caller, or read from the clock on first
// use (absl::InfinitePast() in `fixed` means "read the clock").
class EvalClock {
 public:
  EvalClock() = default;
  explicit EvalClock(absl::Time fixed) : now_(fixed), have_(true) {}
  std::int64_t NowMicros() noexcept;

 private:
  absl::Time now_;
  bool have_ = false;
};

// EvaluateFlag()
//
// Evaluates set.flags[index] for `context`. `expected` other than kNone turns
// a type difference into kError/kTypeMismatch. snapshot_version is filled.
// `variant_index`, if not null, receives the index of the variant served
// (-1: none, the caller's default).
EvaluationDetail EvaluateFlag(const CompiledFlagSet& set, std::uint32_t index,
                              const Context& context, ValueType expected,
                              EvalClock& clock,
                              std::int32_t* variant_index = nullptr) noexcept;

// ExplainFlag()
//
// EvaluateFlag, recording each step into *out; out->detail is what
// EvaluateFlag returns (both run one walk, written once as a template over
// its trace sink; EvaluateFlag's sink is empty and compiles away).
// out->rules and out->prerequisites must be empty.
//
// Cost: allocates the explanation.
void ExplainFlag(const CompiledFlagSet& set, std::uint32_t index,
                 const Context& context, ValueType expected, EvalClock& clock,
                 Explanation* out);

// EvaluateByName()
//
// As EvaluateFlag after a name lookup; kError/kFlagNotFound if absent.
// `flag_index` (if not null) receives the flag's index when it is found.
EvaluationDetail EvaluateByName(const CompiledFlagSet& set,
                                std::string_view flag, const Context& context,
                                ValueType expected, EvalClock& clock,
                                std::uint32_t* flag_index = nullptr,
                                std::int32_t* variant_index = nullptr) noexcept;

// Finds `flag`; returns false if absent.
bool FindFlag(const CompiledFlagSet& set, std::string_view flag,
              std::uint32_t* index) noexcept;

// FindSlot()
//
// `flag`'s slot in the index (its position in set.flags, and what the by-name
// Enabled() reads of it), or null if absent.
//
// Cost: one hash of `flag` and, usually, one cache line of the index.
const FlagSlot* FindSlot(const CompiledFlagSet& set,
                         std::string_view flag) noexcept;

// StaticBool()
//
// If set.flags[index]'s Enabled() answer is the same for every context (a
// static boolean flag, a killed flag, a non-boolean flag), stores it in
// *value and returns true.
bool StaticBool(const CompiledFlag& flag, bool* value) noexcept;

// EnabledAnswer()
//
// FlagSlot::enabled_answer for `flag`: StaticBool's value (1 or 0), or -1
// when the answer depends on the context.
std::int8_t EnabledAnswer(const CompiledFlag& flag) noexcept;

// Typed reads of an evaluation result: the served value if it has the type,
// else `default_value`. Shared by Client and FlagHandle getters.
inline bool BoolOr(const EvaluationDetail& d, bool default_value) noexcept {
  return d.value.type == ValueType::kBool ? d.value.bool_value : default_value;
}
inline std::string_view StringOr(const EvaluationDetail& d, ValueType type,
                                 std::string_view default_value) noexcept {
  return d.value.type == type ? d.value.string_value : default_value;
}
inline double DoubleOr(const EvaluationDetail& d,
                       double default_value) noexcept {
  return d.value.type == ValueType::kNumber ? d.value.number_value
                                            : default_value;
}
// Truncates toward zero; the default when not a number or out of range.
std::int64_t Int64Or(const EvaluationDetail& d,
                     std::int64_t default_value) noexcept;

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_EVAL_EVALUATE_H_
