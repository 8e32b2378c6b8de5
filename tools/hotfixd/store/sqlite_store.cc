// tools/hotfixd/store/sqlite_store.cc

#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/columns.h"
#include "store/crypto.h"
#include "store/sql_args.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// 3: telemetry, flag_usage, rollout_plans. 4: the meta table (the epoch).
// Every table is created if missing, so a version 3 database from either
// line of development opens.
constexpr int kSchemaVersion = 4;

constexpr std::int64_t kMaxStoredInt = std::numeric_limits<std::int64_t>::max();

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS environments (
  name        TEXT PRIMARY KEY,
  version     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  protected   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS versions (
  env           TEXT NOT NULL REFERENCES environments(name),
  version       INTEGER NOT NULL,
  document      TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  actor         TEXT NOT NULL,
  reason        TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  action        TEXT NOT NULL,
  event         TEXT NOT NULL,
  patch_key     TEXT,
  patch_flag    TEXT,
  changed_keys  TEXT NOT NULL,
  restored_version INTEGER,
  PRIMARY KEY (env, version)
);
CREATE TABLE IF NOT EXISTS audit (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at  INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  env         TEXT,
  version     INTEGER,
  reason      TEXT NOT NULL,
  detail      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_env ON audit(env, id);
CREATE TABLE IF NOT EXISTS change_requests (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  env                TEXT NOT NULL,
  action             TEXT NOT NULL,
  request            TEXT NOT NULL,
  diff               TEXT NOT NULL,
  base_version       INTEGER NOT NULL,
  proposer           TEXT NOT NULL,
  proposer_token_id  TEXT NOT NULL,
  reason             TEXT NOT NULL,
  created_at         INTEGER NOT NULL,
  expires_at         INTEGER NOT NULL,
  state              TEXT NOT NULL,
  decided_by         TEXT,
  decided_at         INTEGER,
  comment            TEXT,
  applied_version    INTEGER
);
CREATE INDEX IF NOT EXISTS change_requests_by_env ON change_requests(env, id);
CREATE TABLE IF NOT EXISTS webhooks (
  id          TEXT PRIMARY KEY,
  env         TEXT NOT NULL,
  url         TEXT NOT NULL,
  secret      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  created_by  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS telemetry (
  env         TEXT NOT NULL,
  flag        TEXT NOT NULL,
  variant     TEXT NOT NULL,
  minute      INTEGER NOT NULL,
  exposures   INTEGER NOT NULL,
  successes   INTEGER NOT NULL,
  failures    INTEGER NOT NULL,
  PRIMARY KEY (env, flag, variant, minute)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flag_usage (
  env             TEXT NOT NULL,
  flag            TEXT NOT NULL,
  last_evaluated  INTEGER NOT NULL,
  PRIMARY KEY (env, flag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollout_plans (
  env               TEXT NOT NULL,
  flag              TEXT NOT NULL,
  spec              TEXT NOT NULL,
  state             TEXT NOT NULL,
  stage             INTEGER NOT NULL,
  started_at        INTEGER NOT NULL,
  stage_started_at  INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  created_by        TEXT NOT NULL,
  judgement         TEXT NOT NULL,
  PRIMARY KEY (env, flag)
);
CREATE TABLE IF NOT EXISTS meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  hash        TEXT NOT NULL UNIQUE,
  scopes      TEXT NOT NULL,
  env         TEXT,
  created_at  INTEGER NOT NULL,
  created_by  TEXT NOT NULL,
  revoked_at  INTEGER
);
)sql";

// A prepared statement; finalized on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  absl::Status PrepareStatus(const char* what) const {
    if (ok()) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("sqlite: preparing ", what, ": ", sqlite3_errmsg(db_)));
  }

  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()),
                      SQLITE_TRANSIENT);
  }
  void BindOptional(int i, const std::string& s) {
    if (s.empty()) {
      sqlite3_bind_null(stmt_, i);
    } else {
      Bind(i, s);
    }
  }
  void Bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindU(int i, std::uint64_t v) {
    sqlite3_bind_int64(stmt_, i, static_cast<std::int64_t>(v));
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  void Bind(int i, NullIfEmpty v) { BindOptional(i, v.text); }
  void Bind(int i, NullIfZero v) {
    if (v.value == 0) {
      BindNull(i);
    } else {
      BindU(i, v.value);
    }
  }
  void Bind(int i, const std::optional<std::string>& v) {
    if (v.has_value()) {
      Bind(i, *v);
    } else {
      BindNull(i);
    }
  }

  // Binds ?1, ?2, ... to `args` in order: std::string (text), std::int64_t,
  // std::uint64_t, NullIfEmpty, NullIfZero, std::optional<std::string>.
  template <typename... Args>
  void BindAll(const Args&... args) {
    int i = 0;
    (BindArg(++i, args), ...);
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }

  // Steps through every row, appending read(*this) to `out`; an error
  // naming `what` if stepping fails.
  template <typename Row, typename Read>
  absl::Status ReadAll(const char* what, Read read, std::vector<Row>* out);

  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return std::string();
    return std::string(
        reinterpret_cast<const char*>(p),
        static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  bool IsNull(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::uint64_t Uint(int col) const {
    return static_cast<std::uint64_t>(sqlite3_column_int64(stmt_, col));
  }
  bool Bool(int col) const { return Int(col) != 0; }

 private:
  template <typename T>
  void BindArg(int i, const T& v) {
    if constexpr (std::is_same_v<T, std::uint64_t>) {
      BindU(i, v);
    } else if constexpr (std::is_integral_v<T>) {
      Bind(i, static_cast<std::int64_t>(v));
    } else {
      Bind(i, v);
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

absl::Status StepError(sqlite3* db, const char* what) {
  return absl::InternalError(
      absl::StrCat("sqlite: ", what, ": ", sqlite3_errmsg(db)));
}

template <typename Row, typename Read>
absl::Status Stmt::ReadAll(const char* what, Read read, std::vector<Row>* out) {
  int rc;
  while ((rc = Step()) == SQLITE_ROW) out->push_back(read(*this));
  if (rc != SQLITE_DONE) return StepError(db_, what);
  return absl::OkStatus();
}

// Runs `sql` (no result rows) with `args`; returns how many rows it changed.
template <typename... Args>
absl::StatusOr<int> Run(sqlite3* db, const char* what, const std::string& sql,
                        const Args&... args) {
  Stmt s(db, sql.c_str());
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus(what));
  s.BindAll(args...);
  if (s.Step() != SQLITE_DONE) return StepError(db, what);
  return sqlite3_changes(db);
}

// Runs a query with `args`; read(stmt) makes each row.
template <typename Read, typename... Args>
auto Query(sqlite3* db, const char* what, const std::string& sql, Read read,
           const Args&... args)
    -> absl::StatusOr<std::vector<decltype(read(std::declval<Stmt&>()))>> {
  Stmt s(db, sql.c_str());
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus(what));
  s.BindAll(args...);
  std::vector<decltype(read(std::declval<Stmt&>()))> out;
  HOTFIX_RETURN_IF_ERROR(s.ReadAll(what, read, &out));
  return out;
}

// The one row a query finds; `missing` when there is none.
template <typename Read, typename... Args>
auto QueryOne(sqlite3* db, const char* what, const std::string& sql,
              absl::Status missing, Read read, const Args&... args)
    -> absl::StatusOr<decltype(read(std::declval<Stmt&>()))> {
  Stmt s(db, sql.c_str());
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus(what));
  s.BindAll(args...);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return missing;
  if (rc != SQLITE_ROW) return StepError(db, what);
  return read(s);
}

// Reads each row as `columns` selected it (a table in store/columns.h).
template <typename Columns>
auto ReadAs(const Columns& columns) {
  return [&columns](const Stmt& s) { return DecodeRow(s, columns); };
}

// Rolls back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    char* err = nullptr;
    rc_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, &err);
    sqlite3_free(err);
  }
  ~Transaction() {
    if (rc_ == SQLITE_OK && !committed_) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  absl::Status BeginStatus() const {
    if (rc_ == SQLITE_OK) return absl::OkStatus();
    return StepError(db_, "BEGIN");
  }
  absl::Status Commit() {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return StepError(db_, "COMMIT");
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  sqlite3* db_;
  int rc_;
  bool committed_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(
        absl::StrCat("cannot open database \"", path, "\": ", message));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path));
  absl::MutexLock lock(&store->mu_);
  sqlite3_busy_timeout(db, 5000);
  // WAL: readers do not block the writer; synchronous=FULL: the WAL is
  // fsync'ed at every commit, so a committed (acknowledged) write survives a
  // crash of the process or of the machine.
  {
    Stmt wal(db, "PRAGMA journal_mode=WAL");
    if (!wal.ok() || wal.Step() != SQLITE_ROW || wal.Text(0) != "wal") {
      return absl::UnavailableError(
          absl::StrCat("cannot put database \"", path,
                       "\" in WAL mode: ", sqlite3_errmsg(db)));
    }
  }
  absl::Status st = store->Exec("PRAGMA synchronous=FULL");
  if (st.ok()) st = store->Exec("PRAGMA foreign_keys=ON");
  if (!st.ok()) return st;
  int user_version = 0;
  {
    Stmt v(db, "PRAGMA user_version");
    if (v.ok() && v.Step() == SQLITE_ROW)
      user_version = static_cast<int>(v.Int(0));
  }
  if (user_version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database \"", path, "\" has schema version ", user_version,
        ", newer than this hotfixd understands (", kSchemaVersion, ")"));
  }
  if (user_version > 0 && user_version < kSchemaVersion) {
    st = store->Migrate(user_version);
    if (!st.ok()) return st;
  }
  st = store->Exec(kSchema);
  if (st.ok() && user_version < kSchemaVersion) {
    st = store->Exec(
        absl::StrCat("PRAGMA user_version=", kSchemaVersion).c_str());
  }
  if (st.ok()) st = store->LoadEpoch();
  if (!st.ok()) return st;
  return store;
}

