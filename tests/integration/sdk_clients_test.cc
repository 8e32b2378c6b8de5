// tests/integration/sdk_clients_test.cc
//
// Real SDK clients (hotfix::Client with a remote source, streaming and
// polling) against a real hotfixd: after every hotfixctl flip, kill, ramp and
// rollback, every client converges to the right values; after a kill -9 and
// restart of the server they reconnect and keep converging.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "harness.h"
#include "hotfix/client.h"
#include "hotfix/context.h"
#include "hotfix/options.h"
#include "support/test_client.h"

namespace hotfix {
namespace integration {
namespace {

constexpr absl::Duration kConverge = absl::Seconds(10);

class SdkClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartServer();
    for (RemoteMode mode : {RemoteMode::kStreaming, RemoteMode::kStreaming,
                            RemoteMode::kPolling, RemoteMode::kPolling}) {
      ClientOptions options =
          testing_support::TestClientOptions(server_->url(), kSdkKey, mode);
      options.remote.heartbeat_timeout = absl::Seconds(5);
      options.remote.backoff_cap = absl::Milliseconds(300);
      std::unique_ptr<Client> client = testing_support::CreateClient(options);
      ASSERT_NE(client, nullptr);
      ASSERT_TRUE(client->WaitUntilReady(kConverge));
      clients_.push_back(std::move(client));
    }
  }

  void StartServer() {
    ServerOptions options;
    options.data_dir = dir_.path() + "/data";
    // The same port across restarts: the test holds the listening socket.
    options.socket = &socket_;
    server_ = ServerProcess::Start(options);
    ASSERT_NE(server_, nullptr);
  }

  void Ctl(std::vector<std::string> args) {
    CtlResult r = RunCtl(args, CtlEnv(*server_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Waits until every client serves `expected` for `flag` and `ctx`.
  void ExpectConverged(const std::string& flag, bool expected,
                       std::uint64_t version) {
    Context ctx("user-1");
    ctx.Set("region", "us");
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      Client& c = *clients_[i];
      EXPECT_TRUE(WaitUntil(
          [&] {
            return c.version() >= version && c.Enabled(flag, ctx) == expected;
          },
          kConverge))
          << "client " << i << " (" << (i < 2 ? "streaming" : "polling")
          << ") serves version " << c.version() << ", " << flag << " = "
          << c.Enabled(flag, ctx) << "; expected version " << version << ", "
          << expected;
    }
  }

  TempDir dir_;
  ListeningSocket socket_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(SdkClientsTest, EveryClientConvergesAfterEachFlip) {
  ExpectConverged("kill-recommendations", true, 1);
  Ctl({"kill", "kill-recommendations", "--reason", "recs down"});
  ExpectConverged("kill-recommendations", false, 2);
  Ctl({"rollout", "fix-double-charge", "100", "--reason", "ramp"});
  ExpectConverged("fix-double-charge", true, 3);
  Ctl({"kill", "--tag", "payments", "--reason", "payments incident"});
  ExpectConverged("fix-double-charge", false, 4);
  Ctl({"revive", "kill-recommendations", "--reason", "recs back"});
  ExpectConverged("kill-recommendations", true, 5);
  Ctl({"rollback", "2", "--reason", "back to version 2"});
  ExpectConverged("kill-recommendations", false, 6);
  Context eu("user-1");
  eu.Set("region", "eu");
  for (auto& c : clients_) EXPECT_TRUE(c->Enabled("fix-double-charge", eu));
  // The streaming clients got their snapshots from the stream, the others
  // by polling.
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    EXPECT_EQ(clients_[i]->GetStatus().origin,
              i < 2 ? SnapshotOrigin::kStream : SnapshotOrigin::kPoll)
        << "client " << i;
  }
}

TEST_F(SdkClientsTest, ClientsFollowAcrossAServerCrash) {
  Ctl({"kill", "kill-recommendations", "--reason", "before the crash"});
  ExpectConverged("kill-recommendations", false, 2);
  server_->Kill9();
  // Clients keep serving their last snapshot while the server is down.
  for (auto& c : clients_) EXPECT_FALSE(c->Enabled("kill-recommendations"));
  StartServer();
  Ctl({"revive", "kill-recommendations", "--reason", "after the restart"});
  ExpectConverged("kill-recommendations", true, 3);
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
