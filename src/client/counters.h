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
// snapshots. Shards are allocated on a slot's first count, and each block of
// kBlockSize counters on the shard's first count in it: a thread's first
// counted evaluation of a flag in a block it has not touched allocates once;
// later counts never allocate.
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
#include "client/publisher.h"
#include "hotfix/client.h"
#include "model/model.h"  // kNoCounter

namespace hotfix {
namespace internal {

// What one counter counts.
enum CounterField : int { kExposures = 0, kSuccesses = 1, kFailures = 2 };

// FlagHandle's inline count (hotfix/client.h) adds to a counter's first cell.
static_assert(kExposures == 0);

class Counters {
 public:
  // The layout FlagHandle's inline count reads (hotfix/client.h).
  static constexpr std::uint32_t kBlockBits = kCountBlockBits;
  static constexpr std::uint32_t kBlockSize = kCountBlockSize;
  static constexpr std::uint32_t kFields = kCountFields;
  static constexpr std::uint32_t kMaxBlocks = 256;
  // Counter ids per Client (flag x variant pairs ever served).
  static constexpr std::uint32_t kMaxCounters = kBlockSize * kMaxBlocks;
  // Hazard slots (threads evaluating at once) whose counts are kept; counts
  // made through a slot beyond this are lost (and counted in lost()).
  static constexpr std::uint32_t kMaxShards = 4096;

  using Totals = std::array<std::uint64_t, 3>;

  Counters();
  ~Counters();
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  // Count()
  //
  // Adds one to `field` of counter `id` (kNoCounter: nothing), in the shard of
  // the calling thread's own hazard slot when the thread has it cached
  // (ThreadCounts), else in the shard of `slot`, which the caller owns (and
  // then caches the thread's own).
  //
  // Cost: with the thread's shard cached, two thread-local loads, two
  // dependent loads and a store; else three dependent loads more. The first
  // count of a shard or of one of its blocks allocates.
  void Count(const HazardSlot* slot, std::uint32_t id,
             CounterField field) noexcept {
    const ThreadCounts& cached = tls_thread_counts;
    if (ABSL_PREDICT_TRUE(cached.serial == serial_ && id < kMaxCounters)) {
      Cell* block =
          cached.blocks[id >> kBlockBits].load(std::memory_order_acquire);
      if (ABSL_PREDICT_TRUE(block != nullptr)) {
        Cell& cell = block[field * kBlockSize + (id & (kBlockSize - 1))];
        // One writer per shard: no read-modify-write instruction needed.
        cell.store(cell.load(std::memory_order_relaxed) + 1,
                   std::memory_order_relaxed);
        return;
      }
    }
    CountSlow(slot, id, field);
  }

  // Sum()
  //
  // The totals of every counter id below `ids` (index = id), summed over all
  // shards, as of some moment during the call (each shard's counts are
  // monotonic).
  //
  // Cost: a pass over every allocated block of every shard.
  std::vector<Totals> Sum(std::uint32_t ids) const;

  // Counts lost because a slot's index or a counter id was out of range, or
  // an allocation failed.
  std::uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

  // This object's serial: unique in the process, never 0 (ThreadCounts).
  std::uint64_t serial() const { return serial_; }

 private:
  using Cell = std::atomic<std::uint64_t>;
  // A block is kFields x kBlockSize cells (new[]): field f of the block's
  // counter c is cell f * kBlockSize + c. Field-major, so that exposure
  // counting, by far the most frequent, touches a third of the memory.
  struct Shard {
    std::atomic<Cell*> blocks[kMaxBlocks] = {};
  };

  // Count() without the thread's shard cached: counts through `slot`
  // (allocating on a first count), then caches the thread's shard if `slot`
  // is the thread's own; or an id or slot out of range.
  [[gnu::noinline]] void CountSlow(const HazardSlot* slot, std::uint32_t id,
                                   CounterField field) noexcept;
  Shard* NewShard(std::uint32_t index) noexcept;
  Cell* NewBlock(Shard* shard, std::uint32_t id) noexcept;
  [[gnu::noinline]] void CountLost() noexcept;

  const std::uint64_t serial_;
  std::atomic<Shard*> shards_[kMaxShards] = {};
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_CLIENT_COUNTERS_H_
