// tools/hotfixd/store/postgres_store.cc

#include "store/postgres_store.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/server_log.h"
#include "store/columns.h"
#include "store/crypto.h"
#include "store/postgres_feed.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// 4: telemetry, flag_usage, rollout_plans (the numbers follow SQLite's).
constexpr int kSchemaVersion = 4;
constexpr std::int64_t kMaxStoredInt = std::numeric_limits<std::int64_t>::max();
// Serializes schema creation between replicas starting at once.
constexpr char kSchemaLock[] = "SELECT pg_advisory_xact_lock(7305146453)";

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS environments (
  name        TEXT PRIMARY KEY,
  version     BIGINT NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  protected   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE IF NOT EXISTS versions (
  env               TEXT NOT NULL REFERENCES environments(name),
  version           BIGINT NOT NULL,
  document          TEXT NOT NULL,
  sha256            TEXT NOT NULL,
  actor             TEXT NOT NULL,
  reason            TEXT NOT NULL,
  created_at        BIGINT NOT NULL,
  action            TEXT NOT NULL,
  event             TEXT NOT NULL,
  patch_key         TEXT,
  patch_flag        TEXT,
  changed_keys      TEXT NOT NULL,
  restored_version  BIGINT,
  PRIMARY KEY (env, version)
);
CREATE TABLE IF NOT EXISTS audit (
  id          BIGSERIAL PRIMARY KEY,
  created_at  BIGINT NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  env         TEXT,
  version     BIGINT,
  reason      TEXT NOT NULL,
  detail      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_env ON audit(env, id);
CREATE TABLE IF NOT EXISTS change_requests (
  id                 BIGSERIAL PRIMARY KEY,
  env                TEXT NOT NULL,
  action             TEXT NOT NULL,
  request            TEXT NOT NULL,
  diff               TEXT NOT NULL,
  base_version       BIGINT NOT NULL,
  proposer           TEXT NOT NULL,
  proposer_token_id  TEXT NOT NULL,
  reason             TEXT NOT NULL,
  created_at         BIGINT NOT NULL,
  expires_at         BIGINT NOT NULL,
  state              TEXT NOT NULL,
  decided_by         TEXT,
  decided_at         BIGINT,
  comment            TEXT,
  applied_version    BIGINT
);
CREATE INDEX IF NOT EXISTS change_requests_by_env ON change_requests(env, id);
CREATE TABLE IF NOT EXISTS webhooks (
  id          TEXT PRIMARY KEY,
  env         TEXT NOT NULL,
  url         TEXT NOT NULL,
  secret      TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  created_by  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  hash        TEXT NOT NULL UNIQUE,
  scopes      TEXT NOT NULL,
  env         TEXT,
  created_at  BIGINT NOT NULL,
  created_by  TEXT NOT NULL,
  revoked_at  BIGINT
);
CREATE TABLE IF NOT EXISTS telemetry (
  env         TEXT NOT NULL,
  flag        TEXT NOT NULL,
  variant     TEXT NOT NULL,
  minute      BIGINT NOT NULL,
  exposures   BIGINT NOT NULL,
  successes   BIGINT NOT NULL,
  failures    BIGINT NOT NULL,
  PRIMARY KEY (env, flag, variant, minute)
);
CREATE TABLE IF NOT EXISTS flag_usage (
  env             TEXT NOT NULL,
  flag            TEXT NOT NULL,
  last_evaluated  BIGINT NOT NULL,
  PRIMARY KEY (env, flag)
);
CREATE TABLE IF NOT EXISTS rollout_plans (
  env               TEXT NOT NULL,
  flag              TEXT NOT NULL,
  spec              TEXT NOT NULL,
  state             TEXT NOT NULL,
  stage             INTEGER NOT NULL,
  started_at        BIGINT NOT NULL,
  stage_started_at  BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  created_by        TEXT NOT NULL,
  judgement         TEXT NOT NULL,
  PRIMARY KEY (env, flag)
)
)sql";

// The fields of one result row, as DecodeRow() reads them.
class PgRow {
 public:
  PgRow(const PgResult& result, int row) : result_(result), row_(row) {}

  std::string Text(int col) const { return result_.Text(row_, col); }
  bool IsNull(int col) const { return result_.IsNull(row_, col); }
  std::int64_t Int(int col) const { return result_.Int(row_, col); }
  std::uint64_t Uint(int col) const { return result_.Uint(row_, col); }
  bool Bool(int col) const { return result_.Bool(row_, col); }

 private:
  const PgResult& result_;
  int row_;
};

// Every row of `result`, selected as ColumnList(columns).
template <typename Columns>
absl::StatusOr<std::vector<RowOf<Columns>>> AllRows(
    absl::StatusOr<PgResult> result, const Columns& columns) {
  HOTFIX_RETURN_IF_ERROR(result.status());
  std::vector<RowOf<Columns>> out;
  out.reserve(static_cast<std::size_t>(result->rows()));
  for (int i = 0; i < result->rows(); ++i) {
    out.push_back(DecodeRow(PgRow(*result, i), columns));
  }
  return out;
}

// NOTIFY in the current transaction: delivered when (and only if) it
// commits.
absl::Status Notify(PgConnection& c, const std::string& payload) {
  return c.Exec("NOTIFY", "SELECT pg_notify('hotfixd', $1)", PgParams(payload))
      .status();
}

absl::Status InsertAudit(PgConnection& c, const AuditRow& a) {
  return c
      .Exec("InsertAudit",
            "INSERT INTO audit (created_at, actor, action, env, version, "
            "reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            PgParams(a.created_at, a.actor, a.action, NullIfEmpty{a.env},
                     NullIfZero{a.version}, a.reason,
                     a.detail.empty() ? std::string("{}") : a.detail))
      .status();
}