absl::Status SqliteStore::LoadEpoch() {
  HOTFIX_ASSIGN_OR_RETURN(
      std::vector<std::string> values,
      Query(db_, "LoadEpoch", "SELECT value FROM meta WHERE key = 'epoch'",
            [](const Stmt& s) { return s.Text(0); }));
  epoch_ = 0;
  if (!values.empty() && !absl::SimpleAtoi(values[0], &epoch_)) {
    return absl::DataLossError(absl::StrCat(
        "database \"", path_, "\": malformed epoch \"", values[0], "\""));
  }
  return absl::OkStatus();
}

std::uint32_t SqliteStore::Epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

absl::Status SqliteStore::SetEpoch(std::uint32_t epoch) {
  absl::MutexLock lock(&mu_);
  HOTFIX_RETURN_IF_ERROR(
      Run(db_, "SetEpoch",
          "INSERT INTO meta (key, value) VALUES ('epoch', ?1) "
          "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
          absl::StrCat(epoch))
          .status());
  epoch_ = epoch;
  return absl::OkStatus();
}

// Brings a database written by an older hotfixd to kSchemaVersion (the
// tables it lacks are created by kSchema afterwards).
absl::Status SqliteStore::Migrate(int from) {
  if (from < 2) {
    HOTFIX_RETURN_IF_ERROR(
        Exec("ALTER TABLE environments ADD COLUMN protected INTEGER NOT NULL "
             "DEFAULT 0"));
    HOTFIX_RETURN_IF_ERROR(
        Exec("ALTER TABLE versions ADD COLUMN restored_version INTEGER"));
  }
  return absl::OkStatus();
}

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&mu_);
  // Folds the WAL back into the database; harmless if it fails.
  sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                            nullptr);
  sqlite3_close_v2(db_);
}

