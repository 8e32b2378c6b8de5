// tools/hotfixd/api/history_api.cc
//
// The record of changes: version history (paged with `before`), one stored
// version (checksum verified), rollback to a version (as a new version), and
// the audit log.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/handlers.h"
#include "api/write.h"
#include "common/json_util.h"
#include "common/text.h"
#include "store/epoch.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// One entry of GET /v1/admin/envs/{env}/history (docs/admin-api.md).
void WriteVersion(tools::JsonOut& out, const VersionRow& r) {
  out.U64("version", r.version)
      .Str("time", tools::FormatTime(r.created_at))
      .Str("actor", r.actor)
      .Str("reason", r.reason)
      .Str("action", r.action)
      .Str("event", r.event)
      .Raw("changed_keys", r.changed_keys)
      .U64OrNull("restored_version", r.restored_version)
      .Str("sha256", r.sha256);
}

// One entry of GET /v1/admin/audit (docs/admin-api.md).
void WriteAuditEntry(tools::JsonOut& out, const AuditRow& a) {
  out.I64("id", a.id)
      .Str("time", tools::FormatTime(a.created_at))
      .Str("actor", a.actor)
      .Str("action", a.action)
      .Str("env", a.env)
      .U64OrNull("version", a.version)
      .Str("reason", a.reason)
      .Raw("detail", a.detail);
}

}  // namespace

absl::StatusOr<Reply> ListHistory(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto state, Environment(call));
  HOTFIX_ASSIGN_OR_RETURN(int limit, QueryInt(call, "limit", 50, 1, 1000));
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::uint64_t> before,
                          QueryUint(call, "before"));
  HOTFIX_ASSIGN_OR_RETURN(
      auto rows,
      call.api.store->ListVersions(state->name, before.value_or(0), limit));
  tools::JsonOut out;
  out.Begin()
      .Str("env", state->name)
      .U64("current_version", state->version)
      .BeginArray("versions")
      .Objects(rows, WriteVersion)
      .EndArray();
  if (!rows.empty() && static_cast<int>(rows.size()) == limit &&
      rows.back().version > 1) {
    out.U64("next_before", rows.back().version);
  }
  out.End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> GetVersion(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto state, Environment(call));
  const std::optional<std::uint64_t> version =
      ParseVersion(call.Param("version"));
  if (!version.has_value()) {
    return absl::InvalidArgumentError("version: expected a version number");
  }
  HOTFIX_ASSIGN_OR_RETURN(
      VersionRow row,
      call.api.store->GetVersion(
          state->name, LocalVersion(call.api.flags->epoch(), *version)));
  Reply reply = Reply::Json(std::move(row.document));
  reply.SetHeader("X-Hotfix-Version", absl::StrCat(row.version));
  return reply;
}

absl::StatusOr<Reply> Rollback(const Call& call) {
  const std::string env(call.Param("env"));
  return DoWrite(
      call, env, "rollback", {"version"},
      [&call, env](const rapidjson::Document& body,
                   WriteRequest* w) -> absl::StatusOr<FlagService::Mutation> {
        HOTFIX_ASSIGN_OR_RETURN(
            std::optional<std::uint64_t> version,
            tools::GetOptionalUint(body, "version", "body"));
        if (!version.has_value()) {
          return absl::InvalidArgumentError("body.version: required");
        }
        HOTFIX_ASSIGN_OR_RETURN(VersionRow row,
                                call.api.store->GetVersion(env, *version));
        auto target = std::make_shared<rapidjson::Document>();
        absl::Status st =
            tools::ParseJson(row.document, "stored document", target.get());
        if (!st.ok()) return absl::InternalError(st.message());
        w->audit_extra = absl::StrCat("\"rollback_to\":", *version);
        w->restored_version = *version;
        return FlagService::Mutation(
            [target](rapidjson::Document& doc) -> absl::Status {
              doc.CopyFrom(*target, doc.GetAllocator());
              return absl::OkStatus();
            });
      });
}

absl::StatusOr<Reply> ListAudit(const Call& call) {
  const Principal& who = call.principal();
  const std::string* env_param = call.request.FindQuery("env");
  std::string env = env_param != nullptr ? *env_param : "";
  if (!who.env.empty()) {
    if (!env.empty() && env != who.env) {
      return absl::PermissionDeniedError(
          absl::StrCat("this token cannot use environment \"", env, "\""));
    }
    env = who.env;
  }
  HOTFIX_ASSIGN_OR_RETURN(int limit, QueryInt(call, "limit", 50, 1, 1000));
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::uint64_t> before,
                          QueryUint(call, "before"));
  // Ids are positive signed 64-bit integers: a larger bound means none.
  const std::int64_t before_id =
      before.has_value()
          ? static_cast<std::int64_t>(std::min<std::uint64_t>(
                *before, std::numeric_limits<std::int64_t>::max()))
          : 0;
  HOTFIX_ASSIGN_OR_RETURN(auto rows,
                          call.api.store->ListAudit(env, before_id, limit));
  tools::JsonOut out;
  out.Begin().BeginArray("entries").Objects(rows, WriteAuditEntry).EndArray();
  if (!rows.empty() && static_cast<int>(rows.size()) == limit) {
    out.I64("next_before", rows.back().id);
  }
  out.End();
  return Reply::Json(out.Take());
}

}  // namespace hotfixd
}  // namespace hotfix