absl::Status InsertVersion(PgConnection& c, const VersionRow& r) {
  return c
      .Exec(
          "InsertVersion",
          "INSERT INTO versions (env, version, document, sha256, actor, "
          "reason, created_at, action, event, patch_key, patch_flag, "
          "changed_keys, restored_version) VALUES ($1, $2, $3, $4, $5, $6, "
          "$7, $8, $9, $10, $11, $12, $13)",
          PgParams(r.env, r.version, r.document, Sha256Hex(r.document), r.actor,
                   r.reason, r.created_at, r.action, r.event,
                   NullIfEmpty{r.patch_key}, r.patch_flag,
                   r.changed_keys.empty() ? std::string("[]") : r.changed_keys,
                   NullIfZero{r.restored_version}))
      .status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(
    const std::string& url) {
  std::unique_ptr<PostgresStore> store(
      new PostgresStore(url, DescribePostgresUrl(url)));
  absl::MutexLock lock(&store->mu_);
  HOTFIX_RETURN_IF_ERROR(store->CreateSchema());
  return store;
}

PostgresStore::~PostgresStore() = default;

absl::Status PostgresStore::CreateSchema() {
  std::string schema_version;
  std::string epoch;
  HOTFIX_RETURN_IF_ERROR(Transact([&](PgConnection& c) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(c.Exec("schema lock", kSchemaLock).status());
    HOTFIX_RETURN_IF_ERROR(c.ExecScript("create schema", kSchema).status());
    HOTFIX_ASSIGN_OR_RETURN(
        PgResult meta,
        c.Exec("read meta",
               "SELECT key, value FROM meta WHERE key IN ('schema', 'epoch')"));
    for (int i = 0; i < meta.rows(); ++i) {
      (meta.Text(i, 0) == "schema" ? schema_version : epoch) = meta.Text(i, 1);
    }
    int stored = 0;
    if (!schema_version.empty() &&
        (!absl::SimpleAtoi(schema_version, &stored) ||
         stored >= kSchemaVersion)) {
      return absl::OkStatus();  // current, or newer (refused below)
    }
    // New, or older: kSchema created the tables it lacked.
    schema_version = absl::StrCat(kSchemaVersion);
    return c
        .Exec("write meta",
              "INSERT INTO meta (key, value) VALUES ('schema', $1) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
              PgParams(schema_version))
        .status();
  }));
  int version = 0;
  if (!absl::SimpleAtoi(schema_version, &version) || version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", describe_, " has schema version ", schema_version,
        ", newer than this hotfixd understands (", kSchemaVersion, ")"));
  }
  epoch_ = 0;
  if (!epoch.empty() && !absl::SimpleAtoi(epoch, &epoch_)) {
    return absl::DataLossError(absl::StrCat(
        "database ", describe_, ": malformed epoch \"", epoch, "\""));
  }
  return absl::OkStatus();
}

