// src/client/telemetry.cc
//
// Telemetry: counter names, the guard checks and the posts to
// /v1/telemetry.

#include "client/telemetry.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "eval/evaluate.h"
#include "util/json_string.h"
#include "util/log.h"
#include "util/strings.h"

namespace hotfix {
namespace internal {
namespace {

constexpr char kSdk[] = "hotfix-cpp/0.1.0";
// Shortest wait between failed posts.
constexpr absl::Duration kMinRetry = absl::Seconds(1);

std::uint64_t Sub(std::uint64_t a, std::uint64_t b) {
  return a > b ? a - b : 0;
}

}  // namespace

Telemetry::Telemetry(
    const TelemetryOptions& options,
    std::optional<std::pair<std::shared_ptr<ServerList>, RemoteOptions>> remote,
    TripCallback on_trip)
    : options_(options),
      remote_(std::move(remote)),
      on_trip_(std::move(on_trip)) {
  MutexLock lock(&mu_);
  instance_ = options_.instance.empty() ? DefaultInstance() : options_.instance;
  last_delivery_ = SteadyClock::now();
  status_.counting = true;
  status_.sending = remote_.has_value();
}

Telemetry::~Telemetry() { Stop(); }

std::string Telemetry::DefaultInstance() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "process", "-", ::getpid());
}

std::string Telemetry::JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

void Telemetry::AssignCounters(CompiledFlagSet* set) {
  MutexLock lock(&mu_);
  const std::size_t n = set->flags.size();
  set->counter_offset.assign(n, 0);
  set->counter_ids.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const CompiledFlag& flag = set->flags[i];
    set->counter_offset[i] =
        static_cast<std::uint32_t>(set->counter_ids.size());
    auto& by_variant = ids_[flag.key];
    for (const Variant& v : flag.variants) {
      std::uint32_t id = kNoCounter;
      auto it = by_variant.find(ToAbsl(v.name));
      if (it != by_variant.end()) {
        id = it->second;
      } else if (names_.size() < Counters::kMaxCounters) {
        id = static_cast<std::uint32_t>(names_.size());
        names_.emplace_back(flag.key, std::string(v.name));
        acked_.push_back(Counters::Totals{0, 0, 0});
        by_variant.emplace(std::string(v.name), id);
      } else if (!ids_full_logged_) {
        ids_full_logged_ = true;
        Log(LogLevel::kWarning,
            absl::StrCat("telemetry: more than ", Counters::kMaxCounters,
                         " flag x variant pairs; flag \"", flag.key,
                         "\" and later new ones are not counted"));
      }
      set->counter_ids.push_back(id);
    }
  }
  // The counter of the variant Enabled() serves when its answer is
  // context-independent, kept in the index slot the by-name lookup reads.
  for (auto& [key, slot] : set->index) {
    const CompiledFlag& flag = set->flags[slot.index];
    slot.static_counter = kNoCounter;
    if (slot.enabled_answer < 0 || flag.type != ValueType::kBool) continue;
    const std::int32_t v = flag.killed ? flag.off_variant : flag.static_variant;
    if (v >= 0) {
      slot.static_counter =
          set->counter_ids[set->counter_offset[slot.index] + v];
    }
  }
}

