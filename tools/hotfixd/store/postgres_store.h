// tools/hotfixd/store/postgres_store.h
//
// PostgresStore: the Store (store/store.h) in a PostgreSQL database that
// several hotfixd replicas share (--database postgres://...): a SqlStore
// (store/sql_store.h, where the statements are) with PostgreSQL's schema,
// connection handling and notifications. Same tables as SQLite; every write
// is one transaction committed with synchronous_commit on, and sends a
// NOTIFY on channel "hotfixd" in the same transaction (so it is delivered
// exactly when the change is visible): "v ENV VERSION" for a new version,
// "e ENV" for a new environment or changed settings, "t" for tokens, "w ENV"
// for webhooks (store/postgres_feed.h writes and reads them). Watch()
// listens on its own connection (store/postgres_feed.h).
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
// Thread-safe: one connection guarded by SqlStore's mutex; calls are
// serialized.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_POSTGRES_STORE_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_POSTGRES_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/pg_conn.h"
#include "store/sql_store.h"

namespace hotfix {
namespace hotfixd {

class PostgresStore final : public SqlStore {
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
  absl::StatusOr<std::unique_ptr<ChangeFeed>> Watch(
      std::function<void(const StoreEvent&)> on_event) override;

 private:
  using Body = absl::FunctionRef<absl::Status(PgConnection&)>;

  PostgresStore(std::string url, std::string describe)
      : url_(std::move(url)), describe_(std::move(describe)) {}

  // One statement outside a transaction, retried once on a new connection
  // if the old one had gone away.
  absl::Status Read(const char* what, const std::string& sql,
                    const SqlArgs& args, RowSink on_row) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // TransactOn(), with the body's statements run on the connection.
  absl::Status Transact(absl::FunctionRef<absl::Status(Transaction&)> body)
      override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the id sequences of audit and change_requests past the imported
  // ids.
  absl::Status AfterImport(Transaction& txn) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A live connection (reconnecting if there is none).
  absl::Status Connect() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // BEGIN; body; COMMIT — retried once on a new connection if BEGIN found
  // the old one gone.
  absl::Status TransactOn(Body body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the outcome of talking to the server (Health(), and a log line
  // when it changes).
  void Observe(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CreateSchema() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string url_;
  const std::string describe_;
  std::unique_ptr<PgConnection> conn_ ABSL_GUARDED_BY(mu_);
  mutable absl::Mutex health_mu_;
  StoreHealth health_ ABSL_GUARDED_BY(health_mu_);
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_POSTGRES_STORE_H_
