// tools/hotfixd/main.cc
//
// hotfixd: the flag server. Parses the configuration, opens the data
// directory (one hotfixd per directory, enforced with a lock file), creates
// the default environment and bootstrap tokens on first start, serves until
// SIGTERM / SIGINT, then stops accepting, ends the streams, lets requests in
// flight finish and closes the database.
//
// stderr gets start-up lines ("hotfixd: listening on HOST:PORT"), one line
// per committed change, warnings and errors — never a token, except the
// generated bootstrap token and SDK key printed once on first start.

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/requests.h"
#include "api/routes.h"
#include "common/files.h"
#include "common/json_util.h"
#include "common/server_log.h"
#include "core/auth.h"
#include "core/config.h"
#include "core/documents.h"
#include "core/flag_service.h"
#include "core/guard_controller.h"
#include "core/metrics.h"
#include "core/periodic.h"
#include "core/replication.h"
#include "core/sse_hub.h"
#include "core/telemetry.h"
#include "core/webhooks.h"
#include "hotfix_embedded/checkout_demo.h"
#include "http/server.h"
#include "store/copy.h"
#include "store/epoch.h"
#include "store/open.h"
#include "store/store.h"
#include "util/keys.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

void Log(const std::string& line) { tools::LogInfo(line); }

int Fail(const absl::Status& status) {
  tools::LogError(std::string(status.message()));
  return 1;
}

// The first line of `path`, or of environment variable `var`; "" if neither.
absl::StatusOr<std::string> ReadSecret(const std::string& path,
                                       const char* var) {
  std::string secret;
  if (!path.empty()) {
    auto text = tools::ReadFile(path, 64 * 1024);
    if (!text.ok()) return text.status();
    secret = text->substr(0, text->find('\n'));
  } else if (char* v = std::getenv(var); v != nullptr) {
    secret = v;
    // Gone from the environment: not inherited by anything we might start,
    // and not readable in /proc/<pid>/environ, which shows the bytes the
    // process started with — so those are overwritten as well.
    char* entry = v - std::strlen(var) - 1;  // "NAME=value"
    const std::size_t size = std::strlen(entry);
    unsetenv(var);
    std::memset(entry, 0, size);
  }
  secret = std::string(absl::StripAsciiWhitespace(secret));
  if (!secret.empty()) {
    absl::Status st =
        CheckSecretShape(secret, path.empty() ? std::string(var) : path);
    if (!st.ok()) return st;
  }
  return secret;
}

void RaiseFileLimit(const ServerConfig& config) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur =
        limit.rlim_max == RLIM_INFINITY ? 1 << 20 : limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  // The connections the process can hold; warn when that is fewer than the
  // streams it is configured for.
  const rlim_t capacity = limit.rlim_cur > 64 ? limit.rlim_cur - 64 : 0;
  if (capacity < static_cast<rlim_t>(config.max_streams)) {
    tools::LogWarning(absl::StrCat(
        "the open-file limit (", limit.rlim_cur, ") holds about ", capacity,
        " connections, fewer than --max-streams ", config.max_streams,
        "; raise the hard limit (`ulimit -Hn`)"));
  }
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", tmp));
  }
  return absl::OkStatus();
}

// How long the embedded demo set's hotfix lives: it expires this long after
// the first start (see StampHotfixExpiry), so `hotfixctl stale` has something
// meaningful to say about a demo server that was left running.
constexpr absl::Duration kDemoHotfixLifetime = absl::Hours(24 * 30);

// First start: the default environment with the embedded demo set
// (docs/examples/checkout-demo.json, the flags examples/kill_switch_service
// evaluates) or --bootstrap-flags.
absl::Status CreateDefaultEnvironment(const ServerConfig& config,
                                      FlagService& flags) {
  std::string document;
  std::string source;
  if (!config.bootstrap_flags_file.empty()) {
    auto text = tools::ReadFile(config.bootstrap_flags_file);
    if (!text.ok()) return text.status();
    document = std::move(*text);
    source = config.bootstrap_flags_file;
  } else {
    rapidjson::Document demo;
    absl::Status st = tools::ParseJson(kCheckoutDemoFlags, "demo set", &demo);
    if (!st.ok()) return st;
    const std::string expires = absl::FormatTime(
        "%Y-%m-%d", absl::Now() + kDemoHotfixLifetime, absl::UTCTimeZone());
    StampHotfixExpiry(demo, expires);
    document = tools::ToJson(demo);
    source =
        absl::StrCat("embedded demo flag set (hotfixes expire ", expires, ")");
  }
  auto result =
      flags.CreateEnvironment(config.default_env, document, "hotfixd",
                              absl::StrCat("first start: ", source), "");
  if (absl::IsAlreadyExists(result.status())) {
    return absl::OkStatus();  // a replica starting at the same time made it
  }
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat(source, ": ", result.status().message()));
  }
  return absl::OkStatus();
}

