// tests/integration/server_test.h
//
// ServerTest: the fixture of every integration test that runs one hotfixd on
// loopback — a temporary data directory, Start() (again, to restart with
// other flags), and the two ways to talk to it: Call() for HTTP and Ctl() for
// hotfixctl. Fixtures derive from it and start the server in SetUp().
//
// Thread-compatible (Call and Ctl may run concurrently).

#ifndef HOTFIX_TESTS_INTEGRATION_SERVER_TEST_H_
#define HOTFIX_TESTS_INTEGRATION_SERVER_TEST_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "harness.h"

namespace hotfix {
namespace integration {

class ServerTest : public ::testing::Test {
 protected:
  // (Re)starts hotfixd on dir_/data with `args` appended to the harness's
  // defaults; fails the test if it does not come up.
  void Start(std::vector<std::string> args = {}) {
    server_.reset();
    ServerOptions options;
    options.data_dir = data_dir();
    options.args = std::move(args);
    server_ = ServerProcess::Start(options);
    ASSERT_NE(server_, nullptr);
  }

  // The server's data directory.
  std::string data_dir() const { return dir_.path() + "/data"; }

  HttpReply Call(const std::string& method, const std::string& path,
                 const std::string& body = "",
                 const std::string& token = kAdminToken,
                 const httplib::Headers& headers = {}) {
    return Http(server_->port(), method, path, token, body, headers);
  }

  CtlResult Ctl(const std::vector<std::string>& args,
                const std::string& token = kAdminToken,
                const std::string& stdin_data = "") {
    return RunCtl(args, CtlEnv(*server_, token), stdin_data);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace integration
}  // namespace hotfix

#endif  // HOTFIX_TESTS_INTEGRATION_SERVER_TEST_H_
