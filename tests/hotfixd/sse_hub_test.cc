// tests/hotfixd/sse_hub_test.cc
//
// The stream fan-out (tools/hotfixd/core/sse_hub.h) without sockets: what a
// subscriber is given when polled (put, patches, heartbeats, resume from
// Last-Event-ID, a put when the history has a gap), that a change wakes
// every subscriber, that closing a token's streams and shutting down end
// them, and the stream limits (in all, per key, admission rate with a
// Retry-After that spreads a storm).

#include "core/sse_hub.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace hotfix {
namespace hotfixd {
namespace {

SharedText Text(std::string s) { return tools::MakeShared(std::move(s)); }

std::string Joined(const std::vector<SharedText>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += *p;
  return out;
}

// A hub whose heartbeat never ticks during a test.
std::unique_ptr<SseHub> MakeHub(int max_streams = 100, int per_key = 100,
                                int rate = 100000) {
  auto hub =
      std::make_unique<SseHub>(absl::Hours(1), 16, max_streams, per_key, rate);
  hub->AddEnvironment("prod", 3, Text(R"({"version":3,"flags":{}})"), {});
  return hub;
}

StreamChange Patch(std::uint64_t version) {
  return {version, MakePatchEvent(version, "f", std::string("{}"))};
}

TEST(SseHubTest, NewSubscriberGetsAPutOfTheCurrentSet) {
  auto hub = MakeHub();
  auto sub = hub->Subscribe("prod", std::nullopt, "tok");
  ASSERT_TRUE(sub.ok());
  std::vector<SharedText> out;
  ASSERT_TRUE((*sub)->Poll(&out));
  EXPECT_EQ(Joined(out),
            "event: put\nid: 3\ndata: {\"version\":3,\"flags\":{}}\n\n");
  out.clear();
  ASSERT_TRUE((*sub)->Poll(&out));
  EXPECT_TRUE(out.empty()) << "nothing new, and no heartbeat tick yet";
}

TEST(SseHubTest, ChangesWakeSubscribersAndArriveAsPatches) {
  auto hub = MakeHub();
  auto sub = *hub->Subscribe("prod", std::nullopt, "tok");
  std::vector<SharedText> out;
  sub->Poll(&out);
  std::atomic<int> wakes{0};
  sub->SetWaker([&] { wakes.fetch_add(1); });
  hub->Publish("prod", Text(R"({"version":4})"), Patch(4));
  EXPECT_GE(wakes.load(), 1);
  out.clear();
  ASSERT_TRUE(sub->Poll(&out));
  EXPECT_NE(Joined(out).find("event: patch\nid: 4\n"), std::string::npos);
  EXPECT_EQ(sub->cursor(), 4u);
}

TEST(SseHubTest, ResumeSendsOnlyWhatTheClientMissed) {
  auto hub = MakeHub();
  hub->Publish("prod", Text(R"({"version":4})"), Patch(4));
  hub->Publish("prod", Text(R"({"version":5})"), Patch(5));
  auto sub = *hub->Subscribe("prod", 4, "tok");
  std::vector<SharedText> out;
  sub->Poll(&out);
  const std::string sent = Joined(out);
  EXPECT_EQ(sent.find("id: 4\n"), std::string::npos);
  EXPECT_NE(sent.find("event: patch\nid: 5\n"), std::string::npos);
  // Up to date: a heartbeat confirms the version.
  auto current = *hub->Subscribe("prod", 5, "tok");
  out.clear();
  current->Poll(&out);
  EXPECT_EQ(Joined(out), "event: heartbeat\ndata: {\"version\":5}\n\n");
}

TEST(SseHubTest, AChangeThatIsNotAPatchForcesAPut) {
  auto hub = MakeHub();
  hub->Publish("prod", Text(R"({"version":4})"), StreamChange{4, nullptr});
  auto sub = *hub->Subscribe("prod", 3, "tok");
  std::vector<SharedText> out;
  sub->Poll(&out);
  EXPECT_EQ(Joined(out).rfind("event: put\nid: 4\n", 0), 0u);
}

TEST(SseHubTest, ClosingATokensStreamsEndsOnlyThose) {
  auto hub = MakeHub();
  auto mine = *hub->Subscribe("prod", std::nullopt, "revoked");
  auto other = *hub->Subscribe("prod", std::nullopt, "kept");
  std::atomic<int> wakes{0};
  mine->SetWaker([&] { wakes.fetch_add(1); });
  hub->CloseStreamsOf("revoked");
  EXPECT_GE(wakes.load(), 1);
  std::vector<SharedText> out;
  EXPECT_FALSE(mine->Poll(&out));
  EXPECT_TRUE(other->Poll(&out));
}

TEST(SseHubTest, ShutdownEndsEveryStream) {
  auto hub = MakeHub();
  auto sub = *hub->Subscribe("prod", std::nullopt, "tok");
  hub->Shutdown();
  std::vector<SharedText> out;
  EXPECT_FALSE(sub->Poll(&out));
  EXPECT_EQ(hub->Subscribe("prod", std::nullopt, "tok").status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(SseHubTest, StreamLimitsInAllAndPerKey) {
  auto hub = MakeHub(/*max_streams=*/3, /*per_key=*/2);
  auto a = hub->Subscribe("prod", std::nullopt, "k1");
  auto b = hub->Subscribe("prod", std::nullopt, "k1");
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = hub->Subscribe("prod", std::nullopt, "k1");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  auto d = hub->Subscribe("prod", std::nullopt, "k2");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(hub->Subscribe("prod", std::nullopt, "k3").status().code(),
            absl::StatusCode::kResourceExhausted);
  a->reset();
  EXPECT_TRUE(hub->Subscribe("prod", std::nullopt, "k1").ok());
  EXPECT_EQ(hub->Subscribe("nowhere", std::nullopt, "k1").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SseHubTest, AStormIsAdmittedAtTheRateAndToldToComeBackLater) {
  auto hub = MakeHub(/*max_streams=*/1000, /*per_key=*/1000, /*rate=*/10);
  std::vector<std::unique_ptr<Subscription>> admitted;
  std::vector<int> retry_after;
  for (int i = 0; i < 40; ++i) {
    auto sub = hub->Subscribe("prod", std::nullopt, "fleet");
    if (sub.ok()) {
      admitted.push_back(*std::move(sub));
    } else {
      EXPECT_EQ(sub.status().code(), absl::StatusCode::kResourceExhausted);
      retry_after.push_back(RetryAfterSeconds(sub.status()));
    }
  }
  // A bucket of one second's worth; the rest are spread over later seconds.
  EXPECT_GE(admitted.size(), 10u);
  EXPECT_LE(admitted.size(), 12u);
  ASSERT_FALSE(retry_after.empty());
  EXPECT_GE(retry_after.front(), 1);
  EXPECT_GT(retry_after.back(), retry_after.front());
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix
