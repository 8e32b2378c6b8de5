// SDK failover between servers of one deployment (RemoteOptions::base_urls)
// against real HTTP servers on 127.0.0.1 (tests/support/flag_server.h) that
// play replicas: they serve the same versions. A stream whose server dies
// moves to the next one and resumes there with Last-Event-ID; a poller moves
// on server errors; the list wraps around; ClientStatus::server says which
// server is followed.
//
// No assertion depends on timing: tests wait for states (bounded by
// FlagServer::Eventually) and check what the client did.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "support/flag_server.h"
#include "support/test_client.h"

namespace hotfix {
namespace {

using ::hotfix::testing_support::BoolFlag;
using ::hotfix::testing_support::CreateClient;
using ::hotfix::testing_support::FlagServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename F>
bool Eventually(F done) {
  return FlagServer::Eventually(done);
}

class ClientFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (FlagServer* s : {&a_, &b_}) {
      s->SetAll(5, {{"a", BoolFlag(true)}});
      ASSERT_TRUE(s->Start(0));
    }
  }
  void TearDown() override {
    a_.ReleaseHeld();
    b_.ReleaseHeld();
  }

  // Follows a_ first, then b_.
  ClientOptions Options(RemoteMode mode) const {
    ClientOptions options =
        testing_support::TestClientOptions(a_.url(), FlagServer::kSdkKey, mode);
    options.remote.base_urls = {b_.url()};
    options.remote.connect_timeout = absl::Seconds(5);
    options.remote.read_timeout = absl::Seconds(5);
    options.remote.heartbeat_timeout = absl::Seconds(2);
    return options;
  }

  // Both "replicas" change flag `key` the same way.
  void SetBoth(const std::string& key, bool value) {
    a_.SetFlag(key, BoolFlag(value));
    b_.SetFlag(key, BoolFlag(value));
  }

  FlagServer a_;
  FlagServer b_;
};

TEST_F(ClientFailoverTest, StreamMovesToTheNextServerAndResumesFromItsVersion) {
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(Eventually([&] {
    const ClientStatus s = client->GetStatus();
    return s.connection == RemoteConnection::kStreaming && s.version == 5;
  }));
  EXPECT_EQ(client->GetStatus().server, a_.url());
  SetBoth("a", false);  // version 6 on both
  ASSERT_TRUE(Eventually([&] { return client->version() == 6; }));
  EXPECT_EQ(b_.stream_connections(), 0);

  a_.Stop();
  ASSERT_TRUE(Eventually([&] {
    const ClientStatus s = client->GetStatus();
    return s.server == b_.url() && s.connection == RemoteConnection::kStreaming;
  }));
  // It resumed from where it was, not from scratch.
  EXPECT_THAT(b_.last_event_ids(), ElementsAre("6"));
  // Until the stream's first event pauses it, the poller still polls; from
  // here on polls answer "unchanged", so version 7 can only come by the
  // stream.
  b_.SetFlagsResponse(304);
  b_.SetFlag("b", BoolFlag(true));  // 7: live on the new server
  // The status (origin, below) is updated just after the snapshot is
  // published: wait for the status itself.
  ASSERT_TRUE(Eventually([&] { return client->GetStatus().version == 7; }));
  EXPECT_TRUE(client->Enabled("b"));
  EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kStream);
  b_.SetFlagsResponse(0);
}

TEST_F(ClientFailoverTest, PollerMovesOnServerErrorsAndReportsTheServer) {
  a_.SetFlagsResponse(503, "overloaded");
  auto client = CreateClient(Options(RemoteMode::kPolling));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  EXPECT_GE(a_.flags_requests(), 1);  // tried first
  ASSERT_TRUE(
      Eventually([&] { return client->GetStatus().server == b_.url(); }));
  b_.SetFlag("a", BoolFlag(false));
  ASSERT_TRUE(Eventually([&] { return !client->Enabled("a"); }));
  EXPECT_EQ(client->GetStatus().server, b_.url());
}

TEST_F(ClientFailoverTest, TheListWrapsAroundWhenTheLastServerFails) {
  auto client = CreateClient(Options(RemoteMode::kStreaming));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(Eventually([&] {
    return client->GetStatus().connection == RemoteConnection::kStreaming;
  }));
  a_.Stop();
  ASSERT_TRUE(Eventually([&] {
    const ClientStatus s = client->GetStatus();
    return s.server == b_.url() && s.connection == RemoteConnection::kStreaming;
  }));
  ASSERT_TRUE(a_.Start());  // the same port again
  b_.Stop();
  SetBoth("a", false);  // only a_ can deliver it
  ASSERT_TRUE(Eventually([&] {
    const ClientStatus s = client->GetStatus();
    return s.server == a_.url() &&
           s.connection == RemoteConnection::kStreaming && s.version == 6;
  }));
  EXPECT_FALSE(client->Enabled("a"));
}

TEST_F(ClientFailoverTest, ServersMayBeGivenOnlyAsAList) {
  ClientOptions options = Options(RemoteMode::kPolling);
  options.remote.base_url.clear();
  options.remote.base_urls = {b_.url(), a_.url()};
  auto client = CreateClient(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->WaitUntilReady(absl::Seconds(20)));
  EXPECT_EQ(client->GetStatus().server, b_.url());
  EXPECT_EQ(a_.flags_requests(), 0);
}

TEST_F(ClientFailoverTest, ABadUrlInTheListIsRefusedAtCreation) {
  ClientOptions options = Options(RemoteMode::kStreaming);
  options.remote.base_urls = {b_.url(), "ftp://replica-c"};
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(client.status()));
  EXPECT_THAT(std::string(client.status().message()),
              HasSubstr("ftp://replica-c"));
}

}  // namespace
}  // namespace hotfix
