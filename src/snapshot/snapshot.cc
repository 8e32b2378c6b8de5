// src/snapshot/snapshot.cc
//
// Snapshot: the public face of a CompiledFlagSet. Everything here is a thin
// forwarder to the compiled model (snapshot/model.h) and the evaluation engine
// (eval/evaluate.h); hotfix::Compile lives with the compiler in compile.cc.

#include "hotfix/snapshot.h"

#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "eval/evaluate.h"
#include "model/model.h"

namespace hotfix {

Snapshot::Snapshot(std::unique_ptr<internal::CompiledFlagSet> impl)
    : impl_(std::move(impl)) {}

Snapshot::~Snapshot() = default;

std::uint64_t Snapshot::version() const noexcept { return impl_->version; }

namespace {

MetadataValue ToMetadataValue(const Value& v) {
  MetadataValue m;
  m.type = v.type;
  m.string_value.assign(v.string_value);
  m.number_value = v.number_value;
  m.bool_value = v.bool_value;
  return m;
}

}  // namespace

DocumentFormat Snapshot::format() const noexcept {
  return impl_->format == internal::SourceFormat::kFlagd
             ? DocumentFormat::kFlagd
             : DocumentFormat::kNative;
}

std::vector<std::pair<std::string, MetadataValue>> Snapshot::SetMetadata()
    const {
  std::vector<std::pair<std::string, MetadataValue>> out;
  out.reserve(impl_->metadata.size());
  for (const auto& [key, value] : impl_->metadata) {
    out.emplace_back(key, ToMetadataValue(value));
  }
  return out;
}

std::size_t Snapshot::size() const noexcept { return impl_->flags.size(); }

const std::vector<std::string>& Snapshot::warnings() const noexcept {
  return impl_->warnings;
}

EvaluationDetail Snapshot::Evaluate(std::string_view flag,
                                    const Context& context,
                                    ValueType expected) const noexcept {
  internal::EvalClock clock;
  return internal::EvaluateByName(*impl_, flag, context, expected, clock);
}

EvaluationDetail Snapshot::Evaluate(std::string_view flag,
                                    const Context& context, ValueType expected,
                                    absl::Time now) const noexcept {
  internal::EvalClock clock(now);
  return internal::EvaluateByName(*impl_, flag, context, expected, clock);
}

namespace {

Explanation ExplainByName(const internal::CompiledFlagSet& set,
                          std::string_view flag, const Context& context,
                          ValueType expected, internal::EvalClock& clock) {
  Explanation explanation;
  std::uint32_t index = 0;
  if (!internal::FindFlag(set, flag, &index)) {
    explanation.detail =
        internal::EvaluateByName(set, flag, context, expected, clock);
    return explanation;
  }
  try {
    internal::ExplainFlag(set, index, context, expected, clock, &explanation);
  } catch (const std::bad_alloc&) {
    // No exception leaves the library: the answer without the steps.
    explanation = Explanation();
    explanation.detail =
        internal::EvaluateFlag(set, index, context, expected, clock);
  }
  return explanation;
}

}  // namespace

Explanation Snapshot::Explain(std::string_view flag, const Context& context,
                              ValueType expected) const {
  internal::EvalClock clock;
  return ExplainByName(*impl_, flag, context, expected, clock);
}

Explanation Snapshot::Explain(std::string_view flag, const Context& context,
                              ValueType expected, absl::Time now) const {
  internal::EvalClock clock(now);
  return ExplainByName(*impl_, flag, context, expected, clock);
}

std::string_view ClauseOutcomeName(ClauseOutcome outcome) noexcept {
  switch (outcome) {
    case ClauseOutcome::kMatched:
      return "matched";
    case ClauseOutcome::kNotMatched:
      return "not matched";
    case ClauseOutcome::kMissingAttribute:
      return "missing attribute";
    case ClauseOutcome::kWrongType:
      return "wrong type";
    case ClauseOutcome::kInvalidValue:
      return "invalid value";
    case ClauseOutcome::kNotEvaluated:
      break;
  }
  return "not evaluated";
}

bool Snapshot::Contains(std::string_view flag) const noexcept {
  std::uint32_t index = 0;
  return internal::FindFlag(*impl_, flag, &index);
}

namespace {

FlagInfo InfoOf(const internal::CompiledFlag& flag) {
  FlagInfo info;
  info.key = flag.key;
  info.type = flag.type;
  info.killed = flag.killed;
  info.variants.reserve(flag.variants.size());
  for (const internal::Variant& variant : flag.variants) {
    info.variants.emplace_back(variant.name);
  }
  info.owner = flag.meta.owner;
  info.ticket = flag.meta.ticket;
  info.description = flag.meta.description;
  info.expires = flag.meta.expires;
  info.tags = flag.meta.tags;
  info.rule_count = flag.rules.size();
  info.target_count = flag.targets.size();
  info.prerequisite_count = flag.prerequisites.size();
  info.metadata.reserve(flag.meta.metadata.size());
  for (const auto& [key, value] : flag.meta.metadata) {
    info.metadata.emplace_back(key, ToMetadataValue(value));
  }
  return info;
}

}  // namespace

std::vector<FlagInfo> Snapshot::Flags() const {
  std::vector<FlagInfo> infos;
  infos.reserve(impl_->flags.size());
  for (const internal::CompiledFlag& flag : impl_->flags) {
    infos.push_back(InfoOf(flag));
  }
  return infos;
}

std::optional<FlagInfo> Snapshot::Info(std::string_view flag) const {
  std::uint32_t index = 0;
  if (!internal::FindFlag(*impl_, flag, &index)) return std::nullopt;
  return InfoOf(impl_->flags[index]);
}

}  // namespace hotfix
