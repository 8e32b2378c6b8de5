// tools/hotfixd/api/routes.cc

#include "api/routes.h"
#include "common/server_log.h"

#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "api/handlers.h"
#include "common/text.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {
namespace {

using tools::SanitizeForLog;

constexpr char kUnmatched[] = "(unmatched)";
constexpr char kFront[] = "(front)";

bool Allows(Access access, const Principal& who) {
  switch (access) {
    case Access::kPublic:
    case Access::kAnyToken:
      return true;
    case Access::kSdk:
      return (who.scopes & (kScopeSdk | kScopeRead)) != 0;
    case Access::kRead:
      return who.Has(kScopeRead);
    case Access::kWrite:
      return who.Has(kScopeWrite);
    case Access::kTokens:
      return who.Has(kScopeTokens);
    case Access::kApprove:
      return who.Has(kScopeApprove);
    case Access::kReadOrApprove:
      return (who.scopes & (kScopeRead | kScopeApprove)) != 0;
  }
  return false;
}

// Header problems no handler should see: a control character in a value
// (a NUL that a front might cut the value at), or more than one
// Authorization header (which one would count?).
std::optional<std::string> HeaderProblem(const HttpRequest& request) {
  for (const auto& [name, value] : request.headers) {
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return absl::StrCat("header ", SanitizeForLog(name),
                            ": control character in the value");
      }
    }
  }
  if (request.CountHeader("authorization") > 1) {
    return std::string("more than one Authorization header");
  }
  if (request.CountHeader("x-api-key") > 1) {
    return std::string("more than one X-API-Key header");
  }
  return std::nullopt;
}

}  // namespace

std::string_view AccessName(Access access) {
  switch (access) {
    case Access::kPublic:
      return "public";
    case Access::kAnyToken:
      return "any";
    case Access::kSdk:
      return "sdk or read";
    case Access::kRead:
      return "read";
    case Access::kWrite:
      return "write";
    case Access::kTokens:
      return "tokens";
    case Access::kApprove:
      return "approve";
    case Access::kReadOrApprove:
      return "read or approve";
  }
  return "?";
}

