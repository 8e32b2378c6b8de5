#include "client/publisher.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "hotfix/client.h"
#include "util/log.h"

namespace hotfix {
namespace internal {

constinit thread_local HazardSlot* tls_hazard_slot = nullptr;
// Declared in hotfix/client.h (a C++17 header, hence __thread); its shard is
// the one of tls_hazard_slot, so it is cleared when that slot is given back.
__thread ThreadCounts tls_thread_counts = {0, nullptr, nullptr};

namespace {

// Slots are allocated this many at a time, so that a thread's first read
// normally takes a free slot without allocating. The first block is
// allocated with the first Publisher.
constexpr int kSlotsPerBlock = 32;

// The process-wide list of hazard slots. Slots are never freed (a thread that
// exits gives its slot back for reuse), so scanning needs no lock. Links are
// seq_cst: the fallback protocol's writer must see a slot linked by a reader
// whose validating load preceded the writer's exchange (see publisher.h).
std::atomic<HazardSlot*> g_slots{nullptr};

// Gives a thread's slot back after the thread's thread_local destructors
// (glibc runs pthread-key destructors after them): a destructor that
// evaluates flags still finds the thread's slot.
pthread_key_t g_slot_key;

// True once the thread's slot was given back: later reads on the thread (in
// other pthread-key destructors) use temporary slots.
thread_local bool tls_slot_returned = false;

// Whether readers of a new Publisher may use the light protocol: probed once,
// cleared for good when a membarrier() call fails.
std::atomic<bool> g_membarrier_works{false};
std::atomic<bool> g_membarrier_failure_logged{false};

// Slots ever allocated; numbers them (HazardSlot::index).
std::atomic<std::uint32_t> g_slots_allocated{0};

void LinkBlock() {
  auto* block = new HazardSlot[kSlotsPerBlock];
  const std::uint32_t first =
      g_slots_allocated.fetch_add(kSlotsPerBlock, std::memory_order_relaxed);
  for (int i = 0; i < kSlotsPerBlock; ++i) block[i].index = first + i;
  for (int i = 0; i + 1 < kSlotsPerBlock; ++i) block[i].next = &block[i + 1];
  HazardSlot* head = g_slots.load(std::memory_order_seq_cst);
  do {
    block[kSlotsPerBlock - 1].next = head;
  } while (!g_slots.compare_exchange_weak(
      head, &block[0], std::memory_order_seq_cst, std::memory_order_seq_cst));
}

HazardSlot* AcquireSlot() {
  for (;;) {
    for (HazardSlot* s = g_slots.load(std::memory_order_seq_cst); s != nullptr;
         s = s->next) {
      bool expected = false;
      if (!s->owned.load(std::memory_order_relaxed) &&
          s->owned.compare_exchange_strong(expected, true,
                                           std::memory_order_seq_cst)) {
        return s;
      }
    }
    LinkBlock();  // every slot is taken: grow by a block and retry
  }
}

void GiveBack(HazardSlot* s) {
  s->hazard.store(nullptr, std::memory_order_release);
  s->owned.store(false, std::memory_order_release);
}

void ReturnSlotAtThreadExit(void* slot) {
  tls_slot_returned = true;
  tls_hazard_slot = nullptr;
  // The next owner of the slot writes its shard.
  tls_thread_counts = ThreadCounts{0, nullptr, nullptr};
  GiveBack(static_cast<HazardSlot*>(slot));
}

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
    g_membarrier_works.store(
        Membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) &&
            Membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
        std::memory_order_relaxed);
#endif
    if (pthread_key_create(&g_slot_key, &ReturnSlotAtThreadExit) != 0) {
      Log(LogLevel::kError,
          "pthread_key_create failed: hotfix cannot give hazard slots back "
          "at thread exit");
      std::abort();
    }
    LinkBlock();
    pthread_atfork(nullptr, nullptr, &ReleaseOrphanSlotsInChild);
  });
}

}  // namespace

HazardSlot* ClaimSlotSlow(HazardSlot* own, bool* temporary) noexcept {
  if (own == nullptr && !tls_slot_returned) {
    HazardSlot* s = AcquireSlot();
    tls_hazard_slot = s;
    pthread_setspecific(g_slot_key, s);
    *temporary = false;
    return s;
  }
  // A read nested in another on this thread, or one after the thread's slot
  // was given back (in a destructor at thread exit).
  *temporary = true;
  return AcquireSlot();
}

