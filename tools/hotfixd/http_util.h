// tools/hotfixd/http_util.h
//
// The HTTP plumbing shared by the SDK and admin handlers: the services a
// handler needs (ApiContext), JSON error bodies with canonical codes, the
// route wrapper that authenticates, checks scopes and counts requests, and
// small header parsers (If-Match, If-None-Match, Last-Event-ID).
//
// Error bodies follow docs/protocol.md: {"error": {"code": "...", "message":
// "..."}}. A 401 never says why (missing, unknown or revoked token all read
// "unauthenticated").
//
// Thread-safe: everything here is stateless or uses thread-safe services.

#ifndef HOTFIX_TOOLS_HOTFIXD_HTTP_UTIL_H_
#define HOTFIX_TOOLS_HOTFIXD_HTTP_UTIL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth.h"
#include "config.h"
#include "flag_service.h"
#include "metrics.h"
#include "sse_hub.h"

namespace hotfix {
namespace hotfixd {

struct ApiContext {
  const ServerConfig* config = nullptr;
  Store* store = nullptr;
  Authenticator* auth = nullptr;
  FlagService* flags = nullptr;
  SseHub* hub = nullptr;
  Metrics* metrics = nullptr;
};

// The HTTP status for a canonical code (InvalidArgument 400, Unauthenticated
// 401, PermissionDenied 403, NotFound 404, AlreadyExists 409,
// FailedPrecondition 412, ResourceExhausted 503 for streams, Unavailable 503,
// everything else 500).
int HttpStatusFor(absl::StatusCode code);

// Sets `status` and a JSON error body.
void SendError(httplib::Response& res, int status, std::string_view code,
               std::string_view message);
// Maps `status` with HttpStatusFor(); internal errors are logged and answered
// without their details.
void SendStatus(httplib::Response& res, const absl::Status& status);

// Sets a 200 (or `status`) JSON body. Bodies over 64 KiB are served from a
// shared buffer without per-request compression.
void SendJson(httplib::Response& res, std::string body, int status = 200);
void SendSharedJson(httplib::Response& res, SharedText body, int status = 200);

using AuthedHandler = std::function<void(
    const httplib::Request& req, httplib::Response& res, const Principal& who)>;

// Route()
//
// Wraps `handler`: requires a token with every scope in `required_scopes`
// (any one of them when `any_scope`), else 401 / 403; counts the request
// under `route` (a string literal) in the metrics; logs it with
// --log-requests (method, path, status, actor; never tokens).
httplib::Server::Handler Route(ApiContext* api, const char* route,
                               std::uint32_t required_scopes, bool any_scope,
                               AuthedHandler handler);
// The same for unauthenticated routes (/healthz, /metrics).
httplib::Server::Handler PublicRoute(ApiContext* api, const char* route,
                                     httplib::Server::Handler handler);

// Installs the pre-routing, error and exception handlers that give unmatched
// paths, 413s and crashes JSON error bodies and count them in the metrics.
void InstallErrorHandlers(httplib::Server& server, ApiContext* api);

// ParseIfMatch()
//
// `42`, `"42"`, `"production-42"` or `W/"production-42"` → 42; `*` or no
// header → nullopt. InvalidArgument for anything else.
absl::StatusOr<std::optional<std::uint64_t>> ParseIfMatch(
    const httplib::Request& req);

// True if If-None-Match lists `etag` (or `*`).
bool IfNoneMatchHits(const httplib::Request& req, std::string_view etag);

// Parses a non-negative decimal version; nullopt when malformed.
std::optional<std::uint64_t> ParseVersion(std::string_view text);

// The request's write envelope: its JSON body (an empty body is `{}`), and
// the reason from "reason" or the X-Hotfix-Reason header (required,
// 1-1024 characters). `allowed` lists the body's permitted fields
// (null-terminated; "reason" is always allowed).
struct WriteBody {
  rapidjson::Document json;
  std::string reason;
};
absl::Status ParseWriteBody(const httplib::Request& req,
                            const char* const* allowed, WriteBody* out);

// Query parameter `name` as an int in [min, max]; `fallback` when absent.
absl::StatusOr<int> QueryInt(const httplib::Request& req, const char* name,
                             int fallback, int min, int max);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_HTTP_UTIL_H_
