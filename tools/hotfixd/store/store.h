// tools/hotfixd/store/store.h
//
// Store is hotfixd's durable state, behind one interface with two
// implementations (store/open.h picks one from --database):
//
//   SqliteStore    one SQLite file (sqlite:DIR, the default): WAL mode with
//                  synchronous=FULL; one hotfixd per directory
//   PostgresStore  a PostgreSQL database (postgres://...) that several
//                  hotfixd replicas share; synchronous_commit on
//
// Both are SqlStores (store/sql_store.h): the statements of every method
// are written once, there, and each backend adds only its schema,
// connection and transactions.
//
// Either way a write method that returned OK is durable (survives kill -9 of
// hotfixd, and of the database server). Tables:
//
//   environments  name, current version, protection
//   versions      every version of every environment, stored whole, with
//                 actor, reason, time, action and what changed (for history,
//                 rollback and SSE resume); sha256 guards each document
//   audit         every write: who, when, why, what changed
//   tokens        SHA-256 hashes of tokens, scopes, environment, revocation
//   change_requests  proposed changes to protected environments, with their
//                 diff, proposer, and who approved or rejected them
//   webhooks      where each environment's changes are announced
//   telemetry     guarded-path outcomes and exposures reported by SDKs, per
//                 environment x flag x variant x minute (kept for a while)
//   flag_usage    when each flag was last evaluated, per environment
//   rollout_plans staged rollouts with a guard, and where they stand
//   meta          the database's epoch (store/epoch.h)
//
// Every write method is one transaction. CommitVersion() refuses to commit
// unless the environment is still at the version the caller based its change
// on, so concurrent writers — threads, or replicas sharing PostgreSQL — can
// never overwrite each other, and versions stay contiguous.
//
// Errors: Unavailable when the database cannot be reached (the caller
// answers 503 and keeps serving what it has in memory), Internal for other
// storage failures, DataLoss for a document that fails its checksum.
//
// Thread-safe: every implementation serializes its calls on one connection.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_STORE_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hotfix {
namespace hotfixd {

struct EnvironmentRow {
  std::string name;
  std::uint64_t version = 0;
  std::int64_t created_at = 0;  // Unix microseconds
  std::int64_t updated_at = 0;
  // Writes need a second person's approval (kills excepted).
  bool protected_env = false;
};

struct VersionRow {
  std::string env;
  std::uint64_t version = 0;
  // The whole flag set; its "version" member equals `version`. Empty when
  // listed without documents.
  std::string document;
  std::string sha256;  // hex SHA-256 of `document`
  std::string actor;
  std::string reason;
  std::int64_t created_at = 0;  // Unix microseconds
  std::string action;           // "flag.kill", "rollback", ...
  std::string event;            // "put" or "patch": what SSE clients got
  // event == "patch": the flag and its new JSON (nullopt: deleted).
  std::string patch_key;
  std::optional<std::string> patch_flag;
  std::string changed_keys;  // JSON array of flag keys
  // For a rollback: the version whose set was restored; 0 otherwise.
  std::uint64_t restored_version = 0;
};

struct AuditRow {
  std::int64_t id = 0;  // assigned by the store
  std::int64_t created_at = 0;
  std::string actor;
  std::string action;
  std::string env;            // empty: not environment-specific
  std::uint64_t version = 0;  // 0: no version created
  std::string reason;
  std::string detail;  // JSON object describing what changed
};

// A change proposed to a protected environment (docs/admin-api.md,
// "Approvals").
struct ChangeRequestRow {
  std::int64_t id = 0;  // assigned by the store
  std::string env;
  std::string action;   // "flag.rollout", "flag.revive", ...
  std::string request;  // JSON: what to replay when approved
  std::string diff;     // JSON: the change as proposed
  std::uint64_t base_version = 0;
  std::string proposer;  // token name (the actor)
  std::string proposer_token_id;
  std::string reason;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::string state;  // proposed, applied, rejected, expired
  std::string decided_by;
  std::int64_t decided_at = 0;
  std::string comment;
  std::uint64_t applied_version = 0;
};

struct WebhookRow {
  std::string id;
  std::string env;
  std::string url;
  std::string secret;  // the HMAC key; kept to sign deliveries, never shown
  std::int64_t created_at = 0;
  std::string created_by;
};

// Telemetry of one flag variant in one minute (Unix minutes).
struct TelemetryRow {
  std::string env;
  std::string flag;
  std::string variant;
  std::int64_t minute = 0;
  std::uint64_t exposures = 0;
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
};

struct UsageRow {
  std::string flag;
  std::int64_t last_evaluated = 0;  // Unix microseconds (minute resolution)
};

// A staged rollout with a guard (docs/guarded-rollouts.md).
struct RolloutPlanRow {
  std::string env;
  std::string flag;
  std::string spec;   // JSON: stages, every, criteria, on_regression
  std::string state;  // active, completed, rolled_back, stopped, cancelled
  int stage = 0;      // index into the spec's stages
  std::int64_t started_at = 0;
  std::int64_t stage_started_at = 0;
  std::int64_t updated_at = 0;
  std::string created_by;
  std::string judgement;  // the last verdict's explanation
};

struct TokenRow {
  std::string id;
  std::string name;
  std::string hash;    // hex SHA-256 of the secret
  std::string scopes;  // comma-separated: sdk, read, write, tokens
  std::string env;     // empty: every environment
  std::int64_t created_at = 0;
  std::string created_by;
  std::int64_t revoked_at = 0;  // 0: active
};

// What Health() reports: whether the last attempt to use the database
// worked, and if not, why and since when.
struct StoreHealth {
  bool available = true;
  std::string error;       // the last connection error; empty when available
  std::int64_t since = 0;  // Unix microseconds of the last change of state
};

// A hint from another replica that something changed (PostgreSQL
// LISTEN/NOTIFY). Hints can be lost; the tables are the truth, so a consumer
// re-reads them (core/replication.h).
struct StoreEvent {
  enum class Kind {
    kResync,       // the feed (re)connected: anything may have changed
    kVersion,      // `env` committed `version`
    kEnvironment,  // `env` was created or its settings changed
    kTokens,       // a token was created or revoked
    kWebhooks,     // `env`'s webhooks changed
  };
  Kind kind = Kind::kResync;
  std::string env;
  std::uint64_t version = 0;
};

// A running subscription to StoreEvents; stops (and joins its thread) when
// destroyed.
class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  // True while the feed's own connection is up.
  virtual bool connected() const = 0;
};