// One bootstrap token: the configured `secret` is registered as `name`
// (unless it was revoked: then it stays revoked); without one, a token is
// generated and shown once when `generate` (first start).
struct BootstrapToken {
  const char* what;  // "admin token", "SDK key"
  std::string name;
  std::uint32_t scopes;
  std::string env;
};

absl::Status Bootstrap(Authenticator& auth, const BootstrapToken& token,
                       const std::string& secret, bool generate) {
  if (!secret.empty()) {
    bool revoked = false;
    HOTFIX_ASSIGN_OR_RETURN(bool inserted,
                            auth.EnsureToken(secret, token.name, token.scopes,
                                             token.env, &revoked));
    if (revoked) {
      tools::LogWarning(absl::StrCat("the configured bootstrap ", token.what,
                                     " has been revoked; it stays revoked"));
    } else if (inserted) {
      Log(absl::StrCat("registered the configured ", token.what, " as \"",
                       token.name, "\""));
    }
    return absl::OkStatus();
  }
  if (!generate) return absl::OkStatus();
  Principal server;
  server.name = "hotfixd";
  server.scopes = kAdminScopes;
  HOTFIX_ASSIGN_OR_RETURN(
      CreatedToken created,
      auth.CreateToken(token.name, token.scopes, token.env, server,
                       absl::StrCat("first start: bootstrap ", token.what)));
  Log(absl::StrCat(
      "first start: ", token.what,
      token.env.empty() ? "" : absl::StrCat(" for \"", token.env, "\""),
      " (shown once, store it now): ", created.secret));
  return absl::OkStatus();
}

// `admin` / `sdk`: the configured bootstrap secrets ("" if none).
absl::Status BootstrapTokens(const ServerConfig& config, bool first_start,
                             const std::string& admin, const std::string& sdk,
                             Store& store, Authenticator& auth) {
  HOTFIX_ASSIGN_OR_RETURN(std::vector<TokenRow> existing, store.ListTokens());
  HOTFIX_RETURN_IF_ERROR(
      Bootstrap(auth, {"admin token", "bootstrap-admin", kAdminScopes, ""},
                admin, /*generate=*/existing.empty()));
  return Bootstrap(
      auth,
      {"SDK key", "sdk-" + config.default_env, kScopeSdk, config.default_env},
      sdk, /*generate=*/first_start);
}

// The value of `--name VALUE` / `--name=VALUE` in argv[2...]; "" if absent.
std::string SubcommandFlag(int argc, char** argv, const std::string& name) {
  const std::string flag = "--" + name;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == flag && i + 1 < argc) return argv[i + 1];
    if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
  }
  return "";
}

absl::StatusOr<std::unique_ptr<Store>> OpenNamed(const std::string& value,
                                                 const std::string& flag) {
  if (value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": required (sqlite:DIR or postgres://...)"));
  }
  HOTFIX_ASSIGN_OR_RETURN(DatabaseSpec spec, ParseDatabase(value, flag));
  return OpenStore(spec);
}

// hotfixd migrate --from DB --to DB: copies everything into an empty
// database, verifies it and gives it a new epoch (store/copy.h).
int RunMigrate(int argc, char** argv) {
  auto from = OpenNamed(SubcommandFlag(argc, argv, "from"), "--from");
  if (!from.ok()) return Fail(from.status());
  auto to = OpenNamed(SubcommandFlag(argc, argv, "to"), "--to");
  if (!to.ok()) return Fail(to.status());
  Log(absl::StrCat("migrate: copying ", (*from)->Describe(), " into ",
                   (*to)->Describe()));
  auto report = CopyStore(**from, **to);
  if (!report.ok()) return Fail(report.status());
  Log(absl::StrCat("migrate: copied ", report->environments, " environments, ",
                   report->versions, " versions, ", report->audit,
                   " audit entries, ", report->tokens, " tokens, ",
                   report->change_requests, " change requests, ",
                   report->webhooks, " webhooks, ", report->rollout_plans,
                   " staged rollouts, ", report->telemetry,
                   " telemetry rows; checksums verified (digest ",
                   report->digest, "); new epoch ", report->epoch));
  return 0;
}

