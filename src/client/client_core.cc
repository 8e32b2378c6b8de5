// src/client/client_core.cc
//
// ClientCore: compile-and-publish on the source side (Offer), handle cells,
// listeners, status, and the fork handlers.

#include "client/client_core.h"

#include <cxxabi.h>
#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eval/evaluate.h"
#include "snapshot/compile.h"
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
absl::Mutex& CoresMutex() {
  static absl::Mutex* const mu = new absl::Mutex;  // never destroyed
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

}  // namespace

ClientCore::ClientCore(const ClientOptions& options)
    : compile_options_(options.compile) {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(&PrepareForkAll, &ParentAfterForkAll, &ChildAfterForkAll);
  });
  absl::MutexLock lock(&CoresMutex());
  Cores().push_back(this);
}

ClientCore::~ClientCore() {
  {
    absl::MutexLock lock(&CoresMutex());
    auto& cores = Cores();
    cores.erase(std::find(cores.begin(), cores.end(), this));
  }
  StopSources();
}

// Lock order, as in Offer: publish_mu_ -> publisher -> status_mu_; the pool
// and listeners_mu_ are only ever taken alone. dispatch_mu_ is not taken: a
// listener (in Python, one waiting for the GIL the forking thread holds) may
// be running under it, so the child replaces it instead.
void ClientCore::PrepareFork() {
  publish_mu_.Lock();
  publisher_.LockForFork();
  status_mu_.Lock();
  listeners_mu_.Lock();
  pool_->LockForFork();
}

void ClientCore::ParentAfterFork() {
  pool_->UnlockAfterFork();
  listeners_mu_.Unlock();
  status_mu_.Unlock();
  publisher_.UnlockAfterFork();
  publish_mu_.Unlock();
}

void ClientCore::ChildAfterFork() {
  ParentAfterFork();
  // A dispatch may have been in flight (or waiting to publish) in a thread
  // that did not survive fork(): start from a fresh, unheld mutex. The old
  // one is leaked, not destroyed, since it may be held (possibly by this very
  // thread, if it forked from inside a listener, which then unlocks it).
  dispatch_mu_.release();  // NOLINT: deliberately leaked
  dispatch_mu_ = std::make_unique<absl::Mutex>();
  dispatching_thread_.store(std::thread::id(), std::memory_order_relaxed);
}

absl::Status ClientCore::Offer(std::string_view json, SnapshotOrigin origin,
                               bool require_newer) {
  if (dispatching_thread_.load(std::memory_order_relaxed) ==
      std::this_thread::get_id()) {
    return absl::FailedPreconditionError(
        "flags cannot be published from inside a change listener");
  }
  // Compile outside every lock: it is the expensive part.
  absl::StatusOr<std::unique_ptr<CompiledFlagSet>> set =
      CompileFlagSet(json, compile_options_, pool_);
  if (!set.ok()) return set.status();

  absl::MutexLock dispatch(dispatch_mu_.get());
  ChangeEvent event;
  {
    absl::MutexLock lock(&publish_mu_);
    const Published* old = publisher_.current_for_writer();
    const CompiledFlagSet* old_set = old == nullptr ? nullptr : old->set;
    if (require_newer && old_set != nullptr &&
        (*set)->version < old_set->version) {
      return absl::FailedPreconditionError(absl::StrCat(
          "version ", (*set)->version, " is older than the served version ",
          old_set->version, "; ignored"));
    }
    event.changed_keys = ChangedKeys(old_set, **set);
    if (old_set != nullptr && event.changed_keys.empty() &&
        old_set->version == (*set)->version) {
      // Identical: nothing to publish, but `origin` now confirms the snapshot
      // (e.g. the server agreeing with the cache served at start-up).
      absl::MutexLock status_lock(&status_mu_);
      status_.origin = origin;
      return absl::OkStatus();
    }
    event.old_version = old_set == nullptr ? 0 : old_set->version;
    event.new_version = (*set)->version;
    event.origin = origin;
    const absl::Time now = absl::Now();
    publisher_.Publish(SnapshotAccess::Wrap(*std::move(set)), origin, now);
    const Published* current = publisher_.current_for_writer();
    for (auto& [key, cell] : cells_) UpdateCell(cell.get(), current);
    {
      absl::MutexLock status_lock(&status_mu_);
      status_.origin = origin;
      status_.version = event.new_version;
      status_.snapshot_time = now;
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
    }
  }
  if (!event.changed_keys.empty()) Notify(event);
  return absl::OkStatus();
}

