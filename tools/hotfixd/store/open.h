// tools/hotfixd/store/open.h
//
// Opens the Store a --database value names:
//
//   sqlite:DIR                      DIR/hotfixd.db (DIR created 0700, and
//                                   locked: one hotfixd per directory)
//   postgres://user@host:5432/db    PostgreSQL (also postgresql://; libpq's
//   postgresql:///db?host=/run/pg   URL syntax, Unix sockets included)
//
// Thread-safe: no shared state (the SQLite lock lasts until the process
// exits).

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_OPEN_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_OPEN_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/store.h"

namespace hotfix {
namespace hotfixd {

enum class Backend { kSqlite, kPostgres };

struct DatabaseSpec {
  Backend backend = Backend::kSqlite;
  std::string location;  // the directory, or the PostgreSQL URL
};

// ParseDatabase()
//
// InvalidArgument (naming `flag`) unless `value` is sqlite:DIR or a
// postgres:// / postgresql:// URL.
absl::StatusOr<DatabaseSpec> ParseDatabase(const std::string& value,
                                           const std::string& flag);

// OpenStore()
//
// Opens (creating if needed) the database. FailedPrecondition when another
// hotfixd holds a SQLite directory or the schema is newer than this
// hotfixd; Unavailable when it cannot be reached or opened.
//
// Cost: file or network I/O; for PostgreSQL at most the connect timeout.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const DatabaseSpec& spec);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_OPEN_H_
