// What the SDK posts to /v1/telemetry (docs/protocol.md, "Telemetry"), seen
// by a minimal server on loopback: gzip, the SDK key, JSON with deltas, and
// counts a failed post did not deliver summed into the next one. Every wait
// has a deadline.

#include <httplib.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"

namespace hotfix {
namespace {

using ::testing::HasSubstr;

constexpr char kFlags[] = R"({"version": 7, "flags": {
  "fix": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on"}}})";

struct Post {
  std::string encoding;
  std::string authorization;
  std::string content_type;
  std::string body;  // decompressed by the server library
};

class TelemetryServer {
 public:
  TelemetryServer() {
    server_.Get("/v1/flags", [](const httplib::Request&, httplib::Response& r) {
      r.set_content(kFlags, "application/json");
    });
    server_.Post("/v1/telemetry", [this](const httplib::Request& req,
                                         httplib::Response& r) {
      std::lock_guard<std::mutex> lock(mu_);
      posts_.push_back({req.get_header_value("Content-Encoding"),
                        req.get_header_value("Authorization"),
                        req.get_header_value("Content-Type"), req.body});
      r.status = absent_ ? 404 : fail_ ? 500 : 202;
      r.set_content(R"({"accepted":1,"ignored":0})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TelemetryServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  void set_fail(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = fail;
  }
  // Answers 404, as a server without /v1/telemetry would.
  void set_absent(bool absent) {
    std::lock_guard<std::mutex> lock(mu_);
    absent_ = absent;
  }
  std::vector<Post> posts() {
    std::lock_guard<std::mutex> lock(mu_);
    return posts_;
  }
  // Waits (at most 20 s) until more than `n` posts arrived.
  bool WaitForPosts(std::size_t n) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (posts().size() <= n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<Post> posts_;
  bool fail_ = false;
  bool absent_ = false;
};

std::unique_ptr<Client> MakeClient(const TelemetryServer& server) {
  ClientOptions options;
  options.remote.base_url = absl::StrCat("http://127.0.0.1:", server.port());
  options.remote.sdk_key = "sdk-key-1";
  options.remote.mode = RemoteMode::kPolling;
  options.remote.poll_interval = absl::Seconds(30);
  options.telemetry.flush_interval = absl::Milliseconds(50);
  options.telemetry.instance = "svc-1";
  options.telemetry.close_timeout = absl::Seconds(1);
  auto client = Client::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->WaitUntilReady(absl::Seconds(20)));
  return *std::move(client);
}

// Waits (at most 20 s) until the client reports a failed telemetry post.
bool WaitForTelemetryError(const Client& client) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (client.GetStatus().telemetry.last_error.ok()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(TelemetryPostTest, PostsGzippedDeltasWithTheSdkKey) {
  TelemetryServer server;
  auto client = MakeClient(server);
  for (int i = 0; i < 3; ++i) client->Enabled("fix");
  client->Report("fix", false);
  ASSERT_TRUE(server.WaitForPosts(0));
  Post first = server.posts()[0];
  EXPECT_EQ(first.encoding, "gzip");
  EXPECT_EQ(first.authorization, "Bearer sdk-key-1");
  EXPECT_EQ(first.content_type, "application/json");
  EXPECT_THAT(first.body, HasSubstr(R"("instance":"svc-1")"));
  EXPECT_THAT(first.body, HasSubstr(R"("sdk":"hotfix-cpp/)"));
  EXPECT_THAT(
      first.body,
      HasSubstr(
          R"({"flag":"fix","variant":"on","exposures":3,"successes":0,"failures":1})"));
  EXPECT_THAT(first.body, HasSubstr(R"("dropped":0)"));
  // The next post carries only what is new.
  const std::size_t seen = server.posts().size();
  client->Enabled("fix");
  ASSERT_TRUE(server.WaitForPosts(seen));
  EXPECT_THAT(
      server.posts().back().body,
      HasSubstr(
          R"({"flag":"fix","variant":"on","exposures":1,"successes":0,"failures":0})"));
}

TEST(TelemetryPostTest, RefusedCountsAreSentAgainWithLaterOnes) {
  TelemetryServer server;
  auto client = MakeClient(server);
  server.set_fail(true);
  client->Enabled("fix");
  ASSERT_TRUE(server.WaitForPosts(0));
  ASSERT_TRUE(WaitForTelemetryError(*client));
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  client->Enabled("fix");
  server.set_fail(false);
  const std::size_t seen = server.posts().size();
  ASSERT_TRUE(server.WaitForPosts(seen));
  // Both exposures, the refused one and the new one, in one accepted post
  // (after a failure the next post waits at least a second, so no post split
  // them).
  while (client->GetStatus().telemetry.posts == 0) {
    ASSERT_LT(std::chrono::steady_clock::now(),
              deadline + std::chrono::seconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_THAT(server.posts().back().body,
              HasSubstr(R"("variant":"on","exposures":2)"));
}

TEST(TelemetryPostTest, AServerWithoutTelemetryIsNamedAsSuchNotAsABadUrl) {
  TelemetryServer server;
  server.set_absent(true);
  auto client = MakeClient(server);
  client->Enabled("fix");
  ASSERT_TRUE(server.WaitForPosts(0));
  ASSERT_TRUE(WaitForTelemetryError(*client));
  const ClientStatus status = client->GetStatus();
  EXPECT_EQ(status.telemetry.last_error.code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_THAT(status.telemetry.last_error.message(),
              HasSubstr("does not accept telemetry"));
  EXPECT_THAT(status.telemetry.last_error.message(),
              ::testing::Not(HasSubstr("base_url")));
  // The flags themselves are served, and the client is not in a
  // configuration error.
  EXPECT_TRUE(client->Enabled("fix"));
  EXPECT_FALSE(status.config_error);
}

}  // namespace
}  // namespace hotfix
