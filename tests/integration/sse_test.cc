// tests/integration/sse_test.cc
//
// GET /v1/stream as docs/protocol.md specifies it: the first event on a
// connection (put / heartbeat / patches) for each kind of Last-Event-ID,
// resume from history kept across a restart, heartbeats while idle, fan-out
// to every connected client, environment scoping, and a clean end of every
// stream on SIGTERM.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json_util.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

class SseTest : public ServerTest {
 protected:
  void SetUp() override { Start(); }

  // Kills or revives `flag` (a single-flag change) and returns the version.
  std::uint64_t Flip(const std::string& flag, bool kill) {
    HttpReply r = Http(server_->port(), "POST",
                       absl::StrCat("/v1/admin/envs/production/flags/", flag,
                                    kill ? "/kill" : "/revive"),
                       kAdminToken, R"({"reason":"test"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["version"].GetUint64();
  }

  // Changes both default flags in one write (a put).
  std::uint64_t ReplaceSet() {
    HttpReply current = Http(server_->port(), "GET", "/v1/flags", kSdkKey);
    rapidjson::Document doc = current.Json();
    for (auto m = doc["flags"].MemberBegin(); m != doc["flags"].MemberEnd();
         ++m) {
      m->value["owner"].SetString("bulk-owner");
    }
    const std::string body = absl::StrCat(R"({"reason":"bulk","document":)",
                                          tools::ToJson(doc), "}");
    HttpReply r = Http(server_->port(), "PUT",
                       "/v1/admin/envs/production/flags", kAdminToken, body);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(std::string(r.Json()["event"].GetString()), "put");
    return r.Json()["version"].GetUint64();
  }

  // The first event of a stream that resumes from `last_event_id` (nullopt
  // if none comes within kWait).
  std::optional<SseEvent> FirstEventResumingFrom(std::uint64_t last_event_id) {
    SseReader reader(server_->port(), kSdkKey, last_event_id);
    return reader.WaitFor([](const SseEvent&) { return true; }, kWait);
  }

  static std::vector<SseEvent> NonHeartbeats(const SseReader& reader) {
    std::vector<SseEvent> out;
    for (const SseEvent& e : reader.Events()) {
      if (e.type != "heartbeat") out.push_back(e);
    }
    return out;
  }
};

TEST_F(SseTest, NewConnectionGetsPutOfCurrentSetFirst) {
  SseReader reader(server_->port(), kSdkKey);
  auto first = reader.WaitFor([](const SseEvent&) { return true; }, kWait);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(reader.status(), 200);
  EXPECT_EQ(first->type, "put");
  EXPECT_EQ(first->id, "1");
  EXPECT_NE(first->data.find("\"kill-recommendations\""), std::string::npos);
}

TEST_F(SseTest, LastEventIdEqualToCurrentGetsHeartbeat) {
  const std::optional<SseEvent> first = FirstEventResumingFrom(1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type, "heartbeat");
  EXPECT_EQ(first->data, "{\"version\":1}");
}

TEST_F(SseTest, LastEventIdNewerThanServerGetsPut) {
  const std::optional<SseEvent> first = FirstEventResumingFrom(99);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type, "put");
  EXPECT_EQ(first->id, "1");
}

TEST_F(SseTest, ResumeAfterSingleFlagChangesGetsPatchesInOrder) {
  Flip("kill-recommendations", true);   // 2
  Flip("fix-double-charge", true);      // 3
  Flip("kill-recommendations", false);  // 4
  SseReader reader(server_->port(), kSdkKey, 1);
  ASSERT_TRUE(reader.WaitForVersion(4, kWait).has_value());
  const std::vector<SseEvent> events = NonHeartbeats(reader);
  ASSERT_EQ(events.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(events[i].type, "patch");
    EXPECT_EQ(events[i].id, absl::StrCat(i + 2));
    EXPECT_NE(events[i].data.find(absl::StrCat("\"base_version\":", i + 1)),
              std::string::npos);
  }
}

TEST_F(SseTest, ResumeAcrossMultiFlagChangeGetsPut) {
  Flip("kill-recommendations", true);    // 2
  const std::uint64_t v = ReplaceSet();  // 3, a put
  SseReader reader(server_->port(), kSdkKey, 1);
  auto event = reader.WaitForVersion(v, kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, "put");
  EXPECT_EQ(NonHeartbeats(reader).size(), 1u);
}

TEST_F(SseTest, ResumeHistorySurvivesRestart) {
  Flip("kill-recommendations", true);  // 2
  Flip("fix-double-charge", true);     // 3
  ASSERT_EQ(server_->Terminate(), 0);
  Start({});
  SseReader reader(server_->port(), kSdkKey, 1);
  ASSERT_TRUE(reader.WaitForVersion(3, kWait).has_value());
  const std::vector<SseEvent> events = NonHeartbeats(reader);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "patch");
  EXPECT_EQ(events[1].type, "patch");
}

TEST_F(SseTest, HistoryLimitZeroAlwaysResumesWithPut) {
  ASSERT_EQ(server_->Terminate(), 0);
  Start({"--resume-history", "0"});
  Flip("kill-recommendations", true);  // 2
  SseReader reader(server_->port(), kSdkKey, 1);
  auto event = reader.WaitForVersion(2, kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, "put");
}