absl::Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat("sqlite: ", message));
  }
  return absl::OkStatus();
}

// Runs `body` in one transaction (BEGIN IMMEDIATE ... COMMIT), rolled back
// if it fails.
template <typename Body>
absl::Status SqliteStore::Transact(Body body) {
  Transaction txn(db_);
  HOTFIX_RETURN_IF_ERROR(txn.BeginStatus());
  HOTFIX_RETURN_IF_ERROR(body());
  return txn.Commit();
}

absl::StatusOr<std::vector<EnvironmentRow>> SqliteStore::ListEnvironments() {
  absl::MutexLock lock(&mu_);
  return Query(db_, "ListEnvironments",
               absl::StrCat("SELECT ", ColumnList(kEnvironmentColumns),
                            " FROM environments ORDER BY name"),
               ReadAs(kEnvironmentColumns));
}

absl::StatusOr<EnvironmentRow> SqliteStore::GetEnvironment(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  return QueryOne(db_, "GetEnvironment",
                  absl::StrCat("SELECT ", ColumnList(kEnvironmentColumns),
                               " FROM environments WHERE name = ?1"),
                  absl::NotFoundError(
                      absl::StrCat("environment \"", env, "\" does not exist")),
                  ReadAs(kEnvironmentColumns), env);
}

absl::StatusOr<VersionRow> SqliteStore::GetVersion(const std::string& env,
                                                   std::uint64_t version) {
  absl::MutexLock lock(&mu_);
  HOTFIX_ASSIGN_OR_RETURN(
      VersionRow row,
      QueryOne(db_, "GetVersion",
               absl::StrCat("SELECT ", ColumnList(kVersionWithDocumentColumns),
                            " FROM versions WHERE env = ?1 AND "
                            "version = ?2"),
               absl::NotFoundError(absl::StrCat("environment \"", env,
                                                "\" has no version ", version)),
               ReadAs(kVersionWithDocumentColumns), env, version));
  HOTFIX_RETURN_IF_ERROR(CheckDocument(row, "stored document"));
  return row;
}

