// tools/hotfixd/store/sqlite_store.h
//
// SqliteStore: the Store (store/store.h) in one SQLite file, DIR/hotfixd.db:
// a SqlStore (store/sql_store.h, where the statements are) with SQLite's
// schema and its migrations, statements and transactions. WAL mode with
// synchronous=FULL, so a write method that returned OK is on
// disk and survives kill -9 (and power loss, given an honest disk). One
// hotfixd per directory (main.cc holds DIR/hotfixd.lock), so there is no
// change feed: nobody else writes.
//
// Thread-safe: one connection guarded by SqlStore's mutex; calls are
// serialized.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_SQLITE_STORE_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/sql_store.h"

struct sqlite3;

namespace hotfix {
namespace hotfixd {

class SqliteStore final : public SqlStore {
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

  std::string Describe() const override { return "sqlite:" + path_; }
  StoreHealth Health() const override { return StoreHealth{}; }

 private:
  SqliteStore(sqlite3* db, std::string path)
      : db_(db), path_(std::move(path)) {}

  absl::Status Read(const char* what, const std::string& sql,
                    const SqlArgs& args, RowSink on_row) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Transact(absl::FunctionRef<absl::Status(Transaction&)> body)
      override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Runs `sql` (statements without arguments: pragmas, the schema).
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Migrate(int from) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  sqlite3* const db_;
  const std::string path_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_SQLITE_STORE_H_
