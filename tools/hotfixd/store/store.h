// tools/hotfixd/store/store.h
//
// Store is hotfixd's durable state: one SQLite database (DATA_DIR/hotfixd.db)
// in WAL mode with synchronous=FULL, so a write method that returned OK is on
// disk and survives kill -9 (and power loss, given an honest disk). Tables:
//
//   environments  name, current version
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
//
// Every write method is one transaction. CommitVersion() refuses to commit
// unless the environment is still at the version the caller based its change
// on, so concurrent writers can never overwrite each other.
//
// Thread-safe: one connection guarded by a mutex; calls are serialized.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_STORE_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

struct sqlite3;

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

class Store {
 public:
  // Open()
  //
  // Opens (creating if needed) `path`, sets WAL + synchronous=FULL and
  // creates or checks the schema. FailedPrecondition if the database was
  // written by a newer hotfixd.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  absl::StatusOr<std::vector<EnvironmentRow>> ListEnvironments();

  // GetVersion()
  //
  // NotFound if absent; DataLoss if the stored checksum does not match.
  absl::StatusOr<VersionRow> GetVersion(const std::string& env,
                                        std::uint64_t version);

  // ListVersions()
  //
  // Newest first, versions < `before` (0: no bound), at most `limit`,
  // without documents.
  absl::StatusOr<std::vector<VersionRow>> ListVersions(const std::string& env,
                                                       std::uint64_t before,
                                                       int limit);

  // CreateEnvironment()
  //
  // Inserts the environment at `first.version` with that document and the
  // audit entry. AlreadyExists if the name is taken.
  absl::Status CreateEnvironment(const VersionRow& first,
                                 const AuditRow& audit);

  // CommitVersion()
  //
  // Stores `row` as the environment's new current version and appends
  // `audit`, in one durable transaction. FailedPrecondition (nothing written)
  // unless the environment's current version is row.version - 1.
  absl::Status CommitVersion(const VersionRow& row, const AuditRow& audit);

  // ListAudit()
  //
  // Newest first; `env` empty: every entry; ids < `before_id` (0: no bound).
  absl::StatusOr<std::vector<AuditRow>> ListAudit(const std::string& env,
                                                  std::int64_t before_id,
                                                  int limit);

  absl::StatusOr<std::vector<TokenRow>> ListTokens();
  // Inserts `token` and, when given, the audit entry.
  absl::Status InsertToken(const TokenRow& token, const AuditRow* audit);
  // Marks token `id` revoked. NotFound if unknown, AlreadyExists if
  // already revoked.
  absl::Status RevokeToken(const std::string& id, std::int64_t at,
                           const AuditRow& audit);

  // Marks `env` protected or not, with the audit entry.
  absl::Status SetProtected(const std::string& env, bool protected_env,
                            const AuditRow& audit);

  // Change requests. InsertChangeRequest returns the new id.
  absl::StatusOr<std::int64_t> InsertChangeRequest(const ChangeRequestRow& row,
                                                   AuditRow audit);
  // NotFound if there is none with that id in `env`.
  absl::StatusOr<ChangeRequestRow> GetChangeRequest(const std::string& env,
                                                    std::int64_t id);
  // Newest first; `state` empty: any.
  absl::StatusOr<std::vector<ChangeRequestRow>> ListChangeRequests(
      const std::string& env, const std::string& state, int limit);
  // Moves request `row.id` from state "proposed" to row.state, recording who
  // decided, when, the comment and the applied version, with the audit entry.
  // FailedPrecondition if it is no longer proposed.
  absl::Status DecideChangeRequest(const ChangeRequestRow& row,
                                   const AuditRow& audit);

  // Telemetry. AddTelemetry adds each row's counts to the stored minute (and
  // records the flag as evaluated then); ListTelemetry: minutes >=
  // since_minute, oldest first.
  absl::Status AddTelemetry(const std::vector<TelemetryRow>& rows);
  absl::StatusOr<std::vector<TelemetryRow>> ListTelemetry(
      const std::string& env, const std::string& flag,
      std::int64_t since_minute);
  absl::Status PurgeTelemetry(std::int64_t before_minute);
  absl::StatusOr<std::vector<UsageRow>> ListUsage(const std::string& env);

  // Staged rollouts: one per environment and flag (a new one replaces the
  // old). NotFound if there is none; `state` empty lists all.
  absl::Status PutRolloutPlan(const RolloutPlanRow& row);
  absl::StatusOr<RolloutPlanRow> GetRolloutPlan(const std::string& env,
                                                const std::string& flag);
  absl::StatusOr<std::vector<RolloutPlanRow>> ListRolloutPlans(
      const std::string& state);

  // Webhooks.
  absl::Status InsertWebhook(const WebhookRow& row, const AuditRow& audit);
  // `env` empty: every environment's.
  absl::StatusOr<std::vector<WebhookRow>> ListWebhooks(const std::string& env);
  // NotFound if there is none with that id in `env`.
  absl::Status DeleteWebhook(const std::string& env, const std::string& id,
                             const AuditRow& audit);

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertAudit(const AuditRow& audit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertVersion(const VersionRow& row)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Migrate(int from) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename Body>
  absl::Status Transact(Body body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* const db_;
};

// Current time in Unix microseconds.
std::int64_t NowMicros();

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_STORE_H_
