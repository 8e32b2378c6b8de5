// tools/hotfixctl/offline.h
//
// The commands that need no server: `validate FILE` compiles a flag-set file
// with hotfix::Compile (the SDK's own compiler, so "valid here" means "valid
// in every SDK") and `eval FILE FLAG --ctx ...` evaluates one flag with
// Snapshot::Evaluate and explains the result. Both read native and flagd
// documents (--format).
//
// Thread-compatible.

#ifndef HOTFIX_TOOLS_HOTFIXCTL_OFFLINE_H_
#define HOTFIX_TOOLS_HOTFIXCTL_OFFLINE_H_

#include "args.h"

namespace hotfix {
namespace hotfixctl {

// Each returns the process exit code.
int Validate(const Args& args);
int Eval(const Args& args);
// `convert --from flagd FILE`: tools/hotfixctl/convert.cc.
int Convert(const Args& args);

}  // namespace hotfixctl
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXCTL_OFFLINE_H_