StoreHealth PostgresStore::Health() const {
  absl::MutexLock lock(&health_mu_);
  return health_;
}

void PostgresStore::Observe(const absl::Status& status) {
  const bool down = absl::IsUnavailable(status);
  absl::MutexLock lock(&health_mu_);
  if (down) {
    if (health_.available) {
      tools::LogError(std::string(status.message()));
      health_.available = false;
      health_.since = NowMicros();
    }
    health_.error = std::string(status.message());
  } else if (!health_.available) {
    tools::LogInfo(
        absl::StrCat("the database (", describe_, ") is available again"));
    health_.available = true;
    health_.error.clear();
    health_.since = NowMicros();
  }
}

absl::Status PostgresStore::Connect() {
  if (conn_ != nullptr && !conn_->broken()) return absl::OkStatus();
  conn_.reset();
  auto conn = PgConnection::Connect(url_, describe_);
  if (!conn.ok()) {
    Observe(conn.status());
    return conn.status();
  }
  conn_ = std::move(*conn);
  return absl::OkStatus();
}

absl::StatusOr<PgResult> PostgresStore::Read(const char* what,
                                             const std::string& sql,
                                             const PgParams& params) {
  absl::Status last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    HOTFIX_RETURN_IF_ERROR(Connect());
    absl::StatusOr<PgResult> r = conn_->Exec(what, sql, params);
    Observe(r.status());
    if (r.ok() || !absl::IsUnavailable(r.status())) return r;
    last = r.status();
    conn_.reset();
  }
  return last;
}

absl::Status PostgresStore::Transact(const Body& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    HOTFIX_RETURN_IF_ERROR(Connect());
    absl::Status st = conn_->Exec("BEGIN", "BEGIN").status();
    if (absl::IsUnavailable(st) && attempt == 0) {
      conn_.reset();  // nothing was sent in this transaction: try anew
      continue;
    }
    if (st.ok()) st = body(*conn_);
    if (!st.ok()) {
      if (!conn_->broken()) conn_->Exec("ROLLBACK", "ROLLBACK").IgnoreError();
      Observe(st);
      if (conn_->broken()) conn_.reset();
      return st;
    }
    st = conn_->Exec("COMMIT", "COMMIT").status();
    Observe(st);
    if (absl::IsUnavailable(st)) {
      conn_.reset();
      return absl::UnavailableError(
          absl::StrCat(st.message(),
                       " (during COMMIT: the change may or may not be "
                       "stored; it was not acknowledged)"));
    }
    return st;
  }
  return absl::UnavailableError(
      absl::StrCat("the database (", describe_, ") is unavailable"));
}

std::uint32_t PostgresStore::Epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

