// tools/hotfixd/core/flag_service.cc

#include "core/flag_service.h"
#include "common/server_log.h"


#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/json_util.h"
#include "common/text.h"
#include "core/documents.h"
#include "core/gzip.h"
#include "util/status_macros.h"
#include "util/keys.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {
namespace {

std::string KeysJson(const std::vector<std::string>& keys) {
  rapidjson::StringBuffer buffer;
  tools::JsonWriter w(buffer);
  w.StartArray();
  for (const std::string& k : keys) tools::WriteString(w, k);
  w.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

SharedText EnvironmentState::GzipDocument() const {
  absl::call_once(gzip_once_, [this] {
    if (std::optional<std::string> gz = Gzip(*document)) {
      gzip_ = std::make_shared<const std::string>(std::move(*gz));
    }
  });
  return gzip_;
}

bool EnvironmentState::HasVariant(std::string_view flag,
                                  std::string_view variant) const {
  absl::call_once(variants_once_, [this] {
    if (snapshot == nullptr) return;
    for (const FlagInfo& info : snapshot->Flags()) {
      for (const std::string& v : info.variants) {
        variants_.insert(absl::StrCat(info.key, std::string(1, '\0'), v));
      }
    }
  });
  return variants_.contains(absl::StrCat(internal::ToAbsl(flag),
                                         std::string(1, '\0'),
                                         internal::ToAbsl(variant)));
}

FlagService::FlagService(Store* store, SseHub* hub, Metrics* metrics,
                         std::size_t resume_history)
    : store_(store),
      hub_(hub),
      metrics_(metrics),
      resume_history_(resume_history) {}

absl::StatusOr<std::shared_ptr<EnvironmentState>> FlagService::MakeState(
    const std::string& env, std::uint64_t version, std::string document,
    std::int64_t created_at, std::int64_t updated_at, bool must_compile,
    bool protected_env) {
  auto state = std::make_shared<EnvironmentState>();
  state->name = env;
  state->protected_env = protected_env;
  state->version = version;
  state->etag = absl::StrCat("\"", env, "-", version, "\"");
  state->created_at = created_at;
  state->updated_at = updated_at;
  auto compiled = Compile(document);
  if (compiled.ok()) {
    state->snapshot = std::shared_ptr<const Snapshot>(std::move(*compiled));
  } else if (must_compile) {
    // Compile() stops at the first error; the reply lists every independent
    // one (the first is the message).
    const CompileErrors errors = ListCompileErrors(document);
    if (errors.messages.empty()) return compiled.status();
    return tools::WithErrorList(compiled.status(), errors.messages,
                                errors.total);
  } else {
    tools::LogWarning(absl::StrCat(
        "environment \"", env, "\" version ", version, " no longer compiles (",
        compiled.status().message(), "); serving it unchanged"));
  }
  state->document = std::make_shared<const std::string>(std::move(document));
  return state;
}

void FlagService::Install(std::shared_ptr<const EnvironmentState> state) {
  absl::MutexLock lock(&mu_);
  states_[state->name] = std::move(state);
}

absl::Status FlagService::Load() {
  auto envs = store_->ListEnvironments();
  if (!envs.ok()) return envs.status();
  for (const EnvironmentRow& env : *envs) {
    auto row = store_->GetVersion(env.name, env.version);
    if (!row.ok()) return row.status();
    auto state = MakeState(env.name, env.version, std::move(row->document),
                           env.created_at, env.updated_at,
                           /*must_compile=*/false, env.protected_env);
    if (!state.ok()) return state.status();
    std::vector<StreamChange> history;
    if (resume_history_ > 0) {
      auto versions =
          store_->ListVersions(env.name, 0, static_cast<int>(resume_history_));
      if (!versions.ok()) return versions.status();
      for (auto it = versions->rbegin(); it != versions->rend(); ++it) {
        StreamChange change;
        change.version = it->version;
        if (it->event == "patch" && !it->patch_key.empty()) {
          change.patch_event =
              MakePatchEvent(it->version, it->patch_key, it->patch_flag);
        }
        history.push_back(std::move(change));
      }
    }
    hub_->AddEnvironment(env.name, env.version, (*state)->document,
                         std::move(history));
    Install(std::move(*state));
  }
  return absl::OkStatus();
}

std::shared_ptr<const EnvironmentState> FlagService::Get(
    const std::string& env) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = states_.find(env);
  return it == states_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const EnvironmentState>> FlagService::List() const {
  std::vector<std::shared_ptr<const EnvironmentState>> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, state] : states_) out.push_back(state);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->name < b->name; });
  return out;
}

