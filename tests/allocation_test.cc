// Evaluation never allocates: a counting global operator new proves it for
// every path (by name, handle, rules, segments, semver, regex, time,
// prerequisites, targets, rollouts, typed getters, errors), including a
// thread's first evaluation. (A `matches` clause is the one exception
// client.h documents: RE2 allocates while it builds DFA states for inputs it
// has not seen, so the regex path is measured after a warm-up on the same
// input.)

#include <cstdlib>
#include <memory>
#include <new>
#include <thread>

#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "hotfix/snapshot.h"
#include "support/test_client.h"

namespace {
thread_local bool g_counting = false;
thread_local long g_allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (g_counting) ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& t) noexcept {
  return operator new(size, t);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace hotfix {
namespace {

// The allocations this thread makes while running `body`.
template <typename Body>
long AllocationsIn(Body body) {
  g_allocations = 0;
  g_counting = true;
  body();
  g_counting = false;
  return g_allocations;
}

// The allocations this thread makes in 1000 calls of `run` (which returns an
// int, added to *total so that the calls cannot be optimized away), after
// 100 calls to warm up: the first use of a thread claims its hazard slot, and
// RE2 fills its lazily built DFA cache.
template <typename Run>
long AllocationsInWarmRuns(Run run, int* total) {
  for (int i = 0; i < 100; ++i) run();
  return AllocationsIn([&] {
    for (int i = 0; i < 1000; ++i) *total += run();
  });
}

constexpr char kFlags[] = R"({"version": 7,
  "segments": {"staff": {"included": ["alice"], "rules": [
      {"if": [{"attribute": "email", "op": "ends_with", "value": "@corp.example"}]}]}},
  "flags": {
    "static": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on"},
    "killed": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on", "killed": true},
    "complex": {"variants": {"on": true, "off": false}, "off_variant": "off",
      "prerequisites": [{"flag": "static", "variant": "on"}],
      "targets": [{"variant": "on", "keys": ["vip"]}],
      "rules": [
        {"if": [{"attribute": "region", "op": "in", "values": ["eu", "uk", "ch"]}], "serve": "on"},
        {"if": [{"attribute": "app", "op": "semver_gte", "value": "9.0.0"}], "serve": "on"},
        {"if": [{"attribute": "ua", "op": "matches", "value": "Bot/[0-9]+"}], "serve": "off"},
        {"if": [{"op": "segment", "values": ["staff"]}], "serve": "on"},
        {"if": [{"op": "after", "value": "2100-01-01T00:00:00Z"}], "serve": "on"},
        {"if": [{"attribute": "age", "op": "gte", "value": 99}], "serve": "on"}],
      "default": {"rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}},
    "text": {"variants": {"a": "alpha", "b": "beta"}, "default": "a",
             "rules": [{"if": [{"attribute": "region", "op": "eq", "value": "us"}], "serve": "b"}]},
    "json": {"variants": {"v": {"k": [1, 2, 3]}}, "default": "v"},
    "number": {"variants": {"v": 12}, "default": "v"}
  }})";

TEST(AllocationTest, EvaluationAllocatesNothing) {
  const std::unique_ptr<Client> created =
      testing_support::BootstrapClient(kFlags);
  ASSERT_NE(created, nullptr);
  Client& client = *created;
  FlagHandle complex = client.Flag("complex");
  FlagHandle fixed = client.Flag("static");

  Context ctx("user-42");
  ctx.Set("region", "us")
      .Set("app", "8.1.0")
      .Set("ua", "Mozilla")
      .Set("email", "x@y.z")
      .Set("age", 30);
  auto run = [&] {
    int sink = 0;
    sink += client.Enabled("static");
    sink += client.Enabled("killed", ctx);
    sink += client.Enabled("complex", ctx);
    sink += client.Enabled("missing", ctx);
    sink += complex.Enabled(ctx);
    sink += fixed.Enabled();
    sink += client.Evaluate("complex", ctx).rule_index;
    sink += static_cast<int>(client.GetString("text", "d", ctx).size());
    sink += static_cast<int>(client.GetJson("json", "").size());
    sink += static_cast<int>(client.GetInt("number", 0));
    sink += static_cast<int>(client.GetDouble("text", 1.0));  // type mismatch
    sink += complex.Evaluate(Context()).rule_index;  // missing bucket key
    sink += complex.GetBool(false, Context("vip"));
    return sink;
  };
  int total = 0;
  EXPECT_EQ(AllocationsInWarmRuns(run, &total), 0) << "evaluation allocated";
  EXPECT_NE(total, 0);
}

// Without counting. With counting on, a thread's first counted evaluation
// allocates its counters (see the next test).
TEST(AllocationTest, FirstEvaluationOnANewThreadAllocatesNothing) {
  ClientOptions options;
  options.bootstrap_json = kFlags;
  options.telemetry.counting = false;
  const std::unique_ptr<Client> created =
      testing_support::CreateClient(options);
  ASSERT_NE(created, nullptr);
  Client& client = *created;
  FlagHandle text = client.Flag("text");
  (void)client.Enabled("static");  // this thread's slot is claimed
  long allocations = -1;
  int total = 0;
  std::thread([&] {
    Context ctx("user-42");
    ctx.Set("region", "us");
    allocations = AllocationsIn([&] {
      // The thread's first read claims its hazard slot.
      total += client.Enabled("static");
      total += static_cast<int>(text.GetString("d", ctx).size());
      total += static_cast<int>(client.GetInt("number", 0));
    });
  }).join();
  EXPECT_EQ(allocations, 0) << "a thread's first evaluation allocated";
  EXPECT_NE(total, 0);
}

// Counting exposures and outcomes: a thread's first count allocates its
// counters once; every count after that allocates nothing.
TEST(AllocationTest, CountedEvaluationsAllocateNothingAfterTheFirst) {
  const std::unique_ptr<Client> created =
      testing_support::BootstrapClient(kFlags);
  ASSERT_NE(created, nullptr);
  Client& client = *created;
  FlagHandle handle = client.Flag("static");
  long allocations = -1;
  int total = 0;
  std::thread([&] {
    Context ctx("user-42");
    ctx.Set("region", "us");
    auto once = [&] {
      total += client.Enabled("static");
      total += handle.Enabled();
      total += client.Enabled("complex", ctx);
      total += static_cast<int>(client.GetString("text", "d", ctx).size());
      GuardScope guard = client.Guard("static", ctx);
      if (guard.enabled()) guard.Fail();
      client.Report("complex", true, ctx);
    };
    once();  // allocates this thread's counters
    allocations = AllocationsIn([&] {
      for (int i = 0; i < 10; ++i) once();
    });
  }).join();
  EXPECT_EQ(allocations, 0) << "a counted evaluation allocated";
  EXPECT_NE(total, 0);
}

// flagd definitions: every JSON Logic operator hotfix compiles, fractional
// in both forms, sem_ver, strings built by cat/substr, numbers turned into
// variant names, merge and missing (scratch arrays), errors.
constexpr char kFlagdFlags[] = R"({
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "$evaluators": {"corp": {"ends_with": [{"var": "email"}, "@y.z"]}},
  "flags": {
    "static": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"},
    "disabled": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"},
    "rule": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"if": [{"and": [{"$ref": "corp"},
        {"sem_ver": [{"var": "app"}, ">=", "8.0.0"]}, {"starts_with": [{"var": "region"}, "u"]},
        {"<": [18, {"var": "age"}, 65]}, {"in": [{"var": "region"}, ["eu", "us"]]},
        {"!": {"missing": ["email"]}}, {"!": [{"missing_some": [1, ["app", "x"]]}]},
        {"==": [{"%": [{"+": [{"var": "age"}, 1, {"*": [2, 3]}]}, 7]}, 2]},
        {">": [{"max": [{"var": "age"}, 3]}, {"min": [1, 2]}]},
        {"in": [{"var": "region"}, {"merge": [["eu"], [{"var": "region"}]]}]},
        {"===": [{"substr": [{"var": "email"}, -4]}, "@y.z"]},
        {"??": [{"var": "none"}, true]}, {"or": [false, {"var": "region"}]}]}, "on", "off"]}},
    "split": {"state": "ENABLED", "variants": {"a": "A", "b": "B"}, "defaultVariant": "a",
      "targeting": {"fractional": [["a", 10], ["b", 90]]}},
    "split-expr": {"state": "ENABLED", "variants": {"a": "A", "b": "B"}, "defaultVariant": "a",
      "targeting": {"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]},
        [{"if": [{"var": "vip"}, "b", "a"]}, 50], ["b", 50]]}},
    "number-name": {"state": "ENABLED", "variants": {"30": "thirty", "x": "X"}, "defaultVariant": "x",
      "targeting": {"var": "age"}},
    "general": {"state": "ENABLED", "variants": {"a": "A"}, "defaultVariant": "a",
      "targeting": {"==": [{"var": "region"}, 1]}}
  }})";

