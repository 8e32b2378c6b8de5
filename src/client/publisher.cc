#include "client/publisher.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "util/log.h"

namespace hotfix {
namespace internal {

bool g_light_reader_fence = false;
thread_local HazardSlot* tls_hazard_slot = nullptr;

namespace {

// The process-wide list of hazard slots. Slots are never freed (a thread that
// exits gives its slot back for reuse), so scanning needs no lock.
std::atomic<HazardSlot*> g_slots{nullptr};

HazardSlot* AcquireSlot() {
  for (HazardSlot* s = g_slots.load(std::memory_order_acquire); s != nullptr;
       s = s->next) {
    bool expected = false;
    if (!s->owned.load(std::memory_order_relaxed) &&
        s->owned.compare_exchange_strong(expected, true,
                                         std::memory_order_acq_rel)) {
      return s;
    }
  }
  auto* s = new HazardSlot;
  s->owned.store(true, std::memory_order_relaxed);
  HazardSlot* head = g_slots.load(std::memory_order_relaxed);
  do {
    s->next = head;
  } while (!g_slots.compare_exchange_weak(head, s, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
  return s;
}

void GiveBack(HazardSlot* s) {
  s->hazard.store(nullptr, std::memory_order_release);
  s->owned.store(false, std::memory_order_release);
}

// Gives the thread's slot back at thread exit. Only touched on the slow path,
// so the fast path reads a trivially-destructible thread_local.
struct SlotReturner {
  bool armed = false;
  ~SlotReturner() {
    if (tls_hazard_slot != nullptr) {
      GiveBack(tls_hazard_slot);
      tls_hazard_slot = nullptr;
    }
  }
};
thread_local SlotReturner tls_slot_returner;

bool Membarrier(int cmd) { return syscall(__NR_membarrier, cmd, 0, 0) == 0; }

// After fork() only the forking thread exists in the child: every other slot's
// owner is gone, and a hazard it held would pin a snapshot forever.
void ReleaseOrphanSlotsInChild() {
  for (HazardSlot* s = g_slots.load(std::memory_order_acquire); s != nullptr;
       s = s->next) {
    if (s != tls_hazard_slot) GiveBack(s);
  }
}

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
#if !defined(HOTFIX_TSAN)
    g_light_reader_fence =
        Membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) &&
        Membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
#endif
    pthread_atfork(nullptr, nullptr, &ReleaseOrphanSlotsInChild);
  });
}

}  // namespace

HazardSlot* ClaimHazardSlot() {
  HazardSlot* s = AcquireSlot();
  tls_hazard_slot = s;
  tls_slot_returner.armed = true;  // first use registers the exit destructor
  return s;
}

HazardSlot* ClaimSpareSlot() { return AcquireSlot(); }

void Publisher::ReadGuard::ReleaseNested(HazardSlot* slot) noexcept {
  GiveBack(slot);
}

Publisher::Publisher() { InitOnce(); }

Publisher::~Publisher() {
  absl::MutexLock lock(&mu_);
  for (const Published* p : retired_) delete p;
  retired_.clear();
  delete current_.exchange(nullptr, std::memory_order_acq_rel);
}

std::uint32_t Publisher::Publish(std::unique_ptr<const Snapshot> next,
                                 SnapshotOrigin origin, absl::Time accepted) {
  absl::MutexLock lock(&mu_);
  auto* p = new Published;
  p->set = &next->compiled();
  p->snapshot = std::move(next);
  p->generation = ++generation_;
  p->origin = origin;
  p->accepted = accepted;
  const Published* old = current_.exchange(p, std::memory_order_seq_cst);
  if (old != nullptr) retired_.push_back(old);
  ReclaimLocked();
  return p->generation;
}

void Publisher::Reclaim() {
  absl::MutexLock lock(&mu_);
  ReclaimLocked();
}

std::size_t Publisher::retired_count() const {
  absl::MutexLock lock(&mu_);
  return retired_.size();
}

void Publisher::ReclaimLocked() {
  if (retired_.empty()) return;
  if (g_light_reader_fence) {
    // The heavy half of the asymmetric fence: afterwards every reader's hazard
    // store that preceded its validating load is visible here.
    if (!Membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
      // Cannot prove readers are done: keep the snapshots (a bounded leak)
      // rather than risk freeing one in use.
      Log(LogLevel::kError, "membarrier failed; retired snapshots kept");
      return;
    }
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  std::vector<const Published*> pinned;
  for (HazardSlot* s = g_slots.load(std::memory_order_acquire); s != nullptr;
       s = s->next) {
    const Published* h = s->hazard.load(std::memory_order_seq_cst);
    if (h != nullptr) pinned.push_back(h);
  }
  auto still_pinned = [&pinned](const Published* p) {
    return std::find(pinned.begin(), pinned.end(), p) != pinned.end();
  };
  std::vector<const Published*> keep;
  for (const Published* p : retired_) {
    if (still_pinned(p)) {
      keep.push_back(p);
    } else {
      delete p;
    }
  }
  retired_.swap(keep);
}

std::uint64_t Publisher::version() const noexcept {
  ReadGuard guard(*this);
  const Published* p = guard.get();
  return p == nullptr ? 0 : p->set->version;
}

}  // namespace internal
}  // namespace hotfix
