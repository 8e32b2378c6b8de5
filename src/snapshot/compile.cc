// src/snapshot/compile.cc
//
// The native-format compiler: JSON text → RapidJSON DOM → CompiledFlagSet.
// It is the correctness boundary of the library: every document either
// compiles into a complete, self-consistent flag set or is rejected with an
// InvalidArgument error "<json path>: <problem>". Nothing here is on the
// evaluation path, but Compile() runs on every reload, so the success path
// avoids per-node string building: JSON paths are linked lists of stack
// frames that are rendered only when an error is reported.
//
// Decisions the spec (docs/flag-format.md) leaves open, resolved strictly:
// - Strings must be valid UTF-8; numbers are converted to the nearest
//   double, and numbers that overflow a double or underflow to zero are
//   errors.
// - Documents may nest at most kMaxJsonDepth levels (bounds memory and stack).
// - A NUL byte after the root value is an error.
// - `$schema` and `x-*` are ignored in objects with a fixed set of fields;
//   in maps of user-chosen names (flags, segments, variants) every member is
//   an entry, so a flag called "x-ray" is a flag, never silently dropped.
// - A rule needs both `if` and `serve`; a segment rule needs `if`.
// - Attributes, `bucket_by` and variant names must be non-empty.
// - A variant may appear only once in a split; a flag may name another flag
//   only once among its prerequisites; a key only once in a segment's
//   `included` (likewise `excluded`).
// - Under UnknownOperatorPolicy::kFailClosed the values of an unknown
//   operator are not type-checked (a newer server may give them any shape).

#include "snapshot/compile.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eval/evaluate.h"
#include "hotfix/value.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "re2/re2.h"
#include "snapshot/fingerprint.h"
#include "snapshot/flagd_compile.h"
#include "snapshot/json_reader.h"
#include "util/bucket.h"
#include "util/keys.h"
#include "util/semver.h"
#include "util/status_macros.h"
#include "util/strings.h"
#include "util/time_parse.h"

namespace hotfix {
namespace internal {
namespace {

constexpr std::size_t kMaxRegexBytes = 4096;
constexpr std::int64_t kRegexMaxMem = std::int64_t{1} << 20;
// Flags with more variants than this get a name → index map while compiling.
constexpr std::size_t kVariantIndexThreshold = 16;

// The type as error messages name it: ValueTypeName(), but "JSON object or
// array" for kJson, which says more than "json".
std::string_view TypeLabel(ValueType type) {
  if (type == ValueType::kJson) return "JSON object or array";
  return ValueTypeName(type);
}

// "90", "99.5", "100.001": a count of 0.001 % buckets as a percentage.
std::string FormatMilli(std::uint64_t milli) {
  std::string out = absl::StrCat(milli / 1000);
  std::uint64_t frac = milli % 1000;
  if (frac != 0) {
    char digits[4] = {static_cast<char>('0' + frac / 100),
                      static_cast<char>('0' + frac / 10 % 10),
                      static_cast<char>('0' + frac % 10), 0};
    std::size_t n = 3;
    while (digits[n - 1] == '0') --n;
    absl::StrAppend(&out, ".", absl::string_view(digits, n));
  }
  return out;
}

struct OpName {
  std::string_view name;
  Op op;
};
constexpr OpName kOps[] = {
    {"eq", Op::kIn},
    {"in", Op::kIn},
    {"not_in", Op::kNotIn},
    {"starts_with", Op::kStartsWith},
    {"ends_with", Op::kEndsWith},
    {"contains", Op::kContains},
    {"matches", Op::kMatches},
    {"lt", Op::kLt},
    {"lte", Op::kLte},
    {"gt", Op::kGt},
    {"gte", Op::kGte},
    {"semver_eq", Op::kSemverEq},
    {"semver_lt", Op::kSemverLt},
    {"semver_lte", Op::kSemverLte},
    {"semver_gt", Op::kSemverGt},
    {"semver_gte", Op::kSemverGte},
    {"before", Op::kBefore},
    {"after", Op::kAfter},
    {"segment", Op::kSegment},
};

const Op* LookupOp(std::string_view name) {
  for (const OpName& entry : kOps) {
    if (entry.name == name) return &entry.op;
  }
  return nullptr;
}

bool IsSemverOp(Op op) {
  return op == Op::kSemverEq || op == Op::kSemverLt || op == Op::kSemverLte ||
         op == Op::kSemverGt || op == Op::kSemverGte;
}

// A member of the `flags` or `segments` map.
struct KeyedMember {
  std::string_view key;
  const Json* value;
  std::uint32_t doc_index;  // position in the document
};

// Per-flag state that only compilation needs.
struct FlagWork {
  const Json* json = nullptr;
  // Variant names of prerequisites, parallel to CompiledFlag::prerequisites;
  // resolved once every flag's variants are known.
  std::vector<std::string_view> prerequisite_variants;
  // Segments referenced by the flag's clauses (fingerprint inputs).
  std::vector<std::uint32_t> segment_refs;
  // For flags with many variants: name → index.
  absl::flat_hash_map<absl::string_view, std::int32_t> variant_index;
  // The variants compiled: other flags' prerequisites may name them.
  bool variants_compiled = false;
};

class Compiler {
 public:
  Compiler(const CompileOptions& options, StringPool* pool,
           CompiledFlagSet* out, CompileErrorList* errors)
      : options_(options),
        pool_(pool),
        out_(out),
        errors_(errors),
        writer_(buffer_) {}

  // Compiles `root`. Errors compilation can continue past are recorded in
  // `errors` (see Recover()); a non-OK return is either the error that
  // stopped compilation (already recorded) or one nothing recovered from.
  absl::Status Run(const Json& root);

 private:
  // Recover()
  //
  // Called where what follows does not depend on what `status` was about
  // (another flag, segment, rule or clause; another field of a flag): records
  // an error and returns OK so compilation goes on, or returns the error
  // when the list has reached its limit (always after the first error for
  // Compile(), which therefore stops exactly where a fail-fast compiler
  // would). An error already recorded passes through unchanged.
  absl::Status Recover(absl::Status status);