void Telemetry::SetGuards(const CompiledFlagSet& set) {
  MutexLock lock(&mu_);
  std::vector<GuardTarget> next;
  // A new guard's window starts with the counts as they are now: outcomes of
  // an earlier definition of the flag are not held against this one.
  std::vector<Counters::Totals> totals;
  const absl::Duration now = absl::FromChrono(SteadyClock::now() - start_);
  auto start_window = [&](GuardedVariant& gv) {
    if (totals.empty()) {
      totals = counters_.Sum(static_cast<std::uint32_t>(names_.size()),
                             Counters::SumOf::kOutcomes);
    }
    if (gv.counter >= totals.size()) {
      gv.window.Add(now, 0, 0);
    } else {
      gv.window.Add(now, totals[gv.counter][kSuccesses],
                    totals[gv.counter][kFailures]);
    }
  };
  for (std::size_t i = 0; i < set.flags.size(); ++i) {
    const CompiledFlag& flag = set.flags[i];
    if (flag.guard == nullptr || flag.guard_tripped) continue;
    auto old =
        std::find_if(guards_.begin(), guards_.end(), [&](const GuardTarget& g) {
          return g.flag == flag.key && g.fingerprint == flag.fingerprint;
        });
    if (old != guards_.end()) {
      old->version = set.version;
      next.push_back(std::move(*old));
      continue;
    }
    GuardTarget g;
    g.flag = flag.key;
    g.fingerprint = flag.fingerprint;
    g.version = set.version;
    g.spec = *flag.guard;
    for (std::size_t v = 0; v < flag.variants.size(); ++v) {
      const std::uint32_t id = set.counter_ids[set.counter_offset[i] + v];
      GuardedVariant gv{std::string(flag.variants[v].name), id,
                        OutcomeWindow(g.spec.window)};
      start_window(gv);
      if (static_cast<std::int32_t>(v) == g.spec.compare_to) {
        g.control = std::move(gv);
      } else if (static_cast<std::int32_t>(v) != g.spec.fallback) {
        g.variants.push_back(std::move(gv));
      }
    }
    next.push_back(std::move(g));
  }
  guards_ = std::move(next);
  if (!guards_.empty()) StartThreadIfNeeded(/*have_guards=*/true);
}

std::vector<TripRecord> Telemetry::CheckGuards(absl::Duration now) {
  std::vector<TripRecord> trips;
  if (guards_.empty()) return trips;
  const std::vector<Counters::Totals> totals = counters_.Sum(
      static_cast<std::uint32_t>(names_.size()), Counters::SumOf::kOutcomes);
  auto add = [&](GuardedVariant& gv) {
    if (gv.counter >= totals.size()) return;
    gv.window.Add(now, totals[gv.counter][kSuccesses],
                  totals[gv.counter][kFailures]);
  };
  for (GuardTarget& g : guards_) {
    if (g.tripped) continue;
    for (GuardedVariant& gv : g.variants) add(gv);
    std::optional<WindowCounts> control;
    if (g.control.has_value()) {
      add(*g.control);
      control = g.control->window.Counts();
    }
    for (GuardedVariant& gv : g.variants) {
      const GuardVerdict verdict =
          JudgeGuard(g.spec, gv.window.Counts(), control,
                     g.control.has_value() ? g.control->name : "");
      if (!verdict.trip) continue;
      g.tripped = true;
      TripRecord record;
      record.fingerprint = g.fingerprint;
      record.trip.flag = g.flag;
      record.trip.variant = gv.name;
      record.trip.version = g.version;
      record.trip.failures = verdict.counts.failures;
      record.trip.outcomes = verdict.counts.outcomes();
      record.trip.detail = verdict.detail;
      record.trip.time = absl::Now();
      trips.push_back(std::move(record));
      break;
    }
  }
  return trips;
}

void Telemetry::DropStale() {
  if (SinceSteady(last_delivery_) < options_.max_unsent_age) return;
  const std::vector<Counters::Totals> totals =
      counters_.Sum(static_cast<std::uint32_t>(names_.size()));
  std::uint64_t dropped = 0;
  for (std::size_t id = 0; id < totals.size(); ++id) {
    for (int f = 0; f < 3; ++f) dropped += Sub(totals[id][f], acked_[id][f]);
    acked_[id] = totals[id];
  }
  if (dropped > 0) {
    Log(LogLevel::kWarning,
        absl::StrCat("telemetry: ", dropped,
                     " exposures and outcomes dropped: not delivered for ",
                     absl::FormatDuration(options_.max_unsent_age)));
  }
  dropped_unsent_ += dropped;
  status_.dropped += dropped;
  last_delivery_ = SteadyClock::now();
}

