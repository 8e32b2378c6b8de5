// src/client/client_core.cc
//
// ClientCore: compile-and-publish on the source side (Offer), handle cells,
// listeners, status, and the fork handlers.

#include "client/client_core.h"

#include <pthread.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eval/evaluate.h"
#include "snapshot/compile.h"
#include "util/forced_unwind.h"
#include "util/log.h"
#include "util/strings.h"

namespace hotfix {
namespace internal {
namespace {

// Keys whose evaluation may differ between `old` (may be null) and `next`:
// both flag lists are sorted by key, so one merge pass finds additions,
// removals and fingerprint changes.
std::vector<std::string> ChangedKeys(const CompiledFlagSet* old,
                                     const CompiledFlagSet& next) {
  std::vector<std::string> changed;
  if (old == nullptr) {
    for (const CompiledFlag& f : next.flags) changed.push_back(f.key);
    return changed;
  }
  std::size_t i = 0, j = 0;
  while (i < old->flags.size() || j < next.flags.size()) {
    if (j == next.flags.size() ||
        (i < old->flags.size() && old->flags[i].key < next.flags[j].key)) {
      changed.push_back(old->flags[i++].key);  // removed
    } else if (i == old->flags.size() ||
               next.flags[j].key < old->flags[i].key) {
      changed.push_back(next.flags[j++].key);  // added
    } else {
      if (old->flags[i].fingerprint != next.flags[j].fingerprint) {
        changed.push_back(next.flags[j].key);
      }
      ++i;
      ++j;
    }
  }
  return changed;
}

}  // namespace

namespace {

// Every live ClientCore, for the fork handlers.
Mutex& CoresMutex() {
  static Mutex* const mu = new Mutex;  // never destroyed
  return *mu;
}
std::vector<ClientCore*>& Cores() ABSL_EXCLUSIVE_LOCKS_REQUIRED(CoresMutex()) {
  static auto* const cores = new std::vector<ClientCore*>;  // never destroyed
  return *cores;
}

void PrepareForkAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  CoresMutex().Lock();
  for (ClientCore* core : Cores()) core->PrepareFork();
}
void ParentAfterForkAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (ClientCore* core : Cores()) core->ParentAfterFork();
  CoresMutex().Unlock();
}
void ChildAfterForkAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (ClientCore* core : Cores()) core->ChildAfterFork();
  CoresMutex().Unlock();
}

bool HasGuards(const CompiledFlagSet& set) {
  for (const CompiledFlag& flag : set.flags) {
    if (flag.guard != nullptr) return true;
  }
  return false;
}

// Mixed into the fingerprint of a flag served tripped, so that listeners and
// handles see the change.
constexpr std::uint64_t kTrippedFingerprint = 0x9E3779B97F4A7C15ull;
// Mixed into the fingerprint of a flag whose prerequisites (directly or
// through others) include a tripped flag: what it serves may change too.
constexpr std::uint64_t kBehindTripFingerprint = 0xC2B2AE3D27D4EB4Full;

// Marks every flag that depends on a tripped flag through its prerequisites
// (their fingerprints change, so listeners hear of them). Flags with
// prerequisites are never answered statically, so nothing else changes.
// Cost: O(flags x depth), only when a trip is in force.
void MarkFlagsBehindTrips(CompiledFlagSet* set) {
  std::vector<bool> affected(set->flags.size());
  for (std::size_t i = 0; i < set->flags.size(); ++i) {
    affected[i] = set->flags[i].guard_tripped;
  }
  for (bool grew = true; grew;) {  // chains are at most 32 deep
    grew = false;
    for (std::size_t i = 0; i < set->flags.size(); ++i) {
      if (affected[i]) continue;
      for (const Prerequisite& p : set->flags[i].prerequisites) {
        if (!affected[p.flag]) continue;
        affected[i] = grew = true;
        set->flags[i].fingerprint ^= kBehindTripFingerprint;
        break;
      }
    }
  }
}

// Whether `fingerprint` (as compiled) is the flag a trip was recorded for,
// also when the flag was marked behind another trip at the time.
bool SameTrippedDefinition(std::uint64_t fingerprint, std::uint64_t recorded) {
  return fingerprint == recorded ||
         (fingerprint ^ kBehindTripFingerprint) == recorded;
}

bool IsStaticWord(std::uint64_t word) {
  return (word & 3) == HandleCell::kStaticTrue ||
         (word & 3) == HandleCell::kStaticFalse;
}