TEST(AllocationTest, FlagdEvaluationAllocatesNothing) {
  const std::unique_ptr<Client> created =
      testing_support::BootstrapClient(kFlagdFlags);
  ASSERT_NE(created, nullptr);
  Client& client = *created;
  FlagHandle rule = client.Flag("rule");
  Context ctx("user-42");
  ctx.Set("region", "us")
      .Set("app", "8.1.0")
      .Set("email", "x@y.z")
      .Set("age", 30);
  auto run = [&] {
    int sink = 0;
    sink += client.Enabled("static");
    sink += client.Enabled("disabled", ctx);
    sink += client.Enabled("rule", ctx);
    sink += rule.Enabled(ctx);
    sink += static_cast<int>(client.GetString("split", "d", ctx).size());
    sink += static_cast<int>(client.GetString("split-expr", "d", ctx).size());
    sink += static_cast<int>(client.GetString("number-name", "d", ctx).size());
    sink += static_cast<int>(client.Evaluate("general", ctx).error);
    sink += static_cast<int>(client.GetString("split", "d").size());
    return sink;
  };
  int total = 0;
  EXPECT_EQ(AllocationsInWarmRuns(run, &total), 0)
      << "flagd evaluation allocated";
  EXPECT_EQ(total, 1000 * (1 + 0 + 1 + 1 + 1 + 1 + 6 + 5 + 1));
}

TEST(AllocationTest, CounterSeesAllocations) {
  // Guards the test itself: the counting operator new is really in use, and a
  // string built by the library (a compile) is counted.
  void* p = nullptr;
  // A call, not a new-expression: new-expressions may be elided.
  EXPECT_EQ(AllocationsIn([&] { p = ::operator new(16); }), 1);
  ::operator delete(p);
  absl::StatusOr<std::unique_ptr<const Snapshot>> snapshot;
  const long allocations = AllocationsIn(
      [&] { snapshot = Compile(R"({"version": 1, "flags": {}})"); });
  EXPECT_TRUE(snapshot.ok());
  EXPECT_GT(allocations, 0);
}

}  // namespace
}  // namespace hotfix
