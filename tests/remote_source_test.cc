// The remote sources against a real HTTP(S) server on 127.0.0.1
// (tests/support/flag_server.h): ETag polling, SSE streaming with put / patch /
// heartbeat, resumption and re-sync, bad payloads, outages, the last-known-good
// cache, configuration errors, TLS, and a client that never blocks its owner.
//
// No assertion depends on timing: tests wait for states (bounded by
// FlagServer::Eventually) and check what the client did.

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "hotfix/log.h"
#include "sources/cache.h"
#include "support/flag_server.h"
#include "support/set_on_destroy.h"
#include "support/temp_dir.h"
#include "support/test_client.h"

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include <httplib.h>

namespace hotfix {
namespace {

using ::hotfix::testing_support::BoolFlag;
using ::hotfix::testing_support::Certificate;
using ::hotfix::testing_support::CreateClient;
using ::hotfix::testing_support::Document;
using ::hotfix::testing_support::FlagServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

template <typename F>
bool Eventually(F done) {
  return FlagServer::Eventually(done);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Records change events.
class Recorder {
 public:
  ChangeListener Listener() {
    return [this](const ChangeEvent& event) {
      absl::MutexLock lock(&mu_);
      events_.push_back(event);
    };
  }
  std::vector<ChangeEvent> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  std::size_t size() const {
    absl::MutexLock lock(&mu_);
    return events_.size();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<ChangeEvent> events_;
};

class RemoteSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.SetAll(5, {{"a", BoolFlag(true)}});
    ASSERT_TRUE(server_.Start(0));
    SetLogSink(
        [this](LogLevel, std::string_view message) {
          absl::MutexLock lock(&log_mu_);
          logs_.emplace_back(message);
        },
        LogLevel::kDebug);
  }
  void TearDown() override {
    SetLogSink(nullptr);
    server_.ReleaseHeld();
  }

  // Short intervals so that every test takes a second or two.
  ClientOptions Options(RemoteMode mode) const {
    ClientOptions options = testing_support::TestClientOptions(
        server_.url(), FlagServer::kSdkKey, mode);
    options.remote.connect_timeout = absl::Seconds(5);
    options.remote.read_timeout = absl::Seconds(5);
    options.remote.heartbeat_timeout =
        absl::Seconds(2);  // server beats at 50 ms
    options.remote.backoff_reset_after = absl::Seconds(1);
    options.remote.config_error_retry = absl::Milliseconds(200);
    return options;
  }

  // Writes `document` to the cache file of `options` as a client of theirs
  // would have.
  static absl::Status StoreInCache(const ClientOptions& options,
                                   const std::string& document) {
    return internal::Cache(options.cache_path,
                           internal::CacheIdentity(options.remote.base_url,
                                                   options.remote.sdk_key))
        .Store(document);
  }

  bool Logged(std::string_view text) {
    absl::MutexLock lock(&log_mu_);
    for (const std::string& line : logs_) {
      if (absl::StrContains(line,
                            absl::string_view(text.data(), text.size()))) {
        return true;
      }
    }
    return false;
  }

  FlagServer server_;
  testing_support::TempDir dir_;
  absl::Mutex log_mu_;
  std::vector<std::string> logs_ ABSL_GUARDED_BY(log_mu_);
};

// ------------------------------------------------------------------ polling

TEST_F(RemoteSourceTest, PollingRevalidatesWithEtagAndAppliesChanges) {
  auto client = CreateClient(Options(RemoteMode::kPolling));
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  EXPECT_TRUE(client->Enabled("a"));
  ClientStatus status = client->GetStatus();
  EXPECT_EQ(status.origin, SnapshotOrigin::kPoll);
  EXPECT_EQ(status.version, 5u);
  EXPECT_EQ(status.connection, RemoteConnection::kPolling);
  EXPECT_EQ(server_.last_authorization(), "Bearer test-sdk-key");

  // Unchanged: the server answers 304 and the client stays valid.
  ASSERT_TRUE(
      Eventually([&] { return server_.not_modified_responses() >= 2; }));
  status = client->GetStatus();
  EXPECT_EQ(status.state, SourceState::kValid);
  EXPECT_TRUE(status.last_error.ok()) << status.last_error;

  server_.SetFlagQuietly("a", BoolFlag(false));
  ASSERT_TRUE(Eventually([&] { return !client->Enabled("a"); }));
  EXPECT_EQ(client->version(), 6u);
  EXPECT_EQ(server_.stream_connections(), 0);
}

TEST_F(RemoteSourceTest, OlderVersionFromAPollIsRejected) {
  auto client = CreateClient(Options(RemoteMode::kPolling));
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  server_.SetAll(3, {{"a", BoolFlag(false)}});  // the server went backwards
  ASSERT_TRUE(
      Eventually([&] { return !client->GetStatus().last_rejection.ok(); }));
  const ClientStatus status = client->GetStatus();
  EXPECT_THAT(std::string(status.last_rejection.message()), HasSubstr("older"));
  EXPECT_TRUE(client->Enabled("a"));
  EXPECT_EQ(client->version(), 5u);
}

TEST_F(RemoteSourceTest, OversizeAndInvalidPollBodiesAreRejected) {
  ClientOptions options = Options(RemoteMode::kPolling);
  options.remote.max_body_bytes = 512;
  auto client = CreateClient(options);
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));

  for (int i = 0; i < 20; ++i) {
    server_.SetFlagQuietly(absl::StrCat("padding-flag-", i), BoolFlag(true));
  }
  ASSERT_TRUE(Eventually([&] {
    return absl::IsResourceExhausted(client->GetStatus().last_rejection);
  }));
  EXPECT_THAT(std::string(client->GetStatus().last_rejection.message()),
              HasSubstr("larger than the limit of 512 bytes"));
  EXPECT_EQ(client->version(), 5u);

