// src/eval/json_logic.h
//
// Evaluation of a compiled JSON Logic expression (model/json_logic.h) with
// the semantics of json-logic-engine 5.0.7 in compiled mode plus flagd's
// operators, as @openfeature/flagd-core 4.0.1 runs them. Values that an
// evaluation builds (cat, substr, numbers turned into text, merge, missing)
// live in a JlScratch on the caller's stack: no allocation, no lock.
//
// Thread-safe (reads immutable data; the scratch belongs to one call).

#ifndef HOTFIX_SRC_EVAL_JSON_LOGIC_H_
#define HOTFIX_SRC_EVAL_JSON_LOGIC_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>

#include "eval/evaluate.h"
#include "hotfix/context.h"
#include "model/json_logic.h"
#include "model/model.h"

namespace hotfix {
namespace internal {

// Room for what one evaluation builds. An evaluation that needs more fails
// like an operator error (kGeneral); docs/openfeature.md states the limits.
class JlScratch {
 public:
  static constexpr std::size_t kTextBytes = 4096;
  static constexpr std::size_t kItems = 256;

  JlScratch() noexcept {}  // storage left uninitialized on purpose

  // Returns `n` bytes of text, or nullptr when full.
  char* AllocText(std::size_t n) noexcept {
    if (n > kTextBytes - text_used_) return nullptr;
    char* p = text_ + text_used_;
    text_used_ += n;
    return p;
  }
  // Gives back the unused tail of the last AllocText (keeps `used` bytes of
  // a block that started at `p`).
  void ShrinkText(char* p, std::size_t used) noexcept {
    text_used_ = static_cast<std::size_t>(p - text_) + used;
  }
  // Returns room for `n` values, or nullptr when full.
  JlValue* AllocItems(std::size_t n) noexcept {
    if (n > kItems - items_used_) return nullptr;
    JlValue* p = reinterpret_cast<JlValue*>(items_) + items_used_;
    for (std::size_t i = 0; i < n; ++i) new (p + i) JlValue();
    items_used_ += n;
    return p;
  }

 private:
  char text_[kTextBytes];
  alignas(JlValue) unsigned char items_[kItems * sizeof(JlValue)];
  std::size_t text_used_ = 0;
  std::size_t items_used_ = 0;
};

// Evaluates program nodes. `folding` selects the interpreter's semantics
// that json-logic-engine uses when it folds a constant sub-expression at
// build time (cat skips nulls); the compiler uses it, evaluation does not.
class JlEvaluator {
 public:
  JlEvaluator(const JlProgram& program, const Context& context,
              EvalClock& clock, JlScratch& scratch, bool folding) noexcept
      : p_(program),
        context_(context),
        clock_(clock),
        scratch_(scratch),
        folding_(folding),
        track_prev_(program.tracks_prev) {}

  // Evaluates node `index` into *out; false when JavaScript would throw.
  bool Eval(std::uint32_t index, JlValue* out) noexcept;

  // String(v) as JavaScript writes it; false when the scratch is full.
  bool ToString(const JlValue& v, std::string_view* out) noexcept;

 private:
  bool Element(const JlValue& array, std::uint32_t i, JlValue* out) noexcept;
  bool Child(const JlNode& n, std::uint32_t i, JlValue* out) noexcept {
    return Eval(p_.children[n.first_child + i], out);
  }
  bool Arithmetic(const JlNode& n, JlValue* out) noexcept;
  bool Compare(const JlNode& n, JlValue* out) noexcept;
  bool CompareInterpreted(const JlNode& n, JlValue* out) noexcept;
  bool In(const JlNode& n, JlValue* out) noexcept;
  bool Cat(const JlNode& n, JlValue* out) noexcept;
  bool Substr(const JlNode& n, JlValue* out) noexcept;
  bool MaxMin(const JlNode& n, JlValue* out) noexcept;
  bool Merge(const JlNode& n, JlValue* out) noexcept;
  bool Missing(const JlNode& n, JlValue* out) noexcept;
  bool StringTest(const JlNode& n, JlValue* out) noexcept;
  bool SemVerOp(const JlNode& n, JlValue* out) noexcept;
  bool Fractional(const JlNode& n, JlValue* out) noexcept;
  bool AppendString(const JlValue& v, char* buffer, std::size_t capacity,
                    std::size_t* used, bool null_as_empty) noexcept;
  bool Has(std::string_view name) const noexcept;

  const JlProgram& p_;
  const Context& context_;
  EvalClock& clock_;
  JlScratch& scratch_;
  const bool folding_;
  const bool track_prev_;
  // json-logic-engine's compiled code keeps one variable `prev` that var,
  // and, or, comparisons and missing_some assign as they run, and that a
  // comparison's compareCheck() reads after evaluating its right operand: a
  // right operand that assigns it (a var) is checked against itself. This
  // mirrors it, so coercion errors are raised exactly where flagd raises
  // them.
  JlValue prev_;
};

// JsTruthy()
//
// json-logic-engine's truthiness: false, 0, NaN, "", null, [] and {} are
// falsy.
bool JsTruthy(const JlValue& v) noexcept;

// JsNormalizeSemVer()
//
// flagd's normalizeVersion(): one leading v/V stripped, then a strict SemVer
// 2.0 parse of the trimmed text, else "1" / "1.2" coerced to 1.0.0 / 1.2.0.
// `out->prerelease` views into `text`.
bool JsNormalizeSemVer(std::string_view text, SemVer* out) noexcept;

// The sem_ver operator named `op` (kSemVerInvalid if none).
JlSemVerOp SemVerOpCode(std::string_view op) noexcept;

// Whether `x op y` holds for sem_ver's operator `op`.
bool SemVerHolds(JlSemVerOp op, const SemVer& x, const SemVer& y) noexcept;

enum class JlRuleResult : std::uint8_t { kNoMatch, kVariant, kError };

// EvaluateJsonLogicRule()
//
// Runs `program` (a flagd flag's targeting) for `context` and turns the
// result into a variant of `flag` as flagd does: null → kNoMatch; otherwise
// String(result) names the variant (*variant), kError if the flag has no
// such variant or an operator failed.
//
// Cost: the expression's nodes; no allocation, no lock.
JlRuleResult EvaluateJsonLogicRule(const CompiledFlag& flag,
                                   const JlProgram& program,
                                   const Context& context, EvalClock& clock,
                                   std::int32_t* variant) noexcept;

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_EVAL_JSON_LOGIC_H_
