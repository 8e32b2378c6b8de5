// tools/hotfixd/store/store.cc

#include "store/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/crypto.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

constexpr int kSchemaVersion = 2;

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

 private:
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

EnvironmentRow ReadEnvironmentRow(const Stmt& s) {
  EnvironmentRow r;
  r.name = s.Text(0);
  r.version = s.Uint(1);
  r.created_at = s.Int(2);
  r.updated_at = s.Int(3);
  r.protected_env = s.Int(4) != 0;
  return r;
}

AuditRow ReadAuditRow(const Stmt& s) {
  AuditRow a;
  a.id = s.Int(0);
  a.created_at = s.Int(1);
  a.actor = s.Text(2);
  a.action = s.Text(3);
  a.env = s.Text(4);
  a.version = s.IsNull(5) ? 0 : s.Uint(5);
  a.reason = s.Text(6);
  a.detail = s.Text(7);
  return a;
}

TokenRow ReadTokenRow(const Stmt& s) {
  TokenRow t;
  t.id = s.Text(0);
  t.name = s.Text(1);
  t.hash = s.Text(2);
  t.scopes = s.Text(3);
  t.env = s.Text(4);
  t.created_at = s.Int(5);
  t.created_by = s.Text(6);
  t.revoked_at = s.IsNull(7) ? 0 : s.Int(7);
  return t;
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

VersionRow ReadVersionRow(const Stmt& s, bool with_document) {
  // Column order: env, version, actor, reason, created_at, action, event,
  // patch_key, patch_flag, changed_keys, sha256, restored_version[,
  // document]
  VersionRow r;
  r.env = s.Text(0);
  r.version = s.Uint(1);
  r.actor = s.Text(2);
  r.reason = s.Text(3);
  r.created_at = s.Int(4);
  r.action = s.Text(5);
  r.event = s.Text(6);
  r.patch_key = s.Text(7);
  if (!s.IsNull(8)) r.patch_flag = s.Text(8);
  r.changed_keys = s.Text(9);
  r.sha256 = s.Text(10);
  r.restored_version = s.IsNull(11) ? 0 : s.Uint(11);
  if (with_document) r.document = s.Text(12);
  return r;
}

constexpr char kVersionColumns[] =
    "env, version, actor, reason, created_at, action, event, patch_key, "
    "patch_flag, changed_keys, sha256, restored_version";

constexpr char kChangeRequestColumns[] =
    "id, env, action, request, diff, base_version, proposer, "
    "proposer_token_id, reason, created_at, expires_at, state, decided_by, "
    "decided_at, comment, applied_version";

ChangeRequestRow ReadChangeRequestRow(const Stmt& s) {
  ChangeRequestRow r;
  r.id = s.Int(0);
  r.env = s.Text(1);
  r.action = s.Text(2);
  r.request = s.Text(3);
  r.diff = s.Text(4);
  r.base_version = s.Uint(5);
  r.proposer = s.Text(6);
  r.proposer_token_id = s.Text(7);
  r.reason = s.Text(8);
  r.created_at = s.Int(9);
  r.expires_at = s.Int(10);
  r.state = s.Text(11);
  r.decided_by = s.Text(12);
  r.decided_at = s.IsNull(13) ? 0 : s.Int(13);
  r.comment = s.Text(14);
  r.applied_version = s.IsNull(15) ? 0 : s.Uint(15);
  return r;
}

WebhookRow ReadWebhookRow(const Stmt& s) {
  WebhookRow r;
  r.id = s.Text(0);
  r.env = s.Text(1);
  r.url = s.Text(2);
  r.secret = s.Text(3);
  r.created_at = s.Int(4);
  r.created_by = s.Text(5);
  return r;
}

}  // namespace

std::int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) {
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
  std::unique_ptr<Store> store(new Store(db));
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
  if (!st.ok()) return st;
  return store;
}

// Brings a database written by an older hotfixd to kSchemaVersion (the
// tables it lacks are created by kSchema afterwards).
absl::Status Store::Migrate(int from) {
  if (from < 2) {
    HOTFIX_RETURN_IF_ERROR(Exec(
        "ALTER TABLE environments ADD COLUMN protected INTEGER NOT NULL "
        "DEFAULT 0"));
    HOTFIX_RETURN_IF_ERROR(
        Exec("ALTER TABLE versions ADD COLUMN restored_version INTEGER"));
  }
  return absl::OkStatus();
}

