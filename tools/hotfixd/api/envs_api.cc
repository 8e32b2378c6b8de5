// tools/hotfixd/api/envs_api.cc
//
// Environments and whole flag sets: list and create environments, read and
// replace a set, and the per-flag metadata listing (hygiene: owners,
// tickets, expiry).

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "api/handlers.h"
#include "api/requests.h"
#include "api/write.h"
#include "common/json_util.h"
#include "common/text.h"
#include "core/documents.h"
#include "store/store.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {

absl::StatusOr<Reply> ListEnvironments(const Call& call) {
  const auto streams = call.api.hub->ConnectedByEnvironment();
  tools::JsonOut out;
  out.Begin().BeginArray("environments");
  for (const auto& s : call.api.flags->List()) {
    if (!call.principal().CanUseEnv(s->name)) continue;
    auto it = streams.find(s->name);
    out.Begin()
        .Str("name", s->name)
        .U64("version", s->version)
        .Str("etag", s->etag)
        .U64("flags", s->snapshot ? s->snapshot->size() : 0)
        .I64("streams", it == streams.end() ? 0 : it->second)
        .Bool("protected", s->protected_env)
        .Str("created_at", tools::FormatTime(s->created_at))
        .Str("updated_at", tools::FormatTime(s->updated_at))
        .End();
  }
  out.EndArray().End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> CreateEnvironment(const Call& call) {
  if (!call.principal().env.empty()) {
    return absl::PermissionDeniedError(
        "a token bound to one environment cannot create environments");
  }
  HOTFIX_ASSIGN_OR_RETURN(
      WriteBody body,
      ParseWriteBody(call.request, {"name", "copy_from", "document"}));
  HOTFIX_ASSIGN_OR_RETURN(std::string name,
                          tools::GetRequiredString(body.json, "name", "body"));
  HOTFIX_ASSIGN_OR_RETURN(
      std::optional<std::string> copy_from,
      tools::GetOptionalString(body.json, "copy_from", "body"));
  const rapidjson::Value* document = tools::FindMember(body.json, "document");
  if (copy_from.has_value() && document != nullptr) {
    return absl::InvalidArgumentError(
        "body: give copy_from or document, not both");
  }
  std::string json = "{\"version\":1,\"flags\":{}}";
  std::string extra;
  if (copy_from.has_value()) {
    auto source = call.api.flags->Get(*copy_from);
    if (source == nullptr) {
      return absl::NotFoundError(absl::StrCat("body.copy_from: environment \"",
                                              *copy_from, "\" does not exist"));
    }
    json = *source->document;
    extra = absl::StrCat("\"copy_from\":", tools::JsonQuote(*copy_from),
                         ",\"copy_from_version\":", source->version);
  } else if (document != nullptr) {
    if (!document->IsObject()) {
      return absl::InvalidArgumentError(
          "body.document: must be a flag-set object");
    }
    json = tools::ToJson(*document);
  }
  HOTFIX_ASSIGN_OR_RETURN(
      WriteResult result,
      call.api.flags->CreateEnvironment(name, json, call.principal().name,
                                        body.reason, extra));
  return WriteResultReply(result, 201);
}

absl::StatusOr<Reply> GetFlagSet(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto state, Environment(call));
  Reply reply = Reply::SharedJson(state->document);
  reply.SetHeader("ETag", state->etag);
  reply.SetHeader("X-Hotfix-Version", absl::StrCat(state->version));
  return reply;
}

absl::StatusOr<Reply> PutFlagSet(const Call& call) {
  return DoWrite(
      call, call.Param("env"), "flags.replace", {"document", "allow_delete"},
      [](const rapidjson::Document& body,
         WriteRequest* w) -> absl::StatusOr<FlagService::Mutation> {
        const rapidjson::Value* document = tools::FindMember(body, "document");
        if (document == nullptr) {
          return absl::InvalidArgumentError("body.document: required");
        }
        HOTFIX_RETURN_IF_ERROR(CheckShape(*document, "body.document"));
        HOTFIX_ASSIGN_OR_RETURN(
            std::optional<bool> allow_delete,
            tools::GetOptionalBool(body, "allow_delete", "body"));
        // A dry run shows the deletions; a real write needs them allowed.
        const bool may_delete = allow_delete.value_or(false) || w->dry_run;
        auto copy = std::make_shared<rapidjson::Document>();
        copy->CopyFrom(*document, copy->GetAllocator());
        return FlagService::Mutation(
            [copy, may_delete](rapidjson::Document& doc) -> absl::Status {
              if (!may_delete) {
                const std::vector<std::string> removed =
                    MissingFlags(doc, *copy);
                if (!removed.empty()) {
                  return absl::InvalidArgumentError(
                      absl::StrCat("body.document: deletes ", removed.size(),
                                   removed.size() == 1 ? " flag" : " flags",
                                   " (", absl::StrJoin(removed, ", "),
                                   "); send \"allow_delete\": true (hotfixctl "
                                   "--allow-delete) to delete them"));
                }
              }
              doc.CopyFrom(*copy, doc.GetAllocator());
              return absl::OkStatus();
            });
      });
}