absl::Status PostgresStore::SetEpoch(std::uint32_t epoch) {
  absl::MutexLock lock(&mu_);
  HOTFIX_RETURN_IF_ERROR(Transact([&](PgConnection& c) {
    return c
        .Exec("SetEpoch",
              "INSERT INTO meta (key, value) VALUES ('epoch', $1) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
              PgParams(absl::StrCat(epoch)))
        .status();
  }));
  epoch_ = epoch;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<EnvironmentRow>> PostgresStore::ListEnvironments() {
  absl::MutexLock lock(&mu_);
  return AllRows(Read("ListEnvironments",
                      absl::StrCat("SELECT ", ColumnList(kEnvironmentColumns),
                                   " FROM environments ORDER BY name"),
                      PgParams()),
                 kEnvironmentColumns);
}

absl::StatusOr<EnvironmentRow> PostgresStore::GetEnvironment(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  HOTFIX_ASSIGN_OR_RETURN(
      PgResult r, Read("GetEnvironment",
                       absl::StrCat("SELECT ", ColumnList(kEnvironmentColumns),
                                    " FROM environments WHERE name = $1"),
                       PgParams(env)));
  if (r.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("environment \"", env, "\" does not exist"));
  }
  return DecodeRow(PgRow(r, 0), kEnvironmentColumns);
}

absl::StatusOr<VersionRow> PostgresStore::GetVersion(const std::string& env,
                                                     std::uint64_t version) {
  absl::MutexLock lock(&mu_);
  HOTFIX_ASSIGN_OR_RETURN(
      PgResult r,
      Read("GetVersion",
           absl::StrCat("SELECT ", ColumnList(kVersionWithDocumentColumns),
                        " FROM versions WHERE env = $1 AND "
                        "version = $2"),
           PgParams(env, std::min<std::uint64_t>(version, kMaxStoredInt))));
  if (r.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("environment \"", env, "\" has no version ", version));
  }
  VersionRow row = DecodeRow(PgRow(r, 0), kVersionWithDocumentColumns);
  HOTFIX_RETURN_IF_ERROR(CheckDocument(row, "stored document"));
  return row;
}

absl::StatusOr<std::vector<VersionRow>> PostgresStore::ListVersions(
    const std::string& env, std::uint64_t before, int limit) {
  absl::MutexLock lock(&mu_);
  return AllRows(
      Read(
          "ListVersions",
          absl::StrCat("SELECT ", ColumnList(kVersionColumns),
                       " FROM versions WHERE env = $1 AND ($2 = 0 OR "
                       "version < $2) ORDER BY version DESC LIMIT $3"),
          PgParams(env, std::min<std::uint64_t>(before, kMaxStoredInt), limit)),
      kVersionColumns);
}

absl::StatusOr<std::vector<VersionRow>> PostgresStore::ListVersionsAfter(
    const std::string& env, std::uint64_t after, int limit) {
  absl::MutexLock lock(&mu_);
  return AllRows(
      Read("ListVersionsAfter",
           absl::StrCat("SELECT ", ColumnList(kVersionColumns),
                        " FROM versions WHERE env = $1 AND version > $2 "
                        "ORDER BY version LIMIT $3"),
           PgParams(env, std::min<std::uint64_t>(after, kMaxStoredInt), limit)),
      kVersionColumns);
}

absl::Status PostgresStore::CreateEnvironment(const VersionRow& first,
                                              const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec("CreateEnvironment",
               "INSERT INTO environments (name, version, created_at, "
               "updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (name) DO "
               "NOTHING",
               PgParams(first.env, first.version, first.created_at)));
    if (r.affected() != 1) {
      return absl::AlreadyExistsError(
          absl::StrCat("environment \"", first.env, "\" already exists"));
    }
    HOTFIX_RETURN_IF_ERROR(InsertVersion(c, first));
    HOTFIX_RETURN_IF_ERROR(InsertAudit(c, audit));
    return Notify(c, absl::StrCat("e ", first.env));
  });
}

absl::Status PostgresStore::CommitVersion(const VersionRow& row,
                                          const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) -> absl::Status {
    // The compare-and-set: a concurrent commit on the same base (from this
    // replica or another) holds the row lock until it commits; this UPDATE
    // then re-reads the row and finds the version moved on.
    HOTFIX_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec(
            "CommitVersion",
            "UPDATE environments SET version = $2, updated_at = $3 "
            "WHERE name = $1 AND version = $4",
            PgParams(row.env, row.version, row.created_at, row.version - 1)));
    if (r.affected() != 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("environment \"", row.env, "\" is no longer at version ",
                       row.version - 1));
    }
    HOTFIX_RETURN_IF_ERROR(InsertVersion(c, row));
    HOTFIX_RETURN_IF_ERROR(InsertAudit(c, audit));
    return Notify(c, absl::StrCat("v ", row.env, " ", row.version));
  });
}