namespace {

// What was accepted but is probably not what was meant: a changed flag that
// is already past its `expires`, or a percentage rollout on a kill switch.
std::vector<std::string> Warnings(const DocumentDiff& diff,
                                  const Snapshot& snapshot) {
  std::vector<std::string> warnings;
  const absl::Time now = absl::Now();
  for (const FlagInfo& info : snapshot.Flags()) {
    const auto it = std::find(diff.changed_keys.begin(),
                              diff.changed_keys.end(), info.key);
    if (it == diff.changed_keys.end()) continue;
    if (info.expires.has_value() && *info.expires < now) {
      warnings.push_back(absl::StrCat(
          "flags.", info.key, ".expires: ",
          absl::FormatTime("%Y-%m-%d", *info.expires, absl::UTCTimeZone()),
          " is in the past; `hotfixctl stale` lists the flag at once"));
    }
    const bool kill_switch = std::find(info.tags.begin(), info.tags.end(),
                                       "kill-switch") != info.tags.end();
    if (!kill_switch) continue;
    for (const FlagChange& change : diff.flags) {
      if (change.key != info.key) continue;
      for (const FieldChange& f : change.fields) {
        if (f.path.find("rollout") != std::string::npos) {
          warnings.push_back(absl::StrCat(
              "flags.", info.key,
              ": a percentage rollout on a flag tagged kill-switch leaves it "
              "partly off"));
          break;
        }
      }
    }
  }
  return warnings;
}

}  // namespace

absl::StatusOr<WriteResult> FlagService::Write(const WriteRequest& request,
                                               const Mutation& mutation) {
  absl::MutexLock write_lock(&write_mu_);
  std::shared_ptr<const EnvironmentState> current = Get(request.env);
  if (current == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("environment \"", request.env, "\" does not exist"));
  }
  if (request.if_match.has_value() && *request.if_match != current->version) {
    return absl::FailedPreconditionError(
        absl::StrCat("If-Match: version ", *request.if_match,
                     " is not the current version of \"", request.env, "\" (",
                     current->version, "); re-read and retry"));
  }
  rapidjson::Document before;
  absl::Status st =
      tools::ParseJson(*current->document, "stored document", &before);
  if (!st.ok()) return absl::InternalError(st.message());
  rapidjson::Document doc;
  doc.CopyFrom(before, doc.GetAllocator());
  HOTFIX_RETURN_IF_ERROR(mutation(doc));
  HOTFIX_RETURN_IF_ERROR(CheckShape(doc, "document"));
  const std::uint64_t version = current->version + 1;
  SetVersion(doc, version);
  std::string json = tools::ToJson(doc);

  WriteResult result;
  result.env = request.env;
  result.dry_run = request.dry_run;
  // Validate with the SDK's compiler before anything else sees it.
  HOTFIX_ASSIGN_OR_RETURN(
      std::shared_ptr<EnvironmentState> state,
      MakeState(request.env, version, json, current->created_at, NowMicros(),
                /*must_compile=*/true, current->protected_env));

  result.diff = DiffDocuments(before, doc);
  const DocumentDiff& diff = result.diff;
  if (diff.empty()) {
    result.version = current->version;
    result.etag = current->etag;
    return result;
  }
  result.version = version;
  result.changed = true;
  result.changed_keys = diff.changed_keys;
  result.etag = state->etag;
  result.summary = SummarizeDiff(diff, before, doc);
  result.warnings = Warnings(diff, *state->snapshot);
  result.event = diff.is_single_flag() ? "patch" : "put";
  if (request.dry_run) return result;

  VersionRow row;
  row.env = request.env;
  row.version = version;
  row.document = std::move(json);
  row.actor = request.actor->name;
  row.reason = request.reason;
  row.created_at = state->updated_at;
  row.action = request.action;
  row.changed_keys = KeysJson(diff.changed_keys);
  row.restored_version = request.restored_version;
  row.event = result.event;
  StreamChange change;
  change.version = version;
  if (diff.is_single_flag()) {
    row.patch_key = diff.changed_keys[0];
    const rapidjson::Value* flag =
        tools::FindMember(doc["flags"], row.patch_key);
    if (flag != nullptr) row.patch_flag = tools::ToJson(*flag);
    change.patch_event = MakePatchEvent(version, row.patch_key, row.patch_flag);
  }

  AuditRow audit;
  audit.created_at = row.created_at;
  audit.actor = row.actor;
  audit.action = request.action;
  audit.env = request.env;
  audit.version = version;
  audit.reason = request.reason;
  audit.detail = absl::StrCat(
      "{\"from_version\":", current->version, ",\"to_version\":", version,
      ",\"event\":\"", row.event, "\",\"changed_keys\":", row.changed_keys,
      ",\"summary\":", KeysJson(result.summary),
      diff.segments_changed() ? ",\"segments_changed\":true" : "",
      request.audit_extra.empty() ? "" : ",", request.audit_extra, "}");

  st = store_->CommitVersion(row, audit);
  if (!st.ok()) {
    if (absl::IsFailedPrecondition(st))
      return absl::InternalError(st.message());
    return st;
  }
  // Durable: publish.
  hub_->Publish(request.env, state->document, std::move(change));
  Install(state);
  metrics_->CountFlagChange(request.env, request.action);
  tools::LogInfo(absl::StrCat(request.env, " v", version, " ", request.action,
                              " by ", row.actor, " (", row.event,
                              "): ", request.reason, " [",
                              absl::StrJoin(diff.changed_keys, ","), "]"));
  if (observer_) {
    ChangeNotice notice;
    notice.env = request.env;
    notice.version = version;
    notice.actor = row.actor;
    notice.action = request.action;
    notice.reason = request.reason;
    notice.time = row.created_at;
    notice.changed_keys = diff.changed_keys;
    notice.summary = result.summary;
    observer_(notice);
  }
  return result;
}

