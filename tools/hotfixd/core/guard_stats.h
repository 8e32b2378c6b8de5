// tools/hotfixd/core/guard_stats.h
//
// The statistics behind guarded rollouts (docs/guarded-rollouts.md): is the
// variant being rolled out ("treatment") failing more often than the control
// variant, or more often than an absolute ceiling — decided from counts that
// grow continuously and are looked at every few seconds.
//
// A fixed-sample test checked again and again ("peeking") rejects a healthy
// rollout far more often than its nominal α. This uses always-valid
// confidence sequences instead: the mixture sequential probability ratio test
// (mSPRT) with a normal mixing distribution over the effect, as in
//
//   Johari, Koomen, Pekelis, Walsh: "Always Valid Inference: Continuous
//   Monitoring of A/B Tests", Operations Research 70(3), 2022 (and
//   arXiv:1512.04922);
//   Robbins, "Statistical methods related to the law of the iterated
//   logarithm", Ann. Math. Statist. 41(5), 1970 (the normal-mixture
//   boundary).
//
// For an estimate θ̂ with variance V and mixing variance τ², the mSPRT
// statistic for H0: θ = θ0 is
//
//   Λ(θ0) = sqrt(V / (V + τ²)) · exp(τ² (θ̂ − θ0)² / (2 V (V + τ²)))
//
// and {θ0 : Λ(θ0) < 1/α} is a (1 − α) confidence sequence: with probability
// at least 1 − α it contains the true θ at every look, however many looks.
// Its half-width is
//
//   h = sqrt(2 V (V + τ²) / τ² · (log(1/α) + ½ log((V + τ²) / V))).
//
// θ̂ is a difference of failure rates (or one rate), V its plug-in binomial
// variance (rates shrunk a little toward ½ so that zero failures still give
// a positive variance): the normal approximation the paper also uses for
// Bernoulli outcomes, valid once each arm has some tens of outcomes — which
// min_samples enforces.
//
// Thread-compatible: pure functions.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_GUARD_STATS_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_GUARD_STATS_H_

#include <cstdint>
#include <string>

namespace hotfix {
namespace hotfixd {

// Outcomes reported for one variant: how many of its guarded operations
// succeeded and how many failed.
struct ArmCounts {
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;

  std::uint64_t outcomes() const { return successes + failures; }
  // failures / outcomes; 0 without outcomes.
  double rate() const;
};

struct Interval {
  double low = 0;
  double high = 0;
};

// What a guard tolerates (the "guard" of a flag, docs/flag-format.md).
struct GuardCriteria {
  // Absolute: the treatment's failure rate must stay at or below this
  // (ignored when < 0).
  double max_failure_rate = -1;
  // Relative (when a control arm is given): the treatment may fail this much
  // more often than control (a rate difference, 0.005 = half a percentage
  // point) and still advance; significantly more than control at all rolls
  // it back.
  double tolerance = 0.005;
  // Outcomes each arm needs before any decision.
  std::uint64_t min_samples = 200;
  // Error rate of the sequential test: the probability that a healthy
  // rollout is ever rolled back (or an unhealthy one ever advanced).
  double alpha = 0.05;
};

// ConfidenceSequence()
//
// An always-valid (1 − alpha) interval for the treatment's failure rate
// minus the control's (control null: for the treatment's rate itself).
// `tau` is the mixing standard deviation: the effect size the test is most
// sensitive to.
//
// Cost: a few floating-point operations.
Interval ConfidenceSequence(const ArmCounts& treatment,
                            const ArmCounts* control, double alpha, double tau);

enum class GuardVerdict {
  kWait,      // not enough evidence either way
  kHealthy,   // not worse than allowed: may advance
  kRegressed  // worse than allowed: roll back
};

struct GuardJudgement {
  GuardVerdict verdict = GuardVerdict::kWait;
  Interval interval;  // of the rate difference (or the rate, absolute)
  // The numbers, for the reason of an automatic change: "treatment 31/100
  // (31.0%) vs control 2/1000 (0.2%), difference in [+0.2%, +0.4%]
  // (95% always-valid), tolerance 0.5%".
  std::string explanation;
};

// Judge()
//
// The verdict on `treatment` (against `control` when not null) under
// `criteria`. Regressed: a relative guard whose interval lies above 0, or
// an absolute one whose interval lies above max_failure_rate. Healthy: every
// rule's interval lies at or below its allowance (tolerance; the ceiling).
// Wait: too few outcomes, or neither.
GuardJudgement Judge(const ArmCounts& treatment, const ArmCounts* control,
                     const GuardCriteria& criteria);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_GUARD_STATS_H_