#ifndef NDEBUG
// Debug builds: the cells of destroyed clients, marked dead (see
// DetachHandles). Never freed, so a late FlagHandle finds its cell; a
// lock-free list, so nothing here can be held across fork().
struct Grave {
  std::unique_ptr<HandleCell> cell;
  Grave* next = nullptr;
};
std::atomic<Grave*> g_graves{nullptr};

void Bury(std::unique_ptr<HandleCell> cell) {
  auto* grave = new Grave{std::move(cell)};
  grave->next = g_graves.load(std::memory_order_relaxed);
  while (!g_graves.compare_exchange_weak(grave->next, grave,
                                         std::memory_order_release,
                                         std::memory_order_relaxed)) {
  }
}
#endif

HOTFIX_LETS_FORCED_UNWIND_THROUGH
void CallListener(const ChangeListener& listener, const ChangeEvent& event) {
  try {
    listener(event);
  } catch (abi::__forced_unwind&) {
    throw;  // pthread_exit() or cancellation: the thread must end
  } catch (const std::exception& e) {
    Log(LogLevel::kError, absl::StrCat("change listener threw: ", e.what()));
  } catch (...) {
    Log(LogLevel::kError, "change listener threw a non-std exception");
  }
}

}  // namespace

ClientCore::ClientCore(const ClientOptions& options)
    : compile_options_(options.compile) {
  static std::once_flag once;
  std::call_once(once, [] {
    // First the log's handlers: prepare handlers run in the reverse order of
    // registration, and the log's lock is the innermost (logging happens
    // under the locks taken below).
    EnsureLogForkSafe();
    pthread_atfork(&PrepareForkAll, &ParentAfterForkAll, &ChildAfterForkAll);
  });
  MutexLock lock(&CoresMutex());
  Cores().push_back(this);
}

ClientCore::~ClientCore() {
  {
    MutexLock lock(&CoresMutex());
    auto& cores = Cores();
    cores.erase(std::find(cores.begin(), cores.end(), this));
  }
  StopSources();
  telemetry_.reset();  // joins its thread before the core goes
  DetachHandles();
}

void ClientCore::PrepareFork() {
  publish_mu_.Lock();
  publisher_.LockForFork();
  status_mu_.Lock();
  listeners_mu_.Lock();
  if (telemetry_ != nullptr) telemetry_->PrepareFork();
  pool_->LockForFork();
}

void ClientCore::ParentAfterFork() {
  pool_->UnlockAfterFork();
  if (telemetry_ != nullptr) telemetry_->ParentAfterFork();
  listeners_mu_.Unlock();
  status_mu_.Unlock();
  publisher_.UnlockAfterFork();
  publish_mu_.Unlock();
}

void ClientCore::ChildAfterFork() {
  // Only this thread exists now, and it holds every lock of the core.
  // RE2 objects may be locked inside by a parent thread that was evaluating.
  publisher_.ForEachSnapshotInChild(
      [](const Published& p) { RenewRegexesInForkedChild(*p.set); });
  // Waiters of the parent (WaitUntilReady, RemoveListener) are gone.
  status_cv_.ResetInChild();
  listener_done_.ResetInChild();
  // A dispatch may have been in progress in a thread that did not survive
  // fork(): the event it was delivering is lost with it, queued ones are
  // delivered by the child's next publication. If this thread itself was
  // dispatching (it forked inside a listener, and a pre-fork worker may
  // never return from it), the child does not wait for it either: its later
  // changes are delivered by the threads that publish them, and the old
  // dispatch ends quietly when (if ever) the listener returns.
  dispatching_ = false;
  running_listener_ = 0;
  ++dispatch_generation_;
  dispatching_thread_.store(std::thread::id(), std::memory_order_relaxed);
  pool_->UnlockAfterFork();
  // The counts so far are the parent's to send.
  if (telemetry_ != nullptr) telemetry_->ChildAfterFork();
  listeners_mu_.Unlock();
  status_mu_.Unlock();
  publisher_.UnlockAfterFork();
  publish_mu_.Unlock();
}