TEST_F(SseTest, IdleStreamGetsHeartbeats) {
  ASSERT_EQ(server_->Terminate(), 0);
  Start({"--heartbeat-interval", "100ms"});
  SseReader reader(server_->port(), kSdkKey);
  ASSERT_TRUE(WaitUntil(
      [&] {
        int heartbeats = 0;
        for (const SseEvent& e : reader.Events()) {
          if (e.type == "heartbeat") {
            EXPECT_EQ(e.data, "{\"version\":1}");
            ++heartbeats;
          }
        }
        return heartbeats >= 3;
      },
      kWait));
}

TEST_F(SseTest, ChangeFansOutToEveryConnectedClient) {
  std::vector<std::unique_ptr<SseReader>> readers;
  for (int i = 0; i < 50; ++i) {
    readers.push_back(std::make_unique<SseReader>(server_->port(), kSdkKey));
  }
  for (auto& r : readers) ASSERT_TRUE(r->WaitForVersion(1, kWait).has_value());
  const std::uint64_t v = Flip("kill-recommendations", true);
  for (auto& r : readers) {
    auto event = r->WaitForVersion(v, kWait);
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->type, "patch");
    EXPECT_NE(event->data.find("\"killed\":true"), std::string::npos);
  }
  HttpReply metrics = Http(server_->port(), "GET", "/metrics", "");
  EXPECT_NE(
      metrics.body.find("hotfixd_stream_connections{env=\"production\"} 50"),
      std::string::npos)
      << metrics.body;
}

TEST_F(SseTest, StreamsOnlySeeTheirEnvironment) {
  HttpReply created =
      Http(server_->port(), "POST", "/v1/admin/envs", kAdminToken,
           R"({"reason":"test","name":"staging"})");
  ASSERT_EQ(created.status, 201) << created.body;
  SseReader production(server_->port(), kSdkKey);
  SseReader staging(server_->port(), kAdminToken, std::nullopt, "env=staging");
  ASSERT_TRUE(production.WaitForVersion(1, kWait).has_value());
  ASSERT_TRUE(staging.WaitForVersion(1, kWait).has_value());
  HttpReply put = Http(
      server_->port(), "PUT", "/v1/admin/envs/staging/flags/only-staging",
      kAdminToken,
      R"({"reason":"test","flag":{"variants":{"on":true},"default":"on"}})");
  ASSERT_EQ(put.status, 200) << put.body;
  ASSERT_TRUE(staging.WaitForVersion(2, kWait).has_value());
  const std::uint64_t v = Flip("kill-recommendations", true);
  ASSERT_EQ(v, 2u);
  auto prod_event = production.WaitForVersion(2, kWait);
  ASSERT_TRUE(prod_event.has_value());
  EXPECT_EQ(prod_event->data.find("only-staging"), std::string::npos);
  EXPECT_NE(prod_event->data.find("kill-recommendations"), std::string::npos);
}

TEST_F(SseTest, StreamEndsCleanlyOnSigterm) {
  SseReader reader(server_->port(), kSdkKey);
  ASSERT_TRUE(reader.WaitForVersion(1, kWait).has_value());
  EXPECT_EQ(server_->Terminate(), 0);
  EXPECT_TRUE(reader.WaitForEnd(kWait));
}

TEST_F(SseTest, ClientThatLeftReleasesItsStreamSlot) {
  ASSERT_EQ(server_->Terminate(), 0);
  // Liveness probes every second (min(heartbeat, 2 s)); one stream allowed.
  Start({"--max-streams", "1", "--heartbeat-interval", "1s"});
  {
    SseReader gone(server_->port(), kSdkKey);
    ASSERT_TRUE(gone.WaitForVersion(1, kWait).has_value());
  }  // the client disconnects
  // The server notices the dead connection through a failed probe write and
  // frees the slot; a new client then gets in (503 until then).
  EXPECT_TRUE(WaitUntil(
      [&] {
        HttpReply metrics = Http(server_->port(), "GET", "/metrics", "");
        return metrics.body.find(
                   "hotfixd_stream_connections{env=\"production\"} 0") !=
               std::string::npos;
      },
      kWait));
  SseReader next(server_->port(), kSdkKey);
  EXPECT_TRUE(next.WaitForVersion(1, kWait).has_value());
  EXPECT_EQ(next.status(), 200);
}

TEST_F(SseTest, TooManyStreamsGet503) {
  ASSERT_EQ(server_->Terminate(), 0);
  Start({"--max-streams", "2", "--max-streams-per-key", "2"});
  SseReader a(server_->port(), kSdkKey);
  SseReader b(server_->port(), kSdkKey);
  ASSERT_TRUE(a.WaitForVersion(1, kWait).has_value());
  ASSERT_TRUE(b.WaitForVersion(1, kWait).has_value());
  HttpReply third = Http(server_->port(), "GET", "/v1/stream", kSdkKey);
  EXPECT_EQ(third.status, 503);
  EXPECT_EQ(third.Header("Retry-After"), "5");
  EXPECT_NE(third.body.find("RESOURCE_EXHAUSTED"), std::string::npos);
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
