// src/client/client_core.h
//
// ClientCore is the state behind a Client: the Publisher, the string pool the
// snapshots share, handle cells, listeners, status and the sources. It is the
// SourceSink every source publishes through.
//
// Thread-safe. Publications are serialized by publish_mu_; readers only touch
// the Publisher and the handle cells. Listeners run without any lock held.
//
// Lock order (every path that takes two, and the fork handlers, take them in
// this order): publish_mu_ -> the Publisher's lock -> status_mu_ ->
// listeners_mu_ -> the Telemetry's lock -> the StringPool's lock -> the log's
// lock.

#ifndef HOTFIX_SRC_CLIENT_CLIENT_CORE_H_
#define HOTFIX_SRC_CLIENT_CLIENT_CORE_H_

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "client/publisher.h"
#include "client/telemetry.h"
#include "hotfix/client.h"
#include "model/string_pool.h"
#include "sources/source.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

// What every evaluation answers before the first snapshot: the caller's
// default, reason kError/kNotReady.
inline EvaluationDetail NotReadyDetail() {
  EvaluationDetail detail;
  detail.reason = Reason::kError;
  detail.error = ErrorKind::kNotReady;
  return detail;
}

class ClientCore : public SourceSink {
 public:
  explicit ClientCore(const ClientOptions& options);
  ~ClientCore() override;

  const Publisher& publisher() const { return publisher_; }

  // EnableTelemetry()
  //
  // Turns counting (and guards, and posting to `remote` if set) on; before
  // the first publication.
  void EnableTelemetry(
      const TelemetryOptions& options,
      std::optional<std::pair<std::shared_ptr<ServerList>, RemoteOptions>>
          remote);
  // The counters, or null when counting is off. Immutable after creation.
  Counters* counters() const { return counters_; }
  Telemetry* telemetry() const { return telemetry_.get(); }

  // SourceSink.
  absl::Status Offer(std::string_view json, SnapshotOrigin origin,
                     bool require_newer) override;
  void ReportSuccess(SnapshotOrigin origin) override;
  void ReportError(SnapshotOrigin origin, const absl::Status& error) override;
  void ReportRejected(SnapshotOrigin origin,
                      const absl::Status& error) override;
  void ReportConnection(RemoteConnection connection) override;
  void ReportServer(const std::string& base_url) override;

  // Adds a source; `live` sources make the state kInitializing/kValid/kStale
  // instead of kOff. Not started.
  void AddSource(std::unique_ptr<Source> source);
  // Sources and the telemetry thread.
  void StartSources();
  void StopSources();
  void RestartSourcesAfterFork();

  // TripGuard()
  //
  // The telemetry thread found `trip.trip.flag` failing too often: from the
  // next evaluation on, the flag serves its guard's fallback (reason
  // kGuardTripped) until a new definition of it is published. Logs the trip
  // and notifies listeners. Ignored if the flag changed meanwhile.
  void TripGuard(const TripRecord& trip);

  const HandleCell* Cell(std::string_view key);

  int AddListener(ChangeListener listener);
  void RemoveListener(int id);

  // True on the thread that is delivering this core's change events (inside
  // a listener call, or between two).
  bool DispatchingOnThisThread() const {
    return dispatching_thread_.load(std::memory_order_relaxed) ==
           std::this_thread::get_id();
  }

  // DetachHandles()
  //
  // The Client is going away. In debug builds (no NDEBUG) every handle cell
  // is marked dead and kept for good, so that a FlagHandle used afterwards
  // aborts with a message instead of reading freed memory; otherwise nothing.
  void DetachHandles();

  // DestroyFromListener()
  //
  // Destroys `core` from inside one of its own listeners, which runs on a
  // thread the destruction would have to join: no further listener is called,
  // and once the running one returns and the dispatch ends, a background
  // thread stops the sources (joining their threads) and frees the core.
  static void DestroyFromListener(std::unique_ptr<ClientCore> core);

  // fork() support, called by pthread_atfork handlers for every live core:
  // the prepare step takes the core's locks in the lock order above, so that
  // no other thread is inside one at the fork and the child never inherits
  // one held by a thread that is gone; parent and child release them. The
  // child also re-creates what the parent's threads may have been using
  // (condition variables, the listener dispatch state, every RE2 object of
  // the snapshots). Sources are restarted separately by Client::AfterFork().
  void PrepareFork() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  void ParentAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  void ChildAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS;

  ClientStatus GetStatus() const;
  // GetStatus() plus the telemetry's (taken after status_mu_ is released).
  ClientStatus GetStatusWithTelemetry() const;
  bool WaitUntilReady(absl::Duration timeout) const;