  server_.SetFlagsResponse(200, "{\"version\": 99, \"flags\": {\"x\": tru");
  ASSERT_TRUE(Eventually([&] {
    return absl::IsInvalidArgument(client->GetStatus().last_rejection);
  }));
  EXPECT_THAT(std::string(client->GetStatus().last_rejection.message()),
              HasSubstr("invalid JSON"));
  EXPECT_EQ(client->version(), 5u);
  EXPECT_TRUE(client->Enabled("a"));

  // A server error never replaces flags either.
  server_.SetFlagsResponse(
      503, R"({"error":{"code":"UNAVAILABLE","message":"overloaded"}})");
  ASSERT_TRUE(Eventually([&] {
    return absl::StrContains(client->GetStatus().last_error.message(),
                             "HTTP 503");
  }));
  EXPECT_EQ(client->GetStatus().state, SourceState::kStale);
  EXPECT_TRUE(client->Enabled("a"));
}

// ------------------------------------------------------------------ streaming

TEST_F(RemoteSourceTest, StreamingAppliesPutPatchesAndHeartbeats) {
  Recorder recorder;  // outlives the client, whose threads call it
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  EXPECT_TRUE(client->Enabled("a"));
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  client->AddListener(recorder.Listener());

  EXPECT_EQ(server_.SetFlag("b", BoolFlag(true)), 6u);
  ASSERT_TRUE(Eventually([&] { return recorder.size() == 1; }));
  EXPECT_TRUE(client->Enabled("b"));
  EXPECT_EQ(server_.DeleteFlag("a"), 7u);
  ASSERT_TRUE(Eventually([&] { return recorder.size() == 2; }));
  EXPECT_FALSE(client->Enabled("a"));

  const std::vector<ChangeEvent> events = recorder.events();
  EXPECT_THAT(events[0].changed_keys, ElementsAre("b"));
  EXPECT_EQ(events[0].old_version, 5u);
  EXPECT_EQ(events[0].new_version, 6u);
  EXPECT_EQ(events[0].origin, SnapshotOrigin::kStream);
  EXPECT_THAT(events[1].changed_keys, ElementsAre("a"));

  // Heartbeats keep the source fresh.
  const absl::Time success = client->GetStatus().last_success;
  ASSERT_TRUE(
      Eventually([&] { return client->GetStatus().last_success > success; }));
  const ClientStatus status = client->GetStatus();
  EXPECT_EQ(status.state, SourceState::kValid);
  EXPECT_EQ(status.origin, SnapshotOrigin::kStream);
  EXPECT_EQ(status.version, 7u);
  // The fall-back poller stayed paused: the stream never failed.
  EXPECT_EQ(server_.flags_requests(), 0);
  EXPECT_EQ(server_.stream_connections(), 1);
}

TEST_F(RemoteSourceTest, ListenersFireOncePerAcceptedChange) {
  Recorder recorder;  // outlives the client, whose threads call it
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  // Streaming means the first put's listeners have run.
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  client->AddListener(recorder.Listener());

  for (int i = 0; i < 20; ++i) server_.SetFlag("k", BoolFlag(i % 2 == 0));
  // Listeners run after the publication: wait for the events themselves.
  ASSERT_TRUE(Eventually([&] { return recorder.size() >= 20; }));
  EXPECT_EQ(client->version(), 25u);
  std::vector<ChangeEvent> events = recorder.events();
  ASSERT_EQ(events.size(), 20u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_THAT(events[i].changed_keys, ElementsAre("k"));
    EXPECT_EQ(events[i].new_version, 6 + i);
  }

  // A reconnect that re-delivers what the client has, and a new version that
  // changes nothing, fire no listener.
  server_.CloseStreams();
  ASSERT_TRUE(Eventually([&] {
    return server_.stream_connections() >= 2 &&
           client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  EXPECT_EQ(server_.last_event_ids()[1], "25");
  server_.SetFlag("k", BoolFlag(false));  // already false
  // Events arrive in publication order: once the next change's is in, one
  // for version 26 would have been too.
  server_.SetFlag("z", BoolFlag(true));
  ASSERT_TRUE(Eventually([&] { return recorder.size() >= 21; }));
  events = recorder.events();
  ASSERT_EQ(events.size(), 21u);
  EXPECT_THAT(events[20].changed_keys, ElementsAre("z"));
}

TEST_F(RemoteSourceTest, ServerKilledMidStreamGoesStaleThenResyncs) {
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));

  server_.Stop();
  ASSERT_TRUE(Eventually(
      [&] { return client->GetStatus().state == SourceState::kStale; }));
  ClientStatus status = client->GetStatus();
  EXPECT_FALSE(status.last_error.ok());
  EXPECT_NE(status.connection, RemoteConnection::kStreaming);
  EXPECT_TRUE(client->Enabled("a"));  // the last good snapshot is still served
  EXPECT_EQ(client->version(), 5u);

  server_.SetFlagQuietly("a", BoolFlag(false));  // changed while down
  ASSERT_TRUE(server_.Start());                  // same port
  ASSERT_TRUE(Eventually([&] {
    const ClientStatus s = client->GetStatus();
    return s.version == 6 && s.state == SourceState::kValid &&
           s.connection == RemoteConnection::kStreaming;
  }));
  EXPECT_FALSE(client->Enabled("a"));
  EXPECT_GE(server_.stream_connections(), 2);
}

TEST_F(RemoteSourceTest,
       ReconnectResumesWithLastEventIdAndGetsOnlyMissedPatches) {
  Recorder recorder;  // outlives the client, whose threads call it
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  client->AddListener(recorder.Listener());

  // Drop the stream and keep the client's reconnect (and its fall-back poll)
  // waiting while two single-flag changes happen.
  server_.Hold("/v1/stream");
  server_.Hold("/v1/flags");
  server_.CloseStreams();
  ASSERT_TRUE(Eventually([&] { return server_.stream_connections() >= 2; }));
  server_.SetFlag("b", BoolFlag(true));
  server_.SetFlag("c", BoolFlag(true));
  server_.Release("/v1/stream");

  // Two patches, not one put: one event per change.
  ASSERT_TRUE(Eventually([&] { return recorder.size() >= 2; }));
  EXPECT_EQ(client->version(), 7u);
  EXPECT_EQ(server_.last_event_ids()[1], "5");
  const std::vector<ChangeEvent> events = recorder.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_THAT(events[0].changed_keys, ElementsAre("b"));
  EXPECT_THAT(events[1].changed_keys, ElementsAre("c"));
  EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kStream);
}