absl::StatusOr<Reply> PutSettings(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto state, Environment(call));
  HOTFIX_ASSIGN_OR_RETURN(WriteBody body,
                          ParseWriteBody(call.request, {"protected"}));
  HOTFIX_ASSIGN_OR_RETURN(
      std::optional<bool> want,
      tools::GetOptionalBool(body.json, "protected", "body"));
  if (!want.has_value()) {
    return absl::InvalidArgumentError(
        "body.protected: required (true or false)");
  }
  const bool changed = *want != state->protected_env;
  const bool dry_run = QueryFlag(call, "dry_run");
  DocumentDiff diff;
  if (changed) {
    diff.other.push_back({"settings.protected",
                          state->protected_env ? "true" : "false",
                          *want ? "true" : "false"});
  }
  // Protecting takes effect at once; lifting protection is itself a change
  // that needs a second person.
  if (changed && !*want && !dry_run && call.approval == nullptr) {
    Proposal proposal;
    proposal.action = "env.unprotect";
    proposal.reason = body.reason;
    proposal.diff = diff;
    proposal.summary = {"protected: true → false"};
    return ProposeOther(call, *state, proposal);
  }
  if (changed && !dry_run) {
    std::string extra;
    if (call.approval != nullptr) {
      extra = absl::StrCat(
          "\"request\":", call.approval->request_id,
          ",\"approved_by\":", tools::JsonQuote(call.approval->approver));
    }
    HOTFIX_RETURN_IF_ERROR(call.api.flags->SetProtected(
        state->name, *want, call.principal().name, body.reason, extra));
    tools::JsonOut data;
    data.Begin()
        .Bool("protected", *want)
        .Str("actor", call.principal().name)
        .Str("reason", body.reason)
        .End();
    Announce(call.api, state->name, "settings.changed", data.Take());
  }
  tools::JsonOut out;
  out.Begin()
      .Str("env", state->name)
      .Bool("protected", *want)
      .Bool("changed", changed);
  if (dry_run) {
    out.Bool("dry_run", true);
    WriteDiff(out, diff);
  }
  out.End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> GetMetadata(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto state, Environment(call));
  if (state->snapshot == nullptr) {
    return absl::InternalError("the current flag set does not compile");
  }
  const bool stale_only = QueryFlag(call, "stale");
  const std::string* tag_param = call.request.FindQuery("tag");
  const std::string tag = tag_param != nullptr ? *tag_param : "";
  // With telemetry, a flag nobody evaluated for this many days is stale too.
  HOTFIX_ASSIGN_OR_RETURN(int unused_days,
                          QueryInt(call, "unused_days", 0, 0, 3650));
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(*state->document, "stored document", &doc);
  if (!st.ok()) return absl::InternalError(st.message());
  std::map<std::string, std::int64_t> last_evaluated;
  if (call.api.telemetry != nullptr) {
    HOTFIX_ASSIGN_OR_RETURN(last_evaluated,
                            call.api.telemetry->LastEvaluated(state->name));
  }
  // Each flag's staged rollout, if it has one (the console's "guarded").
  HOTFIX_ASSIGN_OR_RETURN(std::vector<RolloutPlanRow> plans,
                          call.api.store->ListRolloutPlans(""));
  std::map<std::string, std::string> plan_state;
  for (const RolloutPlanRow& plan : plans) {
    if (plan.env == state->name) plan_state[plan.flag] = plan.state;
  }
  const absl::Time now = absl::Now();
  tools::JsonOut out;
  out.Begin()
      .Str("env", state->name)
      .U64("version", state->version)
      .Str("now", tools::FormatTime(absl::ToUnixMicros(now)))
      .BeginArray("flags");
  for (const FlagInfo& info : state->snapshot->Flags()) {
    const bool expired = info.expires.has_value() && *info.expires < now;
    auto used = last_evaluated.find(info.key);
    const std::int64_t last = used == last_evaluated.end() ? 0 : used->second;
    const bool unused =
        unused_days > 0 &&
        absl::FromUnixMicros(last) < now - absl::Hours(24 * unused_days);
    const bool stale = expired || unused;
    if (stale_only && !stale) continue;
    if (!tag.empty() &&
        std::find(info.tags.begin(), info.tags.end(), tag) == info.tags.end()) {
      continue;
    }
    const rapidjson::Value* flag = tools::FindMember(doc["flags"], info.key);
    out.Begin()
        .Str("key", info.key)
        .Str("type", ValueTypeName(info.type))
        .Bool("killed", info.killed)
        .Strings("variants", info.variants)
        .Str("fallthrough", flag != nullptr ? DescribeFallthrough(*flag) : "")
        .Str("owner", info.owner)
        .Str("ticket", info.ticket)
        .Str("description", info.description);
    if (info.expires.has_value()) {
      out.Str("expires", tools::FormatTime(absl::ToUnixMicros(*info.expires)));
    } else {
      out.Null("expires");
    }
    out.Raw("last_evaluated",
            last == 0 ? "null" : tools::JsonQuote(tools::FormatTime(last)))
        .Bool("stale", stale);
    std::vector<std::string> why;
    if (expired) why.push_back("expired");
    if (unused) why.push_back("unused");
    auto plan = plan_state.find(info.key);
    out.Raw("rollout_plan",
            plan == plan_state.end() ? "null" : tools::JsonQuote(plan->second));
    out.Strings("stale_because", why)
        .Strings("tags", info.tags)
        .U64("rules", info.rule_count)
        .U64("targets", info.target_count)
        .U64("prerequisites", info.prerequisite_count)
        .End();
  }
  out.EndArray().End();
  return Reply::Json(out.Take());
}

}  // namespace hotfixd
}  // namespace hotfix
