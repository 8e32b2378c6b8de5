// tools/hotfixctl/online.h
//
// The commands that talk to hotfixd's admin API (docs/admin-api.md): one
// function per command, each printing a human summary (or, with --json, the
// server's JSON) and returning the process exit code.
//
// Thread-compatible.

#ifndef HOTFIX_TOOLS_HOTFIXCTL_ONLINE_H_
#define HOTFIX_TOOLS_HOTFIXCTL_ONLINE_H_

#include "args.h"

namespace hotfix {
namespace hotfixctl {

// Runs online command args.positional[0]. Returns the exit code; kExitUsage
// with a message for an unknown command.
int RunOnline(const Args& args);

}  // namespace hotfixctl
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXCTL_ONLINE_H_
