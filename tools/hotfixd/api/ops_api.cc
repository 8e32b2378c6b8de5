// tools/hotfixd/api/ops_api.cc
//
// What monitoring reads without a token: GET /healthz and the Prometheus
// exposition GET /metrics (core/metrics.h lists the series).

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/handlers.h"
#include "common/json_util.h"

namespace hotfix {
namespace hotfixd {

absl::StatusOr<Reply> GetHealth(const Call& call) {
  tools::JsonOut out;
  out.Begin()
      .Str("status", "ok")
      .U64("environments", call.api.flags->List().size())
      .I64("streams", call.api.hub->connected());
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
  std::string text =
      call.api.metrics->Render(gauges, call.api.hub->ConnectedByEnvironment(),
                               call.api.hub->counters());
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
  return Reply::Text(std::move(text), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace hotfixd
}  // namespace hotfix
