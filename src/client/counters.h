// src/client/counters.h
//
// Counters holds one Client's exposure and outcome counts per flag x variant,
// sharded by hazard slot (client/publisher.h): every thread owns one slot, so
// every shard has one writer at a time and a count is a plain load, add and
// store to memory only that thread writes (relaxed atomics, no locked
// instruction, no lock, no shared cache line). The telemetry thread sums the
// shards (Sum) and never writes them.
//
// A counter is named by a counter id, assigned per (flag key, variant name)
// for the Client's lifetime (client/telemetry.h), so counts survive new
// snapshots.
//
// Exposures, counted on every evaluation, are counted in one byte per counter
// (a shard's `exposures`): the exposure cells of 10,000 flags take 10 KiB to
// 20 KiB, so they stay in the L1 and L2 caches beside the index walk. When a
// byte wraps to 0 its 256 exposures are carried into the counter's wide cell
// (`carried`). Both arrays are one anonymous mapping per shard, made on the
// shard's first count, whose pages the kernel provides on first touch: a
// thread that evaluates a few flags costs a page or two, and no later
// exposure count allocates. Outcomes (successes, failures) are 64-bit cells in
// blocks of kBlockSize counters, allocated on a shard's first outcome in the
// block.
//
// Thread-safe: Count* from any thread (each through the slot it owns); Sum
// from any thread.

#ifndef HOTFIX_SRC_CLIENT_COUNTERS_H_
#define HOTFIX_SRC_CLIENT_COUNTERS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "client/publisher.h"
#include "hotfix/client.h"
#include "model/model.h"  // kNoCounter
#include "util/sync.h"

namespace hotfix {
namespace internal {

// What one counter counts.
enum CounterField : int { kExposures = 0, kSuccesses = 1, kFailures = 2 };

class Counters {
 public:
  static constexpr std::uint32_t kBlockBits = 8;
  static constexpr std::uint32_t kBlockSize = 1u << kBlockBits;
  // Fields of an outcome block: kSuccesses, kFailures.
  static constexpr std::uint32_t kOutcomeFields = 2;
  // Counter ids per Client (flag x variant pairs ever served): the size of a
  // shard's exposure bytes, which FlagHandle's inline count indexes
  // (hotfix/client.h).
  static constexpr std::uint32_t kMaxCounters = kCountIds;
  static constexpr std::uint32_t kMaxBlocks = kMaxCounters / kBlockSize;
  // Hazard slots (threads evaluating at once) whose counts are kept; counts
  // made through a slot beyond this are lost (and counted in lost()).
  static constexpr std::uint32_t kMaxShards = 4096;

  using Totals = std::array<std::uint64_t, 3>;

  Counters();
  ~Counters();
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  // CountExposure()
  //
  // Adds one to the exposures of counter `id` (kNoCounter: nothing), in the
  // shard of the calling thread's own hazard slot when the thread has it
  // cached (ThreadCounts), else in the shard of `slot`, which the caller owns
  // (and then caches the thread's own).
  //
  // Cost: with the thread's shard cached, two thread-local loads, a load and
  // a byte store in memory only this thread writes; every 256th count of a
  // counter also calls CarryExposures(). Else a call: three dependent loads
  // more, and the shard's first count maps its exposure bytes.
  void CountExposure(const HazardSlot* slot, std::uint32_t id) noexcept {
    const ThreadCounts& cached = tls_thread_counts;
    if (ABSL_PREDICT_TRUE(cached.serial == serial_ && id < kMaxCounters)) {
      std::atomic<std::uint8_t>& cell = cached.exposures[id];
      // One writer per shard: no read-modify-write instruction needed.
      const auto n =
          static_cast<std::uint8_t>(cell.load(std::memory_order_relaxed) + 1);
      cell.store(n, std::memory_order_relaxed);
      if (ABSL_PREDICT_FALSE(n == 0)) CarryExposures(id);
      return;
    }
    CountSlow(slot, id, kExposures);
  }