std::string Telemetry::BuildBody(
    const std::vector<Counters::Totals>& totals,
    std::vector<std::pair<std::uint32_t, Counters::Totals>>* covered,
    std::size_t* trips, bool* more) const {
  std::string body = absl::StrCat("{\"instance\":", JsonString(instance_),
                                  ",\"sdk\":\"", kSdk, "\",\"counts\":[");
  *more = false;
  bool first = true;
  for (std::uint32_t id = 0; id < totals.size(); ++id) {
    const std::uint64_t e = Sub(totals[id][kExposures], acked_[id][kExposures]);
    const std::uint64_t s = Sub(totals[id][kSuccesses], acked_[id][kSuccesses]);
    const std::uint64_t f = Sub(totals[id][kFailures], acked_[id][kFailures]);
    if (e == 0 && s == 0 && f == 0) continue;
    if (covered->size() >= kMaxCountsPerPost || body.size() >= kMaxPostBytes) {
      *more = true;
      break;
    }
    absl::StrAppend(
        &body, first ? "" : ",", "{\"flag\":", JsonString(names_[id].first),
        ",\"variant\":", JsonString(names_[id].second), ",\"exposures\":", e,
        ",\"successes\":", s, ",\"failures\":", f, "}");
    first = false;
    covered->emplace_back(id, totals[id]);
  }
  body += "],\"trips\":[";
  *trips = 0;
  for (const GuardTrip& t : trips_to_send_) {
    absl::StrAppend(
        &body, *trips == 0 ? "" : ",", "{\"flag\":", JsonString(t.flag),
        ",\"variant\":", JsonString(t.variant), ",\"version\":", t.version,
        ",\"failures\":", t.failures, ",\"outcomes\":", t.outcomes,
        ",\"detail\":", JsonString(t.detail.substr(0, 500)), "}");
    ++*trips;
  }
  absl::StrAppend(&body, "],\"dropped\":", dropped_unsent_, "}");
  return body;
}

void Telemetry::CheckGuardsNowForTest() {
  // After any judgement of the thread in progress, whose trips are then
  // applied.
  Worker* worker;
  {
    MutexLock lock(&thread_mu_);
    worker = worker_.get();
  }
  Mutex unused;
  MutexLock judge_lock(worker != nullptr ? &worker->judge_mu : &unused);
  std::vector<TripRecord> trips;
  {
    MutexLock lock(&mu_);
    trips = CheckGuards(absl::FromChrono(SteadyClock::now() - start_));
    if (remote_.has_value()) {
      for (const TripRecord& trip : trips) trips_to_send_.push_back(trip.trip);
    }
  }
  for (const TripRecord& trip : trips) on_trip_(trip);
}

Counters::Totals Telemetry::TotalsForTest(std::string_view flag,
                                          std::string_view variant) const {
  MutexLock lock(&mu_);
  auto it = ids_.find(ToAbsl(flag));
  if (it == ids_.end()) return Counters::Totals{0, 0, 0};
  auto v = it->second.find(ToAbsl(variant));
  if (v == it->second.end()) return Counters::Totals{0, 0, 0};
  const std::vector<Counters::Totals> totals =
      counters_.Sum(static_cast<std::uint32_t>(names_.size()));
  return totals[v->second];
}

std::string Telemetry::PendingBodyForTest() {
  MutexLock lock(&mu_);
  const std::vector<Counters::Totals> totals =
      counters_.Sum(static_cast<std::uint32_t>(names_.size()));
  std::vector<std::pair<std::uint32_t, Counters::Totals>> covered;
  std::size_t trips;
  bool more;
  return BuildBody(totals, &covered, &trips, &more);
}

