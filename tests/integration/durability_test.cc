// tests/integration/durability_test.cc
//
// An acknowledged change is never lost: a writer loop changes a flag as fast
// as hotfixd acknowledges, hotfixd is killed with SIGKILL at a random moment,
// restarted on the same data directory, and every version that was answered
// with 200 must be there, intact (stored checksum verified by the server) and
// with exactly the content written. Writes in flight at the kill may or may
// not have landed; nothing else may differ. A streaming client attached
// meanwhile never sees a version the server could still lose. And stored
// versions are checksummed: a damaged one answers DATA_LOSS, a damaged
// current version stops the server from starting.

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json_util.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

class DurabilityTest : public ServerTest {};

std::string CounterBody(const std::string& value) {
  return absl::StrCat(R"({"reason":"durability write )", value,
                      R"(","flag":{"variants":{"v":")", value,
                      R"("},"default":"v"}})");
}

// Checks that every acknowledged version is stored intact.
void VerifyAcknowledged(
    const ServerProcess& server,
    const std::map<std::uint64_t, std::string>& acknowledged) {
  HttpReply history =
      Http(server.port(), "GET", "/v1/admin/envs/production/history?limit=1",
           kAdminToken);
  ASSERT_EQ(history.status, 200) << history.body;
  const std::uint64_t current = history.Json()["current_version"].GetUint64();
  if (!acknowledged.empty()) {
    EXPECT_GE(current, acknowledged.rbegin()->first);
  }
  HttpReply flags = Http(server.port(), "GET", "/v1/flags", kSdkKey);
  ASSERT_EQ(flags.status, 200);
  EXPECT_EQ(flags.Header("X-Hotfix-Version"), absl::StrCat(current));
  for (const auto& [version, value] : acknowledged) {
    HttpReply r =
        Http(server.port(), "GET",
             absl::StrCat("/v1/admin/envs/production/versions/", version),
             kAdminToken);
    ASSERT_EQ(r.status, 200) << "acknowledged version " << version
                             << " is missing or damaged: " << r.body;
    rapidjson::Document doc = r.Json();
    EXPECT_EQ(doc["version"].GetUint64(), version);
    ASSERT_TRUE(doc["flags"].HasMember("counter")) << "version " << version;
    EXPECT_EQ(std::string(doc["flags"]["counter"]["variants"]["v"].GetString()),
              value)
        << "version " << version;
  }
}

TEST_F(DurabilityTest, EveryAcknowledgedVersionSurvivesKill9) {
  ServerOptions options;
  options.data_dir = data_dir();
  const unsigned seed = static_cast<unsigned>(absl::ToUnixNanos(absl::Now()));
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(20, 300);

  std::mutex mu;
  std::map<std::uint64_t, std::string> acknowledged;
  std::map<std::uint64_t, std::string> streamed;  // what streams were sent
  int next_write = 0;
  int kills = 0;
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round, " seed ", seed));
    std::unique_ptr<ServerProcess> server = ServerProcess::Start(options);
    ASSERT_NE(server, nullptr);
    {
      std::lock_guard<std::mutex> lock(mu);
      VerifyAcknowledged(*server, acknowledged);
    }
    std::atomic<bool> stop{false};
    std::atomic<int> unexpected{0};
    const int port = server->port();
    // A client streaming meanwhile: whatever it is sent must survive.
    auto observer = std::make_unique<SseReader>(port, kSdkKey);
    std::thread writer([&] {
      while (!stop.load()) {
        const std::string value = absl::StrCat("w", next_write++);
        HttpReply r =
            Http(port, "PUT", "/v1/admin/envs/production/flags/counter",
                 kAdminToken, CounterBody(value));
        if (r.status == 200) {
          rapidjson::Document doc = r.Json();
          std::lock_guard<std::mutex> lock(mu);
          acknowledged[doc["version"].GetUint64()] = value;
        } else if (r.status == 0) {
          break;  // the server is gone: this write was never acknowledged
        } else {
          unexpected.fetch_add(1);
          break;
        }
      }
    });
    absl::SleepFor(absl::Milliseconds(delay_ms(rng)));
    server->Kill9();
    ++kills;
    stop.store(true);
    writer.join();
    EXPECT_EQ(unexpected.load(), 0);
    for (const SseEvent& e : observer->Events()) {
      if (e.type != "patch") continue;
      rapidjson::Document patch;
      ASSERT_TRUE(tools::ParseJson(e.data, "patch", &patch).ok());
      if (!patch.HasMember("flag")) continue;
      streamed[patch["version"].GetUint64()] =
          patch["flag"]["variants"]["v"].GetString();
    }
    observer.reset();
  }
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options);
  ASSERT_NE(server, nullptr);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_GT(acknowledged.size(), static_cast<std::size_t>(kills));
  VerifyAcknowledged(*server, acknowledged);
  // Publication follows the commit: a version a client was sent is durable,
  // acknowledged to the writer or not.
  EXPECT_FALSE(streamed.empty());
  VerifyAcknowledged(*server, streamed);

  // History is contiguous: every version from the current one down to 1
  // exists. A fast machine writes thousands of versions, more than one page
  // (at most 1,000 entries): follow `next_before` to the end.
  std::uint64_t expected = 0;
  std::string path = "/v1/admin/envs/production/history?limit=1000";
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 1000) << "history paging does not end";
    HttpReply history = Http(server->port(), "GET", path, kAdminToken);
    ASSERT_EQ(history.status, 200) << history.body;
    rapidjson::Document h = history.Json();
    if (pages == 0) expected = h["current_version"].GetUint64();
    for (const rapidjson::Value& v : h["versions"].GetArray()) {
      ASSERT_EQ(v["version"].GetUint64(), expected);
      --expected;
    }
    if (!h.HasMember("next_before")) break;
    path = absl::StrCat("/v1/admin/envs/production/history?limit=1000&before=",
                        h["next_before"].GetUint64());
  }
  EXPECT_EQ(expected, 0u);
}

