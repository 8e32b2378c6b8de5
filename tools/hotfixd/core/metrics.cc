// tools/hotfixd/core/metrics.cc

#include "core/metrics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace hotfix {
namespace hotfixd {
namespace {

const char* MethodLiteral(std::string_view method) {
  static constexpr const char* kMethods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                             "PATCH", "DELETE", "OPTIONS"};
  for (const char* m : kMethods) {
    if (method == m) return m;
  }
  return "OTHER";
}

// Escapes a label value (backslash, quote, newline).
std::string Label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string* out, const char* name, const char* type,
            const char* help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type,
                  "\n");
}

}  // namespace

Metrics::Metrics() : start_(absl::Now()) {}

void Metrics::CountRequest(const char* route, std::string_view method,
                           int status) {
  const RequestKey key(route, MethodLiteral(method), status);
  absl::MutexLock lock(&mu_);
  ++requests_[key];
}

void Metrics::CountFlagChange(const std::string& env,
                              const std::string& action) {
  absl::MutexLock lock(&mu_);
  ++changes_[{env, action}];
}

void Metrics::CountReplicatedVersions(const std::string& env, int count) {
  absl::MutexLock lock(&mu_);
  replicated_[env] += static_cast<std::uint64_t>(count);
}

void Metrics::CountWebhookDelivery(const char* result) {
  absl::MutexLock lock(&mu_);
  ++webhooks_[result];
}

void Metrics::AppendTelemetry(
    const std::map<std::tuple<std::string, std::string, std::string>,
                   std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>>&
        counters,
    std::uint64_t dropped, std::string* out) {
  Header(out, "hotfixd_flag_exposures_total", "counter",
         "Evaluations SDKs reported, by environment, flag and variant served.");
  for (const auto& [key, c] : counters) {
    const auto& [env, flag, variant] = key;
    absl::StrAppend(out, "hotfixd_flag_exposures_total{env=\"", Label(env),
                    "\",flag=\"", Label(flag), "\",variant=\"", Label(variant),
                    "\"} ", std::get<0>(c), "\n");
  }
  Header(out, "hotfixd_flag_outcomes_total", "counter",
         "Guarded operations SDKs reported, by result.");
  for (const auto& [key, c] : counters) {
    const auto& [env, flag, variant] = key;
    for (int failure = 0; failure < 2; ++failure) {
      absl::StrAppend(out, "hotfixd_flag_outcomes_total{env=\"", Label(env),
                      "\",flag=\"", Label(flag), "\",variant=\"",
                      Label(variant), "\",result=\"",
                      failure ? "failure" : "success", "\"} ",
                      failure ? std::get<2>(c) : std::get<1>(c), "\n");
    }
  }
  Header(
      out, "hotfixd_telemetry_dropped_total", "counter",
      "Counts SDKs reported they had to drop (server unreachable too long).");
  absl::StrAppend(out, "hotfixd_telemetry_dropped_total ", dropped, "\n");
}

