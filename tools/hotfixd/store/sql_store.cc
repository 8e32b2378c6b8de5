// tools/hotfixd/store/sql_store.cc

#include "store/sql_store.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "store/columns.h"
#include "store/crypto.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// Integers are stored as signed 64-bit numbers (SQLite's INTEGER,
// PostgreSQL's BIGINT): a bound past them all means no bound.
constexpr std::int64_t kMaxStoredInt = std::numeric_limits<std::int64_t>::max();

std::uint64_t ClampToStored(std::uint64_t value) {
  return std::min<std::uint64_t>(value, kMaxStoredInt);
}

absl::Status InsertAudit(SqlStore::Transaction& txn, const AuditRow& a) {
  return txn
      .Exec("InsertAudit",
            "INSERT INTO audit (created_at, actor, action, env, version, "
            "reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            {a.created_at, a.actor, a.action, NullIfEmpty{a.env},
             NullIfZero{a.version}, a.reason,
             a.detail.empty() ? std::string("{}") : a.detail})
      .status();
}

absl::Status InsertVersion(SqlStore::Transaction& txn, const VersionRow& r) {
  return txn
      .Exec("InsertVersion",
            "INSERT INTO versions (env, version, document, sha256, actor, "
            "reason, created_at, action, event, patch_key, patch_flag, "
            "changed_keys, restored_version) VALUES ($1, $2, $3, $4, $5, $6, "
            "$7, $8, $9, $10, $11, $12, $13)",
            {r.env, r.version, r.document, Sha256Hex(r.document), r.actor,
             r.reason, r.created_at, r.action, r.event,
             NullIfEmpty{r.patch_key}, r.patch_flag,
             r.changed_keys.empty() ? std::string("[]") : r.changed_keys,
             NullIfZero{r.restored_version}})
      .status();
}

// Runs a statement that must change exactly one row (a compare-and-set, an
// insert that may conflict); `otherwise` if it changed none.
absl::Status ExecOne(SqlStore::Transaction& txn, const char* what,
                     const std::string& sql, const SqlArgs& args,
                     absl::Status otherwise) {
  HOTFIX_ASSIGN_OR_RETURN(int changed, txn.Exec(what, sql, args));
  return changed == 1 ? absl::OkStatus() : otherwise;
}

StoreEvent Event(StoreEvent::Kind kind, const std::string& env = "",
                 std::uint64_t version = 0) {
  StoreEvent event;
  event.kind = kind;
  event.env = env;
  event.version = version;
  return event;
}

}  // namespace

template <typename Columns>
absl::StatusOr<std::vector<RowOf<Columns>>> SqlStore::ReadAll(
    const char* what, const Columns& columns, const char* from,
    const SqlArgs& args) {
  std::vector<RowOf<Columns>> out;
  HOTFIX_RETURN_IF_ERROR(
      Read(what, absl::StrCat("SELECT ", ColumnList(columns), " ", from), args,
           [&](const Row& row) { out.push_back(DecodeRow(row, columns)); }));
  return out;
}

template <typename Columns>
absl::StatusOr<RowOf<Columns>> SqlStore::ReadOne(const char* what,
                                                 const Columns& columns,
                                                 const char* from,
                                                 const SqlArgs& args,
                                                 absl::Status missing) {
  HOTFIX_ASSIGN_OR_RETURN(std::vector<RowOf<Columns>> rows,
                          ReadAll(what, columns, from, args));
  if (rows.empty()) return missing;
  return std::move(rows.front());
}

absl::Status SqlStore::AfterImport(Transaction& txn) {
  return absl::OkStatus();
}

absl::Status SqlStore::LoadEpoch(const std::string& database) {
  std::vector<std::string> values;
  HOTFIX_RETURN_IF_ERROR(
      Read("LoadEpoch", "SELECT value FROM meta WHERE key = 'epoch'", {},
           [&](const Row& row) { values.push_back(row.Text(0)); }));
  epoch_ = 0;
  if (!values.empty() && !absl::SimpleAtoi(values[0], &epoch_)) {
    return absl::DataLossError(absl::StrCat(
        "database ", database, ": malformed epoch \"", values[0], "\""));
  }
  return absl::OkStatus();
}

std::uint32_t SqlStore::Epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