absl::StatusOr<std::vector<VersionRow>> SqliteStore::ListVersions(
    const std::string& env, std::uint64_t before, int limit) {
  absl::MutexLock lock(&mu_);
  // Versions are stored as SQLite's signed 64-bit integers: a bound past
  // them all means no bound.
  return Query(
      db_, "ListVersions",
      absl::StrCat("SELECT ", ColumnList(kVersionColumns),
                   " FROM versions WHERE env = ?1 AND (?2 = 0 OR version < ?2) "
                   "ORDER BY version DESC LIMIT ?3"),
      ReadAs(kVersionColumns), env,
      std::min<std::uint64_t>(before, kMaxStoredInt), limit);
}

absl::StatusOr<std::vector<VersionRow>> SqliteStore::ListVersionsAfter(
    const std::string& env, std::uint64_t after, int limit) {
  absl::MutexLock lock(&mu_);
  return Query(db_, "ListVersionsAfter",
               absl::StrCat("SELECT ", ColumnList(kVersionColumns),
                            " FROM versions WHERE env = ?1 AND version > ?2 "
                            "ORDER BY version LIMIT ?3"),
               ReadAs(kVersionColumns), env,
               std::min<std::uint64_t>(after, kMaxStoredInt), limit);
}

absl::Status SqliteStore::InsertAudit(const AuditRow& a) {
  return Run(db_, "InsertAudit",
             "INSERT INTO audit (created_at, actor, action, env, version, "
             "reason, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
             a.created_at, a.actor, a.action, NullIfEmpty{a.env},
             NullIfZero{a.version}, a.reason,
             a.detail.empty() ? std::string("{}") : a.detail)
      .status();
}