const std::vector<RouteSpec>& ApiRoutes() {
  static const auto* const routes = new std::vector<RouteSpec>{
      // SDK (docs/protocol.md)
      {Method::kGet, "/v1/flags", Access::kSdk, GetSdkFlags, Execution::kLoop},
      {Method::kGet, "/v1/stream", Access::kSdk, GetSdkStream,
       Execution::kLoop},
      // OpenFeature Remote Evaluation Protocol (docs/openfeature.md)
      {Method::kPost, "/ofrep/v1/evaluate/flags", Access::kSdk,
       OfrepEvaluateFlags, Execution::kLoop, /*api_key_header=*/true},
      {Method::kPost, "/ofrep/v1/evaluate/flags/{key}", Access::kSdk,
       OfrepEvaluateFlag, Execution::kLoop, /*api_key_header=*/true},
      // Operations
      {Method::kPost, "/v1/telemetry", Access::kSdk, PostTelemetry,
       Execution::kLoop},
      {Method::kGet, "/healthz", Access::kPublic, GetHealth, Execution::kLoop},
      {Method::kGet, "/metrics", Access::kPublic, GetMetrics, Execution::kLoop},
      // The operator console (docs/console.md): files only; its data comes
      // from the admin API with the operator's token.
      {Method::kGet, "/ui", Access::kPublic, RedirectToConsole,
       Execution::kLoop},
      {Method::kGet, "/ui/", Access::kPublic, GetConsoleIndex,
       Execution::kLoop},
      {Method::kGet, "/ui/{file}", Access::kPublic, GetConsoleFile,
       Execution::kLoop},
      // Admin (docs/admin-api.md)
      {Method::kGet, "/v1/admin/whoami", Access::kAnyToken, WhoAmI,
       Execution::kLoop},
      {Method::kGet, "/v1/admin/envs", Access::kRead, ListEnvironments},
      {Method::kPost, "/v1/admin/envs", Access::kWrite, CreateEnvironment},
      {Method::kGet, "/v1/admin/envs/{env}/flags", Access::kRead, GetFlagSet},
      {Method::kPut, "/v1/admin/envs/{env}/flags", Access::kWrite, PutFlagSet},
      {Method::kGet, "/v1/admin/envs/{env}/flags/{key}", Access::kRead,
       GetFlag},
      {Method::kPut, "/v1/admin/envs/{env}/flags/{key}", Access::kWrite,
       PutFlag},
      {Method::kPost, "/v1/admin/envs/{env}/flags/{key}", Access::kWrite,
       CreateFlag},
      {Method::kDelete, "/v1/admin/envs/{env}/flags/{key}", Access::kWrite,
       DeleteFlag},
      {Method::kPost, "/v1/admin/envs/{env}/flags/{key}/kill", Access::kWrite,
       KillFlag},
      {Method::kPost, "/v1/admin/envs/{env}/flags/{key}/revive", Access::kWrite,
       ReviveFlag},
      {Method::kPost, "/v1/admin/envs/{env}/flags/{key}/rollout",
       Access::kWrite, SetRolloutPercent},
      {Method::kPost, "/v1/admin/envs/{env}/tags/{tag}/kill", Access::kWrite,
       KillTag},
      {Method::kPost, "/v1/admin/envs/{env}/tags/{tag}/revive", Access::kWrite,
       ReviveTag},
      {Method::kGet, "/v1/admin/envs/{env}/flags/{key}/stats", Access::kRead,
       GetFlagStats},
      {Method::kPost, "/v1/admin/envs/{env}/flags/{key}/rollout-plan",
       Access::kWrite, StartRolloutPlan},
      {Method::kGet, "/v1/admin/envs/{env}/flags/{key}/rollout-plan",
       Access::kRead, GetRolloutPlan},
      {Method::kDelete, "/v1/admin/envs/{env}/flags/{key}/rollout-plan",
       Access::kWrite, CancelRolloutPlan},
      {Method::kGet, "/v1/admin/envs/{env}/metadata", Access::kRead,
       GetMetadata},
      {Method::kPut, "/v1/admin/envs/{env}/settings", Access::kWrite,
       PutSettings},
      {Method::kPost, "/v1/admin/envs/{env}/diff", Access::kRead,
       DiffWithDocument},
      {Method::kPost, "/v1/admin/envs/{env}/promote", Access::kWrite, Promote},
      {Method::kGet, "/v1/admin/diff", Access::kRead, DiffEnvironments},
      {Method::kGet, "/v1/admin/envs/{env}/requests", Access::kReadOrApprove,
       ListChangeRequests},
      {Method::kGet, "/v1/admin/envs/{env}/requests/{id}",
       Access::kReadOrApprove, GetChangeRequest},
      {Method::kPost, "/v1/admin/envs/{env}/requests/{id}/approve",
       Access::kApprove, ApproveChangeRequest},
      {Method::kPost, "/v1/admin/envs/{env}/requests/{id}/reject",
       Access::kReadOrApprove, RejectChangeRequest},
      {Method::kGet, "/v1/admin/envs/{env}/webhooks", Access::kRead,
       ListWebhooks},
      {Method::kPost, "/v1/admin/envs/{env}/webhooks", Access::kWrite,
       AddWebhook},
      {Method::kDelete, "/v1/admin/envs/{env}/webhooks/{id}", Access::kWrite,
       DeleteWebhook},
      {Method::kGet, "/v1/admin/envs/{env}/webhooks/{id}/deliveries",
       Access::kRead, ListDeliveries, Execution::kLoop},
      {Method::kPost, "/v1/admin/envs/{env}/webhooks/{id}/ping", Access::kWrite,
       PingWebhook},
      {Method::kGet, "/v1/admin/envs/{env}/history", Access::kRead,
       ListHistory},
      {Method::kGet, "/v1/admin/envs/{env}/versions/{version}", Access::kRead,
       GetVersion},
      {Method::kPost, "/v1/admin/envs/{env}/rollback", Access::kWrite,
       Rollback},
      {Method::kGet, "/v1/admin/audit", Access::kRead, ListAudit},
      {Method::kGet, "/v1/admin/tokens", Access::kTokens, ListTokens},
      {Method::kPost, "/v1/admin/tokens", Access::kTokens, CreateToken},
      {Method::kDelete, "/v1/admin/tokens/{id}", Access::kTokens, RevokeToken},
  };
  return *routes;
}

Api::Api(ApiContext* context) : context_(context) {
  for (const RouteSpec& r : ApiRoutes()) {
    router_.Add(r.method, r.pattern, &r);
  }
  context_->replay = [this](const HttpRequest& request, const Principal& who,
                            const Approval* approval) {
    return Replay(request, who, approval);
  };
}

// A request after routing: its route (null if none), path parameters, the
// authenticated principal, and the reply when it was answered already.
struct Api::Routed {
  const RouteSpec* route = nullptr;
  PathParams params;
  std::optional<Principal> who;
  std::optional<Reply> early;
  absl::Time start;
};