std::string Metrics::Render(const std::vector<EnvironmentGauge>& environments,
                            const std::map<std::string, int>& streams,
                            const StreamCounters& sc,
                            const DatabaseGauge& db) const {
  std::vector<std::pair<RequestKey, std::uint64_t>> requests;
  std::map<std::pair<std::string, std::string>, std::uint64_t> changes;
  std::map<std::string, std::uint64_t> webhooks;
  std::map<std::string, std::uint64_t> replicated;
  {
    absl::MutexLock lock(&mu_);
    requests.assign(requests_.begin(), requests_.end());
    changes = changes_;
    webhooks = webhooks_;
    replicated = replicated_;
  }
  std::sort(requests.begin(), requests.end(), [](const auto& a, const auto& b) {
    const auto& [ra, ma, sa] = a.first;
    const auto& [rb, mb, sb] = b.first;
    const int r = std::string_view(ra).compare(rb);
    if (r != 0) return r < 0;
    const int m = std::string_view(ma).compare(mb);
    if (m != 0) return m < 0;
    return sa < sb;
  });

  std::string out;
  Header(&out, "hotfixd_http_requests_total", "counter",
         "HTTP requests by route pattern, method and status.");
  for (const auto& [key, count] : requests) {
    const auto& [route, method, status] = key;
    absl::StrAppend(&out, "hotfixd_http_requests_total{route=\"", Label(route),
                    "\",method=\"", method, "\",status=\"", status, "\"} ",
                    count, "\n");
  }
  Header(&out, "hotfixd_flag_changes_total", "counter",
         "Committed flag-set versions by environment and admin action.");
  for (const auto& [key, count] : changes) {
    absl::StrAppend(&out, "hotfixd_flag_changes_total{env=\"", Label(key.first),
                    "\",action=\"", Label(key.second), "\"} ", count, "\n");
  }
  Header(&out, "hotfixd_stream_connections", "gauge",
         "Open GET /v1/stream connections by environment.");
  for (const auto& [env, count] : streams) {
    absl::StrAppend(&out, "hotfixd_stream_connections{env=\"", Label(env),
                    "\"} ", count, "\n");
  }
  Header(&out, "hotfixd_stream_events_total", "counter",
         "SSE events sent, by type.");
  absl::StrAppend(&out, "hotfixd_stream_events_total{type=\"put\"} ",
                  sc.puts.load(), "\n");
  absl::StrAppend(&out, "hotfixd_stream_events_total{type=\"patch\"} ",
                  sc.patches.load(), "\n");
  absl::StrAppend(&out, "hotfixd_stream_events_total{type=\"heartbeat\"} ",
                  sc.heartbeats.load(), "\n");
  Header(&out, "hotfixd_stream_rejected_total", "counter",
         "Streams refused with 503 because --max-streams were open.");
  absl::StrAppend(&out, "hotfixd_stream_rejected_total ", sc.rejected.load(),
                  "\n");
  Header(&out, "hotfixd_webhook_deliveries_total", "counter",
         "Webhook delivery attempts by result (delivered, retried, failed, "
         "dropped).");
  for (const char* result : {"delivered", "retried", "failed", "dropped"}) {
    auto it = webhooks.find(result);
    absl::StrAppend(&out, "hotfixd_webhook_deliveries_total{result=\"", result,
                    "\"} ", it == webhooks.end() ? 0 : it->second, "\n");
  }
  Header(&out, "hotfixd_flag_set_version", "gauge",
         "Current flag-set version by environment.");
  for (const EnvironmentGauge& e : environments) {
    absl::StrAppend(&out, "hotfixd_flag_set_version{env=\"", Label(e.env),
                    "\"} ", e.version, "\n");
  }
  Header(&out, "hotfixd_flags", "gauge",
         "Flags in the current set by environment.");
  for (const EnvironmentGauge& e : environments) {
    absl::StrAppend(&out, "hotfixd_flags{env=\"", Label(e.env), "\"} ", e.flags,
                    "\n");
  }
  Header(&out, "hotfixd_replicated_versions_total", "counter",
         "Versions committed by other replicas and published here, by "
         "environment.");
  for (const auto& [env, count] : replicated) {
    absl::StrAppend(&out, "hotfixd_replicated_versions_total{env=\"",
                    Label(env), "\"} ", count, "\n");
  }
  Header(&out, "hotfixd_database_up", "gauge",
         "1 while the database answers; 0 while it cannot be reached (flags "
         "are still served, changes get 503).");
  absl::StrAppend(&out, "hotfixd_database_up{backend=\"", db.backend, "\"} ",
                  db.up ? 1 : 0, "\n");
  Header(&out, "hotfixd_database_epoch", "gauge",
         "The database's epoch (docs/protocol.md, versions and epochs).");
  absl::StrAppend(&out, "hotfixd_database_epoch ", db.epoch, "\n");
  if (db.has_feed) {
    Header(&out, "hotfixd_change_feed_connected", "gauge",
           "1 while the LISTEN connection that hears other replicas' changes "
           "is up.");
    absl::StrAppend(&out, "hotfixd_change_feed_connected ",
                    db.feed_connected ? 1 : 0, "\n");
  }
  Header(&out, "hotfixd_start_time_seconds", "gauge",
         "Start time of the process since the Unix epoch.");
  absl::StrAppend(&out, "hotfixd_start_time_seconds ",
                  absl::ToUnixSeconds(start_), "\n");
  Header(&out, "hotfixd_build_info", "gauge",
         "Always 1; labels say the build.");
  absl::StrAppend(&out, "hotfixd_build_info{version=\"", HOTFIX_VERSION_STRING,
                  "\"} 1\n");
  return out;
}

}  // namespace hotfixd
}  // namespace hotfix
