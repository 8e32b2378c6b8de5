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
// cached in `word` when it belongs to that publication.
EvaluationDetail EvaluateCell(const internal::Published* p, std::uint64_t word,
                              const HandleCell& cell, const Context& context,
                              ValueType expected) noexcept {
  internal::EvalClock clock;
  if ((word & 3) == HandleCell::kDynamic &&
      static_cast<std::uint32_t>(word >> 32) == p->generation) {
    const auto index = static_cast<std::uint32_t>((word >> 2) & 0x3FFFFFFF);
    return internal::EvaluateFlag(*p->set, index, context, expected, clock);
  }
  return internal::EvaluateByName(*p->set, cell.key, context, expected, clock);
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

namespace internal {
// Access to the Client's core for the handle (a friend of Client).
struct ClientAccess {
  static const Publisher& publisher(const Client& client) {
    return client.core_->publisher();
  }
};
}  // namespace internal

bool FlagHandle::EnabledSlow(std::uint64_t word,
                             const Context& context) const noexcept {
  if (ABSL_PREDICT_FALSE(word == HandleCell::kDead)) DiedWithItsClient(*cell_);
  Publisher::ReadGuard guard(internal::ClientAccess::publisher(*client_));
  const internal::Published* p = guard.get();
  if (p == nullptr) return false;
  const EvaluationDetail d =
      EvaluateCell(p, word, *cell_, context, ValueType::kBool);
  return d.value.type == ValueType::kBool && d.value.bool_value;
}

EvaluationDetail FlagHandle::Evaluate(const Context& context,
                                      ValueType expected) const noexcept {
  const std::uint64_t word = cell_->word.load(std::memory_order_acquire);
  if (ABSL_PREDICT_FALSE(word == HandleCell::kDead)) DiedWithItsClient(*cell_);
  Publisher::ReadGuard guard(internal::ClientAccess::publisher(*client_));
  const internal::Published* p = guard.get();
  if (p == nullptr) {
    EvaluationDetail d;
    d.reason = Reason::kError;
    d.error = ErrorKind::kNotReady;
    return d;
  }
  return EvaluateCell(p, word, *cell_, context, expected);
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
