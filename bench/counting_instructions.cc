// bench/counting_instructions.cc
//
// Instructions per evaluation with exposure counting on and off, in the same
// process over the same 10,000-flag snapshot and keys: the stable figure
// behind the time benchmarks (BM_EnabledByName vs
// BM_EnabledByName_CountingOff), which a shared machine makes noisy. Run it
// under callgrind; each measured loop is bracketed by callgrind client
// requests and dumped separately:
//
//   valgrind --tool=callgrind --collect-atstart=no \
//       --callgrind-out-file=/tmp/counting.%p
//       build/release/bench/counting_instructions
//   callgrind_annotate /tmp/counting.<pid>.<n> | head    (one file per loop)
//
// or simply read its own summary: without valgrind it prints nothing but the
// loop names; under valgrind, `--dump-instr=no` and the totals of each dump
// divided by kCalls give instructions per call (scripts: see
// docs/benchmarks.md, "Counting exposures").

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_client.h"
#include "bench_flags.h"
#include "hotfix/client.h"
#include "valgrind/callgrind.h"

namespace {

constexpr std::size_t kFlags = 10'000;
constexpr int kCalls = 200'000;

[[gnu::noinline]] int ByName(const hotfix::Client& client,
                             const std::vector<std::string>& keys) {
  int on = 0;
  std::size_t i = 0;
  for (int n = 0; n < kCalls; ++n) {
    on += client.Enabled(keys[i]);
    if (++i == keys.size()) i = 0;
  }
  return on;
}

[[gnu::noinline]] int ByHandle(const hotfix::FlagHandle& handle) {
  int on = 0;
  const hotfix::Context context;
  for (int n = 0; n < kCalls; ++n) on += handle.Enabled(context);
  return on;
}

template <typename F>
void Measure(const char* name, F f) {
  f();  // warm-up: the thread's counters, caches
  CALLGRIND_ZERO_STATS;
  CALLGRIND_START_INSTRUMENTATION;
  const int on = f();
  CALLGRIND_STOP_INSTRUMENTATION;
  CALLGRIND_DUMP_STATS_AT(name);
  std::printf("%s: %d calls (%d true)\n", name, kCalls, on);
}

}  // namespace

int main() {
  const std::vector<std::string> keys = hotfix::bench::FlagKeys(kFlags);
  auto on = hotfix::bench::StaticFlagsClient(kFlags, /*counting=*/true);
  auto off = hotfix::bench::StaticFlagsClient(kFlags, /*counting=*/false);
  const hotfix::FlagHandle on_handle = on->Flag(keys[0]);
  const hotfix::FlagHandle off_handle = off->Flag(keys[0]);
  Measure("enabled_by_name_counting_off", [&] { return ByName(*off, keys); });
  Measure("enabled_by_name_counting_on", [&] { return ByName(*on, keys); });
  Measure("handle_counting_off", [&] { return ByHandle(off_handle); });
  Measure("handle_counting_on", [&] { return ByHandle(on_handle); });
  return 0;
}