Store::~Store() {
  absl::MutexLock lock(&mu_);
  // Folds the WAL back into the database; harmless if it fails.
  sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                            nullptr);
  sqlite3_close_v2(db_);
}

absl::Status Store::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat("sqlite: ", message));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<EnvironmentRow>> Store::ListEnvironments() {
  absl::MutexLock lock(&mu_);
  Stmt s(db_,
         "SELECT name, version, created_at, updated_at, protected "
         "FROM environments ORDER BY name");
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("ListEnvironments"));
  std::vector<EnvironmentRow> out;
  HOTFIX_RETURN_IF_ERROR(
      s.ReadAll("ListEnvironments", ReadEnvironmentRow, &out));
  return out;
}

absl::StatusOr<VersionRow> Store::GetVersion(const std::string& env,
                                             std::uint64_t version) {
  absl::MutexLock lock(&mu_);
  const std::string sql =
      absl::StrCat("SELECT ", kVersionColumns,
                   ", document FROM versions WHERE env = ?1 AND version = ?2");
  Stmt s(db_, sql.c_str());
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("GetVersion"));
  s.Bind(1, env);
  s.BindU(2, version);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(
        absl::StrCat("environment \"", env, "\" has no version ", version));
  }
  if (rc != SQLITE_ROW) return StepError(db_, "GetVersion");
  VersionRow row = ReadVersionRow(s, /*with_document=*/true);
  if (Sha256Hex(row.document) != row.sha256) {
    return absl::DataLossError(
        absl::StrCat("environment \"", env, "\" version ", version,
                     ": stored document does not match its checksum"));
  }
  return row;
}

absl::StatusOr<std::vector<VersionRow>> Store::ListVersions(
    const std::string& env, std::uint64_t before, int limit) {
  absl::MutexLock lock(&mu_);
  const std::string sql =
      absl::StrCat("SELECT ", kVersionColumns,
                   " FROM versions WHERE env = ?1 AND (?2 = 0 OR version < ?2) "
                   "ORDER BY version DESC LIMIT ?3");
  Stmt s(db_, sql.c_str());
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("ListVersions"));
  s.Bind(1, env);
  // Versions are stored as SQLite's signed 64-bit integers: a bound past
  // them all means no bound.
  s.BindU(2, std::min<std::uint64_t>(before, kMaxStoredInt));
  s.Bind(3, static_cast<std::int64_t>(limit));
  std::vector<VersionRow> out;
  HOTFIX_RETURN_IF_ERROR(s.ReadAll(
      "ListVersions",
      [](const Stmt& row) {
        return ReadVersionRow(row, /*with_document=*/false);
      },
      &out));
  return out;
}

absl::Status Store::InsertAudit(const AuditRow& a) {
  Stmt s(db_,
         "INSERT INTO audit (created_at, actor, action, env, version, reason, "
         "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("InsertAudit"));
  s.Bind(1, a.created_at);
  s.Bind(2, a.actor);
  s.Bind(3, a.action);
  s.BindOptional(4, a.env);
  if (a.version == 0) {
    s.BindNull(5);
  } else {
    s.BindU(5, a.version);
  }
  s.Bind(6, a.reason);
  s.Bind(7, a.detail.empty() ? std::string("{}") : a.detail);
  if (s.Step() != SQLITE_DONE) return StepError(db_, "InsertAudit");
  return absl::OkStatus();
}

absl::Status Store::InsertVersion(const VersionRow& r) {
  Stmt s(db_,
         "INSERT INTO versions (env, version, document, sha256, actor, reason, "
         "created_at, action, event, patch_key, patch_flag, changed_keys, "
         "restored_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
         "?11, ?12, ?13)");
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("InsertVersion"));
  s.Bind(1, r.env);
  s.BindU(2, r.version);
  s.Bind(3, r.document);
  s.Bind(4, Sha256Hex(r.document));
  s.Bind(5, r.actor);
  s.Bind(6, r.reason);
  s.Bind(7, r.created_at);
  s.Bind(8, r.action);
  s.Bind(9, r.event);
  s.BindOptional(10, r.patch_key);
  if (r.patch_flag.has_value()) {
    s.Bind(11, *r.patch_flag);
  } else {
    s.BindNull(11);
  }
  s.Bind(12, r.changed_keys.empty() ? std::string("[]") : r.changed_keys);
  if (r.restored_version == 0) {
    s.BindNull(13);
  } else {
    s.BindU(13, r.restored_version);
  }
  if (s.Step() != SQLITE_DONE) return StepError(db_, "InsertVersion");
  return absl::OkStatus();
}

