// tools/hotfixd/core/flag_service.cc

#include "core/flag_service.h"
#include "common/server_log.h"

#include <algorithm>
#include <chrono>
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
#include "store/epoch.h"
#include "util/keys.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {
namespace {

// `s` with another protection flag: the same version, document and snapshot
// (the lazily built gzip body and variant index are rebuilt on first use).
std::shared_ptr<const EnvironmentState> WithProtection(
    const EnvironmentState& s, bool protected_env) {
  auto state = std::make_shared<EnvironmentState>();
  state->name = s.name;
  state->version = s.version;
  state->wire_version = s.wire_version;
  state->document = s.document;
  state->etag = s.etag;
  state->snapshot = s.snapshot;
  state->created_at = s.created_at;
  state->updated_at = s.updated_at;
  state->protected_env = protected_env;
  return state;
}

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
  return variants_.contains(absl::StrCat(
      internal::ToAbsl(flag), std::string(1, '\0'), internal::ToAbsl(variant)));
}

FlagService::FlagService(Store* store, SseHub* hub, Metrics* metrics,
                         std::size_t resume_history)
    : store_(store),
      hub_(hub),
      metrics_(metrics),
      resume_history_(resume_history),
      epoch_(store->Epoch()) {}

absl::StatusOr<std::shared_ptr<EnvironmentState>> FlagService::MakeState(
    const std::string& env, std::uint64_t version, std::string document,
    std::int64_t created_at, std::int64_t updated_at, bool must_compile,
    bool protected_env) {
  auto state = std::make_shared<EnvironmentState>();
  state->name = env;
  state->protected_env = protected_env;
  state->version = version;
  state->wire_version = WireVersion(epoch_, version);
  state->etag = absl::StrCat("\"", env, "-", state->wire_version, "\"");
  state->created_at = created_at;
  state->updated_at = updated_at;
  if (epoch_ != 0) {
    // SDKs are served the wire version (store/epoch.h).
    rapidjson::Document doc;
    if (tools::ParseJson(document, "stored document", &doc).ok() &&
        doc.IsObject()) {
      SetVersion(doc, state->wire_version);
      document = tools::ToJson(doc);
    }
  }
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

absl::StatusOr<std::vector<StreamChange>> FlagService::RecentChanges(
    const std::string& env, std::uint64_t after, std::uint64_t version) {
  std::vector<StreamChange> history;
  if (resume_history_ == 0 || version <= after) return history;
  const std::uint64_t from = std::max<std::uint64_t>(
      after, version > resume_history_ ? version - resume_history_ : 0);
  HOTFIX_ASSIGN_OR_RETURN(
      std::vector<VersionRow> versions,
      store_->ListVersionsAfter(env, from, static_cast<int>(version - from)));
  for (const VersionRow& v : versions) {
    if (v.version > version) break;
    StreamChange change;
    change.version = WireVersion(epoch_, v.version);
    if (v.event == "patch" && !v.patch_key.empty()) {
      change.patch_event =
          MakePatchEvent(change.version, v.patch_key, v.patch_flag);
    }
    history.push_back(std::move(change));
  }
  return history;
}

absl::Status FlagService::Load() {
  auto envs = store_->ListEnvironments();
  if (!envs.ok()) return envs.status();
  absl::MutexLock write_lock(&write_mu_);
  for (const EnvironmentRow& env : *envs) {
    auto row = store_->GetVersion(env.name, env.version);
    if (!row.ok()) return row.status();
    auto state = MakeState(env.name, env.version, std::move(row->document),
                           env.created_at, env.updated_at,
                           /*must_compile=*/false, env.protected_env);
    if (!state.ok()) return state.status();
    HOTFIX_ASSIGN_OR_RETURN(std::vector<StreamChange> history,
                            RecentChanges(env.name, 0, env.version));
    hub_->AddEnvironment(env.name, (*state)->wire_version, (*state)->document,
                         std::move(history));
    Install(std::move(*state));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> FlagService::CatchUp(const std::string& env) {
  absl::MutexLock write_lock(&write_mu_);
  return CatchUpLocked(env);
}

absl::StatusOr<int> FlagService::CatchUpAll() {
  HOTFIX_ASSIGN_OR_RETURN(std::vector<EnvironmentRow> envs,
                          store_->ListEnvironments());
  int fresh = 0;
  for (const EnvironmentRow& env : envs) {
    HOTFIX_ASSIGN_OR_RETURN(int n, CatchUp(env.name));
    fresh += n;
  }
  return fresh;
}

absl::StatusOr<int> FlagService::CatchUpLocked(const std::string& env) {
  HOTFIX_ASSIGN_OR_RETURN(EnvironmentRow row, store_->GetEnvironment(env));
  std::shared_ptr<const EnvironmentState> current = Get(env);
  if (current != nullptr && row.version == current->version) {
    if (row.protected_env != current->protected_env) {
      Install(WithProtection(*current, row.protected_env));
    }
    return 0;
  }
  if (current != nullptr && row.version < current->version) {
    // The table is the truth, but versions never go back while serving: a
    // database restored under running replicas needs them restarted (and a
    // new epoch, docs/operations.md).
    tools::LogError(absl::StrCat(
        "environment \"", env, "\" is at version ", row.version,
        " in the database but ", current->version,
        " here; was the database restored under a running hotfixd? Restart "
        "every replica (after `hotfixd new-epoch`)"));
    return 0;
  }
  HOTFIX_ASSIGN_OR_RETURN(VersionRow latest,
                          store_->GetVersion(env, row.version));
  HOTFIX_ASSIGN_OR_RETURN(
      std::shared_ptr<EnvironmentState> state,
      MakeState(env, row.version, std::move(latest.document), row.created_at,
                row.updated_at, /*must_compile=*/false, row.protected_env));
  const std::uint64_t from = current != nullptr ? current->version : 0;
  HOTFIX_ASSIGN_OR_RETURN(std::vector<StreamChange> changes,
                          RecentChanges(env, from, row.version));
  if (current == nullptr) {
    hub_->AddEnvironment(env, state->wire_version, state->document,
                         std::move(changes));
  } else {
    if (changes.empty() || changes.back().version != state->wire_version) {
      // No history kept: subscribers get a put.
      changes.clear();
      StreamChange marker;
      marker.version = state->wire_version;
      changes.push_back(std::move(marker));
    }
    hub_->PublishChanges(env, state->document, std::move(changes));
  }
  Install(state);
  const int fresh = static_cast<int>(row.version - from);
  metrics_->CountReplicatedVersions(env, fresh);
  tools::LogInfo(absl::StrCat(
      env, " v", row.version, " from another replica",
      fresh > 1 ? absl::StrCat(" (", fresh, " versions)") : std::string()));
  return fresh;
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
    const auto it =
        std::find(diff.changed_keys.begin(), diff.changed_keys.end(), info.key);
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
  const auto give_up = std::chrono::steady_clock::now() + kWriteRetryBudget;
  for (int attempt = 1;; ++attempt) {
    bool lost_race = false;
    absl::StatusOr<WriteResult> result =
        WriteOnce(request, mutation, &lost_race);
    if (!lost_race) return result;
    // Another replica committed first: take its versions, then decide.
    absl::StatusOr<int> caught = CatchUpLocked(request.env);
    if (!caught.ok()) return caught.status();
    std::shared_ptr<const EnvironmentState> now = Get(request.env);
    const std::uint64_t current = now != nullptr ? now->version : 0;
    if (request.if_match.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "If-Match: version ", *request.if_match,
          " is not the current version of \"", request.env, "\" (", current,
          ": another replica changed it first); re-read and retry"));
    }
    if (std::chrono::steady_clock::now() >= give_up) {
      return absl::AbortedError(absl::StrCat(
          "environment \"", request.env, "\" changed ", attempt,
          " times while this change was being applied (other replicas are "
          "writing); retry"));
    }
  }
}

absl::StatusOr<WriteResult> FlagService::WriteOnce(const WriteRequest& request,
                                                   const Mutation& mutation,
                                                   bool* lost_race) {
  std::shared_ptr<const EnvironmentState> current = Get(request.env);
  if (current == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("environment \"", request.env, "\" does not exist"));
  }
  if (request.if_match.has_value() && *request.if_match > current->version) {
    // The operator read a version another replica committed and this one
    // has not heard of yet.
    HOTFIX_RETURN_IF_ERROR(CatchUpLocked(request.env).status());
    current = Get(request.env);
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
  change.version = state->wire_version;
  if (diff.is_single_flag()) {
    row.patch_key = diff.changed_keys[0];
    const rapidjson::Value* flag =
        tools::FindMember(doc["flags"], row.patch_key);
    if (flag != nullptr) row.patch_flag = tools::ToJson(*flag);
    change.patch_event =
        MakePatchEvent(change.version, row.patch_key, row.patch_flag);
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
  if (absl::IsFailedPrecondition(st)) {
    *lost_race = true;
    return st;
  }
  if (!st.ok()) return st;
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
  Install(WithProtection(*current, protected_env));
  tools::LogInfo(
      absl::StrCat(env, " ", audit.action, " by ", actor, ": ", reason));
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
  if (absl::IsAlreadyExists(st)) {
    // Another replica created it first: serve theirs.
    CatchUpLocked(name).IgnoreError();
    return st;
  }
  if (!st.ok()) return st;
  hub_->AddEnvironment(name, (*state)->wire_version, (*state)->document, {});
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
