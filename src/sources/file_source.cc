#include "sources/file_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/log.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace hotfix {
namespace internal {

absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string message = absl::StrCat(path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  std::string data;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return absl::UnavailableError(
          absl::StrCat(path, ": ", std::strerror(err)));
    }
    if (n == 0) break;
    if (data.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      return absl::ResourceExhaustedError(absl::StrCat(
          path, ": larger than the limit of ", max_bytes, " bytes"));
    }
    data.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return data;
}

FileSource::FileSource(FileSourceOptions options, SourceSink* sink)
    : options_(std::move(options)), sink_(sink) {}

FileSource::~FileSource() { Stop(); }

FileSource::Identity FileSource::Stat() const {
  Identity id;
  struct stat st;
  if (::stat(options_.path.c_str(), &st) != 0) return id;
  id.exists = true;
  id.inode = static_cast<std::uint64_t>(st.st_ino);
  id.size = static_cast<std::int64_t>(st.st_size);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                st.st_mtim.tv_nsec;
  id.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 +
                st.st_ctim.tv_nsec;
  return id;
}

absl::Status FileSource::LoadNow() {
  last_identity_ = Stat();
  absl::StatusOr<std::string> data =
      ReadFileToString(options_.path, options_.max_bytes);
  absl::Status status;
  if (!data.ok()) {
    status = data.status();
  } else {
    const std::uint64_t hash = XXH3_64bits(data->data(), data->size());
    if (have_content_ && hash == last_content_hash_) {
      sink_->ReportSuccess(SnapshotOrigin::kFile);
      return absl::OkStatus();
    }
    status =
        sink_->Offer(*data, SnapshotOrigin::kFile, /*require_newer=*/false);
    if (status.ok()) {
      last_content_hash_ = hash;
      have_content_ = true;
    } else {
      status = absl::Status(
          status.code(), absl::StrCat(options_.path, ": ", status.message()));
    }
  }
  if (status.ok()) {
    last_error_.clear();
    sink_->ReportSuccess(SnapshotOrigin::kFile);
  } else {
    sink_->ReportError(SnapshotOrigin::kFile, status);
    std::string text = status.ToString();
    if (text != last_error_) {
      Log(LogLevel::kWarning,
          absl::StrCat("flag file rejected, keeping the last good flags: ",
                       text));
      last_error_ = std::move(text);
    }
  }
  return status;
}

void FileSource::CheckOnce() {
  const Identity now = Stat();
  if (now == last_identity_) return;
  LoadNow().IgnoreError();  // reported to the sink
}

void FileSource::Run(Worker* worker) {
  worker->mu.Lock();
  while (!worker->stop) {
    const SteadyTime next = DeadlineAfter(options_.poll_interval);
    while (!worker->stop && worker->cv.WaitUntil(&worker->mu, next)) {
    }
    if (worker->stop) break;
    worker->mu.Unlock();
    CheckOnce();
    worker->mu.Lock();
  }
  worker->mu.Unlock();
}

void FileSource::Start() {
  if (options_.poll_interval <= absl::ZeroDuration() || worker_ != nullptr) {
    return;
  }
  worker_ = std::make_unique<Worker>();
  worker_->pid = ::getpid();
  Worker* worker = worker_.get();
  worker->thread = std::thread([this, worker] { Run(worker); });
}

void FileSource::Stop() {
  if (worker_ == nullptr) return;
  if (worker_->pid != ::getpid()) {
    // A forked child that never called AfterFork(): the thread is not ours.
    worker_.release();  // NOLINT: deliberately leaked, see Worker
    return;
  }
  {
    MutexLock lock(&worker_->mu);
    worker_->stop = true;
    worker_->cv.SignalAll();
  }
  worker_->thread.join();
  worker_.reset();
}

void FileSource::RestartAfterFork() {
  if (worker_ != nullptr && worker_->pid != ::getpid()) {
    worker_.release();  // NOLINT: deliberately leaked, see Worker
  }
  // The parent's thread may have recorded the file's new identity and not yet
  // published what it read: check (and, if the content differs, load) again.
  last_identity_ = Identity();
  Start();
}

}  // namespace internal
}  // namespace hotfix
