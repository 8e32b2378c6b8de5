// tests/integration/lifecycle_test.cc
//
// Connection limits and shutdown, as docs/operations.md states them: a client
// that stops reading a reply is dropped after --io-timeout; keep-alive ends
// after --keep-alive-max requests and after --keep-alive-timeout of silence;
// on SIGTERM streams end cleanly, a request that arrives meanwhile gets 503,
// and the process exits 0; and the stream metrics count what happened.

#include <csignal>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr absl::Duration kWait = absl::Seconds(15);

std::string Get(const std::string& path, const std::string& token,
                bool close = false) {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                      "Authorization: Bearer ", token, "\r\n",
                      close ? "Connection: close\r\n" : "", "\r\n");
}

// Each test starts the server with the limits it exercises.
using LifecycleTest = ServerTest;

TEST_F(LifecycleTest, AClientThatStopsReadingIsDroppedAfterTheIoTimeout) {
  Start({"--io-timeout", "1s", "--max-body-bytes", "67108864"});
  // A 24 MB flag set: more than the socket buffers on both sides hold.
  const std::string big(24 << 20, 'x');
  HttpReply put =
      Http(server_->port(), "PUT", "/v1/admin/envs/production/flags/huge",
           kAdminToken,
           absl::StrCat(R"({"reason":"x","flag":{"variants":{"on":true},)",
                        R"("default":"on","description":")", big, R"("}})"));
  ASSERT_EQ(put.status, 200) << put.body.substr(0, 300);
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send(Get("/v1/flags", kSdkKey)));
  // Read nothing for a while: the server's write stalls and times out.
  absl::SleepFor(absl::Seconds(3));
  const std::string got = c.ReadAll(kWait);
  EXPECT_EQ(StatusOf(got), 200);
  EXPECT_LT(got.size(), big.size()) << "the whole reply arrived anyway";
  // The server kept serving everyone else.
  EXPECT_EQ(Http(server_->port(), "GET", "/healthz", "").status, 200);
}

TEST_F(LifecycleTest, KeepAliveEndsAfterItsRequestLimit) {
  Start({"--keep-alive-max", "3"});
  RawClient c(server_->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/healthz", kSdkKey))) << "request " << i;
    const std::string head = c.ReadHead(kWait);
    EXPECT_EQ(StatusOf(head), 200) << head;
    if (i < 2) {
      EXPECT_EQ(head.find("Connection: close"), std::string::npos) << i;
    } else {
      EXPECT_NE(head.find("Connection: close"), std::string::npos) << head;
    }
  }
  EXPECT_TRUE(c.WaitClosed(kWait));
}

TEST_F(LifecycleTest, IdleKeepAliveConnectionsAreClosed) {
  Start({"--keep-alive-timeout", "1s"});
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send(Get("/healthz", kSdkKey)));
  const std::string head = c.ReadHead(kWait);
  EXPECT_EQ(StatusOf(head), 200);
  // Clients are told, so they stop reusing the connection before the server
  // closes it (undici, for one, would otherwise send into a closed socket).
  EXPECT_NE(head.find("Keep-Alive: timeout=1\r\n"), std::string::npos) << head;
  EXPECT_TRUE(c.WaitClosed(kWait));
}

TEST_F(LifecycleTest, SigtermEndsStreamsCleanlyAndRefusesNewRequests) {
  Start({});
  SseReader reader(server_->port(), kSdkKey);
  ASSERT_TRUE(reader.WaitForVersion(1, kWait).has_value());
  // A request whose head is on its way when the server is told to stop.
  RawClient late(server_->port());
  ASSERT_TRUE(late.Send("GET /v1/flags HTTP/1.1\r\nHost: x\r\n"));
  kill(server_->pid(), SIGTERM);
  EXPECT_TRUE(reader.WaitForEnd(kWait)) << "the stream did not end";
  ASSERT_TRUE(
      late.Send(absl::StrCat("Authorization: Bearer ", kSdkKey, "\r\n\r\n")) ||
      true);
  const std::string answer = late.ReadAll(kWait);
  // Either refused politely (503, Connection: close) or closed before the
  // request was complete — never left hanging.
  if (!answer.empty()) {
    EXPECT_EQ(StatusOf(answer), 503) << answer;
    EXPECT_NE(answer.find("shutting down"), std::string::npos);
  }
  EXPECT_EQ(server_->Terminate(kWait), 0);
  EXPECT_NE(server_->Stderr().find("stopped"), std::string::npos)
      << server_->Stderr();
}

TEST_F(LifecycleTest, StreamMetricsCountEventsRejectionsAndTheBuild) {
  Start({"--max-streams-per-key", "1"});
  SseReader reader(server_->port(), kSdkKey);
  ASSERT_TRUE(reader.WaitForVersion(1, kWait).has_value());
  EXPECT_EQ(Http(server_->port(), "GET", "/v1/stream", kSdkKey).status, 503);
  ASSERT_EQ(Http(server_->port(), "POST",
                 "/v1/admin/envs/production/flags/kill-recommendations/kill",
                 kAdminToken, R"({"reason":"x"})")
                .status,
            200);
  ASSERT_TRUE(reader.WaitForVersion(2, kWait).has_value());
  const std::string metrics = Http(server_->port(), "GET", "/metrics", "").body;
  for (const char* line : {
           "hotfixd_stream_rejected_total 1\n",
           "hotfixd_stream_events_total{type=\"put\"} 1\n",
           "hotfixd_stream_events_total{type=\"patch\"} 1\n",
           "hotfixd_stream_connections{env=\"production\"} 1\n",
           "hotfixd_build_info{version=\"",
       }) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line << "\n" << metrics;
  }
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