absl::StatusOr<std::vector<AuditRow>> PostgresStore::ListAudit(
    const std::string& env, std::int64_t before_id, int limit) {
  absl::MutexLock lock(&mu_);
  return AllRows(
      Read("ListAudit",
           absl::StrCat("SELECT ", ColumnList(kAuditColumns),
                        " FROM audit WHERE ($1 = '' OR env = $1) AND "
                        "($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3"),
           PgParams(env, before_id < 0 ? kMaxStoredInt : before_id, limit)),
      kAuditColumns);
}

absl::StatusOr<std::vector<TokenRow>> PostgresStore::ListTokens() {
  absl::MutexLock lock(&mu_);
  return AllRows(Read("ListTokens",
                      absl::StrCat("SELECT ", ColumnList(kTokenColumns),
                                   " FROM tokens ORDER BY created_at, id"),
                      PgParams()),
                 kTokenColumns);
}

absl::Status PostgresStore::InsertToken(const TokenRow& t,
                                        const AuditRow* audit) {
  absl::MutexLock lock(&mu_);
  absl::Status st = Transact([&](PgConnection& c) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(
        c.Exec("InsertToken",
               "INSERT INTO tokens (id, name, hash, scopes, env, created_at, "
               "created_by, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
               "NULL)",
               PgParams(t.id, t.name, t.hash, t.scopes, NullIfEmpty{t.env},
                        t.created_at, t.created_by))
            .status());
    if (audit != nullptr) HOTFIX_RETURN_IF_ERROR(InsertAudit(c, *audit));
    return Notify(c, "t");
  });
  if (absl::IsAlreadyExists(st)) {
    return absl::AlreadyExistsError("a token with that value already exists");
  }
  return st;
}

absl::Status PostgresStore::RevokeToken(const std::string& id, std::int64_t at,
                                        const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec("RevokeToken",
               "SELECT revoked_at FROM tokens WHERE id = $1 FOR UPDATE",
               PgParams(id)));
    if (r.rows() == 0) {
      return absl::NotFoundError(absl::StrCat("no token with id \"", id, "\""));
    }
    if (!r.IsNull(0, 0)) {
      return absl::AlreadyExistsError(
          absl::StrCat("token \"", id, "\" is already revoked"));
    }
    HOTFIX_RETURN_IF_ERROR(
        c.Exec("RevokeToken", "UPDATE tokens SET revoked_at = $2 WHERE id = $1",
               PgParams(id, at))
            .status());
    HOTFIX_RETURN_IF_ERROR(InsertAudit(c, audit));
    return Notify(c, "t");
  });
}

absl::Status PostgresStore::SetProtected(const std::string& env,
                                         bool protected_env,
                                         const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec("SetProtected",
               "UPDATE environments SET protected = $2 WHERE name = $1",
               PgParams(env, protected_env)));
    if (r.affected() != 1) {
      return absl::NotFoundError(
          absl::StrCat("environment \"", env, "\" does not exist"));
    }
    HOTFIX_RETURN_IF_ERROR(InsertAudit(c, audit));
    return Notify(c, absl::StrCat("e ", env));
  });
}

absl::StatusOr<std::int64_t> PostgresStore::InsertChangeRequest(
    const ChangeRequestRow& row, AuditRow audit) {
  absl::MutexLock lock(&mu_);
  std::int64_t id = 0;
  HOTFIX_RETURN_IF_ERROR(Transact([&](PgConnection& c) -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec("InsertChangeRequest",
               "INSERT INTO change_requests (env, action, request, diff, "
               "base_version, proposer, proposer_token_id, reason, "
               "created_at, expires_at, state) VALUES ($1, $2, $3, $4, $5, "
               "$6, $7, $8, $9, $10, 'proposed') RETURNING id",
               PgParams(row.env, row.action, row.request, row.diff,
                        row.base_version, row.proposer, row.proposer_token_id,
                        row.reason, row.created_at, row.expires_at)));
    id = r.Int(0, 0);
    // The audit entry names the request: {"request":ID, ...detail}.
    AuditRow named = audit;
    named.detail = DetailNamingRequest(id, named.detail);
    return InsertAudit(c, named);
  }));
  return id;
}

