// tools/hotfixd/core/flag_service.cc

#include "core/flag_service.h"
#include "common/server_log.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/json_util.h"
#include "common/text.h"
#include "core/documents.h"
#include "util/keys.h"

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

SharedText Gzip(const std::string& data) {
  z_stream zs{};
  // 15 + 16: a gzip header and trailer; level 6, zlib's default.
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return nullptr;
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return nullptr;
  out.resize(produced);
  return std::make_shared<const std::string>(std::move(out));
}

}  // namespace

SharedText EnvironmentState::GzipDocument() const {
  absl::call_once(gzip_once_, [this] { gzip_ = Gzip(*document); });
  return gzip_;
}

FlagService::FlagService(Store* store, SseHub* hub, Metrics* metrics,
                         std::size_t resume_history)
    : store_(store),
      hub_(hub),
      metrics_(metrics),
      resume_history_(resume_history) {}

absl::StatusOr<std::shared_ptr<EnvironmentState>> FlagService::MakeState(
    const std::string& env, std::uint64_t version, std::string document,
    std::int64_t created_at, std::int64_t updated_at, bool must_compile) {
  auto state = std::make_shared<EnvironmentState>();
  state->name = env;
  state->version = version;
  state->etag = absl::StrCat("\"", env, "-", version, "\"");
  state->created_at = created_at;
  state->updated_at = updated_at;
  auto compiled = Compile(document);
  if (compiled.ok()) {
    state->snapshot = std::shared_ptr<const Snapshot>(std::move(*compiled));
  } else if (must_compile) {
    return compiled.status();
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
                           /*must_compile=*/false);
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
  st = mutation(doc);
  if (!st.ok()) return st;
  st = CheckShape(doc, "document");
  if (!st.ok()) return st;
  const std::uint64_t version = current->version + 1;
  SetVersion(doc, version);
  std::string json = tools::ToJson(doc);

  WriteResult result;
  result.env = request.env;
  // Validate with the SDK's compiler before anything else sees it.
  auto state = MakeState(request.env, version, json, current->created_at,
                         NowMicros(), /*must_compile=*/true);
  if (!state.ok()) return state.status();

  const DocumentDiff diff = DiffDocuments(before, doc);
  if (diff.empty()) {
    result.version = current->version;
    result.etag = current->etag;
    return result;
  }
  result.version = version;
  result.changed = true;
  result.changed_keys = diff.changed_keys;
  result.etag = (*state)->etag;

  VersionRow row;
  row.env = request.env;
  row.version = version;
  row.document = std::move(json);
  row.actor = request.actor->name;
  row.reason = request.reason;
  row.created_at = (*state)->updated_at;
  row.action = request.action;
  row.changed_keys = KeysJson(diff.changed_keys);
  StreamChange change;
  change.version = version;
  if (diff.is_single_flag()) {
    row.event = "patch";
    row.patch_key = diff.changed_keys[0];
    const rapidjson::Value* flag =
        tools::FindMember(doc["flags"], row.patch_key);
    if (flag != nullptr) row.patch_flag = tools::ToJson(*flag);
    change.patch_event = MakePatchEvent(version, row.patch_key, row.patch_flag);
  } else {
    row.event = "put";
  }
  result.event = row.event;

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
      diff.segments_changed ? ",\"segments_changed\":true" : "",
      request.audit_extra.empty() ? "" : ",", request.audit_extra, "}");

  st = store_->CommitVersion(row, audit);
  if (!st.ok()) {
    if (absl::IsFailedPrecondition(st))
      return absl::InternalError(st.message());
    return st;
  }
  // Durable: publish.
  hub_->Publish(request.env, (*state)->document, std::move(change));
  Install(*state);
  metrics_->CountFlagChange(request.env, request.action);
  tools::LogInfo(absl::StrCat(request.env, " v", version, " ", request.action,
                              " by ", row.actor, " (", row.event,
                              "): ", request.reason, " [",
                              absl::StrJoin(diff.changed_keys, ","), "]"));
  return result;
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
  auto state = MakeState(name, 1, json, now, now, /*must_compile=*/true);
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