// Overwrites the stored document of `version` in DATA_DIR/hotfixd.db
// without touching its checksum, as a failing disk or a careless hand would.
void DamageVersion(const std::string& data_dir, std::uint64_t version) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_dir + "/hotfixd.db").c_str(), &db), SQLITE_OK);
  const std::string sql = absl::StrCat(
      "UPDATE versions SET document = replace(document, '\"on\"', '\"no\"') "
      "WHERE env = 'production' AND version = ",
      version);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
      << (err != nullptr ? err : "");
  sqlite3_free(err);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
}

TEST_F(DurabilityTest, ADamagedVersionAnswersDataLoss) {
  Start();
  ASSERT_EQ(
      Call("PUT", "/v1/admin/envs/production/flags/counter", CounterBody("a"))
          .status,
      200);
  ASSERT_EQ(server_->Terminate(), 0);
  DamageVersion(data_dir(), 1);  // not the current one
  Start();
  HttpReply damaged = Call("GET", "/v1/admin/envs/production/versions/1");
  EXPECT_EQ(damaged.status, 500) << damaged.body;
  EXPECT_NE(damaged.body.find("DATA_LOSS"), std::string::npos);
  EXPECT_NE(damaged.body.find("version 1: stored document does not match its "
                              "checksum"),
            std::string::npos)
      << damaged.body;
  // Rolling back to it is refused the same way; the served set is untouched.
  HttpReply rollback = Call("POST", "/v1/admin/envs/production/rollback",
                            R"({"reason":"x","version":1})");
  EXPECT_EQ(rollback.status, 500);
  EXPECT_EQ(Call("GET", "/v1/flags", "", kSdkKey).Header("X-Hotfix-Version"),
            "2");
}

TEST_F(DurabilityTest, StartUpVerifiesTheCurrentVersionsChecksum) {
  Start();
  ASSERT_EQ(server_->Terminate(), 0);
  DamageVersion(data_dir(), 1);  // the current one
  CtlResult refused =
      RunHotfixd({"--data-dir", data_dir(), "--port", "0"},
                 {{"HOTFIX_ADMIN_TOKEN", kAdminToken}}, absl::Seconds(30));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("environment \"production\" version 1: stored "
                             "document does not match its checksum"),
            std::string::npos)
      << refused.err;
}

TEST_F(DurabilityTest, AuditAndTokensSurviveKill9) {
  Start();
  HttpReply created = Call("POST", "/v1/admin/tokens",
                           R"({"reason":"ci","name":"ci-bot","kind":"admin"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string secret = created.Json()["token"].GetString();
  HttpReply kill =
      Call("POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
           R"({"reason":"before the crash"})", secret);
  ASSERT_EQ(kill.status, 200);
  server_->Kill9();
  Start();
  HttpReply audit = Call("GET", "/v1/admin/audit?env=production", "",
                         secret);  // the token itself survived
  ASSERT_EQ(audit.status, 200) << audit.body;
  rapidjson::Document doc = audit.Json();
  const rapidjson::Value& latest = doc["entries"][0];
  EXPECT_EQ(std::string(latest["actor"].GetString()), "ci-bot");
  EXPECT_EQ(std::string(latest["action"].GetString()), "flag.kill");
  EXPECT_EQ(std::string(latest["reason"].GetString()), "before the crash");
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