absl::StatusOr<ChangeRequestRow> PostgresStore::GetChangeRequest(
    const std::string& env, std::int64_t id) {
  absl::MutexLock lock(&mu_);
  HOTFIX_ASSIGN_OR_RETURN(
      PgResult r,
      Read("GetChangeRequest",
           absl::StrCat("SELECT ", ColumnList(kChangeRequestColumns),
                        " FROM change_requests WHERE env = $1 AND id = $2"),
           PgParams(env, id)));
  if (r.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("environment \"", env, "\" has no change request ", id));
  }
  return DecodeRow(PgRow(r, 0), kChangeRequestColumns);
}

absl::StatusOr<std::vector<ChangeRequestRow>> PostgresStore::ListChangeRequests(
    const std::string& env, const std::string& state, int limit) {
  absl::MutexLock lock(&mu_);
  return AllRows(
      Read("ListChangeRequests",
           absl::StrCat("SELECT ", ColumnList(kChangeRequestColumns),
                        " FROM change_requests WHERE env = $1 AND ($2 = '' OR "
                        "state = $2) ORDER BY id DESC LIMIT $3"),
           PgParams(env, state, limit)),
      kChangeRequestColumns);
}

absl::Status PostgresStore::DecideChangeRequest(const ChangeRequestRow& row,
                                                const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec("DecideChangeRequest",
               "UPDATE change_requests SET state = $3, decided_by = $4, "
               "decided_at = $5, comment = $6, applied_version = $7 "
               "WHERE env = $1 AND id = $2 AND state = 'proposed'",
               PgParams(row.env, row.id, row.state, NullIfEmpty{row.decided_by},
                        row.decided_at, NullIfEmpty{row.comment},
                        NullIfZero{row.applied_version})));
    if (r.affected() != 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("change request ", row.id, " is no longer proposed"));
    }
    return InsertAudit(c, audit);
  });
}

absl::Status PostgresStore::InsertWebhook(const WebhookRow& w,
                                          const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(
        c.Exec(
             "InsertWebhook",
             "INSERT INTO webhooks (id, env, url, secret, created_at, "
             "created_by) VALUES ($1, $2, $3, $4, $5, $6)",
             PgParams(w.id, w.env, w.url, w.secret, w.created_at, w.created_by))
            .status());
    HOTFIX_RETURN_IF_ERROR(InsertAudit(c, audit));
    return Notify(c, absl::StrCat("w ", w.env));
  });
}

absl::StatusOr<std::vector<WebhookRow>> PostgresStore::ListWebhooks(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  return AllRows(Read("ListWebhooks",
                      absl::StrCat("SELECT ", ColumnList(kWebhookColumns),
                                   " FROM webhooks WHERE $1 = '' OR env = $1 "
                                   "ORDER BY created_at, id"),
                      PgParams(env)),
                 kWebhookColumns);
}

absl::Status PostgresStore::DeleteWebhook(const std::string& env,
                                          const std::string& id,
                                          const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        PgResult r, c.Exec("DeleteWebhook",
                           "DELETE FROM webhooks WHERE env = $1 AND id = $2",
                           PgParams(env, id)));
    if (r.affected() != 1) {
      return absl::NotFoundError(absl::StrCat(
          "environment \"", env, "\" has no webhook \"", id, "\""));
    }
    HOTFIX_RETURN_IF_ERROR(InsertAudit(c, audit));
    return Notify(c, absl::StrCat("w ", env));
  });
}

