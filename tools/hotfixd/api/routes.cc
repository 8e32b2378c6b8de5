// tools/hotfixd/api/routes.cc

#include "api/routes.h"

#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
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
  }
  return "?";
}

const std::vector<RouteSpec>& ApiRoutes() {
  static const auto* const routes = new std::vector<RouteSpec>{
      // SDK (docs/protocol.md)
      {Method::kGet, "/v1/flags", Access::kSdk, GetSdkFlags},
      {Method::kGet, "/v1/stream", Access::kSdk, GetSdkStream},
      // Operations
      {Method::kGet, "/healthz", Access::kPublic, GetHealth},
      {Method::kGet, "/metrics", Access::kPublic, GetMetrics},
      // Admin (docs/admin-api.md)
      {Method::kGet, "/v1/admin/whoami", Access::kAnyToken, WhoAmI},
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
      {Method::kGet, "/v1/admin/envs/{env}/metadata", Access::kRead,
       GetMetadata},
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
}

Reply Api::Serve(const HttpRequest& request, const RouteSpec** route,
                 const Principal** who, Principal* storage) const {
  if (std::optional<std::string> problem = HeaderProblem(request)) {
    return Reply::Error(400, "INVALID_ARGUMENT", *problem);
  }
  const Method method = ParseMethod(request.method);
  auto found = router_.Find(method, request.path);
  if (found.target == nullptr) {
    if (found.allow.empty()) {
      return Reply::Error(
          404, "NOT_FOUND",
          absl::StrCat("no such path: ", SanitizeForLog(request.path)));
    }
    Reply reply = Reply::Error(
        405, "UNIMPLEMENTED",
        absl::StrCat(SanitizeForLog(request.method), " is not allowed on ",
                     SanitizeForLog(request.path), "; allowed: ", found.allow));
    reply.SetHeader("Allow", found.allow);
    return reply;
  }
  const RouteSpec& spec = **found.target;
  *route = &spec;
  if (spec.access != Access::kPublic) {
    const std::string* authorization = request.FindHeader("authorization");
    std::optional<Principal> principal = context_->auth->Authenticate(
        authorization != nullptr ? *authorization : std::string_view());
    if (!principal.has_value()) {
      Reply reply = Reply::Error(401, "UNAUTHENTICATED", "unauthenticated");
      reply.SetHeader("WWW-Authenticate", "Bearer realm=\"hotfixd\"");
      return reply;
    }
    *storage = std::move(*principal);
    *who = storage;
    if (!Allows(spec.access, *storage)) {
      return Reply::Error(
          403, "PERMISSION_DENIED",
          absl::StrCat("token \"", storage->name, "\" lacks the ",
                       internal::ToAbsl(AccessName(spec.access)), " scope"));
    }
  }
  const Call call{*context_, request, found.params, *who};
  absl::StatusOr<Reply> reply;
  try {
    reply = spec.handler(call);
  } catch (const std::exception& e) {
    reply = absl::InternalError(absl::StrCat("exception: ", e.what()));
  } catch (...) {
    reply = absl::InternalError("unknown exception");
  }
  if (reply.ok()) return *std::move(reply);
  if (HttpStatusFor(reply.status().code()) == 500) {
    std::fprintf(stderr, "hotfixd: error: %s %s: %s\n", spec.pattern,
                 request.method.c_str(),
                 SanitizeForLog(reply.status().ToString()).c_str());
  }
  return StatusReply(reply.status());
}

Reply Api::Handle(const HttpRequest& request) const {
  const absl::Time start = absl::Now();
  const RouteSpec* route = nullptr;
  const Principal* who = nullptr;
  Principal storage;
  Reply reply = Serve(request, &route, &who, &storage);
  const char* label = route != nullptr ? route->pattern : kUnmatched;
  context_->metrics->CountRequest(label, request.method, reply.status);
  if (context_->config->log_requests) {
    std::fprintf(stderr, "hotfixd: %s %s %d %.3fms%s%s\n",
                 SanitizeForLog(request.method).c_str(),
                 SanitizeForLog(request.path).c_str(), reply.status,
                 absl::ToDoubleMilliseconds(absl::Now() - start),
                 who != nullptr ? " actor=" : "",
                 who != nullptr ? SanitizeForLog(who->name).c_str() : "");
  }
  return reply;
}

void Api::ObserveFrontError(const HttpRequest& request, int status) const {
  context_->metrics->CountRequest(kFront, request.method, status);
  if (context_->config->log_requests) {
    std::fprintf(stderr, "hotfixd: %s %s %d (refused by the front)\n",
                 SanitizeForLog(request.method).c_str(),
                 SanitizeForLog(request.path).c_str(), status);
  }
}

}  // namespace hotfixd
}  // namespace hotfix
