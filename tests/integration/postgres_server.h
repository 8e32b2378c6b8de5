// tests/integration/postgres_server.h
//
// PostgresServer: a throwaway PostgreSQL for the tests — Debian's `postgres`
// binaries (/usr/lib/postgresql/<N>/bin), a fresh cluster (initdb) in a new
// directory under the build tree, listening only on a Unix socket in that
// directory (no port to collide with), and a database per test. No mocks.
//
// PostgreSQL refuses to run as root (CI runs as root): then the cluster is
// made and run as `nobody`, in a directory handed to it. The server runs
// under a small root shell that reads a pipe this process holds; when this
// process ends — normally, by a failed assertion, by a crash or by SIGKILL —
// the pipe closes and the shell shuts PostgreSQL down, so no test ever
// leaves one behind. Stop() and Start() stop and restart the same cluster
// mid-test (the database-down tests); the destructor stops it and removes
// the directory.
//
// Thread-compatible.

#ifndef HOTFIX_TESTS_INTEGRATION_POSTGRES_SERVER_H_
#define HOTFIX_TESTS_INTEGRATION_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

namespace hotfix {
namespace integration {

class PostgresServer {
 public:
  // Create()
  //
  // initdb + start (at most 60 s). Fails the current test (returns null)
  // when PostgreSQL is not installed (`./scripts/dev deps` installs it) or
  // does not start; the server's log is in the failure message.
  static std::unique_ptr<PostgresServer> Create();

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // CreateDatabase()
  //
  // A new empty database; returns its postgresql:// URL for --database.
  std::string CreateDatabase();

  // Url()
  //
  // The postgresql:// URL of database `name` (Unix socket, user hotfix).
  std::string Url(const std::string& name) const;

  // Stop() — fast shutdown, waits for the exit. Start() — starts the
  // stopped cluster again and waits until it accepts connections. Both
  // return false (with a test failure) when they do not manage.
  bool Stop();
  bool Start();

  const std::string& directory() const { return dir_; }
  // The server's log so far.
  std::string Log() const;

 private:
  PostgresServer() = default;
  bool WaitReady();

  std::string bin_;        // .../bin
  std::string dir_;        // the cluster's directory (socket here, data/ below)
  std::string user_;       // "nobody" when run as root, else ""
  pid_t supervisor_ = -1;  // the shell that owns the server
  int pipe_ = -1;          // write end: closing it stops the server
  int databases_ = 0;
};

}  // namespace integration
}  // namespace hotfix

#endif  // HOTFIX_TESTS_INTEGRATION_POSTGRES_SERVER_H_
