// tools/hotfixd/api/flags_api.cc
//
// One flag at a time: read, create or replace, delete, kill and revive (also
// by tag), and set a rollout percentage. Every write goes through DoWrite
// (api/write.h) and FlagService::Write.

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/handlers.h"
#include "api/write.h"
#include "common/json_util.h"
#include "common/text.h"
#include "core/documents.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// The mutation that puts body.flag as flags[key] (create_only: 409 if the
// flag exists).
MakeMutation PutMutation(std::string key, bool create_only) {
  return [key = std::move(key), create_only](
             const rapidjson::Document& body,
             WriteRequest*) -> absl::StatusOr<FlagService::Mutation> {
    const rapidjson::Value* flag = tools::FindMember(body, "flag");
    if (flag == nullptr)
      return absl::InvalidArgumentError("body.flag: required");
    if (!flag->IsObject()) {
      return absl::InvalidArgumentError("body.flag: must be an object");
    }
    auto copy = std::make_shared<rapidjson::Document>();
    copy->CopyFrom(*flag, copy->GetAllocator());
    return FlagService::Mutation(
        [copy, key, create_only](rapidjson::Document& doc) -> absl::Status {
          if (create_only && HasFlag(doc, key)) {
            return absl::AlreadyExistsError(absl::StrCat(
                "flags.", key, ": already exists (use PUT to replace it)"));
          }
          return hotfixd::PutFlag(doc, key, *copy);
        });
  };
}

absl::StatusOr<Reply> PutFlagHandler(const Call& call, bool create_only) {
  HOTFIX_ASSIGN_OR_RETURN(std::string key, KeyParam(call, "key"));
  HOTFIX_ASSIGN_OR_RETURN(auto state, Environment(call));
  const bool exists =
      state->snapshot != nullptr && state->snapshot->Contains(key);
  const std::string action =
      create_only || !exists ? "flag.create" : "flag.update";
  return DoWrite(call, state->name, action, {"flag"},
                 PutMutation(key, create_only), create_only ? 201 : 200);
}

absl::StatusOr<Reply> KillHandler(const Call& call, bool killed) {
  HOTFIX_ASSIGN_OR_RETURN(std::string key, KeyParam(call, "key"));
  return DoWrite(
      call, call.Param("env"), killed ? "flag.kill" : "flag.revive", {},
      [key, killed](const rapidjson::Document&,
                    WriteRequest*) -> absl::StatusOr<FlagService::Mutation> {
        return FlagService::Mutation([key, killed](rapidjson::Document& doc) {
          return SetKilled(doc, key, killed);
        });
      });
}

absl::StatusOr<Reply> KillTagHandler(const Call& call, bool killed) {
  HOTFIX_ASSIGN_OR_RETURN(std::string tag, KeyParam(call, "tag"));
  return DoWrite(
      call, call.Param("env"), killed ? "tag.kill" : "tag.revive", {},
      [tag, killed](const rapidjson::Document&,
                    WriteRequest* w) -> absl::StatusOr<FlagService::Mutation> {
        w->audit_extra = absl::StrCat("\"tag\":", tools::JsonQuote(tag));
        return FlagService::Mutation(
            [tag, killed](rapidjson::Document& doc) -> absl::Status {
              return SetKilledByTag(doc, tag, killed).status();
            });
      });
}

}  // namespace

absl::StatusOr<Reply> GetFlag(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(std::string key, KeyParam(call, "key"));
  HOTFIX_ASSIGN_OR_RETURN(auto state, Environment(call));
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(*state->document, "stored document", &doc);
  if (!st.ok()) return absl::InternalError(st.message());
  const rapidjson::Value* flag = tools::FindMember(doc["flags"], key);
  if (flag == nullptr) {
    return absl::NotFoundError(absl::StrCat("flags.", key, ": no such flag"));
  }
  tools::JsonOut out;
  out.Begin()
      .Str("env", state->name)
      .U64("version", state->version)
      .Str("key", key)
      .Value("flag", *flag)
      .End();
  Reply reply = Reply::Json(out.Take());
  reply.SetHeader("ETag", state->etag);
  reply.SetHeader("X-Hotfix-Version", absl::StrCat(state->version));
  return reply;
}

absl::StatusOr<Reply> PutFlag(const Call& call) {
  return PutFlagHandler(call, /*create_only=*/false);
}

absl::StatusOr<Reply> CreateFlag(const Call& call) {
  return PutFlagHandler(call, /*create_only=*/true);
}

absl::StatusOr<Reply> DeleteFlag(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(std::string key, KeyParam(call, "key"));
  return DoWrite(
      call, call.Param("env"), "flag.delete", {},
      [key](const rapidjson::Document&,
            WriteRequest*) -> absl::StatusOr<FlagService::Mutation> {
        return FlagService::Mutation([key](rapidjson::Document& doc) {
          return hotfixd::DeleteFlag(doc, key);
        });
      });
}

absl::StatusOr<Reply> KillFlag(const Call& call) {
  return KillHandler(call, /*killed=*/true);
}

absl::StatusOr<Reply> ReviveFlag(const Call& call) {
  return KillHandler(call, /*killed=*/false);
}

absl::StatusOr<Reply> KillTag(const Call& call) {
  return KillTagHandler(call, /*killed=*/true);
}

absl::StatusOr<Reply> ReviveTag(const Call& call) {
  return KillTagHandler(call, /*killed=*/false);
}

absl::StatusOr<Reply> SetRolloutPercent(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(std::string key, KeyParam(call, "key"));
  return DoWrite(
      call, call.Param("env"), "flag.rollout", {"percent"},
      [key](const rapidjson::Document& body,
            WriteRequest* w) -> absl::StatusOr<FlagService::Mutation> {
        HOTFIX_ASSIGN_OR_RETURN(
            std::optional<double> percent,
            tools::GetOptionalNumber(body, "percent", "body"));
        if (!percent.has_value()) {
          return absl::InvalidArgumentError("body.percent: required");
        }
        const double p = *percent;
        w->audit_extra = absl::StrCat("\"percent\":", tools::FormatNumber(p));
        return FlagService::Mutation([key, p](rapidjson::Document& doc) {
          return SetRollout(doc, key, p);
        });
      });
}

}  // namespace hotfixd
}  // namespace hotfix