void ClientCore::ReportSuccess(SnapshotOrigin origin) {
  absl::MutexLock lock(&status_mu_);
  status_.last_success = absl::Now();
  status_.last_error = absl::OkStatus();
  status_.config_error = false;
  status_.state = has_live_source_ ? SourceState::kValid : SourceState::kOff;
}

void ClientCore::ReportError(SnapshotOrigin origin, const absl::Status& error) {
  absl::MutexLock lock(&status_mu_);
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
  absl::MutexLock lock(&status_mu_);
  status_.last_rejection = absl::Status(error.code(), error.message());
  status_.last_rejection_time = absl::Now();
}

void ClientCore::ReportConnection(RemoteConnection connection) {
  absl::MutexLock lock(&status_mu_);
  status_.connection = connection;
}

void ClientCore::AddSource(std::unique_ptr<Source> source) {
  {
    absl::MutexLock lock(&status_mu_);
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
}

void ClientCore::StopSources() {
  for (auto& s : sources_) s->Stop();
}

void ClientCore::RestartSourcesAfterFork() {
  for (auto& s : sources_) s->RestartAfterFork();
}

void ClientCore::UpdateCell(HandleCell* cell, const Published* published) {
  std::uint64_t word = HandleCell::kStaticFalse;
  std::uint32_t index;
  if (published != nullptr && FindFlag(*published->set, cell->key, &index)) {
    bool value;
    if (StaticBool(published->set->flags[index], &value)) {
      word = value ? HandleCell::kStaticTrue : HandleCell::kStaticFalse;
    } else {
      word = (static_cast<std::uint64_t>(published->generation) << 32) |
             (static_cast<std::uint64_t>(index) << 2) | HandleCell::kDynamic;
    }
  }
  cell->word.store(word, std::memory_order_release);
}

const HandleCell* ClientCore::Cell(std::string_view key) {
  absl::MutexLock lock(&publish_mu_);
  auto it = cells_.find(ToAbsl(key));
  if (it != cells_.end()) return it->second.get();
  auto cell = std::make_unique<HandleCell>();
  cell->key = std::string(key);
  UpdateCell(cell.get(), publisher_.current_for_writer());
  HandleCell* raw = cell.get();
  cells_.emplace(std::string(key), std::move(cell));
  return raw;
}

int ClientCore::AddListener(ChangeListener listener) {
  absl::MutexLock lock(&listeners_mu_);
  const int id = next_listener_id_++;
  listeners_.emplace_back(
      id, std::make_shared<ChangeListener>(std::move(listener)));
  return id;
}

void ClientCore::RemoveListener(int id) {
  const bool in_listener =
      dispatching_thread_.load(std::memory_order_relaxed) ==
      std::this_thread::get_id();
  // Outside a listener, wait for an in-flight dispatch to finish first.
  if (!in_listener) dispatch_mu_->Lock();
  {
    absl::MutexLock lock(&listeners_mu_);
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if (it->first == id) {
        listeners_.erase(it);
        break;
      }
    }
  }
  if (!in_listener) dispatch_mu_->Unlock();
}

void ClientCore::Notify(const ChangeEvent& event) {
  std::vector<std::pair<int, std::shared_ptr<ChangeListener>>> listeners;
  {
    absl::MutexLock lock(&listeners_mu_);
    listeners = listeners_;
  }
  dispatching_thread_.store(std::this_thread::get_id(),
                            std::memory_order_relaxed);
  for (const auto& [id, listener] : listeners) {
    {
      // Skip listeners removed by an earlier listener in this dispatch.
      absl::MutexLock lock(&listeners_mu_);
      bool present = false;
      for (const auto& entry : listeners_) present |= entry.first == id;
      if (!present) continue;
    }
    try {
      (*listener)(event);
    } catch (abi::__forced_unwind&) {
      throw;  // pthread_exit() or cancellation: the thread must end
    } catch (const std::exception& e) {
      Log(LogLevel::kError, absl::StrCat("change listener threw: ", e.what()));
    } catch (...) {
      Log(LogLevel::kError, "change listener threw a non-std exception");
    }
  }
  dispatching_thread_.store(std::thread::id(), std::memory_order_relaxed);
}

ClientStatus ClientCore::GetStatus() const {
  absl::MutexLock lock(&status_mu_);
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

bool ClientCore::WaitUntilReady(absl::Duration timeout) const {
  absl::MutexLock lock(&status_mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(status_mu_) {
    return status_.origin != SnapshotOrigin::kNone;
  };
  return status_mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
}

}  // namespace internal
}  // namespace hotfix
