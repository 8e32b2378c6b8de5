// src/client/publisher.h
//
// Publisher holds the snapshot a Client currently serves and swaps in new ones
// without ever making a reader wait, allocate, or write a cache line another
// thread reads.
//
// The scheme (docs/architecture.md has the long form) is hazard pointers with
// one hazard slot per thread and asymmetric fences:
//
//  * Every thread that reads owns one cache-line-sized HazardSlot from a
//    process-wide registry (claimed on its first read, given back when the
//    thread exits). A read is:
//        p = current.load(acquire)
//        loop { slot.hazard = p; <fence>; q = current.load(); if q == p break;
//        p = q }
//        ... evaluate against *p ...
//        slot.hazard.store(nullptr, release)
//    The only stores are to the thread's own slot: no shared reference count,
//    no lock, no allocation.
//  * The writer (one at a time, under a mutex) exchanges `current`, puts the
//    old snapshot on a retired list, issues the heavy half of the fence, scans
//    every slot, and frees each retired snapshot no slot names. Snapshots still
//    named stay retired and are retried at the next publication or Reclaim().
//  * <fence>: where the kernel supports membarrier(PRIVATE_EXPEDITED) (Linux
//    >= 4.14) the reader's fence is only a compiler barrier and the writer's
//    membarrier() forces a full barrier on every running thread of the
//    process, so the reader's hazard store is visible before the writer scans.
//    Otherwise (and in ThreadSanitizer builds, whose model does not know
//    membarrier) the reader stores its hazard with a seq_cst exchange and the
//    writer exchanges `current` seq_cst: the classic Dekker pairing.
//
// A reader that validated p (current == p after its hazard store) is therefore
// either seen by the writer's scan or started after the exchange and would
// have seen the new pointer. Evaluations never nest, so one slot per thread
// suffices; a nested read on the same thread (not done by hotfix) would be
// detected and served with a seq_cst fallback guard.
//
// Thread-safe: readers from any thread; Publish/Reclaim serialize internally.

#ifndef HOTFIX_SRC_CLIENT_PUBLISHER_H_
#define HOTFIX_SRC_CLIENT_PUBLISHER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "hotfix/snapshot.h"
#include "hotfix/status.h"
#include "model/model.h"

namespace hotfix {
namespace internal {

// One published snapshot plus what readers need beside it.
struct Published {
  std::unique_ptr<const Snapshot> snapshot;
  const CompiledFlagSet* set = nullptr;  // == &snapshot->compiled()
  std::uint32_t generation = 0;          // publication counter (handles)
  SnapshotOrigin origin = SnapshotOrigin::kNone;
  absl::Time accepted;
};

struct alignas(64) HazardSlot {
  std::atomic<const Published*> hazard{nullptr};
  std::atomic<bool> owned{false};
  HazardSlot* next = nullptr;  // immutable once linked
};

// True when readers may use the light (compiler-only) fence. Decided once,
// before the first Publisher exists.
extern bool g_light_reader_fence;

// This thread's slot, or nullptr before its first read.
extern thread_local HazardSlot* tls_hazard_slot;
// Slow path of a thread's first read: claims a slot, sets tls_hazard_slot and
// arranges for the slot to be given back when the thread exits.
HazardSlot* ClaimHazardSlot();
// Claims a slot not tied to the thread (nested reads); give it back with
// ReadGuard::ReleaseNested.
HazardSlot* ClaimSpareSlot();

class Publisher {
 public:
  Publisher();
  // Frees every snapshot. No reader may be active.
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // ReadGuard pins the current snapshot for the guard's lifetime.
  //
  // Cost: two atomic loads and two stores to the thread's own slot; a
  // compiler barrier (or, without membarrier, one locked instruction).
  class ReadGuard {
   public:
    explicit ReadGuard(const Publisher& publisher) noexcept {
      HazardSlot* slot = tls_hazard_slot;
      if (ABSL_PREDICT_FALSE(slot == nullptr)) slot = ClaimHazardSlot();
      if (ABSL_PREDICT_FALSE(slot->hazard.load(std::memory_order_relaxed) !=
                             nullptr)) {
        // Nested read on this thread: pin with a spare slot instead.
        slot = ClaimSpareSlot();
        nested_ = true;
      }
      slot_ = slot;
      const Published* p = publisher.current_.load(std::memory_order_acquire);
      for (;;) {
#if defined(HOTFIX_TSAN)
        slot->hazard.exchange(p, std::memory_order_seq_cst);
        const Published* q = publisher.current_.load(std::memory_order_seq_cst);
#else
        if (ABSL_PREDICT_TRUE(g_light_reader_fence)) {
          slot->hazard.store(p, std::memory_order_relaxed);
          std::atomic_signal_fence(std::memory_order_seq_cst);
        } else {
          slot->hazard.exchange(p, std::memory_order_seq_cst);
        }
        const Published* q = publisher.current_.load(std::memory_order_seq_cst);
#endif
        if (ABSL_PREDICT_TRUE(q == p)) break;
        p = q;
      }
      published_ = p;
    }
    ~ReadGuard() {
      slot_->hazard.store(nullptr, std::memory_order_release);
      if (ABSL_PREDICT_FALSE(nested_)) ReleaseNested(slot_);
    }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

    // The pinned snapshot, or nullptr when none was ever published.
    const Published* get() const noexcept { return published_; }

   private:
    static void ReleaseNested(HazardSlot* slot) noexcept;
    HazardSlot* slot_;
    const Published* published_;
    bool nested_ = false;
  };

  // Publish()
  //
  // Makes `next` current and returns the publication's generation. The
  // previous snapshot is retired and freed once no reader holds it.
  //
  // Cost: a lock, a membarrier system call (or a fence), a scan of all hazard
  // slots, and the frees.
  std::uint32_t Publish(std::unique_ptr<const Snapshot> next,
                        SnapshotOrigin origin, absl::Time accepted);

  // Frees retired snapshots no reader holds. Publish() calls it too.
  void Reclaim();

  // fork() support (see ClientCore::PrepareFork): hold / release the writer
  // lock across fork().
  void LockForFork() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.Lock(); }
  void UnlockAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.Unlock(); }

  // Number of retired snapshots not yet freed (for tests).
  std::size_t retired_count() const;

  // The current publication without pinning it: only for the writer thread
  // (which alone frees snapshots) or for reading immutable scalars via
  // version().
  const Published* current_for_writer() const noexcept {
    return current_.load(std::memory_order_acquire);
  }
  // The version of the current snapshot, 0 if none. Pins briefly.
  std::uint64_t version() const noexcept;

 private:
  void ReclaimLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::atomic<const Published*> current_{nullptr};
  mutable absl::Mutex mu_;
  std::uint32_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<const Published*> retired_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_CLIENT_PUBLISHER_H_
