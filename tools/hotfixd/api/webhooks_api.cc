// tools/hotfixd/api/webhooks_api.cc
//
// Webhooks of an environment (core/webhooks.h): list, add (the signing
// secret is shown once, in the answer), remove, the recent deliveries of one
// and a test ping. Adding and removing are audited; neither is a flag change,
// so neither waits for approval in a protected environment.

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/handlers.h"
#include "api/write.h"
#include "common/json_util.h"
#include "common/text.h"
#include "core/webhooks.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

void WriteInfo(tools::JsonOut& out, const WebhookInfo& w) {
  out.Str("id", w.id)
      .Str("env", w.env)
      .Str("url", w.url)
      .Str("created_at", tools::FormatTime(w.created_at))
      .Str("created_by", w.created_by);
}

std::string TimeOrNull(std::int64_t t) {
  return t == 0 ? "null" : tools::JsonQuote(tools::FormatTime(t));
}

void WriteDelivery(tools::JsonOut& out, const DeliveryStatus& d) {
  out.Str("id", d.id)
      .Str("webhook", d.webhook_id)
      .Str("event", d.event)
      .Str("state", d.state)
      .I64("attempts", d.attempts)
      .Raw("last_status",
           d.last_status == 0 ? "null" : absl::StrCat(d.last_status))
      .StrOrNull("last_error", d.last_error)
      .Str("created_at", tools::FormatTime(d.created_at))
      .Raw("last_attempt_at", TimeOrNull(d.last_attempt_at))
      .Raw("next_attempt_at", TimeOrNull(d.next_attempt_at));
}

AuditRow WebhookAudit(const Call& call, const std::string& env,
                      const char* action, const std::string& reason,
                      const std::string& id, const std::string& url) {
  AuditRow audit;
  audit.created_at = NowMicros();
  audit.actor = call.principal().name;
  audit.action = action;
  audit.env = env;
  audit.reason = reason;
  tools::JsonOut detail;
  detail.Begin().Str("webhook", id).Str("url", url).End();
  audit.detail = detail.Take();
  return audit;
}

}  // namespace

absl::StatusOr<Reply> ListWebhooks(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  tools::JsonOut out;
  out.Begin()
      .Str("env", env->name)
      .BeginArray("webhooks")
      .Objects(call.api.webhooks->List(env->name), WriteInfo)
      .EndArray()
      .End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> AddWebhook(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  HOTFIX_ASSIGN_OR_RETURN(WriteBody body,
                          ParseWriteBody(call.request, {"url", "secret"}));
  HOTFIX_ASSIGN_OR_RETURN(std::string url,
                          tools::GetRequiredString(body.json, "url", "body"));
  HOTFIX_RETURN_IF_ERROR(WebhookDispatcher::CheckUrl(url));
  HOTFIX_ASSIGN_OR_RETURN(
      std::optional<std::string> secret,
      tools::GetOptionalString(body.json, "secret", "body"));
  if (secret.has_value() && (secret->size() < 16 || secret->size() > 256)) {
    return absl::InvalidArgumentError(
        "body.secret: 16-256 bytes (omit it to have one generated)");
  }
  WebhookRow row;
  row.env = env->name;
  row.url = url;
  row.secret = secret.value_or("");
  row.created_by = call.principal().name;
  HOTFIX_ASSIGN_OR_RETURN(
      WebhookRow added,
      call.api.webhooks->Add(row, WebhookAudit(call, env->name, "webhook.add",
                                               body.reason, "", url)));
  tools::JsonOut out;
  out.Begin();
  WriteInfo(out, {added.id, added.env, added.url, added.created_at,
                  added.created_by});
  out.Str("secret", added.secret).End();
  return Reply::Json(out.Take(), 201);
}

absl::StatusOr<Reply> DeleteWebhook(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  HOTFIX_ASSIGN_OR_RETURN(WriteBody body, ParseWriteBody(call.request, {}));
  const std::string id(call.Param("id"));
  std::string url;
  for (const WebhookInfo& w : call.api.webhooks->List(env->name)) {
    if (w.id == id) url = w.url;
  }
  if (url.empty()) {
    return absl::NotFoundError(
        absl::StrCat("webhook \"", id, "\": no such webhook in ", env->name));
  }
  HOTFIX_RETURN_IF_ERROR(call.api.webhooks->Remove(
      env->name, id,
      WebhookAudit(call, env->name, "webhook.delete", body.reason, id, url)));
  tools::JsonOut out;
  out.Begin().Str("id", id).Bool("deleted", true).End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> ListDeliveries(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  const std::string id(call.Param("id"));
  HOTFIX_ASSIGN_OR_RETURN(auto deliveries,
                          call.api.webhooks->Deliveries(env->name, id));
  tools::JsonOut out;
  out.Begin()
      .Str("env", env->name)
      .Str("webhook", id)
      .BeginArray("deliveries")
      .Objects(deliveries, WriteDelivery)
      .EndArray()
      .End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> PingWebhook(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  const std::string id(call.Param("id"));
  HOTFIX_ASSIGN_OR_RETURN(
      DeliveryStatus d,
      call.api.webhooks->Ping(env->name, id, call.principal().name));
  tools::JsonOut out;
  out.Begin();
  WriteDelivery(out, d);
  out.End();
  return Reply::Json(out.Take(), 202);
}

}  // namespace hotfixd
}  // namespace hotfix
