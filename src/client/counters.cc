// src/client/counters.cc
//
// Counters: allocation of shards and blocks, and the telemetry thread's sum.

#include "client/counters.h"

#include <new>

namespace hotfix {
namespace internal {
namespace {

// Serials of Counters objects; 0 is ThreadCounts' "nothing cached".
std::atomic<std::uint64_t> g_next_serial{1};

}  // namespace

Counters::Counters()
    : serial_(g_next_serial.fetch_add(1, std::memory_order_relaxed)) {}

Counters::~Counters() {
  for (std::atomic<Shard*>& s : shards_) {
    Shard* shard = s.load(std::memory_order_acquire);
    if (shard == nullptr) continue;
    for (std::atomic<Cell*>& b : shard->blocks) {
      delete[] b.load(std::memory_order_acquire);
    }
    delete shard;
  }
}

void Counters::CountSlow(const HazardSlot* slot, std::uint32_t id,
                         CounterField field) noexcept {
  if (id >= kMaxCounters || slot->index >= kMaxShards) {
    if (id != kNoCounter) CountLost();
    return;
  }
  Shard* shard = shards_[slot->index].load(std::memory_order_acquire);
  if (shard == nullptr) shard = NewShard(slot->index);
  if (shard == nullptr) return;
  Cell* block = shard->blocks[id >> kBlockBits].load(std::memory_order_acquire);
  if (block == nullptr) block = NewBlock(shard, id);
  if (block == nullptr) return;
  Cell& cell = block[field * kBlockSize + (id & (kBlockSize - 1))];
  cell.store(cell.load(std::memory_order_relaxed) + 1,
             std::memory_order_relaxed);
  // The thread's own slot (not a temporary one of a nested read, nor none at
  // thread exit): its next counts here take the cached path.
  if (slot == tls_hazard_slot) {
    tls_thread_counts = ThreadCounts{serial_, shard->blocks};
  }
}

void Counters::CountLost() noexcept {
  lost_.fetch_add(1, std::memory_order_relaxed);
}

Counters::Shard* Counters::NewShard(std::uint32_t index) noexcept {
  Shard* shard = new (std::nothrow) Shard;
  if (shard == nullptr) {
    CountLost();
    return nullptr;
  }
  // Only the slot's owner gets here, but a compare-and-swap costs nothing on
  // this once-per-slot path and keeps the invariant local.
  Shard* expected = nullptr;
  if (!shards_[index].compare_exchange_strong(expected, shard,
                                              std::memory_order_acq_rel)) {
    delete shard;
    return expected;
  }
  return shard;
}

Counters::Cell* Counters::NewBlock(Shard* shard, std::uint32_t id) noexcept {
  // Value-initialized: every cell 0.
  Cell* block = new (std::nothrow) Cell[kBlockSize * kFields]();
  if (block == nullptr) {
    CountLost();
    return nullptr;
  }
  Cell* expected = nullptr;
  if (!shard->blocks[id >> kBlockBits].compare_exchange_strong(
          expected, block, std::memory_order_acq_rel)) {
    delete[] block;
    return expected;
  }
  return block;
}

std::vector<Counters::Totals> Counters::Sum(std::uint32_t ids) const {
  if (ids > kMaxCounters) ids = kMaxCounters;
  std::vector<Totals> totals(ids, Totals{0, 0, 0});
  const std::uint32_t blocks = (ids + kBlockSize - 1) >> kBlockBits;
  for (const std::atomic<Shard*>& s : shards_) {
    const Shard* shard = s.load(std::memory_order_acquire);
    if (shard == nullptr) continue;
    for (std::uint32_t b = 0; b < blocks; ++b) {
      const Cell* block = shard->blocks[b].load(std::memory_order_acquire);
      if (block == nullptr) continue;
      const std::uint32_t first = b << kBlockBits;
      const std::uint32_t end =
          first + kBlockSize < ids ? first + kBlockSize : ids;
      for (std::uint32_t id = first; id < end; ++id) {
        for (std::uint32_t f = 0; f < kFields; ++f) {
          totals[id][f] += block[f * kBlockSize + (id - first)].load(
              std::memory_order_relaxed);
        }
      }
    }
  }
  return totals;
}

}  // namespace internal
}  // namespace hotfix
