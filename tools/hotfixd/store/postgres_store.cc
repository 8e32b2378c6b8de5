// tools/hotfixd/store/postgres_store.cc

#include "store/postgres_store.h"

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/server_log.h"
#include "store/postgres_feed.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// 4: telemetry, flag_usage, rollout_plans (the numbers follow SQLite's).
constexpr int kSchemaVersion = 4;
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

// One row of a result, as SqlStore reads it.
class PgRow final : public SqlStore::Row {
 public:
  PgRow(const PgResult& result, int row) : result_(result), row_(row) {}

  std::string Text(int col) const override { return result_.Text(row_, col); }
  bool IsNull(int col) const override { return result_.IsNull(row_, col); }
  std::int64_t Int(int col) const override { return result_.Int(row_, col); }
  std::uint64_t Uint(int col) const override { return result_.Uint(row_, col); }
  bool Bool(int col) const override { return result_.Bool(row_, col); }

 private:
  const PgResult& result_;
  int row_;
};

void EachRow(const PgResult& result, SqlStore::RowSink on_row) {
  for (int i = 0; i < result.rows(); ++i) on_row(PgRow(result, i));
}

// The statements of a transaction open on `conn`.
class PgStatements final : public SqlStore::Transaction {
 public:
  explicit PgStatements(PgConnection& conn) : conn_(conn) {}

  absl::StatusOr<int> Exec(const char* what, const std::string& sql,
                           const SqlArgs& args) override {
    HOTFIX_ASSIGN_OR_RETURN(PgResult r, conn_.Exec(what, sql, PgParams(args)));
    return r.affected();
  }
  absl::Status Query(const char* what, const std::string& sql,
                     const SqlArgs& args, SqlStore::RowSink on_row) override {
    HOTFIX_ASSIGN_OR_RETURN(PgResult r, conn_.Exec(what, sql, PgParams(args)));
    EachRow(r, on_row);
    return absl::OkStatus();
  }
  // NOTIFY in the current transaction: delivered when (and only if) it
  // commits.
  absl::Status Notify(const StoreEvent& event) override {
    return conn_
        .Exec("NOTIFY", "SELECT pg_notify('hotfixd', $1)",
              PgParams(NotificationPayload(event)))
        .status();
  }

 private:
  PgConnection& conn_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(
    const std::string& url) {
  std::unique_ptr<PostgresStore> store(
      new PostgresStore(url, DescribePostgresUrl(url)));
  absl::MutexLock lock(&store->mu_);
  HOTFIX_RETURN_IF_ERROR(store->CreateSchema());
  HOTFIX_RETURN_IF_ERROR(store->LoadEpoch(store->describe_));
  return store;
}

PostgresStore::~PostgresStore() = default;

absl::Status PostgresStore::CreateSchema() {
  std::string schema_version;
  HOTFIX_RETURN_IF_ERROR(TransactOn([&](PgConnection& c) -> absl::Status {
    HOTFIX_RETURN_IF_ERROR(c.Exec("schema lock", kSchemaLock).status());
    HOTFIX_RETURN_IF_ERROR(c.ExecScript("create schema", kSchema).status());
    HOTFIX_ASSIGN_OR_RETURN(
        PgResult meta,
        c.Exec("read meta", "SELECT value FROM meta WHERE key = 'schema'"));
    if (meta.rows() > 0) schema_version = meta.Text(0, 0);
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

absl::Status PostgresStore::TransactOn(Body body) {
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

absl::Status PostgresStore::Read(const char* what, const std::string& sql,
                                 const SqlArgs& args, RowSink on_row) {
  const PgParams params(args);
  absl::Status last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    HOTFIX_RETURN_IF_ERROR(Connect());
    absl::StatusOr<PgResult> r = conn_->Exec(what, sql, params);
    Observe(r.status());
    if (r.ok()) {
      EachRow(*r, on_row);
      return absl::OkStatus();
    }
    if (!absl::IsUnavailable(r.status())) return r.status();
    last = r.status();
    conn_.reset();
  }
  return last;
}

absl::Status PostgresStore::Transact(
    absl::FunctionRef<absl::Status(Transaction&)> body) {
  return TransactOn([&](PgConnection& c) {
    PgStatements statements(c);
    return body(statements);
  });
}

absl::Status PostgresStore::AfterImport(Transaction& txn) {
  // Ids were given explicitly: new rows continue after the largest.
  for (const char* table : {"audit", "change_requests"}) {
    HOTFIX_RETURN_IF_ERROR(
        txn.Exec("Import sequences",
                 absl::StrCat("SELECT setval(pg_get_serial_sequence('", table,
                              "', 'id'), GREATEST((SELECT MAX(id) FROM ", table,
                              "), 1))"),
                 {})
            .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ChangeFeed>> PostgresStore::Watch(
    std::function<void(const StoreEvent&)> on_event) {
  return std::unique_ptr<ChangeFeed>(
      new PostgresFeed(url_, describe_, std::move(on_event)));
}

}  // namespace hotfixd
}  // namespace hotfix
