// Exposure and outcome counting, GuardScope and Report, and the local guard
// (docs/guarded-rollouts.md): the counters under concurrency, the guard's
// arithmetic with exact inputs, and a client whose guard trips.

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/client_core.h"
#include "client/counters.h"
#include "client/guard.h"
#include "client/telemetry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"

namespace hotfix {
namespace {

using internal::ClientAccess;
using internal::Counters;
using internal::GuardSpec;
using internal::JudgeGuard;
using internal::OutcomeWindow;
using internal::WindowCounts;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kFlags[] = R"({"version": 1, "flags": {
  "fix-123": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on",
              "guard": {"max_failure_rate": 0.1, "min_samples": 20, "window": "1h"}},
  "split": {"variants": {"on": true, "off": false}, "off_variant": "off",
            "default": {"rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}},
  "text": {"variants": {"a": "alpha", "b": "beta"}, "default": "a",
           "rules": [{"if": [{"attribute": "lang", "op": "eq", "value": "b"}], "serve": "b"}]}
}})";

std::unique_ptr<Client> MakeClient(const std::string& json = kFlags,
                                   bool counting = true) {
  ClientOptions options;
  options.bootstrap_json = json;
  options.telemetry.counting = counting;
  options.telemetry.guard_interval = absl::Milliseconds(5);
  auto client = Client::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return *std::move(client);
}

Counters::Totals TotalsOf(const Client& client, std::string_view flag,
                          std::string_view variant) {
  return ClientAccess::core(client).telemetry()->TotalsForTest(flag, variant);
}

// Waits (at most 20 s) until `done()`.
template <typename F>
bool WaitFor(F done) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// ---------------------------------------------------------------- counters

TEST(CountingTest, EveryEvaluationPathCountsTheServedVariant) {
  auto client = MakeClient();
  FlagHandle handle = client->Flag("fix-123");
  EXPECT_TRUE(client->Enabled("fix-123"));
  EXPECT_TRUE(handle.Enabled());
  EXPECT_TRUE(client->GetBool("fix-123", false));
  EXPECT_EQ(client->Evaluate("fix-123").variant, "on");
  EXPECT_EQ(handle.Evaluate().variant, "on");
  Context fr("user-1");
  fr.Set("lang", "b");
  EXPECT_EQ(client->GetString("text", "", fr), "beta");
  EXPECT_EQ(client->GetString("text", "", Context("user-2")), "alpha");
  EXPECT_EQ(TotalsOf(*client, "fix-123", "on"), (Counters::Totals{5, 0, 0}));
  EXPECT_EQ(TotalsOf(*client, "fix-123", "off"), (Counters::Totals{0, 0, 0}));
  EXPECT_EQ(TotalsOf(*client, "text", "b"), (Counters::Totals{1, 0, 0}));
  EXPECT_EQ(TotalsOf(*client, "text", "a"), (Counters::Totals{1, 0, 0}));
}

TEST(CountingTest, NothingIsCountedWhenNoVariantIsServed) {
  auto client = MakeClient();
  EXPECT_FALSE(client->Enabled("missing"));
  EXPECT_EQ(client->GetInt("text", 7), 7);  // type mismatch
  EXPECT_FALSE(client->Enabled("text"));    // not boolean
  EXPECT_EQ(TotalsOf(*client, "text", "a"), (Counters::Totals{0, 0, 0}));
}

TEST(CountingTest, SplitCountsEachVariantItServes) {
  auto client = MakeClient();
  int on = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = absl::StrCat("user-", i);
    on += client->Enabled("split", Context(key));
  }
  EXPECT_EQ(TotalsOf(*client, "split", "on")[internal::kExposures],
            static_cast<std::uint64_t>(on));
  EXPECT_EQ(TotalsOf(*client, "split", "off")[internal::kExposures],
            static_cast<std::uint64_t>(1000 - on));
}