  // Count()
  //
  // Adds one to `field` of counter `id` (kNoCounter: nothing), as
  // CountExposure() does.
  //
  // Cost: exposures as CountExposure(); an outcome with the thread's shard
  // cached, two thread-local loads, two dependent loads and a store; else
  // three dependent loads more. A shard's first outcome in one of its blocks
  // allocates.
  void Count(const HazardSlot* slot, std::uint32_t id,
             CounterField field) noexcept {
    if (field == kExposures) return CountExposure(slot, id);
    const ThreadCounts& cached = tls_thread_counts;
    if (ABSL_PREDICT_TRUE(cached.serial == serial_ && id < kMaxCounters)) {
      Cell* block =
          cached.blocks[id >> kBlockBits].load(std::memory_order_acquire);
      if (ABSL_PREDICT_TRUE(block != nullptr)) {
        Cell& cell = block[(field - 1) * kBlockSize + (id & (kBlockSize - 1))];
        cell.store(cell.load(std::memory_order_relaxed) + 1,
                   std::memory_order_relaxed);
        return;
      }
    }
    CountSlow(slot, id, field);
  }

  // CarryExposures()
  //
  // Adds the 256 exposures of counter `id` whose byte in the calling thread's
  // cached shard has just wrapped to 0 to the counter's wide cell. Only for
  // the thread whose cached shard is this object's (CountExposure, and
  // FlagHandle's inline count through hotfix::internal::CarryExposures).
  //
  // Cost: a few loads and a store.
  [[gnu::noinline]] void CarryExposures(std::uint32_t id) noexcept;

  // What Sum() adds up.
  enum class SumOf {
    kEverything,
    // Successes and failures only (exposures left 0): what a guard judges,
    // every guard_interval.
    kOutcomes,
  };

  // Sum()
  //
  // The totals of every counter id below `ids` (index = id), summed over all
  // shards: each at most the true total when the call returns, and never
  // less than an earlier call's. (Between a byte's wrap to 0 and the store
  // of its carry, the thread's shard reads 256 short; Sum then keeps the
  // earlier total, and the next one is exact again. In a forked child a
  // thread that did not survive the fork may have left such a carry undone:
  // those 256 exposures are not counted in the child, which starts from the
  // parent's totals anyway.)
  //
  // Cost: a pass over every allocated outcome block; kEverything also reads
  // every shard's exposure cells below `ids` (two loads per id per thread
  // that ever counted).
  std::vector<Totals> Sum(std::uint32_t ids,
                          SumOf what = SumOf::kEverything) const;

  // Counts lost because a slot's index or a counter id was out of range, or
  // an allocation failed.
  std::uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

  // This object's serial: unique in the process, never 0 (ThreadCounts).
  std::uint64_t serial() const { return serial_; }

 private:
  using Cell = std::atomic<std::uint64_t>;
  using Byte = std::atomic<std::uint8_t>;
  // A block is kOutcomeFields x kBlockSize cells (new[]): field f of the
  // block's counter c is cell (f - 1) * kBlockSize + c.
  struct Shard {
    // One anonymous mapping (NewShard): the exposures of counter `id` are
    // exposures[id] + carried[id].
    Byte* exposures = nullptr;
    Cell* carried = nullptr;
    std::atomic<Cell*> blocks[kMaxBlocks] = {};
  };

  // Count() without the thread's shard cached: counts through `slot`
  // (allocating on a first count), then caches the thread's shard if `slot`
  // is the thread's own; or an id or slot out of range.
  [[gnu::noinline]] void CountSlow(const HazardSlot* slot, std::uint32_t id,
                                   CounterField field) noexcept;
  Shard* NewShard(std::uint32_t index) noexcept;
  Cell* NewBlock(Shard* shard, std::uint32_t id) noexcept;
  static void DeleteShard(Shard* shard) noexcept;
  // Adds the 256 exposures of a wrapped byte of `shard` to the wide cell.
  static void Carry(Shard* shard, std::uint32_t id) noexcept;
  [[gnu::noinline]] void CountLost(std::uint64_t n = 1) noexcept;

  const std::uint64_t serial_;
  std::atomic<Shard*> shards_[kMaxShards] = {};
  std::atomic<std::uint64_t> lost_{0};
  // Sum()'s last exposure totals. Every caller of Sum holds Telemetry's
  // mutex, which Telemetry's fork handlers hold across fork(), so no thread
  // holds sum_mu_ at a fork.
  mutable Mutex sum_mu_;
  mutable std::vector<std::uint64_t> last_exposures_ ABSL_GUARDED_BY(sum_mu_);
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_CLIENT_COUNTERS_H_
