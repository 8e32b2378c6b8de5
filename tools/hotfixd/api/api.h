// tools/hotfixd/api/api.h
//
// What every handler of hotfixd's API works with: the services (ApiContext),
// one request being served (Call: the request, the route's path parameters
// and the authenticated principal), the handler signature, and the lookups
// several resources share. A handler returns absl::StatusOr<Reply>; an error
// status becomes the JSON error reply in one place (api/routes.cc), so no
// handler writes an error response of its own.
//
// Thread-compatible: a Call lives on one thread; the services are
// thread-safe.

#ifndef HOTFIX_TOOLS_HOTFIXD_API_API_H_
#define HOTFIX_TOOLS_HOTFIXD_API_API_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/auth.h"
#include "core/config.h"
#include "core/flag_service.h"
#include "core/guard_controller.h"
#include "core/metrics.h"
#include "core/rate_limiter.h"
#include "core/replication.h"
#include "core/sse_hub.h"
#include "core/telemetry.h"
#include "core/webhooks.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/router.h"
#include "http/server.h"
#include "store/store.h"

namespace hotfix {
namespace hotfixd {

// A change request being applied after approval (docs/admin-api.md,
// "Approvals"): the write replays as its proposer, with the approver noted.
struct Approval {
  std::int64_t request_id = 0;
  std::string approver;
  std::string comment;
};

struct ApiContext {
  const ServerConfig* config = nullptr;
  Store* store = nullptr;
  Authenticator* auth = nullptr;
  FlagService* flags = nullptr;
  SseHub* hub = nullptr;
  Metrics* metrics = nullptr;
  WebhookDispatcher* webhooks = nullptr;
  TelemetryService* telemetry = nullptr;
  GuardController* guard = nullptr;
  // Per-token limit of OFREP evaluations (null: none).
  RateLimiter* ofrep_limiter = nullptr;
  // Null with SQLite.
  const Replicator* replicator = nullptr;
  // The HTTP front, for its connection counts (set once it exists).
  const HttpServer* front = nullptr;
  // Serves `request` as `who` through the route table (set by Api): how an
  // approved change request is applied.
  std::function<Reply(const HttpRequest& request, const Principal& who,
                      const Approval* approval)>
      replay;
};

struct Call {
  ApiContext& api;
  const HttpRequest& request;
  const PathParams& params;
  const Principal* who = nullptr;      // null on public routes
  const Approval* approval = nullptr;  // set when applying a change request

  // The authenticated principal (only on routes that require a token).
  const Principal& principal() const { return *who; }
  // Path parameter `name` ("env", "key", ...).
  std::string_view Param(std::string_view name) const {
    return params.Get(name);
  }
};

using Handler = absl::StatusOr<Reply> (*)(const Call& call);

// Environment()
//
// The current state of the environment named by the {env} parameter (or
// `env`): InvalidArgument for "." / "..", PermissionDenied when the token is
// bound to another environment, NotFound when there is none.
absl::StatusOr<std::shared_ptr<const EnvironmentState>> Environment(
    const Call& call);
absl::StatusOr<std::shared_ptr<const EnvironmentState>> Environment(
    const Call& call, std::string_view env);

// SdkEnvironment()
//
// The environment an SDK endpoint reads: an SDK key's own (PermissionDenied
// if ?env= names another); for a token with the read scope ?env=NAME, else
// its environment, else --default-env.
absl::StatusOr<std::shared_ptr<const EnvironmentState>> SdkEnvironment(
    const Call& call);

// KeyParam()
//
// Path parameter `name` checked as a flag/tag key (not "." or "..").
absl::StatusOr<std::string> KeyParam(const Call& call, std::string_view name);

// Query parameter `name` as an integer in [min, max]; `fallback` if absent.
absl::StatusOr<int> QueryInt(const Call& call, std::string_view name,
                             int fallback, int min, int max);
// Query parameter `name` as an unsigned integer; nullopt if absent.
absl::StatusOr<std::optional<std::uint64_t>> QueryUint(const Call& call,
                                                       std::string_view name);

// A non-negative decimal number of at most 20 digits; nullopt otherwise.
std::optional<std::uint64_t> ParseVersion(std::string_view text);

// Announces `event` with `data` (a JSON object) to `env`'s webhooks.
void Announce(const ApiContext& api, const std::string& env,
              std::string_view event, std::string data);

// True if query parameter `name` is "true" or "1".
bool QueryFlag(const Call& call, std::string_view name);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_API_API_H_