TEST(CountingTest, ConcurrentThreadsLoseNoCount) {
  // A flag without a guard: 25 % failures would trip fix-123's.
  auto client = MakeClient(R"({"version": 1, "flags": {
    "fix-123": {"variants": {"on": true, "off": false}, "default": "on"}}})");
  FlagHandle handle = client->Flag("fix-123");
  constexpr int kThreads = 8;
  constexpr int kEach = 20000;
  std::atomic<bool> stop{false};
  // A reader summing while the writers count sees monotonic totals.
  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!stop.load()) {
      const std::uint64_t now =
          TotalsOf(*client, "fix-123", "on")[internal::kExposures];
      EXPECT_GE(now, last);
      last = now;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (t % 2 == 0) {
          client->Enabled("fix-123");
        } else {
          handle.Enabled();
        }
        client->Report("fix-123", i % 4 != 0);
      }
    });
  }
  for (std::thread& w : writers) w.join();
  stop = true;
  reader.join();
  const Counters::Totals totals = TotalsOf(*client, "fix-123", "on");
  EXPECT_EQ(totals[internal::kExposures], std::uint64_t{kThreads} * kEach);
  EXPECT_EQ(totals[internal::kSuccesses],
            std::uint64_t{kThreads} * kEach * 3 / 4);
  EXPECT_EQ(totals[internal::kFailures], std::uint64_t{kThreads} * kEach / 4);
}

TEST(CountingTest, ExposureCountsAreExactAcrossTheirByteWraps) {
  // A thread counts a counter's exposures in one byte and carries every
  // 256th into a wide cell: each total around a wrap is exact, by name, by
  // handle, and when a thread mixes the two.
  auto client = MakeClient();
  FlagHandle handle = client->Flag("fix-123");
  std::uint64_t counted = 0;
  auto count_to = [&](std::uint64_t target, bool by_handle) {
    for (; counted < target; ++counted) {
      EXPECT_TRUE(by_handle ? handle.Enabled() : client->Enabled("fix-123"));
    }
    return TotalsOf(*client, "fix-123", "on")[internal::kExposures];
  };
  for (const bool by_handle : {false, true}) {
    const std::uint64_t base = counted;
    for (const std::uint64_t n : {255u, 256u, 257u, 511u, 512u, 513u}) {
      EXPECT_EQ(count_to(base + n, by_handle), base + n)
          << (by_handle ? "by handle" : "by name") << " after " << n;
    }
  }
  std::thread([&] {
    for (int i = 0; i < 1000; ++i) {
      EXPECT_TRUE(i % 3 == 0 ? handle.Enabled() : client->Enabled("fix-123"));
    }
  }).join();
  EXPECT_EQ(TotalsOf(*client, "fix-123", "on")[internal::kExposures],
            counted + 1000);
}

TEST(CountingTest, AnOutcomeSumHasTheFullSumsOutcomesAndNoExposures) {
  // What a guard reads every guard_interval: successes and failures only,
  // without a pass over every thread's exposure cells. A flag without a
  // guard: a third of failures would trip fix-123's.
  auto client = MakeClient(R"({"version": 1, "flags": {
    "fix-123": {"variants": {"on": true, "off": false}, "default": "on"}}})");
  for (int i = 0; i < 300; ++i) {
    client->Enabled("fix-123");
    client->Report("fix-123", i % 3 != 0);
  }
  Counters& counters = ClientAccess::core(*client).telemetry()->counters();
  const std::vector<Counters::Totals> all = counters.Sum(64);
  const std::vector<Counters::Totals> outcomes =
      counters.Sum(64, Counters::SumOf::kOutcomes);
  ASSERT_EQ(all.size(), outcomes.size());
  bool counted = false;
  for (std::size_t id = 0; id < all.size(); ++id) {
    EXPECT_EQ(outcomes[id][internal::kExposures], 0u) << id;
    EXPECT_EQ(outcomes[id][internal::kSuccesses], all[id][internal::kSuccesses])
        << id;
    EXPECT_EQ(outcomes[id][internal::kFailures], all[id][internal::kFailures])
        << id;
    if (all[id] == (Counters::Totals{300, 200, 100})) counted = true;
  }
  EXPECT_TRUE(counted) << "no counter holds fix-123's 300 exposures, 200 "
                          "successes and 100 failures";
}

TEST(CountingTest, CountsOfExitedThreadsAreKept) {
  auto client = MakeClient();
  for (int round = 0; round < 5; ++round) {
    std::thread([&] {
      for (int i = 0; i < 100; ++i) client->Enabled("fix-123");
    }).join();
  }
  EXPECT_EQ(TotalsOf(*client, "fix-123", "on")[internal::kExposures], 500u);
}

TEST(CountingTest, CountsSurviveANewSnapshot) {
  auto client = MakeClient();
  client->Enabled("fix-123");
  std::string next = kFlags;
  next.replace(next.find("\"version\": 1"), 12, "\"version\": 2");
  ASSERT_TRUE(client->Publish(next).ok());
  client->Enabled("fix-123");
  EXPECT_EQ(TotalsOf(*client, "fix-123", "on")[internal::kExposures], 2u);
}

