// tools/hotfixd/api/ops_api.cc
//
// What monitoring reads without a token: GET /healthz and the Prometheus
// exposition GET /metrics (core/metrics.h lists the series). Both say
// whether the database answers: while it does not, hotfixd still serves the
// flags it has (so /healthz answers 200, with "status": "degraded") and
// refuses changes with 503.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/handlers.h"
#include "common/json_util.h"
#include "common/text.h"

namespace hotfix {
namespace hotfixd {

namespace {

std::string Backend(const Store& store) {
  return absl::StartsWith(store.Describe(), "sqlite") ? "sqlite" : "postgres";
}

}  // namespace

absl::StatusOr<Reply> GetHealth(const Call& call) {
  const StoreHealth db = call.api.store->Health();
  tools::JsonOut out;
  out.Begin()
      .Str("status", db.available ? "ok" : "degraded")
      .U64("environments", call.api.flags->List().size())
      .I64("streams", call.api.hub->connected());
  out.Begin("database")
      .Str("backend", Backend(*call.api.store))
      .Bool("available", db.available)
      .U64("epoch", call.api.flags->epoch());
  if (!db.available) {
    out.Str("error", db.error).Str("since", tools::FormatTime(db.since));
  }
  if (call.api.replicator != nullptr && call.api.replicator->active()) {
    out.Bool("change_feed", call.api.replicator->feed_connected());
  }
  out.End();
  if (call.api.front != nullptr) {
    out.I64("connections", call.api.front->connections())
        .I64("connection_capacity", call.api.front->connection_capacity());
  }
  out.End();
  return Reply::Json(out.Take());
}

absl::StatusOr<Reply> GetMetrics(const Call& call) {
  std::vector<EnvironmentGauge> gauges;
  for (const auto& s : call.api.flags->List()) {
    EnvironmentGauge g;
    g.env = s->name;
    g.version = s->version;
    g.flags = s->snapshot ? s->snapshot->size() : 0;
    gauges.push_back(std::move(g));
  }
  DatabaseGauge db;
  db.backend = Backend(*call.api.store);
  db.up = call.api.store->Health().available;
  db.epoch = call.api.flags->epoch();
  if (call.api.replicator != nullptr && call.api.replicator->active()) {
    db.has_feed = true;
    db.feed_connected = call.api.replicator->feed_connected();
  }
  std::string text =
      call.api.metrics->Render(gauges, call.api.hub->ConnectedByEnvironment(),
                               call.api.hub->counters(), db);
  if (call.api.telemetry != nullptr) {
    std::map<std::tuple<std::string, std::string, std::string>,
             std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>>
        counters;
    for (const auto& [key, t] : call.api.telemetry->Counters()) {
      counters[key] = {t.exposures, t.outcomes.successes, t.outcomes.failures};
    }
    Metrics::AppendTelemetry(counters, call.api.telemetry->dropped_by_sdks(),
                             &text);
  }
  return Reply::Text(std::move(text),
                     "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace hotfixd
}  // namespace hotfix