  absl::Status CollectKeys(const Json& map, const Path& path,
                           std::string_view what,
                           std::vector<KeyedMember>* sorted,
                           std::vector<std::uint32_t>* position);
  absl::Status CompileSegments(const Json& map, const Path& path);
  absl::Status CompileSegment(const Json& v, const Path& path,
                              CompiledSegment* segment);
  absl::Status CompileKeySet(const Json& v, const Path& path,
                             absl::flat_hash_set<std::string>* out);
  absl::Status CompileFlags(const Json& map, const Path& path);
  absl::Status CompileFlag(const Json& v, const Path& path, std::uint32_t self,
                           CompiledFlag* flag, FlagWork* work);
  absl::Status CompileVariants(const Json& v, const Path& path,
                               CompiledFlag* flag, FlagWork* work);
  absl::Status ResolveVariant(const Json& v, const Path& path,
                              const CompiledFlag& flag, const FlagWork& work,
                              std::int32_t* out) const;
  absl::Status CompileServe(const Json& v, const Path& path,
                            const CompiledFlag& flag, const FlagWork& work,
                            Serve* out) const;
  absl::Status CompileRollout(const Json& v, const Path& path,
                              const CompiledFlag& flag, const FlagWork& work,
                              Rollout* out) const;
  absl::Status CompileTargets(const Json& v, const Path& path,
                              CompiledFlag* flag, const FlagWork& work);
  absl::Status CompilePrerequisites(const Json& v, const Path& path,
                                    std::uint32_t self, CompiledFlag* flag,
                                    FlagWork* work);
  absl::Status CompileRules(const Json& v, const Path& path, CompiledFlag* flag,
                            FlagWork* work);
  absl::Status CompileClauses(const Json& v, const Path& path, bool in_segment,
                              std::vector<Clause>* out,
                              std::vector<std::uint32_t>* segment_refs);
  absl::Status CompileClause(const Json& v, const Path& path, bool in_segment,
                             Clause* clause,
                             std::vector<std::uint32_t>* segment_refs);
  absl::Status CompileClauseValue(const Json& x, const Path& path,
                                  std::size_t i, Clause* clause,
                                  std::vector<std::uint32_t>* segment_refs);
  absl::Status CompileGuard(const Json& v, const Path& path, CompiledFlag* flag,
                            const FlagWork& work) const;
  absl::Status CompileMeta(const Json* const* fields, const Path& path,
                           FlagMeta* meta);
  absl::Status ResolvePrerequisiteVariants();
  absl::Status CheckPrerequisiteGraph();
  void ComputeFingerprints();

  std::int32_t FindVariant(const CompiledFlag& flag, const FlagWork& work,
                           std::string_view name) const;
  std::string_view Serialize(const Json& v);

