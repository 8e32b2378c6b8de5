// Publication under concurrency: readers evaluating while a writer swaps
// snapshots thousands of times never see half a snapshot, never touch a
// freed one (run under ThreadSanitizer and AddressSanitizer in CI), and
// retired snapshots are reclaimed once no reader holds them, also after
// membarrier() starts failing. Handles never answer from an older snapshot
// than the client, and threads that read while they exit give their hazard
// slots back.

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

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
#include "hotfix/log.h"
#include "snapshot/compile.h"

namespace hotfix {
namespace {

#if defined(HOTFIX_SANITIZER_BUILD)
constexpr int kPublications = 2000;
constexpr int kOtherHandles = 2000;
#else
constexpr int kPublications = 10000;
constexpr int kOtherHandles = 20000;
#endif
constexpr int kReaders = 4;

// Version v: flags "a" and "b" both serve v % 2 == 0, and "n" serves v.
std::string Doc(int v) {
  const char* value = v % 2 == 0 ? "true" : "false";
  return absl::StrCat(R"({"version": )", v, R"(, "flags": {
    "a": {"variants": {"x": )",
                      value, R"(}, "default": "x"},
    "b": {"variants": {"x": )",
                      value, R"(}, "default": "x",
          "rules": [{"if": [{"attribute": "r", "op": "eq", "value": "never"}], "serve": "x"}]},
    "n": {"variants": {"x": )",
                      v, R"(}, "default": "x"}}})");
}

std::unique_ptr<const Snapshot> CompileDoc(
    int v, std::shared_ptr<internal::StringPool> pool) {
  auto set =
      internal::CompileFlagSet(Doc(v), CompileOptions(), std::move(pool));
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
        const EvaluationDetail a = internal::EvaluateByName(
            *p->set, "a", Context(), ValueType::kBool, clock);
        const EvaluationDetail b = internal::EvaluateByName(
            *p->set, "b", Context("k"), ValueType::kBool, clock);
        const EvaluationDetail n = internal::EvaluateByName(
            *p->set, "n", Context(), ValueType::kNumber, clock);
        ASSERT_EQ(a.snapshot_version, b.snapshot_version);
        ASSERT_EQ(a.value.bool_value, b.value.bool_value);
        ASSERT_EQ(n.value.number_value,
                  static_cast<double>(a.snapshot_version));
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
    publisher.Publish(CompileDoc(2 + 2 * (round + 1), pool),
                      SnapshotOrigin::kTest, absl::Now());
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
        const EvaluationDetail d =
            (r % 2 == 0) ? client.Evaluate("a") : b.Evaluate(Context("k"));
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

TEST(PublisherTest, NestedReadsOnOneThreadPinBothSnapshots) {
  auto pool = std::make_shared<internal::StringPool>();
  internal::Publisher publisher;
  publisher.Publish(CompileDoc(1, pool), SnapshotOrigin::kTest, absl::Now());
  {
    internal::Publisher::ReadGuard outer(publisher);
    publisher.Publish(CompileDoc(2, pool), SnapshotOrigin::kTest, absl::Now());
    {
      internal::Publisher::ReadGuard inner(publisher);
      publisher.Publish(CompileDoc(3, pool), SnapshotOrigin::kTest,
                        absl::Now());
      EXPECT_EQ(outer.get()->set->version, 1u);
      EXPECT_EQ(inner.get()->set->version, 2u);
      EXPECT_EQ(publisher.retired_count(), 2u);  // both still pinned
    }
    publisher.Reclaim();
    EXPECT_EQ(publisher.retired_count(), 1u);  // v2 freed, v1 still pinned
    EXPECT_EQ(outer.get()->set->flags.size(), 3u);
  }
  publisher.Reclaim();
  EXPECT_EQ(publisher.retired_count(), 0u);
}

// Installs, on the calling thread only, a seccomp filter under which
// membarrier() fails with EPERM, as a sandbox applied after start-up would.
// False if this system does not allow it.
bool DenyMembarrierOnThisThread() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  sock_fprog program{sizeof(filter) / sizeof(filter[0]), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

TEST(PublisherTest, MembarrierFailingLaterIsLoggedOnceAndReclamationGoesOn) {
  std::atomic<int> membarrier_logs{0};
  SetLogSink([&](LogLevel, std::string_view message) {
    if (message.find("membarrier") != std::string_view::npos) ++membarrier_logs;
  });
  auto pool = std::make_shared<internal::StringPool>();
  internal::Publisher publisher;
  publisher.Publish(CompileDoc(1, pool), SnapshotOrigin::kTest, absl::Now());
  if (!publisher.light()) {
    SetLogSink(nullptr);
    GTEST_SKIP() << "readers do not use membarrier() here (no kernel "
                    "support, or a ThreadSanitizer build)";
  }
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      while (!done.load(std::memory_order_relaxed)) {
        internal::Publisher::ReadGuard guard(publisher);
        internal::EvalClock clock;
        const EvaluationDetail a = internal::EvaluateByName(
            *guard.get()->set, "a", Context(), ValueType::kBool, clock);
        const EvaluationDetail n = internal::EvaluateByName(
            *guard.get()->set, "n", Context(), ValueType::kNumber, clock);
        ASSERT_EQ(a.value.bool_value, a.snapshot_version % 2 == 0);
        ASSERT_EQ(n.value.number_value,
                  static_cast<double>(a.snapshot_version));
      }
    });
  }
  constexpr int kLast = 500;
  bool denied = false;
  std::size_t retired_after = 0;
  std::thread writer([&] {
    denied = DenyMembarrierOnThisThread();
    if (!denied) return;
    for (int v = 2; v <= kLast; ++v) {
      publisher.Publish(CompileDoc(v, pool), SnapshotOrigin::kTest,
                        absl::Now());
    }
    // Measured on the thread whose membarrier() fails.
    retired_after = publisher.retired_count();
  });
  writer.join();
  done = true;
  for (auto& t : readers) t.join();
  SetLogSink(nullptr);
  if (!denied) GTEST_SKIP() << "seccomp filters are not allowed here";

  EXPECT_FALSE(publisher.light());
  EXPECT_EQ(membarrier_logs.load(), 1);
  // Reclamation went on with the seq_cst protocol: only snapshots pinned at
  // the last publication can be left...
  EXPECT_LE(retired_after, static_cast<std::size_t>(kReaders));
  // ...and what was retired or current when membarrier() first failed is
  // kept for good: a bounded number.
  EXPECT_LE(publisher.kept_count(), static_cast<std::size_t>(kReaders) + 2);
  EXPECT_EQ(publisher.version(), static_cast<std::uint64_t>(kLast));
}

// ------------------------------------------------------------ hazard slots

// Evaluates in its destructor, which runs at thread exit.
struct EvaluatesAtThreadExit {
  const Client* client = nullptr;
  ~EvaluatesAtThreadExit() {
    if (client != nullptr) (void)client->Enabled("a");
  }
};
thread_local EvaluatesAtThreadExit t_evaluates_at_exit;

TEST(HazardSlotTest, ThreadLocalDestructorsThatEvaluateLeakNoSlot) {
  ClientOptions options;
  options.bootstrap_json = Doc(2);
  auto created = Client::Create(options);
  ASSERT_TRUE(created.ok());
  const Client& client = **created;
  (void)client.Enabled("a");  // this thread's slot is claimed
  const std::size_t slots = internal::HazardSlotCount();
  const std::size_t owned = internal::OwnedHazardSlotCount();
  for (int i = 0; i < 100; ++i) {
    std::thread([&] {
      // Constructed before the thread's first read, so destroyed after
      // whatever the first read arranges for the thread's exit.
      t_evaluates_at_exit.client = &client;
      EXPECT_TRUE(client.Enabled("a"));
    }).join();
  }
  EXPECT_EQ(internal::OwnedHazardSlotCount(), owned);
  EXPECT_EQ(internal::HazardSlotCount(), slots);
}

TEST(HazardSlotTest, ReadsAfterTheThreadGaveItsSlotBackLeakNoSlot) {
  ClientOptions options;
  options.bootstrap_json = Doc(2);
  auto created = Client::Create(options);
  ASSERT_TRUE(created.ok());
  const Client& client = **created;
  (void)client.Enabled("a");
  // A pthread-key destructor created after the library's: it runs after the
  // thread's slot was given back.
  pthread_key_t key;
  ASSERT_EQ(
      pthread_key_create(
          &key,
          [](void* c) { (void)static_cast<const Client*>(c)->Enabled("a"); }),
      0);
  const std::size_t slots = internal::HazardSlotCount();
  const std::size_t owned = internal::OwnedHazardSlotCount();
  for (int i = 0; i < 100; ++i) {
    std::thread([&] {
      EXPECT_TRUE(client.Enabled("a"));
      pthread_setspecific(key, &client);
    }).join();
  }
  EXPECT_EQ(internal::OwnedHazardSlotCount(), owned);
  EXPECT_EQ(internal::HazardSlotCount(), slots);
  pthread_key_delete(key);
}

// ------------------------------------------------------------ handles

// Version v: the static flags "a" and "b" serve v % 2 == 0.
std::string StaticDoc(int v) {
  const char* value = v % 2 == 0 ? "true" : "false";
  return absl::StrCat(R"({"version": )", v, R"(, "flags": {
    "a": {"variants": {"x": )",
                      value, R"(}, "default": "x"},
    "b": {"variants": {"x": )",
                      value, R"(}, "default": "x"}}})");
}

TEST(HandleConcurrencyTest,
     HandlesNeverAnswerFromAnOlderSnapshotThanTheClient) {
  ClientOptions options;
  options.bootstrap_json = StaticDoc(1);
  auto created = Client::Create(options);
  ASSERT_TRUE(created.ok());
  Client& client = **created;
  // Many handles: a publication has many cells to update, which widens any
  // window in which a cell could lag the swap.
  std::vector<FlagHandle> others;
  for (int i = 0; i < kOtherHandles; ++i) {
    others.push_back(client.Flag(absl::StrCat("k", i)));
  }
  const FlagHandle a = client.Flag("a");
  const FlagHandle b = client.Flag("b");
  std::atomic<bool> done{false};
  std::atomic<long> checked{0}, lagging{0}, disagreeing{0};
  std::thread reader([&] {
    while (!done.load(std::memory_order_relaxed)) {
      const EvaluationDetail d = client.Evaluate("a");  // sees version v
      const bool by_a = a.Enabled();
      const bool by_b = b.Enabled();
      // Versions only grow: if v is still current now, it was current all
      // along, and both handles must have answered as v does.
      if (client.version() != d.snapshot_version) continue;
      ++checked;
      if (by_a != d.value.bool_value) ++lagging;
      if (by_b != d.value.bool_value) ++disagreeing;
    }
  });
  const int publications = kPublications / 25;
  for (int v = 2; v <= publications; ++v) {
    ASSERT_TRUE(client.Publish(StaticDoc(v)).ok());
  }
  done = true;
  reader.join();
  EXPECT_GT(checked.load(), 0);
  EXPECT_EQ(lagging.load(), 0) << "of " << checked.load() << " reads";
  EXPECT_EQ(disagreeing.load(), 0) << "of " << checked.load() << " reads";
  EXPECT_EQ(a.Enabled(), publications % 2 == 0);
}

}  // namespace
}  // namespace hotfix
