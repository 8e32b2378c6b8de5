// src/client/counters.cc
//
// Counters: allocation of shards and blocks, and the telemetry thread's sum.

#include "client/counters.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace hotfix {
namespace internal {
namespace {

// Serials of Counters objects; 0 is ThreadCounts' "nothing cached".
std::atomic<std::uint64_t> g_next_serial{1};

// Exposures an exposure byte holds before it wraps.
constexpr std::uint64_t kByteRange = 256;

// A shard's exposure mapping: kMaxCounters wide cells, then as many bytes.
constexpr std::size_t kExposureMapBytes =
    Counters::kMaxCounters * (sizeof(std::uint64_t) + 1);

}  // namespace

Counters::Counters()
    : serial_(g_next_serial.fetch_add(1, std::memory_order_relaxed)) {}

Counters::~Counters() {
  for (std::atomic<Shard*>& s : shards_) {
    DeleteShard(s.load(std::memory_order_acquire));
  }
}

void Counters::DeleteShard(Shard* shard) noexcept {
  if (shard == nullptr) return;
  for (std::atomic<Cell*>& b : shard->blocks) {
    delete[] b.load(std::memory_order_acquire);
  }
  ::munmap(shard->carried, kExposureMapBytes);
  delete shard;
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
  if (field == kExposures) {
    Byte& byte = shard->exposures[id];
    const auto n =
        static_cast<std::uint8_t>(byte.load(std::memory_order_relaxed) + 1);
    byte.store(n, std::memory_order_relaxed);
    if (n == 0) Carry(shard, id);
  } else {
    Cell* block =
        shard->blocks[id >> kBlockBits].load(std::memory_order_acquire);
    if (block == nullptr) block = NewBlock(shard, id);
    if (block == nullptr) return;
    Cell& cell = block[(field - 1) * kBlockSize + (id & (kBlockSize - 1))];
    cell.store(cell.load(std::memory_order_relaxed) + 1,
               std::memory_order_relaxed);
  }
  // The thread's own slot (not a temporary one of a nested read, nor none at
  // thread exit): its next counts here take the cached path.
  if (slot == tls_hazard_slot) {
    tls_thread_counts = ThreadCounts{serial_, shard->exposures, shard->blocks};
  }
}

void Counters::CarryExposures(std::uint32_t id) noexcept {
  // The thread's cached shard is the one of its own hazard slot (both are
  // cleared together when the thread gives the slot back).
  const HazardSlot* const slot = tls_hazard_slot;
  if (slot == nullptr || slot->index >= kMaxShards || id >= kMaxCounters) {
    CountLost(kByteRange);
    return;
  }
  Shard* shard = shards_[slot->index].load(std::memory_order_acquire);
  if (shard == nullptr) {
    CountLost(kByteRange);
    return;
  }
  Carry(shard, id);
}

void Counters::Carry(Shard* shard, std::uint32_t id) noexcept {
  Cell& wide = shard->carried[id];
  // Release: a Sum that sees the carried total also sees the byte's wrap
  // (it reads the wide cell first), so it never counts the 256 twice.
  wide.store(wide.load(std::memory_order_relaxed) + kByteRange,
             std::memory_order_release);
}

void Counters::CountLost(std::uint64_t n) noexcept {
  lost_.fetch_add(n, std::memory_order_relaxed);
}

Counters::Shard* Counters::NewShard(std::uint32_t index) noexcept {
  Shard* shard = new (std::nothrow) Shard;
  if (shard == nullptr) {
    CountLost();
    return nullptr;
  }
  // Anonymous memory reads as zeros, and the kernel backs only the pages a
  // thread touches.
  void* map = ::mmap(nullptr, kExposureMapBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    delete shard;
    CountLost();
    return nullptr;
  }
  shard->carried = static_cast<Cell*>(map);
  shard->exposures = reinterpret_cast<Byte*>(
      static_cast<char*>(map) + kMaxCounters * sizeof(std::uint64_t));
  // Only the slot's owner gets here, but a compare-and-swap costs nothing on
  // this once-per-slot path and keeps the invariant local.
  Shard* expected = nullptr;
  if (!shards_[index].compare_exchange_strong(expected, shard,
                                              std::memory_order_acq_rel)) {
    DeleteShard(shard);
    return expected;
  }
  return shard;
}

Counters::Cell* Counters::NewBlock(Shard* shard, std::uint32_t id) noexcept {
  // Value-initialized: every cell 0.
  Cell* block = new (std::nothrow) Cell[kBlockSize * kOutcomeFields]();
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

std::vector<Counters::Totals> Counters::Sum(std::uint32_t ids,
                                            SumOf what) const {
  if (ids > kMaxCounters) ids = kMaxCounters;
  std::vector<Totals> totals(ids, Totals{0, 0, 0});
  const std::uint32_t blocks = (ids + kBlockSize - 1) >> kBlockBits;
  for (const std::atomic<Shard*>& s : shards_) {
    const Shard* shard = s.load(std::memory_order_acquire);
    if (shard == nullptr) continue;
    for (std::uint32_t id = 0; what == SumOf::kEverything && id < ids; ++id) {
      // The wide cell before the byte (acquire: see Carry); two statements,
      // as the operands of + are unsequenced.
      const std::uint64_t carried =
          shard->carried[id].load(std::memory_order_acquire);
      totals[id][kExposures] +=
          carried + shard->exposures[id].load(std::memory_order_relaxed);
    }
    for (std::uint32_t b = 0; b < blocks; ++b) {
      const Cell* block = shard->blocks[b].load(std::memory_order_acquire);
      if (block == nullptr) continue;
      const std::uint32_t first = b << kBlockBits;
      const std::uint32_t end =
          first + kBlockSize < ids ? first + kBlockSize : ids;
      for (std::uint32_t id = first; id < end; ++id) {
        for (std::uint32_t f = 1; f <= kOutcomeFields; ++f) {
          totals[id][f] += block[(f - 1) * kBlockSize + (id - first)].load(
              std::memory_order_relaxed);
        }
      }
    }
  }
  // Each shard's part is at most its true count (short by up to 255 while a
  // wrap is being carried), so the larger of this and the last sum is too.
  if (what != SumOf::kEverything) return totals;
  MutexLock lock(&sum_mu_);
  if (last_exposures_.size() < ids) last_exposures_.resize(ids, 0);
  for (std::uint32_t id = 0; id < ids; ++id) {
    std::uint64_t& last = last_exposures_[id];
    last = std::max(last, totals[id][kExposures]);
    totals[id][kExposures] = last;
  }
  return totals;
}

}  // namespace internal
}  // namespace hotfix