// Everything a store holds, in batches, for `hotfixd migrate`
// (store/copy.h). Rows keep their ids.
struct ImportBatch {
  std::vector<EnvironmentRow> environments;
  std::vector<VersionRow> versions;  // with documents; sha256 must match
  std::vector<AuditRow> audit;
  std::vector<TokenRow> tokens;
  std::vector<ChangeRequestRow> change_requests;
  std::vector<WebhookRow> webhooks;
};

class Store {
 public:
  virtual ~Store() = default;

  // Where the data lives, for logs: "sqlite:DIR" or "postgres://host/db"
  // (never a password).
  virtual std::string Describe() const = 0;

  // Health()
  //
  // Cost: a lock; never touches the database.
  virtual StoreHealth Health() const = 0;

  // The database's epoch (store/epoch.h), read when it was opened.
  virtual std::uint32_t Epoch() const = 0;
  // Sets it (hotfixd new-epoch, migrate); run with no hotfixd serving it.
  virtual absl::Status SetEpoch(std::uint32_t epoch) = 0;

  virtual absl::StatusOr<std::vector<EnvironmentRow>> ListEnvironments() = 0;
  // NotFound if there is no such environment.
  virtual absl::StatusOr<EnvironmentRow> GetEnvironment(
      const std::string& env) = 0;

  // GetVersion()
  //
  // NotFound if absent; DataLoss if the stored checksum does not match.
  //
  // Cost: reads and hashes the whole document.
  virtual absl::StatusOr<VersionRow> GetVersion(const std::string& env,
                                                std::uint64_t version) = 0;

  // ListVersions()
  //
  // Newest first, versions < `before` (0: no bound), at most `limit`,
  // without documents.
  virtual absl::StatusOr<std::vector<VersionRow>> ListVersions(
      const std::string& env, std::uint64_t before, int limit) = 0;

  // ListVersionsAfter()
  //
  // Oldest first, versions > `after`, at most `limit`, without documents:
  // how a replica catches up with versions other replicas committed.
  virtual absl::StatusOr<std::vector<VersionRow>> ListVersionsAfter(
      const std::string& env, std::uint64_t after, int limit) = 0;

  // CreateEnvironment()
  //
  // Inserts the environment at `first.version` with that document and the
  // audit entry. AlreadyExists if the name is taken.
  virtual absl::Status CreateEnvironment(const VersionRow& first,
                                         const AuditRow& audit) = 0;

  // CommitVersion()
  //
  // Stores `row` as the environment's new current version and appends
  // `audit`, in one durable transaction. FailedPrecondition (nothing written)
  // unless the environment's current version is row.version - 1.
  //
  // Cost: one durable commit (an fsync on the database's side).
  virtual absl::Status CommitVersion(const VersionRow& row,
                                     const AuditRow& audit) = 0;