absl::Status Store::CreateEnvironment(const VersionRow& first,
                                      const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_);
  absl::Status st = txn.BeginStatus();
  if (!st.ok()) return st;
  {
    Stmt s(db_,
           "INSERT INTO environments (name, version, created_at, updated_at) "
           "VALUES (?1, ?2, ?3, ?3) ON CONFLICT(name) DO NOTHING");
    HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("CreateEnvironment"));
    s.Bind(1, first.env);
    s.BindU(2, first.version);
    s.Bind(3, first.created_at);
    if (s.Step() != SQLITE_DONE) return StepError(db_, "CreateEnvironment");
    if (sqlite3_changes(db_) != 1) {
      return absl::AlreadyExistsError(
          absl::StrCat("environment \"", first.env, "\" already exists"));
    }
  }
  st = InsertVersion(first);
  if (st.ok()) st = InsertAudit(audit);
  if (st.ok()) st = txn.Commit();
  return st;
}

absl::Status Store::CommitVersion(const VersionRow& row,
                                  const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_);
  absl::Status st = txn.BeginStatus();
  if (!st.ok()) return st;
  {
    Stmt s(db_,
           "UPDATE environments SET version = ?2, updated_at = ?3 "
           "WHERE name = ?1 AND version = ?4");
    HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("CommitVersion"));
    s.Bind(1, row.env);
    s.BindU(2, row.version);
    s.Bind(3, row.created_at);
    s.BindU(4, row.version - 1);
    if (s.Step() != SQLITE_DONE) return StepError(db_, "CommitVersion");
    if (sqlite3_changes(db_) != 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("environment \"", row.env, "\" is no longer at version ",
                       row.version - 1));
    }
  }
  st = InsertVersion(row);
  if (st.ok()) st = InsertAudit(audit);
  if (st.ok()) st = txn.Commit();
  return st;
}

absl::StatusOr<std::vector<AuditRow>> Store::ListAudit(const std::string& env,
                                                       std::int64_t before_id,
                                                       int limit) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_,
         "SELECT id, created_at, actor, action, env, version, reason, detail "
         "FROM audit WHERE (?1 = '' OR env = ?1) AND (?2 = 0 OR id < ?2) "
         "ORDER BY id DESC LIMIT ?3");
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("ListAudit"));
  s.Bind(1, env);
  s.Bind(2, before_id < 0 ? kMaxStoredInt : before_id);
  s.Bind(3, static_cast<std::int64_t>(limit));
  std::vector<AuditRow> out;
  HOTFIX_RETURN_IF_ERROR(s.ReadAll("ListAudit", ReadAuditRow, &out));
  return out;
}

absl::StatusOr<std::vector<TokenRow>> Store::ListTokens() {
  absl::MutexLock lock(&mu_);
  Stmt s(db_,
         "SELECT id, name, hash, scopes, env, created_at, created_by, "
         "revoked_at FROM tokens ORDER BY created_at, id");
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("ListTokens"));
  std::vector<TokenRow> out;
  HOTFIX_RETURN_IF_ERROR(s.ReadAll("ListTokens", ReadTokenRow, &out));
  return out;
}

absl::Status Store::InsertToken(const TokenRow& t, const AuditRow* audit) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_);
  absl::Status st = txn.BeginStatus();
  if (!st.ok()) return st;
  {
    Stmt s(db_,
           "INSERT INTO tokens (id, name, hash, scopes, env, created_at, "
           "created_by, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)");
    HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("InsertToken"));
    s.Bind(1, t.id);
    s.Bind(2, t.name);
    s.Bind(3, t.hash);
    s.Bind(4, t.scopes);
    s.BindOptional(5, t.env);
    s.Bind(6, t.created_at);
    s.Bind(7, t.created_by);
    const int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError("a token with that value already exists");
    }
    if (rc != SQLITE_DONE) return StepError(db_, "InsertToken");
  }
  if (audit != nullptr) st = InsertAudit(*audit);
  if (st.ok()) st = txn.Commit();
  return st;
}

