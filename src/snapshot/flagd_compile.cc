// src/snapshot/flagd_compile.cc
//
// flagd flag definitions → CompiledFlagSet. A flag becomes:
//   state DISABLED   → killed with no off variant (flagd's DISABLED: the
//                      caller's default, no variant, no error code)
//   defaultVariant   → the fallthrough (absent, null or "": none, so the
//                      caller's default with reason DEFAULT)
//   no targeting     → static (reason STATIC; DEFAULT without a default)
//   targeting        → a flagd `fractional` of constant variants and
//                      integer weights becomes a split with flagd's
//                      MurmurHash3 bucketing; an `if` chain of starts_with /
//                      ends_with / === / in / sem_ver on plain vars with
//                      constant results becomes native rules (a null result
//                      serves Serve::kFallThrough); anything else one rule
//                      holding the compiled JSON Logic expression, whose
//                      null result falls through to the default variant
//                      (reason DEFAULT) and whose other results name the
//                      variant (reason TARGETING_MATCH, hotfix's
//                      RULE_MATCH). The differential test holds every form
//                      to flagd-core's answers.
// Types are checked against the value served, as flagd does.

#include "snapshot/flagd_compile.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "eval/json_logic.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "snapshot/fingerprint.h"
#include "snapshot/json_logic_compile.h"
#include "util/formats.h"
#include "util/json_parse.h"
#include "util/keys.h"
#include "util/murmur3.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace hotfix {
namespace internal {
namespace {

std::string Serialize(const Json& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Reads a metadata object: primitives only.
absl::Status ReadMetadata(const Json& v, const Path& path, StringPool* pool,
                          std::vector<std::pair<std::string, Value>>* out) {
  if (!v.IsObject()) return Error(path, "expected an object");
  HOTFIX_RETURN_IF_ERROR(CheckDuplicateMembers(v, path));
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string_view key = View(m->name);
    const Json& x = m->value;
    Value value;
    if (x.IsString()) {
      value = Value::String(pool->Intern(View(x)));
    } else if (x.IsBool()) {
      value = Value::Bool(x.GetBool());
    } else if (x.IsNumber()) {
      value = Value::Number(x.GetDouble());
    } else {
      return Error(Path(path, key),
                   "metadata values are strings, numbers or booleans");
    }
    out->emplace_back(std::string(key), value);
  }
  return absl::OkStatus();
}

// Flag metadata over set metadata, flag keys winning, sorted by key.
std::vector<std::pair<std::string, Value>> Merge(
    const std::vector<std::pair<std::string, Value>>& set,
    const std::vector<std::pair<std::string, Value>>& flag) {
  std::vector<std::pair<std::string, Value>> out = flag;
  for (const auto& entry : set) {
    const bool shadowed =
        std::any_of(flag.begin(), flag.end(),
                    [&](const auto& f) { return f.first == entry.first; });
    if (!shadowed) out.push_back(entry);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// {"fractional": [[variant, weight]...]} with constant variants the flag
// has and integer weights: a split (flagd's bucketing of flagKey +
// targetingKey). Returns null when the targeting has any other shape.
std::unique_ptr<Rollout> SimpleFractional(const Json& targeting,
                                          const CompiledFlag& flag) {
  if (!targeting.IsObject() || targeting.MemberCount() != 1) return nullptr;
  const auto m = targeting.MemberBegin();
  if (View(m->name) != "fractional" || !m->value.IsArray() ||
      m->value.Empty()) {
    return nullptr;
  }
  auto rollout = std::make_unique<Rollout>();
  rollout->bucket_by = "key";
  rollout->salt = flag.key;
  rollout->hash = BucketHash::kMurmur3Weighted;
  std::uint64_t total = 0;
  for (const Json& entry : m->value.GetArray()) {
    if (!entry.IsArray() || entry.Size() < 1 || entry.Size() > 2 ||
        !entry[0].IsString()) {
      return nullptr;
    }
    std::int64_t weight = 1;
    if (entry.Size() == 2) {
      if (!entry[1].IsNumber()) return nullptr;
      const double w = entry[1].GetDouble();
      if (!std::isfinite(w) || std::floor(w) != w) return nullptr;
      weight =
          w < 0 ? 0 : (w > 4e9 ? 4000000000 : static_cast<std::int64_t>(w));
    }
    std::int32_t variant = -1;
    for (std::size_t i = 0; i < flag.variants.size(); ++i) {
      if (flag.variants[i].name == View(entry[0])) {
        variant = static_cast<std::int32_t>(i);
      }
    }
    if (variant < 0) return nullptr;  // the expression reports GENERAL
    if (weight == 0) continue;
    total += static_cast<std::uint64_t>(weight);
    if (total > kMaxFractionalWeight) return nullptr;
    rollout->ranges.emplace_back(static_cast<std::uint32_t>(total), variant);
  }
  if (total == 0) return nullptr;
  rollout->total = static_cast<std::uint32_t>(total);
  return rollout;
}

// Native clauses with exactly flagd's semantics for one condition atom:
// starts_with / ends_with / === / in / sem_ver of a plain {"var": name}
// against constants. None of these can throw, and each yields a boolean or
// null, which native clauses express as match / no match (failing closed on
// missing or mistyped attributes, as flagd's null is falsy).
bool TranslateAtom(const Json& c, StringPool* pool, Clause* clause) {
  if (!c.IsObject() || c.MemberCount() != 1) return false;
  const auto m = c.MemberBegin();
  const std::string_view op = View(m->name);
  const Json& args = m->value;
  if (!args.IsArray()) return false;
  auto attribute = [](const Json& v, std::string* out) {
    if (!v.IsObject() || v.MemberCount() != 1) return false;
    const auto var = v.FindMember("var");
    if (var == v.MemberEnd()) return false;
    const Json* name = &var->value;
    if (name->IsArray() && name->Size() == 1) name = &(*name)[0];
    if (!name->IsString()) return false;
    std::string unescaped;
    for (std::size_t i = 0; i < name->GetStringLength(); ++i) {
      const char ch = name->GetString()[i];
      if (ch == '\\' && i + 1 < name->GetStringLength() &&
          name->GetString()[i + 1] == '.') {
        continue;
      }
      unescaped.push_back(ch);
    }
    // Special names keep the expression path (their lookups differ).
    if (unescaped.empty() || unescaped == "targetingKey" ||
        unescaped.rfind("$flagd", 0) == 0 ||
        unescaped.find("../") != std::string::npos) {
      return false;
    }
    *out = std::move(unescaped);
    return true;
  };
  if ((op == "starts_with" || op == "ends_with") && args.Size() == 2 &&
      args[1].IsString()) {
    if (!attribute(args[0], &clause->attribute)) return false;
    clause->op = op == "starts_with" ? Op::kStartsWith : Op::kEndsWith;
    clause->strings.emplace_back(View(args[1]));
    return true;
  }
  if (op == "===" && args.Size() == 2) {
    const bool var_first = args[0].IsObject();
    const Json& constant = var_first ? args[1] : args[0];
    if (!attribute(var_first ? args[0] : args[1], &clause->attribute)) {
      return false;
    }
    clause->op = Op::kIn;
    if (constant.IsString()) {
      clause->strings.emplace_back(View(constant));
    } else if (constant.IsNumber()) {
      clause->numbers.push_back(constant.GetDouble());
    } else if (constant.IsBool()) {
      (constant.GetBool() ? clause->match_true : clause->match_false) = true;
    } else {
      return false;
    }
    return true;
  }
  if (op == "in" && args.Size() == 2 && args[1].IsArray() && !args[1].Empty()) {
    if (!attribute(args[0], &clause->attribute)) return false;
    clause->op = Op::kIn;
    const Json& list = args[1];
    for (const Json& x : list.GetArray()) {
      if (list[0].IsString() && x.IsString()) {
        clause->strings.emplace_back(View(x));
      } else if (list[0].IsNumber() && x.IsNumber()) {
        clause->numbers.push_back(x.GetDouble());
      } else {
        return false;  // mixed types, booleans, nested values
      }
    }
    if (clause->strings.size() > Clause::kSmallSet) {
      clause->string_set.insert(clause->strings.begin(), clause->strings.end());
    }
    return true;
  }
  if (op == "sem_ver" && args.Size() == 3 && args[1].IsString() &&
      args[2].IsString()) {
    if (!attribute(args[0], &clause->attribute)) return false;
    const JlSemVerOp code = SemVerOpCode(View(args[1]));
    SemVer target;
    const std::string_view text = pool->Intern(View(args[2]));
    if (code == kSemVerInvalid || !JsNormalizeSemVer(text, &target)) {
      return false;
    }
    clause->op = Op::kSemverCoerced;
    clause->semver_op = code;
    clause->semvers.push_back(target);
    return true;
  }
  return false;
}

// A condition as alternatives of clause lists: an atom, an `and` of atoms,
// or an `or` of those.
bool TranslateCondition(const Json& c, StringPool* pool,
                        std::vector<std::vector<Clause>>* out) {
  if (c.IsObject() && c.MemberCount() == 1) {
    const auto m = c.MemberBegin();
    const std::string_view op = View(m->name);
    if (op == "or" && m->value.IsArray() && !m->value.Empty()) {
      for (const Json& x : m->value.GetArray()) {
        if (x.IsObject() && x.HasMember("or")) return false;
        if (!TranslateCondition(x, pool, out)) return false;
      }
      return true;
    }
    if (op == "and" && m->value.IsArray() && !m->value.Empty()) {
      std::vector<Clause> all(m->value.Size());
      for (rapidjson::SizeType i = 0; i < m->value.Size(); ++i) {
        if (!TranslateAtom(m->value[i], pool, &all[i])) return false;
      }
      out->push_back(std::move(all));
      return true;
    }
  }
  std::vector<Clause> one(1);
  if (!TranslateAtom(c, pool, &one[0])) return false;
  out->push_back(std::move(one));
  return true;
}

// An `if` chain of translatable conditions whose results are constant
// variant names (or null: the flag's default) as native rules, which
// evaluate without the expression machinery. Returns false, leaving *rules
// alone, for any other targeting.
bool TranslateTargeting(const Json& t, const CompiledFlag& flag,
                        StringPool* pool, std::vector<Rule>* rules) {
  if (!t.IsObject() || t.MemberCount() != 1) return false;
  const auto m = t.MemberBegin();
  const std::string_view op = View(m->name);
  if ((op != "if" && op != "?:") || !m->value.IsArray() ||
      m->value.Size() < 2) {
    return false;
  }
  auto serve = [&](const Json& result, std::int32_t* variant) {
    if (result.IsNull()) {
      *variant = Serve::kFallThrough;
      return true;
    }
    if (!result.IsString()) return false;
    for (std::size_t i = 0; i < flag.variants.size(); ++i) {
      if (flag.variants[i].name == View(result)) {
        *variant = static_cast<std::int32_t>(i);
        return true;
      }
    }
    return false;  // an unknown variant: the expression reports GENERAL
  };
  const Json& chain = m->value;
  std::vector<Rule> out;
  rapidjson::SizeType i = 0;
  for (; i + 1 < chain.Size(); i += 2) {
    std::int32_t variant;
    if (!serve(chain[i + 1], &variant)) return false;
    std::vector<std::vector<Clause>> alternatives;
    if (!TranslateCondition(chain[i], pool, &alternatives)) return false;
    for (std::vector<Clause>& clauses : alternatives) {
      Rule rule;
      rule.clauses = std::move(clauses);
      rule.serve.variant = variant;
      out.push_back(std::move(rule));
    }
  }
  if (i < chain.Size()) {
    std::int32_t variant;
    if (!serve(chain[i], &variant)) return false;
    if (variant != Serve::kFallThrough) {
      Rule rule;
      rule.serve.variant = variant;
      out.push_back(std::move(rule));
    }
  }
  if (out.empty()) return false;
  *rules = std::move(out);
  return true;
}

// flagd builds targeting only when it has own keys: absent, null, {}, [],
// "", numbers and booleans mean "no targeting".
bool HasTargeting(const Json* t) {
  if (t == nullptr) return false;
  if (t->IsObject()) return t->MemberCount() > 0;
  if (t->IsArray()) return t->Size() > 0;
  if (t->IsString()) return t->GetStringLength() > 0;
  return false;
}

absl::Status CompileFlag(const Json& v, const Path& path,
                         const std::vector<std::pair<std::string, Value>>& set,
                         std::uint64_t set_hash, StringPool* pool,
                         CompiledFlag* flag, std::string* scratch) {
  enum { kState, kVariants, kDefaultVariant, kTargeting, kMetadata, kCount };
  static constexpr std::string_view kNames[kCount] = {
      "state", "variants", "defaultVariant", "targeting", "metadata"};
  const Json* f[kCount] = {};
  HOTFIX_RETURN_IF_ERROR(ReadObject(v, path, kNames, f));
  flag->typed_by_value = true;

  if (f[kState] == nullptr) return Missing(path, "state");
  std::string_view state;
  HOTFIX_RETURN_IF_ERROR(ReadString(*f[kState], Path(path, "state"), &state));
  if (state != "ENABLED" && state != "DISABLED") {
    return Error(Path(path, "state"),
                 absl::StrCat("expected \"ENABLED\" or \"DISABLED\", got ",
                              Quote(state)));
  }
  flag->killed = state == "DISABLED";

  if (f[kVariants] == nullptr) return Missing(path, "variants");
  const Path variants_path(path, "variants");
  const Json& variants = *f[kVariants];
  if (!variants.IsObject()) return Error(variants_path, "expected an object");
  HOTFIX_RETURN_IF_ERROR(CheckDuplicateMembers(variants, variants_path));
  rapidjson::StringBuffer buffer;
  bool mixed = false;
  for (auto m = variants.MemberBegin(); m != variants.MemberEnd(); ++m) {
    const Json& x = m->value;
    Variant variant;
    variant.name = pool->Intern(View(m->name));
    if (x.IsBool()) {
      variant.value = Value::Bool(x.GetBool());
    } else if (x.IsString()) {
      variant.value = Value::String(pool->Intern(View(x)));
    } else if (x.IsNumber()) {
      variant.value = Value::Number(x.GetDouble());
    } else {
      // Objects, arrays and null: served as JSON text (flagd's "object").
      HOTFIX_RETURN_IF_ERROR(
          CheckFreeJson(x, Path(variants_path, View(m->name))));
      variant.value = Value::Json(pool->Intern(Serialize(x)));
    }
    if (flag->variants.empty()) {
      flag->type = variant.value.type;
    } else if (flag->type != variant.value.type) {
      mixed = true;
    }
    flag->variants.push_back(variant);
  }
  if (mixed) flag->type = ValueType::kNone;

  if (f[kDefaultVariant] != nullptr && !f[kDefaultVariant]->IsNull()) {
    const Path dv_path(path, "defaultVariant");
    std::string_view name;
    HOTFIX_RETURN_IF_ERROR(ReadString(*f[kDefaultVariant], dv_path, &name));
    if (!name.empty()) {
      for (std::size_t i = 0; i < flag->variants.size(); ++i) {
        if (flag->variants[i].name == name) {
          flag->fallthrough.variant = static_cast<std::int32_t>(i);
        }
      }
      if (flag->fallthrough.variant < 0) {
        return Error(dv_path, absl::StrCat("unknown variant ", Quote(name)));
      }
    }
  }

  std::vector<std::pair<std::string, Value>> own;
  if (f[kMetadata] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(
        ReadMetadata(*f[kMetadata], Path(path, "metadata"), pool, &own));
  }
  flag->meta.metadata = Merge(set, own);
  for (const auto& [key, value] : flag->meta.metadata) {
    if (value.type != ValueType::kString) continue;
    if (key == "owner") flag->meta.owner.assign(value.string_value);
    if (key == "ticket") flag->meta.ticket.assign(value.string_value);
    if (key == "description") {
      flag->meta.description.assign(value.string_value);
    }
  }

  if (HasTargeting(f[kTargeting])) {
    const Path targeting_path(path, "targeting");
    Rule rule;
    // Validate the whole expression even when it compiles to a split.
    auto program = std::make_unique<JlProgram>();
    HOTFIX_RETURN_IF_ERROR(CompileJsonLogic(*f[kTargeting], targeting_path,
                                            *flag, pool, program.get()));
    std::vector<Rule> translated;
    if (auto split = SimpleFractional(*f[kTargeting], *flag)) {
      rule.serve.rollout = std::move(split);
      flag->rules.push_back(std::move(rule));
    } else if (TranslateTargeting(*f[kTargeting], *flag, pool, &translated)) {
      flag->rules = std::move(translated);
    } else {
      rule.expression = std::move(program);
      flag->rules.push_back(std::move(rule));
    }
  } else if (!flag->killed && flag->fallthrough.variant >= 0) {
    flag->static_variant = flag->fallthrough.variant;
  }
  flag->fingerprint =
      CombineFingerprint(HashJson(flag->key, v, scratch), set_hash);
  return absl::OkStatus();
}

}  // namespace

bool IsFlagdDocument(const Json& root) {
  if (!root.IsObject()) return false;
  const auto it = root.FindMember("$schema");
  if (it == root.MemberEnd() || !it->value.IsString()) return false;
  return IsFlagdSchema(View(it->value));
}

absl::Status ExpandFlagdRefs(rapidjson::Document* doc, std::size_t max_bytes) {
  if (!doc->IsObject()) return absl::OkStatus();
  const auto it = doc->FindMember("$evaluators");
  if (it == doc->MemberEnd()) return absl::OkStatus();
  const Path root;
  if (!it->value.IsObject()) {
    return Error(Path(root, "$evaluators"), "expected an object");
  }
  HOTFIX_RETURN_IF_ERROR(
      CheckDuplicateMembers(it->value, Path(root, "$evaluators")));
  std::vector<std::pair<std::string, std::string>> evaluators;
  for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m) {
    evaluators.emplace_back(
        absl::StrCat("{\"$ref\":\"", ToAbsl(View(m->name)), "\"}"),
        Serialize(m->value));
  }
  std::string text = Serialize(*doc);
  for (const auto& [pattern, replacement] : evaluators) {
    if (text.find(pattern) == std::string::npos) continue;
    // Bound the growth before replacing (nested references multiply).
    std::size_t count = 0;
    for (std::size_t pos = text.find(pattern); pos != std::string::npos;
         pos = text.find(pattern, pos + pattern.size())) {
      ++count;
    }
    const std::size_t grown =
        text.size() + count * replacement.size() - count * pattern.size();
    if (replacement.size() > pattern.size() && grown > max_bytes) {
      return Error(Path(root, "$evaluators"),
                   absl::StrCat("expanding $ref grows the document past ",
                                max_bytes, " bytes"));
    }
    absl::StrReplaceAll({{pattern, replacement}}, &text);
  }
  rapidjson::Document expanded;
  HOTFIX_RETURN_IF_ERROR(
      ParseJsonStrict(text, &expanded, "the document with $ref expanded"));
  doc->Swap(expanded);
  return absl::OkStatus();
}

absl::Status CompileFlagdDocument(const Json& root,
                                  const CompileOptions& options,
                                  StringPool* pool, CompiledFlagSet* out) {
  const Path path;
  enum { kFlags, kEvaluators, kMetadata, kVersion, kCount };
  static constexpr std::string_view kNames[kCount] = {"flags", "$evaluators",
                                                      "metadata", "version"};
  const Json* f[kCount] = {};
  HOTFIX_RETURN_IF_ERROR(ReadObject(root, path, kNames, f));
  out->format = SourceFormat::kFlagd;
  if (f[kVersion] != nullptr) {
    // hotfixd numbers the versions it serves; flagd ignores the member.
    if (!f[kVersion]->IsUint64()) {
      return Error(Path(path, "version"), "expected an unsigned integer");
    }
    out->version = f[kVersion]->GetUint64();
  }
  std::string scratch;
  std::uint64_t set_hash = 0;
  if (f[kMetadata] != nullptr) {
    HOTFIX_RETURN_IF_ERROR(ReadMetadata(*f[kMetadata], Path(path, "metadata"),
                                        pool, &out->metadata));
    std::sort(out->metadata.begin(), out->metadata.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    set_hash = HashJson("metadata", *f[kMetadata], &scratch);
  }
  if (f[kFlags] == nullptr) return Missing(path, "flags");
  const Path flags_path(path, "flags");
  const Json& flags = *f[kFlags];
  if (flags.IsArray()) {
    return Error(flags_path,
                 "expected an object of flags by key (the array form of "
                 "flagd's daemon configuration is not supported)");
  }
  if (!flags.IsObject()) return Error(flags_path, "expected an object");
  struct Member {
    std::string_view key;
    const Json* value;
  };
  std::vector<Member> members;
  for (auto m = flags.MemberBegin(); m != flags.MemberEnd(); ++m) {
    const std::string_view key = View(m->name);
    if (!IsValidKey(key)) {
      return Error(Path(flags_path, key),
                   absl::StrCat("invalid flag key ", Quote(key),
                                ": hotfix keys are 1-256 characters of "
                                "[A-Za-z0-9._-]"));
    }
    members.push_back(Member{key, &m->value});
  }
  std::stable_sort(
      members.begin(), members.end(),
      [](const Member& a, const Member& b) { return a.key < b.key; });
  for (std::size_t i = 1; i < members.size(); ++i) {
    if (members[i].key == members[i - 1].key) {
      return DuplicateKey(flags_path, members[i].key);
    }
  }
  out->flags.resize(members.size());
  out->index.reserve(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    out->flags[i].key.assign(members[i].key);
    out->index.emplace(out->flags[i].key,
                       FlagSlot{static_cast<std::uint32_t>(i)});
  }
  // Compile in document order so the first error is the first in the text.
  for (auto m = flags.MemberBegin(); m != flags.MemberEnd(); ++m) {
    const std::uint32_t i =
        out->index.find(ToAbsl(View(m->name)))->second.index;
    HOTFIX_RETURN_IF_ERROR(
        CompileFlag(m->value, Path(flags_path, View(m->name)), out->metadata,
                    set_hash, pool, &out->flags[i], &scratch));
  }
  (void)options;
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace hotfix
