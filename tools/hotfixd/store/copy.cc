// tools/hotfixd/store/copy.cc

#include "store/copy.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/crypto.h"
#include "store/epoch.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

constexpr int kPage = 500;
// Versions per import transaction, and their bytes.
constexpr std::size_t kBatchVersions = 200;
constexpr std::size_t kBatchBytes = 32u << 20;
constexpr int kAll = std::numeric_limits<int>::max();

// Every version of `env`, oldest first, without documents.
absl::StatusOr<std::vector<VersionRow>> AllVersions(Store& s,
                                                    const std::string& env) {
  std::vector<VersionRow> out;
  std::uint64_t after = 0;
  for (;;) {
    HOTFIX_ASSIGN_OR_RETURN(auto page, s.ListVersionsAfter(env, after, kPage));
    if (page.empty()) return out;
    after = page.back().version;
    for (VersionRow& v : page) out.push_back(std::move(v));
  }
}

// The whole audit log, oldest first.
absl::StatusOr<std::vector<AuditRow>> AllAudit(Store& s) {
  std::vector<AuditRow> out;
  std::int64_t before = 0;
  for (;;) {
    HOTFIX_ASSIGN_OR_RETURN(auto page, s.ListAudit("", before, kPage));
    if (page.empty()) break;
    before = page.back().id;
    for (AuditRow& a : page) out.push_back(std::move(a));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<ChangeRequestRow>> AllChangeRequests(
    Store& s, const std::vector<EnvironmentRow>& envs) {
  std::vector<ChangeRequestRow> out;
  for (const EnvironmentRow& e : envs) {
    HOTFIX_ASSIGN_OR_RETURN(auto rows, s.ListChangeRequests(e.name, "", kAll));
    for (ChangeRequestRow& r : rows) out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

// Chains `text` into `digest`.
void Chain(std::string* digest, const std::string& text) {
  *digest = Sha256Hex(absl::StrCat(*digest, "\n", text));
}

}  // namespace

absl::StatusOr<std::string> StoreDigest(Store& s) {
  std::string d;
  HOTFIX_ASSIGN_OR_RETURN(auto envs, s.ListEnvironments());
  for (const EnvironmentRow& e : envs) {
    Chain(&d, absl::StrCat("env|", e.name, "|", e.version, "|", e.created_at,
                           "|", e.updated_at, "|", e.protected_env));
    HOTFIX_ASSIGN_OR_RETURN(auto versions, AllVersions(s, e.name));
    for (const VersionRow& v : versions) {
      // GetVersion verifies the stored checksum against the document.
      HOTFIX_ASSIGN_OR_RETURN(VersionRow full, s.GetVersion(e.name, v.version));
      Chain(&d, absl::StrCat("version|", full.env, "|", full.version, "|",
                             full.sha256, "|", full.actor, "|", full.reason,
                             "|", full.created_at, "|", full.action, "|",
                             full.event, "|", full.patch_key, "|",
                             full.patch_flag.value_or("(deleted)"), "|",
                             full.changed_keys, "|", full.restored_version));
    }
  }
  HOTFIX_ASSIGN_OR_RETURN(auto audit, AllAudit(s));
  for (const AuditRow& a : audit) {
    Chain(&d, absl::StrCat("audit|", a.id, "|", a.created_at, "|", a.actor, "|",
                           a.action, "|", a.env, "|", a.version, "|", a.reason,
                           "|", a.detail));
  }
  HOTFIX_ASSIGN_OR_RETURN(auto tokens, s.ListTokens());
  for (const TokenRow& t : tokens) {
    Chain(&d, absl::StrCat("token|", t.id, "|", t.name, "|", t.hash, "|",
                           t.scopes, "|", t.env, "|", t.created_at, "|",
                           t.created_by, "|", t.revoked_at));
  }
  HOTFIX_ASSIGN_OR_RETURN(auto requests, AllChangeRequests(s, envs));
  for (const ChangeRequestRow& r : requests) {
    Chain(&d, absl::StrCat("request|", r.id, "|", r.env, "|", r.action, "|",
                           r.request, "|", r.diff, "|", r.base_version, "|",
                           r.proposer, "|", r.proposer_token_id, "|", r.reason,
                           "|", r.created_at, "|", r.expires_at, "|", r.state,
                           "|", r.decided_by, "|", r.decided_at, "|", r.comment,
                           "|", r.applied_version));
  }
  HOTFIX_ASSIGN_OR_RETURN(auto hooks, s.ListWebhooks(""));
  for (const WebhookRow& w : hooks) {
    Chain(&d, absl::StrCat("webhook|", w.id, "|", w.env, "|", w.url, "|",
                           Sha256Hex(w.secret), "|", w.created_at, "|",
                           w.created_by));
  }
  HOTFIX_ASSIGN_OR_RETURN(auto plans, s.ListRolloutPlans(""));
  for (const RolloutPlanRow& p : plans) {
    Chain(&d,
          absl::StrCat("plan|", p.env, "|", p.flag, "|", p.spec, "|", p.state,
                       "|", p.stage, "|", p.started_at, "|", p.stage_started_at,
                       "|", p.updated_at, "|", p.created_by, "|", p.judgement));
  }
  return d;
}

absl::StatusOr<CopyReport> CopyStore(Store& from, Store& to) {
  HOTFIX_ASSIGN_OR_RETURN(auto target_envs, to.ListEnvironments());
  HOTFIX_ASSIGN_OR_RETURN(auto target_tokens, to.ListTokens());
  if (!target_envs.empty() || !target_tokens.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the target ", to.Describe(),
                     " is not empty; migrate only into a new database"));
  }
  CopyReport report;
  HOTFIX_ASSIGN_OR_RETURN(auto envs, from.ListEnvironments());
  {
    ImportBatch first;
    first.environments = envs;
    HOTFIX_RETURN_IF_ERROR(to.Import(first));
  }
  report.environments = envs.size();
  for (const EnvironmentRow& e : envs) {
    HOTFIX_ASSIGN_OR_RETURN(auto versions, AllVersions(from, e.name));
    ImportBatch batch;
    std::size_t bytes = 0;
    for (const VersionRow& v : versions) {
      HOTFIX_ASSIGN_OR_RETURN(VersionRow full,
                              from.GetVersion(e.name, v.version));
      bytes += full.document.size();
      batch.versions.push_back(std::move(full));
      if (batch.versions.size() >= kBatchVersions || bytes >= kBatchBytes) {
        HOTFIX_RETURN_IF_ERROR(to.Import(batch));
        report.versions += batch.versions.size();
        batch.versions.clear();
        bytes = 0;
      }
    }
    HOTFIX_RETURN_IF_ERROR(to.Import(batch));
    report.versions += batch.versions.size();
  }
  ImportBatch rest;
  HOTFIX_ASSIGN_OR_RETURN(rest.audit, AllAudit(from));
  HOTFIX_ASSIGN_OR_RETURN(rest.tokens, from.ListTokens());
  HOTFIX_ASSIGN_OR_RETURN(rest.change_requests, AllChangeRequests(from, envs));
  HOTFIX_ASSIGN_OR_RETURN(rest.webhooks, from.ListWebhooks(""));
  report.audit = rest.audit.size();
  report.tokens = rest.tokens.size();
  report.change_requests = rest.change_requests.size();
  report.webhooks = rest.webhooks.size();
  HOTFIX_RETURN_IF_ERROR(to.Import(rest));
  // Staged rollouts, and the telemetry still kept of every flag evaluated
  // (adding into an empty table copies it; flag_usage follows from it).
  HOTFIX_ASSIGN_OR_RETURN(auto plans, from.ListRolloutPlans(""));
  for (const RolloutPlanRow& p : plans) {
    HOTFIX_RETURN_IF_ERROR(to.PutRolloutPlan(p));
  }
  report.rollout_plans = plans.size();
  for (const EnvironmentRow& e : envs) {
    HOTFIX_ASSIGN_OR_RETURN(auto usage, from.ListUsage(e.name));
    for (const UsageRow& u : usage) {
      HOTFIX_ASSIGN_OR_RETURN(auto rows, from.ListTelemetry(e.name, u.flag, 0));
      HOTFIX_RETURN_IF_ERROR(to.AddTelemetry(rows));
      report.telemetry += rows.size();
    }
  }

  HOTFIX_ASSIGN_OR_RETURN(std::string source_digest, StoreDigest(from));
  HOTFIX_ASSIGN_OR_RETURN(std::string target_digest, StoreDigest(to));
  if (source_digest != target_digest) {
    return absl::DataLossError(absl::StrCat(
        "the copy in ", to.Describe(), " differs from ", from.Describe(),
        " (digest ", target_digest, " vs ", source_digest, "); do not use it"));
  }
  report.digest = source_digest;
  report.epoch = NextEpoch(std::max(from.Epoch(), to.Epoch()),
                           absl::ToUnixSeconds(absl::Now()));
  HOTFIX_RETURN_IF_ERROR(to.SetEpoch(report.epoch));
  return report;
}

}  // namespace hotfixd
}  // namespace hotfix
