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
//   kill_switch_service [--flags PATH] [--seconds N] [--users N]
//   kill_switch_service --print-default-flags > flags.json
//
// demo.sh (beside this file; `./scripts/dev demo`) runs it against a temporary
// flag file and plays the operator: ramp the fix, kill, botch an edit, revive.

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "hotfix/hotfix.h"
#include "hotfix_embedded/checkout_demo.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

struct Options {
  std::string flags_path;  // empty: embedded defaults only
  std::string server_url;  // empty: no server
  // Further --server URLs: replicas of the same hotfixd deployment.
  std::vector<std::string> more_servers;
  std::string sdk_key;
  int seconds = 10;
  int users = 1000;
  bool print_default_flags = false;
};

void PrintUsage(std::FILE* out) {
  std::fprintf(
      out,
      "usage: kill_switch_service [--flags PATH | --server URL --sdk-key KEY]\n"
      "                           [--seconds N] [--users N]\n"
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

// Returns 0 to run, 1 on a usage error, 2 after --help.
int ParseArgs(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
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
      if (!ParsePositive(argv[++i], &options->seconds)) {
        std::fprintf(stderr, "kill_switch_service: bad --seconds %s\n",
                     argv[i]);
        return 1;
      }
    } else if (arg == "--users" && has_value) {
      if (!ParsePositive(argv[++i], &options->users)) {
        std::fprintf(stderr, "kill_switch_service: bad --users %s\n", argv[i]);
        return 1;
      }
    } else {
      std::fprintf(stderr,
                   "kill_switch_service: unknown or incomplete argument %s\n",
                   argv[i]);
      PrintUsage(stderr);
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

// What the traffic experienced since the last summary.
struct WindowStats {
  std::int64_t requests = 0;
  std::int64_t fix_path = 0;         // charged through the fixed code
  std::int64_t recommendations = 0;  // called the recommendation service
};

// The application code. The two handles are resolved once, at construction;
// after that each check is an atomic load (static flags) or a short rule
// evaluation, with no lock and no allocation.
class CheckoutService {
 public:
  explicit CheckoutService(hotfix::Client& flags)
      : fix_double_charge_(flags.Flag("fix-double-charge")),
        recommendations_(flags.Flag("kill-recommendations")) {}

  void HandleCheckout(const User& user) {
    hotfix::Context ctx(user.id);
    ctx.Set("region", user.region);

    if (fix_double_charge_.Enabled(ctx)) {
      ChargeOnceWithIdempotencyKey(user);
    } else {
      ChargeLegacy(user);
    }

    // A kill switch is on in normal operation. Killed -- or unknown, or any
    // error -- it serves false and checkout degrades instead of failing.
    if (recommendations_.Enabled(ctx)) {
      FetchRecommendations(user);
    }
    ++stats_.requests;
  }

  // Returns the stats since the last call and starts a new window.
  WindowStats TakeStats() {
    WindowStats stats = stats_;
    stats_ = WindowStats();
    return stats;
  }

 private:
  void ChargeOnceWithIdempotencyKey(const User&) { ++stats_.fix_path; }
  void ChargeLegacy(const User&) {}
  void FetchRecommendations(const User&) { ++stats_.recommendations; }

  hotfix::FlagHandle fix_double_charge_;
  hotfix::FlagHandle recommendations_;
  WindowStats stats_;
};

std::string Describe(const hotfix::ClientStatus& status) {
  return "v" + std::to_string(status.version) + " " +
         std::string(hotfix::SnapshotOriginName(status.origin)) + "/" +
         std::string(hotfix::SourceStateName(status.state)) +
         (status.server.empty() ? "" : " from " + status.server);
}

void PrintSummary(int second, const WindowStats& stats,
                  const hotfix::ClientStatus& status) {
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
  std::printf(
      "[%3ds] %5lld requests | fix path %5.1f%% | recommendations %-22s| flags "
      "%s\n",
      second, static_cast<long long>(stats.requests), fix_percent,
      recommendations.c_str(), Describe(status).c_str());
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
  auto client = hotfix::Client::Create(client_options);
  if (!client.ok()) {
    std::fprintf(stderr, "kill_switch_service: %s\n",
                 client.status().ToString().c_str());
    return 1;
  }
  hotfix::Client& flags = **client;

  flags.AddListener([](const hotfix::ChangeEvent& event) {
    std::printf("       flags changed v%llu -> v%llu (%s): %s\n",
                static_cast<unsigned long long>(event.old_version),
                static_cast<unsigned long long>(event.new_version),
                std::string(hotfix::SnapshotOriginName(event.origin)).c_str(),
                absl::StrJoin(event.changed_keys, ", ").c_str());
  });

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

  const std::vector<User> users = MakeUsers(options.users);
  CheckoutService service(flags);

  // About 1 000 checkouts a second: 10 every 10 ms, round-robin over users.
  using Clock = std::chrono::steady_clock;
  constexpr auto kTick = std::chrono::milliseconds(10);
  constexpr int kRequestsPerTick = 10;
  const Clock::time_point begin = Clock::now();
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
    if (Clock::now() >= next_summary) {
      const WindowStats stats = service.TakeStats();
      total += stats.requests;
      PrintSummary(++second, stats, flags.GetStatus());
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
