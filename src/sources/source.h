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

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "hotfix/status.h"

namespace hotfix {
namespace internal {

// A status payload marking a configuration error (ClientStatus::config_error):
// the server refused the key (401/403) or does not know the path (404).
inline constexpr absl::string_view kConfigErrorPayloadUrl =
    "type.hotfix.dev/config-error";

inline void MarkConfigError(absl::Status* status) {
  status->SetPayload(kConfigErrorPayloadUrl, absl::Cord("1"));
}

inline bool IsConfigError(const absl::Status& status) {
  return status.GetPayload(kConfigErrorPayloadUrl).has_value();
}

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
  virtual void ReportError(SnapshotOrigin origin,
                           const absl::Status& error) = 0;

  // ReportRejected()
  //
  // A document (or patch) from the source was refused: recorded as the last
  // error and, separately, as the last rejection (which later successes do
  // not clear).
  virtual void ReportRejected(SnapshotOrigin origin,
                              const absl::Status& error) {
    ReportError(origin, error);
  }

  // ReportConnection()
  //
  // Remote sources: what the connection is doing now
  // (ClientStatus::connection).
  virtual void ReportConnection(RemoteConnection connection) {}

  // ReportServer()
  //
  // The remote source now follows `base_url` (ClientStatus::server).
  virtual void ReportServer(const std::string& base_url) {}
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
