// FlagHandle: a flag key resolved once. Enabled()'s fast path is inline in
// client.h; this file holds the paths that need the snapshot.

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "client/client_core.h"
#include "client/publisher.h"
#include "eval/evaluate.h"
#include "hotfix/client.h"
#include "util/log.h"

namespace hotfix {
namespace {

using internal::HandleCell;
using internal::Publisher;

// Evaluates the handle's flag in the pinned publication, using the index
// cached in `word` when it belongs to that publication; *index and *variant
// receive the flag's index and the variant served (-1: none).
EvaluationDetail EvaluateCell(const internal::Published* p, std::uint64_t word,
                              const HandleCell& cell, const Context& context,
                              ValueType expected, std::uint32_t* index,
                              std::int32_t* variant) noexcept {
  internal::EvalClock clock;
  *variant = -1;
  if ((word & 3) == HandleCell::kDynamic &&
      static_cast<std::uint32_t>(word >> 32) == p->generation) {
    *index = static_cast<std::uint32_t>((word >> 2) & 0x3FFFFFFF);
    return internal::EvaluateFlag(*p->set, *index, context, expected, clock,
                                  variant);
  }
  return internal::EvaluateByName(*p->set, cell.key, context, expected, clock,
                                  index, variant);
}

// The counter of what was served, or kNoCounter.
std::uint32_t ServedCounter(const internal::CompiledFlagSet& set,
                            std::uint32_t index,
                            std::int32_t variant) noexcept {
  if (variant < 0 || index >= set.counter_offset.size()) {
    return internal::kNoCounter;
  }
  return set.counter_ids[set.counter_offset[index] + variant];
}

// A FlagHandle outlived its Client (debug builds of the library keep the cell
// and mark it dead): fail loudly instead of reading freed memory.
[[noreturn]] void DiedWithItsClient(const HandleCell& cell) noexcept {
  Log(LogLevel::kError,
      absl::StrCat("FlagHandle(\"", cell.key,
                   "\") used after its Client was destroyed"));
  std::abort();
}

}  // namespace

bool FlagHandle::EnabledSlow(std::uint64_t word,
                             const Context& context) const noexcept {
  if (ABSL_PREDICT_FALSE(word == HandleCell::kDead)) DiedWithItsClient(*cell_);
  internal::ClientCore& core = internal::ClientAccess::core(*client_);
  Publisher::ReadGuard guard(core.publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr) return false;
  std::uint32_t index = 0;
  std::int32_t variant;
  const EvaluationDetail d = EvaluateCell(p, word, *cell_, context,
                                          ValueType::kBool, &index, &variant);
  internal::CountExposure(core.counters(), guard.slot(), *p->set, index,
                          variant, internal::kExposures);
  return d.value.type == ValueType::kBool && d.value.bool_value;
}

EvaluationDetail FlagHandle::Evaluate(const Context& context,
                                      ValueType expected) const noexcept {
  const std::uint64_t word = cell_->word.load(std::memory_order_acquire);
  if (ABSL_PREDICT_FALSE(word == HandleCell::kDead)) DiedWithItsClient(*cell_);
  internal::ClientCore& core = internal::ClientAccess::core(*client_);
  Publisher::ReadGuard guard(core.publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr) return internal::NotReadyDetail();
  std::uint32_t index = 0;
  std::int32_t variant;
  const EvaluationDetail d =
      EvaluateCell(p, word, *cell_, context, expected, &index, &variant);
  internal::CountExposure(core.counters(), guard.slot(), *p->set, index,
                          variant, internal::kExposures);
  return d;
}

GuardScope FlagHandle::Guard(const Context& context) const noexcept {
  const std::uint64_t word = cell_->word.load(std::memory_order_acquire);
  if (ABSL_PREDICT_FALSE(word == HandleCell::kDead)) DiedWithItsClient(*cell_);
  internal::ClientCore& core = internal::ClientAccess::core(*client_);
  Publisher::ReadGuard guard(core.publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr) {
    return GuardScope(client_, internal::kNoCounter,
                      internal::NotReadyDetail());
  }
  std::uint32_t index = 0;
  std::int32_t variant;
  const EvaluationDetail d = EvaluateCell(p, word, *cell_, context,
                                          ValueType::kNone, &index, &variant);
  if (core.counters() == nullptr) {
    return GuardScope(client_, internal::kNoCounter, d);
  }
  internal::CountExposure(core.counters(), guard.slot(), *p->set, index,
                          variant, internal::kExposures);
  return GuardScope(client_, ServedCounter(*p->set, index, variant), d);
}

void FlagHandle::Report(bool ok, const Context& context) const noexcept {
  const std::uint64_t word = cell_->word.load(std::memory_order_acquire);
  if (ABSL_PREDICT_FALSE(word == HandleCell::kDead)) DiedWithItsClient(*cell_);
  internal::ClientCore& core = internal::ClientAccess::core(*client_);
  if (core.counters() == nullptr) return;
  Publisher::ReadGuard guard(core.publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr) return;
  std::uint32_t index = 0;
  std::int32_t variant;
  EvaluateCell(p, word, *cell_, context, ValueType::kNone, &index, &variant);
  internal::CountExposure(core.counters(), guard.slot(), *p->set, index,
                          variant,
                          ok ? internal::kSuccesses : internal::kFailures);
}

bool FlagHandle::GetBool(bool default_value,
                         const Context& context) const noexcept {
  return internal::BoolOr(Evaluate(context, ValueType::kBool), default_value);
}

std::string_view FlagHandle::GetString(std::string_view default_value,
                                       const Context& context) const noexcept {
  return internal::StringOr(Evaluate(context, ValueType::kString),
                            ValueType::kString, default_value);
}

std::int64_t FlagHandle::GetInt(std::int64_t default_value,
                                const Context& context) const noexcept {
  return internal::Int64Or(Evaluate(context, ValueType::kNumber),
                           default_value);
}

double FlagHandle::GetDouble(double default_value,
                             const Context& context) const noexcept {
  return internal::DoubleOr(Evaluate(context, ValueType::kNumber),
                            default_value);
}

std::string_view FlagHandle::GetJson(std::string_view default_value,
                                     const Context& context) const noexcept {
  return internal::StringOr(Evaluate(context, ValueType::kJson),
                            ValueType::kJson, default_value);
}

}  // namespace hotfix
