// bench/compile_benchmark.cc
//
// BM_Compile/<flags>: hotfix::Compile (parse, validate, compile) of a flag-set
// document of 1,000, 10,000 and 100,000 flags shaped like a real service's set
// (bench_flags.h MixedFlagSetJson: mostly static booleans, ~10 % with 1-3
// rules, rollouts, a few prerequisites and segments). Freeing the snapshot is
// not timed. Reports flags/s (items) and document bytes/s.
//
// Target (DESIGN.md): parse + compile of 10,000 flags <= 30 ms.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "bench_flags.h"
#include "benchmark/benchmark.h"
#include "hotfix/snapshot.h"

namespace hotfix {
namespace bench {
namespace {

// The document for `flags` flags, generated and checked to compile once per
// size. Returns nullptr (with the error in *error) if it does not compile.
const std::string* CompileDocument(std::size_t flags, std::string* error) {
  struct Entry {
    std::string json;
    std::string error;
  };
  // Benchmarks run one at a time; only threads of one benchmark share state.
  static auto* documents = new std::map<std::size_t, Entry>();
  auto it = documents->find(flags);
  if (it == documents->end()) {
    Entry entry;
    entry.json = MixedFlagSetJson(flags);
    absl::StatusOr<std::unique_ptr<const Snapshot>> snapshot =
        Compile(entry.json);
    if (!snapshot.ok()) {
      entry.error = std::string(snapshot.status().message());
    } else if ((*snapshot)->size() != flags) {
      entry.error = "the snapshot does not hold every generated flag";
    }
    it = documents->emplace(flags, std::move(entry)).first;
  }
  if (!it->second.error.empty()) {
    *error = it->second.error;
    return nullptr;
  }
  return &it->second.json;
}

void BM_Compile(benchmark::State& state) {
  const auto flags = static_cast<std::size_t>(state.range(0));
  std::string error;
  const std::string* json = CompileDocument(flags, &error);
  if (json == nullptr) {
    error = "Compile failed: " + error;
    state.SkipWithError(error.c_str());
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<const Snapshot>> snapshot = Compile(*json);
    benchmark::DoNotOptimize(snapshot);
    state.PauseTiming();
    if (snapshot.ok()) snapshot->reset();  // freeing is not part of compiling
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<std::int64_t>(flags));
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(json->size()));
}

BENCHMARK(BM_Compile)
    ->Arg(1'000)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bench
}  // namespace hotfix