absl::Status PostgresStore::AddTelemetry(
    const std::vector<TelemetryRow>& rows) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) -> absl::Status {
    for (const TelemetryRow& t : rows) {
      HOTFIX_RETURN_IF_ERROR(
          c.Exec("AddTelemetry",
                 "INSERT INTO telemetry (env, flag, variant, minute, "
                 "exposures, successes, failures) VALUES ($1, $2, $3, $4, $5, "
                 "$6, $7) ON CONFLICT (env, flag, variant, minute) DO UPDATE "
                 "SET exposures = telemetry.exposures + excluded.exposures, "
                 "successes = telemetry.successes + excluded.successes, "
                 "failures = telemetry.failures + excluded.failures",
                 PgParams(t.env, t.flag, t.variant, t.minute, t.exposures,
                          t.successes, t.failures))
              .status());
      if (t.exposures == 0) continue;
      HOTFIX_RETURN_IF_ERROR(
          c.Exec("AddTelemetry",
                 "INSERT INTO flag_usage (env, flag, last_evaluated) VALUES "
                 "($1, $2, $3) ON CONFLICT (env, flag) DO UPDATE SET "
                 "last_evaluated = GREATEST(flag_usage.last_evaluated, "
                 "excluded.last_evaluated)",
                 PgParams(t.env, t.flag,
                          static_cast<std::int64_t>(t.minute * 60 * 1000000)))
              .status());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<TelemetryRow>> PostgresStore::ListTelemetry(
    const std::string& env, const std::string& flag,
    std::int64_t since_minute) {
  absl::MutexLock lock(&mu_);
  return AllRows(
      Read("ListTelemetry",
           absl::StrCat("SELECT ", ColumnList(kTelemetryColumns),
                        " FROM telemetry WHERE env = $1 AND flag = $2 AND "
                        "minute >= $3 ORDER BY minute, variant"),
           PgParams(env, flag, since_minute)),
      kTelemetryColumns);
}

absl::Status PostgresStore::PurgeTelemetry(std::int64_t before_minute) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) {
    return c
        .Exec("PurgeTelemetry", "DELETE FROM telemetry WHERE minute < $1",
              PgParams(before_minute))
        .status();
  });
}

absl::StatusOr<std::vector<UsageRow>> PostgresStore::ListUsage(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  return AllRows(
      Read("ListUsage",
           absl::StrCat("SELECT ", ColumnList(kUsageColumns),
                        " FROM flag_usage WHERE env = $1 ORDER BY flag"),
           PgParams(env)),
      kUsageColumns);
}

absl::Status PostgresStore::PutRolloutPlan(const RolloutPlanRow& p) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) {
    return c
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
              PgParams(p.env, p.flag, p.spec, p.state, p.stage, p.started_at,
                       p.stage_started_at, p.updated_at, p.created_by,
                       p.judgement))
        .status();
  });
}

absl::StatusOr<RolloutPlanRow> PostgresStore::GetRolloutPlan(
    const std::string& env, const std::string& flag) {
  absl::MutexLock lock(&mu_);
  HOTFIX_ASSIGN_OR_RETURN(
      PgResult r,
      Read("GetRolloutPlan",
           absl::StrCat("SELECT ", ColumnList(kPlanColumns),
                        " FROM rollout_plans WHERE env = $1 AND flag = $2"),
           PgParams(env, flag)));
  if (r.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("flags.", flag, ": no staged rollout in ", env));
  }
  return DecodeRow(PgRow(r, 0), kPlanColumns);
}

absl::StatusOr<std::vector<RolloutPlanRow>> PostgresStore::ListRolloutPlans(
    const std::string& state) {
  absl::MutexLock lock(&mu_);
  return AllRows(
      Read("ListRolloutPlans",
           absl::StrCat("SELECT ", ColumnList(kPlanColumns),
                        " FROM rollout_plans WHERE $1 = '' OR state = $1 "
                        "ORDER BY env, flag"),
           PgParams(state)),
      kPlanColumns);
}