TEST_F(RemoteSourceTest, PatchThatDoesNotFollowForcesAFullResync) {
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  server_.SendRaw(
      absl::StrCat("event: patch\nid: 9\ndata: "
                   "{\"version\":9,\"base_version\":8,\"key\":\"gap\","
                   "\"flag\":",
                   BoolFlag(true), "}\n\n"));
  // Reconnected without Last-Event-ID, i.e. asking for a whole put.
  ASSERT_TRUE(Eventually([&] {
    const std::vector<std::string> ids = server_.last_event_ids();
    return ids.size() >= 2 && ids.back().empty();
  }));
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  EXPECT_EQ(client->Evaluate("gap").error, ErrorKind::kFlagNotFound);
  EXPECT_EQ(client->version(), 5u);
}

TEST_F(RemoteSourceTest, BadStreamEventsAreRejectedAndTheSnapshotStays) {
  ClientOptions options = Options(RemoteMode::kStreaming);
  options.remote.max_body_bytes = 2048;
  auto client = CreateClient(options);
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));

  struct Case {
    std::string name;
    std::string bytes;
    std::string error;
    bool resyncs;
  };
  const std::vector<Case> cases = {
      {"garbage", "event: put\nid: 6\ndata: this is not json\n\n",
       "invalid JSON", true},
      {"schema error",
       "event: put\nid: 6\ndata: "
       "{\"version\":6,\"flags\":{\"a\":{\"variants\":{}}}}\n\n",
       "flags.a", true},
      {"older version",
       absl::StrCat("event: put\nid: 3\ndata: ",
                    Document(3, {{"a", BoolFlag(false)}}), "\n\n"),
       "older", false},
      {"patch without a key",
       "event: patch\ndata: {\"version\":6,\"base_version\":5}\n\n", "\"key\"",
       true},
      {"patch breaking the flag",
       "event: patch\ndata: {\"version\":6,\"base_version\":5,\"key\":\"a\","
       "\"flag\":{\"variants\":{\"on\":true},\"default\":\"nope\"}}\n\n",
       "patch of \"a\"", true},
      {"oversize event",
       absl::StrCat("event: put\ndata: ", std::string(4096, 'x'), "\n\n"),
       "larger than the limit", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(Eventually([&] {
      return client->GetStatus().connection == RemoteConnection::kStreaming;
    }));
    const absl::Time before = client->GetStatus().last_rejection_time;
    const int connections = server_.stream_connections();
    server_.SendRaw(c.bytes);
    ASSERT_TRUE(Eventually(
        [&] { return client->GetStatus().last_rejection_time > before; }));
    const ClientStatus status = client->GetStatus();
    EXPECT_THAT(std::string(status.last_rejection.message()),
                HasSubstr(c.error));
    EXPECT_TRUE(client->Enabled("a"));
    EXPECT_EQ(client->version(), 5u);
    if (c.resyncs) {
      // The stream re-syncs: a new connection, asking for a whole put.
      ASSERT_TRUE(Eventually(
          [&] { return server_.stream_connections() > connections; }));
      EXPECT_EQ(server_.last_event_ids().back(), "");
    }
  }
  EXPECT_EQ(client->version(), 5u);
}