void ClientCore::EnableTelemetry(
    const TelemetryOptions& options,
    std::optional<std::pair<std::shared_ptr<ServerList>, RemoteOptions>>
        remote) {
  auto telemetry = std::make_unique<Telemetry>(
      options, std::move(remote),
      [this](const TripRecord& trip) { TripGuard(trip); });
  Counters* const counters = &telemetry->counters();
  // This core is already registered for the fork handlers, which read
  // telemetry_ from whichever thread forks: install it under their lock.
  MutexLock lock(&CoresMutex());
  telemetry_ = std::move(telemetry);
  counters_ = counters;
}

void ClientCore::PrepareSetLocked(CompiledFlagSet* set) {
  if (!trips_.empty()) {
    bool changed = false;
    for (auto it = trips_.begin(); it != trips_.end();) {
      auto slot = set->index.find(it->first);
      const bool same =
          slot != set->index.end() &&
          SameTrippedDefinition(set->flags[slot->second.index].fingerprint,
                                it->second.fingerprint) &&
          set->flags[slot->second.index].guard != nullptr;
      if (!same) {
        Log(LogLevel::kWarning,
            absl::StrCat("guard of flag \"", it->first,
                         "\" reset: a new definition of the flag was "
                         "published"));
        it = trips_.erase(it);
        changed = true;
        continue;
      }
      CompiledFlag& flag = set->flags[slot->second.index];
      flag.killed = true;
      flag.guard_tripped = true;
      flag.off_variant = flag.guard->fallback;
      flag.fingerprint ^= kTrippedFingerprint;
      slot->second.enabled_answer = EnabledAnswer(flag);
      ++it;
    }
    if (!trips_.empty()) MarkFlagsBehindTrips(set);
    if (changed) {
      std::vector<GuardTrip> trips;
      for (const auto& [key, record] : trips_) trips.push_back(record.trip);
      MutexLock status_lock(&status_mu_);
      status_.guard_trips = std::move(trips);
    }
  }
  if (telemetry_ != nullptr) {
    telemetry_->AssignCounters(set);
    telemetry_->SetGuards(*set);
  }
}

void ClientCore::TripGuard(const TripRecord& trip) {
  bool dispatch = false;
  {
    MutexLock lock(&publish_mu_);
    const Published* current = publisher_.current_for_writer();
    std::uint32_t index;
    if (current == nullptr || last_json_.empty() ||
        !FindFlag(*current->set, trip.trip.flag, &index) ||
        current->set->flags[index].guard_tripped ||
        current->set->flags[index].fingerprint != trip.fingerprint) {
      return;  // changed meanwhile: the new definition is judged afresh
    }
    absl::StatusOr<std::unique_ptr<CompiledFlagSet>> set =
        CompileFlagSet(last_json_, compile_options_, pool_);
    if (!set.ok()) {
      Log(LogLevel::kError,
          absl::StrCat("guard of flag \"", trip.trip.flag,
                       "\" tripped but the flags could not be compiled "
                       "again: ",
                       set.status().message()));
      return;
    }
    trips_[trip.trip.flag] = trip;
    Log(LogLevel::kError,
        absl::StrCat("guard of flag \"", trip.trip.flag,
                     "\" tripped: variant \"", trip.trip.variant, "\" ",
                     trip.trip.detail,
                     "; serving its fallback in this process until the "
                     "flag changes"));
    {
      std::vector<GuardTrip> trips;
      for (const auto& [key, record] : trips_) trips.push_back(record.trip);
      MutexLock status_lock(&status_mu_);
      status_.guard_trips = std::move(trips);
    }
    PrepareSetLocked(set->get());
    dispatch = PublishLocked(*std::move(set), last_origin_);
  }
  if (dispatch) Dispatch();
}

absl::Status ClientCore::Offer(std::string_view json, SnapshotOrigin origin,
                               bool require_newer) {
  if (DispatchingOnThisThread()) {
    return absl::FailedPreconditionError(
        "flags cannot be published from inside a change listener");
  }
  // Compile outside every lock: it is the expensive part.
  absl::StatusOr<std::unique_ptr<CompiledFlagSet>> set =
      CompileFlagSet(json, compile_options_, pool_);
  if (!set.ok()) return set.status();

  bool dispatch = false;
  {
    MutexLock lock(&publish_mu_);
    const Published* old = publisher_.current_for_writer();
    const CompiledFlagSet* old_set = old == nullptr ? nullptr : old->set;
    if (require_newer && old_set != nullptr &&
        (*set)->version < old_set->version) {
      return absl::FailedPreconditionError(absl::StrCat(
          "version ", (*set)->version, " is older than the served version ",
          old_set->version, "; ignored"));
    }
    if (HasGuards(**set)) {
      last_json_ = std::string(json);
    } else {
      last_json_.clear();
      last_json_.shrink_to_fit();
    }
    last_origin_ = origin;
    PrepareSetLocked(set->get());
    dispatch = PublishLocked(*std::move(set), origin);
  }
  if (dispatch) Dispatch();  // the last use of `this` here (see Dispatch)
  return absl::OkStatus();
}