// A handle's static answer counts inline in the thread's cached counters of
// one Client; these cover the cache moving between Clients and threads.
TEST(CountingTest, HandleCountsGoToTheirOwnClientWhenOneThreadAlternates) {
  auto first = MakeClient();
  auto second = MakeClient();
  FlagHandle a = first->Flag("fix-123");
  FlagHandle b = second->Flag("fix-123");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(a.Enabled());
    ASSERT_TRUE(b.Enabled());
    ASSERT_TRUE(b.Enabled());
  }
  EXPECT_EQ(TotalsOf(*first, "fix-123", "on")[internal::kExposures], 1000u);
  EXPECT_EQ(TotalsOf(*second, "fix-123", "on")[internal::kExposures], 2000u);
}

TEST(CountingTest, HandleCountsOfAClientMadeAfterAnotherDiedAreItsOwn) {
  // The allocator tends to give a new Client the memory of the one before;
  // the thread's cached counters of the dead one must not be used.
  for (int round = 0; round < 5; ++round) {
    auto client = MakeClient();
    FlagHandle handle = client->Flag("fix-123");
    for (int i = 0; i < 100 + round; ++i) ASSERT_TRUE(handle.Enabled());
    EXPECT_EQ(TotalsOf(*client, "fix-123", "on")[internal::kExposures],
              100u + round)
        << "round " << round;
  }
}

TEST(CountingTest, HandleCountsInAThreadExitDestructorAreKept) {
  auto client = MakeClient();
  static FlagHandle* exiting_handle;
  FlagHandle handle = client->Flag("fix-123");
  exiting_handle = &handle;
  struct CountsAtExit {
    ~CountsAtExit() {
      for (int i = 0; i < 10; ++i) exiting_handle->Enabled();
    }
  };
  for (int round = 0; round < 3; ++round) {
    std::thread([&] {
      thread_local CountsAtExit at_exit;
      (void)at_exit;
      for (int i = 0; i < 100; ++i) handle.Enabled();
    }).join();
  }
  EXPECT_EQ(TotalsOf(*client, "fix-123", "on")[internal::kExposures], 330u);
}

TEST(CountingTest, OffCountsNothingAndGuardStillEvaluates) {
  auto client = MakeClient(kFlags, /*counting=*/false);
  EXPECT_EQ(ClientAccess::core(*client).telemetry(), nullptr);
  GuardScope guard = client->Guard("fix-123");
  EXPECT_TRUE(guard.enabled());
  EXPECT_EQ(guard.detail().variant, "on");
  guard.Fail();
  client->Report("fix-123", false);
  EXPECT_FALSE(client->GetStatus().telemetry.counting);
}

// ---------------------------------------------------------------- GuardScope

TEST(GuardScopeTest, ExplicitOutcomesAreCountedOnce) {
  auto client = MakeClient();
  {
    GuardScope guard = client->Guard("fix-123");
    EXPECT_TRUE(guard.enabled());
    guard.Fail();
    guard.Succeed();  // already recorded
  }
  {
    GuardScope guard = client->Flag("fix-123").Guard();
    guard.Succeed();
  }
  EXPECT_EQ(TotalsOf(*client, "fix-123", "on"), (Counters::Totals{2, 1, 1}));
}

