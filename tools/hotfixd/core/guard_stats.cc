// tools/hotfixd/core/guard_stats.cc

#include "core/guard_stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hotfix {
namespace hotfixd {
namespace {

// The failure rate shrunk toward ½ by half an outcome each way, so that an
// arm without failures still has a positive variance.
double Shrunk(const ArmCounts& a) {
  return (static_cast<double>(a.failures) + 0.5) /
         (static_cast<double>(a.outcomes()) + 1.0);
}

double Variance(const ArmCounts& a) {
  const double p = Shrunk(a);
  return p * (1 - p) / std::max(1.0, static_cast<double>(a.outcomes()));
}

std::string Percent(double rate) {
  return absl::StrFormat("%.2f%%", rate * 100);
}

std::string Arm(const char* name, const ArmCounts& a) {
  return absl::StrCat(name, " ", a.failures, "/", a.outcomes(), " failed (",
                      Percent(a.rate()), ")");
}

std::string Bounds(const Interval& i, bool signed_values) {
  if (signed_values) {
    return absl::StrFormat("[%+.2f%%, %+.2f%%]", i.low * 100, i.high * 100);
  }
  return absl::StrFormat("[%.2f%%, %.2f%%]", i.low * 100, i.high * 100);
}

}  // namespace

double ArmCounts::rate() const {
  return outcomes() == 0
             ? 0.0
             : static_cast<double>(failures) / static_cast<double>(outcomes());
}

Interval ConfidenceSequence(const ArmCounts& treatment,
                            const ArmCounts* control, double alpha,
                            double tau) {
  const double theta =
      treatment.rate() - (control != nullptr ? control->rate() : 0.0);
  const double v =
      Variance(treatment) + (control != nullptr ? Variance(*control) : 0.0);
  const double tau2 = tau * tau;
  const double h =
      std::sqrt(2 * v * (v + tau2) / tau2 *
                (std::log(1 / alpha) + 0.5 * std::log((v + tau2) / v)));
  return {theta - h, theta + h};
}

GuardJudgement Judge(const ArmCounts& treatment, const ArmCounts* control,
                     const GuardCriteria& criteria) {
  GuardJudgement j;
  const bool relative = control != nullptr;
  const bool absolute = criteria.max_failure_rate >= 0;
  if (!relative && !absolute) {
    j.explanation = "no criterion (neither a ceiling nor a control variant)";
    return j;
  }
  const std::uint64_t need = criteria.min_samples;
  if (treatment.outcomes() < need || (relative && control->outcomes() < need)) {
    j.explanation = absl::StrCat(
        "waiting for ", need,
        " outcomes per variant: ", Arm("treatment", treatment),
        relative ? absl::StrCat(", ", Arm("control", *control)) : "");
    return j;
  }
  // Two rules at once share the error rate (Bonferroni).
  const double alpha = criteria.alpha / ((relative && absolute) ? 2 : 1);
  const int confidence =
      static_cast<int>(std::lround((1 - criteria.alpha) * 100));
  bool regressed = false;
  bool healthy = true;
  std::string why = Arm("treatment", treatment);
  if (relative) {
    // Most sensitive to differences of about twice the tolerance, at least
    // one percentage point (a fix doubling a 1 % background failure rate);
    // much larger ones are still caught within the minimum samples.
    const double tau = std::max(2 * criteria.tolerance, 0.01);
    j.interval = ConfidenceSequence(treatment, control, alpha, tau);
    regressed = regressed || j.interval.low > 0;
    healthy = healthy && j.interval.high <= criteria.tolerance;
    absl::StrAppend(&why, " vs ", Arm("control", *control), ": difference in ",
                    Bounds(j.interval, true), ", tolerance ",
                    Percent(criteria.tolerance));
  }
  if (absolute) {
    const double tau = std::max(criteria.max_failure_rate / 2, 0.002);
    const Interval rate = ConfidenceSequence(treatment, nullptr, alpha, tau);
    if (!relative) j.interval = rate;
    regressed = regressed || rate.low > criteria.max_failure_rate;
    healthy = healthy && rate.high <= criteria.max_failure_rate;
    absl::StrAppend(&why, "; failure rate in ", Bounds(rate, false),
                    ", ceiling ", Percent(criteria.max_failure_rate));
  }
  absl::StrAppend(&why, " (", confidence, "% always-valid)");
  j.verdict = regressed ? GuardVerdict::kRegressed
              : healthy ? GuardVerdict::kHealthy
                        : GuardVerdict::kWait;
  j.explanation = std::move(why);
  return j;
}

}  // namespace hotfixd
}  // namespace hotfix