absl::Status Store::RevokeToken(const std::string& id, std::int64_t at,
                                const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_);
  absl::Status st = txn.BeginStatus();
  if (!st.ok()) return st;
  {
    Stmt q(db_, "SELECT revoked_at FROM tokens WHERE id = ?1");
    HOTFIX_RETURN_IF_ERROR(q.PrepareStatus("RevokeToken"));
    q.Bind(1, id);
    const int rc = q.Step();
    if (rc == SQLITE_DONE) {
      return absl::NotFoundError(absl::StrCat("no token with id \"", id, "\""));
    }
    if (rc != SQLITE_ROW) return StepError(db_, "RevokeToken");
    if (!q.IsNull(0)) {
      return absl::AlreadyExistsError(
          absl::StrCat("token \"", id, "\" is already revoked"));
    }
  }
  {
    Stmt s(db_, "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1");
    HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("RevokeToken"));
    s.Bind(1, id);
    s.Bind(2, at);
    if (s.Step() != SQLITE_DONE) return StepError(db_, "RevokeToken");
  }
  st = InsertAudit(audit);
  if (st.ok()) st = txn.Commit();
  return st;
}

absl::Status Store::SetProtected(const std::string& env, bool protected_env,
                                 const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_);
  HOTFIX_RETURN_IF_ERROR(txn.BeginStatus());
  {
    Stmt s(db_, "UPDATE environments SET protected = ?2 WHERE name = ?1");
    HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("SetProtected"));
    s.Bind(1, env);
    s.Bind(2, static_cast<std::int64_t>(protected_env ? 1 : 0));
    if (s.Step() != SQLITE_DONE) return StepError(db_, "SetProtected");
    if (sqlite3_changes(db_) != 1) {
      return absl::NotFoundError(
          absl::StrCat("environment \"", env, "\" does not exist"));
    }
  }
  HOTFIX_RETURN_IF_ERROR(InsertAudit(audit));
  return txn.Commit();
}

absl::StatusOr<std::int64_t> Store::InsertChangeRequest(
    const ChangeRequestRow& r, AuditRow audit) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_);
  HOTFIX_RETURN_IF_ERROR(txn.BeginStatus());
  Stmt s(db_,
         "INSERT INTO change_requests (env, action, request, diff, "
         "base_version, proposer, proposer_token_id, reason, created_at, "
         "expires_at, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
         "'proposed')");
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("InsertChangeRequest"));
  s.Bind(1, r.env);
  s.Bind(2, r.action);
  s.Bind(3, r.request);
  s.Bind(4, r.diff);
  s.BindU(5, r.base_version);
  s.Bind(6, r.proposer);
  s.Bind(7, r.proposer_token_id);
  s.Bind(8, r.reason);
  s.Bind(9, r.created_at);
  s.Bind(10, r.expires_at);
  if (s.Step() != SQLITE_DONE) return StepError(db_, "InsertChangeRequest");
  const std::int64_t id = sqlite3_last_insert_rowid(db_);
  // The audit entry names the request: {"request":ID, ...detail}.
  const bool more = audit.detail.size() > 2;  // not "{}" or ""
  audit.detail = absl::StrCat("{\"request\":", id, more ? "," : "}",
                              more ? audit.detail.substr(1) : "");
  HOTFIX_RETURN_IF_ERROR(InsertAudit(audit));
  HOTFIX_RETURN_IF_ERROR(txn.Commit());
  return id;
}

absl::StatusOr<ChangeRequestRow> Store::GetChangeRequest(const std::string& env,
                                                         std::int64_t id) {
  absl::MutexLock lock(&mu_);
  const std::string sql = absl::StrCat("SELECT ", kChangeRequestColumns,
                                       " FROM change_requests WHERE env = ?1 "
                                       "AND id = ?2");
  Stmt s(db_, sql.c_str());
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("GetChangeRequest"));
  s.Bind(1, env);
  s.Bind(2, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat(
        "environment \"", env, "\" has no change request ", id));
  }
  if (rc != SQLITE_ROW) return StepError(db_, "GetChangeRequest");
  return ReadChangeRequestRow(s);
}