TEST_F(RemoteSourceTest, TruncatedStreamEventIsNeverApplied) {
  // The first stream carries the start of a put for version 9 and is cut.
  const std::string put = absl::StrCat(
      "event: put\nid: 9\ndata: ",
      Document(9, {{"a", BoolFlag(false)}, {"t", BoolFlag(true)}}), "\n\n");
  server_.QueueStreamOpening(put.substr(0, put.size() - 12),
                             /*close_after=*/true);
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_TRUE(Eventually([&] {
    return server_.stream_connections() >= 2 &&
           client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  // Had version 9 been applied, the server's version 5 would now be refused.
  EXPECT_EQ(client->version(), 5u);
  EXPECT_TRUE(client->Enabled("a"));
  EXPECT_EQ(client->Evaluate("t").error, ErrorKind::kFlagNotFound);
}

TEST_F(RemoteSourceTest, SilentStreamIsDeclaredDeadAndPollingTakesOver) {
  ClientOptions options = Options(RemoteMode::kStreaming);
  options.remote.heartbeat_timeout = absl::Milliseconds(300);
  auto client = CreateClient(options);
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));

  // The connection stays open but nothing, not even a heartbeat, arrives; a
  // silent server sends nothing to reconnected streams either, so only
  // polling can bring the change.
  server_.SetSilent(true);
  server_.SetFlagQuietly("a", BoolFlag(false));
  // Silence is detected as death (not mistaken for "no changes") ...
  ASSERT_TRUE(Eventually([&] {
    return Logged("no data for 300ms") || Logged("no event for 300ms");
  }));
  // ... and polling takes over and delivers the change.
  ASSERT_TRUE(Eventually([&] {
    const ClientStatus status = client->GetStatus();
    return status.connection == RemoteConnection::kPolling &&
           status.origin == SnapshotOrigin::kPoll && status.version == 6;
  })) << SnapshotOriginName(client->GetStatus().origin)
      << " " << RemoteConnectionName(client->GetStatus().connection);
  EXPECT_FALSE(client->Enabled("a"));
}

TEST_F(RemoteSourceTest, CommentsAloneDoNotKeepAStreamAlive) {
  ClientOptions options = Options(RemoteMode::kStreaming);
  options.remote.heartbeat_timeout = absl::Milliseconds(300);
  auto client = CreateClient(options);
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  // Bytes keep arriving (a comment every 50 ms) but never an event.
  server_.SetSilent(true, "keep-alive");
  // "no event for" is logged only when bytes arrive after the heartbeat
  // timeout without an event: the comments were read and did not keep the
  // stream alive. (The socket's read timeout is the heartbeat timeout too, so
  // a connection may also end with "no data for" when a loaded machine
  // starves the server for 300 ms between two comments; that proves nothing
  // either way, and the test does not look at it. The TSan soak saw it once.)
  ASSERT_TRUE(Eventually([&] { return Logged("no event for 300ms"); }));
}

// ------------------------------------------------------------------ protocol
// The client rules of docs/protocol.md, one test each.

TEST_F(RemoteSourceTest, HeartbeatNewerThanTheClientIsAGap) {
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  const int connections = server_.stream_connections();
  server_.SendRaw("event: heartbeat\ndata: {\"version\":9}\n\n");
  // A change was missed: re-sync with a whole put (no Last-Event-ID).
  ASSERT_TRUE(Eventually([&] {
    return server_.stream_connections() > connections &&
           client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  EXPECT_EQ(server_.last_event_ids().back(), "");
  EXPECT_TRUE(Logged("heartbeat reports version 9 but the client has 5"));
  EXPECT_EQ(client->version(), 5u);
}

TEST_F(RemoteSourceTest, HeartbeatBeforeAnyPutIsAGap) {
  // With no document: the first connection opens with a heartbeat.
  server_.QueueStreamOpening("event: heartbeat\ndata: {\"version\":5}\n\n",
                             /*close_after=*/false);
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_TRUE(Eventually([&] {
    return server_.stream_connections() >= 2 &&
           client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  EXPECT_EQ(server_.last_event_ids()[1], "");
  EXPECT_TRUE(Logged("heartbeat: re-syncing"));

  // With a document, on a connection opened without Last-Event-ID (after a
  // rejected event): a heartbeat cannot prove the client is in step either,
  // even one at the client's own version.
  server_.QueueStreamOpening("event: heartbeat\ndata: {\"version\":5}\n\n",
                             /*close_after=*/false);
  const int connections = server_.stream_connections();
  server_.SendRaw("event: put\ndata: not json\n\n");
  ASSERT_TRUE(Eventually([&] {
    return server_.stream_connections() >= connections + 2 &&
           client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  const std::vector<std::string> ids = server_.last_event_ids();
  EXPECT_EQ(ids[connections], "");      // after the rejection
  EXPECT_EQ(ids[connections + 1], "");  // after the heartbeat: a gap again
  EXPECT_TRUE(
      Logged("heartbeat before any put on a connection opened "
             "without Last-Event-ID"));
}

TEST_F(RemoteSourceTest, DuplicatePatchIsIgnoredSilently) {
  Recorder recorder;  // outlives the client, whose threads call it
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  client->AddListener(recorder.Listener());
  EXPECT_EQ(server_.SetFlag("b", BoolFlag(true)), 6u);
  ASSERT_TRUE(Eventually([&] { return recorder.size() >= 1; }));
  const int connections = server_.stream_connections();
  // Only the stream may deliver what follows: a poll (the fall-back of a
  // dropped stream) would hide a reconnection.
  server_.Hold("/v1/flags");
  // Version 6 again, with different content: the client has 6 already.
  server_.SendRaw(absl::StrCat(
      "event: patch\nid: 6\ndata: {\"version\":6,\"base_version\":5,"
      "\"key\":\"b\",\"flag\":",
      BoolFlag(false), "}\n\n"));
  // The stream goes on: the next change arrives on the same connection.
  EXPECT_EQ(server_.SetFlag("c", BoolFlag(true)), 7u);
  ASSERT_TRUE(Eventually([&] { return recorder.size() >= 2; }));
  EXPECT_EQ(client->version(), 7u);
  EXPECT_TRUE(client->Enabled("b"));
  EXPECT_EQ(server_.stream_connections(), connections);
  EXPECT_EQ(server_.flags_requests(), 0);
  EXPECT_TRUE(client->GetStatus().last_rejection.ok());
  // Only the changes to "b" and "c" (events come in order: one for the
  // duplicate would have come between them).
  const std::vector<ChangeEvent> events = recorder.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_THAT(events[0].changed_keys, ElementsAre("b"));
  EXPECT_THAT(events[1].changed_keys, ElementsAre("c"));
}

TEST_F(RemoteSourceTest, PutAtTheServedVersionConfirmsTheCache) {
  ClientOptions options = Options(RemoteMode::kStreaming);
  options.cache_path = dir_.path() + "/flags.cache";
  ASSERT_TRUE(StoreInCache(options, server_.document()).ok());
  // The server answers the resuming stream with a put of version 5.
  server_.QueueStreamOpening(
      absl::StrCat("event: put\nid: 5\ndata: ", server_.document(), "\n\n"),
      /*close_after=*/false);
  server_.Hold("/v1/stream");  // until the listener is in place
  Recorder recorder;
  auto client = CreateClient(options);
  EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kCache);
  client->AddListener(recorder.Listener());
  server_.ReleaseHeld();
  ASSERT_TRUE(Eventually(
      [&] { return client->GetStatus().origin == SnapshotOrigin::kStream; }));
  EXPECT_EQ(client->version(), 5u);
  EXPECT_TRUE(client->GetStatus().last_rejection.ok());
  // A confirmation changes nothing: events come in publication order, so
  // once the next change's event is in, one for the put would have been too.
  server_.SetFlag("c", BoolFlag(true));
  ASSERT_TRUE(Eventually([&] { return recorder.size() >= 1; }));
  ASSERT_EQ(recorder.size(), 1u);
  EXPECT_THAT(recorder.events()[0].changed_keys, ElementsAre("c"));
}

TEST_F(RemoteSourceTest, StreamResumesFromTheCachedVersion) {
  ClientOptions options = Options(RemoteMode::kStreaming);
  options.cache_path = dir_.path() + "/flags.cache";
  ASSERT_TRUE(StoreInCache(options, server_.document()).ok());  // version 5
  EXPECT_EQ(server_.SetFlag("b", BoolFlag(true)), 6u);
  server_.Hold("/v1/stream");  // until the listener is in place
  Recorder recorder;           // outlives the client, whose threads call it
  auto client = CreateClient(options);
  client->AddListener(recorder.Listener());
  server_.ReleaseHeld();
  ASSERT_TRUE(Eventually([&] { return recorder.size() >= 1; }));
  // The first stream asked to resume from the cached version...
  EXPECT_EQ(server_.last_event_ids()[0], "5");
  // ...and got what it missed.
  EXPECT_EQ(client->version(), 6u);
  EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kStream);
  ASSERT_EQ(recorder.size(), 1u);
  EXPECT_THAT(recorder.events()[0].changed_keys, ElementsAre("b"));
}

TEST_F(RemoteSourceTest, ServerErrorsAreRetriedAtTheBackoffNotTheInterval) {
  for (int status : {503, 429}) {
    SCOPED_TRACE(status);
    server_.SetFlagsResponse(status, R"({"error":{"message":"busy"}})");
    ClientOptions options = Options(RemoteMode::kPolling);
    options.remote.poll_interval = absl::Hours(1);
    auto client = CreateClient(options);
    const int before = server_.flags_requests();
    // An hour's interval, a backoff of at most 200 ms: three retries come
    // long before the interval could have passed once.
    EXPECT_TRUE(
        Eventually([&] { return server_.flags_requests() >= before + 3; }));
    EXPECT_EQ(client->GetStatus().state, SourceState::kError);
  }
  server_.SetFlagsResponse(0);
}

TEST_F(RemoteSourceTest, ServerErrorsAreRetriedNoLaterThanTheInterval) {
  server_.SetFlagsResponse(503);
  ClientOptions options = Options(RemoteMode::kPolling);
  options.remote.poll_interval = absl::Milliseconds(50);
  options.remote.backoff_base = absl::Hours(1);
  options.remote.backoff_cap = absl::Hours(1);
  auto client = CreateClient(options);
  // A backoff of up to an hour, an interval of 50 ms: min() is the interval.
  EXPECT_TRUE(Eventually([&] { return server_.flags_requests() >= 4; }));
  server_.SetFlagsResponse(0);
}

TEST_F(RemoteSourceTest, RefusedBodysEtagIsNotKept) {
  auto client = CreateClient(Options(RemoteMode::kPolling));
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  ASSERT_TRUE(
      Eventually([&] { return server_.not_modified_responses() >= 1; }));
  // Now a body the client refuses (older), under a tag of its own: a client
  // that kept the tag would get 304s and never hear about it again.
  server_.SetFlagsResponse(200, Document(3, {{"a", BoolFlag(false)}}),
                           "application/json", "\"refused-3\"");
  ASSERT_TRUE(
      Eventually([&] { return !client->GetStatus().last_rejection.ok(); }));
  const absl::Time first = client->GetStatus().last_rejection_time;
  // Fetched and refused again, and again.
  ASSERT_TRUE(Eventually(
      [&] { return client->GetStatus().last_rejection_time > first; }));
  for (const std::string& sent : server_.if_none_match_values()) {
    EXPECT_NE(sent, "\"refused-3\"");
  }
  EXPECT_EQ(client->version(), 5u);
  server_.SetFlagsResponse(0);
}

TEST_F(RemoteSourceTest, GzipBodiesAreLimitedAfterDecompression) {
  // A document of about 20 KB that gzip shrinks to well under 1 KB.
  std::map<std::string, std::string> flags;
  for (int i = 0; i < 200; ++i) {
    flags[absl::StrCat("padding-flag-", i)] = BoolFlag(i % 2 == 0);
  }
  server_.SetAll(6, flags);
  {
    // The server really compresses what this client asks for.
    httplib::Client raw(server_.url());
    raw.set_decompress(false);
    httplib::Result result = raw.Get(
        "/v1/flags",
        {{"Accept-Encoding", "gzip"},
         {"Authorization", std::string("Bearer ") + FlagServer::kSdkKey}});
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    ASSERT_EQ(result->get_header_value("Content-Encoding"), "gzip");
    ASSERT_LT(result->body.size(), 4096u);
    ASSERT_GT(server_.document().size(), 16384u);
  }
  ClientOptions options = Options(RemoteMode::kPolling);
  options.remote.max_body_bytes = 8192;  // above the gzip size, below the JSON
  auto client = CreateClient(options);
  ASSERT_TRUE(Eventually([&] {
    return absl::IsResourceExhausted(client->GetStatus().last_rejection);
  }));
  EXPECT_THAT(std::string(client->GetStatus().last_rejection.message()),
              HasSubstr("larger than the limit of 8192 bytes"));
  EXPECT_EQ(client->version(), 0u);

  // Within the limit, the decoded document is served.
  options.remote.max_body_bytes = 64 * 1024;
  client = CreateClient(options);
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  EXPECT_EQ(client->version(), 6u);
  EXPECT_TRUE(client->Enabled("padding-flag-0"));
}

// ------------------------------------------------------------------ listeners

TEST_F(RemoteSourceTest, ClientDestroyedInsideItsListenerStopsCleanly) {
  for (const std::string kind : {"file", "poll", "stream"}) {
    SCOPED_TRACE(kind);
    ClientOptions options;
    const std::string path = absl::StrCat(dir_.path(), "/", kind, ".json");
    if (kind == "file") {
      std::ofstream(path) << Document(1, {{"a", BoolFlag(true)}});
      options.file.path = path;
      options.file.poll_interval = absl::Milliseconds(10);
    } else {
      options = Options(kind == "poll" ? RemoteMode::kPolling
                                       : RemoteMode::kStreaming);
    }
    std::unique_ptr<Client> client = CreateClient(options);
    ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
    if (kind == "stream") {
      ASSERT_TRUE(Eventually([&] {
        return client->GetStatus().connection == RemoteConnection::kStreaming;
      }));
    }
    // Set when the listener's captures are destroyed, i.e. when the client
    // has been freed, after its sources were stopped.
    auto freed = std::make_shared<std::atomic<bool>>(false);
    auto on_free = std::make_shared<testing_support::SetOnDestroy>(freed);
    std::atomic<bool> destroyed{false};
    std::atomic<int> later_calls{0};
    client->AddListener([&, on_free](const ChangeEvent&) {
      client.reset();  // on the source's own thread
      destroyed = true;
    });
    client->AddListener([&](const ChangeEvent&) { ++later_calls; });
    on_free.reset();
    if (kind == "file") {
      std::ofstream(path + ".tmp") << Document(2, {{"a", BoolFlag(false)}});
      ASSERT_EQ(std::rename((path + ".tmp").c_str(), path.c_str()), 0);
    } else {
      server_.SetFlag("a", BoolFlag(false));
    }
    ASSERT_TRUE(Eventually([&] { return destroyed.load(); }));
    EXPECT_TRUE(Eventually([&] { return freed->load(); }))
        << "the client was never freed";
    EXPECT_EQ(later_calls.load(), 0);  // no listener after the destruction
    EXPECT_TRUE(Logged("destroyed inside one of its own change listeners"));
    if (kind == "stream") {
      EXPECT_TRUE(Eventually([&] { return server_.open_streams() == 0; }));
    }
    server_.SetAll(5, {{"a", BoolFlag(true)}});
  }
}

// ------------------------------------------------------------------ errors

// The gaps between consecutive request times.
std::vector<std::chrono::milliseconds> Gaps(
    const std::vector<std::chrono::steady_clock::time_point>& times,
    std::size_t from) {
  std::vector<std::chrono::milliseconds> gaps;
  for (std::size_t i = from + 1; i < times.size(); ++i) {
    gaps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
        times[i] - times[i - 1]));
  }
  return gaps;
}

TEST_F(RemoteSourceTest, UnauthorizedIsAConfigurationErrorRetriedSlowly) {
  constexpr auto kRetry = std::chrono::milliseconds(250);
  for (RemoteMode mode : {RemoteMode::kPolling, RemoteMode::kStreaming}) {
    SCOPED_TRACE(static_cast<int>(mode));
    const std::size_t flags_before = server_.flags_request_times().size();
    const std::size_t streams_before = server_.stream_request_times().size();
    ClientOptions options = Options(mode);
    options.remote.sdk_key = "wrong-key";
    // Everything else would retry every 10 ms.
    options.remote.poll_interval = absl::Milliseconds(10);
    options.remote.backoff_base = absl::Milliseconds(10);
    options.remote.backoff_cap = absl::Milliseconds(10);
    options.remote.config_error_retry = absl::FromChrono(kRetry);
    auto client = CreateClient(options);
    ASSERT_TRUE(Eventually([&] {
      return absl::IsUnauthenticated(client->GetStatus().last_error);
    }));
    const ClientStatus status = client->GetStatus();
    EXPECT_TRUE(status.config_error);
    EXPECT_EQ(status.state, SourceState::kError);
    EXPECT_THAT(std::string(status.last_error.message()), HasSubstr("sdk_key"));
    EXPECT_THAT(std::string(status.last_error.message()),
                Not(HasSubstr("wrong-key")));
    // Retried, but only slowly: consecutive requests on each path are at
    // least config_error_retry apart (a lower bound that load cannot break).
    ASSERT_TRUE(Eventually([&] {
      return server_.flags_request_times().size() >= flags_before + 3 &&
             (mode == RemoteMode::kPolling ||
              server_.stream_request_times().size() >= streams_before + 3);
    }));
    client.reset();
    for (auto gap : Gaps(server_.flags_request_times(), flags_before)) {
      EXPECT_GE(gap, kRetry) << "GET /v1/flags retried too soon";
    }
    for (auto gap : Gaps(server_.stream_request_times(), streams_before)) {
      EXPECT_GE(gap, kRetry) << "GET /v1/stream retried too soon";
    }
  }
}

TEST_F(RemoteSourceTest, RetryAfterIsWaitedOnTopOfTheBackoff) {
  // hotfixd admitting a reconnect storm answers 503 + Retry-After; so may any
  // overloaded server on /v1/flags.
  constexpr auto kRetryAfter = std::chrono::seconds(1);
  server_.SetStreamStatus(503);
  server_.SetFlagsResponse(503, R"({"error":{"message":"busy"}})");
  server_.SetRetryAfter("1");
  const std::size_t flags_before = server_.flags_request_times().size();
  const std::size_t streams_before = server_.stream_request_times().size();
  ClientOptions options = Options(RemoteMode::kStreaming);
  // Everything else would retry every 10 ms.
  options.remote.poll_interval = absl::Milliseconds(10);
  options.remote.backoff_base = absl::Milliseconds(10);
  options.remote.backoff_cap = absl::Milliseconds(10);
  auto client = CreateClient(options);
  ASSERT_TRUE(Eventually([&] {
    return server_.flags_request_times().size() >= flags_before + 3 &&
           server_.stream_request_times().size() >= streams_before + 3;
  }));
  client.reset();
  server_.SetRetryAfter("");
  server_.SetStreamStatus(0);
  server_.SetFlagsResponse(0);
  // A lower bound that load cannot break.
  for (auto gap : Gaps(server_.flags_request_times(), flags_before)) {
    EXPECT_GE(gap, kRetryAfter) << "GET /v1/flags came before Retry-After";
  }
  for (auto gap : Gaps(server_.stream_request_times(), streams_before)) {
    EXPECT_GE(gap, kRetryAfter) << "GET /v1/stream came before Retry-After";
  }
}

TEST_F(RemoteSourceTest, InvalidOptionsAreRefusedAtCreation) {
  for (const char* url : {"ftp://127.0.0.1", "http://", "127.0.0.1:80",
                          "http://h:99999", "http://user@h", "http://h/x?y"}) {
    ClientOptions options = Options(RemoteMode::kStreaming);
    options.remote.base_url = url;
    EXPECT_TRUE(absl::IsInvalidArgument(Client::Create(options).status()))
        << url;
  }
  ClientOptions options = Options(RemoteMode::kPolling);
  options.remote.poll_interval = absl::ZeroDuration();
  EXPECT_THAT(std::string(Client::Create(options).status().message()),
              HasSubstr("remote.poll_interval"));
  // kOff ignores the remote options entirely.
  options.remote.mode = RemoteMode::kOff;
  auto client = CreateClient(options);
  EXPECT_EQ(client->GetStatus().connection, RemoteConnection::kNone);
}

// ------------------------------------------------------------------ start-up

TEST_F(RemoteSourceTest, CreationNeverBlocksAndALateAnswerIsApplied) {
  server_.Hold("/v1/stream");
  server_.Hold("/v1/flags");
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  // Create has returned while the server holds the client's request, which
  // it will not answer until released.
  ASSERT_TRUE(Eventually([&] { return server_.held_now() >= 1; }));
  EXPECT_EQ(client->version(), 0u);
  const ClientStatus status = client->GetStatus();
  EXPECT_EQ(status.state, SourceState::kInitializing);
  EXPECT_EQ(status.connection, RemoteConnection::kConnecting);
  EXPECT_FALSE(client->Enabled("a"));  // the caller's default meanwhile
  EXPECT_FALSE(client->WaitUntilReady(absl::Milliseconds(50)));

  server_.ReleaseHeld();
  EXPECT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  EXPECT_TRUE(client->Enabled("a"));
}

TEST_F(RemoteSourceTest, ServerDownAtStartServesTheCacheThenLiveData) {
  ClientOptions options = Options(RemoteMode::kStreaming);
  options.cache_path = dir_.path() + "/flags.cache";
  {
    auto client = CreateClient(options);
    ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
    ASSERT_TRUE(Eventually([&] {
      return absl::StrContains(ReadFile(options.cache_path), "\"version\":5");
    }));
    server_.SetFlag("b", BoolFlag(true));  // a patch is cached too
    ASSERT_TRUE(Eventually([&] {
      return absl::StrContains(ReadFile(options.cache_path), "\"version\":6");
    }));
  }
  server_.Stop();
  server_.SetFlagQuietly("a", BoolFlag(false));  // version 7, while down

  auto client = CreateClient(options);
  ClientStatus status = client->GetStatus();
  EXPECT_EQ(status.origin, SnapshotOrigin::kCache);
  EXPECT_EQ(status.version, 6u);
  EXPECT_TRUE(client->Enabled("a"));
  EXPECT_TRUE(client->Enabled("b"));
  ASSERT_TRUE(Eventually(
      [&] { return client->GetStatus().state == SourceState::kStale; }));
  EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kCache);

  ASSERT_TRUE(server_.Start());
  ASSERT_TRUE(Eventually([&] {
    const ClientStatus s = client->GetStatus();
    return s.version == 7 && s.state == SourceState::kValid;
  }));
  EXPECT_FALSE(client->Enabled("a"));
  status = client->GetStatus();
  EXPECT_TRUE(status.origin == SnapshotOrigin::kStream ||
              status.origin == SnapshotOrigin::kPoll);
  EXPECT_LT(status.age, absl::Minutes(1));
}

TEST_F(RemoteSourceTest, CacheWinsOverBootstrapWhichWinsOverNothing) {
  server_.Stop();
  ClientOptions options = Options(RemoteMode::kStreaming);
  options.cache_path = dir_.path() + "/flags.cache";
  options.bootstrap_json = Document(1, {{"a", BoolFlag(false)}});
  {
    auto client = CreateClient(options);  // no cache yet
    EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kBootstrap);
    EXPECT_FALSE(client->Enabled("a"));
  }
  ASSERT_TRUE(StoreInCache(options, Document(4, {{"a", BoolFlag(true)}})).ok());
  {
    auto client = CreateClient(options);
    EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kCache);
    EXPECT_EQ(client->version(), 4u);
    EXPECT_TRUE(client->Enabled("a"));
  }
  {
    // A cache written for another key is not this environment's.
    options.remote.sdk_key = "another-key";
    auto client = CreateClient(options);
    EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kBootstrap);
  }
  // An invalid bootstrap fails creation even when the cache is served.
  options.remote.sdk_key = FlagServer::kSdkKey;
  options.bootstrap_json = "{\"version\":1}";
  EXPECT_TRUE(absl::IsInvalidArgument(Client::Create(options).status()));
}

// ------------------------------------------------------------------ stopping

// Destroys `client` on another thread. True if that took less than 20 s, far
// less than any timeout of the clients below (an hour); if not, the server is
// stopped, which ends every request, so that the test ends instead of
// hanging.
bool DestroyPromptly(std::unique_ptr<Client>& client, FlagServer& server) {
  auto destroyed = std::async(std::launch::async, [&] { client.reset(); });
  if (destroyed.wait_for(std::chrono::seconds(20)) ==
      std::future_status::ready) {
    return true;
  }
  server.Stop();
  destroyed.wait();
  return false;
}

TEST_F(RemoteSourceTest, DestroyIsPromptWhileRequestsAreBlocked) {
  // Timeouts of an hour: a destructor that waited for the network would take
  // that long.
  for (RemoteMode mode : {RemoteMode::kStreaming, RemoteMode::kPolling}) {
    SCOPED_TRACE(static_cast<int>(mode));
    ClientOptions options = Options(mode);
    options.remote.read_timeout = absl::Hours(1);
    options.remote.heartbeat_timeout = absl::Hours(1);
    server_.Hold(mode == RemoteMode::kStreaming ? "/v1/stream" : "/v1/flags");
    auto client = CreateClient(options);
    ASSERT_TRUE(Eventually([&] { return server_.held_now() >= 1; }));
    ASSERT_TRUE(DestroyPromptly(client, server_))
        << "destroying a client whose request is unanswered took over 20 s";
    // Destroyed while the server still holds the request unanswered.
    EXPECT_GE(server_.held_now(), 1);
    server_.ReleaseHeld();
    ASSERT_TRUE(Eventually([&] { return server_.held_now() == 0; }));
  }
  // And while an open stream is blocked in a read: destruction is as prompt,
  // and closes the connection.
  ClientOptions options = Options(RemoteMode::kStreaming);
  options.remote.heartbeat_timeout = absl::Hours(1);
  auto client = CreateClient(options);
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  ASSERT_TRUE(Eventually([&] { return server_.open_streams() == 1; }));
  server_.SetSilent(true);
  ASSERT_TRUE(DestroyPromptly(client, server_))
      << "destroying a client blocked in a stream read took over 20 s";
  // The client closed its end: the server's next writes fail.
  server_.SetSilent(false);
  EXPECT_TRUE(Eventually([&] { return server_.open_streams() == 0; }));
}

// ------------------------------------------------------------------ TLS

class RemoteTlsTest : public RemoteSourceTest {
 protected:
  void SetUp() override {
    RemoteSourceTest::SetUp();
    tls_server_.SetAll(5, {{"a", BoolFlag(true)}});
    ASSERT_TRUE(tls_server_.Start(0));
    ca_file_ = dir_.path() + "/ca.pem";
    ASSERT_TRUE(certificate_.WritePem(ca_file_));
  }
  ClientOptions TlsOptions() const {
    ClientOptions options = Options(RemoteMode::kStreaming);
    options.remote.base_url = tls_server_.url();
    return options;
  }

  Certificate certificate_;
  FlagServer tls_server_{&certificate_};
  std::string ca_file_;
};

TEST_F(RemoteTlsTest, TrustedSelfSignedCertificateIsAccepted) {
  ClientOptions options = TlsOptions();
  options.remote.ca_file = ca_file_;
  for (RemoteMode mode : {RemoteMode::kStreaming, RemoteMode::kPolling}) {
    options.remote.mode = mode;
    auto client = CreateClient(options);
    ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
    EXPECT_TRUE(client->Enabled("a"));
  }
  EXPECT_TRUE(absl::StartsWith(options.remote.base_url, "https://"));
}

TEST_F(RemoteTlsTest, UntrustedCertificateIsRefused) {
  Certificate other;
  const std::string other_ca = dir_.path() + "/other.pem";
  ASSERT_TRUE(other.WritePem(other_ca));
  for (const std::string& ca : {std::string(), other_ca}) {
    SCOPED_TRACE(ca.empty() ? "system trust store" : "another CA");
    ClientOptions options = TlsOptions();
    options.remote.ca_file = ca;
    auto client = CreateClient(options);
    ASSERT_TRUE(Eventually([&] {
      return absl::StrContains(client->GetStatus().last_error.message(),
                               "certificate verification failed");
    }));
    EXPECT_EQ(client->version(), 0u);
    EXPECT_EQ(client->GetStatus().state, SourceState::kError);
    EXPECT_FALSE(client->WaitUntilReady(absl::Milliseconds(10)));
  }
}

}  // namespace
}  // namespace hotfix
