// include/hotfix/options.h
//
// Options for creating a Client: where flags come from and how the client
// behaves while it has none. Plain structs; every field says its default.

#ifndef HOTFIX_OPTIONS_H_
#define HOTFIX_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "hotfix/snapshot.h"

namespace hotfix {

struct FileSourceOptions {
  // Path of a native flag-set document. Empty: no file source. Default: "".
  std::string path;
  // How often the file's identity (inode, size, mtime) is checked; a change
  // triggers a reload. A bad edit is reported in status() and the last good
  // snapshot stays. Default: 500 ms. Zero: load once, never watch.
  absl::Duration poll_interval = absl::Milliseconds(500);
  // Files larger than this are rejected. Default: 16 MiB.
  std::size_t max_bytes = std::size_t{16} << 20;
};

// How the remote source keeps the flags current.
enum class RemoteMode : std::uint8_t {
  // An SSE stream (GET /v1/stream) delivers every change as it happens; while
  // the stream cannot be held, the client polls GET /v1/flags instead.
  kStreaming = 0,
  // Polls GET /v1/flags (with If-None-Match) every poll_interval.
  kPolling = 1,
  // No remote source, even if base_url is set (file, bootstrap and cache
  // only).
  kOff = 2,
};

// The remote (HTTP) source: a hotfixd server (or several replicas of one) or
// anything speaking docs/protocol.md. Used only when base_url or base_urls is
// set and mode is not kOff.
//
// Example:
//
//   hotfix::ClientOptions options;
//   options.remote.base_url = "https://flags.internal:8420";
//   options.remote.sdk_key = LoadSecret("hotfix-sdk-key");
//   options.cache_path = "/var/cache/myservice/flags.json";
//   auto client = hotfix::Client::Create(options);  // returns at once
//   (*client)->WaitUntilReady(absl::Seconds(2));     // optional
struct RemoteOptions {
  // "http://host[:port][/prefix]" or "https://...". The protocol's paths
  // (/v1/flags, /v1/stream) are appended to it. Default: "" (no remote
  // source).
  std::string base_url;
  // More servers of the same deployment (hotfixd replicas sharing one
  // database), tried after base_url, in order. When the server followed
  // fails (connection, timeout, 429, 5xx, 400/401/403/404, the stream
  // ends), the client moves to the next one, round robin, after the usual
  // jittered backoff, and a stream resumes there with Last-Event-ID;
  // ClientStatus::server says which one it follows. base_url may be empty
  // when this is not. Default: {}.
  //
  // Example:
  //
  //   options.remote.base_url = "https://flags-a.internal:8420";
  //   options.remote.base_urls = {"https://flags-b.internal:8420"};
  std::vector<std::string> base_urls;
  // Sent as "Authorization: Bearer <sdk_key>"; never logged. Default: "".
  std::string sdk_key;
  // Default: kStreaming (falling back to polling while the stream is down).
  RemoteMode mode = RemoteMode::kStreaming;
  // Polling period (kPolling, and kStreaming while the stream is down). Each
  // wait is jittered uniformly by +/- poll_jitter of it. Default: 30 s, 0.1.
  absl::Duration poll_interval = absl::Seconds(30);
  double poll_jitter = 0.1;
  // Time allowed to open a connection (TCP and TLS). Default: 5 s.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Longest silence tolerated while waiting for a poll's response bytes.
  // Default: 10 s.
  absl::Duration read_timeout = absl::Seconds(10);
  // A stream on which no event (heartbeats included) arrives for this long is
  // dead even if TCP says otherwise: it is dropped, polling takes over, and it
  // is reconnected. Should be about 3x the server's heartbeat interval.
  // Default: 45 s.
  absl::Duration heartbeat_timeout = absl::Seconds(45);
  // Largest accepted response body or SSE event (after decompression); a
  // larger one is rejected. Default: 16 MiB.
  std::size_t max_body_bytes = std::size_t{16} << 20;
  // Verify the server's TLS certificate and host name. Turn off only for
  // tests. Default: true.
  bool verify_tls = true;
  // PEM file of trusted CA certificates for https. Default: "" (the system's
  // trust store).
  std::string ca_file;
  // Reconnect backoff with full jitter: the n-th consecutive failure
  // (n = 0, 1, ...) waits uniform(0, min(backoff_cap, backoff_base * 2^n)).
  // Default: 500 ms, 30 s.
  absl::Duration backoff_base = absl::Milliseconds(500);
  absl::Duration backoff_cap = absl::Seconds(30);
  // A connection that stayed healthy this long resets the backoff. Default:
  // 60 s.
  absl::Duration backoff_reset_after = absl::Seconds(60);
  // Minimum wait after a configuration error (HTTP 401, 403, 404): the key or
  // URL is wrong and retrying fast would not help. Default: 60 s.
  absl::Duration config_error_retry = absl::Seconds(60);
};

// Exposure and outcome counting, local guards and telemetry
// (docs/guarded-rollouts.md).
//
// Every evaluation that serves a variant counts an exposure of that flag x
// variant in the evaluating thread's own counters; Client::Report() and
// GuardScope count outcomes (successes, failures) the same way. A background
// thread sums the threads' counters, judges the flags' local guards every
// guard_interval, and, when the remote source is configured, posts the counts
// to <base_url>/v1/telemetry every flush_interval (gzip, the SDK key as bearer
// token) and every guard trip at once.
struct TelemetryOptions {
  // Count exposures and outcomes. Off: evaluations count nothing, Report()
  // and GuardScope do nothing, local guards never trip, nothing is posted.
  // Default: true.
  bool counting = true;
  // Post the counts to the remote source's server (only when
  // RemoteOptions::base_url is set and its mode is not kOff). Default: true.
  bool send = true;
  // How often counts are posted. Default: 5 s.
  absl::Duration flush_interval = absl::Seconds(5);
  // How often the local guards are judged. Default: 100 ms.
  absl::Duration guard_interval = absl::Milliseconds(100);
  // Counts that could not be delivered for this long (server down) are
  // dropped, and their number is sent as `dropped` with the next post that
  // succeeds. Default: 10 min.
  absl::Duration max_unsent_age = absl::Minutes(10);
  // How long destroying the client (or AfterFork) may wait for a last post
  // of the counts not yet sent. Zero: no last post. Default: 2 s.
  absl::Duration close_timeout = absl::Seconds(2);
  // Identifies this process in posts (`instance`). Default: "" (host name
  // and process id).
  std::string instance;
};

struct ClientOptions {
  // Flag set compiled into the client at creation (an embedded JSON string),
  // served until a source delivers something. Must be valid if non-empty:
  // Client::Create fails otherwise. Default: "" (no bootstrap).
  std::string bootstrap_json;
  // Load `bootstrap_json` from this file instead (read once at creation).
  // Default: "".
  std::string bootstrap_path;
  // Local file source (reloaded on change). Default: none.
  FileSourceOptions file;
  // Remote source (polling or streaming from a flag server). Default: none.
  RemoteOptions remote;
  // Last-known-good cache: every snapshot accepted from the remote source is
  // written here atomically (temporary file, fsync, rename), and at creation
  // the cache is served, before any bootstrap, until the server answers. The
  // file records the first server (base_url, else base_urls[0]) and a hash
  // of the sdk_key it came from; a cache from another server or key is
  // ignored. Default: "" (no cache).
  std::string cache_path;
  // Compiler options for every document this client compiles.
  // Default: CompileOptions{} (unknown operators rejected).
  CompileOptions compile;
  // Exposure and outcome counting, local guards, telemetry. Default: counting
  // on; posting when a remote source is configured.
  TelemetryOptions telemetry;
};

}  // namespace hotfix

#endif  // HOTFIX_OPTIONS_H_