Telemetry::FlushResult Telemetry::Flush(Worker* worker) {
  std::string body;
  std::vector<std::pair<std::uint32_t, Counters::Totals>> covered;
  std::size_t trips = 0;
  bool more = false;
  std::uint64_t dropped = 0;
  {
    MutexLock lock(&mu_);
    const std::uint64_t lost = counters_.lost();
    if (lost > lost_seen_) {
      dropped_unsent_ += lost - lost_seen_;
      status_.dropped += lost - lost_seen_;
      lost_seen_ = lost;
    }
    DropStale();
    const std::vector<Counters::Totals> totals =
        counters_.Sum(static_cast<std::uint32_t>(names_.size()));
    body = BuildBody(totals, &covered, &trips, &more);
    dropped = dropped_unsent_;
    if (covered.empty() && trips == 0 && dropped == 0) {
      last_delivery_ = SteadyClock::now();  // nothing waits to be delivered
      return FlushResult::kAllSent;
    }
  }
  absl::StatusOr<HttpFetcher::Response> response =
      worker->fetcher->Post("/v1/telemetry", body, "application/json",
                            /*gzip=*/true);
  absl::Status error;
  if (!response.ok()) {
    error = response.status();
  } else if (response->status == 404 || response->status == 405) {
    // The flags came from this server, so its address is right: it does not
    // take telemetry (an older hotfixd, a static mirror or a proxy).
    error = absl::UnimplementedError(absl::StrCat(
        "POST ", worker->fetcher->Url("/v1/telemetry"), ": HTTP ",
        response->status,
        " (this server does not accept telemetry: an older hotfixd, a static "
        "mirror or a proxy?); flags and local guards are unaffected, counts "
        "are kept for a retry and dropped (counted) when too old"));
  } else if (response->status != 200 && response->status != 202) {
    error = HttpStatusError(worker->fetcher->Url("/v1/telemetry"),
                            response->status, response->body, "POST");
  }
  MutexLock lock(&mu_);
  if (!error.ok()) {
    if (status_.last_error.ok() ||
        status_.last_error.message() != error.message()) {
      Log(LogLevel::kWarning,
          absl::StrCat("telemetry: post failed (kept for a retry): ",
                       error.message()));
    }
    status_.last_error = absl::Status(error.code(), error.message());
    return FlushResult::kFailed;
  }
  for (const auto& [id, totals] : covered) acked_[id] = totals;
  trips_to_send_.erase(
      trips_to_send_.begin(),
      trips_to_send_.begin() + std::min(trips, trips_to_send_.size()));
  dropped_unsent_ -= std::min(dropped, dropped_unsent_);
  last_delivery_ = SteadyClock::now();
  status_.last_error = absl::OkStatus();
  ++status_.posts;
  return more ? FlushResult::kMoreToSend : FlushResult::kAllSent;
}

void Telemetry::Run(Worker* worker) {
  const bool sending = remote_.has_value() && worker->fetcher != nullptr;
  const absl::Duration tick =
      std::min(options_.guard_interval, options_.flush_interval);
  SteadyTime next_flush = DeadlineAfter(options_.flush_interval);
  SteadyTime next_check = SteadyClock::now();
  worker->mu.Lock();
  for (;;) {
    const SteadyTime next =
        std::min(next_check, sending ? next_flush : SteadyTime::max());
    while (!worker->stop && !worker->flush_now && SteadyClock::now() < next) {
      worker->cv.WaitUntil(&worker->mu, next);
    }
    const bool stop = worker->stop;
    bool flush = sending && (worker->flush_now || stop ||
                             SteadyClock::now() >= next_flush);
    worker->flush_now = false;
    worker->mu.Unlock();

    if (!stop && SteadyClock::now() >= next_check) {
      // A judgement and the trips it finds are applied as one step.
      MutexLock judge_lock(&worker->judge_mu);
      std::vector<TripRecord> trips;
      {
        MutexLock lock(&mu_);
        trips = CheckGuards(absl::FromChrono(SteadyClock::now() - start_));
      }
      for (const TripRecord& trip : trips) {
        on_trip_(trip);
        if (sending) {
          MutexLock lock(&mu_);
          if (trips_to_send_.size() >= kMaxQueuedTrips) {
            trips_to_send_.erase(trips_to_send_.begin());
          }
          trips_to_send_.push_back(trip.trip);
          flush = true;
        }
      }
      next_check = DeadlineAfter(tick);
    }
    if (flush && !(stop && options_.close_timeout <= absl::ZeroDuration())) {
      switch (Flush(worker)) {
        case FlushResult::kAllSent:
          next_flush = DeadlineAfter(options_.flush_interval);
          break;
        case FlushResult::kMoreToSend:
          next_flush = SteadyClock::now();
          break;
        case FlushResult::kFailed:  // never faster than once a second
          next_flush =
              DeadlineAfter(std::max(kMinRetry, options_.flush_interval));
          break;
      }
    }
    worker->mu.Lock();
    if (stop) break;
  }
  MarkDone(worker);
  worker->mu.Unlock();
}