absl::Status SqlStore::SetEpoch(std::uint32_t epoch) {
  absl::MutexLock lock(&mu_);
  HOTFIX_RETURN_IF_ERROR(Transact([&](Transaction& txn) {
    return txn
        .Exec("SetEpoch",
              "INSERT INTO meta (key, value) VALUES ('epoch', $1) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
              {absl::StrCat(epoch)})
        .status();
  }));
  epoch_ = epoch;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<EnvironmentRow>> SqlStore::ListEnvironments() {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListEnvironments", kEnvironmentColumns,
                 "FROM environments ORDER BY name", {});
}

absl::StatusOr<EnvironmentRow> SqlStore::GetEnvironment(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  return ReadOne("GetEnvironment", kEnvironmentColumns,
                 "FROM environments WHERE name = $1", {env},
                 absl::NotFoundError(
                     absl::StrCat("environment \"", env, "\" does not exist")));
}

absl::StatusOr<VersionRow> SqlStore::GetVersion(const std::string& env,
                                                std::uint64_t version) {
  absl::MutexLock lock(&mu_);
  HOTFIX_ASSIGN_OR_RETURN(
      VersionRow row,
      ReadOne("GetVersion", kVersionWithDocumentColumns,
              "FROM versions WHERE env = $1 AND version = $2",
              {env, ClampToStored(version)},
              absl::NotFoundError(absl::StrCat(
                  "environment \"", env, "\" has no version ", version))));
  HOTFIX_RETURN_IF_ERROR(CheckDocument(row, "stored document"));
  return row;
}

absl::StatusOr<std::vector<VersionRow>> SqlStore::ListVersions(
    const std::string& env, std::uint64_t before, int limit) {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListVersions", kVersionColumns,
                 "FROM versions WHERE env = $1 AND ($2 = 0 OR version < $2) "
                 "ORDER BY version DESC LIMIT $3",
                 {env, ClampToStored(before), limit});
}

absl::StatusOr<std::vector<VersionRow>> SqlStore::ListVersionsAfter(
    const std::string& env, std::uint64_t after, int limit) {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListVersionsAfter", kVersionColumns,
                 "FROM versions WHERE env = $1 AND version > $2 "
                 "ORDER BY version LIMIT $3",
                 {env, ClampToStored(after), limit});
}

absl::Status SqlStore::CreateEnvironment(const VersionRow& first,
                                         const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(
        ExecOne(txn, "CreateEnvironment",
                "INSERT INTO environments (name, version, created_at, "
                "updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (name) DO "
                "NOTHING",
                {first.env, first.version, first.created_at},
                absl::AlreadyExistsError(absl::StrCat(
                    "environment \"", first.env, "\" already exists"))));
    HOTFIX_RETURN_IF_ERROR(InsertVersion(txn, first));
    HOTFIX_RETURN_IF_ERROR(InsertAudit(txn, audit));
    return txn.Notify(Event(StoreEvent::Kind::kEnvironment, first.env));
  });
}

absl::Status SqlStore::CommitVersion(const VersionRow& row,
                                     const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) -> absl::Status {
    // The compare-and-set: a concurrent commit on the same base (from this
    // process or another replica) holds the row lock until it commits; this
    // UPDATE then re-reads the row and finds the version moved on.
    HOTFIX_RETURN_IF_ERROR(
        ExecOne(txn, "CommitVersion",
                "UPDATE environments SET version = $2, updated_at = $3 "
                "WHERE name = $1 AND version = $4",
                {row.env, row.version, row.created_at, row.version - 1},
                absl::FailedPreconditionError(absl::StrCat(
                    "environment \"", row.env, "\" is no longer at version ",
                    row.version - 1))));
    HOTFIX_RETURN_IF_ERROR(InsertVersion(txn, row));
    HOTFIX_RETURN_IF_ERROR(InsertAudit(txn, audit));
    return txn.Notify(Event(StoreEvent::Kind::kVersion, row.env, row.version));
  });
}

absl::StatusOr<std::vector<AuditRow>> SqlStore::ListAudit(
    const std::string& env, std::int64_t before_id, int limit) {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListAudit", kAuditColumns,
                 "FROM audit WHERE ($1 = '' OR env = $1) AND "
                 "($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3",
                 {env, before_id < 0 ? kMaxStoredInt : before_id, limit});
}

absl::StatusOr<std::vector<TokenRow>> SqlStore::ListTokens() {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListTokens", kTokenColumns,
                 "FROM tokens ORDER BY created_at, id", {});
}

