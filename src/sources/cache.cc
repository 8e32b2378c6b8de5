#include "sources/cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sources/file_source.h"
#include "util/strings.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace hotfix {
namespace internal {
namespace {

constexpr std::string_view kSuffix = "}";

// JSON string escaping for the identity.
std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += absl::StrFormat("\\u%04x", u);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

absl::Status ErrnoError(absl::string_view what, const std::string& path,
                        int err) {
  return absl::UnavailableError(
      absl::StrCat("cache ", path, ": ", what, ": ", std::strerror(err)));
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::string CacheIdentity(std::string_view base_url, std::string_view sdk_key) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return absl::StrFormat("%s key:%016x", ToAbsl(base_url),
                         XXH3_64bits(sdk_key.data(), sdk_key.size()));
}

Cache::Cache(std::string path, std::string identity)
    : path_(std::move(path)), identity_(std::move(identity)) {}

std::string Cache::Prefix() const {
  return absl::StrCat("{\"hotfix_cache\":1,\"source\":", JsonQuote(identity_),
                      ",\"document\":");
}

void Cache::SetFailureHookForTesting(FailureHook hook) {
  MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

absl::Status Cache::Hook(Step step) {
  if (!hook_) return absl::OkStatus();
  absl::Status status = hook_(step);
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat("cache ", path_, ": ", status.message()));
}

absl::StatusOr<std::string> Cache::Load(std::size_t max_bytes) const {
  const std::string prefix = Prefix();
  absl::StatusOr<std::string> data =
      ReadFileToString(path_, max_bytes + prefix.size() + kSuffix.size());
  if (!data.ok()) {
    if (absl::IsResourceExhausted(data.status())) {
      return absl::DataLossError(data.status().message());
    }
    return data.status();
  }
  std::string_view text = *data;
  // Tolerate a trailing newline added by hand.
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.size() < prefix.size() + kSuffix.size() ||
      text.substr(text.size() - kSuffix.size()) != kSuffix) {
    return absl::DataLossError(
        absl::StrCat("cache ", path_, ": not a hotfix cache file"));
  }
  if (text.substr(0, prefix.size()) != prefix) {
    static constexpr std::string_view kMagic = "{\"hotfix_cache\":1,";
    if (text.substr(0, kMagic.size()) == kMagic) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cache ", path_, ": written for another server or SDK key; ignored"));
    }
    return absl::DataLossError(
        absl::StrCat("cache ", path_, ": not a hotfix cache file"));
  }
  text.remove_prefix(prefix.size());
  text.remove_suffix(kSuffix.size());
  return std::string(text);
}

absl::Status Cache::Store(std::string_view document) {
  MutexLock lock(&mu_);
  const std::string tmp =
      absl::StrCat(path_, ".tmp.", ::getpid(), ".", ++counter_);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create temporary file", tmp, errno);
  // Until the rename, a failure removes the temporary file: the old cache is
  // untouched.
  auto fail = [&](absl::Status status) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return status;
  };
  absl::Status status = Hook(Step::kTempOpened);
  if (!status.ok()) return fail(status);
  const std::size_t half = document.size() / 2;
  status = WriteAll(fd, Prefix(), tmp);
  if (status.ok()) status = WriteAll(fd, document.substr(0, half), tmp);
  if (status.ok()) status = Hook(Step::kPartiallyWritten);
  if (status.ok()) status = WriteAll(fd, document.substr(half), tmp);
  if (status.ok()) status = WriteAll(fd, kSuffix, tmp);
  if (status.ok()) status = Hook(Step::kWritten);
  if (!status.ok()) return fail(status);
  int rc;
  while ((rc = ::fsync(fd)) != 0 && errno == EINTR) {
  }
  if (rc != 0) return fail(ErrnoError("fsync", tmp, errno));
  rc = ::close(fd);
  fd = -1;
  if (rc != 0) return fail(ErrnoError("close", tmp, errno));
  status = Hook(Step::kSynced);
  if (!status.ok()) return fail(status);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return fail(ErrnoError("rename over the cache", tmp, errno));
  }
  // The new file is in place; only its durability is left.
  status = Hook(Step::kRenamed);
  if (!status.ok()) return status;
  const std::string dir = DirectoryOf(path_);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return ErrnoError("open directory", dir, errno);
  while ((rc = ::fsync(dir_fd)) != 0 && errno == EINTR) {
  }
  const int err = errno;
  ::close(dir_fd);
  if (rc != 0) return ErrnoError("fsync directory", dir, err);
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace hotfix
