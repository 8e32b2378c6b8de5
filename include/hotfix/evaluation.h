// include/hotfix/evaluation.h
//
// EvaluationDetail explains one evaluation: the value served, the variant, why
// it was chosen, and which snapshot answered. Returned by Client::Evaluate and
// Snapshot::Evaluate; building one never allocates.
//
// Thread-compatible (plain value types).

#ifndef HOTFIX_EVALUATION_H_
#define HOTFIX_EVALUATION_H_

#include <cstdint>
#include <string_view>

#include "hotfix/export.h"
#include "hotfix/value.h"

namespace hotfix {

// Why a value was served. The numeric values are frozen (C ABI).
enum class Reason : std::uint8_t {
  kStatic = 0,              // a context-independent flag served its default
  kTargetMatch = 1,         // the context key was listed in a target
  kRuleMatch = 2,           // a rule matched (rule_index says which)
  kRollout = 3,             // the fallthrough percentage split chose
  kDefault = 4,             // no target or rule matched; fallthrough variant
  kKilled = 5,              // killed / enabled:false
  kPrerequisiteFailed = 6,  // a prerequisite did not serve the required variant
  kError = 7,               // see ErrorKind; the caller's default was served
  // The flag's local guard tripped in this process (its served variant failed
  // more often than its `guard` allows): the off variant, or the guard's
  // `compare_to` variant, is served until the flag's definition changes.
  kGuardTripped = 8,
};

// What went wrong when reason == kError. The numeric values are frozen.
enum class ErrorKind : std::uint8_t {
  kNone = 0,
  kFlagNotFound = 1,      // no flag with that key in the snapshot
  kTypeMismatch = 2,      // the flag's type differs from the one asked for
  kNotReady = 3,          // the client has no snapshot yet
  kMissingBucketKey = 4,  // a fallthrough split found no bucketing attribute
  // A flagd flag's targeting failed (an operator error, as flagd's GENERAL)
  // or named a variant the flag does not have.
  kGeneral = 5,
};

// Returns "STATIC", "TARGET_MATCH", ..., "GUARD_TRIPPED" as written in
// docs/flag-format.md.
HOTFIX_EXPORT std::string_view ReasonName(Reason reason) noexcept;
// Returns "NONE", "FLAG_NOT_FOUND", "TYPE_MISMATCH", ...
HOTFIX_EXPORT std::string_view ErrorKindName(ErrorKind kind) noexcept;

struct EvaluationDetail {
  // The value served; type kNone when the caller's default applies (errors,
  // and killed flags without an off variant).
  Value value;
  // Name of the variant served; empty when none.
  std::string_view variant;
  Reason reason = Reason::kError;
  ErrorKind error = ErrorKind::kNone;
  // Index of the matching rule for kRuleMatch, else -1.
  int rule_index = -1;
  // Version of the snapshot that answered; 0 when there was none.
  std::uint64_t snapshot_version = 0;
};

}  // namespace hotfix

#endif  // HOTFIX_EVALUATION_H_
