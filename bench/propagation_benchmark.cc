// bench/propagation_benchmark.cc
//
// Propagation latency: the time from a flag server publishing a change to a
// client's change listener firing, over real HTTP on loopback, for a streaming
// client and a polling client. The server is the test server of
// tests/support/flag_server.h (cpp-httplib), in the same process; each change
// is one single-flag patch (streaming) or a new version served on the next
// poll (polling). Changes are made one at a time: the next one starts after
// the listener saw the previous one (for polling, after a random pause of up
// to one interval, so that changes do not line up with the polls).
//
// A plain main() with manual timing (Google Benchmark's model of repeated
// identical iterations does not fit an end-to-end latency distribution).
//
//   propagation_benchmark [--changes=1000] [--poll_interval_ms=20]
//                         [--mode=both|stream|poll]
//
// Prints p50 / p90 / p99 / max per mode. Polling latency is dominated by the
// interval (uniform over it, plus the jitter): expect p50 near half of it.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hotfix/client.h"
#include "hotfix/log.h"
#include "support/flag_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using ::hotfix::testing_support::BoolFlag;
using ::hotfix::testing_support::FlagServer;

struct Config {
  int changes = 1000;
  int poll_interval_ms = 20;
  bool stream = true;
  bool poll = true;
};

Config ParseArgs(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::size_t n = std::strlen(name);
      return arg.compare(0, n, name) == 0 ? arg.c_str() + n : nullptr;
    };
    if (const char* v = value("--changes=")) {
      config.changes = std::max(1, std::atoi(v));
    } else if (const char* v = value("--poll_interval_ms=")) {
      config.poll_interval_ms = std::max(1, std::atoi(v));
    } else if (const char* v = value("--mode=")) {
      config.stream = std::strcmp(v, "poll") != 0;
      config.poll = std::strcmp(v, "stream") != 0;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--changes=N] [--poll_interval_ms=MS] "
                   "[--mode=both|stream|poll]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  return config;
}

double Percentile(std::vector<double> sorted, double p) {
  if (sorted.empty()) return 0;
  const std::size_t index =
      std::min(sorted.size() - 1,
               static_cast<std::size_t>(p * (sorted.size() - 1) + 0.5));
  return sorted[index];
}

// Runs `changes` changes against a fresh client in `mode`; returns the
// latencies in milliseconds, or an empty vector on failure.
std::vector<double> Measure(hotfix::RemoteMode mode, const Config& config) {
  FlagServer server;
  server.SetHeartbeatInterval(std::chrono::seconds(5));
  server.SetAll(1, {{"k", BoolFlag(false)}});
  if (!server.Start(0)) {
    std::fprintf(stderr, "cannot start the test server\n");
    return {};
  }
  hotfix::ClientOptions options;
  options.remote.base_url = server.url();
  options.remote.sdk_key = FlagServer::kSdkKey;
  options.remote.mode = mode;
  options.remote.poll_interval = absl::Milliseconds(config.poll_interval_ms);
  auto client = hotfix::Client::Create(options);
  if (!client.ok() || !(*client)->WaitUntilReady(absl::Seconds(10))) {
    std::fprintf(stderr, "client not ready\n");
    return {};
  }
  if (mode == hotfix::RemoteMode::kStreaming && !FlagServer::Eventually([&] {
        return (*client)->GetStatus().connection ==
               hotfix::RemoteConnection::kStreaming;
      })) {
    std::fprintf(stderr, "stream not established\n");
    return {};
  }

  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t seen_version = 0;
  Clock::time_point seen_at;
  (*client)->AddListener([&](const hotfix::ChangeEvent& event) {
    const Clock::time_point now = Clock::now();
    std::lock_guard<std::mutex> lock(mu);
    seen_version = event.new_version;
    seen_at = now;
    cv.notify_all();
  });

  std::vector<double> latencies;
  latencies.reserve(config.changes);
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> pause_us(0,
                                              config.poll_interval_ms * 1000);
  for (int i = 0; i < config.changes; ++i) {
    if (mode == hotfix::RemoteMode::kPolling) {
      std::this_thread::sleep_for(std::chrono::microseconds(pause_us(rng)));
    }
    const Clock::time_point start = Clock::now();
    const std::uint64_t version = server.SetFlag("k", BoolFlag(i % 2 == 0));
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(30),
                     [&] { return seen_version >= version; })) {
      std::fprintf(stderr, "change %d not seen within 30 s\n", i);
      return {};
    }
    latencies.push_back(
        std::chrono::duration<double, std::milli>(seen_at - start).count());
  }
  std::sort(latencies.begin(), latencies.end());
  return latencies;
}

void Report(const char* name, const std::vector<double>& ms) {
  if (ms.empty()) {
    std::printf("%-28s failed\n", name);
    return;
  }
  std::printf("%-28s %6zu %10.3f %10.3f %10.3f %10.3f\n", name, ms.size(),
              Percentile(ms, 0.50), Percentile(ms, 0.90), Percentile(ms, 0.99),
              ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = ParseArgs(argc, argv);
  hotfix::SetLogSink([](hotfix::LogLevel, std::string_view) {},
                     hotfix::LogLevel::kError);
  std::printf("%-28s %6s %10s %10s %10s %10s\n", "mode", "n", "p50 ms",
              "p90 ms", "p99 ms", "max ms");
  bool ok = true;
  if (config.stream) {
    const std::vector<double> ms =
        Measure(hotfix::RemoteMode::kStreaming, config);
    Report("streaming (SSE patch)", ms);
    ok &= !ms.empty();
  }
  if (config.poll) {
    const std::vector<double> ms =
        Measure(hotfix::RemoteMode::kPolling, config);
    const std::string name =
        "polling (" + std::to_string(config.poll_interval_ms) + " ms +/-10%)";
    Report(name.c_str(), ms);
    ok &= !ms.empty();
  }
  return ok ? 0 : 1;
}
