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
//    process-wide registry (claimed on its first read from a preallocated
//    pool, given back when the thread exits, after its thread_local
//    destructors). A read is:
//        c = current.load(acquire)            // a tagged pointer, see below
//        loop { slot.hazard = untag(c); <fence per c's tag>;
//               d = current.load(seq_cst); if d == c break; c = d }
//        ... evaluate against *untag(c) ...
//        slot.hazard.store(nullptr, release)
//    The only stores are to the thread's own slot: no shared reference count,
//    no lock, no allocation.
//  * The writer (one at a time, under a mutex) exchanges `current`, puts the
//    old snapshot on a retired list, issues the heavy half of the fence, scans
//    every slot, and frees each retired snapshot no slot names. Snapshots still
//    named stay retired and are retried at the next publication or Reclaim().
//  * <fence>: `current`'s low bit says which protocol readers use. Untagged
//    (where membarrier(PRIVATE_EXPEDITED) works, Linux >= 4.14), the reader
//    stores its hazard with release and a compiler barrier only, and the
//    writer's membarrier() forces a full barrier on every running thread of
//    the process, so the reader's hazard store is visible before the writer
//    scans. Tagged (no membarrier, and in ThreadSanitizer builds, whose model
//    does not know membarrier), the reader stores its hazard with a seq_cst
//    exchange, and the writer's seq_cst exchange of `current`, seq_cst fence
//    and seq_cst loads of the slots (and of the slot list, whose links are
//    seq_cst too) complete the classic Dekker pairing.
//  * If membarrier() starts failing after start-up (a seccomp filter
//    installed later, say), the writer re-tags `current` (logging once) and
//    uses the tagged protocol from then on. A reader validates only the exact
//    tagged value it loaded twice, so from the re-tagging on no reader can
//    validate with the light protocol; the snapshots that were published
//    under it (those retired at that moment and the one current then) may
//    still be held by light readers the writer can no longer see, and are
//    kept until the Publisher dies: a leak bounded by that one moment.
//
// A reader that validated p (current == p after its hazard store) is therefore
// either seen by the writer's scan or started after the exchange and would
// have seen the new pointer. Reads on one thread may nest (an evaluation
// inside a log sink, say): a nested read pins with a spare slot of its own. So
// does a read in a thread_local or pthread-key destructor that runs after the
// thread's slot was given back; both return their slot when they end.
//
// Thread-safe: readers from any thread; Publish/Reclaim serialize internally.
// Not async-signal-safe (a thread's first read may allocate).

#ifndef HOTFIX_SRC_CLIENT_PUBLISHER_H_
#define HOTFIX_SRC_CLIENT_PUBLISHER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "hotfix/snapshot.h"
#include "hotfix/status.h"
#include "model/model.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

// One published snapshot plus what readers need beside it.
struct Published {
  std::unique_ptr<const Snapshot> snapshot;
  const CompiledFlagSet* set = nullptr;  // == &snapshot->compiled()
  std::uint32_t generation = 0;          // publication counter, never 0
  SnapshotOrigin origin = SnapshotOrigin::kNone;
  absl::Time accepted;
  // Published while readers used the light (membarrier) protocol.
  bool light = false;
};

struct alignas(64) HazardSlot {
  std::atomic<const Published*> hazard{nullptr};
  std::atomic<bool> owned{false};
  HazardSlot* next = nullptr;  // immutable once linked
  // Position in the registry (0, 1, ...), immutable once linked. Whoever owns
  // the slot (one thread, or one nested read) is the only writer of the
  // per-slot exposure and outcome counters (client/counters.h).
  std::uint32_t index = 0;
};

// This thread's slot, or nullptr before its first read (and after the slot
// was given back at thread exit).
// Constant-initialized, so that readers need no TLS-init check.
extern constinit thread_local HazardSlot* tls_hazard_slot;

// Slow path of ReadGuard: a slot for a read that cannot use the thread's own
// (`own` is tls_hazard_slot). On a thread's first read this claims the
// thread's slot, returns it and sets *temporary = false; for a nested read, or
// a read while the thread exits, it returns a spare slot and sets *temporary =
// true: the guard gives it back (ReleaseTemporarySlot) when it ends.
HazardSlot* ClaimSlotSlow(HazardSlot* own, bool* temporary) noexcept;
void ReleaseTemporarySlot(HazardSlot* slot) noexcept;

// Slots in the process-wide registry, and how many of them are owned (by a
// live thread or a read in progress). For tests.
std::size_t HazardSlotCount();
std::size_t OwnedHazardSlotCount();

class Publisher {
 public:
  // Bit 0 of `current_`: readers must use the seq_cst (fallback) protocol.
  static constexpr std::uintptr_t kFallbackTag = 1;

