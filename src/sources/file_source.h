// src/sources/file_source.h
//
// FileSource serves a flag-set document from a local file and reloads it when
// the file changes (checked by inode, size and mtime every poll interval, so
// both in-place writes and atomic rename-over edits are seen). A bad edit is
// reported and the last good snapshot stays; fixing the file recovers.
//
// Thread-safe: Start/Stop/RestartAfterFork from the owning Client; the watch
// thread only talks to the sink.

#ifndef HOTFIX_SRC_SOURCES_FILE_SOURCE_H_
#define HOTFIX_SRC_SOURCES_FILE_SOURCE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hotfix/options.h"
#include "sources/source.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

// ReadFileToString()
//
// Reads a whole file of at most `max_bytes`. NotFound, ResourceExhausted (too
// large) or Unavailable with the path and errno text.
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             std::size_t max_bytes);

class FileSource : public Source {
 public:
  FileSource(FileSourceOptions options, SourceSink* sink);
  ~FileSource() override;

  // Loads the file now, on the calling thread (used at Client creation).
  // Errors are reported to the sink and returned.
  absl::Status LoadNow();

  void Start() override;
  void Stop() override;
  void RestartAfterFork() override;

 private:
  struct Identity {
    bool exists = false;
    std::uint64_t inode = 0;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const Identity& o) const {
      return exists == o.exists && inode == o.inode && size == o.size &&
             mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
    }
  };
  // The watch thread and what it waits on. Replaced wholesale in a forked
  // child: the parent's thread does not exist there and its mutex may still
  // list that thread as a waiter, so neither may be touched again.
  struct Worker {
    Mutex mu;
    CondVar cv;
    bool stop ABSL_GUARDED_BY(mu) = false;
    std::thread thread;
    pid_t pid = 0;  // process that started the thread
  };

  Identity Stat() const;
  void Run(Worker* worker);
  void CheckOnce();

  const FileSourceOptions options_;
  SourceSink* const sink_;
  std::unique_ptr<Worker> worker_;
  // Watch thread (or LoadNow before Start) only. Recorded before the file is
  // read, so an edit between the two is seen at the next check; a forked
  // child forgets it (RestartAfterFork), since the parent's thread may have
  // recorded it and not yet delivered what it read.
  Identity last_identity_;
  std::uint64_t last_content_hash_ = 0;
  bool have_content_ = false;
  std::string last_error_;  // to log each distinct error once
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_FILE_SOURCE_H_