// hotfixd new-epoch --database DB [--epoch N]: after restoring a backup,
// before starting hotfixd on it (store/epoch.h).
int RunNewEpoch(int argc, char** argv) {
  auto store = OpenNamed(SubcommandFlag(argc, argv, "database"), "--database");
  if (!store.ok()) return Fail(store.status());
  const std::uint32_t current = (*store)->Epoch();
  std::uint32_t epoch = NextEpoch(current, absl::ToUnixSeconds(absl::Now()));
  if (const std::string given = SubcommandFlag(argc, argv, "epoch");
      !given.empty()) {
    if (!absl::SimpleAtoi(given, &epoch) || epoch <= current ||
        epoch > kMaxEpoch) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("--epoch: expected a number greater than the current "
                       "epoch ",
                       current, " and at most ", kMaxEpoch)));
    }
  }
  if (absl::Status st = (*store)->SetEpoch(epoch); !st.ok()) return Fail(st);
  Log(absl::StrCat("new-epoch: ", (*store)->Describe(), " epoch ", current,
                   " -> ", epoch, "; SDKs will take its versions as newer"));
  return 0;
}

int Run(int argc, char** argv) {
  // Abseil checks every lock order against a global graph unless told not
  // to (a global lock per acquisition); the lock order is fixed by design
  // and exercised by the TSan stage.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (argc > 1 && std::strcmp(argv[1], "migrate") == 0) {
    return RunMigrate(argc, argv);
  }
  if (argc > 1 && std::strcmp(argv[1], "new-epoch") == 0) {
    return RunNewEpoch(argc, argv);
  }
  ServerConfig config;
  auto outcome = ParseServerConfig(argc, argv, &config);
  if (!outcome.ok()) {
    Log(std::string(outcome.status().message()));
    return 2;
  }
  if (*outcome == ParseOutcome::kHelp) {
    std::fputs(ServerUsage().c_str(), stdout);
    return 0;
  }
  tools::SetLogFormat(config.log_format == "json" ? tools::LogFormat::kJson
                                                  : tools::LogFormat::kText);
  if (*outcome == ParseOutcome::kVersion) {
    std::printf("hotfixd %s\n", HOTFIX_VERSION_STRING);
    return 0;
  }
  if (!internal::IsValidKey(config.default_env) ||
      config.default_env.size() > 64) {
    Log("--default-env: 1-64 characters of [A-Za-z0-9._-], not \".\" or "
        "\"..\"");
    return 2;
  }

  // SIGINT/SIGTERM are taken by a dedicated thread (sigwait); every other
  // thread inherits the blocked mask. Writes to a vanished peer must not
  // kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Secrets first: a bad one must not leave a half-initialized data dir.
  auto admin_secret = ReadSecret(config.admin_token_file, "HOTFIX_ADMIN_TOKEN");
  if (!admin_secret.ok()) return Fail(admin_secret.status());
  auto sdk_secret = ReadSecret(config.sdk_key_file, "HOTFIX_SDK_KEY");
  if (!sdk_secret.ok()) return Fail(sdk_secret.status());

  RaiseFileLimit(config);
  auto spec = ParseDatabase(DatabaseOf(config), "--database");
  if (!spec.ok()) return Fail(spec.status());
  auto store = OpenStore(*spec);
  if (!store.ok()) return Fail(store.status());

  Metrics metrics;
  SseHub hub(config.heartbeat_interval,
             static_cast<std::size_t>(config.resume_history),
             config.max_streams, StreamsPerKey(config),
             config.stream_admission_rate);
  FlagService flags(store->get(), &hub, &metrics,
                    static_cast<std::size_t>(config.resume_history));
  if (absl::Status st = flags.Load(); !st.ok()) return Fail(st);
  const bool first_start = flags.List().empty();
  if (first_start) {
    if (absl::Status st = CreateDefaultEnvironment(config, flags); !st.ok()) {
      return Fail(st);
    }
  }
  Authenticator auth(store->get());
  if (absl::Status st = auth.Load(); !st.ok()) return Fail(st);
  if (absl::Status st = BootstrapTokens(config, first_start, *admin_secret,
                                        *sdk_secret, **store, auth);
      !st.ok()) {
    return Fail(st);
  }

  WebhookOptions webhook_options;
  webhook_options.initial_backoff = config.webhook_retry_initial;
  webhook_options.max_attempts = config.webhook_max_attempts;
  webhook_options.timeout = config.webhook_timeout;
  webhook_options.ca_cert = config.webhook_ca_cert;
  WebhookDispatcher webhooks(store->get(), &metrics, webhook_options);
  if (absl::Status st = webhooks.Start(); !st.ok()) return Fail(st);
  flags.SetObserver([&webhooks](const ChangeNotice& notice) {
    webhooks.PublishChange(notice);
  });
  TelemetryService telemetry(store->get(), config.telemetry_retention);
  GuardController guard(store->get(), &flags, &telemetry,
                        config.guard_interval);
  telemetry.SetTripListener(
      [&guard](const GuardTrip& trip) { guard.OnTrip(trip); });
  // Replicas on one PostgreSQL: what the others change reaches this one.
  Replicator replicator(store->get(), &flags, &auth, &webhooks, &hub,
                        config.replica_sync_interval);
  if (absl::Status st = replicator.Start(); !st.ok()) return Fail(st);

  ApiContext context;
  context.config = &config;
  context.store = store->get();
  context.auth = &auth;
  context.flags = &flags;
  context.hub = &hub;
  context.metrics = &metrics;
  context.webhooks = &webhooks;
  context.telemetry = &telemetry;
  context.guard = &guard;
  RateLimiter ofrep_limiter(config.ofrep_rate_limit, config.ofrep_burst);
  context.ofrep_limiter = &ofrep_limiter;
  context.replicator = &replicator;
  const Api api(&context);
  FrontOptions front;
  front.host = config.host;
  front.port = config.port;
  front.listen_fd = config.listen_fd;
  front.tls_cert = config.tls_cert;
  front.tls_key = config.tls_key;
  front.io_threads = config.io_threads;
  front.worker_threads = config.workers;
  front.max_queued_work = static_cast<std::size_t>(config.max_queued_requests);
  front.max_header_bytes = static_cast<std::size_t>(config.max_header_bytes);
  front.max_header_count = config.max_header_count;
  front.max_body_bytes = config.max_body_bytes;
  front.header_timeout = config.header_timeout;
  front.request_timeout = config.request_timeout;
  front.keep_alive_timeout = config.keep_alive_timeout;
  front.write_timeout = config.io_timeout;
  front.keep_alive_max = config.keep_alive_max;
  front.max_connections = config.max_connections;
  front.max_connections_per_address = config.max_connections_per_address;
  front.max_stream_backlog =
      static_cast<std::size_t>(config.max_stream_backlog);
  auto server = HttpServer::Create(
      front,
      [&api](HttpRequest request) { return api.Prepare(std::move(request)); },
      [&api](const HttpRequest& request, int status) {
        api.ObserveFrontError(request, status);
      });
  if (!server.ok()) return Fail(server.status());
  context.front = server->get();
  auto port = (*server)->Bind();
  if (!port.ok()) return Fail(port.status());
  for (const auto& env : flags.List()) {
    Log(absl::StrCat("environment \"", env->name, "\" at version ",
                     env->version));
  }
  Log(absl::StrCat("listening on ", config.host, ":", *port,
                   (*server)->tls() ? " (https)" : " (http)", ", data in ",
                   (*store)->Describe(), ", epoch ", flags.epoch(), ", up to ",
                   (*server)->connection_capacity(), " connections"));
  if (!config.port_file.empty()) {
    if (absl::Status st = WritePortFile(config.port_file, *port); !st.ok()) {
      return Fail(st);
    }
  }

  guard.Start();
  PeriodicTask telemetry_flush(absl::Seconds(5), [&telemetry] {
    if (absl::Status st = telemetry.Flush(); !st.ok()) {
      tools::LogError(absl::StrCat("telemetry: ", st.ToString()));
    }
  });
  // Undecided change requests expire on time (audited, announced).
  PeriodicTask expiry(std::clamp(config.change_request_ttl / 2,
                                 absl::Milliseconds(100), absl::Seconds(30)),
                      [&context] { ExpireChangeRequests(context); });

  std::atomic<bool> finished{false};
  HttpServer* http = server->get();
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (finished.load()) return;
    Log(absl::StrCat("received ", sig == SIGINT ? "SIGINT" : "SIGTERM",
                     ", shutting down"));
    while (!http->IsRunning() && !finished.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!finished.load()) http->Stop();
    hub.Shutdown();
  });
  const bool ok = http->Run();
  finished.store(true);
  hub.Shutdown();
  // Wake the stopper if no signal came (Run() failed).
  kill(getpid(), SIGTERM);
  stopper.join();
  server->reset();
  replicator.Stop();
  expiry.Stop();
  guard.Stop();
  telemetry_flush.Stop();
  telemetry.Flush().IgnoreError();
  webhooks.Stop();
  Log(ok ? "stopped" : "error: accepting connections failed");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix

#if defined(HOTFIX_TSAN)
// ThreadSanitizer builds: the system cpp-httplib and libstdc++ are not
// instrumented, so TSan cannot see their synchronization and reports the
// memcpy/memcmp they make through its interceptors as races. Ignore accesses
// made by uninstrumented modules; races in hotfixd's own code still count.
extern "C" const char* __tsan_default_options() {
  return "ignore_noninstrumented_modules=1";
}
#endif

int main(int argc, char** argv) {
  umask(077);  // the database holds token hashes: owner-only
  return hotfix::hotfixd::Run(argc, argv);
}
