// tools/hotfixd/core/telemetry.cc

#include "core/telemetry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/server_log.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

constexpr std::size_t kTripsKept = 20;

std::int64_t MinuteOf(absl::Time t) { return absl::ToUnixSeconds(t) / 60; }

void Add(TelemetryRow& into, const TelemetryRow& from) {
  into.exposures += from.exposures;
  into.successes += from.successes;
  into.failures += from.failures;
}

}  // namespace

TelemetryService::TelemetryService(Store* store, absl::Duration retention)
    : store_(store), retention_(retention) {}

void TelemetryService::Ingest(const TelemetryBatch& batch) {
  const std::int64_t minute = MinuteOf(absl::FromUnixMicros(batch.time));
  {
    absl::MutexLock lock(&mu_);
    for (const VariantCounts& c : batch.counts) {
      TelemetryRow& row = pending_[{batch.env, c.flag, c.variant, minute}];
      row.env = batch.env;
      row.flag = c.flag;
      row.variant = c.variant;
      row.minute = minute;
      row.exposures += c.exposures;
      row.successes += c.successes;
      row.failures += c.failures;
      VariantTotals& total = counters_[{batch.env, c.flag, c.variant}];
      total.exposures += c.exposures;
      total.outcomes.successes += c.successes;
      total.outcomes.failures += c.failures;
    }
    dropped_ += batch.dropped;
    for (const GuardTrip& trip : batch.trips) {
      std::deque<GuardTrip>& kept = trips_[{batch.env, trip.flag}];
      kept.push_front(trip);
      if (kept.size() > kTripsKept) kept.pop_back();
    }
  }
  for (const GuardTrip& trip : batch.trips) {
    tools::LogWarning(absl::StrCat(
        batch.env, " ", trip.flag, ": process ", trip.instance,
        " tripped its local guard on variant \"", trip.variant, "\" (",
        trip.failures, "/", trip.outcomes, " failed): ", trip.detail));
    if (trip_listener_) trip_listener_(trip);
  }
}

absl::Status TelemetryService::Flush() {
  absl::MutexLock flush(&flush_mu_);
  std::vector<TelemetryRow> rows;
  {
    absl::MutexLock lock(&mu_);
    rows.reserve(pending_.size());
    for (auto& [key, row] : pending_) rows.push_back(std::move(row));
    pending_.clear();
  }
  if (!rows.empty()) {
    absl::Status st = store_->AddTelemetry(rows);
    if (!st.ok()) {
      // Keep them for the next flush rather than lose them.
      absl::MutexLock lock(&mu_);
      for (const TelemetryRow& row : rows) {
        TelemetryRow& kept =
            pending_[{row.env, row.flag, row.variant, row.minute}];
        if (kept.env.empty()) {
          kept = TelemetryRow{row.env, row.flag, row.variant, row.minute};
        }
        Add(kept, row);
      }
      return st;
    }
  }
  return store_->PurgeTelemetry(MinuteOf(absl::Now() - retention_));
}

absl::StatusOr<std::vector<TelemetryRow>> TelemetryService::Series(
    const std::string& env, const std::string& flag, absl::Time since) {
  absl::MutexLock flush(&flush_mu_);  // no flush in between the two reads
  const std::int64_t from = MinuteOf(since);
  HOTFIX_ASSIGN_OR_RETURN(std::vector<TelemetryRow> stored,
                          store_->ListTelemetry(env, flag, from));
  std::map<std::pair<std::int64_t, std::string>, TelemetryRow> merged;
  for (TelemetryRow& row : stored) {
    merged[{row.minute, row.variant}] = std::move(row);
  }
  {
    absl::MutexLock lock(&mu_);
    for (auto it = pending_.lower_bound({env, flag, "", 0});
         it != pending_.end() && std::get<0>(it->first) == env &&
         std::get<1>(it->first) == flag;
         ++it) {
      const TelemetryRow& row = it->second;
      if (row.minute < from) continue;
      TelemetryRow& into = merged[{row.minute, row.variant}];
      if (into.env.empty())
        into = TelemetryRow{env, flag, row.variant, row.minute};
      Add(into, row);
    }
  }
  std::vector<TelemetryRow> out;
  out.reserve(merged.size());
  for (auto& [key, row] : merged) out.push_back(std::move(row));
  return out;
}

absl::StatusOr<std::map<std::string, VariantTotals>> TelemetryService::Totals(
    const std::string& env, const std::string& flag, absl::Time since) {
  HOTFIX_ASSIGN_OR_RETURN(std::vector<TelemetryRow> rows,
                          Series(env, flag, since));
  return TotalsOf(rows);
}

absl::StatusOr<std::map<std::string, std::int64_t>>
TelemetryService::LastEvaluated(const std::string& env) {
  absl::MutexLock flush(&flush_mu_);
  HOTFIX_ASSIGN_OR_RETURN(std::vector<UsageRow> usage, store_->ListUsage(env));
  std::map<std::string, std::int64_t> last;
  for (const UsageRow& u : usage) last[u.flag] = u.last_evaluated;
  absl::MutexLock lock(&mu_);
  for (auto it = pending_.lower_bound({env, "", "", 0});
       it != pending_.end() && std::get<0>(it->first) == env; ++it) {
    const TelemetryRow& row = it->second;
    if (row.exposures == 0) continue;
    std::int64_t& t = last[row.flag];
    t = std::max(t, row.minute * 60 * 1000000);
  }
  return last;
}

std::vector<GuardTrip> TelemetryService::RecentTrips(
    const std::string& env, const std::string& flag) const {
  absl::MutexLock lock(&mu_);
  auto it = trips_.find({env, flag});
  if (it == trips_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::map<std::tuple<std::string, std::string, std::string>, VariantTotals>
TelemetryService::Counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

std::uint64_t TelemetryService::dropped_by_sdks() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

std::map<std::string, VariantTotals> TotalsOf(
    const std::vector<TelemetryRow>& series) {
  std::map<std::string, VariantTotals> totals;
  for (const TelemetryRow& row : series) {
    VariantTotals& t = totals[row.variant];
    t.exposures += row.exposures;
    t.outcomes.successes += row.successes;
    t.outcomes.failures += row.failures;
  }
  return totals;
}

}  // namespace hotfixd
}  // namespace hotfix
