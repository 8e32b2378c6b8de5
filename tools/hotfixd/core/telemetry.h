// tools/hotfixd/core/telemetry.h
//
// TelemetryService takes what SDKs report on POST /v1/telemetry
// (docs/protocol.md, "Telemetry"): per flag and served variant, how many
// evaluations (exposures) and how many guarded operations succeeded or
// failed; and the local guard trips of a process. Counts are summed in
// memory by environment x flag x variant x minute and written to the store
// every few seconds (never one write per report); reads (stats, the guard
// controller) see the store plus what is not written yet. Trips go to the
// trip listener (the guard controller) at once.
//
// Memory is bounded: only flags and variants of the environment's current
// set are accepted (the caller checks), pending counts are flushed every
// flush interval, and the recent trips kept are capped.
//
// Thread-safe.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_TELEMETRY_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_TELEMETRY_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/guard_stats.h"
#include "store/store.h"

namespace hotfix {
namespace hotfixd {

// Counts of one flag variant reported by one process for one interval.
struct VariantCounts {
  std::string flag;
  std::string variant;
  std::uint64_t exposures = 0;
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
};

// A process's local guard switched a variant off (docs/guarded-rollouts.md).
struct GuardTrip {
  std::string env;
  std::string flag;
  std::string variant;
  std::uint64_t version = 0;  // the flag set version it tripped on
  std::uint64_t failures = 0;
  std::uint64_t outcomes = 0;
  std::string instance;   // the reporting process's id
  std::string detail;     // the SDK's explanation
  std::int64_t time = 0;  // Unix microseconds (when hotfixd got it)
};

struct TelemetryBatch {
  std::string env;
  std::string instance;
  std::int64_t time = 0;  // Unix microseconds (when hotfixd got it)
  std::vector<VariantCounts> counts;
  std::vector<GuardTrip> trips;
  std::uint64_t dropped = 0;  // counts the SDK had to drop (it says so)
};

// Per variant: exposures and outcomes over some minutes.
struct VariantTotals {
  std::uint64_t exposures = 0;
  ArmCounts outcomes;
};

// The per-minute rows `series` (of one flag) summed per variant.
std::map<std::string, VariantTotals> TotalsOf(
    const std::vector<TelemetryRow>& series);

class TelemetryService {
 public:
  TelemetryService(Store* store, absl::Duration retention);

  // Ingest()
  //
  // Adds `batch` to the pending counts and hands its trips to the listener.
  // Cost: a lock and a map update per count.
  void Ingest(const TelemetryBatch& batch);

  // Writes the pending counts to the store and forgets telemetry older than
  // the retention. Called every few seconds and at shutdown.
  absl::Status Flush();

  // Totals per variant of `flag` in `env` since `since` (store + pending).
  absl::StatusOr<std::map<std::string, VariantTotals>> Totals(
      const std::string& env, const std::string& flag, absl::Time since);

  // The per-minute rows of `flag` since `since`, oldest first (store +
  // pending, merged).
  absl::StatusOr<std::vector<TelemetryRow>> Series(const std::string& env,
                                                   const std::string& flag,
                                                   absl::Time since);

  // When each flag of `env` was last reported evaluated (Unix microseconds,
  // minute resolution; store + pending). Flags never reported are absent.
  absl::StatusOr<std::map<std::string, std::int64_t>> LastEvaluated(
      const std::string& env);

  // The last trips of `flag` in `env`, newest first (at most 20 per flag).
  std::vector<GuardTrip> RecentTrips(const std::string& env,
                                     const std::string& flag) const;

  // Running totals since start, for /metrics: (env, flag, variant) -> totals.
  std::map<std::tuple<std::string, std::string, std::string>, VariantTotals>
  Counters() const;
  std::uint64_t dropped_by_sdks() const;

  // Called for every trip, on the ingesting thread; must not block for long.
  void SetTripListener(std::function<void(const GuardTrip&)> listener) {
    trip_listener_ = std::move(listener);
  }

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::int64_t>;

  Store* const store_;
  const absl::Duration retention_;
  std::function<void(const GuardTrip&)> trip_listener_;

  mutable absl::Mutex mu_;
  std::map<Key, TelemetryRow> pending_ ABSL_GUARDED_BY(mu_);
  std::map<std::tuple<std::string, std::string, std::string>, VariantTotals>
      counters_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::deque<GuardTrip>> trips_
      ABSL_GUARDED_BY(mu_);
  std::uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex flush_mu_;  // one flush at a time
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_TELEMETRY_H_
