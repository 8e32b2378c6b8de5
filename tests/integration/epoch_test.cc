// tests/integration/epoch_test.cc
//
// Versions are never reused: a database restored from a backup older than
// what a client has seen, given a new epoch (`hotfixd new-epoch`), is taken
// by that client as newer — it gets the restored flags and every change made
// after the restore — instead of being ignored as older, or worse, having a
// version it already holds with other content passed off as a duplicate.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "hotfix/client.h"
#include "hotfix/options.h"

namespace hotfix {
namespace integration {
namespace {

constexpr absl::Duration kWait = absl::Seconds(60);

std::uint64_t Put(int port, const std::string& value) {
  HttpReply r =
      Http(port, "PUT", "/v1/admin/envs/production/flags/counter", kAdminToken,
           absl::StrCat(R"({"reason":"epoch test","flag":{"variants":{"v":")",
                        value, R"("},"default":"v"}})"));
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? r.Json()["version"].GetUint64() : 0;
}

TEST(EpochTest, ARestoredBackupWithANewEpochIsTakenAsNewer) {
  TempDir dir;
  ListeningSocket socket;  // the client's URL stays valid across restarts
  ServerOptions options;
  options.data_dir = dir.path() + "/data";
  options.socket = &socket;
  const std::string db = options.data_dir + "/hotfixd.db";
  const std::string backup = dir.path() + "/backup.db";

  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options);
  ASSERT_NE(server, nullptr);
  ClientOptions client_options;
  client_options.remote.base_url = server->url();
  client_options.remote.sdk_key = kSdkKey;
  // A poll sent while the server is down waits in the test's backlog.
  client_options.remote.read_timeout = absl::Seconds(2);
  client_options.remote.backoff_base = absl::Milliseconds(20);
  client_options.remote.backoff_cap = absl::Milliseconds(300);
  auto client = Client::Create(client_options);
  ASSERT_TRUE(client.ok()) << client.status();
  Client& flags = **client;
  const std::uint64_t backed_up = Put(server->port(), "backed-up");
  ASSERT_EQ(server->Terminate(), 0);
  std::filesystem::copy_file(db, backup);  // a clean stop left no WAL

  server = ServerProcess::Start(options);
  ASSERT_NE(server, nullptr);
  Put(server->port(), "lost-1");
  const std::uint64_t seen = Put(server->port(), "lost-2");
  ASSERT_TRUE(WaitUntil([&] { return flags.version() == seen; }, kWait));
  ASSERT_EQ(server->Terminate(), 0);

  // The restore, as docs/operations.md says: replace the file, new epoch.
  std::filesystem::copy_file(backup, db,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
  CtlResult epoch =
      RunHotfixd({"new-epoch", "--database", "sqlite:" + options.data_dir});
  ASSERT_EQ(epoch.exit_code, 0) << epoch.out << epoch.err;

  server = ServerProcess::Start(options);
  ASSERT_NE(server, nullptr);
  HttpReply sdk = Http(server->port(), "GET", "/v1/flags", kSdkKey);
  ASSERT_EQ(sdk.status, 200);
  const std::uint64_t restored = sdk.Json()["version"].GetUint64();
  EXPECT_GT(restored, seen);  // the restored history counts as newer
  EXPECT_EQ(restored & 0xffffffffu, backed_up);  // local part: the backup's
  EXPECT_TRUE(WaitUntil(
      [&] {
        return flags.version() == restored &&
               flags.GetString("counter", "") == "backed-up";
      },
      kWait))
      << "client at " << flags.version() << ", server at " << restored;
  // The next change gets local version backed_up + 1, a number the client
  // already had with other content; as a wire version it is new.
  Put(server->port(), "after-restore");
  EXPECT_TRUE(WaitUntil(
      [&] { return flags.GetString("counter", "") == "after-restore"; },
      kWait));
  EXPECT_GT(flags.version(), restored);
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
