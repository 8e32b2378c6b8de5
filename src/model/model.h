// src/model/model.h
//
// The compiled representation of a flag set: what Compile() produces and what
// evaluation reads. Everything is parsed and validated once here so that
// evaluation is branchy arithmetic over plain data — no JSON, no parsing, no
// allocation. The representation is deliberately neutral (generic clause
// operators, per-rule bucketing attribute, salt and hash function, rule
// results that may be "no match") so that other formats compile into it:
// flagd's flag definitions do (snapshot/flagd_compile.cc), their JSON Logic
// targeting as a compiled expression (model/json_logic.h).
//
// Immutable after compilation; thread-safe to read.

#ifndef HOTFIX_SRC_MODEL_MODEL_H_
#define HOTFIX_SRC_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "hotfix/value.h"
#include "model/json_logic.h"
#include "model/string_pool.h"
#include "re2/re2.h"
#include "util/semver.h"

namespace hotfix {
namespace internal {

// Prerequisite chains may be at most this deep: the compiler rejects deeper
// ones, and evaluation stops there (serving the prerequisite's failure) so a
// model built some other way cannot recurse without bound.
inline constexpr int kMaxPrerequisiteDepth = 32;

enum class Op : std::uint8_t {
  kIn,     // "eq", "in"
  kNotIn,  // "not_in"
  kStartsWith,
  kEndsWith,
  kContains,
  kMatches,  // RE2 partial match
  kLt,
  kLte,
  kGt,
  kGte,
  kSemverEq,
  kSemverLt,
  kSemverLte,
  kSemverGt,
  kSemverGte,
  kBefore,
  kAfter,
  kSegment,
  kNever,  // unknown operator compiled under UnknownOperatorPolicy::kFailClosed
  // flagd's sem_ver: the attribute's text (numbers as JavaScript writes
  // them) normalized as flagd does (v stripped, trimmed, "1.2" coerced),
  // compared by `semver_op` (a JlSemVerOp) with semvers[0].
  kSemverCoerced,
};

struct Clause {
  // Attribute tested; "key" is the context key. Empty for kSegment, kNever, and
  // kBefore/kAfter that compare the evaluation time (use_now).
  std::string attribute;
  bool use_now = false;
  Op op = Op::kNever;
  bool negate = false;

