// tools/hotfixctl/remote.h
//
// Remote is hotfixctl's connection to hotfixd: one HTTP(S) request at a time
// with the bearer token, a timeout, and hotfixd's JSON errors turned into
// absl::Status values with canonical codes (so main() can pick the exit
// code) and the server's message.
//
// Thread-compatible.

#ifndef HOTFIX_TOOLS_HOTFIXCTL_REMOTE_H_
#define HOTFIX_TOOLS_HOTFIXCTL_REMOTE_H_

#include <memory>
#include <string>

#include <httplib.h>

#include "absl/status/statusor.h"
#include "args.h"

namespace hotfix {
namespace hotfixctl {

struct Reply {
  int status = 0;
  std::string body;
  httplib::Headers headers;
};

class Remote {
 public:
  // Create()
  //
  // InvalidArgument for a malformed URL or a missing token.
  static absl::StatusOr<std::unique_ptr<Remote>> Create(const Args& args);

  // Request()
  //
  // Sends `method` `path` (with `body` as JSON when not empty). Returns the
  // reply for 2xx / 304; otherwise an error status carrying the server's
  // message (Unavailable when the server cannot be reached).
  absl::StatusOr<Reply> Request(const std::string& method,
                                const std::string& path,
                                const std::string& body = "",
                                const httplib::Headers& extra = {});

 private:
  Remote() = default;
  std::string base_url_;
  double timeout_seconds_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

// Percent-encodes a path segment or query value.
std::string UrlEncode(const std::string& s);

}  // namespace hotfixctl
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXCTL_REMOTE_H_
