// include/hotfix/snapshot.h
//
// A Snapshot is the immutable, compiled form of one flag-set version: flags in
// a dense array, a name index, rules with every set, number, semver, time and
// regex parsed once. Compile() is the only place that allocates; evaluation on
// a Snapshot never allocates, locks or fails.
//
// Most applications never touch a Snapshot: Client keeps the current one. Use
// it directly for offline tools (hotfixctl validate/eval) and tests.
//
// Thread-safe: a Snapshot is immutable once compiled; any number of threads
// may evaluate it concurrently.

#ifndef HOTFIX_SNAPSHOT_H_
#define HOTFIX_SNAPSHOT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/export.h"
#include "hotfix/value.h"

namespace hotfix {

namespace internal {
struct CompiledFlagSet;
struct SnapshotAccess;
}  // namespace internal

// What the compiler does with an operator it does not know.
enum class UnknownOperatorPolicy {
  kReject,      // a compile error naming the clause (the default)
  kFailClosed,  // the clause never matches; a warning is recorded
};

// The format of a flag-set document.
enum class DocumentFormat {
  // flagd's when "$schema" names flagd's flag schema
  // ("https://flagd.dev/schema/v0/flags.json"), else native.
  kAuto,
  kNative,  // docs/flag-format.md
  kFlagd,   // flagd's flag definitions (docs/openfeature.md)
};

struct CompileOptions {
  // Default: kAuto.
  DocumentFormat format = DocumentFormat::kAuto;
  // Default: kReject. SDKs that may talk to a newer server can choose
  // kFailClosed so an unknown operator disables one clause, not the whole set.
  UnknownOperatorPolicy unknown_operators = UnknownOperatorPolicy::kReject;
  // Documents larger than this are rejected. Default: 64 MiB.
  std::size_t max_document_bytes = std::size_t{64} << 20;
};

// One entry of a flagd flag's metadata: a string, number or bool.
struct MetadataValue {
  ValueType type = ValueType::kNone;  // kString, kNumber or kBool
  std::string string_value;
  double number_value = 0;
  bool bool_value = false;
};

// Hygiene metadata and shape of one flag, for tools (listing, staleness).
struct FlagInfo {
  std::string key;
  ValueType type = ValueType::kNone;
  bool killed = false;
  std::vector<std::string> variants;
  std::string owner;
  std::string ticket;
  std::string description;
  std::optional<absl::Time> expires;
  std::vector<std::string> tags;
  std::size_t rule_count = 0;
  std::size_t target_count = 0;
  std::size_t prerequisite_count = 0;
  // flagd flags: the flag's `metadata` over the flag set's (flag keys win),
  // in key order. Empty for native flags.
  std::vector<std::pair<std::string, MetadataValue>> metadata;
};

// What one clause of a rule did in Snapshot::Explain(). A clause whose
// attribute is missing or cannot be read by its operator fails closed: the
// rule does not match, whatever `negate` says.
enum class ClauseOutcome : std::uint8_t {
  kMatched,           // tested, and it holds (after `negate`)
  kNotMatched,        // tested, and it does not hold
  kMissingAttribute,  // skipped: the context has no such attribute
  kWrongType,         // skipped: the attribute's type does not fit the operator
  kInvalidValue,      // skipped: a string that is not a semver / RFC 3339
                      // time, or a number out of a time's range
  kNotEvaluated,      // an earlier clause of the rule already failed
};

// Returns "matched", "not matched", "missing attribute", "wrong type",
// "invalid value" or "not evaluated".
HOTFIX_EXPORT std::string_view ClauseOutcomeName(
    ClauseOutcome outcome) noexcept;

struct ClauseExplanation {
  ClauseOutcome outcome = ClauseOutcome::kNotEvaluated;
  // The attribute tested; empty for `segment` clauses and for `before` /
  // `after` clauses that compare the evaluation time.
  std::string attribute;
  // The operator as written in docs/flag-format.md ("in" also for "eq").
  std::string op;
  bool negate = false;
  // kWrongType: what the operator reads ("string", "number", "bool",
  // "string or number") and what the context holds. kInvalidValue: what
  // the operator reads ("semver", "RFC 3339 time", ...) and the attribute's
  // type.
  std::string expected_type;
  std::string actual_type;
};

struct RuleExplanation {
  // Every clause of the rule, in order; after the first that does not hold,
  // kNotEvaluated (evaluation stops there).
  std::vector<ClauseExplanation> clauses;
  // Every clause held (and, for flagd rules, the targeting expression).
  bool matched = false;
  // The rule serves a percentage split bucketed by this attribute.
  bool split = false;
  std::string bucket_by;
  // The rule matched, but its split found no string value for `bucket_by`:
  // the rule is passed over.
  bool missing_bucket_key = false;
};

struct PrerequisiteExplanation {
  std::string flag;
  std::string required_variant;
  std::string served_variant;  // empty when it served none
  bool passed = false;
};

// Explanation
//
// One evaluation step by step, from Snapshot::Explain(). `detail` is exactly
// what Evaluate() returns for the same arguments: both run the same code.
struct Explanation {
  EvaluationDetail detail;
  // Prerequisites checked, in order; evaluation stops at the first that fails.
  std::vector<PrerequisiteExplanation> prerequisites;
  // Rules tested, in order, up to the one that decided (later rules are not
  // tested and not listed).
  std::vector<RuleExplanation> rules;
  // The fallthrough serves a percentage split bucketed by this attribute.
  bool fallthrough_split = false;
  std::string fallthrough_bucket_by;
};

// Up to `max_errors` compile errors and how many there were in all.
struct CompileErrors {
  // "<json path>: <problem>", in the order the compiler meets them; the first
  // is Compile()'s error message.
  std::vector<std::string> messages;
  // Every error found; more than messages.size() when the limit cut the list.
  std::size_t total = 0;
};

class HOTFIX_EXPORT Snapshot {
 public:
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // The flag set's `version` field.
  std::uint64_t version() const noexcept;
  // Number of flags.
  std::size_t size() const noexcept;
  // Warnings recorded under UnknownOperatorPolicy::kFailClosed.
  const std::vector<std::string>& warnings() const noexcept;
  // The format the document was written in.
  DocumentFormat format() const noexcept;
  // flagd documents: the flag set's `metadata`, in key order.
  std::vector<std::pair<std::string, MetadataValue>> SetMetadata() const;