  // Values, filled according to op and the JSON type of the values:
  // kIn/kNotIn: any of strings / numbers / bools; string/prefix/suffix/contains
  // ops: strings; kMatches: regexes; numeric ops: numbers; semver ops: semvers
  // (text also kept in `strings`); kBefore/kAfter: times_micros (Unix
  // microseconds); kSegment: segments (indexes into CompiledFlagSet::segments).
  std::vector<std::string> strings;
  // For kIn/kNotIn with more than kSmallSet strings, a hash set of the same.
  absl::flat_hash_set<std::string> string_set;
  static constexpr std::size_t kSmallSet = 8;
  std::vector<double> numbers;
  bool match_true = false;   // kIn/kNotIn: the values include true
  bool match_false = false;  // ... false
  std::vector<std::unique_ptr<RE2>> regexes;
  // Views into pooled copies of the text (CompiledFlagSet::strings), never
  // into `strings`: a short std::string's bytes move with the Clause (SSO).
  std::vector<SemVer> semvers;
  std::vector<std::int64_t> times_micros;
  std::vector<std::uint32_t> segments;
  std::uint8_t semver_op = 0;  // kSemverCoerced
};

// How a split turns its bucketing value into a bucket.
enum class BucketHash : std::uint8_t {
  // hotfix's rollouts: XXH3-64(salt ":" value) % kBucketCount, buckets of
  // 0.001 % (util/bucket.h).
  kXxh3Salted,
  // flagd's `fractional`: MurmurHash3_x86_32(salt + value) scaled to
  // [0, total) as (hash * total) >> 32 over integer weights
  // (util/murmur3.h); an empty value does not bucket.
  kMurmur3Weighted,
};

// A percentage split. `ranges` are (exclusive cumulative upper bound in
// buckets, variant index), ascending, last bound == `total` (kBucketCount
// for kXxh3Salted).
struct Rollout {
  std::string bucket_by = "key";
  std::string salt;
  BucketHash hash = BucketHash::kXxh3Salted;
  std::uint32_t total = 0;  // kMurmur3Weighted: the sum of the weights
  std::vector<std::pair<std::uint32_t, std::int32_t>> ranges;
};

// What a rule or the fallthrough serves: a fixed variant or a split.
struct Serve {
  // A rule whose result is null in flagd ({"if": [c, null, ...]}): the
  // evaluation ends at the fallthrough, as when no rule matches.
  static constexpr std::int32_t kFallThrough = -2;
  std::int32_t variant = -1;         // >= 0: fixed variant
  std::unique_ptr<Rollout> rollout;  // non-null: split
};

struct Rule {
  std::vector<Clause> clauses;  // all must match; empty matches
  Serve serve;
  // Non-null: the rule's result is this expression's value instead of
  // `serve` (flagd targeting): null means "no match, go on" (to the
  // fallthrough); anything else names the variant (as JavaScript's String()
  // would); an unknown name or an operator error is kError / kGeneral.
  std::unique_ptr<const JlProgram> expression;
};

struct Prerequisite {
  std::uint32_t flag = 0;    // index into CompiledFlagSet::flags
  std::int32_t variant = 0;  // index into that flag's variants
};

struct Variant {
  std::string_view name;  // interned
  Value value;            // string/JSON text interned
};

struct FlagMeta {
  std::string owner;
  std::string ticket;
  std::string description;
  std::optional<absl::Time> expires;
  std::vector<std::string> tags;
  // flagd flags: the flag's `metadata` over the flag set's (flag keys win),
  // primitives only (strings interned), in key order.
  std::vector<std::pair<std::string, Value>> metadata;
};

// A flag's local guard (docs/flag-format.md, "guard"): judged by the Client
// from the outcomes the application reports.
struct GuardSpec {
  // Limit on a guarded variant's failure rate in the window: absolute, or,
  // with compare_to and enough control outcomes, above the control's rate.
  double max_failure_rate = 0;
  // Outcomes a variant (and the control) needs in the window to be judged.
  std::uint64_t min_samples = 100;
  absl::Duration window = absl::Seconds(60);
  // The control variant (never judged itself), or -1.
  std::int32_t compare_to = -1;
  // What a tripped flag serves: compare_to, else the off variant.
  std::int32_t fallback = -1;
};

struct CompiledFlag {
  std::string key;
  // The variants' common type; kNone when a flagd flag mixes types.
  ValueType type = ValueType::kNone;
  // flagd semantics: the requested type is checked against the value served
  // (no value served, no mismatch), not against `type`.
  bool typed_by_value = false;
  std::vector<Variant> variants;
  std::int32_t off_variant = -1;  // -1: serve the caller's default when off
  bool killed = false;
  // >= 0 when the flag is not killed and has no prerequisites, targets or
  // rules, and its fallthrough is a fixed variant: the answer for every
  // context.
  std::int32_t static_variant = -1;
  std::vector<Prerequisite> prerequisites;
  absl::flat_hash_map<std::string, std::int32_t> targets;  // key -> variant
  std::vector<Rule> rules;
  Serve fallthrough;
  FlagMeta meta;
  // The local guard, null if none.
  std::unique_ptr<const GuardSpec> guard;
  // Set by the Client serving the set when the guard tripped in its process:
  // the flag is then also `killed`, with off_variant = guard->fallback, and
  // evaluation reports kGuardTripped instead of kKilled.
  bool guard_tripped = false;
  // Changes whenever the flag's evaluation could change: a hash of its own
  // definition and of the segments and prerequisite flags it depends on.
  std::uint64_t fingerprint = 0;
};

struct CompiledSegment {
  std::string key;
  absl::flat_hash_set<std::string> included;
  absl::flat_hash_set<std::string> excluded;
  std::vector<std::vector<Clause>> rules;  // any rule whose clauses all match
};

// "No counter": the evaluation served no variant, the flag counts nothing, or
// the counter id space is full (client/counters.h).
inline constexpr std::uint32_t kNoCounter = 0xFFFFFFFFu;

// What the by-name lookup finds for a key: the flag, and what the by-name
// Enabled() needs of it when its answer does not depend on the context. Kept
// in the hash index's own slot so that the hot path reads one cache line, not
// three (the slot, a byte array and a counter-id array).
struct FlagSlot {
  std::uint32_t index = 0;  // into CompiledFlagSet::flags
  // Client::Enabled()'s answer when it cannot depend on the context (1 true,
  // 0 false: static, killed, or not boolean), else -1.
  std::int8_t enabled_answer = -1;
  // The exposure counter of the variant that answer serves, filled by the
  // Client serving the set (client/telemetry.h).
  std::uint32_t static_counter = kNoCounter;
};

// The format a flag set was written in.
enum class SourceFormat : std::uint8_t { kNative, kFlagd };

struct CompiledFlagSet {
  std::uint64_t version = 0;
  SourceFormat format = SourceFormat::kNative;
  // flagd: the flag set's `metadata` (primitives, strings interned).
  std::vector<std::pair<std::string, Value>> metadata;
  std::vector<CompiledFlag> flags;                   // sorted by key
  absl::flat_hash_map<std::string, FlagSlot> index;  // key -> flags[i]
  std::vector<CompiledSegment> segments;
  std::vector<std::string> warnings;
  // Owner of every interned view above; shared with the Client.
  std::shared_ptr<StringPool> strings;
  // Exposure counters, filled by the Client serving the set (empty when it
  // counts nothing; client/telemetry.h): variant v of flag i counts into
  // counter_ids[counter_offset[i] + v] (the counter of Enabled()'s
  // context-independent answer is in the flag's FlagSlot).
  std::vector<std::uint32_t> counter_offset;
  std::vector<std::uint32_t> counter_ids;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_MODEL_MODEL_H_
