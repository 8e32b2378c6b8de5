// src/client/telemetry.h
//
// Telemetry is a Client's counting side (docs/guarded-rollouts.md): it names
// the counters (one id per flag key x variant name, for the Client's
// lifetime), owns the per-slot Counters the evaluation path writes, and runs
// one background thread, only while there is work for it (a server to post
// to, or a flag with a guard), that
//  - every guard_interval sums the counters and judges the local guards
//    (client/guard.h), handing each trip to the Client (which then serves the
//    flag's fallback) and queueing it for the server at once;
//  - every flush_interval, and at once after a trip, posts the counts not yet
//    accepted by the server to <base_url>/v1/telemetry (JSON, gzip, at most
//    kMaxCountsPerPost counts and about kMaxPostBytes per post). Counts the
//    server did not accept stay and are summed with later ones (memory is
//    bounded by the number of counter ids); after max_unsent_age without a
//    successful post they are dropped and counted in `dropped`.
//
// Stop() is bounded: it waits at most close_timeout for a last post, then
// aborts the request in flight and joins the thread. fork(): the thread does
// not survive; the child's counts start from what the parent had counted
// (those are the parent's to send), and RestartAfterFork() (Client::AfterFork)
// starts a new thread there. A child that never calls it sends nothing and
// never waits for the parent's thread.
//
// Thread-safe. Lock order: the worker's judge_mu -> the Client's publish lock
// -> mu_ -> thread_mu_; the thread holds no lock of ours but judge_mu while
// it calls the trip callback, and none while it posts.

#ifndef HOTFIX_SRC_CLIENT_TELEMETRY_H_
#define HOTFIX_SRC_CLIENT_TELEMETRY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "client/counters.h"
#include "client/guard.h"
#include "hotfix/options.h"
#include "hotfix/status.h"
#include "model/model.h"
#include "sources/fetch_worker.h"
#include "sources/http_fetcher.h"
#include "sources/server_list.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

// A trip as the Client needs it: the public record plus the flag's
// fingerprint when it tripped (a new definition of the flag resets it).
struct TripRecord {
  GuardTrip trip;
  std::uint64_t fingerprint = 0;
};

class Telemetry {
 public:
  static constexpr std::size_t kMaxCountsPerPost = 5000;
  static constexpr std::size_t kMaxPostBytes = 900 * 1024;
  static constexpr std::size_t kMaxQueuedTrips = 100;

  // Called on the telemetry thread, with no lock of Telemetry held.
  using TripCallback = std::function<void(const TripRecord& trip)>;

  // `remote`: where to post (the servers the sources follow: posts go to the
  // one followed now), or nullopt to count and guard only.
  Telemetry(const TelemetryOptions& options,
            std::optional<std::pair<std::shared_ptr<ServerList>, RemoteOptions>>
                remote,
            TripCallback on_trip);
  ~Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  Counters& counters() { return counters_; }

  // AssignCounters()
  //
  // Fills set->counter_offset, counter_ids and each index slot's
  // static_counter, naming new flag x variant pairs. Called before `set` is
  // published.
  void AssignCounters(CompiledFlagSet* set);

  // SetGuards()
  //
  // The guards of the set about to be published (flags not tripped). A guard
  // whose flag definition (fingerprint) is unchanged keeps its window.
  void SetGuards(const CompiledFlagSet& set);

  // Starts the background thread if there is work for it (a server to post
  // to, or a guard to judge), or as soon as a set with a guard arrives.
  void Start();
  // Bounded by close_timeout plus the time to abort a request. Idempotent.
  void Stop();
  void RestartAfterFork();

  // fork() support (see ClientCore::PrepareFork).
  void PrepareFork() ABSL_EXCLUSIVE_LOCK_FUNCTION(mu_, thread_mu_);
  void ParentAfterFork() ABSL_UNLOCK_FUNCTION(mu_, thread_mu_);
  void ChildAfterFork() ABSL_UNLOCK_FUNCTION(mu_, thread_mu_);

  TelemetryStatus GetStatus() const;

