// tests/support/test_client.h
//
// A Client for tests: TestClientOptions() points one at a server
// (tests/support/flag_server.h or a real hotfixd) and makes it poll and retry
// on a test's time scale (production waits seconds), CreateClient() makes it,
// failing the test when it cannot, and BootstrapClient() makes one that
// serves a flag set and follows no server.
//
// Example:
//
//   ClientOptions options =
//       TestClientOptions(server.url(), FlagServer::kSdkKey, mode);
//   options.remote.heartbeat_timeout = absl::Seconds(5);
//   std::unique_ptr<Client> client = CreateClient(options);
//   ASSERT_NE(client, nullptr);
//
// Thread-safe: the functions are.

#ifndef HOTFIX_TESTS_SUPPORT_TEST_CLIENT_H_
#define HOTFIX_TESTS_SUPPORT_TEST_CLIENT_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "hotfix/client.h"
#include "hotfix/options.h"

namespace hotfix {
namespace testing_support {

// Options for a client of the server at `base_url` with `sdk_key`: it polls
// (in kPolling mode) every 100 ms and backs off from 20 ms to 200 ms between
// attempts. Tests set whatever else they depend on.
inline ClientOptions TestClientOptions(std::string base_url,
                                       std::string sdk_key, RemoteMode mode) {
  ClientOptions options;
  options.remote.base_url = std::move(base_url);
  options.remote.sdk_key = std::move(sdk_key);
  options.remote.mode = mode;
  options.remote.poll_interval = absl::Milliseconds(100);
  options.remote.backoff_base = absl::Milliseconds(20);
  options.remote.backoff_cap = absl::Milliseconds(200);
  return options;
}

// Client::Create(options), or null after failing the test.
inline std::unique_ptr<Client> CreateClient(const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// A client that serves the flag set `json` and follows no server, or null
// after failing the test.
inline std::unique_ptr<Client> BootstrapClient(std::string json) {
  ClientOptions options;
  options.bootstrap_json = std::move(json);
  return CreateClient(options);
}

}  // namespace testing_support
}  // namespace hotfix

#endif  // HOTFIX_TESTS_SUPPORT_TEST_CLIENT_H_
