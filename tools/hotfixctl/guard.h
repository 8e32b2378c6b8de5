// tools/hotfixctl/guard.h
//
// hotfixctl's guarded-rollout commands (docs/guarded-rollouts.md):
//
//   stats FLAG [--minutes N]          exposures and failure rates per variant
//   rollout FLAG --stages 1,5,25,50,100 --every 10m [--max-failure-rate 2%]
//           [--compare-to control|none] [--tolerance 0.5%]
//           [--min-samples N] [--on-regression kill|previous]
//   rollout FLAG --status | --cancel
//
// Thread-compatible.

#ifndef HOTFIX_TOOLS_HOTFIXCTL_GUARD_H_
#define HOTFIX_TOOLS_HOTFIXCTL_GUARD_H_

#include "session.h"

namespace hotfix {
namespace hotfixctl {

int Stats(Session& s);

// `rollout` with --stages, --status or --cancel: a staged rollout.
bool IsStagedRollout(const Args& args);
int StagedRollout(Session& s);

}  // namespace hotfixctl
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXCTL_GUARD_H_
