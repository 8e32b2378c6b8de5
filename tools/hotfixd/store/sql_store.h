// tools/hotfixd/store/sql_store.h
//
// SqlStore: the Store (store/store.h) written once for every SQL database.
// Each resource method's statements — with $1, $2, ... placeholders — its
// transaction, its compare-and-set and its errors are here, once; the rows
// are read through the column tables of store/columns.h. A backend
// (SqliteStore, PostgresStore) derives from SqlStore and provides only what
// differs between databases: the schema, running a statement (binding its
// SqlArgs and handing back its rows), running a transaction, the
// notification a write sends to other replicas, and Describe(), Health(),
// Watch().
//
// Thread-safe: every method that reads or writes the database holds mu_, so
// calls are serialized on the backend's one connection, and a backend's
// primitives (Read(), Transact(), AfterImport()) run with mu_ held.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_SQL_STORE_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_SQL_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/columns.h"
#include "store/sql_args.h"
#include "store/store.h"

namespace hotfix {
namespace hotfixd {

class SqlStore : public Store {
 public:
  // One row of a statement's result, as DecodeRow() (store/columns.h) reads
  // it: column `col` (from 0) as text, integer or boolean, each "", 0 or
  // false for SQL NULL.
  class Row {
   public:
    virtual std::string Text(int col) const = 0;
    virtual bool IsNull(int col) const = 0;
    virtual std::int64_t Int(int col) const = 0;
    virtual std::uint64_t Uint(int col) const = 0;
    virtual bool Bool(int col) const = 0;

   protected:
    ~Row() = default;
  };
  using RowSink = absl::FunctionRef<void(const Row&)>;

  // The statements of one open transaction. `what` names a statement in
  // errors; `sql` uses $1, $2, ... for `args`.
  class Transaction {
   public:
    // Runs a statement; returns how many rows it inserted, updated or
    // deleted. AlreadyExists if it breaks a unique constraint.
    virtual absl::StatusOr<int> Exec(const char* what, const std::string& sql,
                                     const SqlArgs& args) = 0;
    // Runs a statement that returns rows (SELECT, ... RETURNING), calling
    // `on_row` for each.
    virtual absl::Status Query(const char* what, const std::string& sql,
                               const SqlArgs& args, RowSink on_row) = 0;
    // Tells other replicas about `event` when (and only if) the transaction
    // commits; nothing where there are none.
    virtual absl::Status Notify(const StoreEvent& event) = 0;

   protected:
    ~Transaction() = default;
  };

  SqlStore(const SqlStore&) = delete;
  SqlStore& operator=(const SqlStore&) = delete;

  std::uint32_t Epoch() const final;
  absl::Status SetEpoch(std::uint32_t epoch) final;

  absl::StatusOr<std::vector<EnvironmentRow>> ListEnvironments() final;
  absl::StatusOr<EnvironmentRow> GetEnvironment(const std::string& env) final;
  absl::StatusOr<VersionRow> GetVersion(const std::string& env,
                                        std::uint64_t version) final;
  absl::StatusOr<std::vector<VersionRow>> ListVersions(const std::string& env,
                                                       std::uint64_t before,
                                                       int limit) final;
  absl::StatusOr<std::vector<VersionRow>> ListVersionsAfter(
      const std::string& env, std::uint64_t after, int limit) final;
  absl::Status CreateEnvironment(const VersionRow& first,
                                 const AuditRow& audit) final;
  absl::Status CommitVersion(const VersionRow& row,
                             const AuditRow& audit) final;
  absl::StatusOr<std::vector<AuditRow>> ListAudit(const std::string& env,
                                                  std::int64_t before_id,
                                                  int limit) final;
  absl::StatusOr<std::vector<TokenRow>> ListTokens() final;
  absl::Status InsertToken(const TokenRow& token, const AuditRow* audit) final;
  absl::Status RevokeToken(const std::string& id, std::int64_t at,
                           const AuditRow& audit) final;
  absl::Status SetProtected(const std::string& env, bool protected_env,
                            const AuditRow& audit) final;
  absl::StatusOr<std::int64_t> InsertChangeRequest(const ChangeRequestRow& row,
                                                   AuditRow audit) final;
  absl::StatusOr<ChangeRequestRow> GetChangeRequest(const std::string& env,
                                                    std::int64_t id) final;
  absl::StatusOr<std::vector<ChangeRequestRow>> ListChangeRequests(
      const std::string& env, const std::string& state, int limit) final;
  absl::Status DecideChangeRequest(const ChangeRequestRow& row,
                                   const AuditRow& audit) final;
  absl::Status InsertWebhook(const WebhookRow& row,
                             const AuditRow& audit) final;
  absl::StatusOr<std::vector<WebhookRow>> ListWebhooks(
      const std::string& env) final;
  absl::Status DeleteWebhook(const std::string& env, const std::string& id,
                             const AuditRow& audit) final;
  absl::Status AddTelemetry(const std::vector<TelemetryRow>& rows) final;
  absl::StatusOr<std::vector<TelemetryRow>> ListTelemetry(
      const std::string& env, const std::string& flag,
      std::int64_t since_minute) final;
  absl::Status PurgeTelemetry(std::int64_t before_minute) final;
  absl::StatusOr<std::vector<UsageRow>> ListUsage(const std::string& env) final;
  absl::Status PutRolloutPlan(const RolloutPlanRow& row) final;
  absl::StatusOr<RolloutPlanRow> GetRolloutPlan(const std::string& env,
                                                const std::string& flag) final;
  absl::StatusOr<std::vector<RolloutPlanRow>> ListRolloutPlans(
      const std::string& state) final;
  absl::Status Import(const ImportBatch& batch) final;

 protected:
  SqlStore() = default;

  // Read()
  //
  // Runs one statement outside a transaction (a read), calling `on_row` for
  // each row of its result.
  virtual absl::Status Read(const char* what, const std::string& sql,
                            const SqlArgs& args, RowSink on_row)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;

  // Transact()
  //
  // Runs `body` in one transaction, committed (durably) if it returns OK
  // and rolled back otherwise; the body's error is returned as it is.
  virtual absl::Status Transact(
      absl::FunctionRef<absl::Status(Transaction&)> body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;

  // AfterImport()
  //
  // Runs at the end of Import()'s transaction, once rows were inserted with
  // their own ids, for a database whose id counters do not follow them.
  // Does nothing unless overridden.
  virtual absl::Status AfterImport(Transaction& txn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // LoadEpoch()
  //
  // Reads the epoch (store/epoch.h) from the meta table; 0 if there is none.
  // DataLoss ("database DATABASE: malformed epoch ...") if it is not a
  // number.
  absl::Status LoadEpoch(const std::string& database)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;

 private:
  // ReadAll()
  //
  // Every row of "SELECT <columns> <from>" with `args`, decoded as
  // `columns` (a table of store/columns.h) names them; `from` is the rest of
  // the statement ("FROM tokens ORDER BY id").
  template <typename Columns>
  absl::StatusOr<std::vector<RowOf<Columns>>> ReadAll(const char* what,
                                                      const Columns& columns,
                                                      const char* from,
                                                      const SqlArgs& args)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ReadOne()
  //
  // The first row ReadAll() finds; `missing` if there is none.
  template <typename Columns>
  absl::StatusOr<RowOf<Columns>> ReadOne(const char* what,
                                         const Columns& columns,
                                         const char* from, const SqlArgs& args,
                                         absl::Status missing)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::uint32_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_SQL_STORE_H_