  Publisher();
  // Frees every snapshot. No reader may be active.
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // ReadGuard pins the current snapshot for the guard's lifetime.
  //
  // Cost: two atomic loads and two stores to the thread's own slot; a
  // compiler barrier (or, without membarrier, one locked instruction). A
  // thread's first read claims a slot (see ClaimSlotSlow).
  class ReadGuard {
   public:
    explicit ReadGuard(const Publisher& publisher) noexcept {
      HazardSlot* slot = tls_hazard_slot;
      if (ABSL_PREDICT_FALSE(slot == nullptr ||
                             slot->hazard.load(std::memory_order_relaxed) !=
                                 nullptr)) {
        slot = ClaimSlotSlow(slot, &temporary_);
      }
      slot_ = slot;
      std::uintptr_t c = publisher.current_.load(std::memory_order_acquire);
      for (;;) {
        const Published* p = Untag(c);
        if (ABSL_PREDICT_TRUE((c & kFallbackTag) == 0)) {
          slot->hazard.store(p, std::memory_order_release);
          std::atomic_signal_fence(std::memory_order_seq_cst);
        } else {
          slot->hazard.exchange(p, std::memory_order_seq_cst);
        }
        const std::uintptr_t d =
            publisher.current_.load(std::memory_order_seq_cst);
        if (ABSL_PREDICT_TRUE(d == c)) break;
        c = d;
      }
      published_ = Untag(c);
    }
    ~ReadGuard() {
      slot_->hazard.store(nullptr, std::memory_order_release);
      if (ABSL_PREDICT_FALSE(temporary_)) ReleaseTemporarySlot(slot_);
    }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

    // The pinned snapshot, or nullptr when none was ever published.
    const Published* get() const noexcept { return published_; }
    // The hazard slot this read owns (the thread's, or a temporary one).
    HazardSlot* slot() const noexcept { return slot_; }

   private:
    HazardSlot* slot_;
    const Published* published_;
    bool temporary_ = false;
  };

  // Called with the new publication (generation assigned) just before or
  // just after it becomes current, under the writer lock; see
  // ClientCore::Offer.
  using SwapHook = absl::FunctionRef<void(const Published& next)>;

  // Publish()
  //
  // Makes `next` current and returns the publication's generation (never 0).
  // `before_swap` runs just before the swap, `after_swap` right after it
  // (before reclamation). The previous snapshot is retired and freed once no
  // reader holds it.
  //
  // Cost: a lock, a membarrier system call (or a fence), a scan of all hazard
  // slots, and the frees.
  std::uint32_t Publish(
      std::unique_ptr<const Snapshot> next, SnapshotOrigin origin,
      absl::Time accepted, SwapHook before_swap = [](const Published&) {},
      SwapHook after_swap = [](const Published&) {});

  // Frees retired snapshots no reader holds. Publish() calls it too.
  void Reclaim();

  // fork() support (see ClientCore::PrepareFork): hold / release the writer
  // lock across fork().
  void LockForFork() ABSL_EXCLUSIVE_LOCK_FUNCTION(mu_) { mu_.Lock(); }
  void UnlockAfterFork() ABSL_UNLOCK_FUNCTION(mu_) { mu_.Unlock(); }

  // ForEachSnapshotInChild()
  //
  // In a forked child, with the writer lock held (LockForFork): calls `fn`
  // with every snapshot this publisher still owns (current, retired, kept).
  void ForEachSnapshotInChild(absl::FunctionRef<void(const Published&)> fn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Number of retired snapshots not yet freed, and of those kept for good
  // after membarrier() failed (for tests).
  std::size_t retired_count() const;
  std::size_t kept_count() const;
  // True while readers use the light (membarrier) protocol.
  bool light() const;

  // The current publication without pinning it: only for the writer thread
  // (which alone frees snapshots) or for reading immutable scalars via
  // version().
  const Published* current_for_writer() const noexcept {
    return Untag(current_.load(std::memory_order_acquire));
  }
  // The version of the current snapshot, 0 if none.
  //
  // Cost: pins the snapshot like an evaluation does (two loads, two stores
  // to the thread's own slot, a compiler barrier).
  std::uint64_t version() const noexcept;

 private:
  static const Published* Untag(std::uintptr_t c) noexcept {
    return reinterpret_cast<const Published*>(c & ~kFallbackTag);
  }
  void ReclaimLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // membarrier() failed: switch readers to the seq_cst protocol for good.
  void SwitchToFallbackLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A Published* with kFallbackTag when readers must use the seq_cst
  // protocol.
  std::atomic<std::uintptr_t> current_{0};
  mutable Mutex mu_;
  bool light_ ABSL_GUARDED_BY(mu_) = false;
  std::uint32_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<const Published*> retired_ ABSL_GUARDED_BY(mu_);
  // Published under the light protocol, retired after it stopped working:
  // freed only by the destructor.
  std::vector<const Published*> kept_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_CLIENT_PUBLISHER_H_