absl::StatusOr<std::vector<ChangeRequestRow>> Store::ListChangeRequests(
    const std::string& env, const std::string& state, int limit) {
  absl::MutexLock lock(&mu_);
  const std::string sql = absl::StrCat(
      "SELECT ", kChangeRequestColumns,
      " FROM change_requests WHERE env = ?1 AND (?2 = '' OR state = ?2) "
      "ORDER BY id DESC LIMIT ?3");
  Stmt s(db_, sql.c_str());
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("ListChangeRequests"));
  s.Bind(1, env);
  s.Bind(2, state);
  s.Bind(3, static_cast<std::int64_t>(limit));
  std::vector<ChangeRequestRow> out;
  HOTFIX_RETURN_IF_ERROR(
      s.ReadAll("ListChangeRequests", ReadChangeRequestRow, &out));
  return out;
}

absl::Status Store::DecideChangeRequest(const ChangeRequestRow& r,
                                        const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_);
  HOTFIX_RETURN_IF_ERROR(txn.BeginStatus());
  {
    Stmt s(db_,
           "UPDATE change_requests SET state = ?3, decided_by = ?4, "
           "decided_at = ?5, comment = ?6, applied_version = ?7 "
           "WHERE env = ?1 AND id = ?2 AND state = 'proposed'");
    HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("DecideChangeRequest"));
    s.Bind(1, r.env);
    s.Bind(2, r.id);
    s.Bind(3, r.state);
    s.BindOptional(4, r.decided_by);
    s.Bind(5, r.decided_at);
    s.BindOptional(6, r.comment);
    if (r.applied_version == 0) {
      s.BindNull(7);
    } else {
      s.BindU(7, r.applied_version);
    }
    if (s.Step() != SQLITE_DONE) return StepError(db_, "DecideChangeRequest");
    if (sqlite3_changes(db_) != 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "change request ", r.id, " is no longer proposed"));
    }
  }
  HOTFIX_RETURN_IF_ERROR(InsertAudit(audit));
  return txn.Commit();
}

absl::Status Store::InsertWebhook(const WebhookRow& r, const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_);
  HOTFIX_RETURN_IF_ERROR(txn.BeginStatus());
  {
    Stmt s(db_,
           "INSERT INTO webhooks (id, env, url, secret, created_at, "
           "created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("InsertWebhook"));
    s.Bind(1, r.id);
    s.Bind(2, r.env);
    s.Bind(3, r.url);
    s.Bind(4, r.secret);
    s.Bind(5, r.created_at);
    s.Bind(6, r.created_by);
    if (s.Step() != SQLITE_DONE) return StepError(db_, "InsertWebhook");
  }
  HOTFIX_RETURN_IF_ERROR(InsertAudit(audit));
  return txn.Commit();
}

absl::StatusOr<std::vector<WebhookRow>> Store::ListWebhooks(
    const std::string& env) {
  absl::MutexLock lock(&mu_);
  Stmt s(db_,
         "SELECT id, env, url, secret, created_at, created_by FROM webhooks "
         "WHERE ?1 = '' OR env = ?1 ORDER BY created_at, id");
  HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("ListWebhooks"));
  s.Bind(1, env);
  std::vector<WebhookRow> out;
  HOTFIX_RETURN_IF_ERROR(s.ReadAll("ListWebhooks", ReadWebhookRow, &out));
  return out;
}

absl::Status Store::DeleteWebhook(const std::string& env, const std::string& id,
                                  const AuditRow& audit) {
  absl::MutexLock lock(&mu_);
  Transaction txn(db_);
  HOTFIX_RETURN_IF_ERROR(txn.BeginStatus());
  {
    Stmt s(db_, "DELETE FROM webhooks WHERE env = ?1 AND id = ?2");
    HOTFIX_RETURN_IF_ERROR(s.PrepareStatus("DeleteWebhook"));
    s.Bind(1, env);
    s.Bind(2, id);
    if (s.Step() != SQLITE_DONE) return StepError(db_, "DeleteWebhook");
    if (sqlite3_changes(db_) != 1) {
      return absl::NotFoundError(absl::StrCat(
          "environment \"", env, "\" has no webhook \"", id, "\""));
    }
  }
  HOTFIX_RETURN_IF_ERROR(InsertAudit(audit));
  return txn.Commit();
}

}  // namespace hotfixd
}  // namespace hotfix
