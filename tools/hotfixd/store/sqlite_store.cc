// tools/hotfixd/store/sqlite_store.cc

#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <string>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// 3: telemetry, flag_usage, rollout_plans. 4: the meta table (the epoch).
// Every table is created if missing, so a version 3 database from either
// line of development opens.
constexpr int kSchemaVersion = 4;

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

// The one place SQL written for SqlStore ($1, $2, ...) becomes SQLite's:
// "$N" is a named parameter to SQLite (numbered in order of appearance), so
// each becomes the numbered "?N". No statement has a "$" otherwise.
std::string SqliteSql(const std::string& sql) {
  std::string out = sql;
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && absl::ascii_isdigit(out[i + 1])) out[i] = '?';
  }
  return out;
}

absl::Status StepError(sqlite3* db, const char* what) {
  return absl::InternalError(
      absl::StrCat("sqlite: ", what, ": ", sqlite3_errmsg(db)));
}

// A prepared statement, whose current result row SqlStore reads; finalized
// on destruction.
class Stmt final : public SqlStore::Row {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, SqliteSql(sql).c_str(), -1, &stmt_, nullptr);
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

  // Binds ?1, ?2, ... to `args` in order.
  void BindAll(const SqlArgs& args) {
    int i = 0;
    for (const SqlArg& arg : args) Bind(++i, arg.value());
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }

  // Steps through every row, calling on_row(*this) for each; an error
  // naming `what` if stepping fails (AlreadyExists for a unique
  // constraint).
  absl::Status ReadAll(const char* what, SqlStore::RowSink on_row) {
    int rc;
    while ((rc = Step()) == SQLITE_ROW) on_row(*this);
    if (rc == SQLITE_DONE) return absl::OkStatus();
    const int code = sqlite3_extended_errcode(db_);
    if (code == SQLITE_CONSTRAINT_UNIQUE ||
        code == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return absl::AlreadyExistsError(
          absl::StrCat("sqlite: ", what, ": ", sqlite3_errmsg(db_)));
    }
    return StepError(db_, what);
  }

  std::string Text(int col) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return std::string();
    return std::string(
        reinterpret_cast<const char*>(p),
        static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  bool IsNull(int col) const override {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  std::int64_t Int(int col) const override {
    return sqlite3_column_int64(stmt_, col);
  }
  std::uint64_t Uint(int col) const override {
    return static_cast<std::uint64_t>(sqlite3_column_int64(stmt_, col));
  }
  bool Bool(int col) const override { return Int(col) != 0; }

 private:
  void Bind(int i, const SqlArg::Value& v) {
    if (const auto* text = std::get_if<std::string>(&v)) {
      sqlite3_bind_text(stmt_, i, text->data(), static_cast<int>(text->size()),
                        SQLITE_TRANSIENT);
    } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
      sqlite3_bind_int64(stmt_, i, *n);
    } else if (const auto* u = std::get_if<std::uint64_t>(&v)) {
      sqlite3_bind_int64(stmt_, i, static_cast<std::int64_t>(*u));
    } else if (const auto* b = std::get_if<bool>(&v)) {
      sqlite3_bind_int64(stmt_, i, *b ? 1 : 0);
    } else {
      sqlite3_bind_null(stmt_, i);
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// Runs `sql` with `args`, calling `on_row` for each result row; returns how
// many rows it changed.
absl::StatusOr<int> Run(sqlite3* db, const char* what, const std::string& sql,
                        const SqlArgs& args, SqlStore::RowSink on_row) {
  Stmt s(db, sql);
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus(what));
  s.BindAll(args);
  HOTFIX_RETURN_IF_ERROR(s.ReadAll(what, on_row));
  return sqlite3_changes(db);
}

void IgnoreRow(const SqlStore::Row&) {}

// The statements of an open transaction on `db`. SQLite has no other
// process to notify.
class SqliteStatements final : public SqlStore::Transaction {
 public:
  explicit SqliteStatements(sqlite3* db) : db_(db) {}

  absl::StatusOr<int> Exec(const char* what, const std::string& sql,
                           const SqlArgs& args) override {
    return Run(db_, what, sql, args, IgnoreRow);
  }
  absl::Status Query(const char* what, const std::string& sql,
                     const SqlArgs& args, SqlStore::RowSink on_row) override {
    return Run(db_, what, sql, args, on_row).status();
  }
  absl::Status Notify(const StoreEvent& event) override {
    return absl::OkStatus();
  }

 private:
  sqlite3* const db_;
};

// BEGIN IMMEDIATE; rolls back unless Commit() succeeded.
class ScopedTransaction {
 public:
  explicit ScopedTransaction(sqlite3* db) : db_(db) {
    char* err = nullptr;
    rc_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, &err);
    sqlite3_free(err);
  }
  ~ScopedTransaction() {
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
  if (st.ok()) st = store->LoadEpoch(absl::StrCat("\"", path, "\""));
  if (!st.ok()) return st;
  return store;
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

absl::Status SqliteStore::Read(const char* what, const std::string& sql,
                               const SqlArgs& args, RowSink on_row) {
  return Run(db_, what, sql, args, on_row).status();
}

// BEGIN IMMEDIATE; body; COMMIT, rolled back if the body fails.
absl::Status SqliteStore::Transact(
    absl::FunctionRef<absl::Status(Transaction&)> body) {
  ScopedTransaction txn(db_);
  HOTFIX_RETURN_IF_ERROR(txn.BeginStatus());
  SqliteStatements statements(db_);
  HOTFIX_RETURN_IF_ERROR(body(statements));
  return txn.Commit();
}

}  // namespace hotfixd
}  // namespace hotfix
