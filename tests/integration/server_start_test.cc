// tests/integration/server_start_test.cc
//
// Starting hotfixd: the --config file (command-line flags win), a custom
// default environment and bootstrap flag set, and the configurations it must
// refuse with a clear message and a non-zero exit: bad flags, an invalid
// bootstrap set, a weak bootstrap token, a data directory already in use.

#include <memory>
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

class ServerStartTest : public ServerTest {};

TEST_F(ServerStartTest, ConfigFileSetsOptionsAndCommandLineWins) {
  const std::string config = dir_.path() + "/hotfixd.conf";
  const std::string flags = dir_.path() + "/flags.json";
  WriteFile(
      flags,
      R"({"flags":{"only-flag":{"variants":{"on":true},"default":"on"}}})");
  WriteFile(config, absl::StrCat("# hotfixd settings\n"
                                 "default-env = staging\n"
                                 "bootstrap-flags = ",
                                 flags,
                                 "\n"
                                 "max-streams = 7\n"
                                 "heartbeat-interval = 20s\n"));
  // --heartbeat-interval 1s (from the harness) overrides the file's 20s.
  Start({"--config", config});
  HttpReply envs = Http(server_->port(), "GET", "/v1/admin/envs", kAdminToken);
  ASSERT_EQ(envs.status, 200);
  rapidjson::Document doc = envs.Json();
  ASSERT_EQ(doc["environments"].Size(), 1u);
  EXPECT_EQ(std::string(doc["environments"][0]["name"].GetString()), "staging");
  EXPECT_EQ(doc["environments"][0]["flags"].GetUint64(), 1u);
  // The SDK key belongs to the default environment.
  HttpReply flags_reply = Http(server_->port(), "GET", "/v1/flags", kSdkKey);
  EXPECT_EQ(flags_reply.Header("ETag"), "\"staging-1\"");
  // Heartbeats come every second (the command line), not every 20 s.
  SseReader stream(server_->port(), kSdkKey, 1);
  EXPECT_TRUE(
      stream
          .WaitFor([](const SseEvent& e) { return e.type == "heartbeat"; },
                   absl::Seconds(10), 1)
          .has_value());
}

TEST_F(ServerStartTest, RefusesBadConfigurationsWithAClearMessage) {
  const std::string data = data_dir();
  CtlResult r = RunHotfixd({"--data-dir", data, "--no-such-flag", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
  r = RunHotfixd({"--data-dir", data, "--heartbeat-interval", "45s"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("at most 30s"), std::string::npos) << r.err;
  r = RunHotfixd({"--data-dir", data, "--tls-cert", "/nonexistent.pem"});
  EXPECT_EQ(r.exit_code, 2);

  const std::string bad = dir_.path() + "/bad.json";
  WriteFile(bad,
            R"({"flags":{"f":{"variants":{"on":true},"default":"nope"}}})");
  r = RunHotfixd({"--data-dir", data, "--port", "0", "--bootstrap-flags", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("flags.f"), std::string::npos) << r.err;

  r = RunHotfixd({"--data-dir", dir_.path() + "/data2", "--port", "0"},
                 {{"HOTFIX_ADMIN_TOKEN", "short"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("16 to 512 characters"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("short"), std::string::npos) << "the token was logged";
  EXPECT_TRUE(ReadFile(dir_.path() + "/data2/hotfixd.db").empty())
      << "nothing is initialized before the secrets are checked";
}

TEST_F(ServerStartTest, SecondServerOnTheSameDataDirectoryRefuses) {
  Start();
  CtlResult r = RunHotfixd({"--data-dir", data_dir(), "--port", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("another hotfixd"), std::string::npos) << r.err;
  // The first one is unharmed.
  EXPECT_EQ(Http(server_->port(), "GET", "/healthz", "").status, 200);
}

TEST_F(ServerStartTest, SecondServerOnTheSamePortRefusesInsteadOfSharingIt) {
  Start();
  CtlResult r =
      RunHotfixd({"--data-dir", dir_.path() + "/other", "--port",
                  absl::StrCat(server_->port())},
                 {{"HOTFIX_ADMIN_TOKEN", "another-admin-token-0123456789"}},
                 absl::Seconds(30));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(
      r.err.find(absl::StrCat("cannot listen on 127.0.0.1:", server_->port())),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("another process holds it"), std::string::npos) << r.err;
  // Every request still reaches the first server.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Http(server_->port(), "GET", "/v1/flags", kSdkKey).status, 200);
  }
}

TEST_F(ServerStartTest, LogLinesCarryATimeAndCanBeJson) {
  Start({"--log-format", "json"});
  const std::string log = server_->Stderr();
  const std::string first = log.substr(0, log.find('\n'));
  rapidjson::Document line;
  ASSERT_TRUE(tools::ParseJson(first, "log line", &line).ok()) << first;
  EXPECT_TRUE(line.HasMember("time"));
  EXPECT_TRUE(line.HasMember("level"));
  EXPECT_TRUE(line.HasMember("msg"));
  const std::string time = line["time"].GetString();
  EXPECT_EQ(time.size(), 24u) << time;  // 2026-12-06T18:22:01.123Z
  EXPECT_EQ(time.back(), 'Z');
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
