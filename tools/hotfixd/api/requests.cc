// tools/hotfixd/api/requests.cc

#include "api/requests.h"

#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/handlers.h"
#include "api/write.h"
#include "common/json_util.h"
#include "common/server_log.h"
#include "common/text.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// Approvals are decided one at a time: a request is applied at most once.
std::mutex& ApprovalMutex() {
  static std::mutex* const mu = new std::mutex;  // never destroyed
  return *mu;
}

// What is stored to replay the request on approval: method, path, query
// (without dry_run), body and the reason header.
std::string SerializeRequest(const HttpRequest& request) {
  tools::JsonOut out;
  out.Begin().Str("method", request.method).Str("path", request.path);
  out.BeginArray("query");
  for (const auto& [k, v] : request.query) {
    if (k == "dry_run") continue;
    out.BeginArray().Str(k).Str(v).EndArray();
  }
  out.EndArray().Str("body", request.body);
  if (const std::string* reason = request.FindHeader("x-hotfix-reason")) {
    out.Str("reason_header", *reason);
  }
  out.End();
  return out.Take();
}

absl::StatusOr<HttpRequest> DeserializeRequest(const std::string& json,
                                               bool dry_run) {
  rapidjson::Document doc;
  HOTFIX_RETURN_IF_ERROR(tools::ParseJson(json, "stored request", &doc));
  HttpRequest r;
  r.method = doc["method"].GetString();
  r.path = doc["path"].GetString();
  for (const auto& q : doc["query"].GetArray()) {
    r.query.emplace_back(q[0].GetString(), q[1].GetString());
  }
  if (dry_run) r.query.emplace_back("dry_run", "true");
  r.body = std::string(doc["body"].GetString(), doc["body"].GetStringLength());
  if (const rapidjson::Value* reason =
          tools::FindMember(doc, "reason_header")) {
    r.headers.emplace_back("x-hotfix-reason", reason->GetString());
  }
  return r;
}

// The "diff" member of a write answer, normalized for comparison.
std::string DiffOf(const std::string& answer) {
  rapidjson::Document doc;
  if (!tools::ParseJson(answer, "answer", &doc).ok() || !doc.IsObject()) {
    return "";
  }
  const rapidjson::Value* diff = tools::FindMember(doc, "diff");
  return diff != nullptr ? tools::ToJson(*diff) : "";
}

std::string StateOf(const ChangeRequestRow& r) {
  if (r.state == "proposed" && absl::ToUnixMicros(absl::Now()) > r.expires_at) {
    return "expired";
  }
  return r.state;
}

void WriteRequestJson(tools::JsonOut& out, const ChangeRequestRow& r) {
  out.I64("id", r.id)
      .Str("env", r.env)
      .Str("state", StateOf(r))
      .Str("action", r.action)
      .Str("proposer", r.proposer)
      .Str("reason", r.reason)
      .U64("base_version", r.base_version)
      .Str("created_at", tools::FormatTime(r.created_at))
      .Str("expires_at", tools::FormatTime(r.expires_at))
      .StrOrNull("decided_by", r.decided_by)
      .Raw("decided_at",
           r.decided_at == 0
               ? "null"
               : tools::JsonQuote(tools::FormatTime(r.decided_at)))
      .StrOrNull("comment", r.comment)
      .U64OrNull("applied_version", r.applied_version)
      .Raw("diff", r.diff);
}

absl::StatusOr<std::int64_t> RequestId(const Call& call) {
  const std::optional<std::uint64_t> id = ParseVersion(call.Param("id"));
  if (!id.has_value() || *id == 0 ||
      *id > static_cast<std::uint64_t>(
                std::numeric_limits<std::int64_t>::max())) {
    return absl::InvalidArgumentError("id: expected a change request number");
  }
  return static_cast<std::int64_t>(*id);
}

// Decides request `row` (now in state `state`) with the audit entry, and
// announces it.
absl::Status Decide(ApiContext& api, ChangeRequestRow row, std::string state,
                    const std::string& decider, const std::string& comment,
                    std::uint64_t applied) {
  row.state = std::move(state);
  row.decided_by = decider;
  row.decided_at = NowMicros();
  row.comment = comment;
  row.applied_version = applied;
  AuditRow audit;
  audit.created_at = row.decided_at;
  audit.actor = row.decided_by;
  audit.action = absl::StrCat("change.", row.state == "applied"   ? "approve"
                                         : row.state == "expired" ? "expire"
                                                                  : "reject");
  audit.env = row.env;
  audit.version = applied;
  audit.reason = comment;
  audit.detail = absl::StrCat(
      "{\"request\":", row.id, ",\"proposer\":", tools::JsonQuote(row.proposer),
      ",\"proposed_action\":", tools::JsonQuote(row.action), "}");
  HOTFIX_RETURN_IF_ERROR(api.store->DecideChangeRequest(row, audit));
  tools::JsonOut data;
  data.Begin();
  WriteRequestJson(data, row);
  data.End();
  Announce(api, row.env, absl::StrCat("change_request.", row.state),
           data.Take());
  return absl::OkStatus();
}

