// tools/hotfixd/core/metrics.h
//
// Counters behind GET /metrics, rendered in the Prometheus text exposition
// format (version 0.0.4):
//
//   hotfixd_http_requests_total{route,method,status}   counter
//   hotfixd_flag_changes_total{env,action}             counter
//   hotfixd_stream_connections{env}                    gauge
//   hotfixd_stream_events_total{type}                  counter
//   hotfixd_stream_rejected_total                      counter
//   hotfixd_webhook_deliveries_total{result}           counter
//   hotfixd_flag_exposures_total{env,flag,variant}     counter (telemetry)
//   hotfixd_flag_outcomes_total{env,flag,variant,result}  counter
//   hotfixd_telemetry_dropped_total                    counter
//   hotfixd_flag_set_version{env}, hotfixd_flags{env}  gauges
//   hotfixd_replicated_versions_total{env}             counter
//   hotfixd_database_up{backend}, hotfixd_database_epoch,
//   hotfixd_change_feed_connected                      gauges
//   hotfixd_start_time_seconds, hotfixd_build_info     gauges
//
// Route labels are the route patterns ("/v1/admin/envs/{env}/flags/{key}"),
// never raw paths, so the number of series stays bounded.
//
// Thread-safe.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_METRICS_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/sse_hub.h"

namespace hotfix {
namespace hotfixd {

struct EnvironmentGauge {
  std::string env;
  std::uint64_t version = 0;
  std::size_t flags = 0;
};

// The database as /metrics reports it.
struct DatabaseGauge {
  std::string backend;  // "sqlite" or "postgres"
  bool up = true;
  std::uint32_t epoch = 0;
  // PostgreSQL only: whether the LISTEN connection is up.
  bool has_feed = false;
  bool feed_connected = false;
};

class Metrics {
 public:
  Metrics();

  // CountRequest()
  //
  // `route` must be a string literal (its address is the key).
  //
  // Cost: a lock and a hash-map increment; no allocation after the first
  // request of each (route, method, status).
  void CountRequest(const char* route, std::string_view method, int status);

  void CountFlagChange(const std::string& env, const std::string& action);

  // Versions of `env` learned from other replicas.
  void CountReplicatedVersions(const std::string& env, int count);

  // `result`: delivered, retried, failed or dropped (a string literal).
  void CountWebhookDelivery(const char* result);

  // AppendTelemetry()
  //
  // Appends the telemetry counters (since start; labels bounded by the
  // flags and variants the environments have) to an exposition.
  static void AppendTelemetry(
      const std::map<std::tuple<std::string, std::string, std::string>,
                     std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>>&
          counters,
      std::uint64_t dropped, std::string* out);

  // Render()
  //
  // The whole exposition. Cost: allocates the text.
  std::string Render(const std::vector<EnvironmentGauge>& environments,
                     const std::map<std::string, int>& streams,
                     const StreamCounters& stream_counters,
                     const DatabaseGauge& database) const;

 private:
  using RequestKey = std::tuple<const char*, const char*, int>;
  const absl::Time start_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<RequestKey, std::uint64_t> requests_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::uint64_t> changes_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::uint64_t> webhooks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::uint64_t> replicated_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_METRICS_H_
