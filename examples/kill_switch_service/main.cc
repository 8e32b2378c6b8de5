// examples/kill_switch_service/main.cc
//
// A small service-like program that shows hotfix the way an application uses
// it: a checkout handler guards a risky fix with `fix-double-charge` and an
// expensive dependency with the kill switch `kill-recommendations`. Flags come
// from the embedded default set (docs/examples/checkout-demo.json, compiled
// in) and, with --flags PATH, from
// a file that an operator edits while the service runs; every accepted change
// is printed by a change listener, and once a second a summary line shows what
// the traffic experienced.
//
// Each checkout reports how the charge went through a hotfix::GuardScope for
// `fix-double-charge` (docs/guarded-rollouts.md), so a flag with a `guard`
// is judged in this process and, with --server, the counts reach hotfixd. To
// show a guarded rollout, --fix-failure-rate makes the fixed code fail a
// share of its charges and --base-failure-rate makes both paths fail some
// (a deterministic function of --seed and the request's number); the summary
// then shows the failures and the fix flag's reason, and a trip of the local
// guard is printed with its numbers and timing.
//
//   kill_switch_service [--flags PATH] [--seconds N] [--users N]
//   kill_switch_service --server URL --sdk-key KEY --fix-failure-rate 0.3
//   kill_switch_service --print-default-flags > flags.json
//
// demo.sh (beside this file; `./scripts/dev demo file`) runs it against a
// temporary flag file and plays the operator: ramp the fix, kill, botch an
// edit, revive. server_demo.sh does the same through hotfixd, and
// guard_demo.sh ramps a buggy fix with a guarded staged rollout that the
// guard switches off.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "hotfix/hotfix.h"
#include "hotfix_embedded/checkout_demo.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

constexpr char kFixFlag[] = "fix-double-charge";

struct Options {
  std::string flags_path;  // empty: embedded defaults only
  std::string server_url;  // empty: no server
  // Further --server URLs: replicas of the same hotfixd deployment.
  std::vector<std::string> more_servers;
  std::string sdk_key;
  int seconds = 10;
  int users = 1000;
  bool print_default_flags = false;
  // Simulated failures (fractions) and the seed that decides which requests
  // fail. Either rate given: the summary shows failures and the fix's reason.
  double fix_failure_rate = 0;
  double base_failure_rate = 0;
  bool show_outcomes = false;
  std::uint64_t seed = 1;
  // Off: the fix is evaluated but no outcome is reported (its guard never
  // trips in this process).
  bool report_outcomes = true;
  // The fix flag's guard min_samples, for the trip's timing line.
  int guard_min_samples = 100;
  std::string instance;  // telemetry `instance`; empty: host and pid
  int flush_ms = 0;      // telemetry flush interval; 0: the SDK's default
  // With --server: wait up to this long for the server's flags before
  // serving traffic; 0: serve the embedded defaults until they come.
  int wait_for_server_ms = 0;
};

void PrintUsage(std::FILE* out) {
  std::fprintf(
      out,
      "usage: kill_switch_service [--flags PATH | --server URL --sdk-key KEY]\n"
      "                           [--seconds N] [--users N]\n"
      "                           [--fix-failure-rate P] "
      "[--base-failure-rate Q]\n"
      "                           [--seed N] [--no-outcome-reports]\n"
      "                           [--guard-min-samples N] [--instance NAME]\n"
      "                           [--flush-ms N] [--wait-for-server MS]\n"
      "       kill_switch_service --print-default-flags\n"
      "\n"
      "  --flags PATH            flag file to follow (checked every 100 ms);\n"
      "                          the embedded defaults are served until it "
      "loads\n"
      "  --server URL            hotfixd to stream flags from (falls back to\n"
      "                          polling while the stream is down); again\n"
      "                          for each further replica, followed in turn\n"
      "                          when the current one fails\n"
      "  --sdk-key KEY           the environment's SDK key for --server\n"
      "  --seconds N             how long to serve traffic (default 10)\n"
      "  --users N               simulated users user-0..user-N-1 (default "
      "1000)\n"
      "  --fix-failure-rate P    fraction of the charges on the fix's path "
      "that\n"
      "                          fail (0 <= P <= 1, default 0)\n"
      "  --base-failure-rate Q   fraction of all charges, on either path, "
      "that\n"
      "                          fail (default 0); with either rate the "
      "summary\n"
      "                          shows failures and the fix flag's reason\n"
      "  --seed N                which requests fail: a function of N and "
      "the\n"
      "                          request's number (default 1)\n"
      "  --no-outcome-reports    evaluate the fix but report no outcomes (its\n"
      "                          local guard cannot trip in this process)\n"
      "  --guard-min-samples N   the fix flag's guard min_samples (default "
      "100):\n"
      "                          a trip is printed with the time from the "
      "N-th\n"
      "                          outcome on the fix's path to the change\n"
      "                          listener hearing of the trip\n"
      "  --instance NAME         this process's name in telemetry (default:\n"
      "                          host name and process id)\n"
      "  --flush-ms N            post counts to --server every N ms "
      "(default\n"
      "                          5000)\n"
      "  --wait-for-server MS    with --server: serve no traffic until the\n"
      "                          server's flags are in, for at most MS ms\n"
      "                          (default: serve the embedded defaults "
      "until\n"
      "                          they come)\n"
      "  --print-default-flags   print the embedded flag set and exit\n");
}