Reply RequestReply(const ChangeRequestRow& row, int status) {
  tools::JsonOut out;
  out.Begin();
  WriteRequestJson(out, row);
  out.End();
  return Reply::Json(out.Take(), status);
}

}  // namespace

namespace {

// Stores the change request for the current request.
absl::StatusOr<Reply> Submit(const Call& call, const EnvironmentState& env,
                             const std::string& action,
                             const std::string& reason,
                             const DocumentDiff& diff,
                             const std::vector<std::string>& changed_keys,
                             const std::vector<std::string>& summary,
                             const std::vector<std::string>& warnings) {
  ChangeRequestRow row;
  row.env = env.name;
  row.action = action;
  row.request = SerializeRequest(call.request);
  row.diff = DiffJson(diff);
  row.base_version = env.version;
  row.proposer = call.principal().name;
  row.proposer_token_id = call.principal().token_id;
  row.reason = reason;
  row.created_at = NowMicros();
  row.expires_at = row.created_at + absl::ToInt64Microseconds(
                                        call.api.config->change_request_ttl);
  row.state = "proposed";
  AuditRow audit;
  audit.created_at = row.created_at;
  audit.actor = row.proposer;
  audit.action = "change.propose";
  audit.env = row.env;
  audit.reason = row.reason;
  {
    tools::JsonOut detail;
    detail.Begin()
        .Str("proposed_action", row.action)
        .Strings("changed_keys", changed_keys)
        .Strings("summary", summary)
        .End();
    audit.detail = detail.Take();
  }
  HOTFIX_ASSIGN_OR_RETURN(row.id,
                          call.api.store->InsertChangeRequest(row, audit));
  tools::LogInfo(absl::StrCat(row.env, " change request ", row.id, " (",
                              row.action, ") proposed by ", row.proposer, ": ",
                              row.reason));
  tools::JsonOut out;
  out.Begin();
  WriteRequestJson(out, row);
  out.Strings("summary", summary).Strings("warnings", warnings);
  out.End();
  std::string answer = out.Take();
  Announce(call.api, row.env, "change_request.proposed", answer);
  return Reply::Json(std::move(answer), 202);
}

}  // namespace

absl::StatusOr<Reply> Propose(const Call& call, const EnvironmentState& env,
                              WriteRequest write,
                              const FlagService::Mutation& mutation) {
  write.dry_run = true;
  HOTFIX_ASSIGN_OR_RETURN(WriteResult preview,
                          call.api.flags->Write(write, mutation));
  if (!preview.changed) return WriteResultReply(preview);
  return Submit(call, env, write.action, write.reason, preview.diff,
                preview.changed_keys, preview.summary, preview.warnings);
}

absl::StatusOr<Reply> ProposeOther(const Call& call,
                                   const EnvironmentState& env,
                                   const Proposal& proposal) {
  return Submit(call, env, proposal.action, proposal.reason, proposal.diff, {},
                proposal.summary, {});
}

int ExpireChangeRequests(ApiContext& api) {
  std::lock_guard<std::mutex> lock(ApprovalMutex());
  int expired = 0;
  for (const auto& env : api.flags->List()) {
    auto rows = api.store->ListChangeRequests(env->name, "proposed", 1000);
    if (!rows.ok()) {
      tools::LogError(absl::StrCat("expiring change requests of ", env->name,
                                   ": ", rows.status().ToString()));
      continue;
    }
    for (const ChangeRequestRow& row : *rows) {
      if (StateOf(row) != "expired") continue;
      absl::Status st = Decide(api, row, "expired", "hotfixd",
                               "expired before a decision", 0);
      if (st.ok()) {
        ++expired;
        tools::LogInfo(absl::StrCat(row.env, " change request ", row.id, " (",
                                    row.action, ") by ", row.proposer,
                                    " expired undecided"));
      }
    }
  }
  return expired;
}

absl::StatusOr<Reply> ListChangeRequests(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  const std::string* state = call.request.FindQuery("state");
  HOTFIX_ASSIGN_OR_RETURN(int limit, QueryInt(call, "limit", 50, 1, 1000));
  HOTFIX_ASSIGN_OR_RETURN(
      auto rows,
      call.api.store->ListChangeRequests(
          env->name, state != nullptr && *state != "expired" ? *state : "",
          limit));
  if (state != nullptr) {
    std::erase_if(rows, [state](const ChangeRequestRow& r) {
      return StateOf(r) != *state;
    });
  }
  tools::JsonOut out;
  out.Begin()
      .Str("env", env->name)
      .Bool("protected", env->protected_env)
      .BeginArray("requests")
      .Objects(rows, WriteRequestJson)
      .EndArray()
      .End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> GetChangeRequest(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto env, Environment(call));
  HOTFIX_ASSIGN_OR_RETURN(std::int64_t id, RequestId(call));
  HOTFIX_ASSIGN_OR_RETURN(ChangeRequestRow row,
                          call.api.store->GetChangeRequest(env->name, id));
  return RequestReply(row, 200);
}

