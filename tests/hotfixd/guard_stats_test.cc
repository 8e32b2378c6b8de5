// tests/hotfixd/guard_stats_test.cc
//
// The sequential test behind guarded rollouts (tools/hotfixd/core/
// guard_stats.h), on simulated staged rollouts with fixed seeds: checked
// every simulated minute, it rolls back at most α of healthy rollouts,
// catches at least 95 % of rollouts whose fix doubles the failure rate, and
// lets healthy ones ramp to 100 %. Also the interval's basic properties.

#include "core/guard_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace hotfix {
namespace hotfixd {
namespace {

TEST(ConfidenceSequenceTest, CentredOnTheEstimateAndNarrowingWithData) {
  const ArmCounts small{90, 10};
  const ArmCounts large{9000, 1000};
  const Interval a = ConfidenceSequence(small, nullptr, 0.05, 0.05);
  const Interval b = ConfidenceSequence(large, nullptr, 0.05, 0.05);
  EXPECT_NEAR((a.low + a.high) / 2, 0.1, 1e-12);
  EXPECT_NEAR((b.low + b.high) / 2, 0.1, 1e-12);
  EXPECT_LT(b.high - b.low, a.high - a.low);
  // Wider than a fixed-sample 95 % interval (the price of looking often).
  const double fixed = 1.96 * std::sqrt(0.1 * 0.9 / 10000);
  EXPECT_GT(b.high - 0.1, fixed);
  // A smaller alpha gives a wider interval.
  const Interval strict = ConfidenceSequence(large, nullptr, 0.001, 0.05);
  EXPECT_GT(strict.high - strict.low, b.high - b.low);
}

TEST(JudgeTest, WaitsForSamplesAndExplainsWithNumbers) {
  GuardCriteria criteria;
  criteria.min_samples = 200;
  const ArmCounts few{50, 50};
  const ArmCounts control{5000, 10};
  GuardJudgement j = Judge(few, &control, criteria);
  EXPECT_EQ(j.verdict, GuardVerdict::kWait);
  EXPECT_NE(j.explanation.find("waiting for 200 outcomes"), std::string::npos)
      << j.explanation;
  const ArmCounts bad{700, 300};
  j = Judge(bad, &control, criteria);
  EXPECT_EQ(j.verdict, GuardVerdict::kRegressed);
  EXPECT_NE(j.explanation.find("treatment 300/1000 failed (30.00%)"),
            std::string::npos)
      << j.explanation;
  EXPECT_NE(j.explanation.find("control 10/5010 failed"), std::string::npos);
  EXPECT_NE(j.explanation.find("95% always-valid"), std::string::npos);
  // Absolute ceiling without a control.
  criteria.max_failure_rate = 0.05;
  j = Judge(bad, nullptr, criteria);
  EXPECT_EQ(j.verdict, GuardVerdict::kRegressed);
  EXPECT_NE(j.explanation.find("ceiling 5.00%"), std::string::npos);
  const ArmCounts fine{99900, 100};
  EXPECT_EQ(Judge(fine, nullptr, criteria).verdict, GuardVerdict::kHealthy);
  // No criterion at all decides nothing.
  criteria.max_failure_rate = -1;
  EXPECT_EQ(Judge(fine, nullptr, criteria).verdict, GuardVerdict::kWait);
}

// One simulated staged rollout: every minute 2,000 guarded operations split
// between treatment (the stage's percentage) and control, each failing with
// its arm's probability; the guard is judged on the counts since the start.
// A stage advances after 10 minutes once the judgement is healthy; a
// regressed judgement rolls back at once.
struct Outcome {
  enum Kind { kCompleted, kRolledBack, kStalled } kind;
  std::uint64_t treatment_outcomes = 0;  // when it ended
  int minutes = 0;
};

Outcome Simulate(double treatment_rate, double control_rate,
                 const GuardCriteria& criteria, std::mt19937_64& rng,
                 bool naive_peeking = false) {
  static constexpr double kStages[] = {0.01, 0.05, 0.25, 0.5, 1.0};
  constexpr int kPerMinute = 2000;
  constexpr int kMinutesPerStage = 10;
  constexpr int kMaxMinutes = 3000;
  ArmCounts t;
  ArmCounts c;
  std::size_t stage = 0;
  int in_stage = 0;
  for (int minute = 1; minute <= kMaxMinutes; ++minute) {
    std::binomial_distribution<int> split(kPerMinute, kStages[stage]);
    const int n_t = split(rng);
    const int n_c = kPerMinute - n_t;
    const int f_t = std::binomial_distribution<int>(n_t, treatment_rate)(rng);
    const int f_c = std::binomial_distribution<int>(n_c, control_rate)(rng);
    t.failures += static_cast<std::uint64_t>(f_t);
    t.successes += static_cast<std::uint64_t>(n_t - f_t);
    c.failures += static_cast<std::uint64_t>(f_c);
    c.successes += static_cast<std::uint64_t>(n_c - f_c);
    ++in_stage;
    GuardVerdict verdict;
    if (naive_peeking) {
      // A fixed-sample two-proportion z-test at 95 %, looked at each minute.
      verdict = GuardVerdict::kWait;
      if (t.outcomes() >= criteria.min_samples &&
          c.outcomes() >= criteria.min_samples) {
        const double pt = t.rate();
        const double pc = c.rate();
        const double se =
            std::sqrt(pt * (1 - pt) / static_cast<double>(t.outcomes()) +
                      pc * (1 - pc) / static_cast<double>(c.outcomes()));
        if (se > 0 && (pt - pc) / se > 1.96) verdict = GuardVerdict::kRegressed;
      }
    } else {
      verdict = Judge(t, &c, criteria).verdict;
    }
    if (verdict == GuardVerdict::kRegressed) {
      return {Outcome::kRolledBack, t.outcomes(), minute};
    }
    if (verdict == GuardVerdict::kHealthy && in_stage >= kMinutesPerStage) {
      if (stage + 1 == std::size(kStages)) {
        return {Outcome::kCompleted, t.outcomes(), minute};
      }
      ++stage;
      in_stage = 0;
    }
  }
  return {Outcome::kStalled, t.outcomes(), kMaxMinutes};
}

constexpr int kRollouts = 200;

TEST(GuardSimulationTest, HealthyRolloutsAreRarelyRolledBackAndRampToTheEnd) {
  GuardCriteria criteria;  // alpha 5 %, tolerance 0.5 pp, 200 samples
  std::mt19937_64 rng(20261206);
  int rolled_back = 0;
  int completed = 0;
  std::vector<int> minutes;
  for (int i = 0; i < kRollouts; ++i) {
    // 1 % background failures in both arms.
    const Outcome o = Simulate(0.01, 0.01, criteria, rng);
    rolled_back += o.kind == Outcome::kRolledBack;
    if (o.kind == Outcome::kCompleted) {
      ++completed;
      minutes.push_back(o.minutes);
    }
  }
  std::sort(minutes.begin(), minutes.end());
  std::printf(
      "healthy: %d/%d rolled back (alpha %.0f%%), %d completed, "
      "median %d minutes to 100%%\n",
      rolled_back, kRollouts, criteria.alpha * 100, completed,
      minutes.empty() ? 0 : minutes[minutes.size() / 2]);
  EXPECT_LE(rolled_back, static_cast<int>(criteria.alpha * kRollouts));
  EXPECT_GE(completed, kRollouts * 9 / 10);
}

TEST(GuardSimulationTest,
     AFixThatDoublesFailuresIsCaughtNineteenTimesInTwenty) {
  GuardCriteria criteria;
  std::mt19937_64 rng(1206);
  int caught = 0;
  int completed = 0;
  std::vector<std::uint64_t> samples;
  for (int i = 0; i < kRollouts; ++i) {
    // The fix fails 2 % of the time where control fails 1 %.
    const Outcome o = Simulate(0.02, 0.01, criteria, rng);
    if (o.kind == Outcome::kRolledBack) {
      ++caught;
      samples.push_back(o.treatment_outcomes);
    }
    completed += o.kind == Outcome::kCompleted;
  }
  std::sort(samples.begin(), samples.end());
  std::printf(
      "regression 2x: %d/%d rolled back, %d wrongly completed, median "
      "%llu treatment outcomes to detection\n",
      caught, kRollouts, completed,
      static_cast<unsigned long long>(
          samples.empty() ? 0 : samples[samples.size() / 2]));
  EXPECT_GE(caught, kRollouts * 95 / 100);
  EXPECT_LE(completed, static_cast<int>(criteria.alpha * kRollouts));
}

TEST(GuardSimulationTest, ABrokenFixIsCaughtAtTheFirstStage) {
  GuardCriteria criteria;
  std::mt19937_64 rng(30);
  for (int i = 0; i < 50; ++i) {
    // 30 % failing, as in the end-to-end test.
    const Outcome o = Simulate(0.30, 0.01, criteria, rng);
    ASSERT_EQ(o.kind, Outcome::kRolledBack);
    // Still at 1 %: about 20 treatment outcomes a minute.
    EXPECT_LE(o.minutes, 15) << o.treatment_outcomes;
  }
}

TEST(GuardSimulationTest, PeekingAtAFixedSampleTestWouldRollBackFarMore) {
  // Why the sequential test: the same healthy rollouts judged by a 95 %
  // z-test every minute are rolled back far more often than 5 %.
  GuardCriteria criteria;
  std::mt19937_64 rng(20261206);
  int naive = 0;
  for (int i = 0; i < kRollouts; ++i) {
    naive += Simulate(0.01, 0.01, criteria, rng, /*naive_peeking=*/true).kind ==
             Outcome::kRolledBack;
  }
  std::printf("healthy, naive z-test peeked every minute: %d/%d rolled back\n",
              naive, kRollouts);
  EXPECT_GT(naive, static_cast<int>(criteria.alpha * kRollouts));
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix
