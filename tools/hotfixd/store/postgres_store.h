// tools/hotfixd/store/postgres_store.h
//
// PostgresStore: the Store (store/store.h) in a PostgreSQL database that
// several hotfixd replicas share (--database postgres://...). Same tables as
// SQLite; every write is one transaction committed with synchronous_commit
// on, and sends a NOTIFY on channel "hotfixd" in the same transaction (so it
// is delivered exactly when the change is visible): "v ENV VERSION" for a new
// version, "e ENV" for a new environment or changed settings, "t" for tokens,
// "w ENV" for webhooks. Watch() listens on its own connection
// (store/postgres_feed.h).
//
// Concurrency across replicas: CommitVersion is a compare-and-set on the
// environment's version (UPDATE ... WHERE version = previous) under READ
// COMMITTED, so of two replicas committing on the same base exactly one
// succeeds and the other gets FailedPrecondition; DecideChangeRequest and
// RevokeToken are compare-and-sets too.
//
// Losing the server: a call answers Unavailable; the next call reconnects
// (bounded by the connect timeout). A statement that failed before anything
// was sent in its transaction (BEGIN, a read) is retried once on a new
// connection, so the first request after a database restart succeeds. A
// COMMIT whose answer is lost is reported as Unavailable: the change may or
// may not be stored (it was never acknowledged), and replicas catch up with
// it from the table if it was.
//
// Thread-safe: one connection guarded by a mutex; calls are serialized.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_POSTGRES_STORE_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_POSTGRES_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/pg_conn.h"
#include "store/store.h"

namespace hotfix {
namespace hotfixd {

class PostgresStore final : public Store {
 public:
  // Open()
  //
  // Connects to `url`, creates or checks the schema (serialized between
  // replicas starting together by an advisory lock) and reads the epoch.
  // Unavailable if the server cannot be reached; FailedPrecondition if the
  // schema is newer than this hotfixd.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(
      const std::string& url);

  ~PostgresStore() override;

  std::string Describe() const override { return describe_; }
  StoreHealth Health() const override;
  std::uint32_t Epoch() const override;
  absl::Status SetEpoch(std::uint32_t epoch) override;

  absl::StatusOr<std::vector<EnvironmentRow>> ListEnvironments() override;
  absl::StatusOr<EnvironmentRow> GetEnvironment(const std::string& env) override;
  absl::StatusOr<VersionRow> GetVersion(const std::string& env,
                                        std::uint64_t version) override;
  absl::StatusOr<std::vector<VersionRow>> ListVersions(const std::string& env,
                                                       std::uint64_t before,
                                                       int limit) override;
  absl::StatusOr<std::vector<VersionRow>> ListVersionsAfter(
      const std::string& env, std::uint64_t after, int limit) override;
  absl::Status CreateEnvironment(const VersionRow& first,
                                 const AuditRow& audit) override;
  absl::Status CommitVersion(const VersionRow& row,
                             const AuditRow& audit) override;
  absl::StatusOr<std::vector<AuditRow>> ListAudit(const std::string& env,
                                                  std::int64_t before_id,
                                                  int limit) override;
  absl::StatusOr<std::vector<TokenRow>> ListTokens() override;
  absl::Status InsertToken(const TokenRow& token,
                           const AuditRow* audit) override;
  absl::Status RevokeToken(const std::string& id, std::int64_t at,
                           const AuditRow& audit) override;
  absl::Status SetProtected(const std::string& env, bool protected_env,
                            const AuditRow& audit) override;
  absl::StatusOr<std::int64_t> InsertChangeRequest(const ChangeRequestRow& row,
                                                   AuditRow audit) override;
  absl::StatusOr<ChangeRequestRow> GetChangeRequest(const std::string& env,
                                                    std::int64_t id) override;
  absl::StatusOr<std::vector<ChangeRequestRow>> ListChangeRequests(
      const std::string& env, const std::string& state, int limit) override;
  absl::Status DecideChangeRequest(const ChangeRequestRow& row,
                                   const AuditRow& audit) override;
  absl::Status InsertWebhook(const WebhookRow& row,
                             const AuditRow& audit) override;
  absl::StatusOr<std::vector<WebhookRow>> ListWebhooks(
      const std::string& env) override;
  absl::Status DeleteWebhook(const std::string& env, const std::string& id,
                             const AuditRow& audit) override;
  absl::Status AddTelemetry(const std::vector<TelemetryRow>& rows) override;
  absl::StatusOr<std::vector<TelemetryRow>> ListTelemetry(
      const std::string& env, const std::string& flag,
      std::int64_t since_minute) override;
  absl::Status PurgeTelemetry(std::int64_t before_minute) override;
  absl::StatusOr<std::vector<UsageRow>> ListUsage(
      const std::string& env) override;
  absl::Status PutRolloutPlan(const RolloutPlanRow& row) override;
  absl::StatusOr<RolloutPlanRow> GetRolloutPlan(
      const std::string& env, const std::string& flag) override;
  absl::StatusOr<std::vector<RolloutPlanRow>> ListRolloutPlans(
      const std::string& state) override;
  absl::Status Import(const ImportBatch& batch) override;
  absl::StatusOr<std::unique_ptr<ChangeFeed>> Watch(
      std::function<void(const StoreEvent&)> on_event) override;

 private:
  using Body = std::function<absl::Status(PgConnection&)>;

  PostgresStore(std::string url, std::string describe)
      : url_(std::move(url)), describe_(std::move(describe)) {}

  // A live connection (reconnecting if there is none).
  absl::Status Connect() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One statement outside a transaction, retried once on a new connection
  // if the old one had gone away.
  absl::StatusOr<PgResult> Read(const char* what, const std::string& sql,
                                const PgParams& params)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // BEGIN; body; COMMIT — retried once on a new connection if BEGIN found
  // the old one gone.
  absl::Status Transact(const Body& body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the outcome of talking to the server (Health(), and a log line
  // when it changes).
  void Observe(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CreateSchema() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string url_;
  const std::string describe_;
  mutable absl::Mutex mu_;
  std::unique_ptr<PgConnection> conn_ ABSL_GUARDED_BY(mu_);
  std::uint32_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  mutable absl::Mutex health_mu_;
  StoreHealth health_ ABSL_GUARDED_BY(health_mu_);
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_POSTGRES_STORE_H_