 private:
  // The word a handle cell holds for `published` (may be null).
  static std::uint64_t WordFor(const HandleCell& cell,
                               const Published* published);
  // Delivers queued change events unless another thread already is.
  void Dispatch();
  // Marks the flags of `set` that tripped in this process (and forgets trips
  // of flags whose definition changed), then names its counters.
  void PrepareSetLocked(CompiledFlagSet* set)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mu_);
  // Publishes `set` (prepared) as Offer does; returns whether listeners must
  // be notified (then call Dispatch() with no lock held).
  bool PublishLocked(std::unique_ptr<CompiledFlagSet> set,
                     SnapshotOrigin origin)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mu_);

  const CompileOptions compile_options_;
  const std::shared_ptr<StringPool> pool_ = std::make_shared<StringPool>();
  Publisher publisher_;

  // Serializes publications and guards the handle cells.
  Mutex publish_mu_;
  absl::node_hash_map<std::string, std::unique_ptr<HandleCell>> cells_
      ABSL_GUARDED_BY(publish_mu_);
  // The document last published from outside (a source or Publish), kept to
  // compile again when a guard trips; and the flags tripped in this process.
  std::string last_json_ ABSL_GUARDED_BY(publish_mu_);
  SnapshotOrigin last_origin_ ABSL_GUARDED_BY(publish_mu_) =
      SnapshotOrigin::kNone;
  std::map<std::string, TripRecord> trips_ ABSL_GUARDED_BY(publish_mu_);

  std::unique_ptr<Telemetry> telemetry_;
  Counters* counters_ = nullptr;

  mutable Mutex status_mu_;
  // Signalled whenever status_.origin changes (WaitUntilReady).
  mutable CondVar status_cv_;
  ClientStatus status_ ABSL_GUARDED_BY(status_mu_);
  bool has_live_source_ ABSL_GUARDED_BY(status_mu_) = false;

  // Listeners. Events are queued in publication order (under publish_mu_)
  // and delivered by one thread at a time: the first publishing thread that
  // finds no dispatch in progress delivers every queued event, the others
  // return at once. listeners_mu_ is never held during a listener call.
  Mutex listeners_mu_;
  // Signalled when a listener call or a dispatch ends (RemoveListener).
  CondVar listener_done_;
  struct ListenerEntry {
    int id;
    // ChangeEvent::sequence of the first event it hears: those of
    // publications accepted after AddListener() (see there).
    std::uint64_t first_event;
    std::shared_ptr<ChangeListener> listener;
  };
  std::vector<ListenerEntry> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  int next_listener_id_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  std::deque<ChangeEvent> pending_ ABSL_GUARDED_BY(listeners_mu_);
  bool dispatching_ ABSL_GUARDED_BY(listeners_mu_) = false;
  // Id of the listener being called, 0 if none.
  int running_listener_ ABSL_GUARDED_BY(listeners_mu_) = 0;
  // Set by DestroyFromListener: stop dispatching, then free `self_`.
  bool abandoned_ ABSL_GUARDED_BY(listeners_mu_) = false;
  std::unique_ptr<ClientCore> self_ ABSL_GUARDED_BY(listeners_mu_);
  // Bumped in a forked child: a dispatch that began before the fork (on the
  // thread that forked from inside a listener) ends when that listener
  // returns, without touching the child's dispatch state.
  uint64_t dispatch_generation_ ABSL_GUARDED_BY(listeners_mu_) = 0;
  std::atomic<std::thread::id> dispatching_thread_{};

  std::vector<std::unique_ptr<Source>> sources_;
};

// Access to a Client's core for the handle, GuardScope and counting helpers
// (a friend of Client).
struct ClientAccess {
  static const Publisher& publisher(const Client& client) {
    return client.core_->publisher();
  }
  static ClientCore& core(const Client& client) { return *client.core_; }
};

// CountExposure()
//
// Counts the exposure of variant `variant` (-1: none) of flag `index` of
// `set`, through `slot` (owned by the caller), if `counters` is not null.
inline void CountExposure(Counters* counters, const HazardSlot* slot,
                          const CompiledFlagSet& set, std::uint32_t index,
                          std::int32_t variant, CounterField field) noexcept {
  if (counters == nullptr || variant < 0 ||
      index >= set.counter_offset.size()) {
    return;
  }
  counters->Count(slot, set.counter_ids[set.counter_offset[index] + variant],
                  field);
}

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_CLIENT_CLIENT_CORE_H_