absl::Status FlagService::SetProtected(const std::string& env,
                                       bool protected_env,
                                       const std::string& actor,
                                       const std::string& reason,
                                       const std::string& audit_extra) {
  absl::MutexLock write_lock(&write_mu_);
  std::shared_ptr<const EnvironmentState> current = Get(env);
  if (current == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("environment \"", env, "\" does not exist"));
  }
  if (current->protected_env == protected_env) return absl::OkStatus();
  AuditRow audit;
  audit.created_at = NowMicros();
  audit.actor = actor;
  audit.action = protected_env ? "env.protect" : "env.unprotect";
  audit.env = env;
  audit.reason = reason;
  audit.detail =
      absl::StrCat("{\"protected\":", protected_env ? "true" : "false",
                   audit_extra.empty() ? "" : ",", audit_extra, "}");
  HOTFIX_RETURN_IF_ERROR(store_->SetProtected(env, protected_env, audit));
  auto state = std::make_shared<EnvironmentState>();
  state->name = current->name;
  state->version = current->version;
  state->document = current->document;
  state->etag = current->etag;
  state->snapshot = current->snapshot;
  state->created_at = current->created_at;
  state->updated_at = current->updated_at;
  state->protected_env = protected_env;
  Install(std::move(state));
  tools::LogInfo(absl::StrCat(env, " ", audit.action, " by ", actor, ": ",
                              reason));
  return absl::OkStatus();
}

absl::StatusOr<WriteResult> FlagService::CreateEnvironment(
    const std::string& name, const std::string& document_json,
    const std::string& actor, const std::string& reason,
    const std::string& audit_extra) {
  if (!internal::IsValidKey(name) || name.size() > 64) {
    return absl::InvalidArgumentError(
        "name: an environment name is 1-64 characters of [A-Za-z0-9._-], not "
        "\".\" or \"..\"");
  }
  absl::MutexLock write_lock(&write_mu_);
  if (Get(name) != nullptr) {
    return absl::AlreadyExistsError(
        absl::StrCat("environment \"", name, "\" already exists"));
  }
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(document_json, "document", &doc);
  if (!st.ok()) return st;
  st = CheckShape(doc, "document");
  if (!st.ok()) return st;
  SetVersion(doc, 1);
  std::string json = tools::ToJson(doc);
  const std::int64_t now = NowMicros();
  auto state = MakeState(name, 1, json, now, now, /*must_compile=*/true,
                         /*protected_env=*/false);
  if (!state.ok()) return state.status();

  std::vector<std::string> keys;
  const rapidjson::Value& flags = doc["flags"];
  for (auto m = flags.MemberBegin(); m != flags.MemberEnd(); ++m) {
    keys.emplace_back(m->name.GetString(), m->name.GetStringLength());
  }
  std::sort(keys.begin(), keys.end());
  VersionRow row;
  row.env = name;
  row.version = 1;
  row.document = std::move(json);
  row.actor = actor;
  row.reason = reason;
  row.created_at = now;
  row.action = "env.create";
  row.event = "put";
  row.changed_keys = KeysJson(keys);
  AuditRow audit;
  audit.created_at = now;
  audit.actor = actor;
  audit.action = "env.create";
  audit.env = name;
  audit.version = 1;
  audit.reason = reason;
  audit.detail =
      absl::StrCat("{\"to_version\":1,\"changed_keys\":", row.changed_keys,
                   audit_extra.empty() ? "" : ",", audit_extra, "}");
  st = store_->CreateEnvironment(row, audit);
  if (!st.ok()) return st;
  hub_->AddEnvironment(name, 1, (*state)->document, {});
  Install(*state);
  metrics_->CountFlagChange(name, "env.create");
  tools::LogInfo(absl::StrCat(name, " v1 env.create by ", actor, ": ", reason));
  WriteResult result;
  result.env = name;
  result.version = 1;
  result.changed = true;
  result.event = "put";
  result.changed_keys = std::move(keys);
  result.etag = (*state)->etag;
  return result;
}

}  // namespace hotfixd
}  // namespace hotfix
