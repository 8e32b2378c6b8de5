// tools/hotfixd/core/sse_hub.h
//
// SseHub fans flag-set changes out to every connected GET /v1/stream client
// of an environment (docs/protocol.md, "GET /v1/stream"). Each environment
// has a channel holding its current version, its current document (for
// `put`) and a bounded history of recent changes: single-flag changes keep
// their serialized `patch` event, other changes are markers that force a
// `put`. Every subscriber keeps a cursor (the version its client has) and,
// when polled, is given either the patches from its cursor to the current
// version — when every step is a patch still in the history — or one `put`
// of the current set. The same rule answers a reconnect with Last-Event-ID,
// so resume and live fan-out behave identically. Events are serialized once
// per change and shared by all subscribers.
//
// Nothing here blocks or owns a thread per subscriber: a change (or a
// heartbeat tick, shutdown, or the revocation of a token) calls each
// subscriber's waker, and the HTTP front then polls the subscription on its
// event loop. One ticker thread emits the heartbeats: every `heartbeat`, each
// subscriber that was sent nothing since the previous tick gets one.
//
// Thread-safe. A Subscription is polled by one thread at a time.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_SSE_HUB_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_SSE_HUB_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/text.h"

namespace hotfix {
namespace hotfixd {

using tools::SharedText;

// One change in a channel's history.
struct StreamChange {
  std::uint64_t version = 0;
  // The serialized `patch` event ("event: patch\nid: ...\n\n"), or null when
  // the change was not a single-flag change (clients need a `put`).
  SharedText patch_event;
};

// Builds the `patch` event for a change from `version - 1` to `version`;
// `flag_json` nullopt means the flag was deleted.
SharedText MakePatchEvent(std::uint64_t version, const std::string& key,
                          const std::optional<std::string>& flag_json);

struct StreamCounters {
  std::atomic<std::uint64_t> puts{0};
  std::atomic<std::uint64_t> patches{0};
  std::atomic<std::uint64_t> heartbeats{0};
  std::atomic<std::uint64_t> rejected{0};  // over --max-streams (per key)
};

class SseHub;

class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Poll()
  //
  // Appends to `out`, without blocking, what this client has not been sent:
  // the initial events, the changes since its cursor, or a heartbeat when a
  // tick passed with nothing sent. Returns false once the hub shuts down or
  // the subscriber's token was closed (the stream must end).
  //
  // Cost: a shared lock on the channel; no allocation when nothing is due.
  bool Poll(std::vector<SharedText>* out);

  // SetWaker()
  //
  // `wake` is called, from any thread, whenever Poll() may return something
  // new. Set once, before the first wake-up matters; called under a lock of
  // the channel, so it must be quick and must not call back into the hub.
  void SetWaker(std::function<void()> wake);

  std::uint64_t cursor() const { return cursor_; }

  // Per-environment state, defined in sse_hub.cc.
  struct Channel;

 private:
  friend class SseHub;
  Subscription(SseHub* hub, std::shared_ptr<Channel> channel,
               std::string token_id);
  // True once the hub was told to close this token's streams.
  bool Revoked();

  SseHub* const hub_;
  const std::shared_ptr<Channel> channel_;
  const std::string token_id_;
  std::uint64_t id_ = 0;  // key of this subscriber's waker in the channel
  std::uint32_t revocations_seen_ = 0;
  std::uint64_t cursor_ = 0;
  std::uint64_t tick_seen_ = 0;  // heartbeat tick of the last thing sent
  std::vector<SharedText> pending_;
};

// The seconds a ResourceExhausted from Subscribe() asks the caller to wait
// (the Retry-After header); 0 when it has none.
int RetryAfterSeconds(const absl::Status& status);

class SseHub {
 public:
  // `max_streams` in all; `max_streams_per_key` for one token (so one leaked
  // SDK key cannot take every slot); at most `admission_rate` new streams a
  // second (a reconnect storm is spread out instead of taken at once).
  SseHub(absl::Duration heartbeat, std::size_t history_limit, int max_streams,
         int max_streams_per_key, int admission_rate);
  ~SseHub();

  // AddEnvironment()
  //
  // Registers (or resets) `env` at `version` with its document and the
  // recent changes leading to it (oldest first, contiguous, ending at
  // `version`; may be empty).
  void AddEnvironment(const std::string& env, std::uint64_t version,
                      SharedText document, std::vector<StreamChange> history);

  // Publish()
  //
  // `env` moved to `change.version` (its previous version + 1) with
  // `document`; wakes every subscriber of `env`.
  void Publish(const std::string& env, SharedText document,
               StreamChange change);

  // PublishChanges()
  //
  // `env` moved through `changes` (oldest first; versions increasing) to
  // the last one's version, with `document`: how versions learned from
  // another replica are published. A change that does not follow the one
  // before it clears the resume history (subscribers behind get a `put`).
  void PublishChanges(const std::string& env, SharedText document,
                      std::vector<StreamChange> changes);

  // Subscribe()
  //
  // A new stream for `env` held by token `token_id`, positioned by
  // Last-Event-ID (nullopt when absent or unparsable). NotFound for an
  // unknown environment, ResourceExhausted when --max-streams streams are
  // open in all or --max-streams-per-key for this token, or new streams
  // arrive faster than the admission rate; then the status carries a
  // RetryAfterSeconds() payload that spreads the callers over time.
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      const std::string& env, std::optional<std::uint64_t> last_event_id,
      const std::string& token_id);

  // CloseStreamsOf()
  //
  // Ends every open stream of token `token_id` (revoked: it must not keep
  // receiving changes).
  void CloseStreamsOf(const std::string& token_id);

  // Ends every stream (Poll() returns false), refuses new ones and stops the
  // heartbeat ticker.
  void Shutdown();

  // Open streams per environment.
  std::map<std::string, int> ConnectedByEnvironment() const;
  int connected() const { return total_.load(std::memory_order_relaxed); }
  const StreamCounters& counters() const { return counters_; }

 private:
  friend class Subscription;
  using Channel = Subscription::Channel;

  void Tick();
  // Calls every waker of every channel.
  void WakeEveryone();

  const absl::Duration heartbeat_;
  const std::size_t history_limit_;
  const int max_streams_;
  const int max_streams_per_key_;
  const double admission_rate_;
  // Token bucket of admissions (capacity: one second's worth), and the
  // rejections in the current second (which set how long to wait).
  double admission_tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time admission_refilled_ ABSL_GUARDED_BY(mu_);
  std::int64_t rejection_second_ ABSL_GUARDED_BY(mu_) = 0;
  int rejections_this_second_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int> total_{0};
  std::atomic<std::uint32_t> revocations_{0};  // bumped by CloseStreamsOf
  std::atomic<std::uint64_t> tick_{0};         // bumped every heartbeat
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> shutdown_{false};
  StreamCounters counters_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Channel>> channels_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> per_token_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> closed_tokens_ ABSL_GUARDED_BY(mu_);
  // The heartbeat ticker (steady clock); stopped by Shutdown.
  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool ticker_stop_ = false;  // guarded by ticker_mu_
  std::mutex join_mu_;        // serializes joining the ticker
  std::thread ticker_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_SSE_HUB_H_
