// tools/hotfixctl/args.h
//
// hotfixctl's command line: global options (server, token, environment,
// output format, reason, If-Match) that may appear anywhere, command options,
// and positional arguments. Also the exit codes every command uses.
//
// Thread-compatible: parsed once in main().

#ifndef HOTFIX_TOOLS_HOTFIXCTL_ARGS_H_
#define HOTFIX_TOOLS_HOTFIXCTL_ARGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace hotfix {
namespace hotfixctl {

// Exit codes (documented in --help and docs/operations.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // invalid document / request rejected (400, ...)
  kExitUsage = 2,        // bad command line
  kExitAuth = 3,         // 401 / 403
  kExitNotFound = 4,     // 404: flag, environment, version
  kExitConflict = 5,     // 409 / 412: concurrent change, already exists
  kExitUnavailable = 6,  // cannot reach the server, 5xx
};

struct Args {
  // Global options, from flags or the environment.
  std::string url;       // --url, $HOTFIX_URL; default http://127.0.0.1:8420
  std::string token;     // --token, --token-file, $HOTFIX_TOKEN
  std::string env;       // --env, $HOTFIX_ENV; default production
  std::string ca_cert;   // --ca-cert, $HOTFIX_CA_CERT (HTTPS)
  std::string reason;    // --reason (required for writes)
  std::string if_match;  // --if-match VERSION
  double timeout_seconds = 10;
  bool json = false;
  bool help = false;

  std::vector<std::string> positional;  // command and its arguments
  // Command options: name (without dashes) -> values in order.
  std::map<std::string, std::vector<std::string>> options;
  // Boolean command flags given (e.g. "all-envs").
  std::vector<std::string> flags;

  bool Has(const std::string& name) const { return options.count(name) > 0; }
  std::string Get(const std::string& name,
                  const std::string& fallback = "") const;
  bool Flag(const std::string& name) const;
};

// ParseArgs()
//
// InvalidArgument naming the bad option. Reads HOTFIX_URL, HOTFIX_TOKEN,
// HOTFIX_ENV and HOTFIX_CA_CERT for the globals not given as flags.
absl::StatusOr<Args> ParseArgs(int argc, char** argv);

std::string Usage();

}  // namespace hotfixctl
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXCTL_ARGS_H_