bool ClientCore::PublishLocked(std::unique_ptr<CompiledFlagSet> set,
                               SnapshotOrigin origin) {
  const Published* old = publisher_.current_for_writer();
  const CompiledFlagSet* old_set = old == nullptr ? nullptr : old->set;
  ChangeEvent event;
  event.changed_keys = ChangedKeys(old_set, *set);
  if (old_set != nullptr && event.changed_keys.empty() &&
      old_set->version == set->version) {
    // Identical: nothing to publish, but `origin` now confirms the snapshot
    // (e.g. the server agreeing with the cache served at start-up).
    MutexLock status_lock(&status_mu_);
    status_.origin = origin;
    status_cv_.SignalAll();
    return false;
  }
  event.old_version = old_set == nullptr ? 0 : old_set->version;
  event.new_version = set->version;
  event.origin = origin;
  const absl::Time now = absl::Now();
  // Handle cells must never answer from an older snapshot than the one a
  // reader can already see (client.h promises the same result as
  // Client::Enabled). A cell holding a static answer that is about to
  // change is first set to kPending, which sends its readers to the slow
  // path (they pin whatever is current); only after the swap does it get
  // its new word. A reader that saw the new snapshot therefore sees
  // kPending or the new word, never the old answer. Dynamic words name their
  // publication and are checked against the pinned one, so they need no
  // such step.
  std::vector<std::uint64_t> words;
  words.reserve(cells_.size());
  publisher_.Publish(
      SnapshotAccess::Wrap(std::move(set)), origin, now,
      /*before_swap=*/
      [&](const Published& next) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        for (auto& [key, cell] : cells_) {
          const std::uint64_t word = WordFor(*cell, &next);
          words.push_back(word);
          const std::uint64_t old_word =
              cell->word.load(std::memory_order_relaxed);
          if (IsStaticWord(old_word) && word != old_word) {
            // Ordered before the swap (a seq_cst exchange) for any reader
            // that acquires the new snapshot.
            cell->word.store(HandleCell::kPending, std::memory_order_relaxed);
          }
        }
      },
      /*after_swap=*/
      [&](const Published&) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        std::size_t i = 0;
        for (auto& [key, cell] : cells_) {
          cell->word.store(words[i++], std::memory_order_release);
        }
      });
  {
    MutexLock status_lock(&status_mu_);
    status_.origin = origin;
    status_.version = event.new_version;
    status_.snapshot_time = now;
    if (!event.changed_keys.empty()) event.sequence = ++status_.changes;
    // A live source's accepted document is its success, recorded together
    // with the snapshot so that no reader (WaitUntilReady) sees one
    // without the other.
    if (has_live_source_ &&
        (origin == SnapshotOrigin::kFile || origin == SnapshotOrigin::kPoll ||
         origin == SnapshotOrigin::kStream)) {
      status_.state = SourceState::kValid;
      status_.last_success = now;
      status_.last_error = absl::OkStatus();
      status_.config_error = false;
    }
    status_cv_.SignalAll();
  }
  if (!event.changed_keys.empty()) {
    MutexLock listeners_lock(&listeners_mu_);
    pending_.push_back(std::move(event));
    return true;
  }
  return false;
}

void ClientCore::ReportSuccess(SnapshotOrigin origin) {
  MutexLock lock(&status_mu_);
  status_.last_success = absl::Now();
  status_.last_error = absl::OkStatus();
  status_.config_error = false;
  status_.state = has_live_source_ ? SourceState::kValid : SourceState::kOff;
}

void ClientCore::ReportError(SnapshotOrigin origin, const absl::Status& error) {
  MutexLock lock(&status_mu_);
  // Without payloads: they are how sources tag errors, not part of the text.
  status_.last_error = absl::Status(error.code(), error.message());
  status_.last_error_time = absl::Now();
  status_.config_error = IsConfigError(error);
  if (has_live_source_) {
    status_.state =
        status_.version != 0 || status_.origin != SnapshotOrigin::kNone
            ? SourceState::kStale
            : SourceState::kError;
  }
}