Api::Routed Api::Route(const HttpRequest& request) const {
  Routed r;
  r.start = absl::Now();
  if (std::optional<std::string> problem = HeaderProblem(request)) {
    r.early = Reply::Error(400, "INVALID_ARGUMENT", *problem);
    return r;
  }
  auto found = router_.Find(ParseMethod(request.method), request.path);
  if (found.target == nullptr) {
    if (found.allow.empty()) {
      r.early = Reply::Error(
          404, "NOT_FOUND",
          absl::StrCat("no such path: ", SanitizeForLog(request.path)));
      return r;
    }
    Reply reply = Reply::Error(
        405, "UNIMPLEMENTED",
        absl::StrCat(SanitizeForLog(request.method), " is not allowed on ",
                     SanitizeForLog(request.path), "; allowed: ", found.allow));
    reply.SetHeader("Allow", found.allow);
    r.early = std::move(reply);
    return r;
  }
  r.route = *found.target;
  r.params = std::move(found.params);
  if (r.route->access == Access::kPublic) return r;
  const std::string* authorization = request.FindHeader("authorization");
  const std::string* api_key =
      r.route->api_key_header && authorization == nullptr
          ? request.FindHeader("x-api-key")
          : nullptr;
  if (api_key != nullptr) {
    r.who = context_->auth->Authenticate(absl::StrCat("Bearer ", *api_key));
  } else {
    r.who = context_->auth->Authenticate(
        authorization != nullptr ? *authorization : std::string_view());
  }
  if (!r.who.has_value()) {
    Reply reply = Reply::Error(401, "UNAUTHENTICATED", "unauthenticated");
    reply.SetHeader("WWW-Authenticate", "Bearer realm=\"hotfixd\"");
    r.early = std::move(reply);
  } else if (!Allows(r.route->access, *r.who)) {
    r.early = Reply::Error(
        403, "PERMISSION_DENIED",
        absl::StrCat("token \"", r.who->name, "\" lacks the ",
                     internal::ToAbsl(AccessName(r.route->access)), " scope"));
  }
  return r;
}

Reply Api::Replay(const HttpRequest& request, const Principal& who,
                  const Approval* approval) const {
  Routed routed;
  routed.start = absl::Now();
  auto found = router_.Find(ParseMethod(request.method), request.path);
  if (found.target == nullptr) {
    return Reply::Error(404, "NOT_FOUND",
                        absl::StrCat("no such path: ", request.path));
  }
  routed.route = *found.target;
  routed.params = std::move(found.params);
  routed.who = who;
  // The proposer's token must still allow what it proposed.
  if (!Allows(routed.route->access, who)) {
    return Reply::Error(
        403, "PERMISSION_DENIED",
        absl::StrCat(
            "the proposer's token \"", who.name, "\" no longer has the ",
            internal::ToAbsl(AccessName(routed.route->access)), " scope"));
  }
  return Execute(request, routed, approval);
}

Reply Api::Execute(const HttpRequest& request, const Routed& routed,
                   const Approval* approval) const {
  const RouteSpec& spec = *routed.route;
  const Call call{*context_, request, routed.params,
                  routed.who.has_value() ? &*routed.who : nullptr, approval};
  absl::StatusOr<Reply> reply;
  try {
    reply = spec.handler(call);
  } catch (const std::exception& e) {
    reply = absl::InternalError(absl::StrCat("exception: ", e.what()));
  } catch (...) {
    reply = absl::InternalError("unknown exception");
  }
  if (!reply.ok() && HttpStatusFor(reply.status().code()) == 500) {
    tools::LogError(absl::StrCat(request.method, " ", spec.pattern, " failed"),
                    {{"error", reply.status().ToString()}});
  }
  Reply out = reply.ok() ? *std::move(reply) : StatusReply(reply.status());
  Finish(request, routed, out);
  return out;
}

void Api::Finish(const HttpRequest& request, const Routed& routed,
                 const Reply& reply) const {
  const char* label =
      routed.route != nullptr ? routed.route->pattern : kUnmatched;
  context_->metrics->CountRequest(label, request.method, reply.status);
  if (context_->config->log_requests) {
    const Principal* who = routed.who.has_value() ? &*routed.who : nullptr;
    const std::string ms = absl::StrFormat(
        "%.3f", absl::ToDoubleMilliseconds(absl::Now() - routed.start));
    const std::string message =
        absl::StrCat(request.method, " ", request.path, " ", reply.status);
    if (who != nullptr) {
      tools::LogInfo(message, {{"ms", ms}, {"actor", who->name}});
    } else {
      tools::LogInfo(message, {{"ms", ms}});
    }
  }
}

Dispatch Api::Prepare(HttpRequest request) const {
  Routed routed = Route(request);
  Dispatch dispatch;
  if (routed.early.has_value()) {
    Finish(request, routed, *routed.early);
    dispatch.reply = std::move(*routed.early);
  } else if (routed.route->execution == Execution::kLoop) {
    dispatch.reply = Execute(request, routed);
  } else {
    dispatch.work = [this, request = std::move(request),
                     routed = std::move(routed)]() {
      return Execute(request, routed);
    };
  }
  return dispatch;
}

Reply Api::Handle(HttpRequest request) const {
  Dispatch dispatch = Prepare(std::move(request));
  return dispatch.reply.has_value() ? *std::move(dispatch.reply)
                                    : dispatch.work();
}

void Api::ObserveFrontError(const HttpRequest& request, int status) const {
  context_->metrics->CountRequest(kFront, request.method, status);
  if (context_->config->log_requests) {
    tools::LogInfo(absl::StrCat(request.method, " ", request.path, " ", status,
                                " (refused by the front)"));
  }
}

}  // namespace hotfixd
}  // namespace hotfix