absl::Status SqlStore::InsertToken(const TokenRow& t, const AuditRow* audit) {
  absl::MutexLock lock(&mu_);
  absl::Status st = Transact([&](Transaction& txn) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(
        txn.Exec("InsertToken",
                 "INSERT INTO tokens (id, name, hash, scopes, env, created_at, "
                 "created_by, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                 "NULL)",
                 {t.id, t.name, t.hash, t.scopes, NullIfEmpty{t.env},
                  t.created_at, t.created_by})
            .status());
    if (audit != nullptr) HOTFIX_RETURN_IF_ERROR(InsertAudit(txn, *audit));
    return txn.Notify(Event(StoreEvent::Kind::kTokens));
  });
  if (absl::IsAlreadyExists(st)) {
    return absl::AlreadyExistsError("a token with that value already exists");
  }
  return st;
}

absl::Status SqlStore::RevokeToken(const std::string& id, std::int64_t at,
                                   const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) -> absl::Status {
    // The compare-and-set: of two concurrent revocations exactly one finds
    // the token still active.
    HOTFIX_ASSIGN_OR_RETURN(
        int changed,
        txn.Exec("RevokeToken",
                 "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND "
                 "revoked_at IS NULL",
                 {id, at}));
    if (changed != 1) {
      bool exists = false;
      HOTFIX_RETURN_IF_ERROR(
          txn.Query("RevokeToken", "SELECT id FROM tokens WHERE id = $1", {id},
                    [&](const Row&) { exists = true; }));
      if (!exists) {
        return absl::NotFoundError(
            absl::StrCat("no token with id \"", id, "\""));
      }
      return absl::AlreadyExistsError(
          absl::StrCat("token \"", id, "\" is already revoked"));
    }
    HOTFIX_RETURN_IF_ERROR(InsertAudit(txn, audit));
    return txn.Notify(Event(StoreEvent::Kind::kTokens));
  });
}

absl::Status SqlStore::SetProtected(const std::string& env, bool protected_env,
                                    const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(
        ExecOne(txn, "SetProtected",
                "UPDATE environments SET protected = $2 WHERE name = $1",
                {env, protected_env},
                absl::NotFoundError(
                    absl::StrCat("environment \"", env, "\" does not exist"))));
    HOTFIX_RETURN_IF_ERROR(InsertAudit(txn, audit));
    return txn.Notify(Event(StoreEvent::Kind::kEnvironment, env));
  });
}

absl::StatusOr<std::int64_t> SqlStore::InsertChangeRequest(
    const ChangeRequestRow& r, AuditRow audit) {
  absl::MutexLock lock(&mu_);
  std::int64_t id = 0;
  HOTFIX_RETURN_IF_ERROR(Transact([&](Transaction& txn) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(txn.Query(
        "InsertChangeRequest",
        "INSERT INTO change_requests (env, action, request, diff, "
        "base_version, proposer, proposer_token_id, reason, created_at, "
        "expires_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "'proposed') RETURNING id",
        {r.env, r.action, r.request, r.diff, r.base_version, r.proposer,
         r.proposer_token_id, r.reason, r.created_at, r.expires_at},
        [&](const Row& row) { id = row.Int(0); }));
    // The audit entry names the request: {"request":ID, ...detail}.
    AuditRow named = audit;
    named.detail = DetailNamingRequest(id, audit.detail);
    return InsertAudit(txn, named);
  }));
  return id;
}

absl::StatusOr<ChangeRequestRow> SqlStore::GetChangeRequest(
    const std::string& env, std::int64_t id) {
  absl::MutexLock lock(&mu_);
  return ReadOne("GetChangeRequest", kChangeRequestColumns,
                 "FROM change_requests WHERE env = $1 AND id = $2", {env, id},
                 absl::NotFoundError(absl::StrCat(
                     "environment \"", env, "\" has no change request ", id)));
}

absl::StatusOr<std::vector<ChangeRequestRow>> SqlStore::ListChangeRequests(
    const std::string& env, const std::string& state, int limit) {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListChangeRequests", kChangeRequestColumns,
                 "FROM change_requests WHERE env = $1 AND "
                 "($2 = '' OR state = $2) "
                 "ORDER BY id DESC LIMIT $3",
                 {env, state, limit});
}

absl::Status SqlStore::DecideChangeRequest(const ChangeRequestRow& r,
                                           const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) -> absl::Status {
    // The compare-and-set: only a request still proposed is decided.
    HOTFIX_RETURN_IF_ERROR(
        ExecOne(txn, "DecideChangeRequest",
                "UPDATE change_requests SET state = $3, decided_by = $4, "
                "decided_at = $5, comment = $6, applied_version = $7 "
                "WHERE env = $1 AND id = $2 AND state = 'proposed'",
                {r.env, r.id, r.state, NullIfEmpty{r.decided_by}, r.decided_at,
                 NullIfEmpty{r.comment}, NullIfZero{r.applied_version}},
                absl::FailedPreconditionError(absl::StrCat(
                    "change request ", r.id, " is no longer proposed"))));
    return InsertAudit(txn, audit);
  });
}