absl::Status SqliteStore::InsertVersion(const VersionRow& r) {
  return Run(db_, "InsertVersion",
             "INSERT INTO versions (env, version, document, sha256, actor, "
             "reason, created_at, action, event, patch_key, patch_flag, "
             "changed_keys, restored_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
             "?7, ?8, ?9, ?10, ?11, ?12, ?13)",
             r.env, r.version, r.document, Sha256Hex(r.document), r.actor,
             r.reason, r.created_at, r.action, r.event,
             NullIfEmpty{r.patch_key}, r.patch_flag,
             r.changed_keys.empty() ? std::string("[]") : r.changed_keys,
             NullIfZero{r.restored_version})
      .status();
}

absl::Status SqliteStore::CreateEnvironment(const VersionRow& first,
                                            const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        int changed,
        Run(db_, "CreateEnvironment",
            "INSERT INTO environments (name, version, created_at, updated_at) "
            "VALUES (?1, ?2, ?3, ?3) ON CONFLICT(name) DO NOTHING",
            first.env, first.version, first.created_at));
    if (changed != 1) {
      return absl::AlreadyExistsError(
          absl::StrCat("environment \"", first.env, "\" already exists"));
    }
    HOTFIX_RETURN_IF_ERROR(InsertVersion(first));
    return InsertAudit(audit);
  });
}

absl::Status SqliteStore::CommitVersion(const VersionRow& row,
                                        const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        int changed,
        Run(db_, "CommitVersion",
            "UPDATE environments SET version = ?2, updated_at = ?3 "
            "WHERE name = ?1 AND version = ?4",
            row.env, row.version, row.created_at, row.version - 1));
    if (changed != 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("environment \"", row.env, "\" is no longer at version ",
                       row.version - 1));
    }
    HOTFIX_RETURN_IF_ERROR(InsertVersion(row));
    return InsertAudit(audit);
  });
}

absl::StatusOr<std::vector<AuditRow>> SqliteStore::ListAudit(
    const std::string& env, std::int64_t before_id, int limit) {
  absl::MutexLock lock(&mu_);
  return Query(db_, "ListAudit",
               absl::StrCat("SELECT ", ColumnList(kAuditColumns),
                            " FROM audit WHERE (?1 = '' OR env = ?1) AND "
                            "(?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3"),
               ReadAs(kAuditColumns), env,
               before_id < 0 ? kMaxStoredInt : before_id, limit);
}

absl::StatusOr<std::vector<TokenRow>> SqliteStore::ListTokens() {
  absl::MutexLock lock(&mu_);
  return Query(db_, "ListTokens",
               absl::StrCat("SELECT ", ColumnList(kTokenColumns),
                            " FROM tokens ORDER BY created_at, id"),
               ReadAs(kTokenColumns));
}

absl::Status SqliteStore::InsertToken(const TokenRow& t,
                                      const AuditRow* audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    Stmt s(db_,
           "INSERT INTO tokens (id, name, hash, scopes, env, created_at, "
           "created_by, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)");
    HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("InsertToken"));
    s.BindAll(t.id, t.name, t.hash, t.scopes, NullIfEmpty{t.env}, t.created_at,
              t.created_by);
    const int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError("a token with that value already exists");
    }
    if (rc != SQLITE_DONE) return StepError(db_, "InsertToken");
    return audit != nullptr ? InsertAudit(*audit) : absl::OkStatus();
  });
}

