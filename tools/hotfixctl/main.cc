// tools/hotfixctl/main.cc
//
// hotfixctl: the operator's CLI. `validate` and `eval` work offline on a
// flag-set file with the SDK's own compiler and evaluator; every other
// command talks to hotfixd's admin API. Human-readable output by default,
// --json for scripts, and exit codes that say what went wrong (args.h).

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "args.h"
#include "offline.h"
#include "online.h"

int main(int argc, char** argv) {
  using namespace hotfix::hotfixctl;
  auto args = ParseArgs(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "hotfixctl: %s\n",
                 std::string(args.status().message()).c_str());
    return kExitUsage;
  }
  if (args->help || args->positional.empty()) {
    std::fputs(Usage().c_str(), args->help ? stdout : stderr);
    return args->help ? kExitOk : kExitUsage;
  }
  const std::string& command = args->positional[0];
  if (command == "help") {
    std::fputs(Usage().c_str(), stdout);
    return kExitOk;
  }
  if (command == "version") {
    std::printf("hotfixctl %s\n", HOTFIX_VERSION_STRING);
    return kExitOk;
  }
  if (command == "validate") return Validate(*args);
  if (command == "eval") return Eval(*args);
  if (command == "convert") return Convert(*args);
  return RunOnline(*args);
}