  // ListAudit()
  //
  // Newest first; `env` empty: every entry; ids < `before_id` (0: no bound).
  virtual absl::StatusOr<std::vector<AuditRow>> ListAudit(
      const std::string& env, std::int64_t before_id, int limit) = 0;

  virtual absl::StatusOr<std::vector<TokenRow>> ListTokens() = 0;
  // Inserts `token` and, when given, the audit entry. AlreadyExists if a
  // token with that hash (or id) exists.
  virtual absl::Status InsertToken(const TokenRow& token,
                                   const AuditRow* audit) = 0;
  // Marks token `id` revoked. NotFound if unknown, AlreadyExists if
  // already revoked.
  virtual absl::Status RevokeToken(const std::string& id, std::int64_t at,
                                   const AuditRow& audit) = 0;

  // Marks `env` protected or not, with the audit entry.
  virtual absl::Status SetProtected(const std::string& env, bool protected_env,
                                    const AuditRow& audit) = 0;

  // Change requests. InsertChangeRequest returns the new id.
  virtual absl::StatusOr<std::int64_t> InsertChangeRequest(
      const ChangeRequestRow& row, AuditRow audit) = 0;
  // NotFound if there is none with that id in `env`.
  virtual absl::StatusOr<ChangeRequestRow> GetChangeRequest(
      const std::string& env, std::int64_t id) = 0;
  // Newest first; `state` empty: any.
  virtual absl::StatusOr<std::vector<ChangeRequestRow>> ListChangeRequests(
      const std::string& env, const std::string& state, int limit) = 0;
  // Moves request `row.id` from state "proposed" to row.state, recording who
  // decided, when, the comment and the applied version, with the audit entry.
  // FailedPrecondition if it is no longer proposed.
  virtual absl::Status DecideChangeRequest(const ChangeRequestRow& row,
                                           const AuditRow& audit) = 0;

  // Telemetry. AddTelemetry adds each row's counts to the stored minute (and
  // records the flag as evaluated then); ListTelemetry: minutes >=
  // since_minute, oldest first.
  virtual absl::Status AddTelemetry(const std::vector<TelemetryRow>& rows) = 0;
  virtual absl::StatusOr<std::vector<TelemetryRow>> ListTelemetry(
      const std::string& env, const std::string& flag,
      std::int64_t since_minute) = 0;
  virtual absl::Status PurgeTelemetry(std::int64_t before_minute) = 0;
  virtual absl::StatusOr<std::vector<UsageRow>> ListUsage(
      const std::string& env) = 0;

  // Staged rollouts: one per environment and flag (a new one replaces the
  // old). NotFound if there is none; `state` empty lists all.
  virtual absl::Status PutRolloutPlan(const RolloutPlanRow& row) = 0;
  virtual absl::StatusOr<RolloutPlanRow> GetRolloutPlan(
      const std::string& env, const std::string& flag) = 0;
  virtual absl::StatusOr<std::vector<RolloutPlanRow>> ListRolloutPlans(
      const std::string& state) = 0;

  // Webhooks.
  virtual absl::Status InsertWebhook(const WebhookRow& row,
                                     const AuditRow& audit) = 0;
  // `env` empty: every environment's.
  virtual absl::StatusOr<std::vector<WebhookRow>> ListWebhooks(
      const std::string& env) = 0;
  // NotFound if there is none with that id in `env`.
  virtual absl::Status DeleteWebhook(const std::string& env,
                                     const std::string& id,
                                     const AuditRow& audit) = 0;

  // Import()
  //
  // Inserts `batch` verbatim (ids, times and checksums kept) in one
  // transaction: how `hotfixd migrate` fills an empty database. DataLoss if a
  // version's document does not match its sha256.
  virtual absl::Status Import(const ImportBatch& batch) = 0;

  // Watch()
  //
  // Calls `on_event` (on the feed's own thread) for every change another
  // process commits, and kResync whenever the feed (re)connects. Null when
  // the store has a single writer (SQLite: nobody else can change it).
  virtual absl::StatusOr<std::unique_ptr<ChangeFeed>> Watch(
      std::function<void(const StoreEvent&)> on_event) {
    return std::unique_ptr<ChangeFeed>();
  }
};

// Current time in Unix microseconds.
std::int64_t NowMicros();

// What both backends check and write the same way.

// CheckDocument()
//
// DataLoss ("environment \"prod\" version 7: stored document does not match
// its checksum", `document` naming the document) unless `row.sha256` is the
// SHA-256 of `row.document`.
//
// Cost: one SHA-256 of the document.
absl::Status CheckDocument(const VersionRow& row, const char* document);

// DetailNamingRequest()
//
// An audit detail (a JSON object, or empty) with the change request's id put
// first: {"request":ID, ...detail}.
std::string DetailNamingRequest(std::int64_t id, const std::string& detail);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_STORE_H_
