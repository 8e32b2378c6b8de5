// include/hotfix/status.h
//
// What a Client reports about itself: where the served snapshot came from,
// how its sources are doing (ClientStatus, from Client::GetStatus()), and the
// ChangeEvent delivered to change listeners. Plain value types, shared by the
// library's sources and the bindings.
//
// Thread-compatible (plain value types).

#ifndef HOTFIX_STATUS_H_
#define HOTFIX_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "hotfix/export.h"

namespace hotfix {

// Where the snapshot being served came from. Numeric values are frozen.
enum class SnapshotOrigin : std::uint8_t {
  kNone = 0,       // no snapshot: every evaluation serves the caller's default
  kBootstrap = 1,  // ClientOptions::bootstrap_json / bootstrap_path
  kCache = 2,      // the last-known-good cache file
  kFile = 3,       // the file source
  kPoll = 4,       // HTTP polling
  kStream = 5,     // SSE streaming
  kTest = 6,       // hotfix::testing::TestFlags or Client::Publish
};

// Health of the client's sources. Numeric values are frozen.
enum class SourceState : std::uint8_t {
  kInitializing = 0,  // no snapshot yet; sources still trying
  kValid = 1,         // the last source attempt succeeded
  kStale = 2,         // sources failing; the last good snapshot is served
  kError = 3,         // sources failing and no snapshot: defaults are served
  kOff = 4,           // no live source (bootstrap or test data only)
};

// What the remote source is doing. Numeric values are frozen.
enum class RemoteConnection : std::uint8_t {
  kNone = 0,        // no remote source (RemoteOptions::base_url empty or kOff)
  kConnecting = 1,  // first attempt in progress; no answer yet
  kStreaming = 2,   // an SSE stream is open and delivering events
  kPolling = 3,     // polling GET /v1/flags (kPolling, or the stream is down)
};

// Lower-case names for logs and bindings: "none", "bootstrap", "cache",
// "file", "poll", "stream", "test" / "initializing", "valid", "stale",
// "error", "off" / "none", "connecting", "streaming", "polling".
HOTFIX_EXPORT std::string_view SnapshotOriginName(
    SnapshotOrigin origin) noexcept;
HOTFIX_EXPORT std::string_view SourceStateName(SourceState state) noexcept;
HOTFIX_EXPORT std::string_view RemoteConnectionName(
    RemoteConnection connection) noexcept;

// A flag whose local guard tripped in this process (ClientStatus::guard_trips).
struct GuardTrip {
  std::string flag;
  // The variant that failed too often; no longer served by this process.
  std::string variant;
  // Version of the snapshot being served when the guard tripped.
  std::uint64_t version = 0;
  // Failures and outcomes of `variant` in the guard's window at the trip.
  std::uint64_t failures = 0;
  std::uint64_t outcomes = 0;
  // e.g. "15.5% failed over the last 200 outcomes (limit 5%)".
  std::string detail;
  absl::Time time = absl::InfinitePast();
};

// How the counting and posting of exposures and outcomes is doing.
struct TelemetryStatus {
  // Counting is on (TelemetryOptions::counting).
  bool counting = false;
  // Counts are posted to a server.
  bool sending = false;
  // Posts the server accepted, and the last failure's error (OkStatus() once
  // a later post succeeds).
  std::uint64_t posts = 0;
  absl::Status last_error;
  // Exposures and outcomes dropped without being sent (server unreachable for
  // longer than TelemetryOptions::max_unsent_age, or more distinct flag x
  // variant counters than a client tracks).
  std::uint64_t dropped = 0;
};

struct ClientStatus {
  SourceState state = SourceState::kOff;
  SnapshotOrigin origin = SnapshotOrigin::kNone;
  // Version of the snapshot being served; 0 when none.
  std::uint64_t version = 0;
  // Changes accepted so far (snapshots that changed a flag): the sequence
  // number of the last ChangeEvent, 0 before the first.
  std::uint64_t changes = 0;
  // When the snapshot being served was accepted.
  absl::Time snapshot_time = absl::InfinitePast();
  // Last successful source attempt (including "unchanged").
  absl::Time last_success = absl::InfinitePast();
  // The last source error, OkStatus() if none since the last success.
  absl::Status last_error;
  absl::Time last_error_time = absl::InfinitePast();
  // Time since snapshot_time, as of the GetStatus() call; infinite when no
  // snapshot is served.
  absl::Duration age = absl::InfiniteDuration();
  // State of the remote source's connection.
  RemoteConnection connection = RemoteConnection::kNone;
  // The base URL of the server the remote source follows (the last one that
  // answered; with RemoteOptions::base_urls, it moves on failure). Empty
  // until one has answered.
  std::string server;
  // True while last_error is a configuration problem that retrying will not
  // fix (the server answered 401, 403 or 404: wrong key or URL). Such errors
  // are retried only every RemoteOptions::config_error_retry.
  bool config_error = false;
  // The last document a source delivered and the client refused (invalid
  // JSON, schema error, truncated or oversize body or event, older version,
  // patch that does not apply). Unlike last_error it survives later
  // successes. OkStatus() if none.
  absl::Status last_rejection;
  absl::Time last_rejection_time = absl::InfinitePast();
  // Flags whose local guard tripped in this process and that still serve
  // their fallback (until the server publishes a new definition of the flag).
  // Sorted by flag.
  std::vector<GuardTrip> guard_trips;
  TelemetryStatus telemetry;
};

// One accepted change, delivered to listeners.
struct ChangeEvent {
  std::uint64_t old_version = 0;
  std::uint64_t new_version = 0;
  // 1 for the client's first accepted change, then 2, 3, ... in publication
  // order (ClientStatus::changes is the last one's).
  std::uint64_t sequence = 0;
  SnapshotOrigin origin = SnapshotOrigin::kNone;
  // Keys whose evaluation may differ: added, removed or changed flags, and the
  // flags depending on them through prerequisites or segments. Sorted.
  std::vector<std::string> changed_keys;
};

}  // namespace hotfix

#endif  // HOTFIX_STATUS_H_
