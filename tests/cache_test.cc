// The last-known-good cache file: atomic replacement (a failure at any step,
// injected through the real code path, leaves the old cache whole), identity
// checks, and readers that never see a torn file.

#include "sources/cache.h"

#include <dirent.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/temp_dir.h"

namespace hotfix {
namespace internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kIdentity[] = "http://flags.test key:0123456789abcdef";
const std::string kOld = R"({"version":1,"flags":{}})";
const std::string kNew =
    R"({"version":2,"flags":{"a":{"variants":{"on":true},"default":"on"}}})";

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.path() + "/flags.cache.json"; }

  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    DIR* dir = opendir(dir_.path().c_str());
    if (dir == nullptr) return names;
    while (dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
    return names;
  }
  std::string ReadRaw(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  testing_support::TempDir dir_;
  std::string path_;
};

TEST_F(CacheTest, StoreThenLoadRoundTrips) {
  Cache cache(path_, kIdentity);
  ASSERT_TRUE(cache.Store(kNew).ok());
  absl::StatusOr<std::string> loaded = cache.Load(1 << 20);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, kNew);
  // The file is one JSON document naming where it came from.
  EXPECT_THAT(ReadRaw(path_), HasSubstr("\"source\":\"http://flags.test key:"));
  EXPECT_THAT(Files(), ::testing::ElementsAre("flags.cache.json"));
}

TEST_F(CacheTest, MissingCacheIsNotFound) {
  Cache cache(path_, kIdentity);
  EXPECT_TRUE(absl::IsNotFound(cache.Load(1 << 20).status()));
}

TEST_F(CacheTest, CacheOfAnotherServerOrKeyIsRefused) {
  ASSERT_TRUE(
      Cache(path_, CacheIdentity("http://a.test", "key-1")).Store(kOld).ok());
  absl::StatusOr<std::string> other =
      Cache(path_, CacheIdentity("http://a.test", "key-2")).Load(1 << 20);
  EXPECT_TRUE(absl::IsFailedPrecondition(other.status())) << other.status();
  other = Cache(path_, CacheIdentity("http://b.test", "key-1")).Load(1 << 20);
  EXPECT_TRUE(absl::IsFailedPrecondition(other.status())) << other.status();
  EXPECT_TRUE(Cache(path_, CacheIdentity("http://a.test/", "key-1"))
                  .Load(1 << 20)
                  .ok());
}

TEST_F(CacheTest, IdentityNeverContainsTheKey) {
  const std::string identity =
      CacheIdentity("https://flags.test//", "s3cret-key");
  EXPECT_THAT(identity, Not(HasSubstr("s3cret")));
  EXPECT_TRUE(absl::StartsWith(identity, "https://flags.test key:"))
      << identity;
}

TEST_F(CacheTest, GarbageOrTooLargeFileIsDataLoss) {
  std::ofstream(path_) << "{\"version\":1,\"flags\":{}}";
  Cache cache(path_, kIdentity);
  EXPECT_TRUE(absl::IsDataLoss(cache.Load(1 << 20).status()));
  ASSERT_TRUE(cache.Store(kNew).ok());
  EXPECT_TRUE(absl::IsDataLoss(cache.Load(kNew.size() - 1).status()));
}

TEST_F(CacheTest, FailureBeforeTheRenameKeepsTheOldCacheWhole) {
  for (Cache::Step step :
       {Cache::Step::kTempOpened, Cache::Step::kPartiallyWritten,
        Cache::Step::kWritten, Cache::Step::kSynced}) {
    SCOPED_TRACE(static_cast<int>(step));
    Cache cache(path_, kIdentity);
    ASSERT_TRUE(cache.Store(kOld).ok());
    bool reached = false;
    cache.SetFailureHookForTesting([&](Cache::Step at) {
      if (at != step) return absl::OkStatus();
      reached = true;
      return absl::InternalError("injected crash");
    });
    absl::Status status = cache.Store(kNew);
    EXPECT_TRUE(reached);
    EXPECT_FALSE(status.ok());
    EXPECT_THAT(std::string(status.message()), HasSubstr("injected crash"));
    absl::StatusOr<std::string> loaded = cache.Load(1 << 20);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(*loaded, kOld);
    // No temporary file is left behind.
    EXPECT_THAT(Files(), ::testing::ElementsAre("flags.cache.json"));
    // And the next store works.
    cache.SetFailureHookForTesting(nullptr);
    ASSERT_TRUE(cache.Store(kNew).ok());
    EXPECT_EQ(*cache.Load(1 << 20), kNew);
  }
}

TEST_F(CacheTest, HalfWrittenBytesGoToASeparateFile) {
  Cache cache(path_, kIdentity);
  ASSERT_TRUE(cache.Store(kOld).ok());
  std::string cache_during_write;
  std::vector<std::string> files_during_write;
  cache.SetFailureHookForTesting([&](Cache::Step at) {
    if (at == Cache::Step::kPartiallyWritten) {
      cache_during_write = *cache.Load(1 << 20);  // Load does not lock
      files_during_write = Files();
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(cache.Store(kNew).ok());
  EXPECT_EQ(cache_during_write, kOld);
  EXPECT_EQ(files_during_write.size(), 2u);  // the cache and the temporary
  EXPECT_EQ(*cache.Load(1 << 20), kNew);
}

TEST_F(CacheTest, FailureAfterTheRenameLeavesTheNewCache) {
  Cache cache(path_, kIdentity);
  ASSERT_TRUE(cache.Store(kOld).ok());
  cache.SetFailureHookForTesting([](Cache::Step at) {
    return at == Cache::Step::kRenamed ? absl::InternalError("injected crash")
                                       : absl::OkStatus();
  });
  EXPECT_FALSE(cache.Store(kNew).ok());
  EXPECT_EQ(*cache.Load(1 << 20), kNew);
}

TEST_F(CacheTest, UnwritableDirectoryIsAnErrorNamingThePath) {
  Cache cache(dir_.path() + "/missing/dir/cache.json", kIdentity);
  absl::Status status = cache.Store(kNew);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("missing/dir/cache.json"));
}

TEST_F(CacheTest, ReadersNeverSeeATornFile) {
  Cache cache(path_, kIdentity);
  ASSERT_TRUE(cache.Store(kOld).ok());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    Cache reader_view(path_, kIdentity);
    while (!done.load()) {
      absl::StatusOr<std::string> loaded = reader_view.Load(1 << 20);
      if (!loaded.ok() || (*loaded != kOld && *loaded != kNew)) ++bad;
      ++reads;
    }
  });
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(cache.Store(i % 2 ? kOld : kNew).ok());
  while (reads.load() < 10) std::this_thread::yield();
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace internal
}  // namespace hotfix