absl::Status SqliteStore::RevokeToken(const std::string& id, std::int64_t at,
                                      const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        bool revoked,
        QueryOne(
            db_, "RevokeToken", "SELECT revoked_at FROM tokens WHERE id = ?1",
            absl::NotFoundError(absl::StrCat("no token with id \"", id, "\"")),
            [](const Stmt& s) { return !s.IsNull(0); }, id));
    if (revoked) {
      return absl::AlreadyExistsError(
          absl::StrCat("token \"", id, "\" is already revoked"));
    }
    HOTFIX_RETURN_IF_ERROR(
        Run(db_, "RevokeToken",
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1", id, at)
            .status());
    return InsertAudit(audit);
  });
}

absl::Status SqliteStore::SetProtected(const std::string& env,
                                       bool protected_env,
                                       const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        int changed,
        Run(db_, "SetProtected",
            "UPDATE environments SET protected = ?2 WHERE name = ?1", env,
            protected_env ? 1 : 0));
    if (changed != 1) {
      return absl::NotFoundError(
          absl::StrCat("environment \"", env, "\" does not exist"));
    }
    return InsertAudit(audit);
  });
}

absl::StatusOr<std::int64_t> SqliteStore::InsertChangeRequest(
    const ChangeRequestRow& r, AuditRow audit) {
  absl::MutexLock lock(&mu_);
  std::int64_t id = 0;
  HOTFIX_RETURN_IF_ERROR(Transact([&]() -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(
        Run(db_, "InsertChangeRequest",
            "INSERT INTO change_requests (env, action, request, diff, "
            "base_version, proposer, proposer_token_id, reason, created_at, "
            "expires_at, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
            "?10, 'proposed')",
            r.env, r.action, r.request, r.diff, r.base_version, r.proposer,
            r.proposer_token_id, r.reason, r.created_at, r.expires_at)
            .status());
    id = sqlite3_last_insert_rowid(db_);
    // The audit entry names the request: {"request":ID, ...detail}.
    audit.detail = DetailNamingRequest(id, audit.detail);
    return InsertAudit(audit);
  }));
  return id;
}

absl::StatusOr<ChangeRequestRow> SqliteStore::GetChangeRequest(
    const std::string& env, std::int64_t id) {
  absl::MutexLock lock(&mu_);
  return QueryOne(
      db_, "GetChangeRequest",
      absl::StrCat("SELECT ", ColumnList(kChangeRequestColumns),
                   " FROM change_requests WHERE env = ?1 AND id = ?2"),
      absl::NotFoundError(
          absl::StrCat("environment \"", env, "\" has no change request ", id)),
      ReadAs(kChangeRequestColumns), env, id);
}

absl::StatusOr<std::vector<ChangeRequestRow>> SqliteStore::ListChangeRequests(
    const std::string& env, const std::string& state, int limit) {
  absl::MutexLock lock(&mu_);
  return Query(
      db_, "ListChangeRequests",
      absl::StrCat("SELECT ", ColumnList(kChangeRequestColumns),
                   " FROM change_requests WHERE env = ?1 AND "
                   "(?2 = '' OR state = ?2) ORDER BY id DESC LIMIT ?3"),
      ReadAs(kChangeRequestColumns), env, state, limit);
}

absl::Status SqliteStore::DecideChangeRequest(const ChangeRequestRow& r,
                                              const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        int changed,
        Run(db_, "DecideChangeRequest",
            "UPDATE change_requests SET state = ?3, decided_by = ?4, "
            "decided_at = ?5, comment = ?6, applied_version = ?7 "
            "WHERE env = ?1 AND id = ?2 AND state = 'proposed'",
            r.env, r.id, r.state, NullIfEmpty{r.decided_by}, r.decided_at,
            NullIfEmpty{r.comment}, NullIfZero{r.applied_version}));
    if (changed != 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("change request ", r.id, " is no longer proposed"));
    }
    return InsertAudit(audit);
  });
}

absl::Status SqliteStore::InsertWebhook(const WebhookRow& r,
                                        const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(
        Run(db_, "InsertWebhook",
            "INSERT INTO webhooks (id, env, url, secret, created_at, "
            "created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            r.id, r.env, r.url, r.secret, r.created_at, r.created_by)
            .status());
    return InsertAudit(audit);
  });
}

