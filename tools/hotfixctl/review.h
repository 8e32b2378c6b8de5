// tools/hotfixctl/review.h
//
// hotfixctl's review commands (docs/operations.md, "Review before change"):
// `diff` between versions, environments or a file and an environment;
// `promote` flags from one environment to another after showing the diff;
// change requests of protected environments (`requests`), protecting an
// environment (`env protect|unprotect`), and webhooks (`webhooks`).
//
// Thread-compatible.

#ifndef HOTFIX_TOOLS_HOTFIXCTL_REVIEW_H_
#define HOTFIX_TOOLS_HOTFIXCTL_REVIEW_H_

#include "session.h"

namespace hotfix {
namespace hotfixctl {

// diff [FROM] TO: exit 0 when equal, 1 when they differ (like diff(1)).
int Diff(Session& s);
int Promote(Session& s);
int Requests(Session& s);
int Webhooks(Session& s);
int EnvProtect(Session& s, bool protect);

}  // namespace hotfixctl
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXCTL_REVIEW_H_
