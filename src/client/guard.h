// src/client/guard.h
//
// The local guard's arithmetic, free of threads and clocks so that tests can
// drive it with exact numbers: OutcomeWindow turns cumulative outcome counts
// sampled over time into the counts of the last `window`, and JudgeGuard
// decides whether a variant's failures trip its flag's guard
// (docs/flag-format.md, "guard").
//
// Thread-compatible.

#ifndef HOTFIX_SRC_CLIENT_GUARD_H_
#define HOTFIX_SRC_CLIENT_GUARD_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "model/model.h"

namespace hotfix {
namespace internal {

// Outcomes of one variant over some period.
struct WindowCounts {
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::uint64_t outcomes() const { return successes + failures; }
};

// OutcomeWindow keeps samples of one variant's cumulative outcome counts and
// answers the counts of the last `window`: the newest sample minus the newest
// sample at least `window` old (or, while there is none, minus the first
// sample, taken when the guard was installed).
class OutcomeWindow {
 public:
  explicit OutcomeWindow(absl::Duration window) : window_(window) {}

  // Adds the cumulative counts at `now` (a steady time; never decreasing).
  void Add(absl::Duration now, std::uint64_t successes, std::uint64_t failures);
  // The counts between the base sample and the newest one.
  WindowCounts Counts() const;

 private:
  struct Sample {
    absl::Duration time;
    std::uint64_t successes;
    std::uint64_t failures;
  };
  absl::Duration window_;
  std::deque<Sample> samples_;
};

struct GuardVerdict {
  bool trip = false;
  // The judged variant's window counts, and for a trip a sentence such as
  // "15.5% failed over the last 200 outcomes (limit 5%)".
  WindowCounts counts;
  std::string detail;
};

// JudgeGuard()
//
// Judges a guarded variant's window counts. Without `control` (no
// compare_to, or the control lacks min_samples outcomes) the limit is
// spec.max_failure_rate; with it, the control's failure rate plus
// spec.max_failure_rate. Trips when the variant has at least
// spec.min_samples outcomes and fails strictly more often than the limit.
GuardVerdict JudgeGuard(const GuardSpec& spec, const WindowCounts& variant,
                        const std::optional<WindowCounts>& control,
                        std::string_view control_name = {});

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_CLIENT_GUARD_H_