absl::StatusOr<std::vector<WebhookRow>> SqliteStore::ListWebhooks(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  return Query(db_, "ListWebhooks",
               absl::StrCat("SELECT ", ColumnList(kWebhookColumns),
                            " FROM webhooks WHERE ?1 = '' OR env = ?1 "
                            "ORDER BY created_at, id"),
               ReadAs(kWebhookColumns), env);
}

absl::Status SqliteStore::DeleteWebhook(const std::string& env,
                                        const std::string& id,
                                        const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    HOTFIX_ASSIGN_OR_RETURN(
        int changed,
        Run(db_, "DeleteWebhook",
            "DELETE FROM webhooks WHERE env = ?1 AND id = ?2", env, id));
    if (changed != 1) {
      return absl::NotFoundError(absl::StrCat(
          "environment \"", env, "\" has no webhook \"", id, "\""));
    }
    return InsertAudit(audit);
  });
}

absl::Status SqliteStore::Import(const ImportBatch& b) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    for (const EnvironmentRow& e : b.environments) {
      HOTFIX_RETURN_IF_ERROR(
          Run(db_, "Import environments",
              "INSERT INTO environments (name, version, created_at, "
              "updated_at, protected) VALUES (?1, ?2, ?3, ?4, ?5)",
              e.name, e.version, e.created_at, e.updated_at,
              e.protected_env ? 1 : 0)
              .status());
    }
    for (const VersionRow& v : b.versions) {
      HOTFIX_RETURN_IF_ERROR(CheckDocument(v, "document"));
      HOTFIX_RETURN_IF_ERROR(InsertVersion(v));
    }
    for (const AuditRow& a : b.audit) {
      HOTFIX_RETURN_IF_ERROR(
          Run(db_, "Import audit",
              "INSERT INTO audit (id, created_at, actor, action, env, "
              "version, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
              "?8)",
              a.id, a.created_at, a.actor, a.action, NullIfEmpty{a.env},
              NullIfZero{a.version}, a.reason, a.detail)
              .status());
    }
    for (const TokenRow& t : b.tokens) {
      HOTFIX_RETURN_IF_ERROR(
          Run(db_, "Import tokens",
              "INSERT INTO tokens (id, name, hash, scopes, env, created_at, "
              "created_by, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
              t.id, t.name, t.hash, t.scopes, NullIfEmpty{t.env}, t.created_at,
              t.created_by,
              NullIfZero{static_cast<std::uint64_t>(t.revoked_at)})
              .status());
    }
    for (const ChangeRequestRow& r : b.change_requests) {
      HOTFIX_RETURN_IF_ERROR(
          Run(db_, "Import change_requests",
              "INSERT INTO change_requests (id, env, action, request, diff, "
              "base_version, proposer, proposer_token_id, reason, created_at, "
              "expires_at, state, decided_by, decided_at, comment, "
              "applied_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
              "?10, ?11, ?12, ?13, ?14, ?15, ?16)",
              r.id, r.env, r.action, r.request, r.diff, r.base_version,
              r.proposer, r.proposer_token_id, r.reason, r.created_at,
              r.expires_at, r.state, NullIfEmpty{r.decided_by},
              NullIfZero{static_cast<std::uint64_t>(r.decided_at)},
              NullIfEmpty{r.comment}, NullIfZero{r.applied_version})
              .status());
    }
    for (const WebhookRow& w : b.webhooks) {
      HOTFIX_RETURN_IF_ERROR(
          Run(db_, "Import webhooks",
              "INSERT INTO webhooks (id, env, url, secret, created_at, "
              "created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
              w.id, w.env, w.url, w.secret, w.created_at, w.created_by)
              .status());
    }
    return absl::OkStatus();
  });
}

