// Every wait of the library is measured on the steady clock: stepping the
// wall clock (NTP, an operator, libfaketime) neither stalls nor hurries
// polling, stream reconnects, file watching or WaitUntilReady().
//
// The test steps the wall clock of this process only: it interposes the C
// library's clock_gettime() and gettimeofday() (the entry points of
// absl::Now(), std::chrono::system_clock and Abseil's wait deadlines) and adds
// an offset to CLOCK_REALTIME readings; CLOCK_MONOTONIC is never touched. A
// wait whose deadline is an absolute wall-clock time computed from such a
// reading (what absl::Mutex does) lasts a year after a step forward and ends
// at once, or spins, after a step back. Every wait of the test itself is on
// the steady clock and bounded.

#include <dlfcn.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "support/flag_server.h"
#include "support/test_client.h"

namespace {

// Seconds added to every CLOCK_REALTIME reading of this process.
std::atomic<std::int64_t> g_wall_clock_offset_s{0};

}  // namespace

extern "C" int clock_gettime(clockid_t clock, struct timespec* ts) {
  using Fn = int (*)(clockid_t, struct timespec*);
  static const Fn real =
      reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "clock_gettime"));
  const int rc = real(clock, ts);
  if (rc == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
    ts->tv_sec += g_wall_clock_offset_s.load(std::memory_order_relaxed);
  }
  return rc;
}

extern "C" int gettimeofday(struct timeval* tv, void* tz) {
  using Fn = int (*)(struct timeval*, void*);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "gettimeofday"));
  const int rc = real(tv, tz);
  if (rc == 0 && tv != nullptr) {
    tv->tv_sec += g_wall_clock_offset_s.load(std::memory_order_relaxed);
  }
  return rc;
}

namespace hotfix {
namespace {

using ::hotfix::testing_support::BoolFlag;
using ::hotfix::testing_support::Document;
using ::hotfix::testing_support::FlagServer;

constexpr std::int64_t kYear = 365LL * 24 * 3600;
constexpr std::int64_t kHour = 3600;

// Steps the wall clock by `seconds` for its scope.
class WallClockStep {
 public:
  explicit WallClockStep(std::int64_t seconds) {
    g_wall_clock_offset_s.store(seconds);
  }
  ~WallClockStep() { g_wall_clock_offset_s.store(0); }
};

class WallClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.SetAll(1, {{"a", BoolFlag(false)}});
    ASSERT_TRUE(server_.Start(0));
  }
  void TearDown() override { g_wall_clock_offset_s.store(0); }

  ClientOptions Remote(RemoteMode mode) const {
    ClientOptions options = testing_support::TestClientOptions(
        server_.url(), FlagServer::kSdkKey, mode);
    options.remote.poll_interval = absl::Milliseconds(50);
    options.remote.heartbeat_timeout = absl::Seconds(5);
    options.remote.backoff_cap = absl::Milliseconds(100);
    return options;
  }

  FlagServer server_;
};

TEST_F(WallClockTest, PollingKeepsItsScheduleWhenTheWallClockSteps) {
  auto client = testing_support::CreateClient(Remote(RemoteMode::kPolling));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(
      FlagServer::Eventually([&] { return server_.flags_requests() >= 2; }));
  for (const std::int64_t step : {kYear, -kHour}) {
    SCOPED_TRACE(absl::StrCat("wall clock stepped by ", step, " s"));
    WallClockStep stepped(step);
    const int before = server_.flags_requests();
    // A poll every 50 ms: three more arrive well within the deadline unless
    // the waits follow the wall clock.
    EXPECT_TRUE(FlagServer::Eventually([&] {
      return server_.flags_requests() >= before + 3;
    })) << "polling stalled after the step";
  }
}

TEST_F(WallClockTest, StreamReconnectsOnScheduleWhenTheWallClockSteps) {
  auto client = testing_support::CreateClient(Remote(RemoteMode::kStreaming));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(FlagServer::Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  for (const std::int64_t step : {kYear, -kHour}) {
    SCOPED_TRACE(absl::StrCat("wall clock stepped by ", step, " s"));
    WallClockStep stepped(step);
    for (int i = 0; i < 2; ++i) {
      const int before = server_.stream_connections();
      server_.CloseStreams();
      // The reconnect waits a backoff of at most 100 ms.
      EXPECT_TRUE(FlagServer::Eventually([&] {
        return server_.stream_connections() > before &&
               client->GetStatus().connection == RemoteConnection::kStreaming;
      })) << "no reconnect after the step";
    }
  }
}

TEST_F(WallClockTest, FileSourceKeepsWatchingWhenTheWallClockSteps) {
  const std::string path = absl::StrCat(
      ::testing::TempDir(), "/hotfix_wall_clock_", getpid(), ".json");
  auto write = [&](int version) {
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp) << Document(version,
                                   {{"a", BoolFlag(version % 2 == 0)}});
    ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
  };
  write(1);
  ClientOptions options;
  options.file.path = path;
  options.file.poll_interval = absl::Milliseconds(10);
  auto client = testing_support::CreateClient(options);
  ASSERT_NE(client, nullptr);
  int version = 1;
  for (const std::int64_t step : {kYear, -kHour}) {
    SCOPED_TRACE(absl::StrCat("wall clock stepped by ", step, " s"));
    WallClockStep stepped(step);
    // Let the watch thread start a wait under the stepped clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    write(++version);
    EXPECT_TRUE(FlagServer::Eventually([&] {
      return client->version() == static_cast<std::uint64_t>(version);
    })) << "the edit was not loaded after the step";
  }
  std::remove(path.c_str());
}

TEST_F(WallClockTest, WaitUntilReadyTimesOutOnTheSteadyClock) {
  auto client = testing_support::CreateClient(ClientOptions());  // never ready
  ASSERT_NE(client, nullptr);
  {
    // Forward: a wall-clock deadline would lie a year ahead.
    WallClockStep stepped(kYear);
    auto waited = std::async(std::launch::async, [&] {
      return client->WaitUntilReady(absl::Milliseconds(100));
    });
    ASSERT_EQ(waited.wait_for(std::chrono::seconds(20)),
              std::future_status::ready)
        << "WaitUntilReady(100ms) still waiting after 20 s";
    EXPECT_FALSE(waited.get());
  }
  {
    // Back: a wall-clock deadline would already have passed. Only a lower
    // bound is checked, which no load can break.
    WallClockStep stepped(-kHour);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(client->WaitUntilReady(absl::Milliseconds(100)));
    EXPECT_GE(std::chrono::steady_clock::now() - start,
              std::chrono::milliseconds(100))
        << "WaitUntilReady returned before its timeout";
  }
}

}  // namespace
}  // namespace hotfix
