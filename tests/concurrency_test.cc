// Publication under concurrency: readers evaluating while a writer swaps
// snapshots thousands of times never see half a snapshot, never touch a
// freed one (run under ThreadSanitizer and AddressSanitizer in CI), and
// retired snapshots are reclaimed once no reader holds them.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/publisher.h"
#include "eval/evaluate.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "snapshot/compile.h"

namespace hotfix {
namespace {

#if defined(HOTFIX_SANITIZER_BUILD)
constexpr int kPublications = 2000;
#else
constexpr int kPublications = 10000;
#endif
constexpr int kReaders = 4;

// Version v: flags "a" and "b" both serve v % 2 == 0, and "n" serves v.
std::string Doc(int v) {
  const char* value = v % 2 == 0 ? "true" : "false";
  return absl::StrCat(R"({"version": )", v, R"(, "flags": {
    "a": {"variants": {"x": )", value, R"(}, "default": "x"},
    "b": {"variants": {"x": )", value, R"(}, "default": "x",
          "rules": [{"if": [{"attribute": "r", "op": "eq", "value": "never"}], "serve": "x"}]},
    "n": {"variants": {"x": )", v, R"(}, "default": "x"}}})");
}

std::unique_ptr<const Snapshot> CompileDoc(int v,
                                           std::shared_ptr<internal::StringPool> pool) {
  auto set = internal::CompileFlagSet(Doc(v), CompileOptions(), std::move(pool));
  EXPECT_TRUE(set.ok()) << set.status();
  return internal::SnapshotAccess::Wrap(*std::move(set));
}

TEST(PublisherTest, ReadersNeverSeeHalfASnapshot) {
  auto pool = std::make_shared<internal::StringPool>();
  internal::Publisher publisher;
  publisher.Publish(CompileDoc(1, pool), SnapshotOrigin::kTest, absl::Now());
  std::atomic<bool> done{false};
  std::atomic<long> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      long local = 0;
      std::uint64_t last_version = 0;
      while (!done.load(std::memory_order_relaxed)) {
        internal::Publisher::ReadGuard guard(publisher);
        const internal::Published* p = guard.get();
        ASSERT_NE(p, nullptr);
        internal::EvalClock clock;
        const EvaluationDetail a =
            internal::EvaluateByName(*p->set, "a", Context(), ValueType::kBool, clock);
        const EvaluationDetail b =
            internal::EvaluateByName(*p->set, "b", Context("k"), ValueType::kBool, clock);
        const EvaluationDetail n =
            internal::EvaluateByName(*p->set, "n", Context(), ValueType::kNumber, clock);
        ASSERT_EQ(a.snapshot_version, b.snapshot_version);
        ASSERT_EQ(a.value.bool_value, b.value.bool_value);
        ASSERT_EQ(n.value.number_value, static_cast<double>(a.snapshot_version));
        ASSERT_EQ(a.value.bool_value, a.snapshot_version % 2 == 0);
        ASSERT_GE(a.snapshot_version, last_version);  // never goes back
        last_version = a.snapshot_version;
        ++local;
      }
      reads += local;
    });
  }
  for (int v = 2; v <= kPublications; ++v) {
    publisher.Publish(CompileDoc(v, pool), SnapshotOrigin::kTest, absl::Now());
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(reads.load(), 0);
  publisher.Reclaim();
  EXPECT_EQ(publisher.retired_count(), 0u);
  EXPECT_EQ(publisher.version(), static_cast<std::uint64_t>(kPublications));
}

TEST(PublisherTest, HeldSnapshotIsNotFreedUntilReleased) {
  auto pool = std::make_shared<internal::StringPool>();
  internal::Publisher publisher;
  publisher.Publish(CompileDoc(1, pool), SnapshotOrigin::kTest, absl::Now());
  std::atomic<bool> holding{false}, release{false};
  std::thread reader([&] {
    internal::Publisher::ReadGuard guard(publisher);
    holding = true;
    while (!release) std::this_thread::yield();
    // Still intact although two newer snapshots were published meanwhile.
    EXPECT_EQ(guard.get()->set->version, 1u);
    EXPECT_EQ(guard.get()->set->flags.size(), 3u);
  });
  while (!holding) std::this_thread::yield();
  publisher.Publish(CompileDoc(2, pool), SnapshotOrigin::kTest, absl::Now());
  publisher.Publish(CompileDoc(3, pool), SnapshotOrigin::kTest, absl::Now());
  EXPECT_EQ(publisher.retired_count(), 1u);  // v1 pinned; v2 was freed
  release = true;
  reader.join();
  publisher.Reclaim();
  EXPECT_EQ(publisher.retired_count(), 0u);
}

TEST(PublisherTest, ManyShortLivedThreadsReuseSlots) {
  auto pool = std::make_shared<internal::StringPool>();
  internal::Publisher publisher;
  publisher.Publish(CompileDoc(2, pool), SnapshotOrigin::kTest, absl::Now());
  for (int round = 0; round < 50; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        internal::Publisher::ReadGuard guard(publisher);
        EXPECT_EQ(guard.get()->set->version, 2u);
      });
    }
    for (auto& t : threads) t.join();
    publisher.Publish(CompileDoc(2 + 2 * (round + 1), pool), SnapshotOrigin::kTest,
                      absl::Now());
    EXPECT_EQ(publisher.retired_count(), 0u);  // exited threads pin nothing
    publisher.Publish(CompileDoc(2, pool), SnapshotOrigin::kTest, absl::Now());
  }
}

TEST(ClientConcurrencyTest, EvaluationsStayConsistentWhileFlagsChange) {
  ClientOptions options;
  options.bootstrap_json = Doc(1);
  auto created = Client::Create(options);
  ASSERT_TRUE(created.ok());
  Client& client = **created;
  FlagHandle a = client.Flag("a");
  FlagHandle b = client.Flag("b");
  std::atomic<bool> done{false};
  std::atomic<int> listener_calls{0};
  client.AddListener([&](const ChangeEvent& e) {
    ++listener_calls;
    EXPECT_LT(e.old_version, e.new_version);
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      while (!done.load(std::memory_order_relaxed)) {
        const EvaluationDetail d = (r % 2 == 0) ? client.Evaluate("a") : b.Evaluate(Context("k"));
        ASSERT_EQ(d.value.type, ValueType::kBool);
        ASSERT_EQ(d.value.bool_value, d.snapshot_version % 2 == 0);
        (void)client.Enabled("b", Context("k"));
        (void)a.Enabled();
        (void)client.GetInt("n", -1);
      }
    });
  }
  const int publications = kPublications / 5;
  for (int v = 2; v <= publications; ++v) {
    ASSERT_TRUE(client.Publish(Doc(v)).ok());
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(listener_calls.load(), publications - 1);
  EXPECT_EQ(client.version(), static_cast<std::uint64_t>(publications));
  EXPECT_EQ(a.Enabled(), publications % 2 == 0);
}

TEST(ClientConcurrencyTest, ConcurrentWritersAndHandleCreation) {
  auto created = Client::Create(ClientOptions());
  ASSERT_TRUE(created.ok());
  Client& client = **created;
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(client.Publish(Doc(2 * i + w + 1)).ok());
        (void)client.Flag(absl::StrCat("h", i % 10)).Enabled();
      }
    });
  }
  for (auto& t : threads) t.join();
  const EvaluationDetail d = client.Evaluate("a");
  EXPECT_EQ(d.value.bool_value, d.snapshot_version % 2 == 0);
}

}  // namespace
}  // namespace hotfix