TEST(GuardScopeTest, ScopeEndIsASuccessAndAnExceptionAFailure) {
  auto client = MakeClient();
  { GuardScope guard = client->Guard("fix-123"); }
  try {
    GuardScope guard = client->Guard("fix-123");
    throw std::runtime_error("checkout failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(TotalsOf(*client, "fix-123", "on"), (Counters::Totals{2, 1, 1}));
}

TEST(GuardScopeTest, DismissRecordsNoOutcome) {
  auto client = MakeClient();
  {
    GuardScope guard = client->Guard("fix-123");
    guard.Dismiss();
  }
  EXPECT_EQ(TotalsOf(*client, "fix-123", "on"), (Counters::Totals{1, 0, 0}));
}

TEST(GuardScopeTest, MovedScopeRecordsOnceFromItsNewOwner) {
  auto client = MakeClient();
  {
    GuardScope first = client->Guard("fix-123");
    GuardScope second = std::move(first);
    std::thread([moved = std::move(second)]() mutable { moved.Fail(); }).join();
  }
  EXPECT_EQ(TotalsOf(*client, "fix-123", "on"), (Counters::Totals{1, 0, 1}));
}

TEST(GuardScopeTest, UnknownFlagCountsNothing) {
  auto client = MakeClient();
  GuardScope guard = client->Guard("missing");
  EXPECT_FALSE(guard.enabled());
  EXPECT_EQ(guard.detail().error, ErrorKind::kFlagNotFound);
  guard.Fail();
  client->Report("missing", false);
}

// ---------------------------------------------------------------- the
// arithmetic

TEST(OutcomeWindowTest, CountsOnlyTheLastWindow) {
  OutcomeWindow window(absl::Seconds(10));
  window.Add(absl::Seconds(0), 0, 0);
  window.Add(absl::Seconds(5), 50, 5);
  EXPECT_EQ(window.Counts().successes, 50u);
  EXPECT_EQ(window.Counts().failures, 5u);
  window.Add(absl::Seconds(12), 100, 6);
  // Base: the newest sample at least 10 s old (t = 0) until t = 15.
  EXPECT_EQ(window.Counts().outcomes(), 106u);
  window.Add(absl::Seconds(16), 120, 6);
  // Now the base is t = 5.
  EXPECT_EQ(window.Counts().successes, 70u);
  EXPECT_EQ(window.Counts().failures, 1u);
}

TEST(OutcomeWindowTest, CountsFromTheFirstSampleWhileYoungerThanTheWindow) {
  OutcomeWindow window(absl::Hours(1));
  window.Add(absl::Seconds(100), 1000, 100);  // installed: earlier counts out
  window.Add(absl::Seconds(101), 1010, 130);
  EXPECT_EQ(window.Counts().successes, 10u);
  EXPECT_EQ(window.Counts().failures, 30u);
}

GuardSpec Spec(double rate, std::uint64_t min_samples) {
  GuardSpec spec;
  spec.max_failure_rate = rate;
  spec.min_samples = min_samples;
  return spec;
}

TEST(JudgeGuardTest, WaitsForMinSamples) {
  EXPECT_FALSE(JudgeGuard(Spec(0.05, 200), {100, 99}, std::nullopt).trip);
  EXPECT_TRUE(JudgeGuard(Spec(0.05, 200), {100, 100}, std::nullopt).trip);
}

TEST(JudgeGuardTest, AbsoluteLimitIsStrict) {
  EXPECT_FALSE(JudgeGuard(Spec(0.05, 100), {95, 5}, std::nullopt).trip);
  const auto verdict = JudgeGuard(Spec(0.05, 100), {94, 6}, std::nullopt);
  EXPECT_TRUE(verdict.trip);
  EXPECT_EQ(verdict.counts.failures, 6u);
  EXPECT_EQ(verdict.detail, "6% failed over the last 100 outcomes (limit 5%)");
}

TEST(JudgeGuardTest, RelativeLimitAddsTheControlsRate) {
  const GuardSpec spec = Spec(0.05, 100);
  // Control fails 10 %: the variant may fail up to 15 %.
  EXPECT_FALSE(JudgeGuard(spec, {85, 15}, WindowCounts{900, 100}, "off").trip);
  const auto verdict =
      JudgeGuard(spec, {84, 16}, WindowCounts{900, 100}, "off");
  EXPECT_TRUE(verdict.trip);
  EXPECT_THAT(verdict.detail, HasSubstr("control \"off\" 10% of 1000"));
}

TEST(JudgeGuardTest, ControlWithoutEnoughSamplesFallsBackToAbsolute) {
  const GuardSpec spec = Spec(0.05, 100);
  EXPECT_TRUE(JudgeGuard(spec, {90, 10}, WindowCounts{5, 5}, "off").trip);
}

TEST(JudgeGuardTest, ZeroLimitTripsOnTheFirstFailureAfterMinSamples) {
  EXPECT_FALSE(JudgeGuard(Spec(0, 10), {10, 0}, std::nullopt).trip);
  EXPECT_TRUE(JudgeGuard(Spec(0, 10), {10, 1}, std::nullopt).trip);
}

// ---------------------------------------------------------------- the local
// guard

TEST(LocalGuardTest, TripServesTheFallbackAndTellsEveryone) {
  auto client = MakeClient();
  FlagHandle handle = client->Flag("fix-123");
  std::atomic<int> events{0};
  std::vector<std::string> keys;
  client->AddListener([&](const ChangeEvent& event) {
    keys = event.changed_keys;
    ++events;
  });
  for (int i = 0; i < 20; ++i) {
    GuardScope guard = client->Guard("fix-123");
    ASSERT_TRUE(guard.enabled());
    if (i % 2 == 0) guard.Fail();
  }
  ASSERT_TRUE(WaitFor([&] { return events.load() > 0; }));
  EXPECT_THAT(keys, Contains("fix-123"));
  const EvaluationDetail d = client->Evaluate("fix-123");
  EXPECT_EQ(d.reason, Reason::kGuardTripped);
  EXPECT_EQ(d.variant, "off");
  EXPECT_FALSE(client->Enabled("fix-123"));
  EXPECT_FALSE(handle.Enabled());
  EXPECT_EQ(ReasonName(d.reason), "GUARD_TRIPPED");
  const ClientStatus status = client->GetStatus();
  ASSERT_EQ(status.guard_trips.size(), 1u);
  EXPECT_EQ(status.guard_trips[0].flag, "fix-123");
  EXPECT_EQ(status.guard_trips[0].variant, "on");
  EXPECT_EQ(status.guard_trips[0].version, 1u);
  EXPECT_EQ(status.guard_trips[0].failures, 10u);
  EXPECT_EQ(status.guard_trips[0].outcomes, 20u);
  EXPECT_THAT(status.guard_trips[0].detail, HasSubstr("limit 10%"));
  // The fallback's exposures are counted like any other variant's.
  client->Enabled("fix-123");
  handle.Enabled();
  EXPECT_GE(TotalsOf(*client, "fix-123", "off")[internal::kExposures], 2u);
}

TEST(LocalGuardTest, FlagsBehindATrippedPrerequisiteAreReportedChanged) {
  constexpr char kChain[] = R"({"version": 1, "flags": {
    "fix": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on",
            "guard": {"max_failure_rate": 0.1, "min_samples": 20, "window": "1h"}},
    "uses-fix": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on",
                 "prerequisites": [{"flag": "fix", "variant": "on"}]},
    "uses-uses-fix": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on",
                      "prerequisites": [{"flag": "uses-fix", "variant": "on"}]},
    "unrelated": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on"}}})";
  auto client = MakeClient(kChain);
  ASSERT_TRUE(client->Enabled("uses-uses-fix"));
  std::atomic<int> events{0};
  std::vector<std::string> keys;
  client->AddListener([&](const ChangeEvent& event) {
    keys = event.changed_keys;
    ++events;
  });
  for (int i = 0; i < 20; ++i) client->Report("fix", false);
  ClientAccess::core(*client).telemetry()->CheckGuardsNowForTest();
  ASSERT_TRUE(WaitFor([&] { return events.load() > 0; }));
  EXPECT_THAT(keys, ::testing::UnorderedElementsAre("fix", "uses-fix",
                                                    "uses-uses-fix"));
  EXPECT_FALSE(client->Enabled("uses-uses-fix"));
  EXPECT_EQ(client->Evaluate("uses-fix").reason, Reason::kPrerequisiteFailed);
  // The same definitions again: still tripped, and nothing reported changed.
  std::string same = kChain;
  same.replace(same.find("\"version\": 1"), 12, "\"version\": 2");
  const int before = events.load();
  ASSERT_TRUE(client->Publish(same).ok());
  EXPECT_EQ(client->Evaluate("fix").reason, Reason::kGuardTripped);
  EXPECT_FALSE(client->Enabled("uses-uses-fix"));
  EXPECT_EQ(events.load(), before);
}

