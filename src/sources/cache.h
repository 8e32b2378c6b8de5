// src/sources/cache.h
//
// Cache is the last-known-good cache file: the last document accepted from the
// remote source, kept so that a process starting while the server is down
// still serves the flags it had.
//
// Store() replaces the file atomically: it writes a new file beside it (unique
// name, O_EXCL), fsyncs it, renames it over the old one and fsyncs the
// directory, so a crash at any point leaves either the complete old file or
// the complete new one, never a torn one. A failure removes the temporary
// file and leaves the old cache in place.
//
// The file is JSON:
//
//   {"hotfix_cache":1,"source":"<identity>","document":<the flag set>}
//
// where the identity names the server and key the document came from (see
// CacheIdentity()); Load() refuses a cache written for another identity, so
// pointing a client at another environment never serves the old one's flags
// (nor blocks the new one's lower versions).
//
// Thread-safe: Store() calls are serialized; Load() may run concurrently with
// them (it reads either file).

#ifndef HOTFIX_SRC_SOURCES_CACHE_H_
#define HOTFIX_SRC_SOURCES_CACHE_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

// CacheIdentity()
//
// "<base_url without trailing slashes> key:<xxh3 of sdk_key in hex>". The key
// itself is never written to disk.
std::string CacheIdentity(std::string_view base_url, std::string_view sdk_key);

class Cache {
 public:
  // Points in Store() where the failure hook is consulted.
  enum class Step {
    kTempOpened,        // the temporary file exists, nothing written
    kPartiallyWritten,  // about half of the bytes are written
    kWritten,           // every byte written, not yet fsynced
    kSynced,            // fsynced and closed, not yet renamed
    kRenamed,           // renamed over the cache, directory not yet fsynced
  };
  // Returning an error makes Store() fail at that point as if the system call
  // there had failed (a crash at that point leaves the same files behind,
  // except that a crash does not remove the temporary file).
  using FailureHook = std::function<absl::Status(Step step)>;

  Cache(std::string path, std::string identity);

  const std::string& path() const { return path_; }
  const std::string& identity() const { return identity_; }

  // Load()
  //
  // The cached document. NotFound if there is no cache; FailedPrecondition if
  // it was written for another identity; DataLoss if it is not a cache file
  // (or larger than `max_bytes`). The document itself is not validated here:
  // the caller compiles it.
  absl::StatusOr<std::string> Load(std::size_t max_bytes) const;

  // Store()
  //
  // Atomically replaces the cache with `document` (an accepted flag set).
  // Errors name the path and the failing call.
  //
  // Cost: writes the whole document and two fsyncs (milliseconds on disks).
  absl::Status Store(std::string_view document);

  void SetFailureHookForTesting(FailureHook hook);

 private:
  std::string Prefix() const;
  absl::Status Hook(Step step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const std::string identity_;
  Mutex mu_;
  FailureHook hook_ ABSL_GUARDED_BY(mu_);
  unsigned long long counter_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_CACHE_H_