void ClientCore::ReportRejected(SnapshotOrigin origin,
                                const absl::Status& error) {
  ReportError(origin, error);
  MutexLock lock(&status_mu_);
  status_.last_rejection = absl::Status(error.code(), error.message());
  status_.last_rejection_time = absl::Now();
}

void ClientCore::ReportConnection(RemoteConnection connection) {
  MutexLock lock(&status_mu_);
  status_.connection = connection;
}

void ClientCore::ReportServer(const std::string& base_url) {
  MutexLock lock(&status_mu_);
  status_.server = base_url;
}

void ClientCore::AddSource(std::unique_ptr<Source> source) {
  {
    MutexLock lock(&status_mu_);
    if (!has_live_source_) {
      has_live_source_ = true;
      if (status_.origin == SnapshotOrigin::kNone ||
          status_.origin == SnapshotOrigin::kBootstrap ||
          status_.origin == SnapshotOrigin::kCache) {
        status_.state = SourceState::kInitializing;
      }
    }
  }
  sources_.push_back(std::move(source));
}

void ClientCore::StartSources() {
  for (auto& s : sources_) s->Start();
  if (telemetry_ != nullptr) telemetry_->Start();
}

void ClientCore::StopSources() {
  for (auto& s : sources_) s->Stop();
  // After the sources: the last post carries what was counted until now.
  if (telemetry_ != nullptr) telemetry_->Stop();
}

void ClientCore::RestartSourcesAfterFork() {
  for (auto& s : sources_) s->RestartAfterFork();
  if (telemetry_ != nullptr) telemetry_->RestartAfterFork();
}

std::uint64_t ClientCore::WordFor(const HandleCell& cell,
                                  const Published* published) {
  const FlagSlot* slot =
      published == nullptr ? nullptr : FindSlot(*published->set, cell.key);
  if (slot == nullptr) return HandleCell::kStaticFalse;
  const std::uint32_t index = slot->index;
  bool value;
  if (StaticBool(published->set->flags[index], &value)) {
    std::uint64_t word =
        value ? HandleCell::kStaticTrue : HandleCell::kStaticFalse;
    if (slot->static_counter != kNoCounter) {
      word |= HandleCell::kCountBit |
              (static_cast<std::uint64_t>(slot->static_counter) << 32);
    }
    return word;
  }
  return (static_cast<std::uint64_t>(published->generation) << 32) |
         (static_cast<std::uint64_t>(index) << 2) | HandleCell::kDynamic;
}

const HandleCell* ClientCore::Cell(std::string_view key) {
  MutexLock lock(&publish_mu_);
  auto it = cells_.find(ToAbsl(key));
  if (it != cells_.end()) return it->second.get();
  auto cell = std::make_unique<HandleCell>();
  cell->key = std::string(key);
  if (counters_ != nullptr) cell->counts_serial = counters_->serial();
  cell->word.store(WordFor(*cell, publisher_.current_for_writer()),
                   std::memory_order_release);
  HandleCell* raw = cell.get();
  cells_.emplace(std::string(key), std::move(cell));
  return raw;
}

void ClientCore::DetachHandles() {
#ifndef NDEBUG
  MutexLock lock(&publish_mu_);
  for (auto& [key, cell] : cells_) {
    cell->word.store(HandleCell::kDead, std::memory_order_release);
    Bury(std::move(cell));
  }
  cells_.clear();
#endif
}

int ClientCore::AddListener(ChangeListener listener) {
  // Under publish_mu_, a publication is wholly before the registration (its
  // event is queued: the listener does not hear it) or wholly after (it
  // does). A thread that saw a snapshot, or readiness, before adding a
  // listener is never told of that snapshot again.
  MutexLock publish_lock(&publish_mu_);
  std::uint64_t accepted;
  {
    MutexLock status_lock(&status_mu_);
    accepted = status_.changes;
  }
  MutexLock lock(&listeners_mu_);
  const int id = next_listener_id_++;
  listeners_.push_back(ListenerEntry{
      id, accepted + 1, std::make_shared<ChangeListener>(std::move(listener))});
  return id;
}

