// tools/hotfixd/store/sqlite_store.h
//
// SqliteStore: the Store (store/store.h) in one SQLite file, DIR/hotfixd.db,
// in WAL mode with synchronous=FULL, so a write method that returned OK is on
// disk and survives kill -9 (and power loss, given an honest disk). One
// hotfixd per directory (main.cc holds DIR/hotfixd.lock), so there is no
// change feed: nobody else writes.
//
// Thread-safe: one connection guarded by a mutex; calls are serialized.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_SQLITE_STORE_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_SQLITE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/store.h"

struct sqlite3;

namespace hotfix {
namespace hotfixd {

class SqliteStore final : public Store {
 public:
  // Open()
  //
  // Opens (creating if needed) the database file `path`, sets WAL +
  // synchronous=FULL and creates or upgrades the schema. FailedPrecondition
  // if the database was written by a newer hotfixd; Unavailable if it cannot
  // be opened.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  std::string Describe() const override { return "sqlite:" + path_; }
  StoreHealth Health() const override { return StoreHealth{}; }
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

 private:
  SqliteStore(sqlite3* db, std::string path)
      : db_(db), path_(std::move(path)) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertAudit(const AuditRow& audit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertVersion(const VersionRow& row)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Migrate(int from) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadEpoch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename Body>
  absl::Status Transact(Body body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  sqlite3* const db_;
  const std::string path_;
  std::uint32_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_SQLITE_STORE_H_