bool ParsePositive(const char* text, int* out) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value <= 0 || value > 1000000)
    return false;
  *out = static_cast<int>(value);
  return true;
}

bool ParseFraction(const char* text, double* out) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(value >= 0 && value <= 1)) return false;
  *out = value;
  return true;
}

bool ParseSeed(const char* text, std::uint64_t* out) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || text[0] == '-') return false;
  *out = value;
  return true;
}

// Returns 0 to run, 1 on a usage error, 2 after --help.
int ParseArgs(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    bool bad_value = false;
    if (arg == "--help" || arg == "-h") {
      PrintUsage(stdout);
      return 2;
    } else if (arg == "--print-default-flags") {
      options->print_default_flags = true;
    } else if (arg == "--flags" && has_value) {
      options->flags_path = argv[++i];
    } else if (arg == "--server" && has_value) {
      if (options->server_url.empty()) {
        options->server_url = argv[++i];
      } else {
        options->more_servers.push_back(argv[++i]);
      }
    } else if (arg == "--sdk-key" && has_value) {
      options->sdk_key = argv[++i];
    } else if (arg == "--seconds" && has_value) {
      bad_value = !ParsePositive(argv[++i], &options->seconds);
    } else if (arg == "--users" && has_value) {
      bad_value = !ParsePositive(argv[++i], &options->users);
    } else if (arg == "--fix-failure-rate" && has_value) {
      bad_value = !ParseFraction(argv[++i], &options->fix_failure_rate);
      options->show_outcomes = true;
    } else if (arg == "--base-failure-rate" && has_value) {
      bad_value = !ParseFraction(argv[++i], &options->base_failure_rate);
      options->show_outcomes = true;
    } else if (arg == "--seed" && has_value) {
      bad_value = !ParseSeed(argv[++i], &options->seed);
    } else if (arg == "--no-outcome-reports") {
      options->report_outcomes = false;
    } else if (arg == "--guard-min-samples" && has_value) {
      bad_value = !ParsePositive(argv[++i], &options->guard_min_samples);
    } else if (arg == "--instance" && has_value) {
      options->instance = argv[++i];
    } else if (arg == "--flush-ms" && has_value) {
      bad_value = !ParsePositive(argv[++i], &options->flush_ms);
    } else if (arg == "--wait-for-server" && has_value) {
      bad_value = !ParsePositive(argv[++i], &options->wait_for_server_ms);
    } else {
      std::fprintf(stderr,
                   "kill_switch_service: unknown or incomplete argument %s\n",
                   argv[i]);
      PrintUsage(stderr);
      return 1;
    }
    if (bad_value) {
      std::fprintf(stderr, "kill_switch_service: bad %s %s\n", argv[i - 1],
                   argv[i]);
      return 1;
    }
  }
  return 0;
}

// One simulated user. The strings live as long as the service, so a Context
// (a view) can point at them.
struct User {
  std::string id;
  std::string region;
};

std::vector<User> MakeUsers(int count) {
  static constexpr const char* kRegions[] = {"eu", "us", "us", "apac", "us"};
  std::vector<User> users;
  users.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    users.push_back({"user-" + std::to_string(i), kRegions[i % 5]});
  }
  return users;
}