absl::Status SqlStore::InsertWebhook(const WebhookRow& w,
                                     const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(
        txn.Exec("InsertWebhook",
                 "INSERT INTO webhooks (id, env, url, secret, created_at, "
                 "created_by) VALUES ($1, $2, $3, $4, $5, $6)",
                 {w.id, w.env, w.url, w.secret, w.created_at, w.created_by})
            .status());
    HOTFIX_RETURN_IF_ERROR(InsertAudit(txn, audit));
    return txn.Notify(Event(StoreEvent::Kind::kWebhooks, w.env));
  });
}

absl::StatusOr<std::vector<WebhookRow>> SqlStore::ListWebhooks(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListWebhooks", kWebhookColumns,
                 "FROM webhooks WHERE $1 = '' OR env = $1 "
                 "ORDER BY created_at, id",
                 {env});
}

absl::Status SqlStore::DeleteWebhook(const std::string& env,
                                     const std::string& id,
                                     const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(
        ExecOne(txn, "DeleteWebhook",
                "DELETE FROM webhooks WHERE env = $1 AND id = $2", {env, id},
                absl::NotFoundError(absl::StrCat(
                    "environment \"", env, "\" has no webhook \"", id, "\""))));
    HOTFIX_RETURN_IF_ERROR(InsertAudit(txn, audit));
    return txn.Notify(Event(StoreEvent::Kind::kWebhooks, env));
  });
}

absl::Status SqlStore::AddTelemetry(const std::vector<TelemetryRow>& rows) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) -> absl::Status {
    for (const TelemetryRow& t : rows) {
      HOTFIX_RETURN_IF_ERROR(
          txn.Exec("AddTelemetry",
                   "INSERT INTO telemetry (env, flag, variant, minute, "
                   "exposures, successes, failures) VALUES ($1, $2, $3, $4, "
                   "$5, $6, $7) ON CONFLICT (env, flag, variant, minute) DO "
                   "UPDATE SET exposures = telemetry.exposures + "
                   "excluded.exposures, successes = telemetry.successes + "
                   "excluded.successes, failures = telemetry.failures + "
                   "excluded.failures",
                   {t.env, t.flag, t.variant, t.minute, t.exposures,
                    t.successes, t.failures})
              .status());
      if (t.exposures == 0) continue;
      // The later of the stored time and this minute.
      HOTFIX_RETURN_IF_ERROR(
          txn.Exec("AddTelemetry",
                   "INSERT INTO flag_usage (env, flag, last_evaluated) VALUES "
                   "($1, $2, $3) ON CONFLICT (env, flag) DO UPDATE SET "
                   "last_evaluated = excluded.last_evaluated WHERE "
                   "excluded.last_evaluated > flag_usage.last_evaluated",
                   {t.env, t.flag,
                    static_cast<std::int64_t>(t.minute * 60 * 1000000)})
              .status());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<TelemetryRow>> SqlStore::ListTelemetry(
    const std::string& env, const std::string& flag,
    std::int64_t since_minute) {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListTelemetry", kTelemetryColumns,
                 "FROM telemetry WHERE env = $1 AND flag = $2 "
                 "AND minute >= $3 ORDER BY minute, variant",
                 {env, flag, since_minute});
}

absl::Status SqlStore::PurgeTelemetry(std::int64_t before_minute) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) {
    return txn
        .Exec("PurgeTelemetry", "DELETE FROM telemetry WHERE minute < $1",
              {before_minute})
        .status();
  });
}

absl::StatusOr<std::vector<UsageRow>> SqlStore::ListUsage(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListUsage", kUsageColumns,
                 "FROM flag_usage WHERE env = $1 ORDER BY flag", {env});
}

absl::Status SqlStore::PutRolloutPlan(const RolloutPlanRow& p) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) {
    return txn
        .Exec("PutRolloutPlan",
              absl::StrCat(
                  "INSERT INTO rollout_plans (", ColumnList(kPlanColumns),
                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                  "ON CONFLICT (env, flag) DO UPDATE SET spec = excluded.spec, "
                  "state = excluded.state, stage = excluded.stage, "
                  "started_at = excluded.started_at, "
                  "stage_started_at = excluded.stage_started_at, "
                  "updated_at = excluded.updated_at, "
                  "created_by = excluded.created_by, "
                  "judgement = excluded.judgement"),
              {p.env, p.flag, p.spec, p.state, p.stage, p.started_at,
               p.stage_started_at, p.updated_at, p.created_by, p.judgement})
        .status();
  });
}

