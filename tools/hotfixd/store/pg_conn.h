// tools/hotfixd/store/pg_conn.h
//
// A thin layer over libpq for PostgresStore and its change feed: one
// connection (PgConnection), statements with text parameters (PgParams), and
// their results (PgResult), with errors as absl::Status:
//
//   Unavailable     the server cannot be reached, went away, or is shutting
//                   down (SQLSTATE classes 08 and 57P), also a broken
//                   connection: the caller may reconnect
//   AlreadyExists   a unique constraint (23505)
//   Aborted         a serialization failure or deadlock (40001, 40P01)
//   Internal        anything else
//
// Every connection is opened with a connect timeout (5 s unless the URL says
// otherwise), TCP keep-alives and tcp_user_timeout, so a vanished server is
// noticed in seconds instead of hanging a request; and with
// synchronous_commit=on, so COMMIT returns only once the change is durable
// (and, with synchronous standbys configured, on them too).
//
// Thread-compatible: a PgConnection is used by one thread at a time.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_PG_CONN_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_PG_CONN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/sql_args.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace hotfix {
namespace hotfixd {

// Statement parameters $1, $2, ... as text (or NULL): each SqlArg
// (store/sql_args.h) as PostgreSQL reads it.
class PgParams {
 public:
  template <typename... Args>
  explicit PgParams(const Args&... args) {
    (Add(SqlArg(args)), ...);
  }
  explicit PgParams(const SqlArgs& args) {
    for (const SqlArg& arg : args) Add(arg);
  }
  const std::vector<std::optional<std::string>>& values() const {
    return values_;
  }

 private:
  void Add(const SqlArg& arg);

  std::vector<std::optional<std::string>> values_;
};

// The result of one statement; owns the PGresult.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  ~PgResult();
  PgResult(PgResult&& other) noexcept : result_(other.result_) {
    other.result_ = nullptr;
  }
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  // Rows an INSERT / UPDATE / DELETE changed.
  int affected() const;
  std::string Text(int row, int col) const;
  bool IsNull(int row, int col) const;
  std::int64_t Int(int row, int col) const;  // 0 when NULL
  std::uint64_t Uint(int row, int col) const;
  bool Bool(int row, int col) const;  // "t"
  const PGresult* get() const { return result_; }

 private:
  PGresult* result_;
};

class PgConnection {
 public:
  // Connect()
  //
  // Opens a connection to `url` (a postgres:// or postgresql:// URL, or a
  // libpq "key=value" string). Unavailable (naming `describe`, never the
  // password) if the server cannot be reached or refuses.
  //
  // Cost: a TCP (or Unix socket) connection and authentication; at most the
  // connect timeout.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(
      const std::string& url, const std::string& describe);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Exec()
  //
  // Runs one statement. `what` names it in errors.
  absl::StatusOr<PgResult> Exec(const char* what, const std::string& sql,
                                const PgParams& params = PgParams());

  // ExecScript()
  //
  // Runs several statements without parameters (a schema).
  absl::StatusOr<PgResult> ExecScript(const char* what, const std::string& sql);

  // True once libpq has seen the connection fail.
  bool broken() const;
  PGconn* raw() const { return conn_; }

 private:
  // Turns a finished statement into a result or an error.
  absl::StatusOr<PgResult> Check(const char* what, PgResult result);

  PgConnection(PGconn* conn, std::string describe)
      : conn_(conn), describe_(std::move(describe)) {}

  PGconn* const conn_;
  const std::string describe_;
};

// DescribePostgresUrl()
//
// `url` without its password, for logs: "postgres://user@host:port/db".
std::string DescribePostgresUrl(const std::string& url);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_PG_CONN_H_
