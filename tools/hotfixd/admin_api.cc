// tools/hotfixd/admin_api.cc

#include "admin_api.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "documents.h"
#include "json_util.h"

namespace hotfix {
namespace hotfixd {
namespace {

using httplib::Request;
using httplib::Response;
using tools::JsonWriter;
using tools::WriteString;

constexpr const char* kNoFields[] = {nullptr};

std::string Match(const Request& req, std::size_t i) {
  return i < req.matches.size() ? req.matches[i].str() : std::string();
}

// NotFound for an unknown environment, PermissionDenied when the token is
// bound to another one.
absl::StatusOr<std::shared_ptr<const EnvironmentState>> Env(
    ApiContext* api, const Principal& who, const std::string& env) {
  if (!who.CanUseEnv(env)) {
    return absl::PermissionDeniedError(
        absl::StrCat("this token cannot use environment \"", env, "\""));
  }
  auto state = api->flags->Get(env);
  if (state == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("environment \"", env, "\" does not exist"));
  }
  return state;
}

void WriteStringArray(JsonWriter& w, const std::vector<std::string>& items) {
  w.StartArray();
  for (const std::string& s : items) WriteString(w, s);
  w.EndArray();
}

std::string Finish(rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

void SendWriteResult(Response& res, const WriteResult& r, int status = 200) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("env");
  WriteString(w, r.env);
  w.Key("version");
  w.Uint64(r.version);
  w.Key("changed");
  w.Bool(r.changed);
  w.Key("event");
  if (r.event.empty()) {
    w.Null();
  } else {
    WriteString(w, r.event);
  }
  w.Key("changed_keys");
  WriteStringArray(w, r.changed_keys);
  w.Key("etag");
  WriteString(w, r.etag);
  w.EndObject();
  res.set_header("ETag", r.etag);
  res.set_header("X-Hotfix-Version", absl::StrCat(r.version));
  SendJson(res, Finish(buffer), r.changed ? status : 200);
}

// The common shape of every flag-set write: parse the envelope (reason +
// `allowed` fields), If-Match, then FlagService::Write with the mutation
// `make` builds from the parsed body.
using MakeMutation = std::function<absl::StatusOr<FlagService::Mutation>(
    const rapidjson::Document& body, std::string* action,
    std::string* audit_extra)>;

void DoWrite(ApiContext* api, const Request& req, Response& res,
             const Principal& who, const std::string& env, std::string action,
             const char* const* allowed, const MakeMutation& make,
             int created_status = 200) {
  auto state = Env(api, who, env);
  if (!state.ok()) return SendStatus(res, state.status());
  WriteBody body;
  absl::Status st = ParseWriteBody(req, allowed, &body);
  if (!st.ok()) return SendStatus(res, st);
  auto if_match = ParseIfMatch(req);
  if (!if_match.ok()) return SendStatus(res, if_match.status());
  WriteRequest w;
  w.env = env;
  w.actor = &who;
  w.reason = body.reason;
  w.if_match = *if_match;
  w.action = std::move(action);
  auto mutation = make(body.json, &w.action, &w.audit_extra);
  if (!mutation.ok()) return SendStatus(res, mutation.status());
  auto result = api->flags->Write(w, *mutation);
  if (!result.ok()) {
    if (absl::IsFailedPrecondition(result.status())) {
      auto current = api->flags->Get(env);
      if (current != nullptr) {
        res.set_header("ETag", current->etag);
        res.set_header("X-Hotfix-Version", absl::StrCat(current->version));
      }
    }
    return SendStatus(res, result.status());
  }
  SendWriteResult(res, *result, created_status);
}

// ---------------------------------------------------------------- handlers

void WhoAmI(ApiContext*, const Request&, Response& res, const Principal& who) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("name");
  WriteString(w, who.name);
  w.Key("token_id");
  WriteString(w, who.token_id);
  w.Key("scopes");
  WriteString(w, ScopesToString(who.scopes));
  w.Key("env");
  WriteString(w, who.env);
  w.EndObject();
  SendJson(res, Finish(buffer));
}

void ListEnvs(ApiContext* api, const Request&, Response& res,
              const Principal& who) {
  const auto streams = api->hub->ConnectedByEnvironment();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("environments");
  w.StartArray();
  for (const auto& s : api->flags->List()) {
    if (!who.CanUseEnv(s->name)) continue;
    w.StartObject();
    w.Key("name");
    WriteString(w, s->name);
    w.Key("version");
    w.Uint64(s->version);
    w.Key("etag");
    WriteString(w, s->etag);
    w.Key("flags");
    w.Uint64(s->snapshot ? s->snapshot->size() : 0);
    w.Key("streams");
    auto it = streams.find(s->name);
    w.Int(it == streams.end() ? 0 : it->second);
    w.Key("created_at");
    WriteString(w, FormatTime(s->created_at));
    w.Key("updated_at");
    WriteString(w, FormatTime(s->updated_at));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  SendJson(res, Finish(buffer));
}

void CreateEnv(ApiContext* api, const Request& req, Response& res,
               const Principal& who) {
  if (!who.env.empty()) {
    return SendStatus(res, absl::PermissionDeniedError(
                               "a token bound to one environment cannot "
                               "create environments"));
  }
  static constexpr const char* kAllowed[] = {"name", "copy_from", "document",
                                             nullptr};
  WriteBody body;
  absl::Status st = ParseWriteBody(req, kAllowed, &body);
  if (!st.ok()) return SendStatus(res, st);
  auto name = tools::GetRequiredString(body.json, "name", "body");
  if (!name.ok()) return SendStatus(res, name.status());
  auto copy_from = tools::GetOptionalString(body.json, "copy_from", "body");
  if (!copy_from.ok()) return SendStatus(res, copy_from.status());
  const rapidjson::Value* document = tools::FindMember(body.json, "document");
  std::string json = "{\"version\":1,\"flags\":{}}";
  std::string extra;
  if (copy_from->has_value() && document != nullptr) {
    return SendStatus(res, absl::InvalidArgumentError(
                               "body: give copy_from or document, not both"));
  }
  if (copy_from->has_value()) {
    auto source = api->flags->Get(**copy_from);
    if (source == nullptr) {
      return SendStatus(res, absl::NotFoundError(absl::StrCat(
                                 "body.copy_from: environment \"", **copy_from,
                                 "\" does not exist")));
    }
    json = *source->document;
    extra = absl::StrCat("\"copy_from\":", tools::JsonQuote(**copy_from),
                         ",\"copy_from_version\":", source->version);
  } else if (document != nullptr) {
    if (!document->IsObject()) {
      return SendStatus(res, absl::InvalidArgumentError(
                                 "body.document: must be a flag-set object"));
    }
    json = tools::ToJson(*document);
  }
  auto result =
      api->flags->CreateEnvironment(*name, json, who.name, body.reason, extra);
  if (!result.ok()) return SendStatus(res, result.status());
  SendWriteResult(res, *result, 201);
}

void GetSet(ApiContext* api, const Request& req, Response& res,
            const Principal& who) {
  auto state = Env(api, who, Match(req, 1));
  if (!state.ok()) return SendStatus(res, state.status());
  res.set_header("ETag", (*state)->etag);
  res.set_header("X-Hotfix-Version", absl::StrCat((*state)->version));
  SendSharedJson(res, (*state)->document);
}

void PutSet(ApiContext* api, const Request& req, Response& res,
            const Principal& who) {
  static constexpr const char* kAllowed[] = {"document", nullptr};
  DoWrite(api, req, res, who, Match(req, 1), "flags.replace", kAllowed,
          [](const rapidjson::Document& body, std::string*,
             std::string*) -> absl::StatusOr<FlagService::Mutation> {
            const rapidjson::Value* document =
                tools::FindMember(body, "document");
            if (document == nullptr) {
              return absl::InvalidArgumentError("body.document: required");
            }
            absl::Status st = CheckShape(*document, "body.document");
            if (!st.ok()) return st;
            auto copy = std::make_shared<rapidjson::Document>();
            copy->CopyFrom(*document, copy->GetAllocator());
            return FlagService::Mutation(
                [copy](rapidjson::Document& doc) -> absl::Status {
                  doc.CopyFrom(*copy, doc.GetAllocator());
                  return absl::OkStatus();
                });
          });
}

void GetFlag(ApiContext* api, const Request& req, Response& res,
             const Principal& who) {
  auto state = Env(api, who, Match(req, 1));
  if (!state.ok()) return SendStatus(res, state.status());
  const std::string key = Match(req, 2);
  rapidjson::Document doc;
  absl::Status st =
      tools::ParseJson(*(*state)->document, "stored document", &doc);
  if (!st.ok()) return SendStatus(res, absl::InternalError(st.message()));
  const rapidjson::Value* flag = tools::FindMember(doc["flags"], key);
  if (flag == nullptr) {
    return SendStatus(res, absl::NotFoundError(
                               absl::StrCat("flags.", key, ": no such flag")));
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("env");
  WriteString(w, (*state)->name);
  w.Key("version");
  w.Uint64((*state)->version);
  w.Key("key");
  WriteString(w, key);
  w.Key("flag");
  flag->Accept(w);
  w.EndObject();
  res.set_header("ETag", (*state)->etag);
  res.set_header("X-Hotfix-Version", absl::StrCat((*state)->version));
  SendJson(res, Finish(buffer));
}

void PutFlagHandler(ApiContext* api, const Request& req, Response& res,
                    const Principal& who, bool create_only) {
  static constexpr const char* kAllowed[] = {"flag", nullptr};
  const std::string env = Match(req, 1);
  const std::string key = Match(req, 2);
  std::string action = "flag.update";
  if (auto state = api->flags->Get(env);
      create_only || (state != nullptr && state->snapshot != nullptr &&
                      !state->snapshot->Contains(key))) {
    action = "flag.create";
  }
  DoWrite(
      api, req, res, who, env, action, kAllowed,
      [key, create_only](
          const rapidjson::Document& body, std::string*,
          std::string*) -> absl::StatusOr<FlagService::Mutation> {
        const rapidjson::Value* flag = tools::FindMember(body, "flag");
        if (flag == nullptr) {
          return absl::InvalidArgumentError("body.flag: required");
        }
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
              return PutFlag(doc, key, *copy);
            });
      },
      create_only ? 201 : 200);
}

void DeleteFlagHandler(ApiContext* api, const Request& req, Response& res,
                       const Principal& who) {
  const std::string key = Match(req, 2);
  DoWrite(api, req, res, who, Match(req, 1), "flag.delete", kNoFields,
          [key](const rapidjson::Document&, std::string*,
                std::string*) -> absl::StatusOr<FlagService::Mutation> {
            return FlagService::Mutation([key](rapidjson::Document& doc) {
              return DeleteFlag(doc, key);
            });
          });
}

void KillFlag(ApiContext* api, const Request& req, Response& res,
              const Principal& who, bool killed) {
  const std::string key = Match(req, 2);
  DoWrite(
      api, req, res, who, Match(req, 1), killed ? "flag.kill" : "flag.revive",
      kNoFields,
      [key, killed](const rapidjson::Document&, std::string*,
                    std::string*) -> absl::StatusOr<FlagService::Mutation> {
        return FlagService::Mutation([key, killed](rapidjson::Document& doc) {
          return SetKilled(doc, key, killed);
        });
      });
}

void KillTag(ApiContext* api, const Request& req, Response& res,
             const Principal& who, bool killed) {
  const std::string tag = Match(req, 2);
  DoWrite(api, req, res, who, Match(req, 1), killed ? "tag.kill" : "tag.revive",
          kNoFields,
          [tag, killed](
              const rapidjson::Document&, std::string*,
              std::string* extra) -> absl::StatusOr<FlagService::Mutation> {
            *extra = absl::StrCat("\"tag\":", tools::JsonQuote(tag));
            return FlagService::Mutation(
                [tag, killed](rapidjson::Document& doc) -> absl::Status {
                  return SetKilledByTag(doc, tag, killed).status();
                });
          });
}

void Rollout(ApiContext* api, const Request& req, Response& res,
             const Principal& who) {
  static constexpr const char* kAllowed[] = {"percent", nullptr};
  const std::string key = Match(req, 2);
  DoWrite(api, req, res, who, Match(req, 1), "flag.rollout", kAllowed,
          [key](const rapidjson::Document& body, std::string*,
                std::string* extra) -> absl::StatusOr<FlagService::Mutation> {
            auto percent = tools::GetOptionalNumber(body, "percent", "body");
            if (!percent.ok()) return percent.status();
            if (!percent->has_value()) {
              return absl::InvalidArgumentError("body.percent: required");
            }
            const double p = **percent;
            *extra = absl::StrCat("\"percent\":", p);
            return FlagService::Mutation([key, p](rapidjson::Document& doc) {
              return SetRollout(doc, key, p);
            });
          });
}

void Rollback(ApiContext* api, const Request& req, Response& res,
              const Principal& who) {
  static constexpr const char* kAllowed[] = {"version", nullptr};
  const std::string env = Match(req, 1);
  DoWrite(
      api, req, res, who, env, "rollback", kAllowed,
      [api, env](const rapidjson::Document& body, std::string*,
                 std::string* extra) -> absl::StatusOr<FlagService::Mutation> {
        auto version = tools::GetOptionalUint(body, "version", "body");
        if (!version.ok()) return version.status();
        if (!version->has_value()) {
          return absl::InvalidArgumentError("body.version: required");
        }
        auto row = api->store->GetVersion(env, **version);
        if (!row.ok()) return row.status();
        auto target = std::make_shared<rapidjson::Document>();
        absl::Status st =
            tools::ParseJson(row->document, "stored document", target.get());
        if (!st.ok()) return absl::InternalError(st.message());
        *extra = absl::StrCat("\"rollback_to\":", **version);
        return FlagService::Mutation(
            [target](rapidjson::Document& doc) -> absl::Status {
              doc.CopyFrom(*target, doc.GetAllocator());
              return absl::OkStatus();
            });
      });
}

void History(ApiContext* api, const Request& req, Response& res,
             const Principal& who) {
  auto state = Env(api, who, Match(req, 1));
  if (!state.ok()) return SendStatus(res, state.status());
  auto limit = QueryInt(req, "limit", 50, 1, 1000);
  if (!limit.ok()) return SendStatus(res, limit.status());
  std::uint64_t before = 0;
  if (req.has_param("before")) {
    auto v = ParseVersion(req.get_param_value("before"));
    if (!v.has_value()) {
      return SendStatus(
          res, absl::InvalidArgumentError("before: expected a version number"));
    }
    before = *v;
  }
  auto rows = api->store->ListVersions((*state)->name, before, *limit);
  if (!rows.ok()) return SendStatus(res, rows.status());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("env");
  WriteString(w, (*state)->name);
  w.Key("current_version");
  w.Uint64((*state)->version);
  w.Key("versions");
  w.StartArray();
  for (const VersionRow& r : *rows) {
    w.StartObject();
    w.Key("version");
    w.Uint64(r.version);
    w.Key("time");
    WriteString(w, FormatTime(r.created_at));
    w.Key("actor");
    WriteString(w, r.actor);
    w.Key("reason");
    WriteString(w, r.reason);
    w.Key("action");
    WriteString(w, r.action);
    w.Key("event");
    WriteString(w, r.event);
    w.Key("changed_keys");
    w.RawValue(r.changed_keys.data(), r.changed_keys.size(),
               rapidjson::kArrayType);
    w.Key("sha256");
    WriteString(w, r.sha256);
    w.EndObject();
  }
  w.EndArray();
  if (!rows->empty() && static_cast<int>(rows->size()) == *limit &&
      rows->back().version > 1) {
    w.Key("next_before");
    w.Uint64(rows->back().version);
  }
  w.EndObject();
  SendJson(res, Finish(buffer));
}

void GetVersionHandler(ApiContext* api, const Request& req, Response& res,
                       const Principal& who) {
  auto state = Env(api, who, Match(req, 1));
  if (!state.ok()) return SendStatus(res, state.status());
  auto version = ParseVersion(Match(req, 2));
  if (!version.has_value()) {
    return SendStatus(
        res, absl::InvalidArgumentError("version: expected a version number"));
  }
  auto row = api->store->GetVersion((*state)->name, *version);
  if (!row.ok()) return SendStatus(res, row.status());
  res.set_header("X-Hotfix-Version", absl::StrCat(row->version));
  SendJson(res, std::move(row->document));
}

void Metadata(ApiContext* api, const Request& req, Response& res,
              const Principal& who) {
  auto state = Env(api, who, Match(req, 1));
  if (!state.ok()) return SendStatus(res, state.status());
  if ((*state)->snapshot == nullptr) {
    return SendStatus(
        res, absl::InternalError("the current flag set does not compile"));
  }
  const bool stale_only = req.get_param_value("stale") == "true";
  const std::string tag = req.get_param_value("tag");
  rapidjson::Document doc;
  absl::Status st =
      tools::ParseJson(*(*state)->document, "stored document", &doc);
  if (!st.ok()) return SendStatus(res, absl::InternalError(st.message()));
  const absl::Time now = absl::Now();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("env");
  WriteString(w, (*state)->name);
  w.Key("version");
  w.Uint64((*state)->version);
  w.Key("now");
  WriteString(w, FormatTime(absl::ToUnixMicros(now)));
  w.Key("flags");
  w.StartArray();
  for (const FlagInfo& info : (*state)->snapshot->Flags()) {
    const bool stale = info.expires.has_value() && *info.expires < now;
    if (stale_only && !stale) continue;
    if (!tag.empty() &&
        std::find(info.tags.begin(), info.tags.end(), tag) == info.tags.end()) {
      continue;
    }
    w.StartObject();
    w.Key("key");
    WriteString(w, info.key);
    w.Key("type");
    const std::string_view type = ValueTypeName(info.type);
    WriteString(w, type);
    w.Key("killed");
    w.Bool(info.killed);
    w.Key("variants");
    WriteStringArray(w, info.variants);
    w.Key("fallthrough");
    const rapidjson::Value* flag = tools::FindMember(doc["flags"], info.key);
    WriteString(w, flag != nullptr ? DescribeFallthrough(*flag) : "");
    w.Key("owner");
    WriteString(w, info.owner);
    w.Key("ticket");
    WriteString(w, info.ticket);
    w.Key("description");
    WriteString(w, info.description);
    w.Key("expires");
    if (info.expires.has_value()) {
      WriteString(w, FormatTime(absl::ToUnixMicros(*info.expires)));
    } else {
      w.Null();
    }
    w.Key("stale");
    w.Bool(stale);
    w.Key("tags");
    WriteStringArray(w, info.tags);
    w.Key("rules");
    w.Uint64(info.rule_count);
    w.Key("targets");
    w.Uint64(info.target_count);
    w.Key("prerequisites");
    w.Uint64(info.prerequisite_count);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  SendJson(res, Finish(buffer));
}

void Audit(ApiContext* api, const Request& req, Response& res,
           const Principal& who) {
  std::string env = req.get_param_value("env");
  if (!who.env.empty()) {
    if (!env.empty() && env != who.env) {
      return SendStatus(
          res, absl::PermissionDeniedError(absl::StrCat(
                   "this token cannot use environment \"", env, "\"")));
    }
    env = who.env;
  }
  auto limit = QueryInt(req, "limit", 50, 1, 1000);
  if (!limit.ok()) return SendStatus(res, limit.status());
  std::int64_t before = 0;
  if (req.has_param("before")) {
    auto v = ParseVersion(req.get_param_value("before"));
    if (!v.has_value()) {
      return SendStatus(res, absl::InvalidArgumentError(
                                 "before: expected an audit entry id"));
    }
    before = static_cast<std::int64_t>(*v);
  }
  auto rows = api->store->ListAudit(env, before, *limit);
  if (!rows.ok()) return SendStatus(res, rows.status());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("entries");
  w.StartArray();
  for (const AuditRow& a : *rows) {
    w.StartObject();
    w.Key("id");
    w.Int64(a.id);
    w.Key("time");
    WriteString(w, FormatTime(a.created_at));
    w.Key("actor");
    WriteString(w, a.actor);
    w.Key("action");
    WriteString(w, a.action);
    w.Key("env");
    WriteString(w, a.env);
    w.Key("version");
    if (a.version == 0) {
      w.Null();
    } else {
      w.Uint64(a.version);
    }
    w.Key("reason");
    WriteString(w, a.reason);
    w.Key("detail");
    w.RawValue(a.detail.data(), a.detail.size(), rapidjson::kObjectType);
    w.EndObject();
  }
  w.EndArray();
  if (!rows->empty() && static_cast<int>(rows->size()) == *limit) {
    w.Key("next_before");
    w.Int64(rows->back().id);
  }
  w.EndObject();
  SendJson(res, Finish(buffer));
}

void WriteToken(JsonWriter& w, const TokenRow& t) {
  w.Key("id");
  WriteString(w, t.id);
  w.Key("name");
  WriteString(w, t.name);
  w.Key("scopes");
  WriteString(w, t.scopes);
  w.Key("env");
  WriteString(w, t.env);
  w.Key("created_at");
  WriteString(w, FormatTime(t.created_at));
  w.Key("created_by");
  WriteString(w, t.created_by);
  w.Key("revoked_at");
  if (t.revoked_at == 0) {
    w.Null();
  } else {
    WriteString(w, FormatTime(t.revoked_at));
  }
}

void ListTokens(ApiContext* api, const Request&, Response& res,
                const Principal& who) {
  auto rows = api->store->ListTokens();
  if (!rows.ok()) return SendStatus(res, rows.status());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("tokens");
  w.StartArray();
  for (const TokenRow& t : *rows) {
    if (!who.env.empty() && t.env != who.env) continue;
    w.StartObject();
    WriteToken(w, t);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  SendJson(res, Finish(buffer));
}

void CreateTokenHandler(ApiContext* api, const Request& req, Response& res,
                        const Principal& who) {
  static constexpr const char* kAllowed[] = {"name", "kind", "scopes", "env",
                                             nullptr};
  WriteBody body;
  absl::Status st = ParseWriteBody(req, kAllowed, &body);
  if (!st.ok()) return SendStatus(res, st);
  auto name = tools::GetRequiredString(body.json, "name", "body");
  if (!name.ok()) return SendStatus(res, name.status());
  if (name->empty() || name->size() > 128) {
    return SendStatus(
        res, absl::InvalidArgumentError("body.name: 1-128 characters"));
  }
  auto kind = tools::GetOptionalString(body.json, "kind", "body");
  auto scopes_text = tools::GetOptionalString(body.json, "scopes", "body");
  auto env = tools::GetOptionalString(body.json, "env", "body");
  for (const absl::Status& s :
       {kind.status(), scopes_text.status(), env.status()}) {
    if (!s.ok()) return SendStatus(res, s);
  }
  std::uint32_t scopes = 0;
  if (kind->has_value() && scopes_text->has_value()) {
    return SendStatus(
        res, absl::InvalidArgumentError("body: give kind or scopes, not both"));
  }
  if (scopes_text->has_value()) {
    auto parsed = ParseScopes(**scopes_text, "body.scopes");
    if (!parsed.ok()) return SendStatus(res, parsed.status());
    scopes = *parsed;
  } else {
    const std::string k = kind->value_or("sdk");
    if (k == "sdk") {
      scopes = kScopeSdk;
    } else if (k == "admin") {
      scopes = kAdminScopes;
    } else if (k == "reader") {
      scopes = kScopeRead;
    } else {
      return SendStatus(res, absl::InvalidArgumentError(
                                 "body.kind: expected sdk, admin or reader"));
    }
  }
  std::string token_env = env->value_or("");
  if (!who.env.empty()) {
    if (token_env.empty()) token_env = who.env;
    if (token_env != who.env) {
      return SendStatus(
          res, absl::PermissionDeniedError(absl::StrCat(
                   "this token cannot use environment \"", token_env, "\"")));
    }
  }
  if ((scopes & kScopeSdk) && token_env.empty()) {
    return SendStatus(
        res, absl::InvalidArgumentError("body.env: required for an SDK key"));
  }
  if (!token_env.empty() && api->flags->Get(token_env) == nullptr) {
    return SendStatus(
        res, absl::NotFoundError(absl::StrCat("body.env: environment \"",
                                              token_env, "\" does not exist")));
  }
  // No one hands out more than they have (the read scope covers sdk).
  std::uint32_t grantable = who.scopes;
  if (grantable & kScopeRead) grantable |= kScopeSdk;
  if ((scopes & ~grantable) != 0) {
    return SendStatus(res, absl::PermissionDeniedError(absl::StrCat(
                               "cannot grant scopes this token lacks: ",
                               ScopesToString(scopes & ~grantable))));
  }
  auto created =
      api->auth->CreateToken(*name, scopes, token_env, who, body.reason);
  if (!created.ok()) return SendStatus(res, created.status());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteToken(w, created->row);
  w.Key("token");
  WriteString(w, created->secret);
  w.EndObject();
  SendJson(res, Finish(buffer), 201);
}

void RevokeTokenHandler(ApiContext* api, const Request& req, Response& res,
                        const Principal& who) {
  WriteBody body;
  absl::Status st = ParseWriteBody(req, kNoFields, &body);
  if (!st.ok()) return SendStatus(res, st);
  const std::string id = Match(req, 1);
  if (!who.env.empty()) {
    auto rows = api->store->ListTokens();
    if (!rows.ok()) return SendStatus(res, rows.status());
    for (const TokenRow& t : *rows) {
      if (t.id == id && t.env != who.env) {
        return SendStatus(res, absl::PermissionDeniedError(
                                   "this token cannot manage tokens of other "
                                   "environments"));
      }
    }
  }
  st = api->auth->RevokeToken(id, who, body.reason);
  if (!st.ok()) return SendStatus(res, st);
  SendJson(res, absl::StrCat("{\"id\":", tools::JsonQuote(id),
                             ",\"revoked\":true}"));
}

// Binds a handler taking ApiContext* first.
template <typename F>
AuthedHandler Bind(ApiContext* api, F f) {
  return [api, f](const Request& req, Response& res, const Principal& who) {
    f(api, req, res, who);
  };
}

}  // namespace

void RegisterAdminApi(httplib::Server& s, ApiContext* api) {
  constexpr std::uint32_t kAny =
      kScopeSdk | kScopeRead | kScopeWrite | kScopeTokens;
  constexpr const char* kEnv = R"(/v1/admin/envs/([A-Za-z0-9._-]+))";
  constexpr const char* kKey = R"(([A-Za-z0-9._-]+))";
  const std::string env = kEnv;
  const std::string flag = env + "/flags/" + kKey;
  const std::string tag = env + "/tags/" + kKey;

  s.Get("/v1/admin/whoami",
        Route(api, "/v1/admin/whoami", kAny, true, Bind(api, WhoAmI)));
  s.Get("/v1/admin/envs",
        Route(api, "/v1/admin/envs", kScopeRead, false, Bind(api, ListEnvs)));
  s.Post("/v1/admin/envs", Route(api, "/v1/admin/envs", kScopeWrite, false,
                                 Bind(api, CreateEnv)));
  s.Get(env + "/flags", Route(api, "/v1/admin/envs/{env}/flags", kScopeRead,
                              false, Bind(api, GetSet)));
  s.Put(env + "/flags", Route(api, "/v1/admin/envs/{env}/flags", kScopeWrite,
                              false, Bind(api, PutSet)));
  s.Get(flag, Route(api, "/v1/admin/envs/{env}/flags/{key}", kScopeRead, false,
                    Bind(api, GetFlag)));
  s.Put(flag,
        Route(api, "/v1/admin/envs/{env}/flags/{key}", kScopeWrite, false,
              [api](const Request& req, Response& res, const Principal& who) {
                PutFlagHandler(api, req, res, who, false);
              }));
  s.Post(flag,
         Route(api, "/v1/admin/envs/{env}/flags/{key}", kScopeWrite, false,
               [api](const Request& req, Response& res, const Principal& who) {
                 PutFlagHandler(api, req, res, who, true);
               }));
  s.Delete(flag, Route(api, "/v1/admin/envs/{env}/flags/{key}", kScopeWrite,
                       false, Bind(api, DeleteFlagHandler)));
  s.Post(flag + "/kill",
         Route(api, "/v1/admin/envs/{env}/flags/{key}/kill", kScopeWrite, false,
               [api](const Request& req, Response& res, const Principal& who) {
                 KillFlag(api, req, res, who, true);
               }));
  s.Post(
      flag + "/revive",
      Route(api, "/v1/admin/envs/{env}/flags/{key}/revive", kScopeWrite, false,
            [api](const Request& req, Response& res, const Principal& who) {
              KillFlag(api, req, res, who, false);
            }));
  s.Post(flag + "/rollout",
         Route(api, "/v1/admin/envs/{env}/flags/{key}/rollout", kScopeWrite,
               false, Bind(api, Rollout)));
  s.Post(tag + "/kill",
         Route(api, "/v1/admin/envs/{env}/tags/{tag}/kill", kScopeWrite, false,
               [api](const Request& req, Response& res, const Principal& who) {
                 KillTag(api, req, res, who, true);
               }));
  s.Post(
      tag + "/revive",
      Route(api, "/v1/admin/envs/{env}/tags/{tag}/revive", kScopeWrite, false,
            [api](const Request& req, Response& res, const Principal& who) {
              KillTag(api, req, res, who, false);
            }));
  s.Get(env + "/metadata", Route(api, "/v1/admin/envs/{env}/metadata",
                                 kScopeRead, false, Bind(api, Metadata)));
  s.Get(env + "/history", Route(api, "/v1/admin/envs/{env}/history", kScopeRead,
                                false, Bind(api, History)));
  s.Get(env + R"(/versions/([0-9]+))",
        Route(api, "/v1/admin/envs/{env}/versions/{version}", kScopeRead, false,
              Bind(api, GetVersionHandler)));
  s.Post(env + "/rollback", Route(api, "/v1/admin/envs/{env}/rollback",
                                  kScopeWrite, false, Bind(api, Rollback)));
  s.Get("/v1/admin/audit",
        Route(api, "/v1/admin/audit", kScopeRead, false, Bind(api, Audit)));
  s.Get("/v1/admin/tokens", Route(api, "/v1/admin/tokens", kScopeTokens, false,
                                  Bind(api, ListTokens)));
  s.Post("/v1/admin/tokens", Route(api, "/v1/admin/tokens", kScopeTokens, false,
                                   Bind(api, CreateTokenHandler)));
  s.Delete(R"(/v1/admin/tokens/([A-Za-z0-9_-]+))",
           Route(api, "/v1/admin/tokens/{id}", kScopeTokens, false,
                 Bind(api, RevokeTokenHandler)));
}

}  // namespace hotfixd
}  // namespace hotfix