void ClientCore::RemoveListener(int id) {
  MutexLock lock(&listeners_mu_);
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if (it->id == id) {
      listeners_.erase(it);
      break;
    }
  }
  // Inside a listener the call in progress may be this very listener's: it
  // ends when the caller returns.
  if (DispatchingOnThisThread()) return;
  // Wait for this listener only, not for the whole dispatch: a listener
  // waiting for this thread does not deadlock unless it is the one removed.
  while (running_listener_ == id) listener_done_.Wait(&listeners_mu_);
}

void ClientCore::Dispatch() {
  std::unique_ptr<ClientCore> reap;
  listeners_mu_.Lock();
  if (dispatching_) {
    // The dispatching thread delivers the event just queued, in order.
    listeners_mu_.Unlock();
    return;
  }
  dispatching_ = true;
  const uint64_t generation = dispatch_generation_;
  dispatching_thread_.store(std::this_thread::get_id(),
                            std::memory_order_relaxed);
  while (!pending_.empty() && !abandoned_) {
    const ChangeEvent event = std::move(pending_.front());
    pending_.pop_front();
    const auto listeners = listeners_;
    for (const ListenerEntry& to : listeners) {
      if (abandoned_) break;
      // Added after this event's publication.
      if (to.first_event > event.sequence) continue;
      // Skip listeners removed by an earlier call.
      bool present = false;
      for (const auto& entry : listeners_) present |= entry.id == to.id;
      if (!present) continue;
      running_listener_ = to.id;
      listeners_mu_.Unlock();
      CallListener(*to.listener, event);
      listeners_mu_.Lock();
      if (dispatch_generation_ != generation) {
        // This process is a child forked inside that listener; the child's
        // own dispatch has taken over.
        listeners_mu_.Unlock();
        return;
      }
      running_listener_ = 0;
      listener_done_.SignalAll();
    }
  }
  if (abandoned_) pending_.clear();
  dispatching_ = false;
  dispatching_thread_.store(std::thread::id(), std::memory_order_relaxed);
  listener_done_.SignalAll();
  reap = std::move(self_);
  listeners_mu_.Unlock();
  if (reap != nullptr) {
    // Destroyed from inside a listener: this thread cannot join itself (it
    // may be one of the sources' threads), so another thread finishes the
    // destruction. Nothing here touches the core after this point.
    try {
      std::thread([core = std::move(reap)]() mutable {
        core.reset();
      }).detach();
    } catch (const std::system_error& e) {
      Log(LogLevel::kError,
          absl::StrCat("cannot start a thread to finish destroying a client "
                       "destroyed inside its listener; it is leaked: ",
                       e.what()));
      reap.release();  // NOLINT: leaked, see above
    }
  }
}

void ClientCore::DestroyFromListener(std::unique_ptr<ClientCore> core) {
  ClientCore* const raw = core.get();
  Log(LogLevel::kWarning,
      "Client destroyed inside one of its own change listeners: no listener "
      "is called any more, and its sources are stopped and it is freed on "
      "another thread once the listener returns");
  MutexLock lock(&raw->listeners_mu_);
  raw->abandoned_ = true;
  raw->self_ = std::move(core);  // released by Dispatch when it ends
}

ClientStatus ClientCore::GetStatus() const {
  MutexLock lock(&status_mu_);
  ClientStatus status = status_;
  // Give the caller statuses of its own rather than references to ours: an
  // absl::Status shares its message through a reference count kept inside
  // the (uninstrumented, for ThreadSanitizer) Abseil library, and a private
  // copy needs no cross-thread reference counting at all.
  status.last_error =
      absl::Status(status_.last_error.code(), status_.last_error.message());
  status.last_rejection = absl::Status(status_.last_rejection.code(),
                                       status_.last_rejection.message());
  if (status.origin != SnapshotOrigin::kNone) {
    status.age = absl::Now() - status.snapshot_time;
  }
  return status;
}

ClientStatus ClientCore::GetStatusWithTelemetry() const {
  ClientStatus status = GetStatus();
  if (telemetry_ != nullptr) status.telemetry = telemetry_->GetStatus();
  return status;
}

bool ClientCore::WaitUntilReady(absl::Duration timeout) const {
  const SteadyTime deadline = DeadlineAfter(timeout);
  MutexLock lock(&status_mu_);
  while (status_.origin == SnapshotOrigin::kNone) {
    if (!status_cv_.WaitUntil(&status_mu_, deadline)) {
      return status_.origin != SnapshotOrigin::kNone;
    }
  }
  return true;
}

}  // namespace internal
}  // namespace hotfix