void Telemetry::Start() {
  bool have_guards;
  {
    MutexLock lock(&mu_);
    have_guards = !guards_.empty();
  }
  {
    MutexLock lock(&thread_mu_);
    started_ = true;
  }
  StartThreadIfNeeded(have_guards);
}

void Telemetry::StartThreadIfNeeded(bool have_guards) {
  MutexLock lock(&thread_mu_);
  if (!started_ || worker_ != nullptr) return;
  if (!remote_.has_value() && !have_guards) return;  // nothing to do
  auto worker = std::make_unique<Worker>();
  if (remote_.has_value()) {
    worker->fetcher = std::make_unique<HttpFetcher>(
        remote_->first, remote_->second, remote_->second.read_timeout);
  }
  Worker* raw = worker.get();
  try {
    worker->thread = std::thread([this, raw] { Run(raw); });
  } catch (const std::system_error& e) {
    Log(LogLevel::kError,
        absl::StrCat("telemetry: cannot start its thread; guards and "
                     "posting are off: ",
                     e.what()));
    return;
  }
  worker_ = std::move(worker);
}

void Telemetry::Stop() {
  Worker* worker;
  {
    MutexLock lock(&thread_mu_);
    started_ = false;  // no new thread from a late SetGuards()
    worker = worker_.get();
  }
  if (worker == nullptr || !worker->thread.joinable()) return;
  if (InForkedChild(*worker)) {
    // A forked child that never called AfterFork(): the thread is not ours.
    AbandonInForkedChild(&worker_);
    return;
  }
  // A last post may take until close_timeout; then it is aborted.
  StopAndJoin(worker, options_.close_timeout);
  MutexLock lock(&thread_mu_);
  worker_.reset();
}

void Telemetry::RestartAfterFork() {
  if (worker_ != nullptr && InForkedChild(*worker_)) {
    AbandonInForkedChild(&worker_);  // its thread did not survive fork()
  }
  bool have_guards;
  {
    MutexLock lock(&mu_);
    have_guards = !guards_.empty();
  }
  if (worker_ == nullptr) {
    {
      MutexLock lock(&thread_mu_);
      started_ = true;
    }
    StartThreadIfNeeded(have_guards);
  }
}

void Telemetry::PrepareFork() {
  mu_.Lock();
  thread_mu_.Lock();
}

void Telemetry::ParentAfterFork() {
  thread_mu_.Unlock();
  mu_.Unlock();
}

void Telemetry::ChildAfterFork() {
  // Everything counted so far, sent or not, is the parent's to send; the
  // trips it queued too. This process starts from zero.
  const std::vector<Counters::Totals> totals =
      counters_.Sum(static_cast<std::uint32_t>(names_.size()));
  for (std::size_t id = 0; id < totals.size(); ++id) acked_[id] = totals[id];
  trips_to_send_.clear();
  dropped_unsent_ = 0;
  lost_seen_ = counters_.lost();
  last_delivery_ = SteadyClock::now();
  status_ = TelemetryStatus{};
  status_.counting = true;
  status_.sending = remote_.has_value();
  if (options_.instance.empty()) instance_ = DefaultInstance();
  thread_mu_.Unlock();
  mu_.Unlock();
}

TelemetryStatus Telemetry::GetStatus() const {
  MutexLock lock(&mu_);
  TelemetryStatus status = status_;
  status.last_error =
      absl::Status(status_.last_error.code(), status_.last_error.message());
  return status;
}

}  // namespace internal
}  // namespace hotfix
