// src/model/json_logic.h
//
// The compiled form of a JSON Logic expression (flagd targeting): a flat array
// of nodes built once by snapshot/json_logic_compile.cc and walked by
// eval/json_logic.cc without allocating. Values follow JavaScript's types
// (null, boolean, number, string, array, object) because flagd's semantics are
// those of json-logic-engine running in JavaScript; docs/openfeature.md lists
// the supported operators and how each behaves.
//
// Immutable after compilation; thread-safe to read.

#ifndef HOTFIX_SRC_MODEL_JSON_LOGIC_H_
#define HOTFIX_SRC_MODEL_JSON_LOGIC_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/semver.h"

namespace hotfix {
namespace internal {

// A JavaScript value as JSON Logic sees it. Strings are views (into the
// string pool, the caller's Context, or the evaluation's scratch space);
// arrays are either constant (`items`, `size`) or an array literal whose
// elements are expressions evaluated when read (`node`).
struct JlValue {
  enum class Kind : std::uint8_t {
    kNull,
    kBool,
    kNumber,
    kString,
    kArray,
    kObject
  };
  Kind kind = Kind::kNull;
  bool boolean = false;
  // For constant strings (and numbers, booleans) that name one of the flag's
  // variants: its index, resolved at compile time; -1 none; -2 not resolved.
  std::int32_t variant = -2;
  std::uint32_t size = 0;  // kArray: elements; kObject: members
  std::int32_t node = -1;  // kArray: >= 0: an array-literal node
  union {
    double number = 0;     // kNumber
    const JlValue* items;  // kArray (constant or scratch elements)
  };
  std::string_view string;
  static JlValue Null() { return JlValue(); }
  static JlValue Bool(bool b) {
    JlValue v;
    v.kind = Kind::kBool;
    v.boolean = b;
    return v;
  }
  static JlValue Number(double d) {
    JlValue v;
    v.kind = Kind::kNumber;
    v.number = d;
    return v;
  }
  static JlValue String(std::string_view s) {
    JlValue v;
    v.kind = Kind::kString;
    v.string = s;
    return v;
  }
};

enum class JlOp : std::uint8_t {
  kConst,        // constant
  kArrayLit,     // array literal with a non-constant element: children
  kVar,          // context attribute `name` (children[0]: the default)
  kContextKey,   // "targetingKey": the context key (children[0]: default)
  kFlagKey,      // "$flagd.flagKey" (not folded, as in flagd)
  kTimestamp,    // "$flagd.timestamp": Unix seconds of the evaluation
  kMissing,      // names in `names` that the context lacks
  kMissingSome,  // [count, names]
  kIf,
  kAnd,
  kOr,
  kNot,
  kNotNot,
  kCoalesce,  // "??"
  kEq,
  kNe,
  kStrictEq,
  kStrictNe,
  kLt,
  kLte,
  kGt,
  kGte,
  kIn,
  kCat,
  kSubstr,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kMax,
  kMin,
  kMerge,
  kStartsWith,
  kEndsWith,
  kSemVer,
  kFractional,
};

struct JlNode {
  JlOp op = JlOp::kConst;
  // True when the operator was written with a non-array argument
  // ({"cat": {"var": "x"}}): some operators treat that differently.
  bool unary_form = false;
  // True below an operator json-logic-engine does not compile (an `if`
  // with fewer than three operands, `and` / `or` / `if` without brackets):
  // it runs its operands with the interpreter, whose comparisons and `cat`
  // differ from the compiled code's (eval/json_logic.cc).
  bool interpreted = false;
  std::uint32_t first_child = 0;  // into JlProgram::children
  std::uint32_t child_count = 0;
  JlValue value;          // kConst
  std::string_view name;  // kVar: the attribute (pooled)
  // kMissing / kMissingSome: the names to look up (pooled) and the values
  // reported when missing (the names as written: strings or numbers).
  std::uint32_t first_name = 0;
  std::uint32_t name_count = 0;
  std::uint32_t need = 0;  // kMissingSome
  // kSemVer with a constant operator and a constant, valid target: both
  // parsed at compile time (the target's text is pooled).
  bool semver_constant = false;
  std::uint8_t semver_op = 0;  // JlSemVerOp
  SemVer semver_target;
};

// sem_ver's operators.
enum JlSemVerOp : std::uint8_t {
  kSemVerEq,
  kSemVerNe,
  kSemVerLt,
  kSemVerLte,
  kSemVerGt,
  kSemVerGte,
  kSemVerCaret,
  kSemVerTilde,
  kSemVerInvalid,
};

// One compiled expression: the rule of a flagd flag's `targeting`.
struct JlProgram {
  std::vector<JlNode> nodes;
  std::vector<std::uint32_t> children;
  std::vector<std::string_view> names;  // kMissing / kMissingSome
  std::vector<JlValue> name_values;     // parallel to names
  // Storage of constant arrays (each element vector never moves).
  std::vector<std::unique_ptr<std::vector<JlValue>>> arrays;
  std::uint32_t root = 0;
  std::string_view flag_key;  // pooled; for fractional and $flagd.flagKey
  // Whether a compiled-mode comparison reads json-logic-engine's `prev`
  // (eval/json_logic.h); when none does, evaluation skips tracking it.
  bool tracks_prev = false;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_MODEL_JSON_LOGIC_H_
