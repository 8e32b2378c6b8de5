// tools/hotfixd/api/requests.h
//
// Change requests: how a protected environment is changed (docs/admin-api.md,
// "Approvals"). A write to a protected environment — any but a kill, which is
// never delayed — is validated as a dry run and stored as a proposal with its
// diff, its proposer and reason, and the request itself. A second person
// with the approve scope approves it (the request is replayed as its
// proposer, but only if it still changes exactly what was proposed) or
// rejects it; the proposer may withdraw it; undecided proposals expire.
// Every step is in the audit log.
//
// Thread-safe: approvals are serialized so that a request is applied once.

#ifndef HOTFIX_TOOLS_HOTFIXD_API_REQUESTS_H_
#define HOTFIX_TOOLS_HOTFIXD_API_REQUESTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/api.h"
#include "core/flag_service.h"

namespace hotfix {
namespace hotfixd {

// Propose()
//
// Stores `write` (on `env`, made by `mutation`) as a change request instead
// of applying it; answers 202 with the request and its diff. A write that
// would change nothing is answered as unchanged.
absl::StatusOr<Reply> Propose(const Call& call, const EnvironmentState& env,
                              WriteRequest write,
                              const FlagService::Mutation& mutation);

// A change to propose that is not a flag-set edit (a setting).
struct Proposal {
  std::string action;  // "env.unprotect"
  std::string reason;
  DocumentDiff diff;  // what it changes; its dry run must answer the same
  std::vector<std::string> summary;
};

// Stores `proposal` as a change request on `env` for the current request;
// answers 202 as Propose does.
absl::StatusOr<Reply> ProposeOther(const Call& call,
                                   const EnvironmentState& env,
                                   const Proposal& proposal);

// ExpireChangeRequests()
//
// Marks every proposed request past its expiry expired (audited as
// change.expire, announced to webhooks). Returns how many. hotfixd calls it
// periodically; a request past its time reads as expired even before.
int ExpireChangeRequests(ApiContext& api);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_API_REQUESTS_H_
