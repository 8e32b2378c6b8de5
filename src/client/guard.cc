// src/client/guard.cc
//
// OutcomeWindow and JudgeGuard.

#include "client/guard.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "util/strings.h"

namespace hotfix {
namespace internal {
namespace {

// "15.5%", "5%", "0.25%".
std::string Percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.4g%%", fraction * 100.0);
  return buffer;
}

}  // namespace

void OutcomeWindow::Add(absl::Duration now, std::uint64_t successes,
                        std::uint64_t failures) {
  samples_.push_back({now, successes, failures});
  // Keep one sample at least `window_` old (the base) and everything newer.
  while (samples_.size() >= 2 && now - samples_[1].time >= window_) {
    samples_.pop_front();
  }
}

WindowCounts OutcomeWindow::Counts() const {
  WindowCounts counts;
  if (samples_.size() < 2) return counts;
  const Sample& base = samples_.front();
  const Sample& last = samples_.back();
  counts.successes = last.successes - base.successes;
  counts.failures = last.failures - base.failures;
  return counts;
}

GuardVerdict JudgeGuard(const GuardSpec& spec, const WindowCounts& variant,
                        const std::optional<WindowCounts>& control,
                        std::string_view control_name) {
  GuardVerdict verdict;
  verdict.counts = variant;
  const std::uint64_t n = variant.outcomes();
  if (n == 0 || n < spec.min_samples) return verdict;
  const double rate =
      static_cast<double>(variant.failures) / static_cast<double>(n);
  double limit = spec.max_failure_rate;
  double control_rate = 0;
  const bool relative = control.has_value() && control->outcomes() > 0 &&
                        control->outcomes() >= spec.min_samples;
  if (relative) {
    control_rate = static_cast<double>(control->failures) /
                   static_cast<double>(control->outcomes());
    limit += control_rate;
  }
  if (!(rate > limit)) return verdict;
  verdict.trip = true;
  verdict.detail =
      absl::StrCat(Percent(rate), " failed over the last ", n, " outcomes (");
  if (relative) {
    absl::StrAppend(&verdict.detail, "control \"", ToAbsl(control_name), "\" ",
                    Percent(control_rate), " of ", control->outcomes(),
                    ", limit +", Percent(spec.max_failure_rate), ")");
  } else {
    absl::StrAppend(&verdict.detail, "limit ", Percent(spec.max_failure_rate),
                    ")");
  }
  return verdict;
}

}  // namespace internal
}  // namespace hotfix
