// src/sources/source.h
//
// The contract between a Client and the sources that feed it. A Source runs
// its own thread (or none), fetches documents, and hands them to its
// SourceSink, which compiles and publishes them; a rejected document changes
// nothing but the status.
//
// Thread-safe: sinks accept calls from any source thread.

#ifndef HOTFIX_SRC_SOURCES_SOURCE_H_
#define HOTFIX_SRC_SOURCES_SOURCE_H_

#include <string_view>

#include "absl/status/status.h"
#include "hotfix/client.h"

namespace hotfix {
namespace internal {

class SourceSink {
 public:
  virtual ~SourceSink() = default;

  // Offer()
  //
  // Compiles `json` and, if valid (and, with `require_newer`, of a version
  // newer than the one served), publishes it. Returns the compile error or
  // FailedPrecondition for an older version; the served snapshot stays then.
  // An unchanged document is accepted without notifying listeners.
  virtual absl::Status Offer(std::string_view json, SnapshotOrigin origin,
                             bool require_newer) = 0;

  // ReportSuccess() / ReportError()
  //
  // Record the health of the last attempt (an unchanged fetch is a success).
  virtual void ReportSuccess(SnapshotOrigin origin) = 0;
  virtual void ReportError(SnapshotOrigin origin, const absl::Status& error) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Starts background work, if any. Called once.
  virtual void Start() = 0;
  // Stops and joins background work. Idempotent.
  virtual void Stop() = 0;
  // In a forked child: background threads did not survive fork(); restart
  // them. Called by Client::AfterFork().
  virtual void RestartAfterFork() = 0;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_SOURCE_H_