namespace {

// What deciding a request starts from: the environment, the request's id and
// stored row, and the decision's body (its reason is the comment). Call with
// ApprovalMutex() held.
struct Decision {
  std::shared_ptr<const EnvironmentState> env;
  std::int64_t id = 0;
  WriteBody body;
  ChangeRequestRow row;
};

absl::StatusOr<Decision> LoadDecision(const Call& call) {
  Decision d;
  HOTFIX_ASSIGN_OR_RETURN(d.env, Environment(call));
  HOTFIX_ASSIGN_OR_RETURN(d.id, RequestId(call));
  HOTFIX_ASSIGN_OR_RETURN(d.body, ParseWriteBody(call.request, {}));
  HOTFIX_ASSIGN_OR_RETURN(d.row,
                          call.api.store->GetChangeRequest(d.env->name, d.id));
  return d;
}

// AlreadyExists unless the request is still waiting for a decision.
absl::Status CheckProposed(const Decision& d) {
  if (d.row.state != "proposed") {
    return absl::AlreadyExistsError(
        absl::StrCat("change request ", d.id, " is already ", d.row.state));
  }
  return absl::OkStatus();
}

// The reply to a decision: the request as now stored.
absl::StatusOr<Reply> DecidedReply(const Call& call, const Decision& d) {
  HOTFIX_ASSIGN_OR_RETURN(ChangeRequestRow decided,
                          call.api.store->GetChangeRequest(d.env->name, d.id));
  return RequestReply(decided, 200);
}

}  // namespace

absl::StatusOr<Reply> ApproveChangeRequest(const Call& call) {
  std::lock_guard<std::mutex> lock(ApprovalMutex());
  HOTFIX_ASSIGN_OR_RETURN(Decision d, LoadDecision(call));
  const auto& env = d.env;
  const std::int64_t id = d.id;
  const WriteBody& body = d.body;
  const ChangeRequestRow& row = d.row;
  if (StateOf(row) == "expired" && row.state == "proposed") {
    Decide(call.api, row, "expired", "hotfixd", "expired before a decision", 0)
        .IgnoreError();
    return absl::AlreadyExistsError(
        absl::StrCat("change request ", id, " expired at ",
                     tools::FormatTime(row.expires_at), "; propose it again"));
  }
  HOTFIX_RETURN_IF_ERROR(CheckProposed(d));
  if (row.proposer == call.principal().name) {
    return absl::PermissionDeniedError(
        absl::StrCat("change request ", id, " was proposed by \"", row.proposer,
                     "\": it needs a second person's approval"));
  }
  std::optional<Principal> proposer =
      call.api.auth->FindActive(row.proposer_token_id);
  if (!proposer.has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("change request ", id, ": the proposer's token (\"",
                     row.proposer, "\") has been revoked; propose it again"));
  }
  Approval approval;
  approval.request_id = id;
  approval.approver = call.principal().name;
  approval.comment = body.reason;
  // It must still change exactly what the approver is shown.
  HOTFIX_ASSIGN_OR_RETURN(HttpRequest preview,
                          DeserializeRequest(row.request, /*dry_run=*/true));
  const Reply dry = call.api.replay(preview, *proposer, &approval);
  if (dry.status != 200 || dry.body == nullptr) return dry;
  if (DiffOf(*dry.body) != row.diff) {
    return absl::AbortedError(absl::StrCat(
        "change request ", id,
        ": the environment changed since it was "
        "proposed (at version ",
        row.base_version, ", now ", env->version,
        ") and it would no longer change exactly what was proposed; reject "
        "it and propose it again"));
  }
  HOTFIX_ASSIGN_OR_RETURN(HttpRequest apply,
                          DeserializeRequest(row.request, /*dry_run=*/false));
  Reply applied = call.api.replay(apply, *proposer, &approval);
  if (applied.status >= 300) return applied;
  auto current = call.api.flags->Get(env->name);
  const std::uint64_t version = current != nullptr ? current->version : 0;
  HOTFIX_RETURN_IF_ERROR(Decide(call.api, row, "applied", call.principal().name,
                                body.reason, version));
  tools::LogInfo(absl::StrCat(row.env, " change request ", id, " approved by ",
                              call.principal().name, " and applied as version ",
                              version));
  return DecidedReply(call, d);
}

absl::StatusOr<Reply> RejectChangeRequest(const Call& call) {
  std::lock_guard<std::mutex> lock(ApprovalMutex());
  HOTFIX_ASSIGN_OR_RETURN(Decision d, LoadDecision(call));
  HOTFIX_RETURN_IF_ERROR(CheckProposed(d));
  // An approver rejects; the proposer may withdraw their own.
  if (!call.principal().Has(kScopeApprove) &&
      d.row.proposer != call.principal().name) {
    return absl::PermissionDeniedError(
        "rejecting a change request needs the approve scope (or to be its "
        "proposer)");
  }
  HOTFIX_RETURN_IF_ERROR(Decide(call.api, d.row, "rejected",
                                call.principal().name, d.body.reason, 0));
  return DecidedReply(call, d);
}

}  // namespace hotfixd
}  // namespace hotfix
