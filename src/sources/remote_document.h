// src/sources/remote_document.h
//
// RemoteDocument is the remote source's memory of the last flag set it got
// accepted: its text and version. Polls and stream `put`s replace it; stream
// `patch` events are applied to it (flags[key] replaced or deleted, version
// set) and the result is compiled and published like any document. Every
// accepted document is also written to the last-known-good cache.
//
// The rules of docs/protocol.md live here:
// - a document is offered with require_newer, so an older version is refused
//   (kOlder) and the served snapshot stays;
// - a patch applies only on top of its base_version; anything else is a gap
//   (kGap) that the stream answers with a full re-sync, never papered over;
// - a patch whose version the document already has is a duplicate (kUnchanged);
// - whatever fails to parse or compile is refused (kRejected) and changes
//   nothing.
//
// The document is kept as text (not a DOM): a patch parses it, edits the one
// member and serializes it again, all linear in the document like the compile
// that follows, and nothing accumulates across patches.
//
// Thread-safe: the poll and stream threads share one instance; applications
// are serialized.

#ifndef HOTFIX_SRC_SOURCES_REMOTE_DOCUMENT_H_
#define HOTFIX_SRC_SOURCES_REMOTE_DOCUMENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "hotfix/status.h"
#include "sources/cache.h"
#include "sources/source.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

// TopLevelVersion()
//
// The unsigned integer member "version" of the JSON object `json`, found
// without building a DOM (parsing stops there); nullopt if the text is not an
// object with such a member before any syntax error.
std::optional<std::uint64_t> TopLevelVersion(std::string_view json);

class RemoteDocument {
 public:
  enum class Outcome {
    kApplied,    // published (or identical to what is served)
    kUnchanged,  // nothing to do: a duplicate patch or a heartbeat in step
    kOlder,      // older than the served snapshot; ignored
    kRejected,   // invalid; the served snapshot stays
    kGap,        // does not follow this document's version: re-sync
  };
  struct Result {
    Outcome outcome = Outcome::kApplied;
    // Why, for every outcome but kApplied and kUnchanged.
    absl::Status error;
  };

  // `cache` may be null (no cache).
  RemoteDocument(SourceSink* sink, std::shared_ptr<Cache> cache);

  // Seed()
  //
  // Starts from `json`, a document the client already serves (the cache read
  // at creation), so that a stream can resume from its version. Not written
  // back to the cache.
  void Seed(std::string_view json);

  // FreshAfterFork()
  //
  // In a forked child: a new, empty document (and cache writer) for the same
  // sink and cache file. This one may have been mid-update in a thread that
  // fork() did not copy, so neither its lock nor its text can be trusted; the
  // caller leaks it and re-syncs from the server.
  std::shared_ptr<RemoteDocument> FreshAfterFork() const;

  // Version of the last accepted document; 0 and false when there is none.
  std::uint64_t version() const;
  bool has_document() const;
  // Forgets the document (a re-sync will bring a whole one).
  void Clear();

  // ApplyFull()
  //
  // A whole flag set (a poll's 200 body or a stream `put`).
  //
  // Cost: a compile of `json`; on acceptance, a cache write.
  Result ApplyFull(std::string_view json, SnapshotOrigin origin);

  // ApplyPatch()
  //
  // The data of a stream `patch` event:
  //   {"version":V,"base_version":B,"key":K,"flag":{...}} or
  //   {"version":V,"base_version":B,"key":K,"deleted":true}
  //
  // Cost: parse + serialize + compile of the whole document; a cache write.
  Result ApplyPatch(std::string_view json, SnapshotOrigin origin);

  // CheckHeartbeat()
  //
  // The data of a `heartbeat` event ({"version":N}): kGap if the server is
  // ahead of this document (a change was missed), else kUnchanged. A
  // heartbeat without a readable version only proves liveness (kUnchanged).
  Result CheckHeartbeat(std::string_view json) const;

 private:
  // Offers `json`, and on acceptance remembers and caches it.
  Result OfferLocked(std::string json, std::uint64_t version,
                     SnapshotOrigin origin) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  SourceSink* const sink_;
  const std::shared_ptr<Cache> cache_;

  mutable Mutex mu_;
  std::string text_ ABSL_GUARDED_BY(mu_);
  std::uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  bool has_document_ ABSL_GUARDED_BY(mu_) = false;
  std::uint64_t cached_hash_ ABSL_GUARDED_BY(mu_) = 0;  // of the text cached
  std::string last_cache_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_REMOTE_DOCUMENT_H_
