// fork(): a child process keeps following the flag server once it calls
// Client::AfterFork() (fork() copies only the calling thread, so the child
// would otherwise be left with frozen flags), and the parent's own
// connection is not disturbed by the child sharing its sockets.
//
// Children report through their exit code (and a pipe for "ready"); every
// wait is bounded.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "support/flag_server.h"

// A multi-threaded process that forks and starts threads in the child is
// exactly what this test is about; ThreadSanitizer would otherwise kill such
// a child. (Ignored when not built with TSan.)
extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }

namespace hotfix {
namespace {

using ::hotfix::testing_support::BoolFlag;
using ::hotfix::testing_support::FlagServer;

// Waits for `pid` for at most `timeout` (then kills it). Returns its exit
// code, or -1 if it had to be killed or died from a signal.
int WaitForChild(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 || absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool ReadByte(int fd, absl::Duration timeout) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) {
    return false;
  }
  char c;
  return read(fd, &c, 1) == 1;
}

class ForkTest : public ::testing::TestWithParam<RemoteMode> {
 protected:
  void SetUp() override {
    server_.SetAll(1, {{"a", BoolFlag(false)}});
    // Rare heartbeats: the parent's threads are idle (holding no lock) when
    // the test forks.
    server_.SetHeartbeatInterval(std::chrono::seconds(5));
    ASSERT_TRUE(server_.Start(0));
    ClientOptions options;
    options.remote.base_url = server_.url();
    options.remote.sdk_key = FlagServer::kSdkKey;
    options.remote.mode = GetParam();
    options.remote.poll_interval = absl::Milliseconds(200);
    options.remote.heartbeat_timeout = absl::Seconds(20);
    options.remote.backoff_base = absl::Milliseconds(20);
    options.remote.backoff_cap = absl::Milliseconds(200);
    auto client = Client::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    ASSERT_TRUE(client_->WaitUntilReady(absl::Seconds(20)));
    // Fork only once the first snapshot's publication is over: the client
    // does not take its publication locks around fork(), so forking while a
    // source thread holds them would leave them locked in the child.
    if (GetParam() == RemoteMode::kStreaming) {
      ASSERT_TRUE(FlagServer::Eventually([&] {
        return client_->GetStatus().connection == RemoteConnection::kStreaming;
      }));
    } else {
      ASSERT_TRUE(FlagServer::Eventually(
          [&] { return server_.not_modified_responses() >= 1; }));
    }
    ASSERT_FALSE(client_->Enabled("a"));
  }

  FlagServer server_;
  std::unique_ptr<Client> client_;
};

TEST_P(ForkTest, ChildFollowsTheServerAfterAfterFork) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: no gtest assertions here, only an exit code.
    close(ready[0]);
    client_->AfterFork();
    const char byte = 'r';
    if (write(ready[1], &byte, 1) != 1) _exit(3);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (client_->Enabled("a")) _exit(0);
      absl::SleepFor(absl::Milliseconds(2));
    }
    _exit(1);
  }
  close(ready[1]);
  ASSERT_TRUE(ReadByte(ready[0], absl::Seconds(30)));
  close(ready[0]);
  // The change happens after the child restarted its sources: only they can
  // bring it to the child.
  server_.SetFlag("a", BoolFlag(true));
  EXPECT_EQ(WaitForChild(pid, absl::Seconds(60)), 0);

  // The parent follows too, over its own, undisturbed connection.
  EXPECT_TRUE(FlagServer::Eventually([&] { return client_->Enabled("a"); }));
  if (GetParam() == RemoteMode::kStreaming) {
    EXPECT_EQ(client_->GetStatus().origin, SnapshotOrigin::kStream);
  }
}

TEST_P(ForkTest, ChildWithoutAfterForkKeepsItsFlagsAndExitsCleanly) {
  const int connections = server_.stream_connections();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const bool ok = !client_->Enabled("a") && client_->version() == 1;
    // Destroying the client must neither hang on the parent's threads nor
    // shut down the connection the child shares with the parent.
    client_.reset();
    _exit(ok ? 0 : 1);
  }
  EXPECT_EQ(WaitForChild(pid, absl::Seconds(60)), 0);

  server_.SetFlag("a", BoolFlag(true));
  EXPECT_TRUE(FlagServer::Eventually([&] { return client_->Enabled("a"); }));
  // The parent's stream survived: no reconnection was needed.
  EXPECT_EQ(server_.stream_connections(), connections);
}

INSTANTIATE_TEST_SUITE_P(Modes, ForkTest,
                         ::testing::Values(RemoteMode::kStreaming,
                                           RemoteMode::kPolling),
                         [](const ::testing::TestParamInfo<RemoteMode>& info) {
                           return info.param == RemoteMode::kStreaming
                                      ? std::string("Streaming")
                                      : std::string("Polling");
                         });

}  // namespace
}  // namespace hotfix
