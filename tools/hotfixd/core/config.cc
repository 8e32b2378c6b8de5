// tools/hotfixd/core/config.cc

#include "core/config.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "store/open.h"

namespace hotfix {
namespace hotfixd {
namespace {

struct Setting {
  std::string name;
  std::string value;
  bool has_value;
  std::string origin;  // "--name" or "FILE:LINE"
};

bool IsBoolFlag(absl::string_view name) { return name == "log-requests"; }

absl::Status Bad(const Setting& s, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(s.origin, ": ", problem));
}

absl::Status ParseInt(const Setting& s, int min, int max, int* out) {
  int v = 0;
  if (!absl::SimpleAtoi(s.value, &v) || v < min || v > max) {
    return Bad(s, absl::StrCat("expected an integer in [", min, ", ", max,
                               "], got \"", s.value, "\""));
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status ParseDurationValue(const Setting& s, absl::Duration* out) {
  absl::Duration d;
  double seconds = 0;
  if (absl::SimpleAtod(s.value, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(s.value, &d)) {
    return Bad(s,
               absl::StrCat("expected a duration such as 15s or 250ms, got \"",
                            s.value, "\""));
  }
  if (d <= absl::ZeroDuration()) return Bad(s, "must be positive");
  *out = d;
  return absl::OkStatus();
}

// The settings that are one value of a type with nothing else to check: a
// string taken as given, an integer in [min, max], a positive duration, a
// byte count in [1 KiB, 1 GiB].
template <typename T>
struct MemberSetting {
  const char* name;
  T ServerConfig::*member;
};

constexpr MemberSetting<std::string> kStringSettings[] = {
    {"host", &ServerConfig::host},
    {"port-file", &ServerConfig::port_file},
    {"tls-cert", &ServerConfig::tls_cert},
    {"tls-key", &ServerConfig::tls_key},
    {"admin-token-file", &ServerConfig::admin_token_file},
    {"sdk-key-file", &ServerConfig::sdk_key_file},
    {"default-env", &ServerConfig::default_env},
    {"bootstrap-flags", &ServerConfig::bootstrap_flags_file},
    {"webhook-ca-cert", &ServerConfig::webhook_ca_cert},
};

struct IntSetting {
  const char* name;
  int ServerConfig::*member;
  int min;
  int max;
};
constexpr IntSetting kIntSettings[] = {
    {"port", &ServerConfig::port, 0, 65535},
    {"listen-fd", &ServerConfig::listen_fd, 0, 1 << 20},
    {"max-streams", &ServerConfig::max_streams, 1, 100000},
    {"max-streams-per-key", &ServerConfig::max_streams_per_key, 1, 100000},
    {"workers", &ServerConfig::workers, 1, 1024},
    {"io-threads", &ServerConfig::io_threads, 1, 64},
    {"max-queued-requests", &ServerConfig::max_queued_requests, 1, 1000000},
    {"max-header-bytes", &ServerConfig::max_header_bytes, 1024, 1 << 20},
    {"max-header-count", &ServerConfig::max_header_count, 8, 10000},
    {"max-connections", &ServerConfig::max_connections, 1, 10000000},
    {"max-connections-per-address", &ServerConfig::max_connections_per_address,
     1, 10000000},
    {"max-stream-backlog", &ServerConfig::max_stream_backlog, 4096, 1 << 30},
    {"stream-admission-rate", &ServerConfig::stream_admission_rate, 1,
     10000000},
    {"ofrep-rate-limit", &ServerConfig::ofrep_rate_limit, 0, 10000000},
    {"ofrep-burst", &ServerConfig::ofrep_burst, 1, 10000000},
    {"keep-alive-max", &ServerConfig::keep_alive_max, 1, 1000000000},
    {"webhook-max-attempts", &ServerConfig::webhook_max_attempts, 1, 100},
    {"resume-history", &ServerConfig::resume_history, 0, 1000000},
};

constexpr MemberSetting<absl::Duration> kDurationSettings[] = {
    {"replica-sync-interval", &ServerConfig::replica_sync_interval},
    {"header-timeout", &ServerConfig::header_timeout},
    {"request-timeout", &ServerConfig::request_timeout},
    {"keep-alive-timeout", &ServerConfig::keep_alive_timeout},
    {"io-timeout", &ServerConfig::io_timeout},
    {"change-request-ttl", &ServerConfig::change_request_ttl},
    {"webhook-retry-initial", &ServerConfig::webhook_retry_initial},
    {"webhook-timeout", &ServerConfig::webhook_timeout},
    {"telemetry-retention", &ServerConfig::telemetry_retention},
    {"guard-interval", &ServerConfig::guard_interval},
};

constexpr MemberSetting<std::size_t> kByteCountSettings[] = {
    {"max-body-bytes", &ServerConfig::max_body_bytes},
    {"ofrep-max-body-bytes", &ServerConfig::ofrep_max_body_bytes},
};

absl::Status ParseByteCount(const Setting& s, std::size_t* out) {
  std::uint64_t v = 0;
  if (!absl::SimpleAtoi(s.value, &v) || v < 1024 ||
      v > (std::uint64_t{1} << 30)) {
    return Bad(s, "expected a byte count in [1024, 1073741824]");
  }
  *out = static_cast<std::size_t>(v);
  return absl::OkStatus();
}

// The entry of `table` named `name`, or nullptr.
template <typename Entry, std::size_t N>
const Entry* Find(const Entry (&table)[N], absl::string_view name) {
  for (const Entry& e : table) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

absl::Status Apply(const Setting& s, ServerConfig* c) {
  const std::string& n = s.name;
  if (!s.has_value && !IsBoolFlag(n)) return Bad(s, "needs a value");
  if (const auto* str = Find(kStringSettings, n)) {
    c->*str->member = s.value;
  } else if (const auto* num = Find(kIntSettings, n)) {
    return ParseInt(s, num->min, num->max, &(c->*num->member));
  } else if (const auto* dur = Find(kDurationSettings, n)) {
    return ParseDurationValue(s, &(c->*dur->member));
  } else if (const auto* bytes = Find(kByteCountSettings, n)) {
    return ParseByteCount(s, &(c->*bytes->member));
  } else if (n == "data-dir") {
    if (s.value.empty()) return Bad(s, "must not be empty");
    c->data_dir = s.value;
  } else if (n == "database") {
    absl::StatusOr<DatabaseSpec> spec = ParseDatabase(s.value, s.origin);
    if (!spec.ok()) return spec.status();
    c->database = s.value;
  } else if (n == "heartbeat-interval") {
    absl::Status st = ParseDurationValue(s, &c->heartbeat_interval);
    if (st.ok() && c->heartbeat_interval > absl::Seconds(30)) {
      return Bad(s, "must be at most 30s (docs/protocol.md)");
    }
    return st;
  } else if (n == "log-format") {
    if (s.value != "text" && s.value != "json") {
      return Bad(s, "expected text or json");
    }
    c->log_format = s.value;
  } else if (n == "log-requests") {
    if (!s.has_value || s.value == "true" || s.value == "1") {
      c->log_requests = true;
    } else if (s.value == "false" || s.value == "0") {
      c->log_requests = false;
    } else {
      return Bad(s, "expected true or false");
    }
  } else {
    return Bad(s, "unknown setting (see --help)");
  }
  return absl::OkStatus();
}

absl::Status ReadConfigFile(const std::string& path,
                            std::vector<Setting>* out) {
  absl::StatusOr<std::string> content = tools::ReadFile(path, 1 << 20);
  if (!content.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config: ", content.status().message()));
  }
  int number = 0;
  for (absl::string_view line : absl::StrSplit(*content, '\n')) {
    ++number;
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    Setting s;
    s.origin = absl::StrCat(path, ":", number);
    const size_t eq = text.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(s.origin, ": expected \"name = value\""));
    }
    s.name = std::string(absl::StripAsciiWhitespace(text.substr(0, eq)));
    s.value = std::string(absl::StripAsciiWhitespace(text.substr(eq + 1)));
    s.has_value = true;
    out->push_back(std::move(s));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ServerUsage() {
  return R"(usage: hotfixd [--data-dir DIR | --database DB] [--port N] [options]
       hotfixd migrate --from DB --to DB
       hotfixd new-epoch --database DB

Serves flag sets to hotfix SDKs (GET /v1/flags, GET /v1/stream) and the
admin API used by hotfixctl. On first start it creates the default
environment with an embedded flag set and prints a bootstrap admin token and
SDK key to stderr, unless HOTFIX_ADMIN_TOKEN / HOTFIX_SDK_KEY (or the
--admin-token-file / --sdk-key-file files) provide them.

  --data-dir DIR            database directory (default: data); the same as
                            --database sqlite:DIR
  --database DB             sqlite:DIR, or postgres://user@host/db to share
                            one PostgreSQL database between replicas
  --replica-sync-interval D with PostgreSQL: re-read what other replicas
                            changed at least this often (default: 5s)
  --host ADDR               listen address (default: 127.0.0.1)
  --port N                  listen port; 0 picks a free one (default: 8420)
  --port-file FILE          write the bound port to FILE once listening
  --listen-fd N             serve an inherited listening socket (descriptor
                            N) instead of binding --host/--port
  --tls-cert FILE           PEM certificate chain; with --tls-key: HTTPS only
  --tls-key FILE            PEM private key
  --admin-token-file FILE   bootstrap admin token (else $HOTFIX_ADMIN_TOKEN)
  --sdk-key-file FILE       bootstrap SDK key of the default environment
                            (else $HOTFIX_SDK_KEY)
  --default-env NAME        environment created on first start
                            (default: production)
  --bootstrap-flags FILE    its initial flag set (default: embedded)
  --max-body-bytes N        request body limit, else 413 (default: 16777216)
  --max-streams N           concurrent SSE streams, else 503 (default: 2048)
  --max-streams-per-key N   streams one token may hold, else 503
                            (default: half of --max-streams)
  --io-threads N            event-loop threads owning the connections
                            (default: 2)
  --workers N               threads for requests that may block: writes,
                            history, audit (default: 8)
  --max-queued-requests N   blocking requests waiting for a worker, else 503
                            (default: 1024)
  --max-header-bytes N      request line + headers, else 431 (default: 16384)
  --max-header-count N      header fields, else 431 (default: 100)
  --header-timeout D        first byte to end of headers (default: 10s)
  --request-timeout D       first byte to end of body (default: 30s)
  --max-connections N       open connections, else 503 (default: 20000)
  --max-connections-per-address N
                            from one client address, else 503
                            (default: 10000)
  --max-stream-backlog N    bytes a stream's client has not taken before it
                            is dropped (default: 262144)
  --stream-admission-rate N new streams per second; the rest get 503 +
                            Retry-After (default: 2000)
  --ofrep-rate-limit N      OFREP evaluations per second per token, else 429
                            + Retry-After; 0: no limit (default: 1000)
  --ofrep-burst N           OFREP evaluations a token may make at once
                            (default: 2000)
  --ofrep-max-body-bytes N  OFREP context limit, else 400 INVALID_CONTEXT
                            (default: 1048576)
  --heartbeat-interval D    SSE heartbeat period, <= 30s (default: 15s)
  --keep-alive-timeout D    idle keep-alive timeout (default: 5s)
  --keep-alive-max N        requests per keep-alive connection (default: 10000)
  --io-timeout D            longest write to a client (default: 10s)
  --resume-history N        recent changes kept for Last-Event-ID resume
                            (default: 1024)
  --change-request-ttl D    undecided change requests expire (default: 72h)
  --webhook-retry-initial D first webhook retry after D, doubling up to 5m
                            (default: 1s)
  --webhook-max-attempts N  attempts per webhook delivery (default: 8)
  --webhook-timeout D       connect/read/write timeout of one delivery
                            attempt (default: 10s)
  --webhook-ca-cert FILE    PEM bundle for https webhook receivers
                            (default: the system's)
  --telemetry-retention D   per-minute telemetry kept (default: 336h)
  --guard-interval D        staged rollouts judged every D (default: 5s)
  --log-requests            log one line per request (never tokens)
  --log-format text|json    log lines as text or as JSON objects
                            (default: text; both carry an RFC 3339 time)
  --config FILE             read "name = value" lines with these names;
                            command-line flags win
  --help, --version
)";
}

absl::StatusOr<ParseOutcome> ParseServerConfig(int argc, char** argv,
                                               ServerConfig* config) {
  std::vector<Setting> from_args;
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return ParseOutcome::kHelp;
    if (arg == "--version") return ParseOutcome::kVersion;
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\" (see --help)"));
    }
    Setting s;
    s.origin = absl::StrCat("--", arg);
    const size_t eq = arg.find('=');
    if (eq != absl::string_view::npos) {
      s.name = std::string(arg.substr(0, eq));
      s.value = std::string(arg.substr(eq + 1));
      s.has_value = true;
      s.origin = absl::StrCat("--", s.name);
    } else {
      s.name = std::string(arg);
      if (IsBoolFlag(s.name)) {
        s.has_value = false;
      } else if (i + 1 < argc) {
        s.value = argv[++i];
        s.has_value = true;
      } else {
        s.has_value = false;
      }
    }
    if (s.name == "config") {
      if (!s.has_value) return Bad(s, "needs a value");
      config_path = s.value;
      continue;
    }
    from_args.push_back(std::move(s));
  }
  std::vector<Setting> settings;
  if (!config_path.empty()) {
    absl::Status st = ReadConfigFile(config_path, &settings);
    if (!st.ok()) return st;
  }
  for (Setting& s : from_args) settings.push_back(std::move(s));
  for (const Setting& s : settings) {
    absl::Status st = Apply(s, config);
    if (!st.ok()) return st;
  }
  bool data_dir_given = false;
  bool database_given = false;
  for (const Setting& s : settings) {
    data_dir_given = data_dir_given || s.name == "data-dir";
    database_given = database_given || s.name == "database";
  }
  if (data_dir_given && database_given) {
    return absl::InvalidArgumentError(
        "--data-dir DIR is --database sqlite:DIR: give one of them");
  }
  if (config->tls_cert.empty() != config->tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key must be given together");
  }
  return ParseOutcome::kRun;
}

}  // namespace hotfixd
}  // namespace hotfix