// SplitMix64: a well-mixed 64-bit function of its input, so a request's fate
// depends only on the seed and its number.
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform number in [0, 1) from 53 bits of `bits`.
double Uniform(std::uint64_t bits) {
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

using Clock = std::chrono::steady_clock;

// What the traffic experienced since the last summary.
struct WindowStats {
  std::int64_t requests = 0;
  std::int64_t fix_path = 0;         // charged through the fixed code
  std::int64_t recommendations = 0;  // called the recommendation service
  std::int64_t fix_failures = 0;     // charges that failed, by path
  std::int64_t legacy_failures = 0;
  // The fix flag's reason at the window's last request.
  hotfix::Reason fix_reason = hotfix::Reason::kError;
};

// A trip of the fix flag's local guard, as this process saw it.
struct TripSeen {
  std::uint64_t version = 0;  // the snapshot served when it tripped
  std::string detail;         // from the client's status
  // Outcomes this process had reported on the fix's path under the flag's
  // definition that tripped, and steady-clock times since the start: when
  // the change listener heard of the trip, and when the
  // --guard-min-samples-th outcome was reported (< 0: the trip came first).
  std::int64_t outcomes = 0;
  double trip_seen_ms = 0;
  double min_samples_ms = -1;
};

// Outcomes on the fix's path under one definition of the fix flag (the
// snapshot versions from since_version on).
struct DefinitionOutcomes {
  std::uint64_t since_version = 0;
  std::int64_t outcomes = 0;
  double min_samples_ms = -1;
};

// The application code. The two handles are resolved once, at construction;
// after that each check is an atomic load (static flags) or a short rule
// evaluation, with no lock and no allocation.
class CheckoutService {
 public:
  CheckoutService(hotfix::Client& flags, const Options& options,
                  Clock::time_point start)
      : fix_double_charge_(flags.Flag(kFixFlag)),
        recommendations_(flags.Flag("kill-recommendations")),
        options_(options),
        start_(start) {}

  void HandleCheckout(const User& user) {
    hotfix::Context ctx(user.id);
    ctx.Set("region", user.region);

    // Which charges fail: a function of the seed and the request's number.
    const std::uint64_t bits = Mix(options_.seed ^ Mix(request_number_++));
    const bool background_failure = Uniform(bits) < options_.base_failure_rate;
    const bool fix_bug = Uniform(Mix(bits)) < options_.fix_failure_rate;

    if (options_.report_outcomes) {
      // The outcome of the charge is counted for the variant served; a
      // failure feeds the flag's local guard and hotfixd's staged rollout.
      hotfix::GuardScope guard = fix_double_charge_.Guard(ctx);
      bool ok;
      if (guard.enabled()) {
        ok = ChargeOnceWithIdempotencyKey(user, background_failure || fix_bug);
        NoteFixOutcome(guard.detail().snapshot_version);
      } else {
        ok = ChargeLegacy(user, background_failure);
      }
      if (!ok) guard.Fail();  // else a success when the scope ends
      stats_.fix_reason = guard.detail().reason;
    } else {
      const hotfix::EvaluationDetail detail =
          fix_double_charge_.Evaluate(ctx, hotfix::ValueType::kBool);
      if (detail.value.type == hotfix::ValueType::kBool &&
          detail.value.bool_value) {
        ChargeOnceWithIdempotencyKey(user, background_failure || fix_bug);
      } else {
        ChargeLegacy(user, background_failure);
      }
      stats_.fix_reason = detail.reason;
    }

    // A kill switch is on in normal operation. Killed -- or unknown, or any
    // error -- it serves false and checkout degrades instead of failing.
    if (recommendations_.Enabled(ctx)) {
      FetchRecommendations(user);
    }
    ++stats_.requests;
  }

  // Called by the change listener (any thread) when the fix flag got a new
  // definition in snapshot `version`: its guard starts over.
  void OnFixRedefined(std::uint64_t version) {
    redefined_at_.store(version, std::memory_order_release);
  }

  // Called by the change listener (any thread) when the fix flag's local
  // guard tripped while snapshot `version` was served.
  void OnFixTripped(std::uint64_t version, std::string detail) {
    const double now = MillisSinceStart(Clock::now());
    std::lock_guard<std::mutex> lock(trip_mu_);
    pending_trip_ = true;
    trip_.version = version;
    trip_.detail = std::move(detail);
    trip_.trip_seen_ms = now;
  }

  // Returns the stats since the last call and starts a new window.
  WindowStats TakeStats() {
    WindowStats stats = stats_;
    stats_ = WindowStats();
    stats_.fix_reason = stats.fix_reason;
    return stats;
  }

  // The trip heard of since the last call, if any, with the outcomes this
  // process had reported under the definition that tripped.
  bool TakeTrip(TripSeen* trip) {
    {
      std::lock_guard<std::mutex> lock(trip_mu_);
      if (!pending_trip_) return false;
      pending_trip_ = false;
      *trip = trip_;
    }
    const DefinitionOutcomes& d =
        trip->version >= current_.since_version ? current_ : previous_;
    trip->outcomes = d.outcomes;
    trip->min_samples_ms = d.min_samples_ms;
    return true;
  }

 private:
  double MillisSinceStart(Clock::time_point t) const {
    return std::chrono::duration<double, std::milli>(t - start_).count();
  }

  // The fix's path reported an outcome under snapshot `version`: counted for
  // the flag's current definition, and the time of the
  // --guard-min-samples-th one kept. An evaluation may still use the
  // snapshot before a new definition while the listener hears of it, so the
  // first outcomes are kept with their versions.
  void NoteFixOutcome(std::uint64_t version) {
    StartOverIfRedefined(version);
    ++current_.outcomes;
    const std::size_t n = static_cast<std::size_t>(options_.guard_min_samples);
    if (timeline_.size() < n) {
      timeline_.emplace_back(version, Clock::now());
      if (timeline_.size() == n) {
        current_.min_samples_ms = MillisSinceStart(timeline_.back().second);
      }
    }
  }

  void StartOverIfRedefined(std::uint64_t version) {
    const std::uint64_t redefined =
        redefined_at_.load(std::memory_order_acquire);
    if (redefined <= current_.since_version || version < redefined) return;
    std::vector<std::pair<std::uint64_t, Clock::time_point>> kept;
    for (const auto& entry : timeline_) {
      if (entry.first >= redefined) kept.push_back(entry);
    }
    previous_ = current_;
    previous_.outcomes -= static_cast<std::int64_t>(kept.size());
    timeline_ = std::move(kept);
    current_ = DefinitionOutcomes{
        redefined, static_cast<std::int64_t>(timeline_.size()), -1};
    const std::size_t n = static_cast<std::size_t>(options_.guard_min_samples);
    if (timeline_.size() >= n) {
      current_.min_samples_ms = MillisSinceStart(timeline_[n - 1].second);
    }
  }

  bool ChargeOnceWithIdempotencyKey(const User&, bool fails) {
    ++stats_.fix_path;
    if (fails) ++stats_.fix_failures;
    return !fails;
  }
  bool ChargeLegacy(const User&, bool fails) {
    if (fails) ++stats_.legacy_failures;
    return !fails;
  }
  void FetchRecommendations(const User&) { ++stats_.recommendations; }

  hotfix::FlagHandle fix_double_charge_;
  hotfix::FlagHandle recommendations_;
  const Options& options_;
  const Clock::time_point start_;
  std::uint64_t request_number_ = 0;
  WindowStats stats_;
  // Outcomes on the fix's path under its current and previous definitions,
  // and the times of the current one's first --guard-min-samples.
  std::atomic<std::uint64_t> redefined_at_{0};
  DefinitionOutcomes current_;
  DefinitionOutcomes previous_;
  std::vector<std::pair<std::uint64_t, Clock::time_point>> timeline_;
  std::mutex trip_mu_;
  bool pending_trip_ = false;  // guarded by trip_mu_
  TripSeen trip_;              // guarded by trip_mu_
};

std::string Describe(const hotfix::ClientStatus& status) {
  return "v" + std::to_string(status.version) + " " +
         std::string(hotfix::SnapshotOriginName(status.origin)) + "/" +
         std::string(hotfix::SourceStateName(status.state)) +
         (status.server.empty() ? "" : " from " + status.server);
}

void PrintSummary(int second, const WindowStats& stats,
                  const hotfix::ClientStatus& status, bool show_outcomes) {
  const double fix_percent = stats.requests == 0
                                 ? 0.0
                                 : 100.0 * static_cast<double>(stats.fix_path) /
                                       static_cast<double>(stats.requests);
  std::string recommendations;
  if (stats.recommendations == stats.requests) {
    recommendations = "on";
  } else if (stats.recommendations == 0) {
    recommendations = "OFF (skipped)";
  } else {
    recommendations = "partly (" + std::to_string(stats.recommendations) +
                      " of " + std::to_string(stats.requests) + ")";
  }
  std::string outcomes;
  if (show_outcomes) {
    // e.g. "| failed: fix 31/102, legacy 9/898 | fix ROLLOUT "
    outcomes = "| failed: fix " + std::to_string(stats.fix_failures) + "/" +
               std::to_string(stats.fix_path) + ", legacy " +
               std::to_string(stats.legacy_failures) + "/" +
               std::to_string(stats.requests - stats.fix_path) + " | fix " +
               std::string(hotfix::ReasonName(stats.fix_reason)) + " ";
  }
  std::printf(
      "[%3ds] %5lld requests | fix path %5.1f%% | recommendations %-22s%s| "
      "flags %s\n",
      second, static_cast<long long>(stats.requests), fix_percent,
      recommendations.c_str(), outcomes.c_str(), Describe(status).c_str());
}

// The trip's numbers as the client's status lists them ("" if it no longer
// does: a new definition of the flag already reset it).
std::string TripDetail(const hotfix::ClientStatus& status) {
  for (const hotfix::GuardTrip& trip : status.guard_trips) {
    if (trip.flag != kFixFlag) continue;
    return "variant \"" + trip.variant + "\" of v" +
           std::to_string(trip.version) + ", " + std::to_string(trip.failures) +
           "/" + std::to_string(trip.outcomes) + " failed: " + trip.detail;
  }
  return "";
}

void PrintTrip(const TripSeen& seen, int min_samples) {
  std::printf(
      "       GUARD_TRIPPED %s: the local guard switched the fix off in this "
      "process (%s)\n",
      kFixFlag,
      seen.detail.empty() ? "already reset by a new definition"
                          : seen.detail.c_str());
  // Steady-clock times since the start, in this process: from the report of
  // the min_samples-th outcome on the fix's path to the change listener
  // hearing of the trip (the fix is no longer served from then on).
  if (seen.min_samples_ms >= 0) {
    std::printf(
        "       guard timing: outcome %d of the fix reported at %.1f ms, trip "
        "heard at %.1f ms (%lld outcomes reported): tripped %.1f ms after "
        "min_samples\n",
        min_samples, seen.min_samples_ms, seen.trip_seen_ms,
        static_cast<long long>(seen.outcomes),
        seen.trip_seen_ms - seen.min_samples_ms);
  } else {
    std::printf(
        "       guard timing: trip heard at %.1f ms after only %lld outcomes "
        "of the fix (fewer than %d)\n",
        seen.trip_seen_ms, static_cast<long long>(seen.outcomes), min_samples);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const int rc = ParseArgs(argc, argv, &options); rc != 0)
    return rc == 2 ? 0 : rc;
  if (options.print_default_flags) {
    std::fputs(kCheckoutDemoFlags, stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  std::setvbuf(stdout, nullptr, _IOLBF,
               0);  // one line at a time, even into a pipe
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  // Embedded defaults first; the file, when it loads, replaces them and is
  // followed from then on. A missing or broken file is not fatal: it shows in
  // the status, and the last good flags keep being served.
  hotfix::ClientOptions client_options;
  client_options.bootstrap_json = kCheckoutDemoFlags;
  client_options.file.path = options.flags_path;
  client_options.remote.base_url = options.server_url;
  client_options.remote.base_urls = options.more_servers;
  client_options.remote.sdk_key = options.sdk_key;
  client_options.file.poll_interval = absl::Milliseconds(100);
  client_options.telemetry.instance = options.instance;
  if (options.flush_ms > 0) {
    client_options.telemetry.flush_interval =
        absl::Milliseconds(options.flush_ms);
  }
  auto client = hotfix::Client::Create(client_options);
  if (!client.ok()) {
    std::fprintf(stderr, "kill_switch_service: %s\n",
                 client.status().ToString().c_str());
    return 1;
  }
  hotfix::Client& flags = **client;

  using Clock = std::chrono::steady_clock;
  const Clock::time_point begin = Clock::now();
  CheckoutService service(flags, options, begin);

  flags.AddListener([&service, &flags](const hotfix::ChangeEvent& event) {
    std::printf("       flags changed v%llu -> v%llu (%s): %s\n",
                static_cast<unsigned long long>(event.old_version),
                static_cast<unsigned long long>(event.new_version),
                std::string(hotfix::SnapshotOriginName(event.origin)).c_str(),
                absl::StrJoin(event.changed_keys, ", ").c_str());
    if (std::find(event.changed_keys.begin(), event.changed_keys.end(),
                  kFixFlag) == event.changed_keys.end()) {
      return;
    }
    // A local trip republishes the same version; a new version that changes
    // the fix is a new definition, judged afresh by its guard.
    if (event.new_version == event.old_version) {
      service.OnFixTripped(event.new_version, TripDetail(flags.GetStatus()));
    } else {
      service.OnFixRedefined(event.new_version);
    }
  });

  if (options.wait_for_server_ms > 0 && !options.server_url.empty()) {
    // Nothing is served from the embedded defaults: the first checkout
    // already sees the server's definition of every flag (and of the fix's
    // guard, which then counts exactly the outcomes this process reports).
    const Clock::time_point until =
        Clock::now() + std::chrono::milliseconds(options.wait_for_server_ms);
    auto from_server = [&flags] {
      const hotfix::SnapshotOrigin origin = flags.GetStatus().origin;
      return origin == hotfix::SnapshotOrigin::kStream ||
             origin == hotfix::SnapshotOrigin::kPoll;
    };
    while (!from_server() && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const hotfix::ClientStatus start = flags.GetStatus();
  std::printf("kill_switch_service: %d users, %d s, flags %s%s%s\n",
              options.users, options.seconds, Describe(start).c_str(),
              options.flags_path.empty() && options.server_url.empty()
                  ? ""
                  : ", following ",
              options.flags_path.empty() ? options.server_url.c_str()
                                         : options.flags_path.c_str());
  if (!start.last_error.ok()) {
    std::printf(
        "kill_switch_service: %s not loaded yet (%s); serving the embedded "
        "defaults\n",
        options.flags_path.empty() ? "flags from the server" : "flag file",
        start.last_error.ToString().c_str());
  }
  if (options.show_outcomes) {
    std::printf(
        "kill_switch_service: failing %.1f%% of the fix's charges and %.1f%% "
        "of all charges (seed %llu); outcomes %s\n",
        100 * options.fix_failure_rate, 100 * options.base_failure_rate,
        static_cast<unsigned long long>(options.seed),
        options.report_outcomes ? "reported to the fix's guard"
                                : "NOT reported (--no-outcome-reports)");
  }

  const std::vector<User> users = MakeUsers(options.users);

  // About 1 000 checkouts a second: 10 every 10 ms, round-robin over users.
  constexpr auto kTick = std::chrono::milliseconds(10);
  constexpr int kRequestsPerTick = 10;
  Clock::time_point next_tick = begin;
  Clock::time_point next_summary = begin + std::chrono::seconds(1);
  std::size_t next_user = 0;
  std::int64_t total = 0;
  int second = 0;
  while (g_stop == 0 && second < options.seconds) {
    for (int i = 0; i < kRequestsPerTick; ++i) {
      service.HandleCheckout(users[next_user]);
      next_user = (next_user + 1) % users.size();
    }
    if (TripSeen trip; service.TakeTrip(&trip)) {
      PrintTrip(trip, options.guard_min_samples);
    }
    if (Clock::now() >= next_summary) {
      const WindowStats stats = service.TakeStats();
      total += stats.requests;
      PrintSummary(++second, stats, flags.GetStatus(), options.show_outcomes);
      next_summary += std::chrono::seconds(1);
    }
    next_tick += kTick;
    std::this_thread::sleep_until(next_tick);
  }
  total += service.TakeStats().requests;
  std::printf("kill_switch_service: served %lld requests, stopping\n",
              static_cast<long long>(total));
  return 0;
}
