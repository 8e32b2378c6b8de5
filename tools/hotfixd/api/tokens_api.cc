// tools/hotfixd/api/tokens_api.cc
//
// Tokens: who am I, list, create and revoke. The escalation rule: a token
// creates or revokes only tokens whose scopes it holds itself (the read
// scope covers sdk), and a token bound to one environment only tokens bound
// to that same environment.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/handlers.h"
#include "api/write.h"
#include "common/json_util.h"
#include "common/text.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// The scopes `who` may hand out or take away.
std::uint32_t Grantable(const Principal& who) {
  std::uint32_t grantable = who.scopes;
  if (grantable & kScopeRead) grantable |= kScopeSdk;
  return grantable;
}

void WriteToken(tools::JsonOut& out, const TokenRow& t) {
  out.Str("id", t.id)
      .Str("name", t.name)
      .Str("scopes", t.scopes)
      .Str("env", t.env)
      .Str("created_at", tools::FormatTime(t.created_at))
      .Str("created_by", t.created_by);
  if (t.revoked_at == 0) {
    out.Null("revoked_at");
  } else {
    out.Str("revoked_at", tools::FormatTime(t.revoked_at));
  }
}

}  // namespace

absl::StatusOr<Reply> WhoAmI(const Call& call) {
  const Principal& who = call.principal();
  tools::JsonOut out;
  out.Begin()
      .Str("name", who.name)
      .Str("token_id", who.token_id)
      .Str("scopes", ScopesToString(who.scopes))
      .Str("env", who.env)
      .End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> ListTokens(const Call& call) {
  const Principal& who = call.principal();
  HOTFIX_ASSIGN_OR_RETURN(auto rows, call.api.store->ListTokens());
  // A token bound to one environment sees only that environment's tokens.
  if (!who.env.empty()) {
    std::erase_if(rows, [&who](const TokenRow& t) { return t.env != who.env; });
  }
  tools::JsonOut out;
  out.Begin().BeginArray("tokens").Objects(rows, WriteToken).EndArray().End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> CreateToken(const Call& call) {
  const Principal& who = call.principal();
  HOTFIX_ASSIGN_OR_RETURN(
      WriteBody body,
      ParseWriteBody(call.request, {"name", "kind", "scopes", "env"}));
  HOTFIX_ASSIGN_OR_RETURN(std::string name,
                          tools::GetRequiredString(body.json, "name", "body"));
  if (name.empty() || tools::CountCharacters(name) > 128) {
    return absl::InvalidArgumentError("body.name: 1-128 characters");
  }
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::string> kind,
                          tools::GetOptionalString(body.json, "kind", "body"));
  HOTFIX_ASSIGN_OR_RETURN(
      std::optional<std::string> scopes_text,
      tools::GetOptionalString(body.json, "scopes", "body"));
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::string> env,
                          tools::GetOptionalString(body.json, "env", "body"));
  if (kind.has_value() && scopes_text.has_value()) {
    return absl::InvalidArgumentError("body: give kind or scopes, not both");
  }
  std::uint32_t scopes = 0;
  if (scopes_text.has_value()) {
    HOTFIX_ASSIGN_OR_RETURN(scopes, ParseScopes(*scopes_text, "body.scopes"));
  } else {
    const std::string k = kind.value_or("sdk");
    if (k == "sdk") {
      scopes = kScopeSdk;
    } else if (k == "admin") {
      scopes = kAdminScopes;
    } else if (k == "reader") {
      scopes = kScopeRead;
    } else {
      return absl::InvalidArgumentError(
          "body.kind: expected sdk, admin or reader");
    }
  }
  std::string token_env = env.value_or("");
  if (!who.env.empty()) {
    if (token_env.empty()) token_env = who.env;
    if (token_env != who.env) {
      return absl::PermissionDeniedError(absl::StrCat(
          "this token cannot use environment \"", token_env, "\""));
    }
  }
  if ((scopes & kScopeSdk) && token_env.empty()) {
    return absl::InvalidArgumentError("body.env: required for an SDK key");
  }
  if (!token_env.empty() && call.api.flags->Get(token_env) == nullptr) {
    return absl::NotFoundError(absl::StrCat("body.env: environment \"",
                                            token_env, "\" does not exist"));
  }
  if ((scopes & ~Grantable(who)) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot grant scopes this token lacks: ",
                     ScopesToString(scopes & ~Grantable(who))));
  }
  HOTFIX_ASSIGN_OR_RETURN(
      CreatedToken created,
      call.api.auth->CreateToken(name, scopes, token_env, who, body.reason));
  tools::JsonOut out;
  out.Begin();
  WriteToken(out, created.row);
  out.Str("token", created.secret).End();
  return Reply::Json(out.Take(), 201);
}

absl::StatusOr<Reply> RevokeToken(const Call& call) {
  const Principal& who = call.principal();
  HOTFIX_ASSIGN_OR_RETURN(WriteBody body, ParseWriteBody(call.request, {}));
  const std::string id(call.Param("id"));
  HOTFIX_ASSIGN_OR_RETURN(auto rows, call.api.store->ListTokens());
  const TokenRow* target = nullptr;
  for (const TokenRow& t : rows) {
    if (t.id == id) target = &t;
  }
  if (target == nullptr) {
    return absl::NotFoundError(absl::StrCat("no token with id \"", id, "\""));
  }
  if (!who.env.empty() && target->env != who.env) {
    return absl::PermissionDeniedError(
        "this token cannot manage tokens of other environments (or of all "
        "environments)");
  }
  HOTFIX_ASSIGN_OR_RETURN(std::uint32_t target_scopes,
                          ParseScopes(target->scopes, "tokens.scopes"));
  if ((target_scopes & ~Grantable(who)) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot revoke token \"", target->name,
                     "\": it holds scopes this token lacks: ",
                     ScopesToString(target_scopes & ~Grantable(who))));
  }
  HOTFIX_RETURN_IF_ERROR(call.api.auth->RevokeToken(id, who, body.reason));
  // A revoked SDK key loses its open streams too, not only new requests.
  call.api.hub->CloseStreamsOf(id);
  tools::JsonOut out;
  out.Begin().Str("id", id).Bool("revoked", true).End();
  return Reply::Json(out.Take());
}

}  // namespace hotfixd
}  // namespace hotfix
