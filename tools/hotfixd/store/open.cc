// tools/hotfixd/store/open.cc

#include "store/open.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace hotfix {
namespace hotfixd {
namespace {

// Holds an exclusive lock on DIR/hotfixd.lock for the process's life.
absl::Status LockDirectory(const std::string& dir) {
  const std::string path = dir + "/hotfixd.lock";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open \"", path, "\": ", std::strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "another hotfixd is using the data directory \"", dir, "\""));
  }
  return absl::OkStatus();  // fd stays open: the lock lasts until exit
}

}  // namespace

absl::StatusOr<DatabaseSpec> ParseDatabase(const std::string& value,
                                           const std::string& flag) {
  DatabaseSpec spec;
  if (absl::StartsWith(value, "sqlite:")) {
    spec.backend = Backend::kSqlite;
    spec.location = value.substr(7);
    if (spec.location.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": sqlite: needs a directory (sqlite:DIR)"));
    }
    return spec;
  }
  if (absl::StartsWith(value, "postgres://") ||
      absl::StartsWith(value, "postgresql://")) {
    spec.backend = Backend::kPostgres;
    spec.location = value;
    return spec;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      flag, ": expected sqlite:DIR or a postgres://... URL, got \"",
      absl::StartsWith(value, "postgres") ? "postgres..." : value, "\""));
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const DatabaseSpec& spec) {
  if (spec.backend == Backend::kPostgres) {
    auto store = PostgresStore::Open(spec.location);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(*store));
  }
  const std::string& dir = spec.location;
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(
        absl::StrCat("cannot create the data directory \"", dir,
                     "\": ", std::strerror(errno)));
  }
  if (absl::Status st = LockDirectory(dir); !st.ok()) return st;
  auto store = SqliteStore::Open(dir + "/hotfixd.db");
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace hotfixd
}  // namespace hotfix
