// tests/integration/postgres_server.cc

#include "postgres_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "harness.h"

extern char** environ;

namespace hotfix {
namespace integration {
namespace {

// The newest /usr/lib/postgresql/<N>/bin holding postgres and initdb.
std::string FindBin() {
  std::string best;
  int best_version = -1;
  if (DIR* d = opendir("/usr/lib/postgresql")) {
    while (dirent* e = readdir(d)) {
      const int version = std::atoi(e->d_name);
      const std::string bin =
          absl::StrCat("/usr/lib/postgresql/", e->d_name, "/bin");
      if (version > best_version &&
          access((bin + "/postgres").c_str(), X_OK) == 0 &&
          access((bin + "/initdb").c_str(), X_OK) == 0) {
        best = bin;
        best_version = version;
      }
    }
    closedir(d);
  }
  return best;
}

// True if every directory above `path` lets others through (o+x): run as
// root, the cluster belongs to `nobody`, which must reach it. A checkout
// under /root (0700) does not.
bool OthersCanReach(const std::string& path) {
  std::string dir = path;
  while (true) {
    const std::size_t slash = dir.find_last_of('/');
    if (slash == std::string::npos || slash == 0) return true;
    dir.resize(slash);
    struct stat st;
    if (stat(dir.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
      return false;
    }
  }
}

// Where clusters live: HOTFIX_PG_TEST_ROOT (the build tree), unless its path
// is too long for a Unix socket name or, as root, `nobody` could not reach
// it; then $TMPDIR or /tmp.
std::string Root() {
  std::string root = HOTFIX_PG_TEST_ROOT;
  if (root.size() > 60 || (geteuid() == 0 && !OthersCanReach(root))) {
    const char* t = std::getenv("TMPDIR");
    root =
        absl::StrCat(t != nullptr && *t != '\0' ? t : "/tmp", "/hotfix-pgtest");
  }
  mkdir(root.c_str(), 0755);
  chmod(root.c_str(), 0755);  // `nobody` must be able to walk through it
  return root;
}

// Runs `argv` (as `user` if not empty) to completion; its output goes to
// `log`. Returns the exit code (-1 on failure to run or time out).
int RunAs(const std::string& user, std::vector<std::string> argv,
          const std::string& log) {
  if (!user.empty()) {
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=" + user,
                               "--regid=nogroup", "--clear-groups", "--"});
  }
  const pid_t pid = SpawnProcess(argv, {}, log);
  return pid < 0 ? -1 : WaitExit(pid, absl::Seconds(120));
}

}  // namespace

std::unique_ptr<PostgresServer> PostgresServer::Create() {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  s->bin_ = FindBin();
  if (s->bin_.empty()) {
    ADD_FAILURE() << "PostgreSQL is not installed (no "
                     "/usr/lib/postgresql/*/bin/postgres); run ./scripts/dev "
                     "deps";
    return nullptr;
  }
  std::string pattern = Root() + "/pg-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return nullptr;
  }
  s->dir_ = pattern;
  if (geteuid() == 0) {
    // PostgreSQL will not run as root: the cluster belongs to nobody.
    s->user_ = "nobody";
    const passwd* pw = getpwnam("nobody");
    if (pw == nullptr || chown(s->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      ADD_FAILURE() << "cannot hand " << s->dir_ << " to nobody";
      return nullptr;
    }
  }
  const std::string log = s->dir_ + "/initdb.log";
  // --no-sync: only initdb's own files; the server itself runs with fsync
  // on, as in production (the durability tests depend on it).
  if (RunAs(s->user_,
            {s->bin_ + "/initdb", "-D", s->dir_ + "/data", "-U", "hotfix", "-A",
             "trust", "-E", "UTF8", "--no-sync"},
            log) != 0) {
    ADD_FAILURE() << "initdb failed:\n" << ReadFile(log);
    return nullptr;
  }
  if (!s->Start()) return nullptr;
  return s;
}

PostgresServer::~PostgresServer() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool PostgresServer::Start() {
  if (supervisor_ > 0) return true;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return false;
  }
  // The supervisor: starts the server, waits for end of input (this process
  // closed the pipe, or died), then shuts the server down (fast) and waits.
  std::string server = absl::StrCat(
      "'", bin_, "/postgres' -D '", dir_, "/data' -k '", dir_,
      "' -c listen_addresses= -c fsync=on -c synchronous_commit=on "
      "-c max_connections=200 -c shared_buffers=16MB");
  if (!user_.empty()) {
    server = absl::StrCat("/usr/bin/setpriv --reuid=", user_,
                          " --regid=nogroup --clear-groups -- ", server);
  }
  const std::string script =
      absl::StrCat(server, " >>'", dir_, "/server.log' 2>&1 & pid=$!; read _; ",
                   "kill -INT $pid 2>/dev/null; wait $pid");
  std::vector<std::string> argv = {"/bin/sh", "-c", script};
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, "/bin/sh", &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[0]);
  if (rc != 0) {
    close(fds[1]);
    ADD_FAILURE() << "cannot start the PostgreSQL supervisor";
    return false;
  }
  supervisor_ = pid;
  pipe_ = fds[1];
  return WaitReady();
}

bool PostgresServer::WaitReady() {
  const std::string conninfo = Url("postgres");
  const bool ready = WaitUntil(
      [&] { return PQping(conninfo.c_str()) == PQPING_OK; }, absl::Seconds(60));
  if (!ready) ADD_FAILURE() << "PostgreSQL did not start:\n" << Log();
  return ready;
}

bool PostgresServer::Stop() {
  if (supervisor_ <= 0) return true;
  close(pipe_);  // the supervisor stops the server and exits
  pipe_ = -1;
  const int rc = WaitExit(supervisor_, absl::Seconds(60));
  supervisor_ = -1;
  if (rc != 0) {
    ADD_FAILURE() << "PostgreSQL did not stop cleanly (" << rc << "):\n"
                  << Log();
    return false;
  }
  return true;
}

std::string PostgresServer::Url(const std::string& name) const {
  return absl::StrCat("postgresql:///", name, "?host=", dir_, "&user=hotfix");
}

std::string PostgresServer::CreateDatabase() {
  const std::string name = absl::StrCat("test_", ++databases_);
  PGconn* conn = PQconnectdb(Url("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "connecting to PostgreSQL: " << PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, ("CREATE DATABASE " + name).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      ADD_FAILURE() << "CREATE DATABASE: " << PQresultErrorMessage(r);
    }
    PQclear(r);
  }
  PQfinish(conn);
  return Url(name);
}

std::string PostgresServer::Log() const {
  return ReadFile(dir_ + "/server.log");
}

}  // namespace integration
}  // namespace hotfix