  const CompileOptions& options_;
  StringPool* pool_;
  CompiledFlagSet* out_;
  CompileErrorList* errors_;
  std::vector<FlagWork> work_;             // parallel to out_->flags
  std::vector<const Json*> segment_json_;  // parallel to out_->segments
  absl::flat_hash_map<absl::string_view, std::uint32_t> segment_index_;
  std::vector<std::uint32_t> dependency_order_;  // prerequisites first
  rapidjson::StringBuffer buffer_;               // for Serialize()
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
  std::string canonical_;  // scratch for HashJson()
};

absl::Status Compiler::Recover(absl::Status status) {
  if (status.ok() || errors_->stopped()) return status;
  errors_->Add(status);
  return errors_->stopped() ? status : absl::OkStatus();
}

std::string_view Compiler::Serialize(const Json& v) {
  buffer_.Clear();
  writer_.Reset(buffer_);
  v.Accept(writer_);
  return std::string_view(buffer_.GetString(), buffer_.GetSize());
}

absl::Status Compiler::Run(const Json& root) {
  const Path path;
  enum { kVersion, kFlags, kSegments, kEnvironment, kCount };
  static constexpr std::string_view kNames[kCount] = {
      "version", "flags", "segments", "environment"};
  const Json* f[kCount] = {};
  HOTFIX_RETURN_IF_ERROR(ReadObject(root, path, kNames, f));

  if (f[kVersion] == nullptr) {
    HOTFIX_RETURN_IF_ERROR(Recover(Missing(path, "version")));
  } else if (!f[kVersion]->IsUint64()) {
    HOTFIX_RETURN_IF_ERROR(
        Recover(Error(Path(path, "version"), "expected an unsigned integer")));
  } else {
    out_->version = f[kVersion]->GetUint64();
  }
  if (f[kEnvironment] != nullptr) {
    std::string_view unused;
    HOTFIX_RETURN_IF_ERROR(Recover(
        ReadString(*f[kEnvironment], Path(path, "environment"), &unused)));
  }
  if (f[kFlags] == nullptr) return Missing(path, "flags");
  if (f[kSegments] != nullptr) {
    // Not recovered: flags naming segments would only repeat the error.
    HOTFIX_RETURN_IF_ERROR(
        CompileSegments(*f[kSegments], Path(path, "segments")));
  }
  HOTFIX_RETURN_IF_ERROR(CompileFlags(*f[kFlags], Path(path, "flags")));
  HOTFIX_RETURN_IF_ERROR(Recover(ResolvePrerequisiteVariants()));
  HOTFIX_RETURN_IF_ERROR(Recover(CheckPrerequisiteGraph()));
  if (errors_->count() == 0) ComputeFingerprints();
  return absl::OkStatus();
}

absl::Status Compiler::CollectKeys(const Json& map, const Path& path,
                                   std::string_view what,
                                   std::vector<KeyedMember>* sorted,
                                   std::vector<std::uint32_t>* position) {
  if (!map.IsObject()) return Error(path, "expected an object");
  sorted->reserve(map.MemberCount());
  std::uint32_t i = 0;
  for (auto m = map.MemberBegin(); m != map.MemberEnd(); ++m, ++i) {
    const std::string_view key = View(m->name);
    if (!IsValidKey(key)) {
      // The entry is still compiled: a bad name hides no other error.
      HOTFIX_RETURN_IF_ERROR(Recover(
          Error(Path(path, key),
                absl::StrCat("invalid ", ToAbsl(what), " key ", Quote(key),
                             ": must be 1-256 characters of [A-Za-z0-9._-]"))));
    }
    sorted->push_back(KeyedMember{key, &m->value, i});
  }
  std::sort(sorted->begin(), sorted->end(),
            [](const KeyedMember& a, const KeyedMember& b) {
              return a.key < b.key ||
                     (a.key == b.key && a.doc_index < b.doc_index);
            });
  position->resize(sorted->size());
  for (std::size_t k = 0; k < sorted->size(); ++k) {
    if (k > 0 && (*sorted)[k].key == (*sorted)[k - 1].key) {
      return DuplicateKey(path, (*sorted)[k].key);
    }
    (*position)[(*sorted)[k].doc_index] = static_cast<std::uint32_t>(k);
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileSegments(const Json& map, const Path& path) {
  std::vector<KeyedMember> sorted;
  std::vector<std::uint32_t> position;
  HOTFIX_RETURN_IF_ERROR(CollectKeys(map, path, "segment", &sorted, &position));
  out_->segments.resize(sorted.size());
  segment_json_.resize(sorted.size());
  segment_index_.reserve(sorted.size());
  for (std::uint32_t k = 0; k < sorted.size(); ++k) {
    out_->segments[k].key.assign(sorted[k].key);
    segment_json_[k] = sorted[k].value;
    segment_index_.emplace(ToAbsl(sorted[k].key), k);
  }
  // Compile in document order so the first error reported is the first one
  // a reader meets.
  std::uint32_t i = 0;
  for (auto m = map.MemberBegin(); m != map.MemberEnd(); ++m, ++i) {
    HOTFIX_RETURN_IF_ERROR(Recover(CompileSegment(
        m->value, Path(path, View(m->name)), &out_->segments[position[i]])));
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileKeySet(const Json& v, const Path& path,
                                     absl::flat_hash_set<std::string>* out) {
  HOTFIX_RETURN_IF_ERROR(ReadArray(v, path));
  out->reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const Path item(path, std::size_t{i});
    std::string_view key;
    HOTFIX_RETURN_IF_ERROR(ReadString(v[i], item, &key));
    if (!out->emplace(key).second) {
      return Error(item, absl::StrCat("duplicate key ", Quote(key)));
    }
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileSegment(const Json& v, const Path& path,
                                      CompiledSegment* segment) {
  enum { kIncluded, kExcluded, kRules, kCount };
  static constexpr std::string_view kNames[kCount] = {"included", "excluded",
                                                      "rules"};
  const Json* f[kCount] = {};
  HOTFIX_RETURN_IF_ERROR(ReadObject(v, path, kNames, f));
  if (f[kIncluded] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(Recover(CompileKeySet(
        *f[kIncluded], Path(path, "included"), &segment->included)));
  }
  if (f[kExcluded] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(Recover(CompileKeySet(
        *f[kExcluded], Path(path, "excluded"), &segment->excluded)));
  }
  if (f[kRules] != nullptr) {
    const Path rules_path(path, "rules");
    const Json& rules = *f[kRules];
    HOTFIX_RETURN_IF_ERROR(ReadArray(rules, rules_path));
    segment->rules.resize(rules.Size());
    for (rapidjson::SizeType i = 0; i < rules.Size(); ++i) {
      const Path rule_path(rules_path, std::size_t{i});
      enum { kIf, kRuleCount };
      static constexpr std::string_view kRuleNames[kRuleCount] = {"if"};
      const Json* r[kRuleCount] = {};
      absl::Status st = ReadObject(rules[i], rule_path, kRuleNames, r);
      if (st.ok() && r[kIf] == nullptr) st = Missing(rule_path, "if");
      if (st.ok()) {
        st = CompileClauses(*r[kIf], Path(rule_path, "if"),
                            /*in_segment=*/true, &segment->rules[i], nullptr);
      }
      HOTFIX_RETURN_IF_ERROR(Recover(std::move(st)));
    }
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileFlags(const Json& map, const Path& path) {
  std::vector<KeyedMember> sorted;
  std::vector<std::uint32_t> position;
  HOTFIX_RETURN_IF_ERROR(CollectKeys(map, path, "flag", &sorted, &position));
  const std::size_t n = sorted.size();
  out_->flags.resize(n);
  work_.resize(n);
  out_->index.reserve(n);
  for (std::uint32_t k = 0; k < n; ++k) {
    out_->flags[k].key.assign(sorted[k].key);
    work_[k].json = sorted[k].value;
    out_->index.emplace(sorted[k].key, FlagSlot{k});
  }
  std::uint32_t i = 0;
  for (auto m = map.MemberBegin(); m != map.MemberEnd(); ++m, ++i) {
    const std::uint32_t k = position[i];
    HOTFIX_RETURN_IF_ERROR(Recover(CompileFlag(
        m->value, Path(path, View(m->name)), k, &out_->flags[k], &work_[k])));
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileFlag(const Json& v, const Path& path,
                                   std::uint32_t self, CompiledFlag* flag,
                                   FlagWork* work) {
  enum {
    kVariants,
    kDefault,
    kOffVariant,
    kKilled,
    kEnabled,
    kPrerequisites,
    kTargets,
    kRules,
    kOwner,
    kTicket,
    kDescription,
    kExpires,
    kTags,
    kGuard,
    kCount
  };
  static constexpr std::string_view kNames[kCount] = {
      "variants",      "default", "off_variant", "killed", "enabled",
      "prerequisites", "targets", "rules",       "owner",  "ticket",
      "description",   "expires", "tags",        "guard"};
  const Json* f[kCount] = {};
  HOTFIX_RETURN_IF_ERROR(ReadObject(v, path, kNames, f));

  // Everything else names variants: without them, stop at this flag.
  if (f[kVariants] == nullptr) return Missing(path, "variants");
  HOTFIX_RETURN_IF_ERROR(
      CompileVariants(*f[kVariants], Path(path, "variants"), flag, work));
  work->variants_compiled = true;

  // From here on each field is checked even when another one failed.
  if (f[kDefault] == nullptr) {
    HOTFIX_RETURN_IF_ERROR(Recover(Missing(path, "default")));
  } else {
    HOTFIX_RETURN_IF_ERROR(
        Recover(CompileServe(*f[kDefault], Path(path, "default"), *flag, *work,
                             &flag->fallthrough)));
  }
  if (f[kOffVariant] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(
        Recover(ResolveVariant(*f[kOffVariant], Path(path, "off_variant"),
                               *flag, *work, &flag->off_variant)));
  }
  bool killed = false;
  bool enabled = true;
  if (f[kKilled] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(
        Recover(ReadBool(*f[kKilled], Path(path, "killed"), &killed)));
  }
  if (f[kEnabled] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(
        Recover(ReadBool(*f[kEnabled], Path(path, "enabled"), &enabled)));
  }
  flag->killed = killed || !enabled;

  if (f[kPrerequisites] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(Recover(CompilePrerequisites(
        *f[kPrerequisites], Path(path, "prerequisites"), self, flag, work)));
  }
  if (f[kTargets] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(Recover(
        CompileTargets(*f[kTargets], Path(path, "targets"), flag, *work)));
  }
  if (f[kRules] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(
        Recover(CompileRules(*f[kRules], Path(path, "rules"), flag, work)));
  }
  HOTFIX_RETURN_IF_ERROR(Recover(CompileMeta(&f[kOwner], path, &flag->meta)));
  if (f[kGuard] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(
        Recover(CompileGuard(*f[kGuard], Path(path, "guard"), flag, *work)));
  }

  if (!flag->killed && flag->prerequisites.empty() && flag->targets.empty() &&
      flag->rules.empty() && flag->fallthrough.rollout == nullptr) {
    flag->static_variant = flag->fallthrough.variant;
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileGuard(const Json& v, const Path& path,
                                    CompiledFlag* flag,
                                    const FlagWork& work) const {
  enum { kMaxFailureRate, kMinSamples, kWindow, kCompareTo, kCount };
  static constexpr std::string_view kNames[kCount] = {
      "max_failure_rate", "min_samples", "window", "compare_to"};
  const Json* f[kCount] = {};
  HOTFIX_RETURN_IF_ERROR(ReadObject(v, path, kNames, f));
  auto guard = std::make_unique<GuardSpec>();
  if (f[kMaxFailureRate] == nullptr) return Missing(path, "max_failure_rate");
  const Json& rate = *f[kMaxFailureRate];
  if (!rate.IsNumber() || !(rate.GetDouble() >= 0.0) ||
      !(rate.GetDouble() < 1.0)) {
    return Error(Path(path, "max_failure_rate"),
                 "expected a number in [0, 1) (a fraction: 0.05 is 5%)");
  }
  guard->max_failure_rate = rate.GetDouble();
  if (f[kMinSamples] != nullptr) {
    const Json& n = *f[kMinSamples];
    if (!n.IsUint64() || n.GetUint64() < 1 || n.GetUint64() > 1000000000) {
      return Error(Path(path, "min_samples"),
                   "expected an integer from 1 to 1000000000");
    }
    guard->min_samples = n.GetUint64();
  }
  if (f[kWindow] != nullptr) {
    std::string_view text;
    HOTFIX_RETURN_IF_ERROR(
        ReadString(*f[kWindow], Path(path, "window"), &text));
    absl::Duration window;
    if (!absl::ParseDuration(ToAbsl(text), &window) ||
        window < absl::Seconds(1) || window > absl::Hours(24)) {
      return Error(Path(path, "window"),
                   absl::StrCat("expected a duration from 1s to 24h such as "
                                "\"30s\" or \"5m\", got ",
                                Quote(text)));
    }
    guard->window = window;
  }
  if (f[kCompareTo] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(ResolveVariant(*f[kCompareTo],
                                          Path(path, "compare_to"), *flag, work,
                                          &guard->compare_to));
  }
  guard->fallback =
      guard->compare_to >= 0 ? guard->compare_to : flag->off_variant;
  if (guard->fallback < 0) {
    return Error(path,
                 "a guard needs off_variant or compare_to: the variant "
                 "served once it trips");
  }
  if (flag->variants.size() < 2) {
    return Error(path,
                 "a guard needs a variant besides the one it falls "
                 "back to");
  }
  flag->guard = std::move(guard);
  return absl::OkStatus();
}

// `fields` points at owner, ticket, description, expires, tags (in that
// order) within CompileFlag's field array.
absl::Status Compiler::CompileMeta(const Json* const* fields, const Path& path,
                                   FlagMeta* meta) {
  static constexpr std::string_view kStringFields[] = {"owner", "ticket",
                                                       "description"};
  std::string* targets[] = {&meta->owner, &meta->ticket, &meta->description};
  for (int i = 0; i < 3; ++i) {
    if (fields[i] == nullptr) continue;
    std::string_view s;
    HOTFIX_RETURN_IF_ERROR(
        ReadString(*fields[i], Path(path, kStringFields[i]), &s));
    targets[i]->assign(s);
  }
  if (const Json* expires = fields[3]; expires != nullptr) {
    const Path expires_path(path, "expires");
    std::string_view text;
    HOTFIX_RETURN_IF_ERROR(ReadString(*expires, expires_path, &text));
    std::int64_t micros = 0;
    if (!ParseDateOrRfc3339(text, &micros)) {
      return Error(expires_path,
                   absl::StrCat("invalid time ", Quote(text),
                                ": expected RFC 3339 or YYYY-MM-DD"));
    }
    meta->expires = absl::FromUnixMicros(micros);
  }
  if (const Json* tags = fields[4]; tags != nullptr) {
    const Path tags_path(path, "tags");
    HOTFIX_RETURN_IF_ERROR(ReadArray(*tags, tags_path));
    meta->tags.reserve(tags->Size());
    for (rapidjson::SizeType i = 0; i < tags->Size(); ++i) {
      std::string_view tag;
      HOTFIX_RETURN_IF_ERROR(
          ReadString((*tags)[i], Path(tags_path, std::size_t{i}), &tag));
      meta->tags.emplace_back(tag);
    }
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileVariants(const Json& v, const Path& path,
                                       CompiledFlag* flag, FlagWork* work) {
  if (!v.IsObject()) return Error(path, "expected an object");
  if (v.MemberCount() == 0) return Error(path, "expected at least one variant");
  HOTFIX_RETURN_IF_ERROR(CheckDuplicateMembers(v, path));
  flag->variants.reserve(v.MemberCount());
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string_view name = View(m->name);
    const Path variant_path(path, name);
    if (name.empty())
      return Error(variant_path, "variant name must not be empty");
    const Json& value = m->value;
    ValueType type;
    if (value.IsBool()) {
      type = ValueType::kBool;
    } else if (value.IsString()) {
      type = ValueType::kString;
    } else if (value.IsNumber()) {
      type = ValueType::kNumber;
    } else if (value.IsObject() || value.IsArray()) {
      type = ValueType::kJson;
    } else {
      return Error(variant_path,
                   "expected a bool, string, number, object or array");
    }
    if (flag->variants.empty()) {
      flag->type = type;
    } else if (type != flag->type) {
      return Error(variant_path,
                   absl::StrCat("all variants must have one type: expected ",
                                ToAbsl(TypeLabel(flag->type)), ", got ",
                                ToAbsl(TypeLabel(type))));
    }
    Variant variant;
    variant.name = pool_->Intern(name);
    switch (type) {
      case ValueType::kBool:
        variant.value = Value::Bool(value.GetBool());
        break;
      case ValueType::kString:
        variant.value = Value::String(pool_->Intern(View(value)));
        break;
      case ValueType::kNumber:
        variant.value = Value::Number(value.GetDouble());
        break;
      case ValueType::kJson:
        HOTFIX_RETURN_IF_ERROR(CheckFreeJson(value, variant_path));
        variant.value = Value::Json(pool_->Intern(Serialize(value)));
        break;
      case ValueType::kNone:
        break;
    }
    flag->variants.push_back(variant);
  }
  if (flag->variants.size() > kVariantIndexThreshold) {
    work->variant_index.reserve(flag->variants.size());
    for (std::size_t i = 0; i < flag->variants.size(); ++i) {
      work->variant_index.emplace(ToAbsl(flag->variants[i].name),
                                  static_cast<std::int32_t>(i));
    }
  }
  return absl::OkStatus();
}

std::int32_t Compiler::FindVariant(const CompiledFlag& flag,
                                   const FlagWork& work,
                                   std::string_view name) const {
  if (!work.variant_index.empty()) {
    auto it = work.variant_index.find(ToAbsl(name));
    return it == work.variant_index.end() ? -1 : it->second;
  }
  for (std::size_t i = 0; i < flag.variants.size(); ++i) {
    if (flag.variants[i].name == name) return static_cast<std::int32_t>(i);
  }
  return -1;
}

absl::Status Compiler::ResolveVariant(const Json& v, const Path& path,
                                      const CompiledFlag& flag,
                                      const FlagWork& work,
                                      std::int32_t* out) const {
  std::string_view name;
  HOTFIX_RETURN_IF_ERROR(ReadString(v, path, &name));
  *out = FindVariant(flag, work, name);
  if (*out < 0)
    return Error(path, absl::StrCat("unknown variant ", Quote(name)));
  return absl::OkStatus();
}

absl::Status Compiler::CompileServe(const Json& v, const Path& path,
                                    const CompiledFlag& flag,
                                    const FlagWork& work, Serve* out) const {
  if (v.IsString()) return ResolveVariant(v, path, flag, work, &out->variant);
  if (!v.IsObject()) {
    return Error(path, "expected a variant name or an object");
  }
  enum { kVariant, kRollout, kCount };
  static constexpr std::string_view kNames[kCount] = {"variant", "rollout"};
  const Json* f[kCount] = {};
  HOTFIX_RETURN_IF_ERROR(ReadObject(v, path, kNames, f));
  if ((f[kVariant] == nullptr) == (f[kRollout] == nullptr)) {
    return Error(path, "expected exactly one of \"variant\" or \"rollout\"");
  }
  if (f[kVariant] != nullptr) {
    return ResolveVariant(*f[kVariant], Path(path, "variant"), flag, work,
                          &out->variant);
  }
  auto rollout = std::make_unique<Rollout>();
  HOTFIX_RETURN_IF_ERROR(CompileRollout(*f[kRollout], Path(path, "rollout"),
                                        flag, work, rollout.get()));
  out->rollout = std::move(rollout);
  return absl::OkStatus();
}

absl::Status Compiler::CompileRollout(const Json& v, const Path& path,
                                      const CompiledFlag& flag,
                                      const FlagWork& work,
                                      Rollout* out) const {
  enum { kBucketBy, kSalt, kSplit, kCount };
  static constexpr std::string_view kNames[kCount] = {"bucket_by", "salt",
                                                      "split"};
  const Json* f[kCount] = {};
  HOTFIX_RETURN_IF_ERROR(ReadObject(v, path, kNames, f));
  if (f[kBucketBy] != nullptr) {
    std::string_view bucket_by;
    HOTFIX_RETURN_IF_ERROR(
        ReadNonEmptyString(*f[kBucketBy], Path(path, "bucket_by"), &bucket_by));
    out->bucket_by.assign(bucket_by);
  }
  if (f[kSalt] != nullptr) {
    std::string_view salt;
    HOTFIX_RETURN_IF_ERROR(ReadString(*f[kSalt], Path(path, "salt"), &salt));
    out->salt.assign(salt);
  } else {
    out->salt = flag.key;
  }
  if (f[kSplit] == nullptr) return Missing(path, "split");
  const Path split_path(path, "split");
  const Json& split = *f[kSplit];
  HOTFIX_RETURN_IF_ERROR(ReadArray(split, split_path));
  if (split.Empty()) return Error(split_path, "expected a non-empty array");

  std::vector<bool> used(flag.variants.size(), false);
  std::uint64_t total = 0;
  out->ranges.reserve(split.Size());
  for (rapidjson::SizeType i = 0; i < split.Size(); ++i) {
    const Path entry_path(split_path, std::size_t{i});
    enum { kVariant, kWeight, kEntryCount };
    static constexpr std::string_view kEntryNames[kEntryCount] = {"variant",
                                                                  "weight"};
    const Json* e[kEntryCount] = {};
    HOTFIX_RETURN_IF_ERROR(
        ReadRequiredObject(split[i], entry_path, kEntryNames, e));
    const Path variant_path(entry_path, "variant");
    std::int32_t variant = -1;
    HOTFIX_RETURN_IF_ERROR(
        ResolveVariant(*e[kVariant], variant_path, flag, work, &variant));
    if (used[variant]) {
      return Error(variant_path,
                   absl::StrCat("variant ", Quote(View(*e[kVariant])),
                                " appears more than once in the split"));
    }
    used[variant] = true;

    const Path weight_path(entry_path, "weight");
    if (!e[kWeight]->IsNumber()) return Error(weight_path, "expected a number");
    const double weight = e[kWeight]->GetDouble();
    if (!(weight >= 0)) {
      return Error(weight_path,
                   absl::StrCat("weight ", weight, " is negative"));
    }
    if (weight > 100) {
      return Error(weight_path,
                   absl::StrCat("weight ", weight, " exceeds 100"));
    }
    const double scaled = weight * 1000;
    const double rounded = std::round(scaled);
    if (std::fabs(scaled - rounded) > 1e-6) {
      return Error(weight_path, absl::StrCat("weight ", weight,
                                             " has more than 3 decimals"));
    }
    const auto buckets = static_cast<std::uint64_t>(rounded);
    if (buckets == 0) continue;  // an empty range serves no one
    total += buckets;
    out->ranges.emplace_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                 total, kBucketCount + 1)),
                             variant);
  }
  if (total != kBucketCount) {
    return Error(split_path, absl::StrCat("split weights sum to ",
                                          FormatMilli(total), ", must be 100"));
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileTargets(const Json& v, const Path& path,
                                      CompiledFlag* flag,
                                      const FlagWork& work) {
  HOTFIX_RETURN_IF_ERROR(ReadArray(v, path));
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const Path target_path(path, std::size_t{i});
    enum { kVariant, kKeys, kCount };
    static constexpr std::string_view kNames[kCount] = {"variant", "keys"};
    const Json* f[kCount] = {};
    HOTFIX_RETURN_IF_ERROR(ReadRequiredObject(v[i], target_path, kNames, f));
    std::int32_t variant = -1;
    HOTFIX_RETURN_IF_ERROR(ResolveVariant(
        *f[kVariant], Path(target_path, "variant"), *flag, work, &variant));
    const Path keys_path(target_path, "keys");
    const Json& keys = *f[kKeys];
    HOTFIX_RETURN_IF_ERROR(ReadArray(keys, keys_path));
    flag->targets.reserve(flag->targets.size() + keys.Size());
    for (rapidjson::SizeType j = 0; j < keys.Size(); ++j) {
      const Path key_path(keys_path, std::size_t{j});
      std::string_view key;
      HOTFIX_RETURN_IF_ERROR(ReadString(keys[j], key_path, &key));
      if (!flag->targets.emplace(key, variant).second) {
        return Error(key_path,
                     absl::StrCat("duplicate target key ", Quote(key)));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompilePrerequisites(const Json& v, const Path& path,
                                            std::uint32_t self,
                                            CompiledFlag* flag,
                                            FlagWork* work) {
  HOTFIX_RETURN_IF_ERROR(ReadArray(v, path));
  flag->prerequisites.reserve(v.Size());
  work->prerequisite_variants.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const Path item_path(path, std::size_t{i});
    enum { kFlag, kVariant, kCount };
    static constexpr std::string_view kNames[kCount] = {"flag", "variant"};
    const Json* f[kCount] = {};
    HOTFIX_RETURN_IF_ERROR(ReadRequiredObject(v[i], item_path, kNames, f));
    const Path flag_path(item_path, "flag");
    std::string_view key;
    HOTFIX_RETURN_IF_ERROR(ReadString(*f[kFlag], flag_path, &key));
    std::string_view variant;
    HOTFIX_RETURN_IF_ERROR(
        ReadString(*f[kVariant], Path(item_path, "variant"), &variant));
    const FlagSlot* slot = FindSlot(*out_, key);
    if (slot == nullptr) {
      return Error(flag_path, absl::StrCat("unknown flag ", Quote(key)));
    }
    if (slot->index == self) {
      return Error(flag_path, "a flag cannot be its own prerequisite");
    }
    for (const Prerequisite& p : flag->prerequisites) {
      if (p.flag == slot->index) {
        return Error(flag_path, absl::StrCat("duplicate prerequisite on flag ",
                                             Quote(key)));
      }
    }
    flag->prerequisites.push_back(Prerequisite{slot->index, -1});
    work->prerequisite_variants.push_back(variant);
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileRules(const Json& v, const Path& path,
                                    CompiledFlag* flag, FlagWork* work) {
  HOTFIX_RETURN_IF_ERROR(ReadArray(v, path));
  flag->rules.resize(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const Path rule_path(path, std::size_t{i});
    enum { kIf, kServe, kCount };
    static constexpr std::string_view kNames[kCount] = {"if", "serve"};
    const Json* f[kCount] = {};
    // Each rule, and its `if` and `serve`, are checked independently.
    absl::Status st = ReadObject(v[i], rule_path, kNames, f);
    if (!st.ok()) {
      HOTFIX_RETURN_IF_ERROR(Recover(std::move(st)));
      continue;
    }
    if (f[kIf] == nullptr) {
      HOTFIX_RETURN_IF_ERROR(Recover(Missing(rule_path, "if")));
    }
    if (f[kServe] == nullptr) {
      HOTFIX_RETURN_IF_ERROR(Recover(Missing(rule_path, "serve")));
    }
    Rule& rule = flag->rules[i];
    if (f[kIf] != nullptr) {
      HOTFIX_RETURN_IF_ERROR(Recover(
          CompileClauses(*f[kIf], Path(rule_path, "if"), /*in_segment=*/false,
                         &rule.clauses, &work->segment_refs)));
    }
    if (f[kServe] != nullptr) {
      HOTFIX_RETURN_IF_ERROR(Recover(CompileServe(
          *f[kServe], Path(rule_path, "serve"), *flag, *work, &rule.serve)));
    }
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileClauses(
    const Json& v, const Path& path, bool in_segment, std::vector<Clause>* out,
    std::vector<std::uint32_t>* segment_refs) {
  HOTFIX_RETURN_IF_ERROR(ReadArray(v, path));
  out->resize(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    HOTFIX_RETURN_IF_ERROR(
        Recover(CompileClause(v[i], Path(path, std::size_t{i}), in_segment,
                              &(*out)[i], segment_refs)));
  }
  return absl::OkStatus();
}

absl::Status Compiler::CompileClause(const Json& v, const Path& path,
                                     bool in_segment, Clause* clause,
                                     std::vector<std::uint32_t>* segment_refs) {
  enum { kAttribute, kOp, kValue, kValues, kNegate, kCount };
  static constexpr std::string_view kNames[kCount] = {
      "attribute", "op", "value", "values", "negate"};
  const Json* f[kCount] = {};
  HOTFIX_RETURN_IF_ERROR(ReadObject(v, path, kNames, f));

  if (f[kOp] == nullptr) return Missing(path, "op");
  const Path op_path(path, "op");
  std::string_view op_name;
  HOTFIX_RETURN_IF_ERROR(ReadString(*f[kOp], op_path, &op_name));
  const Path attribute_path(path, "attribute");
  std::string_view attribute;
  if (f[kAttribute] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(
        ReadNonEmptyString(*f[kAttribute], attribute_path, &attribute));
  }
  if (f[kNegate] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(
        ReadBool(*f[kNegate], Path(path, "negate"), &clause->negate));
  }

  const Op* op = LookupOp(op_name);
  if (op == nullptr) {
    const std::string problem =
        absl::StrCat("unknown operator ", Quote(op_name));
    if (options_.unknown_operators == UnknownOperatorPolicy::kReject) {
      return Error(op_path, problem);
    }
    // Fail closed: keep the clause (so an all-clauses-match rule cannot
    // match) but accept whatever values a newer format gives it.
    if (f[kValue] != nullptr) {
      HOTFIX_RETURN_IF_ERROR(CheckFreeJson(*f[kValue], Path(path, "value")));
    }
    if (f[kValues] != nullptr) {
      HOTFIX_RETURN_IF_ERROR(CheckFreeJson(*f[kValues], Path(path, "values")));
    }
    clause->op = Op::kNever;
    out_->warnings.push_back(absl::StrCat(op_path.ToString(), ": ", problem,
                                          "; clause never matches"));
    return absl::OkStatus();
  }
  clause->op = *op;

  if (*op == Op::kSegment) {
    if (in_segment) {
      return Error(op_path, "segment rules may not reference segments");
    }
    if (f[kAttribute] != nullptr) {
      return Error(attribute_path, "not allowed with op \"segment\"");
    }
  } else if (f[kAttribute] != nullptr) {
    clause->attribute.assign(attribute);
  } else if (*op == Op::kBefore || *op == Op::kAfter) {
    clause->use_now = true;
  } else {
    return Missing(path, "attribute");
  }

  if ((f[kValue] == nullptr) == (f[kValues] == nullptr)) {
    return Error(path, "expected exactly one of \"value\" or \"values\"");
  }
  if (f[kValue] != nullptr) {
    return CompileClauseValue(*f[kValue], Path(path, "value"), 0, clause,
                              segment_refs);
  }
  const Path values_path(path, "values");
  const Json& values = *f[kValues];
  HOTFIX_RETURN_IF_ERROR(ReadArray(values, values_path));
  if (values.Empty()) return Error(values_path, "expected a non-empty array");
  const std::size_t n = values.Size();
  switch (*op) {
    case Op::kMatches:
      clause->regexes.reserve(n);
      break;
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte:
      clause->numbers.reserve(n);
      break;
    case Op::kBefore:
    case Op::kAfter:
      clause->times_micros.reserve(n);
      break;
    case Op::kSegment:
      clause->segments.reserve(n);
      break;
    default:
      if (IsSemverOp(*op)) clause->semvers.reserve(n);
      clause->strings.reserve(n);
      break;
  }
  for (rapidjson::SizeType i = 0; i < values.Size(); ++i) {
    HOTFIX_RETURN_IF_ERROR(CompileClauseValue(
        values[i], Path(values_path, std::size_t{i}), i, clause, segment_refs));
  }
  if ((*op == Op::kIn || *op == Op::kNotIn) &&
      clause->strings.size() > Clause::kSmallSet) {
    clause->string_set.reserve(clause->strings.size());
    clause->string_set.insert(clause->strings.begin(), clause->strings.end());
  }
  return absl::OkStatus();
}

// Compiles the `i`th value of a clause whose op and attribute are set.
absl::Status Compiler::CompileClauseValue(
    const Json& x, const Path& path, std::size_t i, Clause* clause,
    std::vector<std::uint32_t>* segment_refs) {
  switch (clause->op) {
    case Op::kIn:
    case Op::kNotIn: {
      // All values share the type of the first.
      const bool first = i == 0;
      if (x.IsString()) {
        if (!first && clause->strings.empty()) {
          return Error(path, clause->numbers.empty()
                                 ? "expected a bool like the first value"
                                 : "expected a number like the first value");
        }
        clause->strings.emplace_back(View(x));
      } else if (x.IsNumber()) {
        if (!first && clause->numbers.empty()) {
          return Error(path, clause->strings.empty()
                                 ? "expected a bool like the first value"
                                 : "expected a string like the first value");
        }
        clause->numbers.push_back(x.GetDouble());
      } else if (x.IsBool()) {
        if (!first && !clause->match_true && !clause->match_false) {
          return Error(path, clause->strings.empty()
                                 ? "expected a number like the first value"
                                 : "expected a string like the first value");
        }
        (x.GetBool() ? clause->match_true : clause->match_false) = true;
      } else {
        return Error(path, "expected a string, number or bool");
      }
      return absl::OkStatus();
    }
    case Op::kStartsWith:
    case Op::kEndsWith:
    case Op::kContains: {
      std::string_view s;
      HOTFIX_RETURN_IF_ERROR(ReadString(x, path, &s));
      clause->strings.emplace_back(s);
      return absl::OkStatus();
    }
    case Op::kMatches: {
      std::string_view pattern;
      HOTFIX_RETURN_IF_ERROR(ReadString(x, path, &pattern));
      if (pattern.size() > kMaxRegexBytes) {
        return Error(
            path, absl::StrCat("regex of ", pattern.size(),
                               " bytes exceeds the limit of ", kMaxRegexBytes));
      }
      RE2::Options re_options;
      re_options.set_max_mem(kRegexMaxMem);
      re_options.set_log_errors(false);
      auto re = std::make_unique<RE2>(
          re2::StringPiece(pattern.data(), pattern.size()), re_options);
      if (!re->ok()) {
        return Error(path, absl::StrCat("invalid regex ", Quote(pattern), ": ",
                                        re->error()));
      }
      clause->regexes.push_back(std::move(re));
      return absl::OkStatus();
    }
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte:
      if (!x.IsNumber()) return Error(path, "expected a number");
      clause->numbers.push_back(x.GetDouble());
      return absl::OkStatus();
    case Op::kSemverEq:
    case Op::kSemverLt:
    case Op::kSemverLte:
    case Op::kSemverGt:
    case Op::kSemverGte: {
      std::string_view text;
      HOTFIX_RETURN_IF_ERROR(ReadString(x, path, &text));
      SemVer version;
      if (!ParseSemVer(text, &version)) {
        return Error(path, absl::StrCat("invalid semver ", Quote(text)));
      }
      // SemVer::prerelease is a view into the parsed text. Parse the pooled
      // copy: it never moves, unlike a short string inside `strings` (SSO)
      // when the Clause itself is moved.
      const std::string_view pooled = pool_->Intern(text);
      ParseSemVer(pooled, &version);
      clause->strings.emplace_back(text);
      clause->semvers.push_back(version);
      return absl::OkStatus();
    }
    case Op::kBefore:
    case Op::kAfter: {
      std::string_view text;
      HOTFIX_RETURN_IF_ERROR(ReadString(x, path, &text));
      std::int64_t micros = 0;
      if (!ParseRfc3339(text, &micros)) {
        return Error(path, absl::StrCat("invalid time ", Quote(text),
                                        ": expected RFC 3339, e.g. "
                                        "2026-01-31T12:00:00Z"));
      }
      clause->times_micros.push_back(micros);
      return absl::OkStatus();
    }
    case Op::kSegment: {
      std::string_view key;
      HOTFIX_RETURN_IF_ERROR(ReadString(x, path, &key));
      auto it = segment_index_.find(ToAbsl(key));
      if (it == segment_index_.end()) {
        return Error(path, absl::StrCat("unknown segment ", Quote(key)));
      }
      clause->segments.push_back(it->second);
      if (segment_refs != nullptr) segment_refs->push_back(it->second);
      return absl::OkStatus();
    }
    case Op::kNever:
    case Op::kSemverCoerced:  // flagd's sem_ver (flagd_compile.cc), not native
      break;
  }
  return absl::OkStatus();
}

absl::Status Compiler::ResolvePrerequisiteVariants() {
  for (std::size_t i = 0; i < out_->flags.size(); ++i) {
    CompiledFlag& flag = out_->flags[i];
    for (std::size_t j = 0; j < flag.prerequisites.size(); ++j) {
      Prerequisite& p = flag.prerequisites[j];
      // A flag whose variants did not compile has its own error already.
      if (!work_[p.flag].variants_compiled) continue;
      const std::string_view name = work_[i].prerequisite_variants[j];
      p.variant = FindVariant(out_->flags[p.flag], work_[p.flag], name);
      if (p.variant < 0) {
        const Path root;
        const Path flags_path(root, "flags");
        const Path flag_path(flags_path, flag.key);
        const Path list_path(flag_path, "prerequisites");
        const Path item_path(list_path, j);
        HOTFIX_RETURN_IF_ERROR(Recover(
            Error(Path(item_path, "variant"),
                  absl::StrCat("unknown variant ", Quote(name), " in flag ",
                               Quote(out_->flags[p.flag].key)))));
      }
    }
  }
  return absl::OkStatus();
}

// Rejects prerequisite cycles and chains deeper than kMaxPrerequisiteDepth;
// records a dependency order (every flag after its prerequisites).
absl::Status Compiler::CheckPrerequisiteGraph() {
  const std::size_t n = out_->flags.size();
  enum : std::uint8_t { kNew, kActive, kDone };
  std::vector<std::uint8_t> state(n, kNew);
  std::vector<int> depth(n, 0);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stack;  // flag, next
  dependency_order_.reserve(n);
  for (std::uint32_t root = 0; root < n; ++root) {
    if (state[root] != kNew) continue;
    if (out_->flags[root].prerequisites.empty()) {
      state[root] = kDone;
      dependency_order_.push_back(root);
      continue;
    }
    state[root] = kActive;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      const std::uint32_t node = stack.back().first;
      const std::uint32_t next = stack.back().second;
      const CompiledFlag& flag = out_->flags[node];
      if (next < flag.prerequisites.size()) {
        ++stack.back().second;
        const std::uint32_t dep = flag.prerequisites[next].flag;
        if (state[dep] == kActive) {
          std::string cycle;
          bool on_cycle = false;
          for (const auto& frame : stack) {
            on_cycle = on_cycle || frame.first == dep;
            if (on_cycle) {
              absl::StrAppend(&cycle, out_->flags[frame.first].key, " -> ");
            }
          }
          cycle += out_->flags[dep].key;
          const Path root_path;
          const Path flags_path(root_path, "flags");
          const Path flag_path(flags_path, flag.key);
          const Path list_path(flag_path, "prerequisites");
          const Path item_path(list_path, std::size_t{next});
          return Error(Path(item_path, "flag"),
                       absl::StrCat("prerequisite cycle: ", cycle));
        }
        if (state[dep] == kNew) {
          state[dep] = kActive;
          stack.emplace_back(dep, 0);
        }
        continue;
      }
      int d = 0;
      for (const Prerequisite& p : flag.prerequisites) {
        d = std::max(d, depth[p.flag] + 1);
      }
      if (d > kMaxPrerequisiteDepth) {
        const Path root_path;
        const Path flags_path(root_path, "flags");
        const Path flag_path(flags_path, flag.key);
        return Error(
            Path(flag_path, "prerequisites"),
            absl::StrCat("prerequisite chain ", d,
                         " deep exceeds the limit of ", kMaxPrerequisiteDepth));
      }
      depth[node] = d;
      state[node] = kDone;
      dependency_order_.push_back(node);
      stack.pop_back();
    }
  }
  return absl::OkStatus();
}

void Compiler::ComputeFingerprints() {
  std::vector<std::uint64_t> segment_hash(out_->segments.size());
  for (std::size_t s = 0; s < segment_hash.size(); ++s) {
    segment_hash[s] =
        HashJson(out_->segments[s].key, *segment_json_[s], &canonical_);
  }
  for (const std::uint32_t i : dependency_order_) {
    CompiledFlag& flag = out_->flags[i];
    std::uint64_t fp = HashJson(flag.key, *work_[i].json, &canonical_);
    for (const std::uint32_t s : work_[i].segment_refs) {
      fp = CombineFingerprint(fp, segment_hash[s]);
    }
    for (const Prerequisite& p : flag.prerequisites) {
      fp = CombineFingerprint(fp, out_->flags[p.flag].fingerprint);
    }
    flag.fingerprint = fp;
  }
}

}  // namespace

namespace {

// CompileFlagSet and CollectCompileErrors: returns the set, or nullptr with
// the errors in `errors`.
std::unique_ptr<CompiledFlagSet> CompileInto(std::string_view json,
                                             const CompileOptions& options,
                                             std::shared_ptr<StringPool> pool,
                                             CompileErrorList* errors) {
  if (json.size() > options.max_document_bytes) {
    errors->Add(absl::InvalidArgumentError(
        absl::StrCat("document of ", json.size(),
                     " bytes exceeds the limit of ", options.max_document_bytes,
                     " bytes (CompileOptions::max_document_bytes)")));
    return nullptr;
  }
  if (pool == nullptr) pool = std::make_shared<StringPool>();
  try {
    rapidjson::Document doc;
    absl::Status st = ParseDocument(json, &doc);
    auto set = std::make_unique<CompiledFlagSet>();
    set->strings = pool;
    const bool flagd =
        st.ok() &&
        (options.format == DocumentFormat::kFlagd ||
         (options.format == DocumentFormat::kAuto && IsFlagdDocument(doc)));
    if (!st.ok()) {
      // A syntax error: nothing to compile.
    } else if (flagd) {
      st = ExpandFlagdRefs(&doc, options.max_document_bytes);
      if (st.ok())
        st = CompileFlagdDocument(doc, options, pool.get(), set.get());
    } else {
      Compiler compiler(options, pool.get(), set.get(), errors);
      st = compiler.Run(doc);
    }
    // Not yet recorded: an error nothing recovered from.
    if (!st.ok() && !errors->stopped()) errors->Add(std::move(st));
    if (errors->count() > 0) return nullptr;
    for (auto& [key, slot] : set->index) {
      slot.enabled_answer = EnabledAnswer(set->flags[slot.index]);
    }
    return set;
  } catch (const std::bad_alloc&) {
    errors->Add(
        absl::ResourceExhaustedError("out of memory while compiling flag set"));
    return nullptr;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<CompiledFlagSet>> CompileFlagSet(
    std::string_view json, const CompileOptions& options,
    std::shared_ptr<StringPool> pool) {
  CompileErrorList errors(/*stop_after=*/1, /*keep=*/1);
  std::unique_ptr<CompiledFlagSet> set =
      CompileInto(json, options, std::move(pool), &errors);
  if (set == nullptr) return errors.kept().front();
  return set;
}

void CollectCompileErrors(std::string_view json, const CompileOptions& options,
                          CompileErrorList* errors) {
  CompileInto(json, options, nullptr, errors);
}

namespace {

void RenewRegexes(const std::vector<Clause>& clauses) {
  for (const Clause& clause : clauses) {
    // The set was allocated non-const; only its users see it as const.
    auto& regexes =
        const_cast<std::vector<std::unique_ptr<RE2>>&>(clause.regexes);
    for (std::unique_ptr<RE2>& re : regexes) {
      auto fresh = std::make_unique<RE2>(re->pattern(), re->options());
      re.release();  // NOLINT: abandoned (its locks may be held), see header
      re = std::move(fresh);
    }
  }
}

}  // namespace

void RenewRegexesInForkedChild(const CompiledFlagSet& set) {
  for (const CompiledFlag& flag : set.flags) {
    for (const Rule& rule : flag.rules) RenewRegexes(rule.clauses);
  }
  for (const CompiledSegment& segment : set.segments) {
    for (const std::vector<Clause>& rule : segment.rules) RenewRegexes(rule);
  }
}

std::unique_ptr<Snapshot> SnapshotAccess::Wrap(
    std::unique_ptr<CompiledFlagSet> set) {
  return std::unique_ptr<Snapshot>(new Snapshot(std::move(set)));
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<const Snapshot>> Compile(
    std::string_view json, const CompileOptions& options) {
  auto set = internal::CompileFlagSet(json, options,
                                      std::make_shared<internal::StringPool>());
  if (!set.ok()) return set.status();
  return std::unique_ptr<const Snapshot>(
      internal::SnapshotAccess::Wrap(*std::move(set)));
}

CompileErrors ListCompileErrors(std::string_view json,
                                const CompileOptions& options,
                                std::size_t max_errors) {
  internal::CompileErrorList list(
      /*stop_after=*/std::numeric_limits<std::size_t>::max(),
      /*keep=*/std::max<std::size_t>(max_errors, 1));
  CompileErrors errors;
  try {
    internal::CollectCompileErrors(json, options, &list);
    errors.total = list.count();
    errors.messages.reserve(list.kept().size());
    for (const absl::Status& status : list.kept()) {
      errors.messages.emplace_back(status.message());
    }
  } catch (const std::bad_alloc&) {
    // No exception leaves the library: what was listed, and the count.
    errors.total = std::max(list.count(), errors.messages.size());
  }
  return errors;
}

}  // namespace hotfix