absl::StatusOr<RolloutPlanRow> SqlStore::GetRolloutPlan(
    const std::string& env, const std::string& flag) {
  absl::MutexLock lock(&mu_);
  return ReadOne("GetRolloutPlan", kPlanColumns,
                 "FROM rollout_plans WHERE env = $1 AND "
                 "flag = $2",
                 {env, flag},
                 absl::NotFoundError(absl::StrCat(
                     "flags.", flag, ": no staged rollout in ", env)));
}

absl::StatusOr<std::vector<RolloutPlanRow>> SqlStore::ListRolloutPlans(
    const std::string& state) {
  absl::MutexLock lock(&mu_);
  return ReadAll("ListRolloutPlans", kPlanColumns,
                 "FROM rollout_plans WHERE $1 = '' OR "
                 "state = $1 ORDER BY env, flag",
                 {state});
}

absl::Status SqlStore::Import(const ImportBatch& b) {
  absl::MutexLock lock(&mu_);
  return Transact([&](Transaction& txn) -> absl::Status {
    for (const EnvironmentRow& e : b.environments) {
      HOTFIX_RETURN_IF_ERROR(
          txn.Exec("Import environments",
                   "INSERT INTO environments (name, version, created_at, "
                   "updated_at, protected) VALUES ($1, $2, $3, $4, $5)",
                   {e.name, e.version, e.created_at, e.updated_at,
                    e.protected_env})
              .status());
    }
    for (const VersionRow& v : b.versions) {
      HOTFIX_RETURN_IF_ERROR(CheckDocument(v, "document"));
      HOTFIX_RETURN_IF_ERROR(InsertVersion(txn, v));
    }
    for (const AuditRow& a : b.audit) {
      HOTFIX_RETURN_IF_ERROR(
          txn.Exec("Import audit",
                   "INSERT INTO audit (id, created_at, actor, action, env, "
                   "version, reason, detail) VALUES ($1, $2, $3, $4, $5, $6, "
                   "$7, $8)",
                   {a.id, a.created_at, a.actor, a.action, NullIfEmpty{a.env},
                    NullIfZero{a.version}, a.reason, a.detail})
              .status());
    }
    for (const TokenRow& t : b.tokens) {
      HOTFIX_RETURN_IF_ERROR(
          txn.Exec("Import tokens",
                   "INSERT INTO tokens (id, name, hash, scopes, env, "
                   "created_at, created_by, revoked_at) VALUES ($1, $2, $3, "
                   "$4, $5, $6, $7, $8)",
                   {t.id, t.name, t.hash, t.scopes, NullIfEmpty{t.env},
                    t.created_at, t.created_by,
                    NullIfZero{static_cast<std::uint64_t>(t.revoked_at)}})
              .status());
    }
    for (const ChangeRequestRow& r : b.change_requests) {
      HOTFIX_RETURN_IF_ERROR(
          txn.Exec("Import change_requests",
                   "INSERT INTO change_requests (id, env, action, request, "
                   "diff, base_version, proposer, proposer_token_id, reason, "
                   "created_at, expires_at, state, decided_by, decided_at, "
                   "comment, applied_version) VALUES ($1, $2, $3, $4, $5, $6, "
                   "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                   {r.id, r.env, r.action, r.request, r.diff, r.base_version,
                    r.proposer, r.proposer_token_id, r.reason, r.created_at,
                    r.expires_at, r.state, NullIfEmpty{r.decided_by},
                    NullIfZero{static_cast<std::uint64_t>(r.decided_at)},
                    NullIfEmpty{r.comment}, NullIfZero{r.applied_version}})
              .status());
    }
    for (const WebhookRow& w : b.webhooks) {
      HOTFIX_RETURN_IF_ERROR(
          txn.Exec("Import webhooks",
                   "INSERT INTO webhooks (id, env, url, secret, created_at, "
                   "created_by) VALUES ($1, $2, $3, $4, $5, $6)",
                   {w.id, w.env, w.url, w.secret, w.created_at, w.created_by})
              .status());
    }
    return AfterImport(txn);
  });
}

}  // namespace hotfixd
}  // namespace hotfix