  // Judges the guards now on the calling thread, as the background thread
  // does every guard_interval (for tests).
  void CheckGuardsNowForTest();

  // The totals counted for `flag` x `variant` in this process (for tests).
  Counters::Totals TotalsForTest(std::string_view flag,
                                 std::string_view variant) const;

  // The body of the next post (for tests): counts not yet accepted, the
  // queued trips and `dropped`. Sums the counters first.
  std::string PendingBodyForTest();

  // JSON string literal of `s` (quotes included).
  static std::string JsonString(std::string_view s);

 private:
  struct GuardedVariant {
    std::string name;
    std::uint32_t counter = kNoCounter;
    OutcomeWindow window;
  };
  struct GuardTarget {
    std::string flag;
    std::uint64_t fingerprint = 0;
    std::uint64_t version = 0;
    GuardSpec spec;
    std::vector<GuardedVariant> variants;
    std::optional<GuardedVariant> control;
    bool tripped = false;
  };
  // Everything the background thread touches besides the shared state.
  // Replaced, never reused, after fork().
  struct Worker : FetchWorker {
    // Held by whoever judges the guards, until the trips found are applied
    // (taken before the Client's publish lock). In the worker, so that a
    // forked child never inherits it held.
    Mutex judge_mu;
    bool flush_now ABSL_GUARDED_BY(mu) = false;
  };

  void Run(Worker* worker);
  // Starts the thread if Start() was called, none runs, and there is work.
  // Called by the owner (Start, RestartAfterFork) and by publishing threads
  // (SetGuards, with mu_ held).
  void StartThreadIfNeeded(bool have_guards);
  // Sums the counters, judges the guards; returns the trips.
  std::vector<TripRecord> CheckGuards(absl::Duration now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Builds the next post; *counts receives the totals it covers (for Ack).
  std::string BuildBody(
      const std::vector<Counters::Totals>& totals,
      std::vector<std::pair<std::uint32_t, Counters::Totals>>* covered,
      std::size_t* trips, bool* more) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  enum class FlushResult { kAllSent, kMoreToSend, kFailed };
  // One post of what is pending (if anything).
  FlushResult Flush(Worker* worker);
  void DropStale() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::string DefaultInstance();

  const TelemetryOptions options_;
  const std::optional<std::pair<std::shared_ptr<ServerList>, RemoteOptions>>
      remote_;
  const TripCallback on_trip_;
  Counters counters_;

  mutable Mutex mu_;
  // Counter id -> (flag, variant), and back.
  std::vector<std::pair<std::string, std::string>> names_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string,
                      absl::flat_hash_map<std::string, std::uint32_t>>
      ids_ ABSL_GUARDED_BY(mu_);
  bool ids_full_logged_ ABSL_GUARDED_BY(mu_) = false;
  // Totals the server accepted (or that were dropped, or belong to the parent
  // of a forked child), per counter id.
  std::vector<Counters::Totals> acked_ ABSL_GUARDED_BY(mu_);
  std::vector<GuardTarget> guards_ ABSL_GUARDED_BY(mu_);
  std::vector<GuardTrip> trips_to_send_ ABSL_GUARDED_BY(mu_);
  std::string instance_ ABSL_GUARDED_BY(mu_);
  // When the last post succeeded (or counting began, or the last drop).
  SteadyTime last_delivery_ ABSL_GUARDED_BY(mu_);
  std::uint64_t dropped_unsent_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t lost_seen_ ABSL_GUARDED_BY(mu_) = 0;
  TelemetryStatus status_ ABSL_GUARDED_BY(mu_);
  const SteadyTime start_ = SteadyClock::now();

  // Set by Start(), cleared by Stop(). The worker is replaced only by the
  // owner's Start/Stop/RestartAfterFork and by the first SetGuards() with a
  // guard after Start(); thread_mu_ serializes those.
  Mutex thread_mu_;
  bool started_ ABSL_GUARDED_BY(thread_mu_) = false;
  std::unique_ptr<Worker> worker_;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_CLIENT_TELEMETRY_H_