void ReleaseTemporarySlot(HazardSlot* slot) noexcept { GiveBack(slot); }

std::size_t HazardSlotCount() {
  std::size_t n = 0;
  for (HazardSlot* s = g_slots.load(std::memory_order_acquire); s != nullptr;
       s = s->next) {
    ++n;
  }
  return n;
}

std::size_t OwnedHazardSlotCount() {
  std::size_t n = 0;
  for (HazardSlot* s = g_slots.load(std::memory_order_acquire); s != nullptr;
       s = s->next) {
    n += s->owned.load(std::memory_order_acquire) ? 1 : 0;
  }
  return n;
}

Publisher::Publisher() {
  InitOnce();
  MutexLock lock(&mu_);
  light_ = g_membarrier_works.load(std::memory_order_relaxed);
  current_.store(light_ ? 0 : kFallbackTag, std::memory_order_relaxed);
}

Publisher::~Publisher() {
  MutexLock lock(&mu_);
  for (const Published* p : retired_) delete p;
  retired_.clear();
  for (const Published* p : kept_) delete p;
  kept_.clear();
  delete Untag(
      current_.exchange(light_ ? 0 : kFallbackTag, std::memory_order_acq_rel));
}

std::uint32_t Publisher::Publish(std::unique_ptr<const Snapshot> next,
                                 SnapshotOrigin origin, absl::Time accepted,
                                 SwapHook before_swap, SwapHook after_swap) {
  MutexLock lock(&mu_);
  auto* p = new Published;
  p->set = &next->compiled();
  p->snapshot = std::move(next);
  if (++generation_ == 0) ++generation_;  // 0 never names a publication
  p->generation = generation_;
  p->origin = origin;
  p->accepted = accepted;
  p->light = light_;
  before_swap(*p);
  const std::uintptr_t tagged =
      reinterpret_cast<std::uintptr_t>(p) | (light_ ? 0 : kFallbackTag);
  const Published* old =
      Untag(current_.exchange(tagged, std::memory_order_seq_cst));
  after_swap(*p);
  if (old != nullptr) {
    // A snapshot published under the light protocol after that protocol
    // stopped working may be held by a reader the scan cannot see.
    (old->light && !light_ ? kept_ : retired_).push_back(old);
  }
  ReclaimLocked();
  return p->generation;
}

void Publisher::Reclaim() {
  MutexLock lock(&mu_);
  ReclaimLocked();
}

std::size_t Publisher::retired_count() const {
  MutexLock lock(&mu_);
  return retired_.size();
}

std::size_t Publisher::kept_count() const {
  MutexLock lock(&mu_);
  return kept_.size();
}

bool Publisher::light() const {
  MutexLock lock(&mu_);
  return light_;
}

void Publisher::ForEachSnapshotInChild(
    absl::FunctionRef<void(const Published&)> fn) {
  if (const Published* p = current_for_writer(); p != nullptr) fn(*p);
  for (const Published* p : retired_) fn(*p);
  for (const Published* p : kept_) fn(*p);
}

void Publisher::SwitchToFallbackLocked() {
  light_ = false;
  g_membarrier_works.store(false, std::memory_order_relaxed);
  // Re-tag the current snapshot: a reader validates only the tagged value it
  // loaded twice, so from here on none can validate with the light protocol.
  const std::uintptr_t c = current_.load(std::memory_order_relaxed);
  current_.exchange(c | kFallbackTag, std::memory_order_seq_cst);
  // Light readers the writer cannot see may still hold anything retired so
  // far (and the current snapshot, kept when it is retired: its `light`).
  kept_.insert(kept_.end(), retired_.begin(), retired_.end());
  retired_.clear();
  if (!g_membarrier_failure_logged.exchange(true)) {
    Log(LogLevel::kError,
        "membarrier() failed; flag readers switch to the slower "
        "sequentially consistent protocol, and the snapshots published "
        "before are kept (a bounded leak)");
  }
}

void Publisher::ReclaimLocked() {
  if (retired_.empty()) return;
  if (light_) {
    // The heavy half of the asymmetric fence: afterwards every reader's hazard
    // store that preceded its validating load is visible here.
    if (!Membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
      SwitchToFallbackLocked();
      return;  // nothing left that the fallback protocol could free
    }
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  std::vector<const Published*> pinned;
  for (HazardSlot* s = g_slots.load(std::memory_order_seq_cst); s != nullptr;
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