absl::Status SqliteStore::AddTelemetry(const std::vector<TelemetryRow>& rows) {
  absl::MutexLock lock(&mu_);
  return Transact([&]() -> absl::Status {
    for (const TelemetryRow& r : rows) {
      HOTFIX_RETURN_IF_ERROR(
          Run(db_, "AddTelemetry",
              "INSERT INTO telemetry (env, flag, variant, minute, exposures, "
              "successes, failures) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
              "ON CONFLICT(env, flag, variant, minute) DO UPDATE SET "
              "exposures = exposures + ?5, successes = successes + ?6, "
              "failures = failures + ?7",
              r.env, r.flag, r.variant, r.minute, r.exposures, r.successes,
              r.failures)
              .status());
      if (r.exposures == 0) continue;
      HOTFIX_RETURN_IF_ERROR(
          Run(db_, "AddTelemetry",
              "INSERT INTO flag_usage (env, flag, last_evaluated) VALUES "
              "(?1, ?2, ?3) ON CONFLICT(env, flag) DO UPDATE SET "
              "last_evaluated = max(last_evaluated, ?3)",
              r.env, r.flag, r.minute * 60 * 1000000)
              .status());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<TelemetryRow>> SqliteStore::ListTelemetry(
    const std::string& env, const std::string& flag,
    std::int64_t since_minute) {
  absl::MutexLock lock(&mu_);
  return Query(db_, "ListTelemetry",
               absl::StrCat("SELECT ", ColumnList(kTelemetryColumns),
                            " FROM telemetry WHERE env = ?1 AND flag = ?2 AND "
                            "minute >= ?3 ORDER BY minute, variant"),
               ReadAs(kTelemetryColumns), env, flag, since_minute);
}

absl::Status SqliteStore::PurgeTelemetry(std::int64_t before_minute) {
  absl::MutexLock lock(&mu_);
  return Run(db_, "PurgeTelemetry", "DELETE FROM telemetry WHERE minute < ?1",
             before_minute)
      .status();
}

absl::StatusOr<std::vector<UsageRow>> SqliteStore::ListUsage(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  return Query(db_, "ListUsage",
               absl::StrCat("SELECT ", ColumnList(kUsageColumns),
                            " FROM flag_usage WHERE env = ?1"),
               ReadAs(kUsageColumns), env);
}

absl::Status SqliteStore::PutRolloutPlan(const RolloutPlanRow& r) {
  absl::MutexLock lock(&mu_);
  return Run(db_, "PutRolloutPlan",
             absl::StrCat("INSERT OR REPLACE INTO rollout_plans (",
                          ColumnList(kPlanColumns),
                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
             r.env, r.flag, r.spec, r.state, r.stage, r.started_at,
             r.stage_started_at, r.updated_at, r.created_by, r.judgement)
      .status();
}

absl::StatusOr<RolloutPlanRow> SqliteStore::GetRolloutPlan(
    const std::string& env, const std::string& flag) {
  absl::MutexLock lock(&mu_);
  return QueryOne(
      db_, "GetRolloutPlan",
      absl::StrCat("SELECT ", ColumnList(kPlanColumns),
                   " FROM rollout_plans WHERE env = ?1 AND flag = ?2"),
      absl::NotFoundError(
          absl::StrCat("flags.", flag, ": no staged rollout in ", env)),
      ReadAs(kPlanColumns), env, flag);
}

absl::StatusOr<std::vector<RolloutPlanRow>> SqliteStore::ListRolloutPlans(
    const std::string& state) {
  absl::MutexLock lock(&mu_);
  return Query(db_, "ListRolloutPlans",
               absl::StrCat("SELECT ", ColumnList(kPlanColumns),
                            " FROM rollout_plans WHERE ?1 = '' OR state = ?1 "
                            "ORDER BY env, flag"),
               ReadAs(kPlanColumns), state);
}

}  // namespace hotfixd
}  // namespace hotfix