absl::Status PostgresStore::Import(const ImportBatch& b) {
  absl::MutexLock lock(&mu_);
  return Transact([&](PgConnection& c) -> absl::Status {
    for (const EnvironmentRow& e : b.environments) {
      HOTFIX_RETURN_IF_ERROR(
          c.Exec("Import environments",
                 "INSERT INTO environments (name, version, created_at, "
                 "updated_at, protected) VALUES ($1, $2, $3, $4, $5)",
                 PgParams(e.name, e.version, e.created_at, e.updated_at,
                          e.protected_env))
              .status());
    }
    for (const VersionRow& v : b.versions) {
      HOTFIX_RETURN_IF_ERROR(CheckDocument(v, "document"));
      HOTFIX_RETURN_IF_ERROR(InsertVersion(c, v));
    }
    for (const AuditRow& a : b.audit) {
      HOTFIX_RETURN_IF_ERROR(
          c.Exec("Import audit",
                 "INSERT INTO audit (id, created_at, actor, action, env, "
                 "version, reason, detail) VALUES ($1, $2, $3, $4, $5, $6, "
                 "$7, $8)",
                 PgParams(a.id, a.created_at, a.actor, a.action,
                          NullIfEmpty{a.env}, NullIfZero{a.version}, a.reason,
                          a.detail))
              .status());
    }
    for (const TokenRow& t : b.tokens) {
      HOTFIX_RETURN_IF_ERROR(
          c.Exec("Import tokens",
                 "INSERT INTO tokens (id, name, hash, scopes, env, "
                 "created_at, created_by, revoked_at) VALUES ($1, $2, $3, $4, "
                 "$5, $6, $7, $8)",
                 PgParams(t.id, t.name, t.hash, t.scopes, NullIfEmpty{t.env},
                          t.created_at, t.created_by,
                          NullIfZero{static_cast<std::uint64_t>(t.revoked_at)}))
              .status());
    }
    for (const ChangeRequestRow& r : b.change_requests) {
      HOTFIX_RETURN_IF_ERROR(
          c.Exec("Import change_requests",
                 "INSERT INTO change_requests (id, env, action, request, "
                 "diff, base_version, proposer, proposer_token_id, reason, "
                 "created_at, expires_at, state, decided_by, decided_at, "
                 "comment, applied_version) VALUES ($1, $2, $3, $4, $5, $6, "
                 "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                 PgParams(
                     r.id, r.env, r.action, r.request, r.diff, r.base_version,
                     r.proposer, r.proposer_token_id, r.reason, r.created_at,
                     r.expires_at, r.state, NullIfEmpty{r.decided_by},
                     NullIfZero{static_cast<std::uint64_t>(r.decided_at)},
                     NullIfEmpty{r.comment}, NullIfZero{r.applied_version}))
              .status());
    }
    for (const WebhookRow& w : b.webhooks) {
      HOTFIX_RETURN_IF_ERROR(
          c.Exec("Import webhooks",
                 "INSERT INTO webhooks (id, env, url, secret, created_at, "
                 "created_by) VALUES ($1, $2, $3, $4, $5, $6)",
                 PgParams(w.id, w.env, w.url, w.secret, w.created_at,
                          w.created_by))
              .status());
    }
    // Ids were given explicitly: new rows continue after the largest.
    for (const char* table : {"audit", "change_requests"}) {
      HOTFIX_RETURN_IF_ERROR(
          c.Exec("Import sequences",
                 absl::StrCat("SELECT setval(pg_get_serial_sequence('", table,
                              "', 'id'), GREATEST((SELECT MAX(id) FROM ", table,
                              "), 1))"))
              .status());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::unique_ptr<ChangeFeed>> PostgresStore::Watch(
    std::function<void(const StoreEvent&)> on_event) {
  return std::unique_ptr<ChangeFeed>(
      new PostgresFeed(url_, describe_, std::move(on_event)));
}

}  // namespace hotfixd
}  // namespace hotfix
