// tools/hotfixd/admin_api.h
//
// The admin API (docs/admin-api.md): environments, whole-set and per-flag
// edits, kill / revive by flag or tag, rollout percentage, history and
// rollback, the audit log, and tokens. Every write carries a reason, is
// attributed to the calling token's name, honours If-Match and goes through
// FlagService::Write (compiled before commit, durable before the answer).
//
// Thread-safe: handlers run concurrently on the server's threads.

#ifndef HOTFIX_TOOLS_HOTFIXD_ADMIN_API_H_
#define HOTFIX_TOOLS_HOTFIXD_ADMIN_API_H_

#include <httplib.h>

#include "http_util.h"

namespace hotfix {
namespace hotfixd {

void RegisterAdminApi(httplib::Server& server, ApiContext* api);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_ADMIN_API_H_