  // Evaluate()
  //
  // Evaluates `flag` for `context`. When `expected` is not kNone and the flag's
  // type differs, returns reason kError / kTypeMismatch with no value.
  // Time-based clauses without an attribute compare against `now`.
  //
  // Cost: one hash lookup plus the flag's rules; no allocation, no lock
  // (RE2 `matches` clauses may take RE2's internal cache lock).
  EvaluationDetail Evaluate(
      std::string_view flag, const Context& context = {},
      ValueType expected = ValueType::kNone) const noexcept;
  EvaluationDetail Evaluate(std::string_view flag, const Context& context,
                            ValueType expected, absl::Time now) const noexcept;

  // Explain()
  //
  // Evaluate(), recording each step: prerequisites, then per rule and per
  // clause whether it matched, was skipped because its attribute is missing
  // or of the wrong type, or was not reached; then what decided. For tools
  // (hotfixctl eval --explain); Evaluate() does not pay for it.
  //
  // Cost: allocates the explanation.
  Explanation Explain(std::string_view flag, const Context& context = {},
                      ValueType expected = ValueType::kNone) const;
  Explanation Explain(std::string_view flag, const Context& context,
                      ValueType expected, absl::Time now) const;

  // Returns true if the snapshot holds `flag`.
  bool Contains(std::string_view flag) const noexcept;

  // Flags()
  //
  // Metadata of every flag, in key order. Cost: allocates the whole list.
  std::vector<FlagInfo> Flags() const;

  // Info()
  //
  // Metadata of `flag`, or nullopt if the snapshot has no such flag.
  // Cost: a hash lookup; allocates one FlagInfo.
  std::optional<FlagInfo> Info(std::string_view flag) const;

  // Internal: the compiled form, used by Client and the evaluation engine.
  const internal::CompiledFlagSet& compiled() const noexcept { return *impl_; }

 private:
  friend struct internal::SnapshotAccess;
  explicit Snapshot(std::unique_ptr<internal::CompiledFlagSet> impl);
  std::unique_ptr<internal::CompiledFlagSet> impl_;
};

// Compile()
//
// Parses and validates a flag-set document — native (docs/flag-format.md) or
// flagd's flag definitions (docs/openfeature.md), see CompileOptions::format
// — into a Snapshot. Errors are InvalidArgument with a message naming the JSON
// path and the problem, e.g.
//   flags.fix-123.rules[2].if[0].op: unknown operator "betwen"
//
// Cost: allocates the whole snapshot; about 2 µs per simple flag.
HOTFIX_EXPORT absl::StatusOr<std::unique_ptr<const Snapshot>> Compile(
    std::string_view json, const CompileOptions& options = {});

// ListCompileErrors()
//
// Compiles `json` like Compile() but does not stop at the first error: lists
// up to `max_errors` errors (at least one) that do not follow from one
// another — errors in different flags, segments, rules or clauses, or in
// different fields of one flag — each naming its JSON path as Compile()'s
// message does. An error that would only repeat an earlier one is left out
// (nothing more is checked in a flag whose `variants` fail). A syntax error,
// a flagd document or a document of the wrong shape gives one error. Empty
// when `json` compiles.
//
// Cost: one whole compilation (the document is not compiled twice).
//
// Example:
//
//   CompileErrors errors = ListCompileErrors(text);
//   for (const std::string& m : errors.messages) std::cerr << m << "\n";
//   if (errors.total > errors.messages.size()) { /* "and N more" */ }
HOTFIX_EXPORT CompileErrors
ListCompileErrors(std::string_view json, const CompileOptions& options = {},
                  std::size_t max_errors = 20);

}  // namespace hotfix

#endif  // HOTFIX_SNAPSHOT_H_
