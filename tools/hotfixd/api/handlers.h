// tools/hotfixd/api/handlers.h
//
// Every handler of hotfixd's API, by resource; api/routes.cc binds each to its
// method, path and access. docs/protocol.md (SDK endpoints) and
// docs/admin-api.md (everything else) describe them.
//
// Thread-safe: handlers keep no state of their own.

#ifndef HOTFIX_TOOLS_HOTFIXD_API_HANDLERS_H_
#define HOTFIX_TOOLS_HOTFIXD_API_HANDLERS_H_

#include "absl/status/statusor.h"
#include "api/api.h"

namespace hotfix {
namespace hotfixd {

// SDK endpoints (api/sdk_api.cc): the current set (ETag, 304, gzip) and the
// SSE stream.
absl::StatusOr<Reply> GetSdkFlags(const Call& call);
absl::StatusOr<Reply> GetSdkStream(const Call& call);

// SDK telemetry and guarded rollouts (api/guard_api.cc).
absl::StatusOr<Reply> PostTelemetry(const Call& call);
absl::StatusOr<Reply> GetFlagStats(const Call& call);
absl::StatusOr<Reply> StartRolloutPlan(const Call& call);
absl::StatusOr<Reply> GetRolloutPlan(const Call& call);
absl::StatusOr<Reply> CancelRolloutPlan(const Call& call);
// OpenFeature Remote Evaluation Protocol (api/ofrep_api.cc): one flag and
// every flag for the posted context, with OFREP's bodies and status codes.
absl::StatusOr<Reply> OfrepEvaluateFlag(const Call& call);
absl::StatusOr<Reply> OfrepEvaluateFlags(const Call& call);

// Operations (api/ops_api.cc), no token needed.
absl::StatusOr<Reply> GetHealth(const Call& call);
absl::StatusOr<Reply> GetMetrics(const Call& call);

// Environments and whole flag sets (api/envs_api.cc).
absl::StatusOr<Reply> ListEnvironments(const Call& call);
absl::StatusOr<Reply> CreateEnvironment(const Call& call);
absl::StatusOr<Reply> GetFlagSet(const Call& call);
absl::StatusOr<Reply> PutFlagSet(const Call& call);
absl::StatusOr<Reply> GetMetadata(const Call& call);

// One flag, kill switches and rollouts (api/flags_api.cc).
absl::StatusOr<Reply> GetFlag(const Call& call);
absl::StatusOr<Reply> PutFlag(const Call& call);
absl::StatusOr<Reply> CreateFlag(const Call& call);
absl::StatusOr<Reply> DeleteFlag(const Call& call);
absl::StatusOr<Reply> KillFlag(const Call& call);
absl::StatusOr<Reply> ReviveFlag(const Call& call);
absl::StatusOr<Reply> KillTag(const Call& call);
absl::StatusOr<Reply> ReviveTag(const Call& call);
absl::StatusOr<Reply> SetRolloutPercent(const Call& call);

// Environment settings (api/envs_api.cc): protection.
absl::StatusOr<Reply> PutSettings(const Call& call);

// Review before change (api/review_api.cc): diffs and promotion.
absl::StatusOr<Reply> DiffEnvironments(const Call& call);
absl::StatusOr<Reply> DiffWithDocument(const Call& call);
absl::StatusOr<Reply> Promote(const Call& call);

// Change requests to protected environments (api/requests.cc).
absl::StatusOr<Reply> ListChangeRequests(const Call& call);
absl::StatusOr<Reply> GetChangeRequest(const Call& call);
absl::StatusOr<Reply> ApproveChangeRequest(const Call& call);
absl::StatusOr<Reply> RejectChangeRequest(const Call& call);

// Webhooks (api/webhooks_api.cc).
absl::StatusOr<Reply> ListWebhooks(const Call& call);
absl::StatusOr<Reply> AddWebhook(const Call& call);
absl::StatusOr<Reply> DeleteWebhook(const Call& call);
absl::StatusOr<Reply> ListDeliveries(const Call& call);
absl::StatusOr<Reply> PingWebhook(const Call& call);

// History, versions, rollback, audit (api/history_api.cc).
absl::StatusOr<Reply> ListHistory(const Call& call);
absl::StatusOr<Reply> GetVersion(const Call& call);
absl::StatusOr<Reply> Rollback(const Call& call);
absl::StatusOr<Reply> ListAudit(const Call& call);

// The operator console's files, no token needed (api/console_api.cc).
absl::StatusOr<Reply> RedirectToConsole(const Call& call);
absl::StatusOr<Reply> GetConsoleIndex(const Call& call);
absl::StatusOr<Reply> GetConsoleFile(const Call& call);

// Tokens (api/tokens_api.cc).
absl::StatusOr<Reply> WhoAmI(const Call& call);
absl::StatusOr<Reply> ListTokens(const Call& call);
absl::StatusOr<Reply> CreateToken(const Call& call);
absl::StatusOr<Reply> RevokeToken(const Call& call);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_API_HANDLERS_H_
