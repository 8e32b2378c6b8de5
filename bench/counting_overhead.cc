// bench/counting_overhead.cc
//
// What exposure counting adds to one evaluation, in time: the same loop over
// two Clients built from the same 10,000 static flags, one counting
// (TelemetryOptions::counting, the default) and one not, alternated every
// slice of 20,000 calls (about a millisecond) for 400 slices each.
//
// Why not only BM_EnabledByName against BM_EnabledByName_CountingOff in
// hotfix_benchmark: Google Benchmark measures each case for a run of its own
// (0.2 s), so on a shared machine a change of load between the two runs lands
// on one side of the difference; over 12 interleaved repetitions the
// difference of the medians still moved by 3 to 4 ns from run to run. Here
// both sides see the same millisecond-scale load, and the minimum and the
// 10th percentile over 400 slices (interference only ever adds time) move by
// a few tenths of a nanosecond between runs.
//
// Prints, for each workload and each way of running it:
//
//   workload  threads  on (ns)  off (ns)  added (ns)   [min | p10 | median]
//
// Workloads: `hot` cycles through 16 of the keys (a service's hot flags),
// `all` through all 10,000 in turn (every call a different flag), `handle`
// calls FlagHandle::Enabled() on one static flag. `threads 2` runs the same
// loop on two threads at once and reports the time per call of each; with
// `threads 1` beside it, that is the two-thread scaling with counting on and
// off. Instructions and cache misses per call, which do not depend on the
// load, are counted by bench/counting_instructions under callgrind.
//
// Usage: build/release/bench/counting_overhead [slices]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_client.h"
#include "bench_flags.h"
#include "hotfix/client.h"

namespace {

constexpr std::size_t kFlags = 10'000;
constexpr int kCallsPerSlice = 20'000;

// One slice of a workload: kCallsPerSlice calls.
struct Workload {
  const char* name;
  const std::vector<std::string>* keys;  // by name; null: by handle
};

[[gnu::noinline]] int Slice(const hotfix::Client& client,
                            const hotfix::FlagHandle& handle, const Workload& w,
                            std::size_t start) {
  int on = 0;
  if (w.keys == nullptr) {
    for (int c = 0; c < kCallsPerSlice; ++c) on += handle.Enabled();
    return on;
  }
  const std::vector<std::string>& keys = *w.keys;
  std::size_t i = start % keys.size();
  for (int c = 0; c < kCallsPerSlice; ++c) {
    on += client.Enabled(keys[i]);
    if (++i == keys.size()) i = 0;
  }
  return on;
}

// ns per call of one slice.
double TimeSlice(const hotfix::Client& client, const hotfix::FlagHandle& handle,
                 const Workload& w, std::size_t start) {
  const auto t0 = std::chrono::steady_clock::now();
  volatile int sink = Slice(client, handle, w, start);
  (void)sink;
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() /
         kCallsPerSlice;
}

struct Side {
  const hotfix::Client* client;
  hotfix::FlagHandle handle;
};

// Alternates on and off slices on this thread; fills `on` and `off`.
void Alternate(const Side& on_side, const Side& off_side, const Workload& w,
               std::size_t start, int slices, std::vector<double>* on,
               std::vector<double>* off) {
  for (int r = 0; r < 10; ++r) {  // warm-up: caches, the thread's shard
    TimeSlice(*on_side.client, on_side.handle, w, start);
    TimeSlice(*off_side.client, off_side.handle, w, start);
  }
  for (int r = 0; r < slices; ++r) {
    on->push_back(TimeSlice(*on_side.client, on_side.handle, w, start));
    off->push_back(TimeSlice(*off_side.client, off_side.handle, w, start));
  }
}

double At(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

void Report(const Workload& w, int threads, const std::vector<double>& on,
            const std::vector<double>& off) {
  std::printf(
      "%-7s %d   %6.2f %6.2f %6.2f   %6.2f %6.2f %6.2f   %+5.2f %+5.2f "
      "%+5.2f\n",
      w.name, threads, At(on, 0), At(on, 0.1), At(on, 0.5), At(off, 0),
      At(off, 0.1), At(off, 0.5), At(on, 0) - At(off, 0),
      At(on, 0.1) - At(off, 0.1), At(on, 0.5) - At(off, 0.5));
}

}  // namespace

int main(int argc, char** argv) {
  const int slices = argc > 1 ? std::max(10, std::atoi(argv[1])) : 400;
  const std::vector<std::string> all = hotfix::bench::FlagKeys(kFlags);
  std::vector<std::string> hot;
  for (std::size_t i = 0; i < 16; ++i) hot.push_back(all[i * all.size() / 16]);
  const auto counting =
      hotfix::bench::StaticFlagsClient(kFlags, /*counting=*/true);
  const auto quiet =
      hotfix::bench::StaticFlagsClient(kFlags, /*counting=*/false);
  const Side on_side{counting.get(), counting->Flag(all[0])};
  const Side off_side{quiet.get(), quiet->Flag(all[0])};
  const Workload workloads[] = {
      {"hot", &hot}, {"all", &all}, {"handle", nullptr}};

  std::printf(
      "ns per call; %d slices of %d calls each side, on and off in turn\n"
      "                 counting on            counting off          added\n"
      "        threads  min    p10    median   min    p10    median   min   "
      "p10   median\n",
      slices, kCallsPerSlice);
  for (const Workload& w : workloads) {
    std::vector<double> on, off;
    Alternate(on_side, off_side, w, 0, slices, &on, &off);
    Report(w, 1, on, off);
    // Two threads at once, each from its own start (as hotfix_benchmark's
    // threads): the slices of both threads are pooled.
    std::vector<double> on2[2], off2[2];
    std::vector<std::thread> pair;
    for (int t = 0; t < 2; ++t) {
      pair.emplace_back([&, t] {
        Alternate(on_side, off_side, w, t * all.size() / 2, slices, &on2[t],
                  &off2[t]);
      });
    }
    for (std::thread& t : pair) t.join();
    on2[0].insert(on2[0].end(), on2[1].begin(), on2[1].end());
    off2[0].insert(off2[0].end(), off2[1].begin(), off2[1].end());
    Report(w, 2, on2[0], off2[0]);
  }
  return 0;
}