TEST(LocalGuardTest, HealthyVariantDoesNotTrip) {
  auto client = MakeClient();
  std::atomic<int> events{0};
  client->AddListener([&](const ChangeEvent&) { ++events; });
  for (int i = 0; i < 100; ++i) {
    GuardScope guard = client->Guard("fix-123");
    if (i % 20 == 0) guard.Fail();  // 5 %
  }
  // Judge these counts now, on this thread (the guard thread may too).
  ClientAccess::core(*client).telemetry()->CheckGuardsNowForTest();
  EXPECT_EQ(client->Evaluate("fix-123").reason, Reason::kStatic);
  EXPECT_TRUE(client->GetStatus().guard_trips.empty());
  EXPECT_EQ(events.load(), 0);
}

TEST(LocalGuardTest, TripTakesEffectOnTheNextEvaluation) {
  auto client = MakeClient();
  for (int i = 0; i < 20; ++i) client->Report("fix-123", false);
  ClientAccess::core(*client).telemetry()->CheckGuardsNowForTest();
  EXPECT_EQ(client->Evaluate("fix-123").reason, Reason::kGuardTripped);
  EXPECT_FALSE(client->Enabled("fix-123"));
}

TEST(LocalGuardTest, SameDefinitionStaysTrippedANewOneResets) {
  auto client = MakeClient();
  for (int i = 0; i < 20; ++i) client->Report("fix-123", false);
  ASSERT_TRUE(WaitFor([&] {
    return client->Evaluate("fix-123").reason == Reason::kGuardTripped;
  }));
  // A new version of the set that leaves the flag as it was: still tripped.
  std::string same = kFlags;
  same.replace(same.find("\"version\": 1"), 12, "\"version\": 2");
  ASSERT_TRUE(client->Publish(same).ok());
  EXPECT_EQ(client->Evaluate("fix-123").reason, Reason::kGuardTripped);
  EXPECT_EQ(client->GetStatus().guard_trips.size(), 1u);
  // The operator publishes a new definition of the flag: reset.
  std::string changed = same;
  changed.replace(changed.find("\"version\": 2"), 12, "\"version\": 3");
  changed.replace(changed.find("\"min_samples\": 20"), 17,
                  "\"min_samples\": 30");
  ASSERT_TRUE(client->Publish(changed).ok());
  EXPECT_EQ(client->Evaluate("fix-123").reason, Reason::kStatic);
  EXPECT_TRUE(client->GetStatus().guard_trips.empty());
}

