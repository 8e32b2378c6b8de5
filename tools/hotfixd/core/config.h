// tools/hotfixd/core/config.h
//
// hotfixd's settings: command-line flags and, with --config FILE, a small
// `name = value` file using the same names (flags given on the command line
// win). Secrets never come from here directly: the bootstrap admin token and
// SDK key are read from the environment (HOTFIX_ADMIN_TOKEN, HOTFIX_SDK_KEY)
// or from files named here.
//
// Thread-compatible: parsed once in main(), then read-only.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_CONFIG_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_CONFIG_H_

#include <algorithm>
#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hotfix {
namespace hotfixd {

struct ServerConfig {
  // Directory holding hotfixd.db (created if missing); the same as
  // --database sqlite:DIR. Default: "data".
  std::string data_dir = "data";
  // Where the state lives: "sqlite:DIR" or a "postgres://..." URL that
  // several replicas share (store/open.h). Default: "" (sqlite:<data_dir>).
  std::string database;
  // With PostgreSQL: every this long a replica re-reads what other replicas
  // changed even if no notification came (the bound on staleness when one is
  // lost). Default: 5 s.
  absl::Duration replica_sync_interval = absl::Seconds(5);
  // Address to listen on. Default: 127.0.0.1 (use 0.0.0.0 for every
  // interface).
  std::string host = "127.0.0.1";
  // Port; 0 picks a free one. Either way the bound address is printed to
  // stderr as "hotfixd: listening on HOST:PORT". Default: 8420.
  int port = 8420;
  // An already-listening socket inherited as this descriptor, served instead
  // of binding --host/--port: a supervisor (or a test) that holds the socket
  // keeps the port, and queues connections, across restarts. Default: -1.
  int listen_fd = -1;
  // When set, the bound port is written to this file (atomically) once the
  // server accepts connections. Default: "".
  std::string port_file;
  // PEM certificate chain and private key; both set: serve HTTPS only.
  std::string tls_cert;
  std::string tls_key;
  // Files holding the bootstrap admin token / SDK key (first line). Default:
  // "" (use HOTFIX_ADMIN_TOKEN / HOTFIX_SDK_KEY, else generate on first start).
  std::string admin_token_file;
  std::string sdk_key_file;
  // The environment created on first start. Default: "production".
  std::string default_env = "production";
  // Initial flag set of the default environment on first start. Default: ""
  // (the embedded demo set, docs/examples/checkout-demo.json).
  std::string bootstrap_flags_file;
  // Request bodies larger than this get 413. Default: 16 MiB.
  std::size_t max_body_bytes = std::size_t{16} << 20;
  // Concurrent SSE streams (all environments); more get 503. Default: 2048.
  int max_streams = 2048;
  // Concurrent SSE streams one token (SDK key) may hold; more get 503, so a
  // leaked key cannot take every slot. Default: 0, meaning half of
  // max_streams.
  int max_streams_per_key = 0;
  // Event-loop threads (they own every connection) and worker threads (for
  // requests that may block: admin writes wait for an fsync, history and
  // audit read the database). Defaults: 2 and 8.
  int io_threads = 2;
  int workers = 8;
  // Blocking requests waiting for a worker; more get 503. Default: 1024.
  int max_queued_requests = 1024;
  // Request line plus headers, in bytes and in header fields; more get 431.
  // Defaults: 16384 bytes, 100 fields.
  int max_header_bytes = 16384;
  int max_header_count = 100;
  // From a request's first byte: until its headers are in, and until all of
  // it is in; a slower client is disconnected. Defaults: 10 s, 30 s.
  absl::Duration header_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(30);
  // Connections in all and from one client address; more are refused with
  // 503 at once. Defaults: 20000 (or what RLIMIT_NOFILE allows), 10000.
  int max_connections = 20000;
  int max_connections_per_address = 10000;
  // Bytes a stream's client has not taken yet (besides a kernel buffer of a
  // quarter of it); past it the stream is closed and the client resumes with
  // Last-Event-ID. Default: 262144.
  int max_stream_backlog = 262144;
  // New streams admitted per second (a reconnect storm after a restart is
  // admitted at this rate; the rest get 503 with Retry-After). Default:
  // 2000.
  int stream_admission_rate = 2000;
  // OFREP evaluations (POST /ofrep/v1/evaluate/...) one token may make per
  // second, and at once; more get 429 with Retry-After. 0: no limit.
  // Defaults: 1000 and 2000.
  int ofrep_rate_limit = 1000;
  int ofrep_burst = 2000;
  // OFREP request bodies (the evaluation context) larger than this get 400
  // INVALID_CONTEXT. Default: 1 MiB.
  std::size_t ofrep_max_body_bytes = std::size_t{1} << 20;
  // SSE heartbeat period. Default: 15 s (the protocol allows at most 30 s).
  absl::Duration heartbeat_interval = absl::Seconds(15);
  // Idle keep-alive connections are closed after this. Default: 5 s.
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  // Requests served on one keep-alive connection. Default: 10000.
  int keep_alive_max = 10000;
  // Longest a write to a client may take (a reply, or a stream's events).
  // Default: 10 s.
  absl::Duration io_timeout = absl::Seconds(10);
  // Recent single-flag changes kept per environment for Last-Event-ID
  // resume (rebuilt from the database at start). Default: 1024.
  int resume_history = 1024;
  // A change request not decided within this long expires. Default: 72 h.
  absl::Duration change_request_ttl = absl::Hours(72);
  // Webhook deliveries: delay before the first retry (doubling up to 5 min),
  // attempts in all, the timeout of each attempt, and a PEM bundle to verify
  // https receivers with (default: the system's). Defaults: 1 s, 8, 10 s.
  absl::Duration webhook_retry_initial = absl::Seconds(1);
  int webhook_max_attempts = 8;
  absl::Duration webhook_timeout = absl::Seconds(10);
  std::string webhook_ca_cert;
  // Telemetry (guarded rollouts): how long per-minute counts are kept, and
  // how often staged rollouts are judged. Defaults: 14 days, 5 s.
  absl::Duration telemetry_retention = absl::Hours(24 * 14);
  absl::Duration guard_interval = absl::Seconds(5);
  // Log one line per request (never headers or tokens). Writes are always
  // logged. Default: false.
  bool log_requests = false;
  // "text" (RFC 3339 time, then the message) or "json" (one object per
  // line). Default: text.
  std::string log_format = "text";
};

// The --database value in force: --database, else sqlite:<--data-dir>.
inline std::string DatabaseOf(const ServerConfig& c) {
  return c.database.empty() ? "sqlite:" + c.data_dir : c.database;
}

// max_streams_per_key as configured, or its default.
inline int StreamsPerKey(const ServerConfig& c) {
  return c.max_streams_per_key > 0 ? c.max_streams_per_key
                                   : std::max(1, c.max_streams / 2);
}

enum class ParseOutcome { kRun, kHelp, kVersion };

// ParseServerConfig()
//
// Parses argv (and the --config file it names). Errors are InvalidArgument
// naming the flag or the file and line.
absl::StatusOr<ParseOutcome> ParseServerConfig(int argc, char** argv,
                                               ServerConfig* config);

// The --help text.
std::string ServerUsage();

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_CONFIG_H_
