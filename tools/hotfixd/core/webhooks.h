// tools/hotfixd/core/webhooks.h
//
// Webhooks: each environment can announce its changes to HTTP(S) URLs
// (docs/admin-api.md, "Webhooks"). Every committed change, change-request
// step and settings change becomes one delivery per webhook of the
// environment: a JSON POST
//
//   {"delivery": "dlv_…", "event": "flags.changed", "env": "production",
//    "time": "2026-12-06T18:33:26.114Z", "data": {…who, what, why…}}
//
// signed with the webhook's secret:
//
//   X-Hotfix-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
//                       "<t>.<body>")>
//
// A 2xx answer delivers it. A connection error, a timeout, 408, 429 or 5xx
// is retried with exponential backoff (initial × 2^n, capped) up to the
// attempt limit; any other status fails it at once. Retries keep the
// delivery id, so receivers can drop duplicates; deliveries may arrive out of
// order (the payload carries the version).
//
// Publishing never blocks the write that caused it: it appends to a bounded
// queue (a full queue records the delivery as dropped) and sender threads do
// the network work. The last deliveries of each webhook stay visible with
// their state, attempts and last error. Pending deliveries live in memory
// only: a restart forgets them (and says how many in the log).
//
// Thread-safe.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_WEBHOOKS_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_WEBHOOKS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/flag_service.h"
#include "core/metrics.h"
#include "store/store.h"
#include "util/sync.h"

namespace hotfix {
namespace hotfixd {

struct WebhookOptions {
  // Delay before the first retry; doubles each attempt up to max_backoff.
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(5);
  int max_attempts = 8;
  // Connect, read and write timeout of one attempt, each.
  absl::Duration timeout = absl::Seconds(10);
  // Deliveries waiting (all webhooks); more are recorded as dropped.
  std::size_t max_pending = 10000;
  // Deliveries kept per webhook for GET .../deliveries.
  std::size_t history = 50;
  int senders = 2;
  // PEM bundle to verify https receivers with; empty: the system's.
  std::string ca_cert;
};

// One delivery of one event to one webhook.
struct DeliveryStatus {
  std::string id;  // "dlv_…", the same across retries
  std::string webhook_id;
  std::string event;  // "flags.changed", "change_request.proposed", "ping", …
  std::string state;  // pending, delivered, failed, dropped, cancelled
  int attempts = 0;
  int last_status = 0;          // the receiver's HTTP status; 0: none
  std::string last_error;       // empty when delivered
  std::int64_t created_at = 0;  // Unix microseconds
  std::int64_t last_attempt_at = 0;
  std::int64_t next_attempt_at = 0;  // pending only
};

// What a webhook looks like from the API (the secret is never shown again).
struct WebhookInfo {
  std::string id;
  std::string env;
  std::string url;
  std::int64_t created_at = 0;
  std::string created_by;
};

class WebhookDispatcher {
 public:
  WebhookDispatcher(Store* store, Metrics* metrics, WebhookOptions options);
  ~WebhookDispatcher();  // Stop()
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Loads the configured webhooks and starts the sender threads.
  absl::Status Start();

  // Reload()
  //
  // Re-reads the webhooks from the store: ones added on another replica
  // start receiving this replica's changes, removed ones stop (their pending
  // deliveries are cancelled).
  absl::Status Reload();

  // Stop()
  //
  // Stops the senders: attempts in flight are cut off, pending deliveries
  // are forgotten (counted in the log). Idempotent.
  //
  // Cost: at most one connect timeout when a sender is still connecting.
  void Stop();

  // Publish()
  //
  // Queues `data` (a JSON object's text) as event `event` for every webhook
  // of `env`. Never blocks on the network.
  //
  // Cost: a lock, and one small allocation per webhook of `env`.
  void Publish(const std::string& env, std::string_view event,
               std::string data);

  // A committed change as a "flags.changed" event: version, actor, action,
  // reason, time, changed_keys, summary. Fits FlagService::SetObserver.
  void PublishChange(const ChangeNotice& notice);

  // CheckUrl()
  //
  // InvalidArgument unless `url` is http:// or https:// with a host and
  // without credentials or a fragment.
  static absl::Status CheckUrl(std::string_view url);

  // Add() / Remove() — stored and audited by the store, then live at once.
  // Add fills in row.id, row.secret (when empty: 32 random bytes) and
  // row.created_at, and the audit detail; Remove: NotFound if `env` has no
  // webhook `id` (its pending deliveries are cancelled).
  absl::StatusOr<WebhookRow> Add(WebhookRow row, AuditRow audit);
  absl::Status Remove(const std::string& env, const std::string& id,
                      const AuditRow& audit);

  std::vector<WebhookInfo> List(const std::string& env) const;

  // The last deliveries of webhook `id` of `env`, newest first; NotFound if
  // there is no such webhook.
  absl::StatusOr<std::vector<DeliveryStatus>> Deliveries(
      const std::string& env, const std::string& id) const;

  // Queues a "ping" delivery to webhook `id` alone; returns its status.
  absl::StatusOr<DeliveryStatus> Ping(const std::string& env,
                                      const std::string& id,
                                      const std::string& actor);

 private:
  struct Hook;
  struct Delivery;
  using DeliveryPtr = std::shared_ptr<Delivery>;

  void Enqueue(const std::shared_ptr<Hook>& hook, std::string_view event,
               const std::string& env, const std::string& data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SenderLoop();
  // One attempt; returns the HTTP status (0: none) and the error.
  void Attempt(Delivery& d, int* status, std::string* error);
  void Record(const DeliveryPtr& d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets webhook `it` (removed): cancels its pending deliveries.
  void Drop(std::map<std::string, std::shared_ptr<Hook>>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;
  Metrics* const metrics_;
  const WebhookOptions options_;

  mutable internal::Mutex mu_;
  internal::CondVar wake_;  // the queue grew, or Stop()
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::shared_ptr<Hook>> hooks_ ABSL_GUARDED_BY(mu_);
  // Pending deliveries by next attempt time.
  std::multimap<std::int64_t, DeliveryPtr> queue_ ABSL_GUARDED_BY(mu_);
  // Deliveries a sender is attempting now (out of the queue).
  std::vector<DeliveryPtr> attempting_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> senders_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_WEBHOOKS_H_