TEST(LocalGuardTest, CompareToServesTheControlAndJudgesAgainstIt) {
  constexpr char kSplit[] = R"({"version": 4, "flags": {
    "fix": {"variants": {"new": "new", "old": "old", "off": "none"}, "off_variant": "off",
            "default": {"rollout": {"split": [{"variant": "new", "weight": 50}, {"variant": "old", "weight": 50}]}},
            "guard": {"max_failure_rate": 0.05, "min_samples": 50, "compare_to": "old"}}}})";
  auto client = MakeClient(kSplit);
  int seen_new = 0;
  int seen_old = 0;
  for (int i = 0; seen_new < 60 || seen_old < 60; ++i) {
    const std::string key = absl::StrCat("u", i);
    GuardScope guard = client->Guard("fix", Context(key));
    if (guard.detail().variant == "new") {
      // 20 % failures; the control fails 10 %: more than 5 points above.
      if (seen_new++ % 5 == 0) guard.Fail();
    } else {
      if (seen_old++ % 10 == 0) guard.Fail();
    }
  }
  ASSERT_TRUE(WaitFor([&] {
    return client->Evaluate("fix", Context("u1")).reason ==
           Reason::kGuardTripped;
  }));
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("u", i);
    EXPECT_EQ(client->GetString("fix", "", Context(key)), "old");
  }
  ASSERT_EQ(client->GetStatus().guard_trips.size(), 1u);
  EXPECT_EQ(client->GetStatus().guard_trips[0].variant, "new");
  EXPECT_THAT(client->GetStatus().guard_trips[0].detail,
              HasSubstr("control \"old\""));
}

TEST(LocalGuardTest, OutcomesAreInTheNextPostWithoutARemoteNoTrip) {
  auto client = MakeClient();
  for (int i = 0; i < 20; ++i) client->Report("fix-123", false);
  ASSERT_TRUE(WaitFor([&] {
    return client->Evaluate("fix-123").reason == Reason::kGuardTripped;
  }));
  // Without a remote source no trip is queued; the body still has counts.
  const std::string body =
      ClientAccess::core(*client).telemetry()->PendingBodyForTest();
  EXPECT_THAT(body,
              HasSubstr(R"("flag":"fix-123","variant":"on","exposures":)"));
  EXPECT_THAT(body, HasSubstr(R"("successes":0,"failures":20})"));
  EXPECT_THAT(body, HasSubstr(R"("trips":[])"));
}

TEST(TelemetryTest, JsonStringEscapes) {
  EXPECT_EQ(internal::Telemetry::JsonString("a\"b\\c\n\x01"),
            R"("a\"b\\c\n\u0001")");
}

TEST(TelemetryTest, InvalidOptionsAreRefused) {
  ClientOptions options;
  options.telemetry.flush_interval = absl::ZeroDuration();
  EXPECT_THAT(Client::Create(options).status().message(),
              HasSubstr("telemetry.flush_interval"));
  options = ClientOptions();
  options.telemetry.close_timeout = -absl::Seconds(1);
  EXPECT_THAT(Client::Create(options).status().message(),
              HasSubstr("telemetry.close_timeout"));
}

}  // namespace
}  // namespace hotfix
