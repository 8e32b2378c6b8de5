// tests/integration/concurrency_test.cc
//
// Two operators cannot silently overwrite each other: writers that both read
// version V and send If-Match: V race, exactly one wins and the other gets
// 412 (with the current version in the answer). Writers without If-Match are
// serialized: every acknowledged write lands, versions stay contiguous.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

class ConcurrencyTest : public ServerTest {
 protected:
  void SetUp() override { Start(); }

  std::uint64_t CurrentVersion() {
    HttpReply r = Http(server_->port(), "GET", "/v1/flags", kSdkKey);
    return std::stoull(r.Header("X-Hotfix-Version"));
  }
};

TEST_F(ConcurrencyTest, TwoWritersWithTheSameIfMatchExactlyOneWins) {
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::uint64_t base = CurrentVersion();
    absl::Barrier* barrier = new absl::Barrier(2);
    std::vector<HttpReply> replies(2);
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
      writers.emplace_back([&, w] {
        const std::string body =
            absl::StrCat(R"({"reason":"operator )", w,
                         R"(","flag":{"variants":{"v":"writer-)", w, "-", round,
                         R"("},"default":"v"}})");
        httplib::Headers headers = {{"If-Match", absl::StrCat(base)}};
        if (barrier->Block()) delete barrier;
        replies[w] = Http(server_->port(), "PUT",
                          "/v1/admin/envs/production/flags/contended",
                          kAdminToken, body, headers);
      });
    }
    for (std::thread& t : writers) t.join();
    int ok = 0;
    int conflict = 0;
    for (const HttpReply& r : replies) {
      if (r.status == 200) ++ok;
      if (r.status == 412) {
        ++conflict;
        EXPECT_NE(r.body.find("FAILED_PRECONDITION"), std::string::npos)
            << r.body;
        EXPECT_EQ(r.Header("X-Hotfix-Version"), absl::StrCat(base + 1));
      }
    }
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(conflict, 1);
    EXPECT_EQ(CurrentVersion(), base + 1);
  }
}

TEST_F(ConcurrencyTest, StaleIfMatchIsRejectedInEveryForm) {
  HttpReply first =
      Http(server_->port(), "POST",
           "/v1/admin/envs/production/flags/kill-recommendations/kill",
           kAdminToken, R"({"reason":"a"})", {{"If-Match", "1"}});
  ASSERT_EQ(first.status, 200) << first.body;
  for (const char* stale :
       {"1", "\"1\"", "\"production-1\"", "W/\"production-1\""}) {
    HttpReply r =
        Http(server_->port(), "POST",
             "/v1/admin/envs/production/flags/kill-recommendations/revive",
             kAdminToken, R"({"reason":"b"})", {{"If-Match", stale}});
    EXPECT_EQ(r.status, 412) << stale;
  }
  HttpReply current = Http(
      server_->port(), "POST",
      "/v1/admin/envs/production/flags/kill-recommendations/revive",
      kAdminToken, R"({"reason":"c"})", {{"If-Match", "\"production-2\""}});
  EXPECT_EQ(current.status, 200) << current.body;
  HttpReply bad =
      Http(server_->port(), "POST",
           "/v1/admin/envs/production/flags/kill-recommendations/kill",
           kAdminToken, R"({"reason":"d"})", {{"If-Match", "yesterday"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("If-Match"), std::string::npos);
}

TEST_F(ConcurrencyTest, WritersWithoutIfMatchAreSerializedAndAllLand) {
  constexpr int kWriters = 4;
  constexpr int kWrites = 10;
  const std::uint64_t base = CurrentVersion();
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kWrites; ++i) {
        const std::string body = absl::StrCat(
            R"({"reason":"bulk","flag":{"variants":{"on":true},"default":"on"}})");
        HttpReply r =
            Http(server_->port(), "PUT",
                 absl::StrCat("/v1/admin/envs/production/flags/w", w, "-", i),
                 kAdminToken, body);
        if (r.status != 200) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(CurrentVersion(), base + kWriters * kWrites);
  HttpReply flags = Http(server_->port(), "GET", "/v1/flags", kSdkKey);
  rapidjson::Document doc = flags.Json();
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kWrites; ++i) {
      EXPECT_TRUE(doc["flags"].HasMember(absl::StrCat("w", w, "-", i).c_str()));
    }
  }
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
